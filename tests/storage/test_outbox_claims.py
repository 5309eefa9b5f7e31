"""Two dispatchers on one database (two processes of a rolling restart): each row is delivered
by one of them only; a row claimed by a process that died is taken over after its lease; a
process that stops gives its claims back; finished rows are pruned after the retention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from bot import Settings, create_bot
from cogs.common.outbox import TIMER_KIND, Delivery, Outbox
from core.outbox import CLAIM_LEASE, RETENTION, OutboxRow, Outgoing
from core.shards import EVERY_SHARD, ShardSet
from core.timers import TimerService
from storage import Storage

NOW = datetime(2026, 1, 1, 18, tzinfo=UTC)
KIND = "test.post"


class Process:
    """What a dispatcher needs of the bot: the storage, the timers, the clock and its shards;
    its handler records what it delivered and can be held mid-delivery (rows of one scope)."""

    def __init__(self, storage: Storage, name: str, shards: ShardSet = EVERY_SHARD) -> None:
        self.name = name
        self.storage = storage
        # Two processes on one database: what PostgreSQL allows, so neither may free the
        # other's claims when it starts.
        self.database = SimpleNamespace(shared=True)
        self.now = NOW
        self.clock = lambda: self.now
        self.timers = TimerService(self.clock)
        self.shard_set = shards
        self.delivered: list[int] = []
        self.hold: asyncio.Event | None = None
        self.hold_scope = "s:1"
        self.holding = asyncio.Event()
        self.outbox = Outbox(self)  # type: ignore[arg-type]
        self.outbox.register(KIND, self.post)

    async def post(self, delivery: Delivery) -> int | None:
        if self.hold is not None and delivery.row.scope == self.hold_scope:
            self.holding.set()
            await self.hold.wait()
        self.delivered.append(delivery.row.id)
        return 1000 + delivery.row.id


@pytest.fixture
async def databases(settings: Settings) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two connections to one database, as two processes have (built as the bot builds its
    storage, so the backend is the one the settings name)."""
    first, second = create_bot(settings).storage, create_bot(settings).storage
    await first.open()
    await second.open()
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


def items(scope: str, count: int, guild_id: int = 10) -> list[Outgoing]:
    return [Outgoing(KIND, scope, guild_id, {"n": n}) for n in range(count)]


async def test_two_dispatchers_never_deliver_the_same_row(
    databases: tuple[Storage, Storage],
) -> None:
    a, b = Process(databases[0], "a"), Process(databases[1], "b")
    ids = await a.storage.outbox.add(items("s:1", 3), NOW)
    a.hold = asyncio.Event()
    await a.outbox.start()
    await a.holding.wait()  # a has claimed the first row of s:1 and is delivering it
    new = await a.storage.outbox.add(items("s:2", 2), NOW)  # written meanwhile, not kicked
    await b.outbox.start()
    await b.outbox.idle()
    # b delivered the new s:2 rows, but not the row a holds, nor any behind it.
    assert b.delivered == new
    held = await a.storage.outbox.get(ids[0])
    assert held is not None and held.claimed_by == a.outbox.owner
    assert ids[0] not in b.delivered and ids[1] not in b.delivered
    assert b.timers.pending(TIMER_KIND, ids[0]) == NOW + CLAIM_LEASE
    a.hold.set()
    await a.outbox.idle()
    delivered = a.delivered + b.delivered
    assert sorted(delivered) == sorted(ids + new)
    assert len(set(delivered)) == len(delivered)
    assert [r for r in a.delivered if r in ids[:3]] == ids[:3]  # s:1 in order, all by a
    for row_id in ids + new:
        row = await a.storage.outbox.get(row_id)
        assert row is not None and row.state == "done" and row.attempts == 1
        assert row.claimed_by is None


async def test_a_dead_processs_claim_is_taken_over_after_its_lease(
    databases: tuple[Storage, Storage],
) -> None:
    dead, b = Process(databases[0], "dead"), Process(databases[1], "b")
    (row_id,) = await dead.storage.outbox.add(items("s:1", 1), NOW)
    dead.hold = asyncio.Event()
    await dead.outbox.start()
    await dead.holding.wait()
    # The process dies mid-delivery: its worker is gone, its claim stays in the database.
    for task in list(dead.outbox._workers.values()):
        task.cancel()
    await dead.outbox.idle()

    await b.outbox.start()
    await b.outbox.idle()
    assert b.delivered == []
    assert b.timers.pending(TIMER_KIND, row_id) == NOW + CLAIM_LEASE

    b.now = NOW + CLAIM_LEASE
    b.outbox.kick("s:1")
    await b.outbox.idle()
    assert b.delivered == [row_id]
    row = await b.storage.outbox.get(row_id)
    assert row is not None and row.state == "done" and row.attempts == 2


async def test_a_process_that_stops_gives_its_claims_back(
    databases: tuple[Storage, Storage],
) -> None:
    old, new = Process(databases[0], "old"), Process(databases[1], "new")
    (row_id,) = await old.storage.outbox.add(items("s:1", 1), NOW)
    old.hold = asyncio.Event()
    await old.outbox.start()
    await old.holding.wait()
    await old.outbox.stop()
    row = await old.storage.outbox.get(row_id)
    assert row is not None and row.state == "pending" and row.claimed_by is None

    await new.outbox.start()  # no wait for the lease: the row is free
    await new.outbox.idle()
    assert new.delivered == [row_id]


async def test_each_dispatcher_delivers_its_own_shards_rows(
    databases: tuple[Storage, Storage],
) -> None:
    zero = Process(databases[0], "zero", ShardSet.of(2, [0]))
    one = Process(databases[1], "one", ShardSet.of(2, [1]))
    on_0 = await zero.storage.outbox.add(items("g:0", 2, guild_id=6 << 22), NOW)
    on_1 = await zero.storage.outbox.add(items("g:1", 2, guild_id=7 << 22), NOW)
    await zero.outbox.start()
    await zero.outbox.idle()
    assert zero.delivered == on_0
    await one.outbox.start()
    await one.outbox.idle()
    assert one.delivered == on_1


async def test_prune_forgets_rows_finished_before_the_retention(
    databases: tuple[Storage, Storage],
) -> None:
    process = Process(databases[0], "a")
    old, recent, open_row = await process.storage.outbox.add(items("s:1", 3), NOW)
    await process.storage.outbox.done(old, 1, NOW - RETENTION - timedelta(seconds=1))
    await process.storage.outbox.failed(recent, "403", NOW - RETENTION + timedelta(hours=1))
    await process.storage.outbox.wait(open_row, "voice:10:1")
    assert await process.outbox.prune(NOW) == 1
    assert await process.storage.outbox.get(old) is None
    assert await process.storage.outbox.get(recent) is not None
    assert await process.outbox.prune(NOW + timedelta(hours=1, seconds=1)) == 1
    assert await process.storage.outbox.get(recent) is None
    assert await process.storage.outbox.get(open_row) is not None


async def test_a_scopes_rows_are_read_together_and_a_kick_meanwhile_makes_another_round(
    databases: tuple[Storage, Storage],
) -> None:
    a = Process(databases[0], "a")
    reads: list[str] = []
    pending = a.storage.outbox.pending

    async def counted(scope: str) -> list[OutboxRow]:
        reads.append(scope)
        return await pending(scope)

    a.storage.outbox.pending = counted  # type: ignore[method-assign]
    ids = await a.storage.outbox.add(items("s:1", 3), NOW)
    a.hold = asyncio.Event()
    await a.outbox.start()
    await a.holding.wait()  # delivering the first of the three it read at once
    late = await a.storage.outbox.add(items("s:1", 1), NOW)
    a.outbox.kick("s:1")
    a.hold_scope = "none"
    a.hold.set()
    await a.outbox.idle()

    assert a.delivered == ids + late, "in order, the late row after the three"
    assert reads.count("s:1") == 2, "one read for the three, one for the round the kick asked"
