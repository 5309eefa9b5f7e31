"""What a group's schedule needs at a given instant: which meeting its Discord event shows,
which reminder to post now, and when to look again.

Pure functions over a `Recurrence`, the skipped meetings and the reminders already sent, so
the cog only has to carry them out. Every instant is an aware datetime; results are UTC.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from core.schedule.recurrence import Recurrence, next_occurrence, require_aware
from core.schedule.reminders import reminder_times


def event_meeting(
    rec: Recurrence, now: datetime, skipped: Iterable[datetime] = frozenset()
) -> datetime | None:
    """The start of the meeting the Discord event should show: the one in progress (until
    its start + duration has passed), else the next one that is not skipped."""
    require_aware(now, "now")
    return next_occurrence(rec, now - rec.duration, skipped)


def upcoming_meeting(
    rec: Recurrence, now: datetime, skipped: Iterable[datetime] = frozenset()
) -> datetime | None:
    """The start of the next meeting that has not started yet and is not skipped."""
    return next_occurrence(rec, now, skipped)


@dataclass(frozen=True)
class DueReminder:
    """Post `send` for the meeting at `starts_at`, and record every kind in `kinds` as sent
    (the ones passed over are collapsed into it, so a late start never sends a burst)."""

    starts_at: datetime
    send: str
    kinds: tuple[str, ...]


def due_reminder(
    starts_at: datetime, now: datetime, sent: Collection[str], since: datetime
) -> DueReminder | None:
    """The reminder to post now for the meeting at `starts_at`, if any.

    A reminder is due when its time has come (`<= now`), it was not sent yet, and its time
    is after `since` (when the schedule was set: setting a schedule 20 hours before a meeting
    does not post a 'late' 24 h reminder). No reminder is due once the meeting has started.
    When several are due (the bot was down), only the most recent is posted.
    """
    require_aware(starts_at, "starts_at")
    require_aware(now, "now")
    require_aware(since, "since")
    if starts_at <= now:
        return None
    due = [kind for kind, at in reminder_times(starts_at) if since < at <= now and kind not in sent]
    if not due:
        return None
    # reminder_times lists the kinds in time order, so the last one due is the most recent.
    return DueReminder(starts_at=starts_at, send=due[-1], kinds=tuple(due))


def next_check(
    rec: Recurrence,
    now: datetime,
    skipped: Iterable[datetime],
    sent: Collection[str],
    since: datetime,
) -> datetime | None:
    """When the schedule next needs attention after `now`: the end of the meeting the event
    shows (time to create the next event), or the next reminder of the upcoming meeting that
    is still to be sent (`sent` are the kinds already sent for that meeting)."""
    skip = frozenset(skipped)
    candidates: list[datetime] = []
    shown = event_meeting(rec, now, skip)
    if shown is not None:
        candidates.append(shown + rec.duration)
    upcoming = upcoming_meeting(rec, now, skip)
    if upcoming is not None:
        candidates.extend(
            at
            for kind, at in reminder_times(upcoming)
            if at > now and at > since and kind not in sent
        )
    return min(candidates, default=None)
