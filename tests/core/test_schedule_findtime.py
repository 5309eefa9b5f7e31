"""Finding a weekly slot for a group spread over Los Angeles, Paris and Brisbane.

In January: Los Angeles is UTC-8, Paris UTC+1, Brisbane UTC+10 (no DST). With the default
hours 08:00-20:00 each member is available, in UTC:
  Los Angeles 16:00-04:00, Paris 07:00-19:00, Brisbane 22:00-10:00 (previous day).
Pairwise overlaps: LA+Paris 16:00-19:00, LA+Brisbane 22:00-04:00, Paris+Brisbane 07:00-10:00,
and no hour is shared by all three, so the best slots fit two members.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from core.errors import UserError
from core.schedule import MemberHours, Slot, find_slots, fits_hours

LA, PARIS, BRISBANE = 1, 2, 3
# Monday 2026-01-12 00:00 in Paris.
REFERENCE = datetime(2026, 1, 11, 23, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def spread(hours: dict[int, tuple[time, time]] | None = None) -> list[MemberHours]:
    hours = hours or {}
    return [
        MemberHours(LA, "America/Los_Angeles", hours.get(LA)),
        MemberHours(PARIS, "Europe/Paris", hours.get(PARIS)),
        MemberHours(BRISBANE, "Australia/Brisbane", hours.get(BRISBANE)),
    ]


def local(slot: Slot) -> dict[int, str]:
    return {m.member_id: m.label for m in slot.members}


def test_default_hours_fit_at_most_two_and_offer_each_pair() -> None:
    slots = find_slots(spread(), "Europe/Paris", 90, REFERENCE)
    assert [s.fit_count for s in slots] == [2, 2, 2]
    first, second, third = slots
    # LA + Brisbane: Paris Monday 00:00 = Sunday 23:00Z, the earliest slot of the week.
    assert (first.weekday, first.time, first.start) == (0, time(0), utc(2026, 1, 11, 23))
    assert first.fits == (LA, BRISBANE)
    assert local(first) == {LA: "Sun 15:00", PARIS: "Mon 00:00", BRISBANE: "Mon 09:00"}
    # Paris + Brisbane (07:00Z, a member set not offered yet; Monday is taken, so Tuesday).
    assert (second.weekday, second.time, second.start) == (1, time(8), utc(2026, 1, 13, 7))
    assert second.fits == (PARIS, BRISBANE)
    assert local(second) == {LA: "Mon 23:00", PARIS: "Tue 08:00", BRISBANE: "Tue 17:00"}
    # LA + Paris: 16:00Z, on Wednesday.
    assert (third.weekday, third.time, third.start) == (2, time(17), utc(2026, 1, 14, 16))
    assert third.fits == (LA, PARIS)
    assert local(third) == {LA: "Wed 08:00", PARIS: "Wed 17:00", BRISBANE: "Thu 02:00"}
    for slot in slots:
        assert slot.timezone == "Europe/Paris"
        assert slot.start.tzinfo is UTC
        assert [m.fits for m in slot.members] == [m.member_id in slot.fits for m in slot.members]


def test_wider_hours_fit_everyone_at_one_time() -> None:
    # LA 06:00-22:00 = 14:00-06:00Z, Paris 07:00-23:00 = 06:00-22:00Z,
    # Brisbane 06:00-22:00 = 20:00-12:00Z: all three share 20:00-22:00Z, so a 90-minute
    # meeting can start at 20:00, 20:15 or 20:30Z (21:00-21:30 in Paris).
    wide = {LA: (time(6), time(22)), PARIS: (time(7), time(23)), BRISBANE: (time(6), time(22))}
    slots = find_slots(spread(wide), "Europe/Paris", 90, REFERENCE)
    best = slots[0]
    assert best.fits == (LA, PARIS, BRISBANE)
    assert (best.weekday, best.time, best.start) == (0, time(21), utc(2026, 1, 12, 20))
    assert local(best) == {LA: "Mon 12:00", PARIS: "Mon 21:00", BRISBANE: "Tue 06:00"}
    # The same window on other days; 20:15 and 20:30 on Monday are near-duplicates.
    assert [(s.weekday, s.time, s.fit_count) for s in slots] == [
        (0, time(21), 3),
        (1, time(21), 3),
        (2, time(21), 3),
    ]
    assert best.defaulted == ()


def test_a_longer_meeting_no_longer_fits_everyone() -> None:
    wide = {LA: (time(6), time(22)), PARIS: (time(7), time(23)), BRISBANE: (time(6), time(22))}
    slots = find_slots(spread(wide), "Europe/Paris", 150, REFERENCE)  # the window is 2 h
    assert max(s.fit_count for s in slots) == 2


def test_defaulted_members_are_reported() -> None:
    members = [
        MemberHours(LA, "America/Los_Angeles", (time(6), time(22))),
        MemberHours(PARIS, None, (time(7), time(23))),  # no zone: the group's
        MemberHours(BRISBANE, "Australia/Brisbane", None),  # no hours: 08:00-20:00
        MemberHours(4, "Atlantis/Lost_City", (time(9), time(17))),  # unknown zone
    ]
    slots = find_slots(members, "Europe/Paris", 60, REFERENCE)
    assert slots
    flags = {
        m.member_id: (m.timezone, m.timezone_defaulted, m.hours_defaulted) for m in slots[0].members
    }
    assert flags == {
        LA: ("America/Los_Angeles", False, False),
        PARIS: ("Europe/Paris", True, False),
        BRISBANE: ("Australia/Brisbane", False, True),
        4: ("Europe/Paris", True, False),
    }
    assert slots[0].defaulted == (PARIS, BRISBANE, 4)


def test_member_without_zone_follows_the_group_zone() -> None:
    members = [MemberHours(1, None, (time(9), time(11))), MemberHours(2, "Asia/Tokyo")]
    # 09:00-11:00 in Kolkata = 03:30-05:30Z; Tokyo 08:00-20:00 = 23:00-11:00Z.
    (slot,) = find_slots(members, "Asia/Kolkata", 120, REFERENCE, limit=1)
    assert slot.fits == (1, 2)
    assert (slot.weekday, slot.time, slot.start) == (0, time(9), utc(2026, 1, 12, 3, 30))
    assert local(slot) == {1: "Mon 09:00", 2: "Mon 12:30"}


def test_hours_that_wrap_midnight() -> None:
    # A night owl in Paris 22:00-02:00 and a member in Toronto (UTC-5) 16:00-20:00.
    # Overlap in UTC: Paris 21:00-01:00Z, Toronto 21:00-01:00Z: exactly one 4 h window.
    members = [
        MemberHours(1, "Europe/Paris", (time(22), time(2))),
        MemberHours(2, "America/Toronto", (time(16), time(20))),
    ]
    slots = find_slots(members, "Europe/Paris", 240, REFERENCE)
    assert slots[0].fits == (1, 2)
    assert (slots[0].weekday, slots[0].time) == (0, time(22))
    assert all(s.time == time(22) for s in slots if s.fit_count == 2)
    # 30 minutes later the meeting would run past 02:00 in Paris.
    assert not fits_hours(
        (time(22), time(2)), datetime(2026, 1, 12, 22, 30), datetime(2026, 1, 13, 2, 30)
    )


def test_fits_hours() -> None:
    day = (time(8), time(20))
    assert fits_hours(day, datetime(2026, 1, 5, 8), datetime(2026, 1, 5, 20))
    assert not fits_hours(day, datetime(2026, 1, 5, 7, 45), datetime(2026, 1, 5, 9))
    assert not fits_hours(day, datetime(2026, 1, 5, 19), datetime(2026, 1, 5, 20, 15))
    night = (time(22), time(2))
    assert fits_hours(night, datetime(2026, 1, 5, 23), datetime(2026, 1, 6, 1))
    assert fits_hours(night, datetime(2026, 1, 6, 0, 30), datetime(2026, 1, 6, 2))
    assert not fits_hours(night, datetime(2026, 1, 6, 1), datetime(2026, 1, 6, 3))
    assert not fits_hours(night, datetime(2026, 1, 6, 12), datetime(2026, 1, 6, 13))


def test_the_week_examined_uses_that_weeks_offsets() -> None:
    # Week of Monday 2026-03-09: Los Angeles is already on PDT (UTC-7) since 03-08, Paris is
    # still on CET (UTC+1) until 03-29. LA 08:00-20:00 = 15:00-03:00Z, so the LA+Paris
    # window is 15:00-19:00Z and starts at 16:00 in Paris instead of January's 17:00.
    members = spread()[:2]
    march = find_slots(members, "Europe/Paris", 90, datetime(2026, 3, 8, 23, tzinfo=UTC))
    january = find_slots(members, "Europe/Paris", 90, REFERENCE)
    assert (march[0].weekday, march[0].time, march[0].start) == (0, time(16), utc(2026, 3, 9, 15))
    assert local(march[0]) == {LA: "Mon 08:00", PARIS: "Mon 16:00"}
    assert (january[0].weekday, january[0].time) == (0, time(17))


def test_slots_are_at_least_two_hours_apart() -> None:
    # Same zone and hours: every start from 09:00 to 16:00 fits both, every day. The picks
    # are spread over different days rather than 09:00, 09:15, 09:30 on Monday.
    members = [
        MemberHours(1, "UTC", (time(9), time(17))),
        MemberHours(2, "UTC", (time(9), time(17))),
    ]
    slots = find_slots(members, "UTC", 60, utc(2026, 1, 12))
    assert [(s.weekday, s.time) for s in slots] == [(0, time(9)), (1, time(9)), (2, time(9))]
    assert len({s.start for s in slots}) == 3


def test_more_picks_than_days_fall_back_to_later_times_the_same_day() -> None:
    # Starts 09:00-14:00 fit both, every day: seven picks at 09:00 on new days, then the
    # earliest starts at least 2 h from every pick: Monday 11:00, Monday 13:00, Tuesday 11:00.
    members = [
        MemberHours(1, "UTC", (time(9), time(15))),
        MemberHours(2, "UTC", (time(9), time(15))),
    ]
    slots = find_slots(members, "UTC", 60, utc(2026, 1, 12), limit=10)
    assert [(s.weekday, s.time.hour) for s in slots] == [
        (0, 9),
        (0, 11),
        (0, 13),
        (1, 9),
        (1, 11),
        (2, 9),
        (3, 9),
        (4, 9),
        (5, 9),
        (6, 9),
    ]
    starts = [s.start for s in slots]
    assert all(abs(a - b) >= timedelta(hours=2) for a in starts for b in starts if a != b)


def test_reference_in_mid_week_gives_upcoming_instants() -> None:
    wednesday_noon = utc(2026, 1, 14, 12, 7)
    slots = find_slots(spread(), "Europe/Paris", 90, wednesday_noon)
    for slot in slots:
        assert wednesday_noon <= slot.start < wednesday_noon + timedelta(days=7)
        assert slot.start.minute % 15 == 0
    # Ranking is by the group's week, wherever the reference falls.
    assert (slots[0].weekday, slots[0].time, slots[0].start) == (0, time(0), utc(2026, 1, 18, 23))


def test_nobody_fits_gives_no_slots() -> None:
    members = [
        MemberHours(1, "UTC", (time(9), time(9, 30))),
        MemberHours(2, "UTC", (time(10), time(10, 30))),
    ]
    assert find_slots(members, "UTC", 60, REFERENCE) == []


@pytest.mark.parametrize(
    "members",
    [
        [],
        [MemberHours(1, "UTC")],
        [MemberHours(1, "UTC"), MemberHours(1, "Europe/Paris")],  # the same member twice
    ],
)
def test_fewer_than_two_members_is_refused(members: list[MemberHours]) -> None:
    with pytest.raises(UserError, match="at least two members"):
        find_slots(members, "UTC", 90, REFERENCE)


def test_bad_duration_and_zone_are_refused() -> None:
    with pytest.raises(UserError, match="30 and 240"):
        find_slots(spread(), "UTC", 20, REFERENCE)
    with pytest.raises(UserError, match="time zone"):
        find_slots(spread(), "Paris", 90, REFERENCE)
    with pytest.raises(ValueError):
        find_slots(spread(), "UTC", 90, datetime(2026, 1, 12))
    with pytest.raises(ValueError):
        find_slots(spread(), "UTC", 90, REFERENCE, limit=0)
