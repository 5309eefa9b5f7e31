"""The schedule planner: which meeting the event shows, which reminder is due, when to look."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.schedule import Recurrence
from core.schedule.planner import due_reminder, event_meeting, next_check, upcoming_meeting

# Tuesdays 09:00 in Toronto, 90 minutes: 14:00Z in winter.
WEEKLY = Recurrence(
    weekday=1,
    local_time=time(9, 0),
    every_weeks=1,
    duration_minutes=90,
    timezone="America/Toronto",
    anchor=date(2026, 1, 6),
)
FIRST = datetime(2026, 1, 6, 14, 0, tzinfo=UTC)
SECOND = datetime(2026, 1, 13, 14, 0, tzinfo=UTC)
SET_AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_event_shows_the_meeting_in_progress_until_it_is_over() -> None:
    assert event_meeting(WEEKLY, FIRST - timedelta(days=1)) == FIRST
    assert event_meeting(WEEKLY, FIRST + timedelta(minutes=89)) == FIRST
    assert event_meeting(WEEKLY, FIRST + timedelta(minutes=90)) == SECOND
    assert upcoming_meeting(WEEKLY, FIRST + timedelta(minutes=1)) == SECOND


def test_skipped_meeting_is_passed_over() -> None:
    assert event_meeting(WEEKLY, SET_AT, skipped={FIRST}) == SECOND
    assert upcoming_meeting(WEEKLY, SET_AT, skipped={FIRST}) == SECOND


def test_reminders_fall_due_in_order_and_once() -> None:
    assert due_reminder(FIRST, FIRST - timedelta(hours=25), set(), SET_AT) is None
    day_before = due_reminder(FIRST, FIRST - timedelta(hours=24), set(), SET_AT)
    assert day_before is not None and day_before.send == "24h" and day_before.kinds == ("24h",)
    assert due_reminder(FIRST, FIRST - timedelta(hours=1), {"24h"}, SET_AT) is None
    quarter = due_reminder(FIRST, FIRST - timedelta(minutes=15), {"24h"}, SET_AT)
    assert quarter is not None and quarter.send == "15m"


def test_missed_reminders_collapse_into_the_latest() -> None:
    late = due_reminder(FIRST, FIRST - timedelta(minutes=5), set(), SET_AT)
    assert late is not None
    assert late.send == "15m" and late.kinds == ("24h", "15m")


def test_no_reminder_once_started_or_if_set_after_its_time() -> None:
    assert due_reminder(FIRST, FIRST, set(), SET_AT) is None
    set_late = FIRST - timedelta(hours=20)
    assert due_reminder(FIRST, FIRST - timedelta(hours=19), set(), set_late) is None
    quarter = due_reminder(FIRST, FIRST - timedelta(minutes=15), set(), set_late)
    assert quarter is not None and quarter.kinds == ("15m",)


@pytest.mark.parametrize(
    ("now", "sent", "expected"),
    [
        (SET_AT, set(), FIRST - timedelta(hours=24)),
        (FIRST - timedelta(hours=24), {"24h"}, FIRST - timedelta(minutes=15)),
        (FIRST - timedelta(minutes=15), {"24h", "15m"}, FIRST + timedelta(minutes=90)),
    ],
)
def test_next_check_is_the_earliest_pending_work(
    now: datetime, sent: set[str], expected: datetime
) -> None:
    assert next_check(WEEKLY, now, frozenset(), sent, SET_AT) == expected


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        due_reminder(FIRST, datetime(2026, 1, 5), set(), SET_AT)
