"""The outbox table on a real temporary database: rows written inside another transaction
commit or roll back with it, delivery order per scope, retry, wait and release, collapse,
notices reported once, pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.outbox import Outgoing
from storage import Storage

NOW = datetime(2026, 1, 1, 18, tzinfo=UTC)


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
    assert await storage.outbox.claim(first.id) == 1
    await storage.outbox.done(first.id, 555, NOW)
    second = await storage.outbox.next_in("a")
    assert second is not None and second.payload == {"n": 2}
    done = await storage.outbox.get(first.id)
    assert done is not None and done.state == "done" and done.message_id == 555
    assert done.attempts == 1


async def test_retry_keeps_the_row_first_and_counts_attempts(storage: Storage) -> None:
    (row_id,) = await storage.outbox.add([item("a", 1)], NOW)
    assert await storage.outbox.claim(row_id) == 1
    await storage.outbox.retry(row_id, NOW + timedelta(seconds=2), "500: boom")
    again = await storage.outbox.next_in("a")
    assert again is not None and again.id == row_id
    assert again.next_attempt_at == NOW + timedelta(seconds=2) and again.error == "500: boom"
    assert await storage.outbox.claim(row_id) == 2


async def test_failed_and_dropped_rows_are_not_pending(storage: Storage) -> None:
    ids = await storage.outbox.add([item("a", 1), item("a", 2), item("a", 3)], NOW)
    await storage.outbox.failed(ids[0], "403: Missing Permissions", NOW)
    await storage.outbox.drop([ids[1]], "superseded", NOW)
    left = await storage.outbox.pending("a")
    assert [r.id for r in left] == [ids[2]]
    states = [r.state for r in await storage.outbox.of_scope("a")]
    assert states == ["failed", "dropped", "pending"]


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
