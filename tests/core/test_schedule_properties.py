"""Properties of the schedule that must hold for any zone, weekday, time and start date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from core.schedule import (
    MemberHours,
    Recurrence,
    calendar_ics,
    find_slots,
    next_occurrence,
    occurrences,
    reminder_times,
)

ZONES = [
    "America/Toronto",
    "America/Los_Angeles",
    "America/St_Johns",  # -3:30 with DST
    "America/Santiago",  # DST changes at midnight
    "Europe/London",
    "Europe/Paris",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Australia/Brisbane",
    "Asia/Kolkata",
    "Asia/Kathmandu",  # +5:45
    "UTC",
]

times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
anchors = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))


@st.composite
def recurrences(draw: st.DrawFn) -> Recurrence:
    anchor = draw(anchors)
    return Recurrence(
        weekday=anchor.weekday(),
        local_time=draw(times),
        every_weeks=draw(st.integers(1, 4)),
        duration_minutes=draw(st.integers(30, 240)),
        timezone=draw(st.sampled_from(ZONES)),
        anchor=anchor,
    )


def exists(naive: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall time is shown by the clock (it survives a round trip through UTC)."""
    back = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return back == naive


def check_wall_times(rec: Recurrence, after: datetime, found: list[datetime]) -> None:
    """Each meeting shows the recurrence's wall time on a series date, unless that wall time
    did not exist that day; then it is the instant the offset before the change gives."""
    zone = rec.zone
    for instant in found:
        assert instant > after
        assert instant.tzinfo is UTC
        local = instant.astimezone(zone)
        if local.time() == rec.local_time:
            assert local.fold == 0  # of an ambiguous time, the first
            day = local.date()
        else:
            candidates = [local.date(), local.date() - timedelta(days=1)]
            day = next(
                d
                for d in candidates
                if datetime.combine(d, rec.local_time, tzinfo=zone).astimezone(UTC) == instant
            )
            wall = datetime.combine(day, rec.local_time)
            assert not exists(wall, zone)
            assert timedelta(0) < local.replace(tzinfo=None) - wall <= timedelta(hours=1)
        assert day.weekday() == rec.weekday
        assert (day - rec.anchor).days % (7 * rec.every_weeks) == 0
        assert day >= rec.anchor


@settings(max_examples=150, deadline=None)
@given(rec=recurrences(), shift=st.integers(-30, 600))
def test_wall_time_is_the_meeting_time_except_in_a_gap(rec: Recurrence, shift: int) -> None:
    after = datetime.combine(rec.anchor + timedelta(days=shift), time(12), tzinfo=UTC)
    found = occurrences(rec, after, 12)
    assert len(found) == 12
    check_wall_times(rec, after, found)


DST_ZONES = [
    z for z in ZONES if z not in ("Australia/Brisbane", "Asia/Kolkata", "Asia/Kathmandu", "UTC")
]


@cache
def transitions(zone_name: str, year: int) -> tuple[tuple[datetime, timedelta], ...]:
    """(wall time just before the clocks change, how far they move) for each change in
    `year`: found day by day, then to the quarter hour."""
    zone = ZoneInfo(zone_name)
    out = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        nxt = day + timedelta(days=1)
        before, after = day.astimezone(zone).utcoffset(), nxt.astimezone(zone).utcoffset()
        if before != after and before is not None and after is not None:
            t = day
            while (t + timedelta(minutes=15)).astimezone(zone).utcoffset() == before:
                t += timedelta(minutes=15)
            change = t + timedelta(minutes=15)
            out.append((change.replace(tzinfo=None) + before, after - before))
        day = nxt
    return tuple(out)


@settings(max_examples=120, deadline=None)
@given(
    zone_name=st.sampled_from(DST_ZONES),
    year=st.integers(2025, 2031),
    which=st.integers(0, 1),
    minutes=st.integers(-75, 135),
    every=st.integers(1, 4),
)
def test_meetings_near_a_clock_change(
    zone_name: str, year: int, which: int, minutes: int, every: int
) -> None:
    changes = transitions(zone_name, year)
    assert len(changes) == 2
    wall, shift = changes[which]
    meeting = wall + timedelta(minutes=minutes)
    rec = Recurrence(
        weekday=meeting.weekday(),
        local_time=meeting.time(),
        every_weeks=every,
        timezone=zone_name,
        anchor=meeting.date(),
    )
    after = datetime.combine(meeting.date() - timedelta(days=3), time(0), tzinfo=UTC)
    found = occurrences(rec, after, 3)
    check_wall_times(rec, after, found)
    first = found[0].astimezone(rec.zone)
    in_gap = shift > timedelta(0) and timedelta(0) <= meeting - wall < shift
    assert (first.time() != rec.local_time) == in_gap
    if in_gap:
        # The offset before the change: the clock shows the meeting `shift` later.
        assert first.replace(tzinfo=None) == meeting + shift


@settings(max_examples=150, deadline=None)
@given(rec=recurrences(), shift=st.integers(-30, 600))
def test_occurrences_increase_by_the_period_within_an_hour(rec: Recurrence, shift: int) -> None:
    after = datetime.combine(rec.anchor + timedelta(days=shift), time(0), tzinfo=UTC)
    found = occurrences(rec, after, 10)
    period = timedelta(weeks=rec.every_weeks)
    for a, b in pairwise(found):
        assert a < b
        assert abs((b - a) - period) <= timedelta(hours=1)
    # Starting the search a period earlier finds the same next meeting: none is missed.
    earlier = occurrences(rec, after - period - timedelta(hours=2), 3)
    assert next(o for o in earlier if o > after) == found[0]
    assert next_occurrence(rec, after) == found[0]


@settings(max_examples=100, deadline=None)
@given(rec=recurrences(), skip=st.sets(st.integers(0, 7), max_size=5))
def test_skipping_removes_exactly_the_skipped(rec: Recurrence, skip: set[int]) -> None:
    after = datetime.combine(rec.anchor, time(0), tzinfo=UTC) - timedelta(days=2)
    plain = occurrences(rec, after, 15)
    skipped = frozenset(plain[i] for i in skip)
    with_skips = occurrences(rec, after, 15 - len(skip), skipped)
    assert with_skips == [o for o in plain if o not in skipped]
    first_kept = next(o for o in plain if o not in skipped)
    assert next_occurrence(rec, after, skipped) == first_kept


@settings(max_examples=40, deadline=None)
@given(rec=recurrences(), skip=st.sets(st.integers(0, 20), max_size=3))
def test_ics_expands_to_the_same_meetings(rec: Recurrence, skip: set[int]) -> None:
    before = datetime.combine(rec.anchor, time(0), tzinfo=UTC) - timedelta(days=2)
    expected_all = occurrences(rec, before, 40)
    skipped = frozenset(expected_all[i] for i in skip)
    cal = Calendar.from_ical(calendar_ics(rec, "G", "", "seed", skipped=skipped))
    (event,) = cal.walk("VEVENT")
    start = event["DTSTART"].dt
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start.replace(tzinfo=None))
    excluded = {d.dt.replace(tzinfo=None) for d in event["EXDATE"].dts} if skipped else set()
    expanded = []
    for naive in rule:
        if naive not in excluded:
            expanded.append(naive.replace(tzinfo=start.tzinfo).astimezone(UTC))
        if len(expanded) == 40 - len(skipped):
            break
    assert expanded == [o for o in expected_all if o not in skipped]
    end = event["DTEND"].dt
    assert end.astimezone(UTC) - start.astimezone(UTC) == rec.duration


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2024, 1, 1),
        max_value=datetime(2032, 1, 1),
        timezones=st.sampled_from([ZoneInfo(z) for z in ZONES]),
    )
)
def test_reminders_are_real_time_before_the_start(start: datetime) -> None:
    (k1, t1), (k2, t2) = reminder_times(start)
    assert (k1, k2) == ("24h", "15m")
    assert start.astimezone(UTC) - t1 == timedelta(hours=24)
    assert start.astimezone(UTC) - t2 == timedelta(minutes=15)


quarter_hours = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def members(draw: st.DrawFn) -> list[MemberHours]:
    count = draw(st.integers(2, 5))
    out = []
    for member_id in range(1, count + 1):
        zone = draw(st.none() | st.sampled_from(ZONES))
        hours = draw(
            st.none() | st.tuples(quarter_hours, quarter_hours).filter(lambda h: h[0] != h[1])
        )
        out.append(MemberHours(member_id, zone, hours))
    return out


def minute_of_day(t: time) -> int:
    return t.hour * 60 + t.minute


def fits_by_minutes(hours: tuple[time, time], local_start: datetime, wall_minutes: int) -> bool:
    """An independent check in minutes since local midnight."""
    h0, h1 = minute_of_day(hours[0]), minute_of_day(hours[1])
    s = minute_of_day(local_start.time())
    e = s + wall_minutes
    if h0 < h1:
        return h0 <= s and e <= h1
    return (s >= h0 and e <= h1 + 1440) or e <= h1


@settings(max_examples=30, deadline=None)
@given(
    group=members(),
    group_tz=st.sampled_from(ZONES),
    duration=st.sampled_from([30, 60, 90, 120, 240]),
    reference=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    limit=st.integers(1, 4),
)
def test_find_slots_invariants(
    group: list[MemberHours], group_tz: str, duration: int, reference: datetime, limit: int
) -> None:
    slots = find_slots(group, group_tz, duration, reference, limit)
    assert len(slots) <= limit
    counts = [s.fit_count for s in slots]
    assert counts == sorted(counts, reverse=True)
    week = timedelta(days=7)
    for a in slots:
        for b in slots:
            if a is not b:
                gap = abs(a.start - b.start)
                assert min(gap, week - gap) >= timedelta(hours=2)
    by_id = {m.member_id: m for m in group}
    for slot in slots:
        assert reference <= slot.start < reference + week
        assert slot.start.minute % 15 == 0
        group_local = slot.start.astimezone(ZoneInfo(group_tz))
        assert (group_local.weekday(), group_local.time()) == (slot.weekday, slot.time)
        assert [m.member_id for m in slot.members] == [m.member_id for m in group]
        assert slot.fits == tuple(m.member_id for m in slot.members if m.fits)
        for m in slot.members:
            given_member = by_id[m.member_id]
            assert m.timezone == (given_member.timezone or group_tz)
            assert m.timezone_defaulted == (given_member.timezone is None)
            assert m.hours_defaulted == (given_member.hours is None)
            zone = ZoneInfo(m.timezone)
            local_start = slot.start.astimezone(zone)
            local_end = (slot.start + timedelta(minutes=duration)).astimezone(zone)
            assert (local_start.weekday(), local_start.time()) == (m.weekday, m.time)
            wall = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
            hours = given_member.hours or (time(8), time(20))
            assert m.fits == fits_by_minutes(hours, local_start, int(wall.total_seconds() // 60))
