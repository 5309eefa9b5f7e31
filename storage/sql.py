"""What a repository needs of a database, whichever backend runs it.

Repositories are written once, in the SQL that SQLite and PostgreSQL both speak (`?`
placeholders, `INSERT ... ON CONFLICT`, `RETURNING id`); each backend's driver implements
`Database`, translating only what the dialects spell differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol, TypeVar

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

T = TypeVar("T")
Params = Sequence[object]


class IntegrityViolation(Exception):
    """A write broke a constraint (unique, check, foreign key, not null); each driver raises
    this for its own driver's error."""


class UniqueViolation(IntegrityViolation):
    """A write broke a UNIQUE constraint."""


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the bot than this one."""


class Row(Protocol):
    """A result row, read by column name or position."""

    def __getitem__(self, key: int | str) -> Any: ...

    def keys(self) -> list[str]: ...


class Tx(Protocol):
    """The connection inside `Database.transaction()`: sees its own uncommitted writes."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an `INSERT ... RETURNING id`; the new row's id."""
        ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...


class SyncTx(Protocol):
    """The connection a `Database.run` unit gets: the same calls, without awaiting."""

    def execute(self, sql: str, params: Params = ()) -> int: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    def write(self, sql: str, params: Params = ()) -> None:
        """Run a statement whose outcome the unit does not read. On PostgreSQL it then needs
        no round trip of its own: it travels with the next statement that is waited for."""
        ...

    def insert(self, sql: str, params: Params = ()) -> int: ...

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...


class Database(Protocol):
    """One database: migrations, atomic units of work, and reads of committed rows."""

    dialect: str
    """`"sqlite"` or `"postgresql"`."""

    commits: int
    """Transactions committed since opening."""

    shared: bool
    """Whether other processes may use the database at the same time (PostgreSQL: shard
    processes, a rolling restart). SQLite's file belongs to one process."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def migrate(self) -> int: ...

    async def schema_version(self) -> int: ...

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """One atomic unit; it exits only once committed. Nested in the same task, a savepoint."""
        ...

    async def run(self, work: Callable[[SyncTx], T], *, single: bool = False) -> T:
        """`work(tx)` as one atomic unit, acknowledged once committed. For short
        read-modify-writes that must stay fast under load. `single`: exactly one statement.
        `work` acts only through `tx`: PostgreSQL's driver runs a group of units again when
        one of them fails, so a unit may run more than once before its commit."""
        ...

    async def execute(self, sql: str, params: Params = ()) -> int: ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def insert(self, sql: str, params: Params = ()) -> int: ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None: ...


def placeholders(count: int) -> str:
    """`?, ?, ?` for an `IN (...)` list of `count` values (at least one)."""
    return ", ".join("?" for _ in range(max(count, 1)))


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    """The numbered SQL files shipped in `<package>/migrations`, in order, without gaps."""
    folder = resources.files(package) / "migrations"
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
