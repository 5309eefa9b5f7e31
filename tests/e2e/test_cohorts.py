"""Cohorts end to end: sign-up through the button and form, status, a proposal, creating its
groups with channels, members and schedules, and Reshuffle."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from simcord import Env

from bot import Settings
from core.models import CareerStage
from tests.e2e.cohort_helpers import (
    STAGES,
    ZONES,
    answers_for,
    form_defaults,
    make_cohort,
    signed_up,
)
from tests.e2e.helpers import channel_exists, reply_text, restart, role_ids_of, storage_of


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
    # Each member with their stage and the slot in their own local time.
    zones = {p.user.id: ZONES[i % 4] for i, p in enumerate(cohort.people)}
    stages = {p.user.id: STAGES[i % 4] for i, p in enumerate(cohort.people)}
    for field, proposed in zip(embed.fields, proposal.groups, strict=True):
        assert proposed.slot_label in (field.name or "")
        for user_id in proposed.members:
            local = proposed.start.astimezone(ZoneInfo(zones[user_id])).strftime("%a %H:%M")
            line = f"<@{user_id}> · {stages[user_id]} · {local} ({zones[user_id]})"
            assert line in (field.value or "").splitlines()
    assert "HiGHS" in (embed.footer.text or "")
    assert message.attachments[0].filename == "proposal.txt"
    text = (await message.attachments[0].read()).decode()
    assert "p00" in text and "<@" not in text

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


async def test_a_second_press_creates_nothing_twice(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env, 10, group_size=4)
    await cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring")
    message = cohort.proposal_message()
    await cohort.mod.click(message, label="Create groups")
    storage = storage_of(env)
    groups = await storage.groups.list_for_guild(cohort.world.guild.id)
    channels = len(env.backend.channels)
    events = len(env.backend.get_guild(cohort.world.guild.id).scheduled_events)

    again = await cohort.mod.click(message, label="Create groups")
    assert again.ephemeral
    assert "exist" in reply_text(again)
    assert await storage.groups.list_for_guild(cohort.world.guild.id) == groups
    assert len(env.backend.channels) == channels
    assert len(env.backend.get_guild(cohort.world.guild.id).scheduled_events) == events
    ready = [m for m in cohort.world.lobby.history() if "are ready" in (m.content or "")]
    assert len(ready) == 1
    # Reshuffle is retired and the sign-up message says the groups exist.
    shown = next(m for m in cohort.world.lobby.history() if m.id == message.id)
    buttons = {c.label: c.disabled for row in shown.components for c in row.children}  # type: ignore[union-attr]
    assert buttons == {"Create groups": False, "Reshuffle": True}
    assert "groups have been made" in (cohort.signup_message().content or "")
    late = await cohort.mod.click(cohort.signup_message(), label="Join cohort")
    assert late.modal is None and late.ephemeral
    assert "answers can no longer change" in reply_text(late)


async def test_the_form_is_prefilled_from_the_profile_and_updates_it(simcord_env: Env) -> None:
    env = simcord_env
    cohort = make_cohort(env, 1)
    ana = cohort.people[0]
    await ana.slash(
        cohort.world.lobby,
        "profile set",
        career_stage="senior",
        timezone="Asia/Kolkata",
        hours="09:00-17:00",
        institution="AIIMS",
    )
    await cohort.open()
    shown = await ana.click(cohort.signup_message(), label="Join cohort")
    assert shown.modal is not None
    defaults = form_defaults(shown)
    assert defaults["career_stage"] == "senior"
    assert defaults["timezone"] == "Asia/Kolkata"
    assert defaults["hours"] == "09:00-17:00"
    assert defaults["institution"] == "AIIMS"
    saved = await ana.submit_modal(
        shown,
        {
            "career_stage": "Mid Career",
            "timezone": "asia/kolkata",
            "hours": "10:00-18:00",
            "institution": "AIIMS",
            "focus": "assessment",
        },
    )
    assert "signed up" in reply_text(saved)
    storage = storage_of(env)
    profile = await storage.profiles.get(ana.user.id)
    assert profile is not None
    assert (profile.career_stage, profile.hours, profile.focus) == (
        CareerStage.MID_CAREER,
        "10:00-18:00",
        "assessment",
    )
    # Answers can change until the groups are made: the form now shows the new answers.
    again = await ana.click(cohort.signup_message(), label="Join cohort")
    assert again.modal is not None
    defaults = form_defaults(again)
    assert defaults["career_stage"] == "mid-career"
    updated = await ana.submit_modal(again, {**defaults, "hours": "07:00-15:00"})
    assert "Updated your answers" in reply_text(updated)
    stored = await storage.cohorts.by_name(cohort.world.guild.id, "Spring")
    assert stored is not None
    members = await storage.cohorts.members(stored.id)
    assert [(m.user_id, m.hours) for m in members] == [(ana.user.id, "07:00-15:00")]


async def test_reshuffle_posts_another_split_of_the_same_quality(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env, 12, group_size=4)
    await cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring")
    first_message = cohort.proposal_message()
    first_id, first = await cohort.latest_proposal()
    result = await cohort.mod.click(first_message, label="Reshuffle")
    assert "another proposal" in reply_text(result)
    second_id, second = await cohort.latest_proposal()
    assert second_id != first_id
    assert second.rank() == first.rank()
    assert {frozenset(g.members) for g in second.groups} != {
        frozenset(g.members) for g in first.groups
    }
    assert cohort.proposal_message().id != first_message.id
    refreshed = cohort.world.lobby.history()
    old = next(m for m in refreshed if m.id == first_message.id)
    assert all(c.disabled for row in old.components for c in row.children)  # type: ignore[union-attr]


async def test_status_names_who_left_a_field_empty(simcord_env: Env) -> None:
    env = simcord_env
    cohort = make_cohort(env, 2)
    await cohort.open()
    ana, ben = cohort.people
    await cohort.join(ana, {**answers_for(0), "institution": "", "focus": ""})
    await cohort.join(ben, answers_for(1))
    status = reply_text(
        await cohort.mod.slash(cohort.world.lobby, "cohort status", cohort="Spring")
    )
    assert "2 signed up" in status
    assert f"<@{ana.user.id}>: institution, focus" in status
    assert f"<@{ben.user.id}>" not in status


async def test_a_form_opened_before_a_restart_is_saved_after_it(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    cohort = make_cohort(env, 1)
    await cohort.open()
    ana = cohort.people[0]
    shown = await ana.click(cohort.signup_message(), label="Join cohort")
    await restart(env, settings)
    saved = await ana.submit_modal(shown, answers_for(0))
    assert "signed up" in reply_text(saved)
    stored = await storage_of(env).cohorts.by_name(cohort.world.guild.id, "Spring")
    assert stored is not None
    assert [m.user_id for m in await storage_of(env).cohorts.members(stored.id)] == [ana.user.id]
    # The sign-up button itself works after the restart too.
    again = await ana.click(cohort.signup_message(), label="Join cohort")
    assert form_defaults(again)["timezone"] == answers_for(0)["timezone"]


async def test_the_proposal_lists_who_could_not_be_placed_and_why(simcord_env: Env) -> None:
    env = simcord_env
    cohort = make_cohort(env, 9)
    await cohort.open(group_size=4)
    for index, person in enumerate(cohort.people[:8]):
        await cohort.join(person, answers_for(index))
    owl = cohort.people[8]
    await cohort.join(owl, {**answers_for(0), "timezone": "Asia/Tokyo", "hours": "09:00-11:00"})
    await cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring")
    embed = cohort.proposal_message().embeds[0]
    assert "8 of 9 placed" in (embed.description or "")
    (unplaced,) = [f for f in embed.fields if (f.name or "").startswith("Not placed")]
    assert unplaced.value == (
        f"<@{owl.user.id}>: no 90-minute window shared with enough people "
        "(a group needs at least 3)"
    )
    _, proposal = await cohort.latest_proposal()
    assert owl.user.id not in {u for g in proposal.groups for u in g.members}
