"""Properties of cohort formation that hold for any cohort, in weeks with the 2026 clock
changes of both hemispheres."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cohorts import Applicant, Mix, form_groups, meets_rule
from core.models import CareerStage
from tests.core.test_cohorts_formation import local_window_holds

ZONES = [
    "America/Toronto",
    "America/Santiago",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "UTC",
]
# 2026 clock changes: US 8 Mar / 1 Nov, EU 29 Mar / 25 Oct, Chile 5 Apr / 6 Sep,
# Australia and New Zealand 5 Apr / 4 Oct and 27 Sep.
CHANGES = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 4, 5, tzinfo=UTC),
    datetime(2026, 9, 6, tzinfo=UTC),
    datetime(2026, 9, 27, tzinfo=UTC),
    datetime(2026, 10, 4, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
]
STAGES = list(CareerStage)

references = st.builds(
    lambda change, days, minutes: change - timedelta(days=days, minutes=minutes),
    st.sampled_from(CHANGES),
    st.integers(0, 6),
    st.integers(0, 24 * 60 - 1),
)


@st.composite
def cohorts(draw: st.DrawFn) -> list[Applicant]:
    count = draw(st.integers(6, 22))
    people = []
    for user_id in range(1, count + 1):
        start = draw(st.integers(0, 95)) * 15
        length = draw(st.integers(6, 48)) * 15
        end = (start + length) % 1440
        people.append(
            Applicant(
                user_id=user_id,
                stage=draw(st.sampled_from(STAGES)),
                timezone=draw(st.sampled_from(ZONES)),
                hours=(time(start // 60, start % 60), time(end // 60, end % 60)),
            )
        )
    return people


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cohorts(),
    st.integers(4, 8),
    st.sampled_from([30, 60, 90, 120]),
    st.sampled_from(list(Mix)),
    references,
    st.booleans(),
)
def test_every_group_is_sized_and_meets_inside_everyones_hours(
    people: list[Applicant],
    size: int,
    duration: int,
    mix: Mix,
    reference: datetime,
    solver: bool,
) -> None:
    proposal = form_groups(
        people,
        group_size=size,
        duration_minutes=duration,
        mix=mix,
        reference=reference,
        use_solver=solver,
        time_limit=2.0,
    )
    by_id = {p.user_id: p for p in people}
    placed = [u for g in proposal.groups for u in g.members]
    assert len(placed) == len(set(placed)), "someone is in two groups"
    assert set(placed).isdisjoint(u.user_id for u in proposal.unplaced)
    assert set(placed) | {u.user_id for u in proposal.unplaced} == set(by_id)
    for group in proposal.groups:
        assert size - 1 <= len(group.members) <= size + 1
        assert group.start.minute % 15 == 0 and group.start.second == 0
        assert reference < group.start <= reference + timedelta(days=8)
        for user_id in group.members:
            assert local_window_holds(by_id[user_id], group.start, duration)
        # The schedule (weekday and time in the first member's zone) names this instant.
        zone = ZoneInfo(group.timezone)
        local = group.start.astimezone(zone)
        assert group.timezone == by_id[group.members[0]].timezone
        assert (local.weekday(), local.time()) == (group.weekday, group.local_time)
        # Compared in UTC: Python never finds a time inside a DST fold (01:30 on the night
        # clocks go back) equal to one in another zone, even when it names the same instant.
        named = datetime.combine(local.date(), group.local_time, zone)
        assert named.astimezone(UTC) == group.start


@st.composite
def mixable(draw: st.DrawFn) -> tuple[list[Applicant], int]:
    """A cohort that can be split into groups that each have a junior and a senior stage:
    everyone's hours hold a common four-hour UTC window all week, whatever their zone, and
    there are at least as many juniors and seniors as groups of `size`."""
    size = draw(st.integers(4, 8))
    groups = draw(st.integers(2, 3))
    juniors = draw(st.integers(groups, size * groups - groups))
    stages = [
        draw(st.sampled_from([CareerStage.TRAINEE, CareerStage.EARLY_CAREER]))
        for _ in range(juniors)
    ] + [
        draw(st.sampled_from([CareerStage.MID_CAREER, CareerStage.SENIOR]))
        for _ in range(size * groups - juniors)
    ]
    stages = draw(st.permutations(stages))
    people = []
    for user_id, stage in enumerate(stages, start=1):
        zone = draw(st.sampled_from(ZONES))
        # 10:00-18:00 UTC in winter; a clock change moves it by at most an hour, so the
        # window 11:00-17:00 UTC is inside it every day of the week.
        offset = ZoneInfo(zone).utcoffset(datetime(2026, 1, 15))
        assert offset is not None
        start = (datetime(2026, 1, 15, 10) + offset).time()
        end = (datetime(2026, 1, 15, 18) + offset).time()
        people.append(Applicant(user_id=user_id, stage=stage, timezone=zone, hours=(start, end)))
    return people, size


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixable(), references)
def test_mixed_groups_span_stages_whenever_a_split_allows_it(
    cohort: tuple[list[Applicant], int], reference: datetime
) -> None:
    people, size = cohort
    proposal = form_groups(
        people, group_size=size, duration_minutes=90, mix=Mix.MIXED, reference=reference
    )
    by_id = {p.user_id: p for p in people}
    assert proposal.unplaced == ()
    for group in proposal.groups:
        assert meets_rule([by_id[u].stage for u in group.members], Mix.MIXED)


@st.composite
def separable(draw: st.DrawFn) -> tuple[list[Applicant], int]:
    """A cohort whose stages can be kept apart: each stage's count is a multiple of the group
    size, and everyone has the same window (in UTC; zones without clock changes)."""
    size = draw(st.integers(4, 8))
    counts = draw(st.lists(st.integers(0, 2), min_size=4, max_size=4).filter(lambda c: sum(c) >= 2))
    stages = [
        stage for stage, count in zip(STAGES, counts, strict=True) for _ in range(count * size)
    ]
    stages = draw(st.permutations(stages))
    zones = {"UTC": 0, "Asia/Kolkata": 330, "Asia/Tokyo": 540, "America/Bogota": -300}
    people = []
    for user_id, stage in enumerate(stages, start=1):
        zone = draw(st.sampled_from(sorted(zones)))
        shift = timedelta(minutes=zones[zone])
        start = (datetime(2026, 1, 1, 12) + shift).time()
        end = (datetime(2026, 1, 1, 16) + shift).time()
        people.append(Applicant(user_id=user_id, stage=stage, timezone=zone, hours=(start, end)))
    return people, size


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(separable(), references, st.integers(0, 1000))
def test_similar_groups_have_one_stage_whenever_a_split_allows_it(
    cohort: tuple[list[Applicant], int], reference: datetime, seed: int
) -> None:
    people, size = cohort
    proposal = form_groups(
        people,
        group_size=size,
        duration_minutes=90,
        mix=Mix.SIMILAR,
        reference=reference,
        seed=seed,
    )
    by_id = {p.user_id: p for p in people}
    assert proposal.unplaced == ()
    for group in proposal.groups:
        assert len({by_id[u].stage for u in group.members}) == 1
