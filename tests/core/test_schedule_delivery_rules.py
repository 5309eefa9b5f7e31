"""Which reminders still apply when their delivery was held up, and how a backlog collapses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.schedule import REMINDER_KINDS, reminder_stale, reminder_times, superseded_reminders

START = datetime(2026, 1, 6, 14, tzinfo=UTC)


def test_a_reminder_applies_until_the_next_one_is_due_or_the_meeting_starts() -> None:
    assert not reminder_stale("24h", START, START - timedelta(hours=24))
    assert not reminder_stale("24h", START, START - timedelta(minutes=16))
    assert reminder_stale("24h", START, START - timedelta(minutes=15))
    assert not reminder_stale("15m", START, START - timedelta(minutes=15))
    assert not reminder_stale("15m", START, START - timedelta(seconds=1))
    assert reminder_stale("15m", START, START)


def test_a_backlog_keeps_only_the_latest_reminder_that_applies() -> None:
    now = START - timedelta(minutes=10)
    rows = [(1, "24h", START), (2, "15m", START)]
    assert superseded_reminders(rows, now) == [1]
    assert superseded_reminders(rows, START) == [1, 2], "the meeting has started"
    assert superseded_reminders([(1, "24h", START)], START - timedelta(hours=3)) == []


minutes = st.integers(min_value=-3000, max_value=200)


@given(offset=minutes)
def test_at_most_one_reminder_of_a_meeting_applies_once_due(offset: int) -> None:
    now = START + timedelta(minutes=offset)
    due = [kind for kind, at in reminder_times(START) if at <= now]
    live = [kind for kind in due if not reminder_stale(kind, START, now)]
    assert len(live) <= 1
    if due and now < START:
        assert live == [due[-1]], "the latest one that came due"


backlog = st.lists(
    st.tuples(st.sampled_from(REMINDER_KINDS), st.integers(min_value=0, max_value=3)),
    max_size=8,
)


@given(rows=backlog, offset=minutes)
def test_collapse_keeps_at_most_the_last_row_that_applies(
    rows: list[tuple[str, int]], offset: int
) -> None:
    pending = [(i + 1, kind, START + timedelta(weeks=w)) for i, (kind, w) in enumerate(rows)]
    now = START + timedelta(minutes=offset)
    dropped = superseded_reminders(pending, now)
    kept = [row for row in pending if row[0] not in dropped]
    assert len(kept) <= 1
    assert set(dropped) <= {row[0] for row in pending}
    for _, kind, starts_at in kept:
        assert not reminder_stale(kind, starts_at, now)
    applying = [row for row in pending if not reminder_stale(row[1], row[2], now)]
    assert kept == applying[-1:], "nothing that applies is lost but the superseded"
