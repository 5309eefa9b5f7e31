"""`python bot.py migrate-db`: copy a SQLite database into an empty PostgreSQL database.

Both ends are first brought to their latest schema by their own drivers. The rows go over
table by table in foreign-key order, in one PostgreSQL transaction (all or nothing); identity
sequences then continue after the highest id copied (or after SQLite's AUTOINCREMENT counter,
so a removed next step's id is never handed out again). Row counts are verified afterwards.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

from storage.postgres import Database as PostgresDatabase
from storage.sqlite import Database as SqliteDatabase

Report = Callable[[str], None]


class CopyError(RuntimeError):
    """The copy cannot be made, or did not verify; the message says why in one line."""


def redact(url: str) -> str:
    """The URL without its password, fit to print."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _tables_in_foreign_key_order(source: SqliteDatabase) -> list[str]:
    """Every table, each after the tables it references."""
    rows = await source.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    )
    names = [str(row["name"]) for row in rows]
    references: dict[str, set[str]] = {}
    for name in names:
        keys = await source.fetch_all(f"PRAGMA foreign_key_list({_quoted(name)})")
        references[name] = {str(key["table"]) for key in keys} - {name}
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(names):
        ready = [n for n in names if n not in placed and references[n] <= placed]
        if not ready:
            raise CopyError("the SQLite tables' foreign keys form a cycle; cannot order the copy")
        ordered.extend(ready)
        placed.update(ready)
    return ordered


async def _columns(source: SqliteDatabase, table: str) -> list[str]:
    return [str(row["name"]) for row in await source.fetch_all(f"PRAGMA table_info({table})")]


async def _count(db: SqliteDatabase | PostgresDatabase, table: str) -> int:
    row = await db.fetch_one(f"SELECT COUNT(*) FROM {_quoted(table)}")
    return int(row[0]) if row is not None else 0


async def copy_sqlite_to_postgres(path: Path | str, url: str, *, report: Report) -> dict[str, int]:
    """Copy the SQLite database at `path` into the empty PostgreSQL database at `url`;
    the rows per table, verified. Raises `CopyError` (or the driver's error) on failure."""
    if not await asyncio.to_thread(Path(path).is_file):
        raise CopyError(f"there is no SQLite database at {path}")
    source = SqliteDatabase(path)
    await source.open()
    try:
        target = PostgresDatabase(url)
        await target.open()
        try:
            return await _copy(source, target, report)
        finally:
            await target.close()
    finally:
        await source.close()


async def _copy(source: SqliteDatabase, target: PostgresDatabase, report: Report) -> dict[str, int]:
    tables = await _tables_in_foreign_key_order(source)
    rows = await target.fetch_all(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
    )
    target_columns: dict[str, set[str]] = {}
    for row in rows:
        target_columns.setdefault(str(row[0]), set()).add(str(row[1]))
    columns: dict[str, list[str]] = {}
    for table in tables:
        columns[table] = await _columns(source, table)
        missing = set(columns[table]) - target_columns.get(table, set())
        if missing:
            raise CopyError(
                f"the PostgreSQL schema has no {table}({', '.join(sorted(missing))}); "
                "are both at the same version of the bot?"
            )
    for table in tables:
        if await _count(target, table):
            raise CopyError(
                f"the PostgreSQL database is not empty (table {table} has rows); "
                "migrate-db copies only into an empty database"
            )
    identities = await target.fetch_all(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    counters: dict[str, int] = {}
    if await source.fetch_one("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"):
        for row in await source.fetch_all("SELECT name, seq FROM sqlite_sequence"):
            counters[str(row["name"])] = int(row["seq"])

    async with target.transaction() as tx:
        for table in tables:
            names = columns[table]
            listed = ", ".join(_quoted(name) for name in names)
            values = await source.fetch_all(f"SELECT {listed} FROM {_quoted(table)}")
            await tx.executemany(
                f"INSERT INTO {_quoted(table)} ({listed}) VALUES ({', '.join('?' for _ in names)})",
                [tuple(value[i] for i in range(len(names))) for value in values],
            )
        for row in identities:
            table, column = str(row[0]), str(row[1])
            if table not in columns:
                continue
            top = await tx.fetch_one(f"SELECT MAX({_quoted(column)}) FROM {_quoted(table)}")
            high = max(
                int(top[0]) if top is not None and top[0] is not None else 0, counters.get(table, 0)
            )
            # Not called yet: the next id is 1; called: the next is one past the highest.
            called = "true" if high > 0 else "false"
            await tx.fetch_one(
                f"SELECT setval(pg_get_serial_sequence(?, ?), ?, {called})",
                (_quoted(table), column, max(high, 1)),
            )

    counts: dict[str, int] = {}
    for table in tables:
        copied, original = await _count(target, table), await _count(source, table)
        if copied != original:
            raise CopyError(f"{table}: {original} rows in SQLite but {copied} in PostgreSQL")
        counts[table] = copied
        report(f"{table}: {copied} rows")
    report(
        f"verified: {len(tables)} tables, {sum(counts.values())} rows copied from "
        f"{source.path} to {redact(target.url)}"
    )
    return counts
