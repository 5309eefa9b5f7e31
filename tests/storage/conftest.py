"""Storage tests run on every chosen backend: a temporary SQLite file and a fresh PostgreSQL
database (`--backend`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from storage import Storage
from tests import pg

StorageFactory = Callable[[], Storage]


@pytest.fixture
async def storage_factory(backend: str, tmp_path: Path) -> AsyncIterator[StorageFactory]:
    """Builds unopened `Storage` objects on this test's one database (to reopen it); any a
    failing test left open are closed afterwards."""
    built: list[Storage] = []
    url: str | None = None
    if backend == "postgresql":
        url = pg.server().create_database()

    def build() -> Storage:
        store = Storage.at(tmp_path / "mm.db") if url is None else Storage.from_settings(url, "")
        built.append(store)
        return store

    yield build
    for store in built:
        await store.close()
    if url is not None:
        pg.server().drop_database(url)


@pytest.fixture
async def storage(storage_factory: StorageFactory) -> AsyncIterator[Storage]:
    store = storage_factory()
    await store.open()
    try:
        yield store
    finally:
        await store.close()
