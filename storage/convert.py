"""Conversions between database columns and domain values, the same on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from core.errors import DuplicateName
from core.isotime import from_iso, to_iso
from storage.sql import UniqueViolation


@contextmanager
def unique_names() -> Iterator[None]:
    """A unique-constraint failure here means a name is taken."""
    try:
        yield
    except UniqueViolation as error:
        raise DuplicateName(str(error)) from error


def to_db_time(value: datetime | None) -> str | None:
    return None if value is None else to_iso(value)


def from_db_time(value: str | None) -> datetime | None:
    return None if value is None else from_iso(value)


def require_time(value: str) -> datetime:
    return from_iso(value)
