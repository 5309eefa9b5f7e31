"""The SQLite connection: pragmas, migrations and transactions.

One connection does all the writing, so SQLite never sees two writers; WAL keeps readers
from blocking it. Every change a user makes is committed before the bot says it is saved.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the bot than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """The numbered SQL files shipped in `storage/migrations`, in order, without gaps."""
    folder = resources.files("storage") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(
                f"migration {migration.name} is out of sequence (expected {expected})"
            )
    return found


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        # One transaction at a time on the one connection: a second `BEGIN` from another task
        # would fail with "cannot start a transaction within a transaction".
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._savepoints = 0

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("the database is not open")
        return self._conn

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        self._conn = conn
        try:
            # Every cursor is read to the end and closed: a pragma that returns a row and is
            # left open keeps a statement in progress, and the next COMMIT then fails.
            mode = await self._scalar("PRAGMA journal_mode = WAL")
            if str(mode).lower() != "wal":
                log.warning("%s is not in WAL mode (journal_mode=%s)", self.path, mode)
            await self._run("PRAGMA foreign_keys = ON")
            await self._run("PRAGMA synchronous = NORMAL")
            await self._scalar("PRAGMA busy_timeout = 5000")
            await self.migrate()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _run(self, sql: str, params: tuple[object, ...] = ()) -> None:
        await self.conn.execute_fetchall(sql, params)

    async def _scalar(self, sql: str) -> object:
        rows = list(await self.conn.execute_fetchall(sql))
        return rows[0][0] if rows else None

    async def _rollback(self) -> None:
        """Roll back unless SQLite already did (some errors end the transaction themselves)."""
        if self.conn.in_transaction:
            await self._run("ROLLBACK")

    async def schema_version(self) -> int:
        value = await self._scalar("PRAGMA user_version")
        return int(value) if isinstance(value, int) else 0

    async def migrate(self) -> int:
        """Apply every migration newer than the database, each in its own transaction."""
        migrations = load_migrations()
        known = migrations[-1].version if migrations else 0
        current = await self.schema_version()
        if current > known:
            raise SchemaTooNewError(
                f"{self.path} has schema version {current}, but this version of the bot only "
                f"knows up to {known}. Upgrade the bot, or restore a backup made by this version."
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            log.info("applying migration %s", migration.name)
            async with self.transaction():
                for statement in _split_statements(migration.sql):
                    await self._run(statement)
                await self._run(f"PRAGMA user_version = {migration.version}")
        return await self.schema_version()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic unit of work; committed when the block exits without error.

        Transactions of different tasks wait for each other. A transaction opened inside another
        one by the same task becomes a savepoint of it."""
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            async with self._savepoint():
                yield self.conn
            return
        async with self._lock:
            self._owner = task
            try:
                await self._run("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                    await self._run("COMMIT")
                except BaseException:
                    await self._rollback()
                    raise
            finally:
                self._owner = None

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        self._savepoints += 1
        name = f"nested_{self._savepoints}"
        try:
            await self._run(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                await self._run(f"ROLLBACK TO {name}")
                await self._run(f"RELEASE {name}")
                raise
            await self._run(f"RELEASE {name}")
        finally:
            self._savepoints -= 1

    # Reads and single statements each make one trip to aiosqlite's thread where they can:
    # every trip waits behind all the others on the one connection.

    async def fetch_all(self, sql: str, params: tuple[object, ...] = ()) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: tuple[object, ...] = ()) -> aiosqlite.Row | None:
        rows = list(await self.conn.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def execute(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """Run one statement atomically and return the last row id.

        A single statement in autocommit mode is its own transaction, so no BEGIN/COMMIT is
        needed; it still waits for another task's open transaction, which it must not join."""
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            async with self.conn.execute(sql, params) as cursor:
                return cursor.lastrowid or 0
        async with self._lock:
            self._owner = task
            try:
                async with self.conn.execute(sql, params) as cursor:
                    return cursor.lastrowid or 0
            finally:
                self._owner = None


def _split_statements(sql: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own).

    A statement ends at a `;` that SQLite itself considers the end of a complete statement, so
    semicolons inside string literals, comments or trigger bodies do not split it."""
    statements: list[str] = []
    start = 0
    for index, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : index + 1]):
            statements.append(sql[start : index + 1])
            start = index + 1
    rest = sql[start:]
    if _without_comments(rest).strip():
        raise ValueError(f"a migration ends with an incomplete statement: {rest.strip()!r}")
    return [s.strip() for s in statements if _without_comments(s).strip(" \t\r\n;")]


def _without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
