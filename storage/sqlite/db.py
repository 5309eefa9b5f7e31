"""The SQLite connections: pragmas, migrations, group commit and isolated reads.

One connection does all the writing, so SQLite never sees two writers; a second, read-only
connection answers every read made outside a transaction, so a read sees only committed rows
(WAL keeps it from blocking the writer). Commits are durable (`synchronous = FULL`: fsynced
before COMMIT returns) and grouped: writes that arrive together share one transaction and one
fsync, each in its own savepoint, and each is acknowledged only after that COMMIT. Every
change a user makes is committed before the bot says it is saved. Reads that arrive together
share one trip to the reader's thread too, and the WAL is folded into the database file by a
third connection, never inside a COMMIT.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

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
Work = Callable[[SyncTx], Any]

GROUP_LIMIT = 1000
"""Most members one group commit takes: more share an fsync, but each waits for them all
(a thousand single-statement writes take about 15 ms on the writer's thread)."""


CHECKPOINT_EVERY = 1.0
"""Seconds at least between two checkpoints of the WAL into the database file. SQLite's own
(every 1,000 pages) would run inside the COMMIT that crosses the mark, so that commit, and
every write waiting on it, would also wait for the copy and an fsync of the database file.
A checkpoint runs instead on its own connection after a group commit, while the next group
goes on; the WAL holds at most about a second of writes more than it would."""


def _violation(error: sqlite3.IntegrityError) -> IntegrityViolation:
    """The driver-neutral error for a broken constraint."""
    if "UNIQUE constraint failed" in str(error):
        return UniqueViolation(str(error))
    return IntegrityViolation(str(error))


@contextmanager
def _integrity_violations() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise _violation(error) from error


class _AsyncTx:
    """`Tx` over the writer connection, inside a transaction block."""

    __slots__ = ("_conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        with _integrity_violations():
            async with self._conn.execute(sql, tuple(params)) as cursor:
                return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        with _integrity_violations():
            await self._conn.executemany(sql, [tuple(row) for row in rows])

    async def insert(self, sql: str, params: Params = ()) -> int:
        with _integrity_violations():
            rows = list(await self._conn.execute_fetchall(sql, tuple(params)))
        return int(rows[0][0])

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return cast(list[Row], list(await self._conn.execute_fetchall(sql, tuple(params))))

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None


class _SyncTx:
    """`SyncTx` over the raw writer connection, on the writer's thread. A group runs a
    thousand of these calls in one trip, so each is kept to the statement and the
    translation of a constraint error."""

    __slots__ = ("_raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    def execute(self, sql: str, params: Params = ()) -> int:
        try:
            cursor = self._raw.execute(sql, params)
        except sqlite3.IntegrityError as error:
            raise _violation(error) from error
        count = cursor.rowcount
        cursor.close()
        return count

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            self._raw.executemany(sql, rows).close()
        except sqlite3.IntegrityError as error:
            raise _violation(error) from error

    def write(self, sql: str, params: Params = ()) -> None:
        self.execute(sql, params)

    def insert(self, sql: str, params: Params = ()) -> int:
        try:
            row = self._raw.execute(sql, params).fetchone()
        except sqlite3.IntegrityError as error:
            raise _violation(error) from error
        return int(row[0])

    def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        # A write with RETURNING is read this way too: its constraint errors are translated.
        try:
            return cast(list[Row], self._raw.execute(sql, params).fetchall())
        except sqlite3.IntegrityError as error:
            raise _violation(error) from error

    def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = self.fetch_all(sql, params)
        return rows[0] if rows else None


class _Member:
    """One unit of work waiting for its place in a group commit: a function run on the
    writer's thread (one statement, or a repository's short read-modify-write); consecutive
    ones run in a single trip to that thread. It runs in a savepoint of the group's
    transaction and learns its result only after the group's COMMIT."""

    __slots__ = ("committed", "error", "result", "single", "work")

    def __init__(self, work: Work | None, *, single: bool = False) -> None:
        self.work = work
        # One statement: SQLite undoes a failed statement by itself, so no savepoint is needed.
        self.single = single
        self.result: object = None
        self.error: BaseException | None = None
        # The result once the group is committed, or why it is not.
        self.committed: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    def settle(self, error: BaseException | None) -> None:
        if self.committed.done():
            return
        failure = self.error or error
        if failure is not None:
            self.committed.set_exception(failure)
        else:
            self.committed.set_result(self.result)


class _Block(_Member):
    """A `transaction()` block: when its turn comes it has the connection for its own awaits
    until it is `finished`."""

    __slots__ = ("finished", "turn")

    def __init__(self) -> None:
        super().__init__(None)
        loop = asyncio.get_running_loop()
        self.turn: asyncio.Future[None] = loop.create_future()
        self.finished: asyncio.Future[None] = loop.create_future()


class _Read:
    """One read waiting for the next trip to the reader's thread."""

    __slots__ = ("done", "error", "params", "rows", "sql")

    def __init__(self, sql: str, params: tuple[object, ...]) -> None:
        self.sql = sql
        self.params = params
        self.rows: list[Row] | None = None
        self.error: BaseException | None = None
        self.done: asyncio.Future[list[Row]] = asyncio.get_running_loop().create_future()

    def settle(self, error: BaseException | None = None) -> None:
        if self.done.done():
            # Its caller was cancelled meanwhile.
            return
        failure = self.error or (error if self.rows is None else None)
        if failure is not None:
            self.done.set_exception(failure)
        elif self.rows is None:
            self.done.set_exception(RuntimeError("the read was not run"))
        else:
            self.done.set_result(self.rows)


def _run_reads(raw: sqlite3.Connection, *, reads: list[_Read]) -> None:
    """On the reader's thread: each read on its own (autocommit: each sees what is committed
    when it runs); one failing fails only itself."""
    for read in reads:
        try:
            cursor = raw.execute(read.sql, read.params)
            try:
                read.rows = cast(list[Row], cursor.fetchall())
            finally:
                cursor.close()
        except Exception as error:
            read.error = error


class GroupAbortedError(sqlite3.OperationalError):
    """SQLite ended the group's transaction itself (an I/O error, a full disk): every member
    of the group is lost, not only the one that failed."""


def _run_members(raw: sqlite3.Connection, *, members: list[_Member], begin: bool) -> None:
    """On the writer's thread: each member in its own savepoint, so one failing undoes only
    itself (a single statement needs none: SQLite undoes a failed statement by itself).
    Results and errors are left on the members for the event loop to hand out."""
    if begin:
        raw.execute("BEGIN IMMEDIATE")
    tx = _SyncTx(raw)
    for member in members:
        work = member.work
        assert work is not None
        guarded = not member.single
        if guarded:
            raw.execute("SAVEPOINT member")
        try:
            member.result = work(tx)
        except Exception as error:
            member.error = error
            if not raw.in_transaction:
                raise GroupAbortedError(f"the transaction was rolled back: {error}") from error
            if guarded:
                raw.execute("ROLLBACK TO member")
        if guarded:
            raw.execute("RELEASE member")


class Database:
    """The SQLite implementation of `storage.sql.Database`."""

    dialect = "sqlite"
    shared = False

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        # Checkpoints run here, off the writer's path (see CHECKPOINT_EVERY).
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpointing: asyncio.Task[None] | None = None
        self._last_checkpoint = float("-inf")
        self.checkpoints = 0
        """WAL checkpoints run since opening."""
        # Writes wait here for the next group commit; one committer task runs the groups.
        self._queue: deque[_Member] = deque()
        self._committer: asyncio.Task[None] | None = None
        # The task whose `transaction()` block has the connection now: its reads and writes
        # go straight to the writer (and see its own uncommitted rows).
        self._owner: asyncio.Task[object] | None = None
        self._savepoints = 0
        # Reads outside a transaction wait here for the next trip to the reader's thread.
        self._reads: deque[_Read] = deque()
        self._reading: asyncio.Task[None] | None = None
        self.read_trips = 0
        """Trips to the reader's thread since opening (each serves every read waiting)."""
        self.commits = 0
        """Group commits (transactions, and so fsyncs) made since opening."""

    @property
    def conn(self) -> aiosqlite.Connection:
        """The writer connection."""
        if self._conn is None:
            raise RuntimeError("the database is not open")
        return self._conn

    @property
    def reader(self) -> aiosqlite.Connection:
        """The read-only connection: committed rows only."""
        if self._reader is None:
            raise RuntimeError("the database is not open")
        return self._reader

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
            # Ratings, forms and notes are what the study is about: a COMMIT returns only once
            # the WAL is on disk, so a power cut cannot lose what the bot said was saved.
            await self._run("PRAGMA synchronous = FULL")
            await self._scalar("PRAGMA busy_timeout = 5000")
            # Checkpoints are the checkpointer's (below), never a COMMIT's.
            await self._scalar("PRAGMA wal_autocheckpoint = 0")
            await self.migrate()
            reader = await aiosqlite.connect(self.path, isolation_level=None)
            reader.row_factory = aiosqlite.Row
            self._reader = reader
            await reader.execute_fetchall("PRAGMA foreign_keys = ON")
            await reader.execute_fetchall("PRAGMA query_only = ON")
            await reader.execute_fetchall("PRAGMA busy_timeout = 5000")
            checkpointer = await aiosqlite.connect(self.path, isolation_level=None)
            self._checkpointer = checkpointer
            await checkpointer.execute_fetchall("PRAGMA busy_timeout = 5000")
            self._checkpoint_soon()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        committer = self._committer
        if committer is not None and not committer.done():
            # What was acknowledged as pending still commits before the connection goes.
            await asyncio.shield(committer)
        for task in (self._reading, self._checkpointing):
            if task is not None and not task.done():
                await asyncio.shield(task)
        # The last connection to close folds the WAL into the database file.
        for name in ("_checkpointer", "_reader", "_conn"):
            conn = getattr(self, name)
            if conn is not None:
                setattr(self, name, None)
                await conn.close()

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
        migrations = load_migrations("storage.sqlite")
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

    # -- writing: group commit ----------------------------------------------------------------

    def _owns(self) -> bool:
        task = asyncio.current_task()
        return task is not None and self._owner is task

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One atomic unit of work; it exits only once it is committed (and raises if the
        commit failed). Units that arrive together share one transaction, each in its own
        savepoint: one failing undoes only itself. A transaction opened inside another one
        by the same task becomes a savepoint of it."""
        if self._owns():
            async with self._savepoint():
                yield _AsyncTx(self.conn)
            return
        member = _Block()
        self._enqueue(member)
        try:
            await member.turn
        except asyncio.CancelledError:
            self._withdraw(member)
            raise
        self._owner = asyncio.current_task()
        try:
            await self._run("SAVEPOINT member")
            try:
                yield _AsyncTx(self.conn)
            except BaseException as error:
                # Raised here and now: nothing of this block will be committed.
                member.error = error
                member.committed.cancel()
                if self.conn.in_transaction:
                    await self._run("ROLLBACK TO member")
                    await self._run("RELEASE member")
                raise
            await self._run("RELEASE member")
        finally:
            self._owner = None
            if not member.finished.done():
                member.finished.set_result(None)
        await member.committed

    async def run(self, work: Callable[[SyncTx], T], *, single: bool = False) -> T:
        """Run `work(connection)` on the writer's thread as one atomic unit, in the next group
        commit; returns its result once committed. For short read-modify-writes that must be
        fast under load: the whole group's units run in one trip to the thread. `single`:
        `work` runs exactly one statement (atomic by itself, so it needs no savepoint)."""
        if self._owns():
            if single:
                return await self._on_writer_thread(lambda raw: work(_SyncTx(raw)))
            return await self._on_writer_thread(lambda raw: _in_savepoint(raw, work))
        if self._conn is None:
            # Refused at once: queued, it would wait for a commit that never comes.
            raise RuntimeError("the database is not open")
        member = _Member(work, single=single)
        self._enqueue(member)
        return cast(T, await member.committed)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement atomically (in the next group commit, acknowledged once
        committed); the number of rows it changed."""
        return await self.run(lambda tx: tx.execute(sql, params), single=True)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [tuple(row) for row in rows]
        await self.run(lambda tx: tx.executemany(sql, batch), single=True)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one `INSERT ... RETURNING id` atomically; the new row's id once committed."""
        return await self.run(lambda tx: tx.insert(sql, params), single=True)

    def _enqueue(self, member: _Member) -> None:
        self._queue.append(member)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(
                self._commit_groups(), name="group-commit"
            )

    def _withdraw(self, member: _Block) -> None:
        """A `transaction()` block cancelled before its turn: give the turn back."""
        if member in self._queue:
            self._queue.remove(member)
        if not member.finished.done():
            member.finished.set_result(None)
        member.committed.cancel()

    async def _commit_groups(self) -> None:
        while self._queue:
            group: list[_Member] = []
            try:
                await self._commit_group(group)
            except BaseException as error:
                log.warning("a group commit of %d failed: %s", len(group), error)
                await self._rollback()
                for member in group:
                    member.settle(error)
                if not isinstance(error, Exception):
                    raise
            else:
                for member in group:
                    member.settle(None)

    async def _commit_group(self, group: list[_Member]) -> None:
        """Take what is waiting, and what arrives while the group runs, up to GROUP_LIMIT,
        into one transaction, then COMMIT it once. Consecutive functions run in one trip to
        the writer's thread. (A burst is best served whole: the event loop computes the
        writes, then one group commits them all, rather than many small groups fighting the
        loop for the interpreter.)"""
        began = False
        while self._queue and len(group) < GROUP_LIMIT:
            if self._queue[0].work is not None:
                batch: list[_Member] = []
                while (
                    self._queue
                    and self._queue[0].work is not None
                    and len(group) + len(batch) < GROUP_LIMIT
                ):
                    batch.append(self._queue.popleft())
                group.extend(batch)
                await self._on_writer_thread(partial(_run_members, members=batch, begin=not began))
                began = True
                continue
            member = self._queue.popleft()
            assert isinstance(member, _Block)
            group.append(member)
            if not began:
                await self._run("BEGIN IMMEDIATE")
                began = True
            if not member.turn.done():
                member.turn.set_result(None)
            await member.finished
            if member.error is not None and not self.conn.in_transaction:
                raise GroupAbortedError(f"the transaction was rolled back: {member.error}")
        if began:
            await self._run("COMMIT")
            self.commits += 1
            self._checkpoint_soon()

    def _checkpoint_soon(self) -> None:
        """Fold the WAL into the database file on the checkpointer's thread, unless one ran
        less than CHECKPOINT_EVERY ago or is running (the next commit asks again)."""
        if self._checkpointer is None:
            return
        running = self._checkpointing
        if running is not None and not running.done():
            return
        now = time.monotonic()
        if now - self._last_checkpoint < CHECKPOINT_EVERY:
            return
        self._last_checkpoint = now
        self._checkpointing = asyncio.get_running_loop().create_task(
            self._checkpoint(self._checkpointer), name="wal-checkpoint"
        )

    async def _checkpoint(self, conn: aiosqlite.Connection) -> None:
        # PASSIVE: copies what no reader still needs and never blocks the writer or readers.
        try:
            await conn.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as error:
            # The WAL only grows until the next one: nothing committed is at stake.
            log.warning("a WAL checkpoint of %s failed: %s", self.path, error)
            return
        self.checkpoints += 1

    async def _on_writer_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(raw sqlite3 connection)` in one trip to the writer's thread. aiosqlite has
        no public call for this; `_execute` and `_conn` are its own plumbing (0.20–0.22, the
        versions pyproject allows)."""
        conn = self.conn
        raw = conn._conn
        return cast(T, await conn._execute(work, raw))

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

    # -- reading --------------------------------------------------------------------------
    # A read outside a transaction goes to the read-only connection and so sees only
    # committed rows, never another task's half-done transaction; inside its own transaction
    # a task reads on the writer and sees its own writes. Reads that arrive together share
    # one trip to the reader's thread: after a group commit a thousand hand-overs each read
    # their session, and a trip each would have that thread fight the event loop for the
    # interpreter while the loop still hands the commit out.

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        if self._owns():
            return cast(list[Row], list(await self.conn.execute_fetchall(sql, tuple(params))))
        read = _Read(sql, tuple(params))
        self._reads.append(read)
        if self._reading is None or self._reading.done():
            self._reading = asyncio.get_running_loop().create_task(
                self._read_batches(), name="group-read"
            )
        return await read.done

    async def _read_batches(self) -> None:
        """Run what is waiting in one trip, then what arrived meanwhile, until none is left.
        Started by the first read, it runs once the tasks that are ready now have had their
        turn, so that what they read joins the same trip."""
        reader = self.reader
        while self._reads:
            batch = list(self._reads)
            self._reads.clear()
            try:
                await reader._execute(partial(_run_reads, reads=batch), reader._conn)
            except BaseException as error:
                for read in batch:
                    read.settle(error)
                if not isinstance(error, Exception):
                    raise
                continue
            self.read_trips += 1
            for read in batch:
                read.settle()

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None


def _in_savepoint(raw: sqlite3.Connection, work: Callable[[SyncTx], T]) -> T:
    raw.execute("SAVEPOINT work")
    try:
        result = work(_SyncTx(raw))
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK TO work")
            raw.execute("RELEASE work")
        raise
    raw.execute("RELEASE work")
    return result


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
