"""Instants as text: ISO 8601 in UTC, as they are stored and carried in outbox payloads."""

from __future__ import annotations

from datetime import UTC, datetime


def to_iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return value.astimezone(UTC).isoformat()


def from_iso(value: str) -> datetime:
    """The instant `to_iso` wrote (text without a zone is taken as UTC)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
