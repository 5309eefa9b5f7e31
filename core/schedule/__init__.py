"""The scheduling domain: recurring meetings, reminders, `.ics` export and finding a time.

Pure: no Discord, no I/O, no asyncio. Every instant is an aware datetime; functions return
UTC instants.
"""

from core.schedule.findtime import MemberHours, MemberLocalTime, Slot, find_slots, fits_hours
from core.schedule.ics import calendar_ics, event_uid
from core.schedule.model import Schedule
from core.schedule.planner import (
    DueReminder,
    due_reminder,
    event_meeting,
    next_check,
    upcoming_meeting,
)
from core.schedule.recurrence import (
    DEFAULT_DURATION_MINUTES,
    MAX_DURATION_MINUTES,
    MAX_EVERY_WEEKS,
    MIN_DURATION_MINUTES,
    MIN_EVERY_WEEKS,
    Recurrence,
    format_recurrence,
    is_occurrence,
    local_start,
    make_recurrence,
    next_occurrence,
    occurrences,
    series_after,
    skips_to_keep,
)
from core.schedule.reminders import (
    REMINDER_KINDS,
    discord_timestamp,
    reminder_stale,
    reminder_text,
    reminder_times,
    superseded_reminders,
)

__all__ = [
    "DEFAULT_DURATION_MINUTES",
    "MAX_DURATION_MINUTES",
    "MAX_EVERY_WEEKS",
    "MIN_DURATION_MINUTES",
    "MIN_EVERY_WEEKS",
    "REMINDER_KINDS",
    "DueReminder",
    "MemberHours",
    "MemberLocalTime",
    "Recurrence",
    "Schedule",
    "Slot",
    "calendar_ics",
    "discord_timestamp",
    "due_reminder",
    "event_meeting",
    "event_uid",
    "find_slots",
    "fits_hours",
    "format_recurrence",
    "is_occurrence",
    "local_start",
    "make_recurrence",
    "next_check",
    "next_occurrence",
    "occurrences",
    "reminder_stale",
    "reminder_text",
    "reminder_times",
    "series_after",
    "skips_to_keep",
    "superseded_reminders",
    "upcoming_meeting",
]
