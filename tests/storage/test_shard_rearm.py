"""What a shard process re-arms at start-up is its own shards' guilds only: schedules,
feedback requests and polls, cohorts whose groups are being created, and the tidies of ended
sessions, filtered in SQL."""

from __future__ import annotations

from datetime import time, timedelta

from core.cohorts import Applicant, Mix, form_groups
from core.models import CareerStage
from core.schedule import Recurrence
from core.shards import ShardSet
from storage import Storage
from tests.storage.test_feedback_repo import (
    FAY,
    NOW,
    held_session,
    make_group,
    open_request,
)

GUILDS = {0: 8 << 22, 1: 9 << 22}
"""A guild on each shard of two: (id >> 22) % 2."""
RECURRENCE = Recurrence.model_validate(
    {
        "weekday": 1,
        "local_time": "09:00",
        "every_weeks": 1,
        "duration_minutes": 90,
        "timezone": "UTC",
        "anchor": "2026-01-06",
    }
)


async def test_each_shard_rearms_only_its_own_guilds(storage: Storage) -> None:
    groups, sessions, polls = {}, {}, {}
    for shard, guild_id in GUILDS.items():
        group = await make_group(storage, f"Circle {shard}", guild_id=guild_id)
        groups[shard] = group
        session = await held_session(storage, group, guild_id=guild_id)
        sessions[shard] = session
        await open_request(storage, session, group, NOW + timedelta(minutes=30))
        await storage.session_messages.add(session, 555, 1000 + shard, "announcement")
        await storage.schedules.put(
            group_id=group, guild_id=guild_id, recurrence=RECURRENCE, set_by=FAY, now=NOW
        )
        polls[shard] = await storage.feedback.create_poll(
            guild_id=guild_id,
            group_id=group,
            channel_id=555,
            message_id=2000 + shard,
            question="When next?",
            options=["Tuesday", "Thursday"],
            created_by=FAY,
            created_at=NOW,
            closes_at=NOW + timedelta(days=1),
        )

    for shard in GUILDS:
        mine = ShardSet.of(2, [shard])
        assert [s.group_id for s in await storage.schedules.all(mine)] == [groups[shard]]
        assert [r.session_id for r in await storage.feedback.open_requests(mine)] == [
            sessions[shard]
        ]
        assert [p.id for p in await storage.feedback.open_polls(mine)] == [polls[shard]]
        assert [t.session_id for t in await storage.session_messages.pending_tidies(mine)] == [
            sessions[shard]
        ]
    both = ShardSet.of(2)
    assert len(await storage.schedules.all(both)) == 2
    assert len(await storage.feedback.open_requests(both)) == 2
    assert len(await storage.feedback.open_polls()) == 2
    assert len(await storage.session_messages.pending_tidies()) == 2


async def test_each_shard_carries_on_only_its_own_cohort_creations(
    storage: Storage,
) -> None:
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
    cohorts = {}
    for shard, guild_id in GUILDS.items():
        cohort = await storage.cohorts.create(
            guild_id=guild_id, name="Spring", group_size=4, mix=Mix.MIXED, created_by=9, now=NOW
        )
        stored = await storage.cohorts.add_proposal(cohort.id, "f", proposal, 9, NOW)
        await storage.cohorts.start_plan(
            cohort_id=cohort.id,
            proposal_id=stored.id,
            names=[f"Spring {shard}a", f"Spring {shard}b"],
            started_by=9,
            channel_id=None,
            now=NOW,
        )
        cohorts[shard] = cohort.id
    for shard in GUILDS:
        assert await storage.cohorts.unfinished_plans(ShardSet.of(2, [shard])) == [cohorts[shard]]
    assert await storage.cohorts.unfinished_plans() == sorted(cohorts.values())
