"""Reminders posted in a group's channel before each meeting, with Discord timestamps so every
reader sees the time in their own zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.schedule.recurrence import require_aware

REMINDER_OFFSETS: tuple[tuple[str, timedelta], ...] = (
    ("24h", timedelta(hours=24)),
    ("15m", timedelta(minutes=15)),
)
REMINDER_KINDS = tuple(kind for kind, _ in REMINDER_OFFSETS)

_MARKDOWN = re.compile(r"([\\*_~`|])")


def reminder_times(start: datetime) -> list[tuple[str, datetime]]:
    """`[("24h", start - 24 h), ("15m", start - 15 min)]` as UTC instants.

    The subtraction is done in UTC: real elapsed time, so the 24 h reminder is 24 hours
    before even when the clocks change overnight (aware arithmetic on a zoned datetime would
    subtract wall-clock time instead).
    """
    require_aware(start, "start")
    start_utc = start.astimezone(UTC)
    return [(kind, start_utc - offset) for kind, offset in REMINDER_OFFSETS]


def discord_timestamp(instant: datetime, style: str) -> str:
    """`<t:UNIX:style>`; Discord renders it in each reader's own time zone."""
    require_aware(instant, "instant")
    return f"<t:{int(instant.timestamp())}:{style}>"


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def reminder_text(kind: str, start: datetime, group_name: str) -> str:
    """The reminder message for `kind` (`24h` or `15m`) of the meeting starting at `start`."""
    full = discord_timestamp(start, "F")
    relative = discord_timestamp(start, "R")
    name = escape_markdown(group_name)
    if kind == "24h":
        return f"Reminder: **{name}** meets {full} ({relative})."
    if kind == "15m":
        return f"**{name}** starts {relative}, at {full}. See you in the voice channel."
    raise ValueError(f"unknown reminder kind {kind!r}; expected one of {REMINDER_KINDS}")
