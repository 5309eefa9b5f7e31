"""Who is in the voice channel: late joiners, speakers who step out, absent speakers."""

from __future__ import annotations

from datetime import timedelta

import discord
from simcord import Env

from tests.e2e.session_helpers import (
    allow,
    field,
    floor_line,
    is_live,
    live,
    make_circle,
    named,
    segments,
    summary_of,
    unix,
)


async def test_late_joiner_gets_checkin_and_commitments_but_no_hot_seat(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    dan = circle.world.person("dan")
    await dan.slash(circle.world.lobby, "group join", group="Circle")
    # An observer a server admin let into the voice channel, who is not in the group.
    zed = circle.world.person("zed")
    allow(env, circle.voice, zed.id, allow=discord.Permissions(view_channel=True, connect=True))

    await fay.slash(circle.text, "session start", group="Circle", order="joined")
    await env.advance_time(30)
    await dan.join_voice(circle.voice)

    state = live(env)
    assert state.roster == [fay.id, ana.id, ben.id, cy.id, dan.id]
    assert [(s.speaker_id, s.phase.value) for s in state.pending if s.speaker_id == dan.id] == [
        (dan.id, "checkin"),
        (dan.id, "commitments"),
    ]
    assert "Check-in** (5)" in field(circle.panel(), "Agenda")

    before_messages = len(circle.text.history())
    before_state = live(env).model_dump()
    await zed.join_voice(circle.voice)
    await env.advance_time(1)
    await zed.leave_voice()
    assert len(circle.text.history()) == before_messages
    after = live(env).model_dump()
    assert after["roster"] == before_state["roster"]
    assert after["pending"] == before_state["pending"]
    assert zed.id not in live(env).presence

    # Four check-ins of 2 minutes, then dan's, then the two hot seats (fay, ana).
    await env.advance_time(4 * 120 - 31)
    assert circle.messages()[-1].startswith(f"🎙️ {dan.mention}, your check-in")
    await env.advance_time(120)
    assert circle.messages()[-1].startswith(f"🔥 {fay.mention} is in the hot seat")
    await env.advance_time(2 * 1200)
    assert circle.messages()[-1].startswith(f"📝 {fay.mention}, your commitments")
    await env.advance_time(5 * 60)
    assert not is_live(env)

    rows = await segments(env)
    dan_rows = [(r["round"], r["phase"], r["outcome"]) for r in rows if r["speaker_id"] == dan.id]
    assert dan_rows == [
        ("checkin", "checkin", "timeout"),
        ("commitments", "commitments", "timeout"),
    ]
    hot_seat_speakers = {r["speaker_id"] for r in rows if r["round"] == "hotseats"}
    assert hot_seat_speakers == {fay.id, ana.id}
    assert zed.id not in {r["speaker_id"] for r in rows}
    summary = summary_of(circle)
    attendance = field(summary, "Attendance")
    assert named(dan) in attendance and named(zed) not in attendance
    assert summary.embeds[0].fields[0].name == "Attendance (5)"


async def test_speaker_who_steps_out_briefly_keeps_the_turn_and_its_deadline(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    await fay.slash(
        circle.text, "session start", group="Circle", format="roundrobin", order="joined"
    )
    started = env.now()
    deadline = started + timedelta(minutes=5)
    assert f"<t:{unix(deadline)}:R>" in floor_line(circle.panel())

    await env.advance_time(30)
    await fay.leave_voice()
    await env.advance_time(45)
    await fay.join_voice(circle.voice)
    messages = len(circle.messages())

    await env.advance_time(300 - 75 - 1)
    assert len(circle.messages()) == messages + 1  # only the one-minute warning
    assert circle.messages()[-1].startswith(f"⏳ {fay.mention}, one minute left")
    assert live(env).floor_holder() == fay.id
    await env.advance_time(1)
    handover = circle.text.history()[-1]
    assert handover.content.startswith(f"🎙️ {ana.mention}, it's your turn")
    assert handover.created_at == deadline

    await fay.slash(circle.text, "session end")
    first = (await segments(env))[0]
    assert (first["speaker_id"], first["outcome"], first["actual_seconds"]) == (
        fay.id,
        "timeout",
        300,
    )


async def test_speaker_who_does_not_come_back_loses_the_turn_after_60_seconds(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, _ = circle.everyone
    await fay.slash(circle.text, "session start", group="Circle", format="hotseat", turn_minutes=8)
    first = live(env).floor_holder()
    assert first is not None
    speaker = next(p for p in circle.everyone if p.id == first)
    following = live(env).upcoming_speakers(1)[0]
    following_actor = next(p for p in circle.everyone if p.id == following)

    await env.advance_time(20)
    left_at = env.now()
    await speaker.leave_voice()
    await env.advance_time(59)
    assert live(env).floor_holder() == speaker.id
    await env.advance_time(1)
    handover = circle.text.history()[-1]
    assert handover.content.startswith(f"🔥 {following_actor.mention} is in the hot seat")
    assert handover.created_at == left_at + timedelta(seconds=60)
    assert named(speaker) not in floor_line(circle.panel())
    assert named(following_actor) in floor_line(circle.panel())

    await fay.slash(circle.text, "session end", group="Circle")
    rows = await segments(env)
    theirs = [(r["phase"], r["outcome"], r["actual_seconds"]) for r in rows[:3]]
    # The whole hot seat (present, questions, advice) ends: the present phase ran 80 s.
    assert theirs == [("present", "left", 80), ("questions", "left", 0), ("advice", "left", 0)]
    assert all(r["speaker_id"] == speaker.id for r in rows[:3])
    assert not any(r["outcome"] == "left" for r in rows[3:])
    _ = (ana, ben)


async def test_absent_pending_speaker_is_passed_over(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=2,
        order="joined",
    )
    await ben.leave_voice()
    assert "check" not in circle.messages()[-1]

    await env.advance_time(120)
    assert circle.messages()[-1].startswith(f"🎙️ {ana.mention}, it's your turn")
    await ana.click(circle.panel(), label="Next")
    handover = circle.text.history()[-1]
    assert handover.content.startswith(f"🎙️ {cy.mention}, it's your turn")
    assert not any(m.startswith(f"🎙️ {ben.mention}") for m in circle.messages())

    await env.advance_time(120)
    assert not is_live(env)
    rows = await segments(env)
    assert [(r["speaker_id"], r["outcome"]) for r in rows] == [
        (fay.id, "timeout"),
        (ana.id, "done"),
        (ben.id, "absent"),
        (cy.id, "timeout"),
    ]
    assert rows[2]["actual_seconds"] == 0
