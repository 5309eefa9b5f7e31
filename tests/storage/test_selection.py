"""Which backend a database setting selects."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import DatabaseUrlError, Storage


@pytest.mark.parametrize("url", [None, "", "   "])
def test_no_url_is_the_sqlite_file(url: str | None, tmp_path: Path) -> None:
    storage = Storage.from_settings(url, tmp_path / "mm.db")
    assert storage.db.dialect == "sqlite"
    assert storage.groups.db is storage.db


@pytest.mark.parametrize(
    "url", ["postgresql://mm@db/mm", "postgres://mm:pw@db:5433/mm", " POSTGRESQL://db/mm "]
)
def test_a_postgresql_url_is_postgresql(url: str, tmp_path: Path) -> None:
    storage = Storage.from_settings(url, tmp_path / "mm.db")
    assert storage.db.dialect == "postgresql"
    assert not (tmp_path / "mm.db").exists()


@pytest.mark.parametrize("url", ["mysql://db/mm", "sqlite:///mm.db", "db.example.org"])
def test_any_other_url_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(DatabaseUrlError, match="postgresql://"):
        Storage.from_settings(url, tmp_path / "mm.db")
