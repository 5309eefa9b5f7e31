"""Cohorts on a real temporary database: names, sign-ups, proposals and the creation plan."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from core.cohorts import Applicant, CohortStatus, Mix, form_groups
from core.errors import DuplicateName
from core.models import CareerStage
from storage import Storage

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ANSWERS: dict[str, str | None] = {
    "career_stage": "senior",
    "timezone": "Europe/London",
    "hours": "08:00-18:00",
    "institution": None,
    "focus": "assessment",
}


async def test_names_are_unique_per_guild_regardless_of_case(storage: Storage) -> None:
    repo = storage.cohorts
    spring = await repo.create(
        guild_id=1, name="Spring", group_size=6, mix=Mix.MIXED, created_by=9, now=NOW
    )
    assert (spring.status, spring.mix, spring.group_size) == (CohortStatus.OPEN, Mix.MIXED, 6)
    with pytest.raises(DuplicateName):
        await repo.create(
            guild_id=1, name="SPRING", group_size=5, mix=Mix.SIMILAR, created_by=9, now=NOW
        )
    other = await repo.create(
        guild_id=2, name="spring", group_size=5, mix=Mix.SIMILAR, created_by=9, now=NOW
    )
    assert (await repo.by_name(1, "sPrInG")) == spring
    assert (await repo.by_name(2, "Spring")) == other
    assert [c.name for c in await repo.search(1, "pri")] == ["Spring"]
    await repo.set_message(spring.id, 77, 88)
    stored = await repo.get(spring.id)
    assert stored is not None and (stored.channel_id, stored.message_id) == (77, 88)


async def test_answers_change_until_the_plan_freezes_them(storage: Storage) -> None:
    repo = storage.cohorts
    cohort = await repo.create(
        guild_id=1, name="Spring", group_size=4, mix=Mix.MIXED, created_by=9, now=NOW
    )
    assert await repo.save_member(cohort.id, 5, ANSWERS, NOW) is True
    later = NOW + timedelta(hours=1)
    changed = {**ANSWERS, "hours": "09:00-17:00"}
    assert await repo.save_member(cohort.id, 5, changed, later) is False  # not new: changed
    (member,) = await repo.members(cohort.id)
    assert (member.hours, member.joined_at, member.updated_at) == ("09:00-17:00", NOW, later)
    assert member.career_stage is CareerStage.SENIOR
    assert member.missing() == ["institution"]

    assert await repo.close(cohort.id) is True
    assert await repo.close(cohort.id) is False
    proposal = form_groups(
        [
            Applicant(
                user_id=u,
                stage=CareerStage.SENIOR,
                timezone="UTC",
                hours=(time(8), time(18)),
            )
            for u in range(1, 7)
        ],
        group_size=4,
        duration_minutes=90,
        mix=Mix.MIXED,
        reference=NOW,
    )
    stored = await repo.add_proposal(cohort.id, "abc", proposal, 9, NOW)
    assert (await repo.proposal(stored.id)) == stored
    assert stored.proposal == proposal  # round-trips through JSON exactly

    names = [f"Spring {i + 1}" for i in range(len(proposal.groups))]
    first = await repo.start_plan(
        cohort_id=cohort.id,
        proposal_id=stored.id,
        names=names,
        started_by=9,
        channel_id=77,
        now=NOW,
    )
    second = await repo.start_plan(
        cohort_id=cohort.id,
        proposal_id=stored.id,
        names=names,
        started_by=10,
        channel_id=77,
        now=NOW,
    )
    assert (first, second) == (True, False)
    frozen = await repo.get(cohort.id)
    assert frozen is not None and frozen.status is CohortStatus.FORMED
    assert await repo.save_member(cohort.id, 5, ANSWERS, later) is None
    assert await repo.save_member(cohort.id, 6, ANSWERS, later) is None
    assert [m.user_id for m in await repo.members(cohort.id)] == [5]


async def test_the_plan_records_each_step_and_finishes_once(storage: Storage) -> None:
    repo = storage.cohorts
    cohort = await repo.create(
        guild_id=1, name="Spring", group_size=4, mix=Mix.MIXED, created_by=9, now=NOW
    )
    proposal = form_groups(
        [
            Applicant(
                user_id=u, stage=CareerStage.TRAINEE, timezone="UTC", hours=(time(8), time(18))
            )
            for u in range(1, 9)
        ],
        group_size=4,
        duration_minutes=60,
        mix=Mix.MIXED,
        reference=NOW,
    )
    stored = await repo.add_proposal(cohort.id, "f", proposal, 9, NOW)
    await repo.start_plan(
        cohort_id=cohort.id,
        proposal_id=stored.id,
        names=["Spring 1", "Spring 2"],
        started_by=9,
        channel_id=None,
        now=NOW,
    )
    assert await repo.unfinished_plans() == [cohort.id]
    group = await storage.groups.create(
        guild_id=1,
        name="Spring 1",
        description="",
        capacity=10,
        timezone="UTC",
        role_id=None,
        category_id=None,
        text_channel_id=None,
        voice_channel_id=None,
        created_by=9,
        now=NOW,
    )
    await repo.step_group(cohort.id, 1, group.id)
    await repo.step_members_done(cohort.id, 1)
    plan = await repo.plan(cohort.id)
    assert plan is not None
    assert [(s.name, s.group_id, s.members_done, s.schedule_done) for s in plan.steps] == [
        ("Spring 1", group.id, True, False),
        ("Spring 2", None, False, False),
    ]
    await repo.step_schedule_done(cohort.id, 1)
    assert await repo.group_ids(cohort.id) == [group.id]
    assert await repo.finish_plan(cohort.id, NOW) is True
    assert await repo.finish_plan(cohort.id, NOW) is False
    assert await repo.unfinished_plans() == []
    done = await repo.plan(cohort.id)
    assert done is not None and done.finished_at == NOW


async def test_an_erasure_removes_a_persons_sign_ups(storage: Storage) -> None:
    cohort = await storage.cohorts.create(
        guild_id=1, name="Spring", group_size=4, mix=Mix.MIXED, created_by=9, now=NOW
    )
    await storage.cohorts.save_member(cohort.id, 5, ANSWERS, NOW)
    await storage.cohorts.save_member(cohort.id, 6, ANSWERS, NOW)
    assert await storage.privacy.has_data(5)
    exported = await storage.privacy.export(5)
    assert [(r["cohort_name"], r["hours"]) for r in exported["cohort_signups"]] == [
        ("Spring", "08:00-18:00")
    ]
    erasure = await storage.privacy.erase(5, NOW)
    assert erasure is not None and erasure.changed["cohort_members"] == 1
    assert [m.user_id for m in await storage.cohorts.members(cohort.id)] == [6]
