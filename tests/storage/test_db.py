"""The database on real temporary files: pragmas, migrations, transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import storage.sqlite.db as db_module
from storage import Storage
from storage.sql import IntegrityViolation, Migration, SchemaTooNewError, load_migrations
from storage.sqlite.db import Database, _split_statements

MIGRATIONS_DIR = Path(db_module.__file__).parent / "migrations"


def sqlite_migrations() -> list[Migration]:
    return load_migrations("storage.sqlite")


FOUNDATION_TABLES = {"guild_settings", "groups", "memberships", "profiles", "audit_log", "bot_meta"}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "mm.db")
    await database.open()
    try:
        yield database
    finally:
        await database.close()


async def tables(db: Database) -> set[str]:
    rows = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_migrates_an_empty_file_to_the_latest_version(db: Database) -> None:
    files = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
    assert [m.name for m in sqlite_migrations()] == files
    assert await db.schema_version() == len(files)
    assert user_version(db.path) == len(files)
    assert await tables(db) >= FOUNDATION_TABLES


async def test_foreign_keys_and_wal_are_on(db: Database) -> None:
    row = await db.fetch_one("PRAGMA foreign_keys")
    assert row is not None and row[0] == 1
    row = await db.fetch_one("PRAGMA journal_mode")
    assert row is not None and row[0] == "wal"
    with pytest.raises(IntegrityViolation):
        await db.execute(
            "INSERT INTO memberships (group_id, user_id, is_facilitator, joined_at)"
            " VALUES (999, 1, 0, '2026-01-01T00:00:00+00:00')"
        )


async def test_opening_twice_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mm.db"
    first = Database(path)
    await first.open()
    version = await first.schema_version()
    await first.execute(
        "INSERT INTO bot_meta (key, value) VALUES ('kept', 'yes')",
    )
    await first.close()

    second = Database(path)
    await second.open()
    try:
        assert await second.schema_version() == version
        assert await second.migrate() == version
        row = await second.fetch_one("SELECT value FROM bot_meta WHERE key = 'kept'")
        assert row is not None and row["value"] == "yes"
    finally:
        await second.close()


async def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "mm.db"
    first = Database(path)
    await first.open()
    await first.close()
    newer = len(sqlite_migrations()) + 5
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")

    later = Database(path)
    with pytest.raises(SchemaTooNewError) as raised:
        await later.open()
    message = str(raised.value)
    assert f"schema version {newer}" in message
    assert f"only knows up to {len(sqlite_migrations())}" in message
    assert "Upgrade the bot" in message
    with pytest.raises(RuntimeError, match="not open"):
        _ = later.conn
    assert user_version(path) == newer, "the database is left as it was"


async def test_a_failing_migration_rolls_back_entirely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mm.db"
    real = sqlite_migrations()
    bad = Migration(
        len(real) + 1,
        f"{len(real) + 1:03d}_bad.sql",
        "CREATE TABLE half_done (x INTEGER);\n"
        "INSERT INTO half_done VALUES (1);\n"
        "INSERT INTO no_such_table VALUES (1);\n",
    )
    monkeypatch.setattr(db_module, "load_migrations", lambda package: [*real, bad])

    database = Database(path)
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        await database.open()

    assert user_version(path) == len(real), "earlier migrations stay applied"
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in names
    assert names >= FOUNDATION_TABLES

    # Fixed, it applies on the next start.
    fixed = Migration(bad.version, bad.name, "CREATE TABLE half_done (x INTEGER);")
    monkeypatch.setattr(db_module, "load_migrations", lambda package: [*real, fixed])
    database = Database(path)
    await database.open()
    try:
        assert await database.schema_version() == bad.version
        assert "half_done" in await tables(database)
    finally:
        await database.close()


async def test_a_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('a', '1')")
            raise RuntimeError("boom")
    assert await db.fetch_one("SELECT * FROM bot_meta WHERE key = 'a'") is None
    # The connection is usable afterwards.
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('b', '2')")
    assert await db.fetch_one("SELECT * FROM bot_meta WHERE key = 'b'") is not None


async def test_transactions_of_concurrent_tasks_do_not_collide(db: Database) -> None:
    started = asyncio.Event()

    async def slow_writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('slow', '1')")
            started.set()
            await asyncio.sleep(0)
            await conn.execute("UPDATE bot_meta SET value = '2' WHERE key = 'slow'")

    async def quick_writer() -> None:
        await started.wait()
        await db.execute("INSERT INTO bot_meta (key, value) VALUES ('quick', '1')")

    await asyncio.gather(slow_writer(), quick_writer())
    rows = await db.fetch_all("SELECT key, value FROM bot_meta ORDER BY key")
    assert [(r["key"], r["value"]) for r in rows] == [("quick", "1"), ("slow", "2")]


async def test_a_nested_transaction_is_a_savepoint(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO bot_meta (key, value) VALUES ('outer', '1')")
        with pytest.raises(ValueError):
            async with db.transaction() as inner:
                await inner.execute("INSERT INTO bot_meta (key, value) VALUES ('inner', '1')")
                raise ValueError("undo only the inner part")
        await db.execute("INSERT INTO bot_meta (key, value) VALUES ('nested', '1')")
    rows = await db.fetch_all("SELECT key FROM bot_meta ORDER BY key")
    assert [r["key"] for r in rows] == ["nested", "outer"]


async def test_storage_opens_every_repository_on_one_file(tmp_path: Path) -> None:
    storage = Storage.at(tmp_path / "nested" / "dir" / "mm.db")
    await storage.open()
    try:
        assert (tmp_path / "nested" / "dir" / "mm.db").exists()
        await storage.guilds.set_meta("k", "v1")
        await storage.guilds.set_meta("k", "v2")
        assert await storage.guilds.get_meta("k") == "v2"
        assert await storage.guilds.get_meta("missing") is None
    finally:
        await storage.close()


def test_statements_split_where_sqlite_says_they_end() -> None:
    sql = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x TEXT DEFAULT ';');\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "  UPDATE a SET x = 'y;z';\n"
        "END;\n"
        "-- trailing comment\n"
    )
    statements = _split_statements(sql)
    assert len(statements) == 2
    assert statements[0].endswith("CREATE TABLE a (x TEXT DEFAULT ';');")
    assert statements[1].startswith("CREATE TRIGGER t") and statements[1].endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        _split_statements("CREATE TABLE b (x INTEGER)")


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in sqlite_migrations()]
    assert versions == list(range(1, len(versions) + 1))
