"""Cohorts end to end: sign-up through the button and form, status, a proposal, creating its
groups with channels, members and schedules, and Reshuffle."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from simcord import Env

from tests.e2e.cohort_helpers import signed_up
from tests.e2e.helpers import channel_exists, reply_text, role_ids_of, storage_of


async def test_twenty_sign_up_and_their_groups_are_created_as_proposed(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env)
    world = cohort.world
    storage = storage_of(env)

    status = reply_text(await cohort.mod.slash(world.lobby, "cohort status", cohort="spring"))
    assert "20 signed up" in status
    assert "trainee 5" in status and "senior 5" in status
    assert "America/Toronto 5" in status and "Europe/Berlin 5" in status
    assert "Nobody is missing a field" in status

    result = await cohort.mod.slash(world.lobby, "cohort form", cohort="Spring")
    assert result.ephemeral and "Proposed" in reply_text(result)
    message = cohort.proposal_message()
    proposal_id, proposal = await cohort.latest_proposal()
    assert sorted(u for g in proposal.groups for u in g.members) == sorted(
        p.user.id for p in cohort.people
    )
    embed = message.embeds[0]
    assert "everyone placed (20 of 20)" in (embed.description or "")
    assert [f.name.split(" · ")[0] for f in embed.fields] == [
        f"Spring {i + 1}" for i in range(len(proposal.groups))
    ]

    created = await cohort.mod.click(message, label="Create groups")
    assert "exist" in reply_text(created), reply_text(created)
    stored = await storage.cohorts.by_name(world.guild.id, "spring")
    assert stored is not None
    group_ids = await storage.cohorts.group_ids(stored.id)
    assert len(group_ids) == len(proposal.groups)
    for index, (group_id, proposed) in enumerate(zip(group_ids, proposal.groups, strict=True)):
        group = await storage.groups.get(group_id)
        assert group is not None and group.name == f"Spring {index + 1}"
        members = {m.user_id: m for m in await storage.groups.members(group.id)}
        assert set(members) == {*proposed.members, cohort.mod.user.id}
        assert members[cohort.mod.user.id].is_facilitator
        for channel_id in (group.category_id, group.text_channel_id, group.voice_channel_id):
            assert channel_exists(world, channel_id)
        for person in cohort.people:
            if person.user.id in proposed.members:
                assert group.role_id in role_ids_of(person)
        schedule = await storage.schedules.get(group.id)
        assert schedule is not None
        rec = schedule.recurrence
        assert (rec.weekday, rec.local_time, rec.timezone) == (
            proposed.weekday,
            proposed.local_time,
            proposed.timezone,
        )
        # The first meeting is the date the proposal checked everyone's hours for.
        assert rec.anchor == proposed.start.astimezone(ZoneInfo(proposed.timezone)).date()
        assert schedule.event_id is not None
    assert proposal_id > 0
