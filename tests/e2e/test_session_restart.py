"""A restart in the middle of a session: same deadlines, old buttons, presence reconciled."""

from __future__ import annotations

from datetime import timedelta

import discord
from simcord import Env

from bot import Settings, create_bot
from tests.e2e.helpers import replace_bot, reply_text
from tests.e2e.session_helpers import (
    floor_line,
    is_live,
    live,
    make_circle,
    muted,
    named,
    restart,
    segments,
    unix,
)


async def test_restart_mid_turn_keeps_the_deadline_and_the_old_panel_works(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, _ = circle.everyone
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="hotseat",
        turn_minutes=4,
        order="joined",
    )
    started = env.now()
    panel = circle.panel()
    # Hot seat of 4 minutes: present 1 min, questions 1 min, advice 2 min.
    await env.advance_time(20)

    await restart(env, settings)
    assert env.bot is not None and live(env).floor_holder() == fay.id
    await env.advance_time(39)
    assert circle.messages()[-1].startswith(f"🔥 {fay.mention} is in the hot seat")
    await env.advance_time(1)
    questions = circle.text.history()[-1]
    assert questions.content.startswith(f"❓ Clarifying questions for {fay.mention}")
    assert questions.created_at == started + timedelta(seconds=60)

    # The panel posted by the old bot still drives the new one.
    assert circle.panel().id == panel.id
    result = await fay.click(panel, label="Next")
    assert not result.followups
    assert circle.messages()[-1].startswith(f"💡 Advice for {fay.mention}")
    await ben.click(panel, label="Raise hand")
    assert circle.messages()[-1].startswith(f"✋ {ben.mention}, you have the floor")
    assert named(ben) in floor_line(circle.panel())
    await ben.click(panel, label="Next")
    assert circle.messages()[-1].startswith(f"💡 Advice for {fay.mention}")

    # Exactly one announcement per hand-over, none repeated by the restart.
    contents = circle.messages()
    assert sum(m.startswith(f"🔥 {fay.mention}") for m in contents) == 1
    assert sum(m.startswith(f"❓ Clarifying questions for {fay.mention}") for m in contents) == 1
    assert sum(m.startswith(f"✋ {ben.mention}") for m in contents) == 1

    # A second restart during the advice phase; its deadline survives too.
    advice_deadline = live(env).floor_deadline()
    assert advice_deadline is not None
    await restart(env, settings)
    await env.advance_time((advice_deadline - env.now()).total_seconds())
    nxt = circle.text.history()[-1]
    assert nxt.content.startswith(f"🔥 {ana.mention} is in the hot seat")
    assert nxt.created_at == advice_deadline
    assert sum(m.startswith(f"🔥 {ana.mention}") for m in circle.messages()) == 1


async def test_restart_reconciles_who_is_really_in_voice(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    dan = circle.world.person("dan")
    await dan.slash(circle.world.lobby, "group join", group="Circle")
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=5,
        order="joined",
    )
    await env.advance_time(100)
    guild_id = circle.world.guild.id

    def change() -> None:
        # While the bot is down: the speaker and a pending member leave, dan joins.
        env.backend.set_voice_state(guild_id, fay.id, None)
        env.backend.set_voice_state(guild_id, ben.id, None)
        env.backend.set_voice_state(guild_id, dan.id, circle.voice.id)

    await restart(env, settings, during_downtime=change)
    back_at = env.now()

    state = live(env)
    assert not state.is_present(fay.id) and not state.is_present(ben.id)
    assert state.is_present(dan.id) and dan.id in state.roster
    assert state.grace is not None and state.grace.member_id == fay.id
    assert state.grace.until == back_at + timedelta(seconds=60)

    # fay does not come back: her turn ends 60 s after the bot saw she was gone.
    await env.advance_time(60)
    handover = circle.text.history()[-1]
    assert handover.content.startswith(f"🎙️ {ana.mention}, it's your turn")
    assert handover.created_at == back_at + timedelta(seconds=60)
    assert f"<t:{unix(back_at + timedelta(seconds=360))}:R>" in handover.content
    await env.advance_time(300)
    # ben is absent, so cy, then dan who joined during the downtime.
    assert circle.messages()[-1].startswith(f"🎙️ {cy.mention}, it's your turn")
    await env.advance_time(300)
    assert circle.messages()[-1].startswith(f"🎙️ {dan.mention}, it's your turn")
    await env.advance_time(300)
    assert not is_live(env)
    rows = await segments(env)
    assert [(r["speaker_id"], r["outcome"]) for r in rows] == [
        (fay.id, "left"),
        (ana.id, "timeout"),
        (ben.id, "absent"),
        (cy.id, "timeout"),
        (dan.id, "timeout"),
    ]


async def test_work_that_fell_due_while_down_runs_once_without_a_burst(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, _, ben, _ = circle.everyone
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=2,
        order="joined",
    )
    started = env.now()
    await env.advance_time(30)
    posts_before = len(circle.text.history())

    # The new bot comes back 4.5 minutes later than the old one left (its clock is ahead):
    # fay's and ana's turns and their warnings all fell due meanwhile.
    gap = timedelta(minutes=4)
    await replace_bot(env, create_bot(settings, clock=lambda: discord.utils.utcnow() + gap))

    new_posts = circle.text.history()[posts_before:]
    assert [m.content[:40] for m in new_posts] == [f"🎙️ {ben.mention}, it's your turn"[:40]]
    assert f"<t:{unix(started + timedelta(seconds=360))}:R>" in new_posts[0].content
    assert live(env).floor_holder() == ben.id
    rows = live(env).records
    assert [(r.speaker_id, r.outcome.value, r.actual_seconds) for r in rows] == [
        (fay.id, "timeout", 120),
        (circle.members[0].id, "timeout", 120),
    ]


async def test_after_a_restart_a_new_session_sees_everyone_already_in_voice(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    await restart(env, settings)  # nobody left or joined voice: the new bot only has a snapshot

    result = await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    assert "with 4 people" in reply_text(result)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    holder = live(env).floor_holder()
    assert {p.name: muted(p) for p in circle.everyone} == {
        p.name: p.id != holder for p in (fay, ana, ben, cy)
    }
