"""The PostgreSQL connections: a pool of sync psycopg connections, used from worker threads.

Every database call runs in a worker thread, so a repository's sync `run(work)` unit runs
there as it is, inside BEGIN/COMMIT, exactly as on SQLite's writer thread. Connections are in
autocommit mode: a read outside a transaction sees committed rows only. Within the process,
writes never interleave (the repositories' read-modify-writes rely on it, as SQLite's single
writer guarantees): one lock orders `transaction()` blocks and group commits of `run` units,
which share one transaction. Commits are durable (`synchronous_commit` on). Across
processes, the schema's constraints and conditional updates protect.

A group runs first without any savepoint (each costs two round trips, and every one that
writes takes a subtransaction id: past 64 in one transaction, PostgreSQL's snapshots of every
other connection slow down), in pipeline mode (what nobody waits for, an `executemany`, goes
with the next statement). Only when a unit fails is the group rolled back and run again
unit by unit, each unit and each of its writes in a savepoint, so that the failing one
undoes only itself, as on SQLite. A `run` unit therefore acts only through its connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache, partial
from typing import Any, TypeVar, cast

import psycopg
import psycopg.errors
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from storage.sql import (
    IntegrityViolation,
    Params,
    Row,
    SchemaTooNewError,
    SyncTx,
    Tx,
    UniqueViolation,
    load_migrations,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Connection = psycopg.Connection[Any]

GROUP_LIMIT = 1000
"""Most `run` units one group commit takes (as SQLite's driver)."""

MIGRATION_LOCK = 0x6D6D_7363_6865_6D61
"""The advisory lock key that migrations hold ("mmschema"): one process migrates at a time."""

VERSION_TABLE = "mastermind_schema"


# -- SQL and rows ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """Repository SQL in psycopg's spelling: `?` becomes `%s` and a literal `%` becomes `%%`;
    string literals, quoted identifiers and comments keep their `?` as written."""
    out: list[str] = []
    index = 0
    length = len(sql)
    while index < length:
        char = sql[index]
        if char in "'\"":
            end = sql.find(char, index + 1)
            # A doubled quote is an escaped one, inside the same literal.
            while end != -1 and end + 1 < length and sql[end + 1] == char:
                end = sql.find(char, end + 2)
            end = length if end == -1 else end + 1
            out.append(sql[index:end].replace("%", "%%"))
            index = end
        elif sql.startswith("--", index):
            end = sql.find("\n", index)
            end = length if end == -1 else end
            out.append(sql[index:end].replace("%", "%%"))
            index = end
        else:
            out.append("%s" if char == "?" else "%%" if char == "%" else char)
            index += 1
    return "".join(out)


def _params(params: Params) -> tuple[object, ...]:
    """SQLite stores True as 1; so does this (flags are integer columns on both)."""
    return tuple(int(value) if isinstance(value, bool) else value for value in params)


class PgRow:
    """A result row like `sqlite3.Row`: by name or position, `keys()`, iteration, `len`."""

    __slots__ = ("_index", "_names", "_values")

    def __init__(self, names: tuple[str, ...], index: dict[str, int], values: tuple[Any, ...]):
        self._names = names
        self._index = index
        self._values = values

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            position = self._index.get(key)
            if position is None:
                position = self._index.get(key.lower())
            if position is None:
                raise IndexError(f"no column named {key!r}")
            return self._values[position]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PgRow):
            return self._names == other._names and self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._names, self._values))

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._names, self._values, strict=True))!r})"


def _row_factory(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], PgRow]:
    names = tuple(column.name for column in cursor.description or ())
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)
        index.setdefault(name.lower(), position)

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(names, index, tuple(values))

    return make


class _NumberLoader(Loader):
    """`numeric` results (SUM of integers, AVG) as SQLite gives them: an int when whole
    and written without a fraction, else a float; never a Decimal."""

    def load(self, data: Any) -> int | float:
        text = bytes(data)
        if text.lstrip(b"-").isdigit():
            return int(text)
        return float(text)


def _configure(conn: Connection) -> None:
    conn.adapters.register_loader("numeric", _NumberLoader)
    # Durable commits even on a server configured otherwise: what the bot says is saved is.
    conn.execute("SET synchronous_commit = on")


@contextmanager
def _integrity_violations() -> Iterator[None]:
    try:
        yield
    except psycopg.errors.UniqueViolation as error:
        raise UniqueViolation(str(error).strip()) from error
    except psycopg.errors.IntegrityError as error:
        raise IntegrityViolation(str(error).strip()) from error


# -- the sync connection a unit of work gets -------------------------------------------------


class _SyncTx:
    """`SyncTx` over one connection inside a transaction. A failed statement undoes only
    itself, as on SQLite: each write runs in its own savepoint, since PostgreSQL would
    otherwise abort the whole transaction."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @contextmanager
    def _statement(self) -> Iterator[None]:
        conn = self._conn
        conn.execute("SAVEPOINT statement")
        try:
            with _integrity_violations():
                yield
        except BaseException:
            if conn.info.transaction_status == TransactionStatus.INERROR:
                conn.execute("ROLLBACK TO SAVEPOINT statement")
            raise
        finally:
            if conn.info.transaction_status == TransactionStatus.INTRANS:
                conn.execute("RELEASE SAVEPOINT statement")

    def execute(self, sql: str, params: Params = ()) -> int:
        with self._statement():
            return self._conn.execute(translate(sql), _params(params)).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [_params(row) for row in rows]
        if not batch:
            return
        with self._statement(), self._conn.cursor() as cursor:
            cursor.executemany(translate(sql), batch)

    def write(self, sql: str, params: Params = ()) -> None:
        self.execute(sql, params)

    def insert(self, sql: str, params: Params = ()) -> int:
        with self._statement():
            row = self._conn.execute(translate(sql), _params(params)).fetchone()
        if row is None:
            raise RuntimeError("an insert returned no id (is `RETURNING id` missing?)")
        return int(row[0])

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        # A write with RETURNING is read this way too: its constraint errors are translated.
        with _integrity_violations():
            return cast(list[Row], self._conn.execute(translate(sql), _params(params)).fetchall())

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = self.fetch_all(sql, params)
        return rows[0] if rows else None


class _PipelinedTx:
    """`SyncTx` for a group's first attempt: no savepoints, and the connection in pipeline
    mode, so a statement whose result nobody waits for (`executemany`) travels with the next
    one that is waited for, in one round trip. A failed statement aborts the transaction
    (and may surface in a later call): the group is then run again, guarded. Two cursors
    serve the whole group (a new cursor per statement costs about a fifth of the client's
    time): one for statements read at once, one for `executemany`."""

    __slots__ = ("_batch", "_cursor", "_pipeline")

    def __init__(self, conn: Connection, pipeline: psycopg.Pipeline) -> None:
        self._pipeline = pipeline
        self._cursor = conn.cursor()
        self._batch = conn.cursor()

    def execute(self, sql: str, params: Params = ()) -> int:
        with _integrity_violations():
            self._cursor.execute(translate(sql), _params(params))
            self._pipeline.sync()
        return self._cursor.rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [_params(row) for row in rows]
        if batch:
            with _integrity_violations():
                self._batch.executemany(translate(sql), batch)

    def write(self, sql: str, params: Params = ()) -> None:
        with _integrity_violations():
            self._batch.execute(translate(sql), _params(params))

    def insert(self, sql: str, params: Params = ()) -> int:
        with _integrity_violations():
            row = self._cursor.execute(translate(sql), _params(params)).fetchone()
        if row is None:
            raise RuntimeError("an insert returned no id (is `RETURNING id` missing?)")
        return int(row[0])

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        with _integrity_violations():
            return cast(list[Row], self._cursor.execute(translate(sql), _params(params)).fetchall())

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = self.fetch_all(sql, params)
        return rows[0] if rows else None


def _in_savepoint(conn: Connection, name: str, work: Callable[[SyncTx], T]) -> T:
    conn.execute(f"SAVEPOINT {name}")
    try:
        result = work(_SyncTx(conn))
    except BaseException:
        if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            conn.execute(f"RELEASE SAVEPOINT {name}")
        raise
    conn.execute(f"RELEASE SAVEPOINT {name}")
    return result


class _Member:
    """A `run` unit waiting for its group commit; it learns its result only after COMMIT."""

    __slots__ = ("committed", "error", "result", "single", "work")

    def __init__(self, work: Callable[[SyncTx], Any], *, single: bool) -> None:
        self.work = work
        # One statement: its own statement savepoint is all the undo it needs.
        self.single = single
        self.result: object = None
        self.error: BaseException | None = None
        self.committed: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    def settle(self, error: BaseException | None) -> None:
        if self.committed.done():
            return
        failure = self.error or error
        if failure is not None:
            self.committed.set_exception(failure)
        else:
            self.committed.set_result(self.result)


def _run_group(conn: Connection, members: list[_Member]) -> None:
    """In a worker thread: one transaction for all, COMMIT once. First every member as it
    is, with no savepoint; if one fails, all is rolled back and run again guarded."""
    if _run_unguarded(conn, members):
        return
    for member in members:
        member.result = None
        member.error = None
    _run_guarded(conn, members)


def _run_unguarded(conn: Connection, members: list[_Member]) -> bool:
    """The group in pipeline mode without savepoints, committed if nothing failed; False when
    something did (its transaction is then rolled back). A broken connection raises."""
    failure: Exception | None = None
    try:
        with conn.pipeline() as pipeline:
            conn.execute("BEGIN")
            tx = _PipelinedTx(conn, pipeline)
            for member in members:
                member.result = member.work(tx)
            pipeline.sync()
    except Exception as error:
        failure = error
    status = conn.info.transaction_status
    if failure is None and status == TransactionStatus.INTRANS:
        conn.execute("COMMIT")
        return True
    if conn.closed or status not in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        raise failure or psycopg.OperationalError(f"the connection is {status.name}")
    conn.execute("ROLLBACK")
    return False


def _run_guarded(conn: Connection, members: list[_Member]) -> None:
    """The group again, each member in its own savepoint (and each of its writes in one) so
    that one failing undoes only itself."""
    conn.execute("BEGIN")
    for member in members:
        try:
            if member.single:
                member.result = member.work(_SyncTx(conn))
            else:
                member.result = _in_savepoint(conn, "member", member.work)
        except Exception as error:
            member.error = error
            if conn.info.transaction_status != TransactionStatus.INTRANS:
                raise
    conn.execute("COMMIT")


class _Held:
    """The connection a task's open `transaction()` holds, and how deep it is nested."""

    __slots__ = ("conn", "depth")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.depth = 0


class _AsyncTx:
    """`Tx` over the connection a task's transaction holds."""

    __slots__ = ("_db", "_sync")

    def __init__(self, db: Database, conn: Connection) -> None:
        self._db = db
        self._sync = _SyncTx(conn)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self._db._call(self._sync.execute, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._db._call(self._sync.executemany, sql, [tuple(row) for row in rows])

    async def insert(self, sql: str, params: Params = ()) -> int:
        return await self._db._call(self._sync.insert, sql, params)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._db._call(self._sync.fetch_all, sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        return await self._db._call(self._sync.fetch_one, sql, params)


class Database:
    """The PostgreSQL implementation of `storage.sql.Database`."""

    dialect = "postgresql"
    shared = True

    def __init__(self, url: str, *, pool_size: int = 6, connect_timeout: int = 10) -> None:
        self.url = url
        self.pool_size = max(pool_size, 2)
        self.connect_timeout = connect_timeout
        self.commits = 0
        """Transactions committed since opening."""
        self._pool: ConnectionPool[Connection] | None = None
        self._executor: ThreadPoolExecutor | None = None
        # Tasks with an open `transaction()`: their calls go to the connection it holds.
        self._held: dict[asyncio.Task[Any], _Held] = {}
        # Held by one writer at a time: a `transaction()` block or a group of `run` units.
        self._write_lock = asyncio.Lock()
        self._queue: deque[_Member] = deque()
        self._committer: asyncio.Task[None] | None = None

    @property
    def pool(self) -> ConnectionPool[Connection]:
        if self._pool is None:
            raise RuntimeError("the database is not open")
        return self._pool

    # -- threads --------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread. A cancelled caller still waits for the thread to
        finish, so nothing else touches the connection while it runs."""
        if self._executor is None:
            raise RuntimeError("the database is not open")
        future = asyncio.get_running_loop().run_in_executor(self._executor, partial(fn, *args))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            raise

    async def _acquire(self) -> Connection:
        """A pooled connection; one fetched for a caller cancelled meanwhile goes back."""
        if self._executor is None:
            raise RuntimeError("the database is not open")
        pool = self.pool
        future = asyncio.get_running_loop().run_in_executor(self._executor, pool.getconn)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:

            def give_back(done: asyncio.Future[Connection]) -> None:
                if not done.cancelled() and done.exception() is None:
                    self._release_sync(done.result())

            future.add_done_callback(give_back)
            raise

    def _release_sync(self, conn: Connection) -> None:
        """Back to the pool, after rolling back whatever a failure left open."""
        try:
            if conn.info.transaction_status != TransactionStatus.IDLE and not conn.closed:
                conn.execute("ROLLBACK")
        except psycopg.Error:
            log.warning("could not roll back a connection; the pool replaces it")
        self.pool.putconn(conn)

    # -- life cycle -----------------------------------------------------------------------

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=self.pool_size + 1, thread_name_prefix="postgres"
        )
        try:
            await self._call(self._open_pool)
            await self.migrate()
        except BaseException:
            await self.close()
            raise

    def _open_pool(self) -> None:
        # One connection made directly first: its error says why (no such host, a wrong
        # password, no such database), where the pool would only time out.
        psycopg.connect(self.url, connect_timeout=self.connect_timeout).close()
        pool: ConnectionPool[Connection] = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            open=False,
            kwargs={
                "autocommit": True,
                "row_factory": _row_factory,
                "connect_timeout": self.connect_timeout,
            },
            configure=_configure,
            name="mastermind",
        )
        pool.open(wait=True, timeout=float(self.connect_timeout))
        self._pool = pool

    async def close(self) -> None:
        committer = self._committer
        if committer is not None and not committer.done():
            # What was acknowledged as pending still commits before the connections go.
            await asyncio.shield(committer)
        pool, self._pool = self._pool, None
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(executor, pool.close)
        executor.shutdown(wait=False)

    # -- migrations -----------------------------------------------------------------------

    async def schema_version(self) -> int:
        return await self._call(self._with_conn, _read_version)

    def _with_conn(self, fn: Callable[[Connection], T]) -> T:
        conn = self.pool.getconn()
        try:
            return fn(conn)
        finally:
            self._release_sync(conn)

    async def migrate(self) -> int:
        """Apply every migration newer than the database, each in its own transaction under
        an advisory lock, so processes starting together apply each exactly once."""
        return await self._call(self._with_conn, self._migrate)

    def _migrate(self, conn: Connection) -> int:
        migrations = load_migrations("storage.postgres")
        known = migrations[-1].version if migrations else 0
        while True:
            conn.execute("BEGIN")
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                current = _read_version(conn)
                if current > known:
                    raise SchemaTooNewError(
                        f"the PostgreSQL database {conn.info.dbname} has schema version "
                        f"{current}, but this version of the bot only knows up to {known}. "
                        "Upgrade the bot, or restore a backup made by this version."
                    )
                pending = [m for m in migrations if m.version == current + 1]
                if not pending:
                    conn.execute("COMMIT")
                    return current
                migration = pending[0]
                log.info("applying migration %s", migration.name)
                if current == 0:
                    conn.execute(
                        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
                        " singleton BIGINT PRIMARY KEY CHECK (singleton = 1),"
                        " version BIGINT NOT NULL)"
                    )
                conn.execute(migration.sql.encode())
                conn.execute(
                    f"INSERT INTO {VERSION_TABLE} (singleton, version) VALUES (1, %s)"
                    " ON CONFLICT (singleton) DO UPDATE SET version = excluded.version",
                    (migration.version,),
                )
                conn.execute("COMMIT")
                self.commits += 1
            except BaseException:
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.execute("ROLLBACK")
                raise

    # -- writing --------------------------------------------------------------------------

    def _holding(self) -> _Held | None:
        task = asyncio.current_task()
        return None if task is None else self._held.get(task)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One atomic unit of work on one connection; it exits only once committed. Nested
        in the same task, a savepoint of the outer one."""
        held = self._holding()
        if held is not None:
            held.depth += 1
            name = f"nested_{held.depth}"
            try:
                await self._call(held.conn.execute, f"SAVEPOINT {name}")
                try:
                    yield _AsyncTx(self, held.conn)
                except BaseException:
                    await self._call(_undo_savepoint, held.conn, name)
                    raise
                await self._call(held.conn.execute, f"RELEASE SAVEPOINT {name}")
            finally:
                held.depth -= 1
            return
        task = asyncio.current_task()
        assert task is not None
        async with self._write_lock:
            conn = await self._acquire()
            self._held[task] = _Held(conn)
            try:
                await self._call(conn.execute, "BEGIN")
                try:
                    yield _AsyncTx(self, conn)
                except BaseException:
                    await self._call(_rollback, conn)
                    raise
                await self._call(conn.execute, "COMMIT")
                self.commits += 1
            finally:
                del self._held[task]
                await self._call(self._release_sync, conn)

    async def run(self, work: Callable[[SyncTx], T], *, single: bool = False) -> T:
        """`work(tx)` in a worker thread as one atomic unit, in the next group commit;
        returns its result once committed. Inside the task's own transaction, a savepoint
        of it."""
        held = self._holding()
        if held is not None:
            held.depth += 1
            try:
                return await self._call(_in_savepoint, held.conn, f"nested_{held.depth}", work)
            finally:
                held.depth -= 1
        member = _Member(work, single=single)
        self._queue.append(member)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(
                self._commit_groups(), name="postgres-group-commit"
            )
        return cast(T, await member.committed)

    async def _commit_groups(self) -> None:
        while self._queue:
            async with self._write_lock:
                group = [self._queue.popleft() for _ in range(min(len(self._queue), GROUP_LIMIT))]
                try:
                    conn = await self._acquire()
                    try:
                        await self._call(_run_group, conn, group)
                    finally:
                        await self._call(self._release_sync, conn)
                except BaseException as error:
                    log.warning("a group commit of %d failed: %s", len(group), error)
                    for member in group:
                        member.settle(error)
                    if not isinstance(error, Exception):
                        raise
                else:
                    self.commits += 1
                    for member in group:
                        member.settle(None)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self.run(lambda tx: tx.execute(sql, params), single=True)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [tuple(row) for row in rows]
        await self.run(lambda tx: tx.executemany(sql, batch), single=True)

    async def insert(self, sql: str, params: Params = ()) -> int:
        return await self.run(lambda tx: tx.insert(sql, params), single=True)

    # -- reading --------------------------------------------------------------------------
    # Outside a transaction a read takes any pooled (autocommit) connection and so sees
    # committed rows only; inside its own transaction a task reads on the connection it
    # holds and sees its own writes.

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        held = self._holding()
        if held is not None:
            return await self._call(_SyncTx(held.conn).fetch_all, sql, params)
        return await self._call(self._with_conn, partial(_read_all, sql, params))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None


def _read_all(sql: str, params: Params, conn: Connection) -> list[Row]:
    return cast(list[Row], conn.execute(translate(sql), _params(params)).fetchall())


def _read_version(conn: Connection) -> int:
    found = conn.execute("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()
    return int(row[0]) if row is not None else 0


def _rollback(conn: Connection) -> None:
    if conn.info.transaction_status != TransactionStatus.IDLE:
        conn.execute("ROLLBACK")


def _undo_savepoint(conn: Connection, name: str) -> None:
    if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
        conn.execute(f"RELEASE SAVEPOINT {name}")
