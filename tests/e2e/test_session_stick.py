"""The talking stick: the bot server-mutes everyone but the floor holder, and undoes exactly
the mutes it made."""

from __future__ import annotations

import discord
from simcord import Env, MemberActor

from bot import Settings
from tests.e2e.helpers import refused, reply_text
from tests.e2e.session_helpers import (
    Circle,
    allow,
    bot_member_id,
    bot_of,
    in_voice,
    is_live,
    live,
    make_circle,
    mute_edits,
    muted,
    restart,
)


def mutes(circle: Circle) -> dict[str, bool]:
    return {p.name: muted(p) for p in circle.everyone if in_voice(p)}


async def muted_by_someone_else(env: Env, circle: Circle, actor: MemberActor) -> None:
    env.backend.set_voice_state(circle.world.guild.id, actor.id, circle.voice.id, mute=True)
    await env.settle()


async def start_roundrobin(env: Env, circle: Circle, minutes: int = 2) -> None:
    await circle.facilitator.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=minutes,
        order="joined",
    )


async def test_the_mutes_follow_the_floor_and_only_the_bots_are_undone(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    await muted_by_someone_else(env, circle, cy)
    await start_roundrobin(env, circle)

    result = await fay.slash(circle.text, "session talkingstick", enabled=True)
    assert reply_text(result) == "Talking stick on."
    assert mutes(circle) == {"fay": False, "ana": True, "ben": True, "cy": True}
    assert "Talking stick on" in (circle.panel().embeds[0].footer.text or "")
    assert live(env).bot_mutes == [ana.id, ben.id]

    await env.advance_time(120)  # fay -> ana
    assert mutes(circle) == {"fay": True, "ana": False, "ben": True, "cy": True}
    await ana.slash(circle.text, "session next")  # ana -> ben
    assert mutes(circle) == {"fay": True, "ana": True, "ben": False, "cy": True}
    await env.advance_time(120)  # ben -> cy, whom someone else muted: the bot leaves it be
    assert live(env).floor_holder() == cy.id
    assert mutes(circle) == {"fay": True, "ana": True, "ben": True, "cy": True}
    assert mute_edits(env, cy) == []

    result = await fay.slash(circle.text, "session talkingstick", enabled=False)
    assert reply_text(result) == "Talking stick off."
    assert mutes(circle) == {"fay": False, "ana": False, "ben": False, "cy": True}
    assert live(env).bot_mutes == []

    # On again, then the session ends: exactly the bot's mutes are lifted.
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    assert mutes(circle) == {"fay": True, "ana": True, "ben": True, "cy": True}
    await fay.slash(circle.text, "session end")
    assert not is_live(env)
    assert mutes(circle) == {"fay": False, "ana": False, "ben": False, "cy": True}
    assert mute_edits(env, cy) == []


async def test_a_late_joiner_is_muted_and_a_leaver_is_unmuted_when_back(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _, ben, _ = circle.everyone
    dan = circle.world.person("dan")
    await dan.slash(circle.world.lobby, "group join", group="Circle")
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)

    await dan.join_voice(circle.voice)
    assert muted(dan)
    assert dan.id in live(env).bot_mutes

    # ben, muted by the bot, leaves; the stick goes off while he is away.
    await ben.leave_voice()
    await fay.slash(circle.text, "session talkingstick", enabled=False)
    assert mutes(circle) == {"fay": False, "ana": False, "cy": False}
    assert not muted(dan)
    storage = bot_of(env).storage
    assert await storage.sessions.owed_unmutes() == [(circle.world.guild.id, ben.id)]

    # When ben next joins a voice channel (any), the bot undoes its mute.
    cursor = len(env.http_requests)
    await ben.join_voice(circle.voice)
    assert mute_edits(env, ben, cursor) == [False]
    assert not muted(ben)
    assert await storage.sessions.owed_unmutes() == []


async def test_restart_restores_and_releases_the_mutes(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, cy = circle.everyone
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    guild_id = circle.world.guild.id

    def change() -> None:
        # While the bot is down: someone lifts ana's mute, and cy (muted by the bot) leaves.
        env.backend.set_voice_state(guild_id, ana.id, circle.voice.id, mute=False)
        env.backend.set_voice_state(guild_id, cy.id, None)

    await restart(env, settings, during_downtime=change)
    assert live(env).stick
    assert mutes(circle) == {"fay": False, "ana": True, "ben": True}

    await env.advance_time(120)  # fay -> ana, after the restart
    assert mutes(circle) == {"fay": True, "ana": False, "ben": True}

    await restart(env, settings)
    assert mutes(circle) == {"fay": True, "ana": False, "ben": True}
    await fay.slash(circle.text, "session end")
    assert mutes(circle) == {"fay": False, "ana": False, "ben": False}
    # cy left muted by the bot: the unmute is owed until cy is back in voice.
    cursor = len(env.http_requests)
    await cy.join_voice(circle.voice)
    assert mute_edits(env, cy, cursor) == [False]


async def test_talking_stick_needs_the_mute_members_permission(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay = circle.facilitator
    await start_roundrobin(env, circle)
    allow(env, circle.voice, bot_member_id(env), deny=discord.Permissions(mute_members=True))
    await env.settle()
    before = live(env).model_dump()
    cursor = len(env.http_requests)

    await refused(
        env,
        fay.slash(circle.text, "session talkingstick", enabled=True),
        "Mute Members permission",
    )

    assert live(env).model_dump() == before
    assert not any(muted(p) for p in circle.everyone)
    assert not any(
        r.method == "PATCH" and "/members/" in r.path for r in env.http_requests[cursor:]
    )


async def test_someone_arriving_muted_by_others_is_never_unmuted_by_the_bot(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    dan = circle.world.person("dan")
    await dan.slash(circle.world.lobby, "group join", group="Circle")
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)

    # dan joins already server-muted by a moderator (a server mute outlives voice sessions).
    env.backend.set_voice_state(circle.world.guild.id, dan.id, circle.voice.id, mute=True)
    await env.settle()
    assert dan.id in live(env).roster and dan.id not in live(env).bot_mutes

    # ana, muted by the bot, leaves and comes back: the stick's mute is put back.
    await ana.leave_voice()
    await ana.join_voice(circle.voice)
    assert muted(ana) and ana.id in live(env).bot_mutes

    await env.advance_time(120)  # fay -> ana
    assert mutes(circle) == {"fay": True, "ana": False, "ben": True, "cy": True}
    assert muted(dan)
    await fay.slash(circle.text, "session talkingstick", enabled=False)
    await fay.slash(circle.text, "session end")
    assert mutes(circle) == {"fay": False, "ana": False, "ben": False, "cy": False}
    assert muted(dan)
    assert mute_edits(env, dan) == []


async def test_an_unmute_discord_refused_is_paid_later(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _, ben, cy = circle.everyone
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)

    env.inject_error("PATCH", f"/guilds/*/members/{ben.id}", status=500, times=None)
    env.inject_error("PATCH", f"/guilds/*/members/{cy.id}", status=500, times=None)
    await fay.slash(circle.text, "session end")
    env.backend.faults.clear()
    assert mutes(circle) == {"fay": False, "ana": False, "ben": True, "cy": True}
    assert await bot_of(env).storage.sessions.owed_unmutes() == [
        (circle.world.guild.id, ben.id),
        (circle.world.guild.id, cy.id),
    ]

    # ben's is paid when he next joins voice, cy's at the next start-up.
    await ben.leave_voice()
    await ben.join_voice(circle.voice)
    assert not muted(ben)
    await restart(env, settings)
    assert not muted(cy)
    assert await bot_of(env).storage.sessions.owed_unmutes() == []
