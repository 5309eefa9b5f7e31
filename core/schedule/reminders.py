"""Reminders posted in a group's channel before each meeting, with Discord timestamps so every
reader sees the time in their own zone."""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def reminder_stale(kind: str, starts_at: datetime, now: datetime) -> bool:
    """Whether a reminder written earlier is no longer worth posting at `now`: the meeting
    has started, or the time of a later reminder has come (that one speaks for both, so a
    delivery held up by an outage never posts a burst)."""
    require_aware(starts_at, "starts_at")
    require_aware(now, "now")
    if now >= starts_at:
        return True
    times = reminder_times(starts_at)
    kinds = [k for k, _ in times]
    if kind not in kinds:
        raise ValueError(f"unknown reminder kind {kind!r}; expected one of {REMINDER_KINDS}")
    return any(at <= now for _, at in times[kinds.index(kind) + 1 :])


def superseded_reminders(pending: Sequence[tuple[int, str, datetime]], now: datetime) -> list[int]:
    """Of the reminders still to deliver (`(id, kind, meeting start)`, in the order they were
    written), the ids to drop after an outage: every stale one, and every one followed by a
    later reminder (only the latest reminder is posted)."""
    keep = [row for row in pending if not reminder_stale(row[1], row[2], now)]
    last = keep[-1][0] if keep else None
    return [row_id for row_id, _, _ in pending if row_id != last]
