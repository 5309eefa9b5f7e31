"""Every refusal of the cohort feature: ephemeral, saying why, and changing nothing."""

from __future__ import annotations

from simcord import Env

from tests.e2e.cohort_helpers import answers_for, form_defaults, make_cohort, signed_up
from tests.e2e.helpers import refused, reply_text, set_bot_permissions, storage_of


async def test_only_moderators_run_cohorts(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env, 10, group_size=4)
    ana, lobby = cohort.people[0], cohort.world.lobby
    for command, options in (
        ("cohort open", {"name": "Autumn"}),
        ("cohort status", {"cohort": "Spring"}),
        ("cohort form", {"cohort": "Spring"}),
        ("cohort close", {"cohort": "Spring"}),
    ):
        await refused(env, ana.slash(lobby, command, **options), "Only moderators")
    await cohort.mod.slash(lobby, "cohort form", cohort="Spring")
    message = cohort.proposal_message()
    for label in ("Create groups", "Reshuffle"):
        await refused(env, ana.click(message, label=label), "Only moderators")
    storage = storage_of(env)
    assert await storage.cohorts.by_name(cohort.world.guild.id, "Autumn") is None
    assert await storage.groups.list_for_guild(cohort.world.guild.id) == []


async def test_names_sizes_and_durations_are_checked(simcord_env: Env) -> None:
    env = simcord_env
    cohort = make_cohort(env)
    lobby = cohort.world.lobby
    await cohort.open("Spring")
    await refused(env, cohort.mod.slash(lobby, "cohort open", name="SPRING"), "already a cohort")
    for size in (3, 9):
        await refused(
            env,
            cohort.mod.slash(lobby, "cohort open", name="Autumn", group_size=size),
            "between 4 and 8",
        )
    await refused(
        env,
        cohort.mod.slash(lobby, "cohort form", cohort="Spring", group_size=9),
        "between 4 and 8",
    )
    await refused(
        env,
        cohort.mod.slash(lobby, "cohort form", cohort="Spring", duration=20),
        "between 30 and 240",
    )
    await refused(
        env, cohort.mod.slash(lobby, "cohort status", cohort="Winter"), "no cohort called"
    )
    await refused(env, cohort.mod.slash(lobby, "cohort open", name="@everyone"), "@everyone")
    storage = storage_of(env)
    assert await storage.cohorts.by_name(cohort.world.guild.id, "Autumn") is None


async def test_bad_answers_are_refused_by_field_and_can_be_fixed(simcord_env: Env) -> None:
    env = simcord_env
    cohort = make_cohort(env, 1)
    ana = cohort.people[0]
    await cohort.open()
    typed = {
        "career_stage": "professor",
        "timezone": "Mars/Olympus",
        "hours": "9am-5pm",
        "institution": "Red Planet U",
        "focus": "simulation",
    }
    text = await refused(
        env, cohort.join(ana, typed), "career_stage", "timezone", "hours", "Nothing was saved"
    )
    assert "Mars/Olympus" in text and "9am" in text
    storage = storage_of(env)
    stored = await storage.cohorts.by_name(cohort.world.guild.id, "Spring")
    assert stored is not None
    assert await storage.cohorts.members(stored.id) == []
    assert await storage.profiles.get(ana.user.id) is None

    # The refusal offers the form again, holding what was typed.
    refusal = None
    for message in reversed(cohort.world.lobby.history(viewer=ana)):
        if "Nothing was saved" in (message.content or ""):
            refusal = message
            break
    assert refusal is not None
    shown = await ana.click(refusal, label="Fix my answers")
    assert form_defaults(shown) == typed
    fixed = await ana.submit_modal(
        shown,
        {**typed, "career_stage": "senior", "timezone": "Europe/Paris", "hours": "09:00-17:00"},
    )
    assert "signed up" in reply_text(fixed)
    assert len(await storage.cohorts.members(stored.id)) == 1


async def test_a_closed_cohort_takes_no_sign_ups(simcord_env: Env) -> None:
    env = simcord_env
    cohort = make_cohort(env, 2)
    ana, ben = cohort.people
    await cohort.open()
    shown = await ana.click(cohort.signup_message(), label="Join cohort")
    result = await cohort.mod.slash(cohort.world.lobby, "cohort close", cohort="spring")
    assert "Closed sign-ups" in reply_text(result)
    assert "sign-ups are closed" in (cohort.signup_message().content or "")
    await refused(env, ben.click(cohort.signup_message(), label="Join cohort"), "closed")
    # A form opened before the close is refused when it is sent.
    await refused(env, ana.submit_modal(shown, answers_for(0)), "closed")
    await refused(
        env, cohort.mod.slash(cohort.world.lobby, "cohort close", cohort="Spring"), "already closed"
    )
    stored = await storage_of(env).cohorts.by_name(cohort.world.guild.id, "Spring")
    assert stored is not None
    assert await storage_of(env).cohorts.members(stored.id) == []


async def test_too_few_members_says_how_many_are_needed(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env, 9)
    await refused(
        env,
        cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring"),
        "9 sign-ups",
        "at least 10",
    )
    assert not [m for m in cohort.world.lobby.history() if m.embeds]


async def test_nobody_sharing_a_window_creates_nothing(simcord_env: Env) -> None:
    env = simcord_env
    cohort = make_cohort(env, 8)
    await cohort.open(group_size=4)
    # Everyone's two hours are at a different time of day (UTC), so no three share a slot.
    for index, person in enumerate(cohort.people):
        start = index * 3
        await cohort.join(
            person,
            {
                **answers_for(index),
                "timezone": "UTC",
                "hours": f"{start:02d}:00-{start + 2:02d}:00",
            },
        )
    await refused(
        env,
        cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring"),
        "Nobody shares a 90-minute window",
        "nothing was created",
    )
    assert await storage_of(env).groups.list_for_guild(cohort.world.guild.id) == []
    assert not [m for m in cohort.world.lobby.history() if m.embeds]


async def test_missing_permissions_are_named_and_nothing_is_created(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env, 8, group_size=4)
    await cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring")
    message = cohort.proposal_message()
    channels = len(env.backend.channels)
    await set_bot_permissions(env, cohort.world.guild, manage_roles=False)
    await refused(env, cohort.mod.click(message, label="Create groups"), "Manage Roles")
    await set_bot_permissions(env, cohort.world.guild, manage_roles=True, manage_channels=False)
    await refused(env, cohort.mod.click(message, label="Create groups"), "Manage Channels")
    storage = storage_of(env)
    assert await storage.groups.list_for_guild(cohort.world.guild.id) == []
    assert len(env.backend.channels) == channels
    stored = await storage.cohorts.by_name(cohort.world.guild.id, "Spring")
    assert stored is not None and await storage.cohorts.plan(stored.id) is None
    # With the permission back, the same proposal creates its groups.
    await set_bot_permissions(env, cohort.world.guild, manage_channels=True)
    created = await cohort.mod.click(message, label="Create groups")
    assert "exist" in reply_text(created)


async def test_a_proposal_made_before_answers_changed_is_not_created(simcord_env: Env) -> None:
    env = simcord_env
    cohort = await signed_up(env, 8, group_size=4)
    await cohort.mod.slash(cohort.world.lobby, "cohort form", cohort="Spring")
    message = cohort.proposal_message()
    await cohort.join(cohort.people[0], {**answers_for(0), "hours": "07:00-19:00"})
    await refused(env, cohort.mod.click(message, label="Create groups"), "changed", "/cohort form")
    assert await storage_of(env).groups.list_for_guild(cohort.world.guild.id) == []
