"""Durability, group commit and read isolation, on real temporary SQLite files.

"Committed" is checked from outside: a separate plain `sqlite3` connection to the same file
(as another process would open it) must see what the bot acknowledged.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.session import default_config, machine
from storage import Storage
from storage.sql import UniqueViolation
from storage.sqlite import db as sqlite_db
from storage.sqlite.db import Database

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "mm.db")
    await database.open()
    try:
        yield database
    finally:
        await database.close()


def outside(path: Path, sql: str) -> list[tuple[object, ...]]:
    """What another connection to the file sees now: committed rows only."""
    with sqlite3.connect(path) as conn:
        return list(conn.execute(sql).fetchall())


def meta_keys(path: Path) -> list[str]:
    return [str(row[0]) for row in outside(path, "SELECT key FROM bot_meta ORDER BY key")]


async def settle(rounds: int = 50) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_commits_are_fsynced_before_they_return(db: Database) -> None:
    writer = list(await db.conn.execute_fetchall("PRAGMA synchronous"))
    assert writer[0][0] == 2, "the writer commits with synchronous = FULL"


async def test_writes_that_arrive_together_share_one_commit(db: Database) -> None:
    before = db.commits
    await asyncio.gather(
        *(
            db.execute("INSERT INTO bot_meta (key, value) VALUES (?, 'v')", (f"k{n:03d}",))
            for n in range(200)
        )
    )
    assert db.commits - before == 1
    assert len(meta_keys(db.path)) == 200


async def test_a_write_is_acknowledged_only_after_its_group_commits(db: Database) -> None:
    hold = asyncio.Event()
    entered = asyncio.Event()

    async def long_member() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('first', '1')")
            entered.set()
            await hold.wait()

    first = asyncio.create_task(long_member())
    await entered.wait()
    # These arrive while the group is open: they join it and wait for its COMMIT.
    writes = [
        asyncio.create_task(
            db.execute("INSERT INTO bot_meta (key, value) VALUES (?, 'v')", (f"later{n}",))
        )
        for n in range(3)
    ]
    rating = asyncio.create_task(db.run(lambda c: c.fetch_all("SELECT COUNT(*) FROM bot_meta")))
    await settle()
    assert not any(task.done() for task in [first, *writes, rating])
    assert meta_keys(db.path) == [], "nothing is visible outside before the COMMIT"

    hold.set()
    await asyncio.gather(first, *writes, rating)
    assert meta_keys(db.path) == ["first", "later0", "later1", "later2"]


async def test_one_failing_member_rolls_back_only_itself(db: Database) -> None:
    hold = asyncio.Event()
    entered = asyncio.Event()

    async def opener() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '1')")
            entered.set()
            await hold.wait()

    def half_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO bot_meta (key, value) VALUES ('half', '1')")
        raise ValueError("the form was invalid")

    async def failing_block() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('block', '1')")
            raise RuntimeError("a bug in the middle of a transaction")

    before = db.commits
    first = asyncio.create_task(opener())
    await entered.wait()
    tasks = [
        asyncio.create_task(db.run(half_then_fail)),
        asyncio.create_task(db.execute("INSERT INTO bot_meta (key, value) VALUES ('b', '1')")),
        # The same key again: the statement fails, the transaction goes on.
        asyncio.create_task(db.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '2')")),
        asyncio.create_task(failing_block()),
        asyncio.create_task(db.execute("INSERT INTO bot_meta (key, value) VALUES ('c', '1')")),
    ]
    await settle()
    hold.set()
    results = await asyncio.gather(first, *tasks, return_exceptions=True)

    assert db.commits - before == 1, "all of them were one group"
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], UniqueViolation)
    assert isinstance(results[4], RuntimeError)
    assert results[0] is None
    assert isinstance(results[2], int) and isinstance(results[5], int)
    assert meta_keys(db.path) == ["a", "b", "c"]
    assert outside(db.path, "SELECT value FROM bot_meta WHERE key = 'a'") == [("1",)]


async def test_a_block_cancelled_before_its_turn_leaves_the_group_alone(db: Database) -> None:
    hold = asyncio.Event()
    entered = asyncio.Event()

    async def opener() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('open', '1')")
            entered.set()
            await hold.wait()

    async def never_runs() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('cancelled', '1')")

    first = asyncio.create_task(opener())
    await entered.wait()
    waiting = asyncio.create_task(never_runs())
    after = asyncio.create_task(db.execute("INSERT INTO bot_meta (key, value) VALUES ('z', '1')"))
    await settle()
    waiting.cancel()
    hold.set()
    await asyncio.gather(first, after)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert meta_keys(db.path) == ["open", "z"]


async def test_a_read_never_sees_another_tasks_uncommitted_rows(db: Database) -> None:
    """The old single-connection behaviour: a read made while another task's transaction was
    open saw its rows, even ones that were then rolled back."""
    inserted = asyncio.Event()
    read_done = asyncio.Event()
    seen: list[object] = []

    async def doomed_writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('ghost', '1')")
            inserted.set()
            await read_done.wait()
            raise RuntimeError("rolled back")

    async def reader() -> None:
        await inserted.wait()
        seen.append(await db.fetch_one("SELECT value FROM bot_meta WHERE key = 'ghost'"))
        seen.append(len(await db.fetch_all("SELECT * FROM bot_meta")))
        read_done.set()

    results = await asyncio.gather(doomed_writer(), reader(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert seen == [None, 0]
    assert await db.fetch_one("SELECT * FROM bot_meta WHERE key = 'ghost'") is None


async def test_a_task_reads_its_own_writes_inside_its_transaction(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('mine', '1')")
        row = await db.fetch_one("SELECT value FROM bot_meta WHERE key = 'mine'")
        assert row is not None and row["value"] == "1"
        await db.execute("UPDATE bot_meta SET value = '2' WHERE key = 'mine'")
        assert await db.run(lambda c: c.fetch_all("SELECT value FROM bot_meta")[0][0]) == "2"
    row = await db.fetch_one("SELECT value FROM bot_meta WHERE key = 'mine'")
    assert row is not None and row["value"] == "2"


async def test_a_live_session_is_never_read_half_created(tmp_path: Path) -> None:
    """`SessionRepository.create` inserts the row with state `'{}'` and fills it in later in
    the same transaction; a concurrent read of the live sessions must never see the '{}'."""
    storage = Storage.at(tmp_path / "mm.db")
    await storage.open()
    try:
        group = await storage.groups.create(
            guild_id=1,
            name="Circle",
            description="",
            capacity=6,
            timezone=None,
            role_id=None,
            category_id=None,
            text_channel_id=None,
            voice_channel_id=None,
            created_by=10,
            now=NOW,
        )
        inserted = asyncio.Event()
        looked = asyncio.Event()
        observed: list[int] = []

        async def slow_create() -> None:
            async with storage.db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO sessions (group_id, guild_id, format, started_by, started_at,"
                    " state) VALUES (?, 1, '', 10, ?, '{}')",
                    (group.id, NOW.isoformat()),
                )
                inserted.set()
                await looked.wait()
                state, _ = machine.start(
                    1, default_config("roundrobin", 5), [(10, NOW)], {}, 1, NOW
                )
                await conn.execute(
                    "UPDATE sessions SET state = ? WHERE id = 1", (state.model_dump_json(),)
                )

        async def look() -> None:
            await inserted.wait()
            observed.append(len(await storage.sessions.live()))
            looked.set()

        await asyncio.gather(slow_create(), look())
        assert observed == [0]
        [live] = await storage.sessions.live()
        assert live.state.session_id == 1
    finally:
        await storage.close()


async def test_pending_writes_are_committed_before_close(tmp_path: Path) -> None:
    database = Database(tmp_path / "mm.db")
    await database.open()
    writes = [
        asyncio.create_task(
            database.execute("INSERT INTO bot_meta (key, value) VALUES (?, 'v')", (f"k{n}",))
        )
        for n in range(5)
    ]
    await asyncio.sleep(0)
    await database.close()
    await asyncio.gather(*writes)
    assert len(meta_keys(tmp_path / "mm.db")) == 5


async def test_reads_that_arrive_together_share_one_trip(db: Database) -> None:
    await db.executemany(
        "INSERT INTO bot_meta (key, value) VALUES (?, ?)",
        [(f"k{n:02d}", str(n)) for n in range(20)],
    )
    before = db.read_trips
    rows = await asyncio.gather(
        *(
            db.fetch_one("SELECT value FROM bot_meta WHERE key = ?", (f"k{n:02d}",))
            for n in range(20)
        )
    )
    assert [row["value"] if row else None for row in rows] == [str(n) for n in range(20)]
    assert db.read_trips - before == 1


async def test_one_failing_read_fails_only_itself(db: Database) -> None:
    before = db.read_trips
    results = await asyncio.gather(
        db.fetch_one("SELECT 1"),
        db.fetch_all("SELECT * FROM no_such_table"),
        db.fetch_one("SELECT 2"),
        return_exceptions=True,
    )
    assert db.read_trips - before == 1, "the three shared a trip"
    first, failed, last = results
    assert isinstance(failed, sqlite3.OperationalError)
    assert not isinstance(first, BaseException) and first is not None and first[0] == 1
    assert not isinstance(last, BaseException) and last is not None and last[0] == 2


async def test_a_read_cancelled_while_it_waits_leaves_the_others_alone(db: Database) -> None:
    cancelled = asyncio.create_task(db.fetch_all("SELECT 1"))
    other = asyncio.create_task(db.fetch_one("SELECT 2"))
    await asyncio.sleep(0)
    cancelled.cancel()
    row = await other
    assert row is not None and row[0] == 2
    with pytest.raises(asyncio.CancelledError):
        await cancelled


async def checkpoints_reach(db: Database, count: int) -> None:
    """Wait (a bounded while) for the checkpointer's `count`-th checkpoint."""
    for _ in range(500):
        if db.checkpoints >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{db.checkpoints} checkpoints, expected {count}")


def in_database_file(path: Path, tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    """What the database file alone holds, without its WAL: what was checkpointed."""
    copy = tmp_path / "file-only.db"
    shutil.copyfile(path, copy)
    return outside(copy, sql)


async def test_a_commit_never_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Far more than SQLite's 1,000-page mark in one group: the COMMIT leaves it all in the
    WAL (durable there), for the checkpointer."""
    monkeypatch.setattr(sqlite_db, "CHECKPOINT_EVERY", 3600.0)
    database = Database(tmp_path / "mm.db")
    await database.open()
    try:
        await checkpoints_reach(database, 1)
        writer = list(await database.conn.execute_fetchall("PRAGMA wal_autocheckpoint"))
        assert writer[0][0] == 0
        await database.executemany(
            "INSERT INTO bot_meta (key, value) VALUES (?, ?)",
            [(f"big{n:04d}", "x" * 4000) for n in range(1500)],
        )
        assert len(meta_keys(database.path)) == 1500, "committed"
        counted = "SELECT COUNT(*) FROM bot_meta"
        assert in_database_file(database.path, tmp_path, counted) == [(0,)]
        assert database.checkpoints == 1
    finally:
        await database.close()


async def test_the_checkpointer_folds_commits_into_the_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_db, "CHECKPOINT_EVERY", 0.0)
    database = Database(tmp_path / "mm.db")
    await database.open()
    try:
        await checkpoints_reach(database, 1)
        await database.execute("INSERT INTO bot_meta (key, value) VALUES ('folded', '1')")
        await checkpoints_reach(database, 2)
        found = in_database_file(
            database.path, tmp_path, "SELECT value FROM bot_meta WHERE key = 'folded'"
        )
        assert found == [("1",)]
    finally:
        await database.close()
