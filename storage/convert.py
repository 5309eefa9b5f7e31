"""Conversions between SQLite columns and domain values."""

from __future__ import annotations

from datetime import UTC, datetime


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
