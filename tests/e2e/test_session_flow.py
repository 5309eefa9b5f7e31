"""A whole standard session in virtual time: check-in, two hot seats, commitments."""

from __future__ import annotations

from datetime import timedelta

from simcord import Env

from bot import MastermindBot
from tests.e2e.helpers import reply_text
from tests.e2e.session_helpers import make_circle, summary_of


def bot_of(env: Env) -> MastermindBot:
    bot = env.bot
    assert isinstance(bot, MastermindBot)
    return bot


async def test_standard_session_runs_itself(simcord_env: Env) -> None:
    circle = await make_circle(simcord_env)
    fay, ana, ben, _ = circle.everyone
    start = simcord_env.now()

    result = await fay.slash(circle.text, "session start", group="Circle", order="joined")
    assert "Started a **standard** session with 4 people" in reply_text(result)
    panel = circle.panel()
    assert panel.embeds and panel.embeds[0].title == "Circle · session"
    labels = [c.label for row in panel.components for c in row.children]  # type: ignore[attr-defined]
    assert labels == ["Next", "+2 min", "Pause", "Raise hand", "Add note", "End session"]
    first = circle.messages()[-1]
    assert first.startswith(f"🎙️ {fay.mention}, your check-in")
    assert circle.pings()[-1] == [fay.id]

    # Check-in: 2 minutes each, a warning one minute before each ends.
    await simcord_env.advance_time(60)
    assert circle.messages()[-1].startswith(f"⏳ {fay.mention}, one minute left")
    await simcord_env.advance_time(60)
    assert circle.messages()[-1].startswith(f"🎙️ {ana.mention}, your check-in")
    await simcord_env.advance_time(120 * 3)
    assert circle.messages()[-1].startswith(f"🔥 {fay.mention} is in the hot seat")

    # Hot seat 1 (fay): present 5 min, questions 5 min, advice 10 min.
    await simcord_env.advance_time(300)
    assert circle.messages()[-1].startswith(f"❓ Clarifying questions for {fay.mention}")
    await simcord_env.advance_time(300)
    assert circle.messages()[-1].startswith(f"💡 Advice for {fay.mention}")
    panel = circle.panel()
    await ben.click(panel, label="Raise hand")
    assert circle.messages()[-1].startswith(f"✋ {ben.mention}, you have the floor")
    await simcord_env.advance_time(120)
    assert circle.messages()[-1].startswith(f"💡 Advice for {fay.mention}")
    await simcord_env.advance_time(480)
    assert circle.messages()[-1].startswith(f"🔥 {ana.mention} is in the hot seat")

    # Hot seat 2 (ana) runs to its end, then commitments for everyone.
    await simcord_env.advance_time(1200)
    assert circle.messages()[-1].startswith(f"📝 {fay.mention}, your commitments")
    await simcord_env.advance_time(60 * 4)

    summary = summary_of(circle)  # the feedback message may follow it
    assert summary.embeds and summary.embeds[0].title == "Circle · session summary"
    bot = bot_of(simcord_env)
    row = await bot.storage.sessions.get(1)
    assert row is not None and row.ended_at is not None
    assert row.ended_at - start == timedelta(seconds=8 * 60 + 2 * 1200 + 4 * 60) + (
        row.started_at - start
    )
    segments = await bot.storage.sessions.segment_rows(1)
    planned = [s for s in segments if s["phase"] != "response"]
    assert len(planned) == 4 + 6 + 4
    assert all(s["outcome"] == "timeout" for s in planned)
    responses = [s for s in segments if s["phase"] == "response"]
    assert [(s["speaker_id"], s["actual_seconds"]) for s in responses] == [(ben.id, 120)]
    every_ping = circle.pings()
    assert all(len(users) <= 1 for users in every_ping)
