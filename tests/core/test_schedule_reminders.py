"""Reminders 24 h and 15 min before a meeting, with Discord timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.schedule import REMINDER_KINDS, discord_timestamp, reminder_text, reminder_times

NEW_YEAR_2026 = datetime(2026, 1, 1, tzinfo=UTC)
NEW_YEAR_2026_UNIX = 1767225600  # 56 years incl. 14 leap days: (56 * 365 + 14) * 86400


def test_reminder_times() -> None:
    start = datetime(2026, 3, 10, 13, tzinfo=UTC)
    assert reminder_times(start) == [
        ("24h", datetime(2026, 3, 9, 13, tzinfo=UTC)),
        ("15m", datetime(2026, 3, 10, 12, 45, tzinfo=UTC)),
    ]
    assert [kind for kind, _ in reminder_times(start)] == list(REMINDER_KINDS)


def test_24h_reminder_is_real_time_across_a_clock_change() -> None:
    # Sunday 2026-03-08 12:00 EDT (16:00Z) in Toronto; the clocks sprang forward at 02:00.
    start = datetime(2026, 3, 8, 12, tzinfo=ZoneInfo("America/Toronto"))
    (_, day_before), (_, quarter_before) = reminder_times(start)
    assert day_before == datetime(2026, 3, 7, 16, tzinfo=UTC)  # 11:00 EST, 24 real hours
    assert day_before.tzinfo is UTC
    assert quarter_before == datetime(2026, 3, 8, 15, 45, tzinfo=UTC)
    # Naive wall-clock arithmetic would have given 23 hours.
    assert (start - timedelta(hours=24)).astimezone(UTC) != day_before


def test_reminder_times_require_aware() -> None:
    with pytest.raises(ValueError):
        reminder_times(datetime(2026, 1, 1))


def test_discord_timestamp() -> None:
    assert discord_timestamp(NEW_YEAR_2026, "F") == f"<t:{NEW_YEAR_2026_UNIX}:F>"
    kolkata = NEW_YEAR_2026.astimezone(ZoneInfo("Asia/Kolkata"))
    assert discord_timestamp(kolkata, "R") == f"<t:{NEW_YEAR_2026_UNIX}:R>"


@pytest.mark.parametrize("kind", REMINDER_KINDS)
def test_reminder_text_uses_both_timestamps(kind: str) -> None:
    text = reminder_text(kind, NEW_YEAR_2026, "Early-career PIs")
    assert f"<t:{NEW_YEAR_2026_UNIX}:F>" in text
    assert f"<t:{NEW_YEAR_2026_UNIX}:R>" in text
    assert "**Early-career PIs**" in text


def test_reminder_texts_differ_and_escape_markdown() -> None:
    day = reminder_text("24h", NEW_YEAR_2026, "A*B_c")
    soon = reminder_text("15m", NEW_YEAR_2026, "A*B_c")
    assert day != soon
    assert "**A\\*B\\_c**" in day
    assert "voice channel" in soon


def test_unknown_reminder_kind() -> None:
    with pytest.raises(ValueError, match="unknown reminder kind"):
        reminder_text("1h", NEW_YEAR_2026, "G")
