"""`Create groups` interrupted part-way (Discord refuses a step; the bot restarts) resumes
from its stored plan, and everything exists exactly once."""

from __future__ import annotations

from collections import Counter

from simcord import Env

from bot import Settings
from core.cohorts import Proposal
from tests.e2e.cohort_helpers import Cohort, signed_up
from tests.e2e.helpers import reply_text, restart, role_ids_of, storage_of


async def exactly_once(env: Env, cohort: Cohort, proposal: Proposal) -> None:
    """Every proposed group exists once, on Discord and in storage, as proposed."""
    world = cohort.world
    storage = storage_of(env)
    stored = await storage.cohorts.by_name(world.guild.id, "Spring")
    assert stored is not None
    plan = await storage.cohorts.plan(stored.id)
    assert plan is not None and plan.finished_at is not None
    groups = sorted(await storage.groups.list_for_guild(world.guild.id), key=lambda g: g.name)
    assert [g.name for g in groups] == [f"Spring {i + 1}" for i in range(len(proposal.groups))]
    guild = env.backend.get_guild(world.guild.id)
    roles = Counter(r.name for r in guild.roles.values())
    alive = [env.backend.channels.get(c) for c in guild.channel_ids]
    channels = Counter(c.name for c in alive if c is not None)
    for group, proposed in zip(groups, proposal.groups, strict=True):
        assert roles[group.name] == 1
        assert channels[group.name] == 2  # its category and its voice channel
        members = {m.user_id for m in await storage.groups.members(group.id)}
        assert members == {*proposed.members, cohort.mod.user.id}
        for person in [*cohort.people, cohort.mod]:
            if person.user.id in members:
                assert group.role_id in role_ids_of(person)
        assert await storage.schedules.get(group.id) is not None
    assert len(guild.scheduled_events) == len(groups)
    ready = [m for m in world.lobby.history() if "are ready" in (m.content or "")]
    assert len(ready) == 1


async def test_a_creation_cut_short_resumes_after_a_restart(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    cohort = await signed_up(env, 12, group_size=4)
    await cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring")
    _, proposal = await cohort.latest_proposal()
    message = cohort.proposal_message()

    # The first group is stored, then Discord refuses to give its creator the role: the
    # plan has not recorded the group yet when the work stops.
    env.inject_error("PUT", "/guilds/*/members/*/roles/*", status=403, code=50013)
    stopped = await cohort.mod.click(message, label="Create groups")
    assert "carry on" in reply_text(stopped)
    _ = env.errors
    storage = storage_of(env)
    assert [g.name for g in await storage.groups.list_for_guild(cohort.world.guild.id)] == [
        "Spring 1"
    ]

    await restart(env, settings)
    await exactly_once(env, cohort, proposal)
    again = await cohort.mod.click(message, label="Create groups")
    assert "exist" in reply_text(again)
    await exactly_once(env, cohort, proposal)


async def test_pressing_again_carries_on_where_it_stopped(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env, 12, group_size=4)
    await cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring")
    _, proposal = await cohort.latest_proposal()
    message = cohort.proposal_message()
    env.inject_error("POST", "/guilds/*/channels", status=403, code=50013)
    stopped = await cohort.mod.click(message, label="Create groups")
    assert "carry on" in reply_text(stopped)
    _ = env.errors
    resumed = await cohort.mod.click(message, label="Create groups")
    assert "exist" in reply_text(resumed)
    await exactly_once(env, cohort, proposal)
