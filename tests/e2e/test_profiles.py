"""`/profile set` and `/profile show` end to end."""

from __future__ import annotations

import discord
import pytest
from simcord import Env, OptionError

from tests.e2e.helpers import (
    close_storage,  # noqa: F401  (used below)
    make_world,
    refused,
    reply_embed,
    reply_text,
    storage_of,
)

pytestmark = pytest.mark.usefixtures("close_storage")


def fields(embed: discord.Embed) -> dict[str, str]:
    return {field.name or "": field.value or "" for field in embed.fields}


async def test_set_every_field_then_show(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]

    result = await ana.slash(
        world.lobby,
        "profile set",
        career_stage="mid-career",
        institution="  University   of Toronto ",
        timezone="america/toronto",
        focus="Simulation-based teaching",
        hours=" 07:30 - 16:00 ",
    )

    assert result.ephemeral and "Saved your profile" in reply_text(result)
    shown = fields(reply_embed(result))
    assert shown == {
        "Career stage": "mid-career",
        "Institution": "University of Toronto",
        "Time zone": "America/Toronto",
        "Local time": "Wed 19:00",
        "Focus": "Simulation-based teaching",
        "Usual hours": "07:30-16:00",
    }
    stored = await storage_of(env).profiles.get(ana.id)
    assert stored is not None and stored.hours == "07:30-16:00"
    assert stored.updated_at == env.now()

    # Anyone can look at someone else's profile.
    result = await ben.slash(world.lobby, "profile show", member=ana)
    assert result.ephemeral
    embed = reply_embed(result)
    assert embed.title == "Profile of ana"
    assert fields(embed)["Career stage"] == "mid-career"


async def test_partial_updates_keep_the_other_fields(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana")
    ana = world.people["ana"]
    await ana.slash(world.lobby, "profile set", career_stage="trainee", timezone="Europe/London")
    await env.advance_time(3600)
    result = await ana.slash(world.lobby, "profile set", institution="Guy's Hospital")

    shown = fields(reply_embed(result))
    assert shown["Career stage"] == "trainee"
    assert shown["Time zone"] == "Europe/London"
    assert shown["Local time"] == "Thu 01:00"
    assert shown["Institution"] == "Guy's Hospital"
    assert shown["Usual hours"] == "08:00-20:00 (default)"
    stored = await storage_of(env).profiles.get(ana.id)
    assert stored is not None and stored.hours is None and stored.career_stage == "trainee"

    # Every career stage is offered, and nothing else can be sent.
    for stage in ("trainee", "early-career", "mid-career", "senior"):
        result = await ana.slash(world.lobby, "profile set", career_stage=stage)
        assert fields(reply_embed(result))["Career stage"] == stage
    with pytest.raises(OptionError):
        await ana.slash(world.lobby, "profile set", career_stage="professor")


async def test_show_without_a_profile(simcord_env: Env) -> None:
    world = make_world(simcord_env, "ana", "ben")
    result = await world.people["ana"].slash(world.lobby, "profile show")
    embed = reply_embed(result)
    assert embed.title == "Profile of ana"
    assert "No profile yet" in (embed.description or "")
    result = await world.people["ana"].slash(
        world.lobby, "profile show", member=world.people["ben"]
    )
    assert reply_embed(result).title == "Profile of ben"


async def test_refusals_change_nothing(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana")
    ana = world.people["ana"]
    await ana.slash(world.lobby, "profile set", timezone="Asia/Tokyo", hours="09:00-17:00")

    async def set_profile(*expected: str, **options: str) -> None:
        await refused(env, ana.slash(world.lobby, "profile set", **options), *expected)

    await set_profile("not a time zone", "America/Toronto", timezone="Atlantis/Capital")
    await set_profile("not a time", "HH:MM", hours="9-5")
    await set_profile("`25:00` is not a time", hours="25:00-26:00")
    await set_profile("HH:MM-HH:MM", hours="09:00")
    await set_profile("the same", hours="09:00-09:00")
    await set_profile("at most 100", institution="x" * 101)
    await set_profile("at most 100", focus="y" * 101)
    await set_profile("at least one field")

    stored = await storage_of(env).profiles.get(ana.id)
    assert stored is not None
    assert (stored.timezone, stored.hours, stored.institution) == (
        "Asia/Tokyo",
        "09:00-17:00",
        None,
    )


async def test_local_time_in_group_info_follows_the_profile(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana")
    ana = world.people["ana"]
    await ana.slash(world.lobby, "group create", name="Night Owls")

    info = await ana.slash(world.lobby, "group info", group="Night Owls")
    line = fields(reply_embed(info))["Members (1/6)"]
    assert line == f"{ana.mention} (facilitator): stage not set · time zone not set"

    await ana.slash(world.lobby, "profile set", career_stage="senior", timezone="Australia/Sydney")
    info = await ana.slash(world.lobby, "group info", group="Night Owls")
    line = fields(reply_embed(info))["Members (1/6)"]
    assert line == f"{ana.mention} (facilitator): senior · Thu 11:00"
