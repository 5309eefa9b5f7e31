"""The outbox table on a real temporary database: rows written inside another transaction
commit or roll back with it, delivery order per scope, retry, wait and release, collapse,
notices reported once, pruning, claims with a lease, and each shard set's own rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.outbox import Outgoing
from core.shards import ShardSet, shard_of
from storage import Storage

NOW = datetime(2026, 1, 1, 18, tzinfo=UTC)
ME, OTHER = "host-a:1", "host-b:2"
LEASE = timedelta(seconds=60)


def item(scope: str, n: int, **extra: object) -> Outgoing:
    return Outgoing("test.post", scope, 10, {"n": n, **extra})


async def test_rows_commit_with_the_change_they_follow(storage: Storage) -> None:
    async with storage.db.transaction() as conn:
        await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('k', 'v')")
        await storage.outbox.insert(conn, [item("s:1", 1), item("s:1", 2)], NOW)
    rows = await storage.outbox.pending("s:1")
    assert [r.payload["n"] for r in rows] == [1, 2]
    assert rows[0].state == "pending" and rows[0].attempts == 0
    assert rows[0].created_at == NOW


async def test_rows_roll_back_with_the_change(storage: Storage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.db.transaction() as conn:
            await storage.outbox.insert(conn, [item("s:1", 1)], NOW)
            raise RuntimeError("the change failed")
    assert await storage.outbox.pending("s:1") == []
    assert await storage.outbox.pending_scopes() == []


async def test_next_in_goes_in_order_per_scope(storage: Storage) -> None:
    await storage.outbox.add([item("a", 1), item("b", 1), item("a", 2)], NOW)
    assert await storage.outbox.pending_scopes() == ["a", "b"]
    first = await storage.outbox.next_in("a")
    assert first is not None and first.payload == {"n": 1}
    assert await storage.outbox.claim(first.id, ME, NOW, LEASE) == 1
    await storage.outbox.done(first.id, 555, NOW)
    second = await storage.outbox.next_in("a")
    assert second is not None and second.payload == {"n": 2}
    done = await storage.outbox.get(first.id)
    assert done is not None and done.state == "done" and done.message_id == 555
    assert done.attempts == 1


async def test_retry_keeps_the_row_first_and_counts_attempts(storage: Storage) -> None:
    (row_id,) = await storage.outbox.add([item("a", 1)], NOW)
    assert await storage.outbox.claim(row_id, ME, NOW, LEASE) == 1
    await storage.outbox.retry(row_id, NOW + timedelta(seconds=2), "500: boom")
    again = await storage.outbox.next_in("a")
    assert again is not None and again.id == row_id
    assert again.next_attempt_at == NOW + timedelta(seconds=2) and again.error == "500: boom"
    assert await storage.outbox.claim(row_id, ME, NOW, LEASE) == 2


async def test_failed_and_dropped_rows_are_not_pending(storage: Storage) -> None:
    ids = await storage.outbox.add([item("a", 1), item("a", 2), item("a", 3)], NOW)
    await storage.outbox.failed(ids[0], "403: Missing Permissions", NOW)
    await storage.outbox.drop([ids[1]], "superseded", NOW)
    left = await storage.outbox.pending("a")
    assert [r.id for r in left] == [ids[2]]
    states = [r.state for r in await storage.outbox.of_scope("a")]
    assert states == ["failed", "dropped", "pending"]


async def test_latest_is_the_newest_row_of_a_kind_whatever_its_state(storage: Storage) -> None:
    assert await storage.outbox.latest("a", "test.post") is None
    first, _ = await storage.outbox.add([item("a", 1), item("b", 2)], NOW)
    await storage.outbox.add([Outgoing("test.other", "a", 10, {"n": 3})], NOW)
    await storage.outbox.failed(first, "403: Missing Permissions", NOW)
    latest = await storage.outbox.latest("a", "test.post")
    assert latest is not None and latest.id == first and latest.state == "failed"
    (newer,) = await storage.outbox.add([item("a", 4)], NOW + timedelta(hours=1))
    latest = await storage.outbox.latest("a", "test.post")
    assert latest is not None and latest.id == newer and latest.state == "pending"


async def test_a_waiting_row_steps_aside_until_released(storage: Storage) -> None:
    ids = await storage.outbox.add([item("a", 1), item("a", 2)], NOW)
    await storage.outbox.wait(ids[0], "voice:10:7")
    nxt = await storage.outbox.next_in("a")
    assert nxt is not None and nxt.id == ids[1]
    assert await storage.outbox.waiting_keys("voice:") == ["voice:10:7"]
    assert await storage.outbox.release("voice:11:7", NOW) == []
    assert await storage.outbox.release("voice:10:7", NOW + timedelta(hours=1)) == ["a"]
    back = await storage.outbox.next_in("a")
    assert back is not None and back.id == ids[0]
    assert back.next_attempt_at == NOW + timedelta(hours=1)


async def test_rows_written_waiting(storage: Storage) -> None:
    await storage.outbox.add([Outgoing("x", "a", 10, {}, wait_for="voice:10:8")], NOW)
    assert await storage.outbox.next_in("a") is None
    assert [r.kind for r in await storage.outbox.waiting("voice:10:8")] == ["x"]


async def test_a_notice_is_reported_once_until_cleared(storage: Storage) -> None:
    assert await storage.outbox.notice_once(5, "Send Messages", NOW)
    assert not await storage.outbox.notice_once(5, "Send Messages", NOW)
    assert await storage.outbox.notice_once(5, "Mute Members", NOW)
    assert await storage.outbox.noticed_channels() == [5]
    await storage.outbox.clear_notices(5, "Send Messages")
    assert await storage.outbox.notice_once(5, "Send Messages", NOW)
    assert not await storage.outbox.notice_once(5, "Mute Members", NOW)


async def test_prune_forgets_only_finished_rows(storage: Storage) -> None:
    ids = await storage.outbox.add([item("a", 1), item("a", 2)], NOW)
    await storage.outbox.done(ids[0], None, NOW)
    assert await storage.outbox.prune(NOW + timedelta(days=1)) == 1
    assert [r.id for r in await storage.outbox.of_scope("a")] == [ids[1]]


async def test_a_claimed_row_is_not_claimed_by_another_process(storage: Storage) -> None:
    (row_id,) = await storage.outbox.add([item("a", 1)], NOW)
    assert await storage.outbox.claim(row_id, ME, NOW, LEASE) == 1
    assert await storage.outbox.claim(row_id, OTHER, NOW + timedelta(seconds=59), LEASE) is None
    row = await storage.outbox.get(row_id)
    assert row is not None and row.claimed_by == ME and row.lease_until == NOW + LEASE
    assert row.attempts == 1
    assert row.held_by_other(OTHER, NOW + timedelta(seconds=59))
    assert not row.held_by_other(ME, NOW + timedelta(seconds=59))
    # The holder may try its own row again (a retry after a 5xx) without waiting.
    assert await storage.outbox.claim(row_id, ME, NOW + timedelta(seconds=5), LEASE) == 2
    await storage.outbox.done(row_id, 9, NOW + timedelta(seconds=6))
    assert await storage.outbox.claim(row_id, OTHER, NOW + timedelta(hours=1), LEASE) is None
    done = await storage.outbox.get(row_id)
    assert done is not None and done.claimed_by is None and done.lease_until is None


async def test_an_expired_lease_is_taken_over(storage: Storage) -> None:
    (row_id,) = await storage.outbox.add([item("a", 1)], NOW)
    assert await storage.outbox.claim(row_id, ME, NOW, LEASE) == 1
    # The holder died without a word: once its lease has run out the row is another's.
    assert await storage.outbox.claim(row_id, OTHER, NOW + LEASE, LEASE) == 2
    row = await storage.outbox.get(row_id)
    assert row is not None and row.claimed_by == OTHER
    assert row.lease_until == NOW + LEASE + LEASE
    # And the first process, back from a long pause, no longer has it.
    assert await storage.outbox.claim(row_id, ME, NOW + LEASE, LEASE) is None


async def test_released_claims_are_free_at_once(storage: Storage) -> None:
    ids = await storage.outbox.add([item("a", 1), item("b", 1)], NOW)
    for row_id in ids:
        assert await storage.outbox.claim(row_id, ME, NOW, LEASE) == 1
    assert await storage.outbox.release_claims(ME) == 2
    assert await storage.outbox.claim(ids[0], OTHER, NOW, LEASE) == 2


async def test_a_retry_or_a_wait_gives_the_claim_back(storage: Storage) -> None:
    first, second = await storage.outbox.add([item("a", 1), item("b", 1)], NOW)
    await storage.outbox.claim(first, ME, NOW, LEASE)
    await storage.outbox.retry(first, NOW + timedelta(seconds=2), "503")
    await storage.outbox.claim(second, ME, NOW, LEASE)
    await storage.outbox.wait(second, "voice:10:1")
    for row_id in (first, second):
        row = await storage.outbox.get(row_id)
        assert row is not None and row.claimed_by is None and row.lease_until is None
    assert await storage.outbox.claim(first, OTHER, NOW + timedelta(seconds=2), LEASE) == 2


async def test_each_shard_set_sees_only_its_guilds_rows(storage: Storage) -> None:
    on_0, on_1 = 0 << 22, 1 << 22  # (id >> 22) % 2: shards 0 and 1
    big_on_1 = (2**40 + 1) << 22 | 3  # a snowflake of today's size
    assert big_on_1 > 2**62 and shard_of(big_on_1, 2) == 1
    await storage.outbox.add(
        [
            Outgoing("test.post", "s:0", on_0 + 7, {}),
            Outgoing("test.post", "s:1", on_1 + 7, {}),
            Outgoing("test.post", "s:big", big_on_1, {}),
            Outgoing("test.post", "w:1", on_1 + 7, {}, wait_for="voice:x"),
            Outgoing("test.post", "w:0", on_0 + 7, {}, wait_for="voice:y"),
        ],
        NOW,
    )
    assert await storage.outbox.pending_scopes(ShardSet.of(2, [0])) == ["s:0"]
    assert await storage.outbox.pending_scopes(ShardSet.of(2, [1])) == ["s:1", "s:big"]
    assert await storage.outbox.pending_scopes(ShardSet.of(2)) == ["s:0", "s:1", "s:big"]
    assert await storage.outbox.pending_scopes() == ["s:0", "s:1", "s:big"]
    assert await storage.outbox.waiting_keys("voice:", ShardSet.of(2, [1])) == ["voice:x"]
    assert await storage.outbox.waiting_keys("voice:", ShardSet.of(2, [0])) == ["voice:y"]
