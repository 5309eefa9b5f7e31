"""The PostgreSQL driver on a real server: transactions, isolation, migrations, errors."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from storage.postgres import Database, translate
from storage.postgres.db import VERSION_TABLE
from storage.sql import (
    IntegrityViolation,
    SchemaTooNewError,
    SyncTx,
    UniqueViolation,
    load_migrations,
)
from storage.sqlite import Database as SqliteDatabase
from tests import pg

KNOWN = len(load_migrations("storage.postgres"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.open()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def empty_url(database_url: str) -> Iterator[str]:
    """A database with no schema at all (the template is migrated)."""
    url = pg.server().create_database(migrated=False)
    yield url
    pg.server().drop_database(url)


async def meta(db: Database) -> list[tuple[str, str]]:
    rows = await db.fetch_all("SELECT key, value FROM bot_meta ORDER BY key")
    return [(row["key"], row["value"]) for row in rows]


def test_placeholders_become_psycopgs_and_literals_keep_theirs() -> None:
    assert translate("SELECT * FROM t WHERE a = ? AND b IN (?, ?)") == (
        "SELECT * FROM t WHERE a = %s AND b IN (%s, %s)"
    )
    assert translate("SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE x = ?") == (
        "SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE x = %s"
    )
    assert translate("SELECT 10 % 3, 'a%b' LIKE ? -- 50% of ?\n, ?") == (
        "SELECT 10 %% 3, 'a%%b' LIKE %s -- 50%% of ?\n, %s"
    )


async def test_placeholders_and_percent_signs_reach_the_server_as_written(db: Database) -> None:
    row = await db.fetch_one("SELECT ? AS a, '?' AS b, 7 % 4 AS c, ? LIKE 'x%' AS d", (5, "xy"))
    assert row is not None
    assert (row["a"], row["b"], row["c"], row["d"]) == (5, "?", 3, True)


async def test_rows_read_like_sqlite_rows(db: Database) -> None:
    await db.execute("INSERT INTO bot_meta (key, value) VALUES (?, ?)", ("k", "v"))
    row = await db.fetch_one("SELECT key, value, 2 AS n FROM bot_meta")
    assert row is not None
    assert row["key"] == row[0] == "k"
    assert row.keys() == ["key", "value", "n"]
    assert list(row) == ["k", "v", 2] and len(row) == 3
    assert dict(zip(row.keys(), row, strict=True)) == {"key": "k", "value": "v", "n": 2}
    with pytest.raises(IndexError):
        row["missing"]


async def test_sums_are_ints_and_averages_floats_as_on_sqlite(db: Database) -> None:
    await db.executemany(
        "INSERT INTO bot_meta (key, value) VALUES (?, ?)", [("a", "1"), ("b", "2")]
    )
    row = await db.fetch_one(
        "SELECT SUM(CAST(value AS BIGINT)) AS s, AVG(CAST(value AS BIGINT)) AS a FROM bot_meta"
    )
    assert row is not None
    assert (row["s"], type(row["s"])) == (3, int)
    assert (row["a"], type(row["a"])) == (1.5, float)


async def test_flags_given_as_booleans_are_stored_as_integers(db: Database) -> None:
    await db.execute(
        "INSERT INTO guild_settings (guild_id, identified_exports) VALUES (?, ?)", (1, True)
    )
    row = await db.fetch_one("SELECT identified_exports FROM guild_settings WHERE guild_id = 1")
    assert row is not None and row[0] == 1


async def test_a_unique_violation_is_the_backends_neutral_error(db: Database) -> None:
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('k', '1')")
    with pytest.raises(UniqueViolation, match="bot_meta_pkey"):
        await db.execute("INSERT INTO bot_meta (key, value) VALUES ('k', '2')")
    with pytest.raises(UniqueViolation):
        await db.insert(
            "INSERT INTO erasures (anon_id, erased_at) VALUES (-1, 't'), (-1, 't')"
            " RETURNING anon_id"
        )
    with pytest.raises(IntegrityViolation) as broken:
        await db.execute("INSERT INTO erasures (anon_id, erased_at) VALUES (5, 't')")
    assert not isinstance(broken.value, UniqueViolation)
    assert await meta(db) == [("k", "1")]


async def test_a_failed_statement_undoes_only_itself_as_on_sqlite(db: Database) -> None:
    """PostgreSQL aborts a transaction on any error; the driver keeps SQLite's rule that a
    failed statement leaves the rest of the transaction usable."""
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '1')")
        with pytest.raises(UniqueViolation):
            await tx.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '2')")
        await tx.execute("INSERT INTO bot_meta (key, value) VALUES ('b', '1')")

    def work(tx: SyncTx) -> int:
        with contextlib.suppress(UniqueViolation):
            tx.execute("INSERT INTO bot_meta (key, value) VALUES ('b', '2')")
        return tx.insert(
            "INSERT INTO audit_log (guild_id, actor_id, action, created_at)"
            " VALUES (1, 2, 'x', 't') RETURNING id"
        )

    assert await db.run(work) >= 1
    assert await meta(db) == [("a", "1"), ("b", "1")]


async def test_nested_transactions_and_runs_are_savepoints(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO bot_meta (key, value) VALUES ('outer', '1')")
        with pytest.raises(ValueError):
            async with db.transaction() as inner:
                await inner.execute("INSERT INTO bot_meta (key, value) VALUES ('inner', '1')")
                async with db.transaction() as deeper:
                    await deeper.execute("INSERT INTO bot_meta (key, value) VALUES ('deep', '1')")
                raise ValueError("undo the inner part and what it holds")

        def failing(tx: SyncTx) -> None:
            tx.execute("INSERT INTO bot_meta (key, value) VALUES ('run', '1')")
            raise KeyError("undo only this unit")

        with pytest.raises(KeyError):
            await db.run(failing)
        await db.run(lambda t: t.execute("INSERT INTO bot_meta (key, value) VALUES ('ran', '1')"))
        # The task's own reads inside its transaction see its own writes.
        assert [k for k, _ in await meta(db)] == ["outer", "ran"]
    assert [k for k, _ in await meta(db)] == ["outer", "ran"]
    assert db.commits >= 1


async def test_reads_outside_a_transaction_see_only_committed_rows(db: Database) -> None:
    written = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO bot_meta (key, value) VALUES ('pending', '1')")
            written.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await written.wait()
    assert await meta(db) == []
    release.set()
    await task
    assert await meta(db) == [("pending", "1")]


async def test_writes_of_concurrent_tasks_never_interleave(db: Database) -> None:
    """Read-modify-write units of many tasks give the total that running them one after
    another gives: each writer has the database to itself, as on SQLite."""
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('n', '0')")

    async def bump_block() -> None:
        async with db.transaction() as tx:
            row = await tx.fetch_one("SELECT value FROM bot_meta WHERE key = 'n'")
            assert row is not None
            await asyncio.sleep(0)
            await tx.execute(
                "UPDATE bot_meta SET value = ? WHERE key = 'n'", (str(int(row[0]) + 1),)
            )

    def bump(tx: SyncTx) -> None:
        row = tx.fetch_one("SELECT value FROM bot_meta WHERE key = 'n'")
        assert row is not None
        tx.execute("UPDATE bot_meta SET value = ? WHERE key = 'n'", (str(int(row[0]) + 1),))

    await asyncio.gather(*(bump_block() for _ in range(20)), *(db.run(bump) for _ in range(60)))
    assert await meta(db) == [("n", "80")]


async def test_run_units_that_arrive_together_share_one_commit(db: Database) -> None:
    before = db.commits
    await asyncio.gather(
        *(
            db.execute("INSERT INTO bot_meta (key, value) VALUES (?, '1')", (f"k{i}",))
            for i in range(50)
        )
    )
    assert len(await meta(db)) == 50
    assert db.commits - before < 5


async def test_one_failing_unit_of_a_group_rolls_back_only_itself(db: Database) -> None:
    results = await asyncio.gather(
        db.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '1')"),
        db.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '2')"),
        db.execute("INSERT INTO bot_meta (key, value) VALUES ('b', '1')"),
        return_exceptions=True,
    )
    assert results[0] == 1 and isinstance(results[1], UniqueViolation) and results[2] == 1
    assert await meta(db) == [("a", "1"), ("b", "1")]


async def test_a_failed_write_nobody_waited_for_undoes_only_its_own_unit(db: Database) -> None:
    """A group's first attempt sends an `executemany` on with the next statement; its failure
    surfaces in another unit's call. The group runs again unit by unit, so only the unit that
    wrote the duplicate fails, and the others' results are those that were committed."""
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('taken', '0')")

    def duplicate(tx: SyncTx) -> None:
        tx.executemany(
            "INSERT INTO bot_meta (key, value) VALUES (?, ?)", [("fresh", "1"), ("taken", "1")]
        )

    def counts(tx: SyncTx) -> int:
        tx.execute("INSERT INTO bot_meta (key, value) VALUES ('after', '1')")
        row = tx.fetch_one("SELECT COUNT(*) FROM bot_meta")
        assert row is not None
        return int(row[0])

    before = db.commits
    results = await asyncio.gather(db.run(duplicate), db.run(counts), return_exceptions=True)

    assert isinstance(results[0], UniqueViolation)
    assert results[1] == 2
    assert await meta(db) == [("after", "1"), ("taken", "0")]
    assert db.commits - before == 1


async def test_a_unit_that_swallows_its_failed_statement_still_commits_with_its_group(
    db: Database,
) -> None:
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '1')")

    def tolerant(tx: SyncTx) -> str:
        with contextlib.suppress(UniqueViolation):
            tx.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '2')")
        return "kept going"

    results = await asyncio.gather(
        db.run(tolerant),
        db.execute("INSERT INTO bot_meta (key, value) VALUES ('b', '1')"),
    )

    assert results == ["kept going", 1]
    assert await meta(db) == [("a", "1"), ("b", "1")]


async def test_two_processes_migrating_at_once_apply_each_migration_once(empty_url: str) -> None:
    first, second = Database(empty_url), Database(empty_url)
    try:
        await asyncio.gather(first.open(), second.open())
        assert await first.schema_version() == await second.schema_version() == KNOWN
        assert first.commits + second.commits == KNOWN
    finally:
        await first.close()
        await second.close()


async def test_a_newer_schema_is_refused_with_a_clear_message(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (KNOWN + 3,))
    later = Database(database_url)
    with pytest.raises(SchemaTooNewError) as raised:
        await later.open()
    message = str(raised.value)
    assert f"schema version {KNOWN + 3}" in message
    assert f"only knows up to {KNOWN}" in message
    assert "Upgrade the bot" in message
    with pytest.raises(RuntimeError, match="not open"):
        _ = later.pool


async def test_both_schemas_have_the_same_tables_and_columns(
    database_url: str, tmp_path: Path
) -> None:
    lite = SqliteDatabase(tmp_path / "mm.db")
    await lite.open()
    try:
        names = [
            row["name"]
            for row in await lite.fetch_all(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        sqlite_columns = {
            name: [row["name"] for row in await lite.fetch_all(f"PRAGMA table_info({name})")]
            for name in names
        }
    finally:
        await lite.close()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name <> %s"
            " ORDER BY table_name, ordinal_position",
            (VERSION_TABLE,),
        ).fetchall()
    postgres_columns: dict[str, list[str]] = {}
    for table, column in rows:
        postgres_columns.setdefault(table, []).append(column)
    assert sorted(postgres_columns) == sorted(sqlite_columns)
    for table, columns in sqlite_columns.items():
        assert sorted(postgres_columns[table]) == sorted(columns), table


async def test_text_sorts_byte_by_byte_as_on_sqlite(db: Database, tmp_path: Path) -> None:
    keys = ["b", "B", "_x", "a", "Z", "é", "10", "9"]
    lite = SqliteDatabase(tmp_path / "mm.db")
    await lite.open()
    try:
        for database in (db, lite):
            await database.executemany(
                "INSERT INTO bot_meta (key, value) VALUES (?, '')", [(k,) for k in keys]
            )
        query = "SELECT key FROM bot_meta WHERE key > ? ORDER BY key"
        ours = [row[0] for row in await db.fetch_all(query, ("A",))]
        theirs = [row[0] for row in await lite.fetch_all(query, ("A",))]
    finally:
        await lite.close()
    assert ours == theirs == ["B", "Z", "_x", "a", "b", "é"]


async def test_both_schemas_have_the_same_keys_indexes_and_defaults(
    database_url: str, tmp_path: Path
) -> None:
    """Foreign keys with their ON DELETE, unique and partial indexes, and column defaults
    and nullability match between the two schemas."""
    path = tmp_path / "mm.db"
    lite = SqliteDatabase(path)
    await lite.open()
    await lite.close()
    with sqlite3.connect(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        sqlite_keys = {
            (t, r[3], r[2], r[4], r[6].upper())
            for t in tables
            for r in conn.execute(f"PRAGMA foreign_key_list({t})")
        }
        sqlite_indexes = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            if not r[0].startswith("sqlite_autoindex")
        }
        sqlite_columns = {
            (t, r[1], bool(r[3] or r[5]), None if r[4] is None else str(r[4]).strip("'"))
            for t in tables
            for r in conn.execute(f"PRAGMA table_info({t})")
        }
    with psycopg.connect(database_url) as conn:
        postgres_keys = set(
            conn.execute(
                "SELECT src.relname, a.attname, dst.relname, b.attname,"
                " CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'"
                " ELSE 'NO ACTION' END"
                " FROM pg_constraint c"
                " JOIN pg_class src ON src.oid = c.conrelid"
                " JOIN pg_class dst ON dst.oid = c.confrelid"
                " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
                " JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = c.confkey[1]"
                " WHERE c.contype = 'f'"
            ).fetchall()
        )
        postgres_indexes = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
                " AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
            )
        }
        postgres_columns = set()
        for table, column, not_null, default, identity in conn.execute(
            "SELECT table_name, column_name, is_nullable = 'NO', column_default, is_identity"
            " FROM information_schema.columns WHERE table_schema = 'public'"
            " AND table_name <> %s",
            (VERSION_TABLE,),
        ):
            if default is not None:
                default = default.split("::")[0].strip("'")
            if identity == "YES":
                default = None
            postgres_columns.add((table, column, bool(not_null), default))
    assert ("memberships", "group_id", "groups", "id", "CASCADE") in sqlite_keys
    assert ("cohort_plan_groups", "group_id", "groups", "id", "SET NULL") in sqlite_keys
    assert postgres_keys == sqlite_keys
    assert "sessions_one_live_per_group" in sqlite_indexes
    assert postgres_indexes == sqlite_indexes
    assert ("outbox", "state", True, "pending") in sqlite_columns
    assert postgres_columns == sqlite_columns


async def test_a_cancelled_transaction_rolls_back_and_frees_the_writer(db: Database) -> None:
    inside = asyncio.Event()

    async def stuck() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO bot_meta (key, value) VALUES ('lost', '1')")
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    waiting = asyncio.create_task(db.execute("INSERT INTO bot_meta (key, value) VALUES ('w', '1')"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await waiting == 1
    assert await meta(db) == [("w", "1")]


async def test_pending_writes_are_committed_before_close(database_url: str) -> None:
    database = Database(database_url)
    await database.open()
    writes = [
        asyncio.create_task(
            database.execute("INSERT INTO bot_meta (key, value) VALUES (?, '1')", (f"k{i}",))
        )
        for i in range(5)
    ]
    await asyncio.sleep(0)
    await database.close()
    assert [await write for write in writes] == [1] * 5
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM bot_meta").fetchone() == (5,)


async def test_instr_finds_text_as_sqlites_does(db: Database, tmp_path: Path) -> None:
    lite = SqliteDatabase(tmp_path / "mm.db")
    await lite.open()
    try:
        query = "SELECT instr(?, ?), instr(?, ?), instr(?, ?)"
        params = ("night owls", "owl", "night owls", "x", "ab%_c", "%_")
        ours = await db.fetch_one(query, params)
        theirs = await lite.fetch_one(query, params)
    finally:
        await lite.close()
    assert ours is not None and theirs is not None
    assert list(ours) == list(theirs) == [7, 0, 3]
