"""What a shard process re-arms at start-up is its own shards' guilds only: schedules,
feedback requests and polls, and the tidies of ended sessions, filtered in SQL."""

from __future__ import annotations

from datetime import timedelta

from core.schedule import Recurrence
from core.shards import ShardSet
from storage import Storage
from tests.storage.test_feedback_repo import (
    FAY,
    NOW,
    held_session,
    make_group,
    open_request,
    storage,  # noqa: F401  (a fixture)
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


async def test_each_shard_rearms_only_its_own_guilds(storage: Storage) -> None:  # noqa: F811
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
