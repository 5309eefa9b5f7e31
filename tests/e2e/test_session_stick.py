"""The talking stick: the bot server-mutes everyone but the floor holder, and undoes exactly
the mutes it made."""

from __future__ import annotations

import discord
from simcord import Env, MemberActor
from simcord.enums import AuditLogAction

from bot import Settings
from core.outbox import voice_key
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


async def owed(env: Env) -> list[str]:
    """Whose unmutes wait until they are next in voice."""
    return await bot_of(env).storage.outbox.waiting_keys("voice:")


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
    assert await owed(env) == [voice_key(circle.world.guild.id, ben.id)]

    # When ben next joins a voice channel (any), the bot undoes its mute.
    cursor = len(env.http_requests)
    await ben.join_voice(circle.voice)
    assert mute_edits(env, ben, cursor) == [False]
    assert not muted(ben)
    assert await owed(env) == []


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


async def test_an_unmute_that_fails_is_retried_until_it_lands(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _, ben, cy = circle.everyone
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)

    # ben's unmute fails twice (500, 503), cy's until after a restart.
    env.inject_error("PATCH", f"/guilds/*/members/{ben.id}", status=500)
    env.inject_error("PATCH", f"/guilds/*/members/{ben.id}", status=503)
    env.inject_error("PATCH", f"/guilds/*/members/{cy.id}", status=500, times=None)
    await fay.slash(circle.text, "session end")
    assert mutes(circle) == {"fay": False, "ana": False, "ben": True, "cy": True}
    await env.advance_time(2 + 4)
    assert not muted(ben) and muted(cy)
    assert mute_edits(env, ben) == [True, False, False, False]

    env.backend.faults.clear()
    await restart(env, settings)
    assert not muted(cy)
    assert await owed(env) == []


async def moderator_sets_mute(
    env: Env, circle: Circle, target: MemberActor, mute: bool, *, audit: bool = True
) -> None:
    """A moderator server-mutes or unmutes `target` in Discord: the voice state changes, and
    the audit log names the moderator (unless `audit` is off: a change seen only in voice)."""
    guild_id = circle.world.guild.id
    was = muted(target)
    env.backend.set_voice_state(guild_id, target.id, circle.voice.id, mute=mute)
    if audit:
        moderator = circle.world.people.get("mod") or circle.world.person("mod")
        env.backend.record_audit_log(
            guild_id,
            AuditLogAction.MEMBER_UPDATE,
            target_id=target.id,
            changes=[{"key": "mute", "old_value": was, "new_value": mute}],
            user_id=moderator.id,
        )
    await env.settle()


async def test_a_floor_holder_a_moderator_muted_stays_muted_through_hand_overs_and_the_end(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _ana, _ben, _cy = circle.everyone
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    await moderator_sets_mute(env, circle, fay, True)  # fay holds the floor
    cursor = len(env.http_requests)

    await env.advance_time(120)  # fay -> ana
    assert mutes(circle) == {"fay": True, "ana": False, "ben": True, "cy": True}
    await env.advance_time(120)  # ana -> ben: fay's mute is still the moderator's
    assert muted(fay) and fay.id in live(env).hands_off
    await fay.slash(circle.text, "session end")
    assert mutes(circle) == {"fay": True, "ana": False, "ben": False, "cy": False}
    assert mute_edits(env, fay, cursor) == []


async def test_a_bot_mute_a_moderator_lifted_and_set_again_is_not_undone_at_the_end(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _ana, ben, _cy = circle.everyone
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    assert muted(ben) and ben.id in live(env).bot_mutes

    # Seen only as voice-state changes the bot did not ask for: no audit-log entry needed.
    await moderator_sets_mute(env, circle, ben, False, audit=False)
    cursor = len(env.http_requests)
    await env.advance_time(120)  # fay -> ana: ben is left to speak, as the moderator chose
    assert mutes(circle) == {"fay": True, "ana": False, "ben": False, "cy": True}
    await moderator_sets_mute(env, circle, ben, True, audit=False)
    await fay.slash(circle.text, "session end")
    assert mutes(circle) == {"fay": False, "ana": False, "ben": True, "cy": False}
    assert mute_edits(env, ben, cursor) == []


async def test_someone_whose_moderator_mute_is_lifted_is_left_alone(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _ana, _ben, cy = circle.everyone
    await moderator_sets_mute(env, circle, cy, True)
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    assert cy.id in live(env).hands_off

    await moderator_sets_mute(env, circle, cy, False)  # the moderator lets cy speak
    cursor = len(env.http_requests)
    await env.advance_time(120)  # fay -> ana
    await fay.slash(circle.text, "session talkingstick", enabled=False)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    assert mutes(circle) == {"fay": True, "ana": False, "ben": True, "cy": False}
    await fay.slash(circle.text, "session end")
    assert not muted(cy)
    assert mute_edits(env, cy, cursor) == []


async def test_an_audit_log_entry_by_someone_else_makes_the_mute_theirs(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    # The voice state already says what the bot asked for (ana muted): only the audit log
    # shows that a moderator muted her too, so the mute is not the bot's alone to lift.
    mod = circle.world.person("mod")
    env.backend.record_audit_log(
        circle.world.guild.id,
        AuditLogAction.MEMBER_UPDATE,
        target_id=ana.id,
        changes=[{"key": "mute", "old_value": False, "new_value": True}],
        user_id=mod.id,
    )
    await env.settle()
    assert ana.id in live(env).hands_off and ana.id not in live(env).bot_mutes
    await env.advance_time(120)  # fay -> ana, whose mute is the moderator's
    assert muted(ana)


async def test_moving_to_another_voice_channel_releases_the_stick_at_once(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _, ben, cy = circle.everyone
    hallway = circle.world.guild.create_voice_channel("Hallway")
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    assert muted(ben)

    cursor = len(env.http_requests)
    await ben.join_voice(hallway)  # moves out of the group's channel
    assert mute_edits(env, ben, cursor) == [False]
    assert not muted(ben) and ben.id not in live(env).bot_mutes
    assert live(env).stick

    # Someone who leaves voice altogether is released as well: the unmute is owed at once.
    await cy.leave_voice()
    assert await owed(env) == [voice_key(circle.world.guild.id, cy.id)]
    await cy.join_voice(hallway)
    assert not muted(cy) and await owed(env) == []

    # Back in the group's channel, the stick applies again.
    await ben.join_voice(circle.voice)
    assert muted(ben) and ben.id in live(env).bot_mutes


async def test_whose_mute_is_whose_survives_a_restart(simcord_env: Env, settings: Settings) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _ana, ben, cy = circle.everyone
    await start_roundrobin(env, circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    await moderator_sets_mute(env, circle, ben, False)  # ben's mute is the moderator's now
    guild_id = circle.world.guild.id
    mod = circle.world.person("mod")

    def moderator_unmutes_cy() -> None:
        # While the bot is down a moderator lets cy speak; only the audit log can say who.
        env.backend.set_voice_state(guild_id, cy.id, circle.voice.id, mute=False)
        env.backend.record_audit_log(
            guild_id,
            AuditLogAction.MEMBER_UPDATE,
            target_id=cy.id,
            changes=[{"key": "mute", "old_value": True, "new_value": False}],
            user_id=mod.id,
        )

    await env.advance_time(5)
    await restart(env, settings, during_downtime=moderator_unmutes_cy)
    assert set(live(env).hands_off) == {ben.id, cy.id}
    assert mutes(circle) == {"fay": False, "ana": True, "ben": False, "cy": False}
    cursor = len(env.http_requests)
    await env.advance_time(120)  # fay -> ana
    await fay.slash(circle.text, "session end")
    assert mute_edits(env, ben, cursor) == mute_edits(env, cy, cursor) == []
    assert mutes(circle) == {"fay": False, "ana": False, "ben": False, "cy": False}
