"""Conversions between database columns and domain values, the same on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from core.errors import DuplicateName
from storage.sql import UniqueViolation


@contextmanager
def unique_names() -> Iterator[None]:
    """A unique-constraint failure here means a name is taken."""
    try:
        yield
    except UniqueViolation as error:
        raise DuplicateName(str(error)) from error


def to_db_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return value.astimezone(UTC).isoformat()


def from_db_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def require_time(value: str) -> datetime:
    parsed = from_db_time(value)
    assert parsed is not None
    return parsed
