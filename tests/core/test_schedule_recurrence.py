"""Recurring meetings: DST in four zones, spacing, anchors, skipping, validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from core.errors import UserError
from core.schedule import (
    Recurrence,
    format_recurrence,
    is_occurrence,
    make_recurrence,
    next_occurrence,
    occurrences,
    series_after,
    skips_to_keep,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rec(
    weekday: int,
    at: str,
    zone: str,
    anchor: date,
    every_weeks: int = 1,
    duration: int = 90,
) -> Recurrence:
    return Recurrence(
        weekday=weekday,
        local_time=time.fromisoformat(at),
        every_weeks=every_weeks,
        duration_minutes=duration,
        timezone=zone,
        anchor=anchor,
    )


# (zone, weekday, local time, anchor, {local date of the meeting: its UTC start}), each pair
# straddling one change of the clocks; expected instants computed by hand from the offsets.
DST_CASES = [
    (
        "America/Toronto",  # EST -5 / EDT -4; 09:00 = 14:00Z in winter, 13:00Z in summer
        0,
        "09:00",
        date(2026, 1, 5),
        {
            date(2026, 3, 2): utc(2026, 3, 2, 14),
            date(2026, 3, 9): utc(2026, 3, 9, 13),  # DST began Sunday 2026-03-08
            date(2026, 10, 26): utc(2026, 10, 26, 13),
            date(2026, 11, 2): utc(2026, 11, 2, 14),  # DST ended Sunday 2026-11-01
            date(2027, 3, 8): utc(2027, 3, 8, 14),
            date(2027, 3, 15): utc(2027, 3, 15, 13),  # 2027-03-14
            date(2027, 11, 1): utc(2027, 11, 1, 13),
            date(2027, 11, 8): utc(2027, 11, 8, 14),  # 2027-11-07
        },
    ),
    (
        "Europe/London",  # GMT +0 / BST +1; 18:00 = 18:00Z in winter, 17:00Z in summer
        0,
        "18:00",
        date(2026, 1, 5),
        {
            date(2026, 3, 23): utc(2026, 3, 23, 18),
            date(2026, 3, 30): utc(2026, 3, 30, 17),  # BST began 2026-03-29
            date(2026, 10, 19): utc(2026, 10, 19, 17),
            date(2026, 10, 26): utc(2026, 10, 26, 18),  # BST ended 2026-10-25
            date(2027, 3, 22): utc(2027, 3, 22, 18),
            date(2027, 3, 29): utc(2027, 3, 29, 17),  # 2027-03-28
            date(2027, 10, 25): utc(2027, 10, 25, 17),
            date(2027, 11, 1): utc(2027, 11, 1, 18),  # 2027-10-31
        },
    ),
    (
        "Australia/Sydney",  # AEST +10 / AEDT +11; 19:00 = 09:00Z in winter, 08:00Z in summer
        2,
        "19:00",
        date(2026, 1, 7),
        {
            date(2026, 4, 1): utc(2026, 4, 1, 8),
            date(2026, 4, 8): utc(2026, 4, 8, 9),  # DST ended 2026-04-05
            date(2026, 9, 30): utc(2026, 9, 30, 9),
            date(2026, 10, 7): utc(2026, 10, 7, 8),  # DST began 2026-10-04
            date(2027, 3, 31): utc(2027, 3, 31, 8),
            date(2027, 4, 7): utc(2027, 4, 7, 9),  # 2027-04-04
            date(2027, 9, 29): utc(2027, 9, 29, 9),
            date(2027, 10, 6): utc(2027, 10, 6, 8),  # 2027-10-03
        },
    ),
    (
        "Asia/Kolkata",  # IST +5:30 all year; 19:30 = 14:00Z
        1,
        "19:30",
        date(2026, 1, 6),
        {
            date(2026, 3, 3): utc(2026, 3, 3, 14),
            date(2026, 3, 10): utc(2026, 3, 10, 14),
            date(2026, 10, 27): utc(2026, 10, 27, 14),
            date(2026, 11, 3): utc(2026, 11, 3, 14),
            date(2027, 3, 9): utc(2027, 3, 9, 14),
            date(2027, 3, 16): utc(2027, 3, 16, 14),
            date(2027, 11, 2): utc(2027, 11, 2, 14),
            date(2027, 11, 9): utc(2027, 11, 9, 14),
        },
    ),
]


@pytest.mark.parametrize(("zone", "weekday", "at", "anchor", "expected"), DST_CASES)
def test_wall_time_is_kept_and_utc_moves_across_dst(
    zone: str, weekday: int, at: str, anchor: date, expected: dict[date, datetime]
) -> None:
    r = rec(weekday, at, zone, anchor)
    found = occurrences(r, utc(2026, 1, 1), 110)  # into 2028
    assert found[0].astimezone(ZoneInfo(zone)).date() == anchor
    by_local_date = {o.astimezone(ZoneInfo(zone)).date(): o for o in found}
    for day, instant in expected.items():
        assert by_local_date[day] == instant
        assert by_local_date[day].tzinfo is UTC
    local = [o.astimezone(ZoneInfo(zone)) for o in found]
    assert {(d.weekday(), d.time()) for d in local} == {(weekday, time.fromisoformat(at))}
    gaps = {b - a for a, b in pairwise(found)}
    week, hour = timedelta(weeks=1), timedelta(hours=1)
    assert gaps == ({week} if zone == "Asia/Kolkata" else {week - hour, week, week + hour})


def test_utc_spacing_is_a_week_plus_or_minus_the_shift() -> None:
    r = rec(0, "09:00", "America/Toronto", date(2026, 3, 2))
    a, b, c = occurrences(r, utc(2026, 3, 1), 3)
    assert b - a == timedelta(weeks=1) - timedelta(hours=1)
    assert c - b == timedelta(weeks=1)


def test_meeting_in_the_spring_forward_gap_uses_the_offset_before_the_change() -> None:
    # 02:30 on Sunday 2026-03-08 does not exist in Toronto (02:00 EST -> 03:00 EDT).
    r = rec(6, "02:30", "America/Toronto", date(2026, 3, 1))
    before, gap, after = occurrences(r, utc(2026, 2, 28), 3)
    assert before == utc(2026, 3, 1, 7, 30)  # 02:30 EST
    assert gap == utc(2026, 3, 8, 7, 30)  # read as EST: the clock shows 03:30 EDT
    assert gap.astimezone(ZoneInfo("America/Toronto")).time() == time(3, 30)
    assert after == utc(2026, 3, 15, 6, 30)  # 02:30 EDT


def test_meeting_in_the_fall_back_hour_uses_the_first_instant() -> None:
    # 01:30 on Sunday 2026-11-01 happens twice in Toronto: 05:30Z (EDT) and 06:30Z (EST).
    r = rec(6, "01:30", "America/Toronto", date(2026, 10, 25))
    assert occurrences(r, utc(2026, 10, 1), 3) == [
        utc(2026, 10, 25, 5, 30),
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 8, 6, 30),
    ]


def test_london_gap_and_overlap() -> None:
    spring = rec(6, "01:30", "Europe/London", date(2026, 3, 22))
    assert occurrences(spring, utc(2026, 3, 1), 3) == [
        utc(2026, 3, 22, 1, 30),
        utc(2026, 3, 29, 1, 30),  # 01:30 GMT does not exist; it is 02:30 BST
        utc(2026, 4, 5, 0, 30),
    ]
    autumn = rec(6, "01:30", "Europe/London", date(2026, 10, 18))
    assert occurrences(autumn, utc(2026, 10, 1), 3) == [
        utc(2026, 10, 18, 0, 30),
        utc(2026, 10, 25, 0, 30),  # the first 01:30, still BST
        utc(2026, 11, 1, 1, 30),
    ]


def test_every_two_weeks() -> None:
    r = rec(1, "09:00", "America/Toronto", date(2026, 1, 6), every_weeks=2)
    found = occurrences(r, utc(2026, 1, 7), 6)
    local_dates = [o.astimezone(ZoneInfo("America/Toronto")).date() for o in found]
    assert local_dates == [
        date(2026, 1, 20),
        date(2026, 2, 3),
        date(2026, 2, 17),
        date(2026, 3, 3),
        date(2026, 3, 17),
        date(2026, 3, 31),
    ]
    assert found[3] == utc(2026, 3, 3, 14)
    assert found[4] == utc(2026, 3, 17, 13)
    assert found[4] - found[3] == timedelta(weeks=2) - timedelta(hours=1)


def test_series_far_from_its_anchor_stays_aligned() -> None:
    r = rec(1, "09:00", "Europe/Paris", date(2026, 1, 6), every_weeks=3)
    after = utc(2031, 6, 1)
    found = occurrences(r, after, 4)
    paris = [o.astimezone(ZoneInfo("Europe/Paris")) for o in found]
    assert all((d.date() - date(2026, 1, 6)).days % 21 == 0 for d in paris)
    assert all(d.time() == time(9) for d in paris)
    assert found[0] > after
    assert found[0] - timedelta(weeks=3) <= after + timedelta(hours=1)


def test_occurrences_are_strictly_after() -> None:
    r = rec(0, "09:00", "America/Toronto", date(2026, 1, 5))
    first = utc(2026, 1, 5, 14)
    assert occurrences(r, first - timedelta(seconds=1), 1) == [first]
    assert occurrences(r, first, 1) == [utc(2026, 1, 12, 14)]
    # Before the anchor, the series starts at the anchor, not earlier.
    assert occurrences(r, utc(2020, 1, 1), 1) == [first]
    assert occurrences(r, first, 0) == []
    with pytest.raises(ValueError):
        occurrences(r, first, -1)
    with pytest.raises(ValueError):
        occurrences(r, datetime(2026, 1, 1), 1)


def test_series_after_reports_the_generated_wall_time() -> None:
    r = rec(6, "02:30", "America/Toronto", date(2026, 3, 8))
    (naive, instant) = next(series_after(r, utc(2026, 3, 1)))
    assert naive == datetime(2026, 3, 8, 2, 30)
    assert instant == utc(2026, 3, 8, 7, 30)


# --- anchor choice ------------------------------------------------------------------------


def test_anchor_is_today_when_the_meeting_is_still_ahead() -> None:
    now = datetime(2026, 3, 3, 8, 0, tzinfo=ZoneInfo("America/Toronto"))  # Tuesday 08:00
    r = make_recurrence("Tuesday", "09:00", 1, 90, "America/Toronto", now)
    assert r.anchor == date(2026, 3, 3)
    assert next_occurrence(r, now) == utc(2026, 3, 3, 14)


@pytest.mark.parametrize("hour", [9, 10])
def test_anchor_is_next_week_once_the_meeting_time_has_come(hour: int) -> None:
    now = datetime(2026, 3, 3, hour, 0, tzinfo=ZoneInfo("America/Toronto"))
    r = make_recurrence("tue", "09:00", 1, 90, "America/Toronto", now)
    assert r.anchor == date(2026, 3, 10)


def test_anchor_uses_the_meetings_zone_not_utc() -> None:
    now = utc(2026, 3, 3, 3)  # Tuesday in UTC, still Monday 22:00 in Toronto
    monday = make_recurrence("Monday", "23:00", 1, 90, "America/Toronto", now)
    assert monday.anchor == date(2026, 3, 2)
    assert next_occurrence(monday, now) == utc(2026, 3, 3, 4)
    tuesday = make_recurrence("Tuesday", "09:00", 1, 90, "America/Toronto", now)
    assert tuesday.anchor == date(2026, 3, 3)


def test_anchor_later_in_the_week_and_integer_weekday() -> None:
    now = utc(2026, 3, 4, 12)  # Wednesday
    r = make_recurrence(1, "09:00", 2, 60, "Asia/Kolkata", now)
    assert r.anchor == date(2026, 3, 10)
    assert (r.weekday, r.local_time, r.every_weeks, r.duration_minutes) == (1, time(9), 2, 60)
    assert r.timezone == "Asia/Kolkata"


def test_make_recurrence_requires_an_aware_now() -> None:
    with pytest.raises(ValueError):
        make_recurrence("Monday", "09:00", 1, 90, "UTC", datetime(2026, 1, 1))


# --- skipping ---------------------------------------------------------------------------


def test_next_occurrence_passes_over_skipped() -> None:
    r = rec(0, "09:00", "America/Toronto", date(2026, 3, 2))
    now = utc(2026, 3, 1)
    first = next_occurrence(r, now)
    assert first == utc(2026, 3, 2, 14)
    assert next_occurrence(r, now, frozenset({first})) == utc(2026, 3, 9, 13)
    # A skipped instant given in another zone is the same instant.
    skipped_local = first.astimezone(ZoneInfo("America/Toronto"))
    assert next_occurrence(r, now, {skipped_local}) == utc(2026, 3, 9, 13)
    two = {utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)}
    assert next_occurrence(r, now, two) == utc(2026, 3, 16, 13)
    assert occurrences(r, now, 3, two) == [
        utc(2026, 3, 16, 13),
        utc(2026, 3, 23, 13),
        utc(2026, 3, 30, 13),
    ]
    # A skipped instant that is not a meeting changes nothing.
    assert next_occurrence(r, now, {utc(2026, 3, 2, 15)}) == first


def test_skips_to_keep_are_the_meetings_of_the_series_past_or_not() -> None:
    r = rec(0, "09:00", "America/Toronto", date(2026, 3, 2))
    past = utc(2026, 3, 2, 14)
    future = datetime(2026, 3, 9, 9, tzinfo=ZoneInfo("America/Toronto"))
    not_a_meeting = utc(2026, 3, 3, 14)
    before_the_series = utc(2026, 2, 23, 14)
    kept = skips_to_keep(r, {past, future, not_a_meeting, before_the_series})
    # However long ago a skipped meeting was, the calendar file still needs its EXDATE.
    assert kept == frozenset({past, utc(2026, 3, 9, 13)})
    # Another series (the schedule was changed to Tuesdays) needs none of them.
    tuesdays = rec(1, "09:00", "America/Toronto", date(2026, 3, 3))
    assert skips_to_keep(tuesdays, {past, future}) == frozenset()


def test_is_occurrence() -> None:
    r = rec(0, "09:00", "America/Toronto", date(2026, 3, 2))
    assert is_occurrence(r, utc(2026, 3, 9, 13))
    assert not is_occurrence(r, utc(2026, 3, 9, 14))
    assert not is_occurrence(r, utc(2026, 2, 23, 14))  # before the first meeting


# --- validation ---------------------------------------------------------------------------

NOW = utc(2026, 3, 1)


@pytest.mark.parametrize(
    ("weekday", "hhmm", "every", "duration", "zone", "fragment"),
    [
        ("Tuesday", "25:00", 1, 90, "UTC", "HH:MM"),
        ("Tuesday", "9am", 1, 90, "UTC", "HH:MM"),
        ("Tuesday", "9:00", 1, 90, "UTC", "HH:MM"),
        ("Funday", "09:00", 1, 90, "UTC", "not a weekday"),
        ("t", "09:00", 1, 90, "UTC", "not a weekday"),
        (7, "09:00", 1, 90, "UTC", "weekday"),
        ("Tuesday", "09:00", 1, 90, "Mars/Olympus_Mons", "time zone"),
        ("Tuesday", "09:00", 1, 20, "UTC", "30 and 240 minutes"),
        ("Tuesday", "09:00", 1, 300, "UTC", "30 and 240 minutes"),
        ("Tuesday", "09:00", 0, 90, "UTC", "every 1 to 4 weeks"),
        ("Tuesday", "09:00", 5, 90, "UTC", "every 1 to 4 weeks"),
    ],
)
def test_make_recurrence_refuses(
    weekday: str | int, hhmm: str, every: int, duration: int, zone: str, fragment: str
) -> None:
    with pytest.raises(UserError) as caught:
        make_recurrence(weekday, hhmm, every, duration, zone, NOW)
    assert fragment in caught.value.message
    assert caught.value.message.endswith(".")


def test_bounds_are_accepted() -> None:
    low = make_recurrence("Sunday", "00:00", 1, 30, "UTC", NOW)
    high = make_recurrence("Saturday", "23:59", 4, 240, "UTC", NOW)
    assert (low.every_weeks, low.duration_minutes) == (1, 30)
    assert (high.every_weeks, high.duration_minutes) == (4, 240)


def test_recurrence_model_validates_directly() -> None:
    with pytest.raises(UserError, match="not a Tuesday"):
        rec(1, "09:00", "UTC", date(2026, 3, 2))  # a Monday
    with pytest.raises(UserError, match="to the minute"):
        Recurrence(
            weekday=0,
            local_time=time(9, 0, 30),
            timezone="UTC",
            anchor=date(2026, 3, 2),
        )
    with pytest.raises(UserError, match="time zone"):
        rec(0, "09:00", "Nowhere/Special", date(2026, 3, 2))


def test_recurrence_round_trips_through_json() -> None:
    r = rec(1, "09:00", "America/Toronto", date(2026, 3, 3), every_weeks=2, duration=60)
    again = Recurrence.model_validate_json(r.model_dump_json())
    assert again == r
    assert r.duration == timedelta(minutes=60)


def test_format_recurrence() -> None:
    r = rec(1, "09:00", "America/Toronto", date(2026, 3, 3), every_weeks=2)
    assert format_recurrence(r) == "Every 2 weeks on Tuesday at 09:00 (America/Toronto), 90 min"
    weekly = rec(4, "17:30", "Asia/Kolkata", date(2026, 3, 6), duration=45)
    assert format_recurrence(weekly) == "Every week on Friday at 17:30 (Asia/Kolkata), 45 min"
