"""Every refusal of a session action: an ephemeral reason, and nothing changed."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import discord
from simcord import Env

from tests.e2e.helpers import refused
from tests.e2e.session_helpers import (
    Circle,
    allow,
    bot_of,
    in_voice,
    is_live,
    live,
    make_circle,
    muted,
)


async def snapshot(env: Env, circle: Circle) -> tuple[object, ...]:
    """What a refusal must leave as it was: the session, the channel, the database."""
    db = bot_of(env).storage.db
    sessions = await db.fetch_all("SELECT id, state, ended_at FROM sessions ORDER BY id")
    notes = await db.fetch_all("SELECT * FROM notes")
    state = live(env).model_dump() if is_live(env) else None
    channel = [(m.id, m.content, [e.to_dict() for e in m.embeds]) for m in circle.text.history()]
    mutes = [in_voice(p) and muted(p) for p in circle.everyone]
    return (
        state,
        [tuple(row) for row in sessions],
        [tuple(row) for row in notes],
        channel,
        mutes,
    )


async def refused_unchanged(
    env: Env, circle: Circle, action: Awaitable[Any], *fragments: str
) -> None:
    before = await snapshot(env, circle)
    await refused(env, action, *fragments)
    assert await snapshot(env, circle) == before


async def running_circle(env: Env, **options: object) -> Circle:
    circle = await make_circle(env)
    await circle.facilitator.slash(
        circle.text,
        "session start",
        group="Circle",
        **{"format": "roundrobin", "order": "joined", **options},
    )
    return circle


async def test_start_refusals(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, join_voice=False)
    fay, ana, _, _ = circle.everyone

    await refused_unchanged(
        env, circle, fay.slash(circle.text, "session start", group="Circle"), "Nobody from"
    )
    assert await bot_of(env).storage.db.fetch_all("SELECT id FROM sessions") == []

    for person in circle.everyone:
        await person.join_voice(circle.voice)
    await refused_unchanged(
        env,
        circle,
        ana.slash(circle.text, "session start", group="Circle"),
        "Only a facilitator",
    )
    await fay.slash(circle.text, "session start", group="Circle")
    await refused_unchanged(
        env,
        circle,
        fay.slash(circle.text, "session start", group="Circle", format="hotseat"),
        "already has a live session",
    )


async def test_only_members_use_the_controls(simcord_env: Env) -> None:
    env = simcord_env
    circle = await running_circle(env)
    # An observer a server admin let read the group channel: still no controls.
    zed = circle.world.person("zed")
    allow(
        env,
        circle.text,
        zed.id,
        allow=discord.Permissions(view_channel=True, read_message_history=True),
    )
    await env.settle()
    panel = circle.panel()

    for label in ("Next", "+2 min", "Pause", "Raise hand", "Add note", "End session"):
        await refused_unchanged(env, circle, zed.click(panel, label=label), "Only members")
    await refused_unchanged(
        env, circle, zed.slash(circle.world.lobby, "session next", group="Circle"), "Only members"
    )
    await refused_unchanged(env, circle, zed.slash(circle.text, "session pause"), "Only members")
    await refused_unchanged(
        env,
        circle,
        zed.slash(circle.text, "session note", kind="insight", text="hello"),
        "Only members",
    )


async def test_facilitator_only_actions(simcord_env: Env) -> None:
    env = simcord_env
    circle = await running_circle(env)
    _, ana, ben, cy = circle.everyone
    panel = circle.panel()

    await refused_unchanged(
        env, circle, ana.slash(circle.text, "session skip", member=ben), "Only a facilitator"
    )
    await refused_unchanged(
        env,
        circle,
        ana.slash(circle.text, "session move", member=cy, position=1),
        "Only a facilitator",
    )
    await refused_unchanged(
        env, circle, ana.slash(circle.text, "session end"), "Only a facilitator"
    )
    await refused_unchanged(
        env, circle, ana.click(panel, label="End session"), "Only a facilitator"
    )
    await refused_unchanged(
        env, circle, ana.slash(circle.text, "session talkingstick", enabled=True), "facilitator"
    )


async def test_only_the_floor_holder_moves_on_pauses_or_extends(simcord_env: Env) -> None:
    env = simcord_env
    circle = await running_circle(env)
    _, _, ben, _ = circle.everyone
    panel = circle.panel()

    await refused_unchanged(env, circle, ben.click(panel, label="Next"), "holding the floor")
    await refused_unchanged(
        env, circle, ben.slash(circle.text, "session next"), "holding the floor"
    )
    await refused_unchanged(env, circle, ben.click(panel, label="Pause"), "Only the speaker")
    await refused_unchanged(env, circle, ben.click(panel, label="+2 min"), "Only the speaker")
    await refused_unchanged(
        env, circle, ben.slash(circle.text, "session extend", minutes=3), "Only the speaker"
    )


async def test_limits_and_wrong_moments(simcord_env: Env) -> None:
    env = simcord_env
    circle = await running_circle(env)
    fay, ana, ben, _ = circle.everyone

    await fay.slash(circle.text, "session extend", minutes=8)
    await refused_unchanged(
        env,
        circle,
        fay.slash(circle.text, "session extend", minutes=8),
        "15 minutes at most",
        "7 min",
    )
    await refused_unchanged(
        env,
        circle,
        fay.slash(circle.text, "session move", member=ben, position=4),
        "between 1 and 3",
    )
    await refused_unchanged(
        env,
        circle,
        fay.slash(circle.text, "session move", member=fay, position=1),
        "no turn waiting",
    )
    await refused_unchanged(
        env, circle, ana.slash(circle.text, "session hand"), "only during the advice phase"
    )
    await refused_unchanged(
        env, circle, ana.click(circle.panel(), label="Raise hand"), "advice phase"
    )
    await refused_unchanged(env, circle, fay.slash(circle.text, "session resume"), "not paused")
    await refused_unchanged(
        env, circle, fay.slash(circle.text, "session talkingstick", enabled=False), "already off"
    )


async def test_bad_notes(simcord_env: Env) -> None:
    env = simcord_env
    circle = await running_circle(env)
    ana = circle.members[0]

    shown = await ana.click(circle.panel(), label="Add note")
    await refused_unchanged(
        env,
        circle,
        ana.submit_modal(shown, {"kind": "video", "text": "a talk"}),
        "`resource`, `referral` or `insight`",
    )
    shown = await ana.click(circle.panel(), label="Add note")
    await refused_unchanged(
        env, circle, ana.submit_modal(shown, {"kind": "insight", "text": "   "}), "empty"
    )
    await refused_unchanged(
        env,
        circle,
        ana.slash(circle.text, "session note", kind="resource", text="x" * 1001),
        "at most 1000",
    )
    assert await bot_of(env).storage.sessions.notes(1) == []


async def test_nothing_to_control_without_a_live_session(simcord_env: Env) -> None:
    env = simcord_env
    circle = await running_circle(env)
    fay = circle.facilitator
    await fay.slash(circle.text, "session end")

    for command in ("session next", "session pause", "session status", "session end"):
        await refused_unchanged(env, circle, fay.slash(circle.text, command), "no live session")
