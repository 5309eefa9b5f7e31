"""Forming a cohort into groups, on hand-built cases whose answer is known."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.cohorts import Applicant, Mix, first_slot, form_groups, min_members
from core.cohorts.formation import feasible_counts, largest_fillable, window_minutes
from core.cohorts.model import check_group_size, clean_cohort_name, meets_rule
from core.errors import UserError
from core.models import CareerStage

T, E, M, S = (
    CareerStage.TRAINEE,
    CareerStage.EARLY_CAREER,
    CareerStage.MID_CAREER,
    CareerStage.SENIOR,
)
REFERENCE = datetime(2026, 1, 12, 9, tzinfo=UTC)  # a Monday, far from any clock change


def person(
    user_id: int, stage: CareerStage, zone: str = "UTC", hours: str = "09:00-17:00"
) -> Applicant:
    start, end = hours.split("-")
    return Applicant(
        user_id=user_id,
        stage=stage,
        timezone=zone,
        hours=(time.fromisoformat(start), time.fromisoformat(end)),
    )


def local_window_holds(applicant: Applicant, start: datetime, minutes: int) -> bool:
    """Checked independently of the code under test: the meeting's local wall times on its
    date lie inside the person's hours (which may wrap past midnight)."""
    zone = ZoneInfo(applicant.timezone)
    begin = start.astimezone(zone).replace(tzinfo=None)
    end = (start + timedelta(minutes=minutes)).astimezone(zone).replace(tzinfo=None)
    h_start, h_end = applicant.hours
    for day in (begin.date() - timedelta(days=1), begin.date()):
        lo = datetime.combine(day, h_start)
        hi = datetime.combine(day if h_end > h_start else day + timedelta(days=1), h_end)
        if lo <= begin and end <= hi:
            return True
    return False


def test_bounds_and_names() -> None:
    assert check_group_size(4) == 4 and check_group_size(8) == 8
    for bad in (3, 9):
        with pytest.raises(UserError, match="between 4 and 8"):
            check_group_size(bad)
    assert min_members(6) == 10 and min_members(4) == 6
    assert clean_cohort_name("  Spring   2026 ") == "Spring 2026"
    with pytest.raises(UserError, match="at most 46"):
        clean_cohort_name("x" * 47)
    with pytest.raises(UserError, match="@everyone"):
        clean_cohort_name("hi @everyone")


def test_group_counts_fill_exactly() -> None:
    assert feasible_counts(6, 12) == [2]
    assert feasible_counts(6, 5) == [1]
    assert feasible_counts(8, 10) == []
    assert largest_fillable(8, 12) == 9
    assert largest_fillable(4, 2) == 0
    assert window_minutes((time(22), time(2))) == 240
    assert window_minutes((time(9), time(9))) == 1440


def test_first_slot_is_a_day_ahead_on_the_quarter_hour() -> None:
    assert first_slot(datetime(2026, 1, 1, 10, 7, tzinfo=UTC)) == datetime(
        2026, 1, 2, 10, 15, tzinfo=UTC
    )


def test_twelve_people_in_one_window_make_two_mixed_groups() -> None:
    people = [person(i, [T, E, M, S][i % 4]) for i in range(1, 13)]
    proposal = form_groups(
        people, group_size=6, duration_minutes=90, mix=Mix.MIXED, reference=REFERENCE
    )
    assert proposal.solver == "highs"
    assert proposal.unplaced == ()
    assert sorted(len(g.members) for g in proposal.groups) == [6, 6]
    for group in proposal.groups:
        assert meets_rule([people[u - 1].stage for u in group.members], Mix.MIXED)
        assert all(local_window_holds(people[u - 1], group.start, 90) for u in group.members)
        # The slot sits mid-window: neither at the first nor at the last possible start.
        local = group.start.astimezone(UTC).time()
        assert time(9) < local < time(15, 30)


def test_similar_keeps_each_groups_stages_together() -> None:
    people = [person(i, T if i <= 6 else S) for i in range(1, 13)]
    proposal = form_groups(
        people, group_size=6, duration_minutes=60, mix=Mix.SIMILAR, reference=REFERENCE, seed=3
    )
    stages = [{people[u - 1].stage for u in g.members} for g in proposal.groups]
    assert sorted(map(sorted, stages)) == [[S], [T]]
    assert proposal.quality.spread == 0


def test_who_cannot_be_placed_is_listed_with_the_reason() -> None:
    people = [person(i, [T, S][i % 2]) for i in range(1, 7)]
    people.append(person(7, M, "Asia/Tokyo", "09:00-17:00"))  # 00:00-08:00 UTC: nobody else
    people.append(person(8, E, "UTC", "09:00-10:00"))  # one hour, a 90-minute meeting
    proposal = form_groups(
        people, group_size=4, duration_minutes=90, mix=Mix.MIXED, reference=REFERENCE
    )
    reasons = {u.user_id: u.reason for u in proposal.unplaced}
    assert reasons[7] == "no 90-minute window shared with enough people (a group needs at least 3)"
    assert reasons[8] == "their hours are shorter than a 90-minute meeting"
    assert sorted(u for g in proposal.groups for u in g.members) == [1, 2, 3, 4, 5, 6]


def test_the_greedy_fallback_also_gives_valid_groups() -> None:
    people = [
        person(i, [T, E, M, S][i % 4], ["Europe/London", "America/Toronto"][i % 2], "08:00-18:00")
        for i in range(1, 15)
    ]
    proposal = form_groups(
        people,
        group_size=5,
        duration_minutes=90,
        mix=Mix.MIXED,
        reference=REFERENCE,
        use_solver=False,
    )
    assert proposal.solver == "greedy"
    assert proposal.quality.placed == 14
    for group in proposal.groups:
        assert 4 <= len(group.members) <= 6
        assert all(local_window_holds(people[u - 1], group.start, 90) for u in group.members)


def test_daylight_saving_is_taken_on_the_meeting_date() -> None:
    """Toronto 09:00-11:00 and London 14:00-16:00 overlap by two hours while Toronto is on
    standard time, and by one hour from 8 March 2026, when Toronto moves to daylight time
    (London follows on 29 March). A fixed offset would get one of the two weeks wrong."""
    people = [person(i, [T, S][i % 2], "America/Toronto", "09:00-11:00") for i in range(1, 4)]
    people += [person(i, [T, S][i % 2], "Europe/London", "14:00-16:00") for i in range(4, 7)]
    before = form_groups(
        people,
        group_size=6,
        duration_minutes=90,
        mix=Mix.MIXED,
        reference=datetime(2026, 3, 2, tzinfo=UTC),  # slots 3-9 March
    )
    assert len(before.groups) == 1
    start = before.groups[0].start
    assert start.date() < date(2026, 3, 8)
    assert all(local_window_holds(p, start, 90) for p in people)
    after = form_groups(
        people,
        group_size=6,
        duration_minutes=90,
        mix=Mix.MIXED,
        reference=datetime(2026, 3, 9, tzinfo=UTC),  # 10-16 March: only one hour overlaps
    )
    assert after.groups == ()
    assert len(after.unplaced) == 6


def test_the_schedule_names_the_slot_in_the_first_members_zone() -> None:
    people = [person(i, [T, S][i % 2], "Australia/Sydney", "18:00-22:00") for i in range(1, 5)]
    people += [person(i, [E, M][i % 2], "Europe/Paris", "08:00-12:00") for i in range(5, 9)]
    proposal = form_groups(
        people, group_size=8, duration_minutes=60, mix=Mix.MIXED, reference=REFERENCE
    )
    (group,) = proposal.groups
    zone = ZoneInfo(group.timezone)
    local = group.start.astimezone(zone)
    assert (local.weekday(), local.time()) == (group.weekday, group.local_time)
    assert datetime.combine(local.date(), group.local_time, zone) == group.start
    assert group.timezone == people[group.members[0] - 1].timezone


def test_another_seed_gives_another_split_of_the_same_rank() -> None:
    people = [person(i, [T, E, M, S][i % 4]) for i in range(1, 17)]
    first = form_groups(
        people, group_size=4, duration_minutes=90, mix=Mix.MIXED, reference=REFERENCE, seed=0
    )
    second = form_groups(
        people, group_size=4, duration_minutes=90, mix=Mix.MIXED, reference=REFERENCE, seed=1
    )
    assert first.rank() == second.rank() == (16, 4, 0)
    assert {frozenset(g.members) for g in first.groups} != {
        frozenset(g.members) for g in second.groups
    }
    again = form_groups(
        people, group_size=4, duration_minutes=90, mix=Mix.MIXED, reference=REFERENCE, seed=0
    )
    assert again == first
