"""Discord failing while the floor changes hands: the queue keeps its own time, and what
Discord refused for a while is delivered once it answers again: the current floor's
announcement once, nothing stale."""

from __future__ import annotations

from datetime import timedelta

from simcord import Env

from tests.e2e.helpers import refused
from tests.e2e.session_helpers import (
    floor_line,
    is_live,
    labels,
    live,
    make_circle,
    named,
    segments,
    summary_of,
)


async def test_failed_announcements_neither_stop_the_floor_nor_come_twice(simcord_env: Env) -> None:
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
    started = env.now()
    await env.advance_time(61)
    assert circle.messages()[-1].startswith(f"⏳ {fay.mention}, one minute left")

    # A server error on the hand-over's announcement: the floor still moves, once, and the
    # announcement (then the panel) follows two seconds later.
    env.inject_error("POST", "/channels/*/messages", status=500)
    await env.advance_time(59)
    assert live(env).floor_holder() == ana.id
    assert live(env).floor_deadline() == started + timedelta(seconds=240)
    assert not any(m.startswith(f"🎙️ {ana.mention}") for m in circle.messages())
    await env.advance_time(2)
    late = circle.text.history()[-1]
    assert late.content.startswith(f"🎙️ {ana.mention}, it's your turn")
    assert late.created_at == started + timedelta(seconds=122)
    assert named(ana) in floor_line(circle.panel())

    # Rate limited for two whole turns (warnings and hand-overs), then Discord recovers.
    env.inject_error("POST", "/channels/*/messages", status=429, times=None)
    await env.advance_time(118)
    assert live(env).floor_holder() == ben.id
    assert live(env).floor_deadline() == started + timedelta(seconds=360)
    await env.advance_time(119)
    assert live(env).floor_holder() == ben.id
    env.backend.faults.clear()
    await env.advance_time(1)
    handover = circle.text.history()[-1]
    assert handover.content.startswith(f"🎙️ {cy.mention}, it's your turn")
    assert handover.created_at == started + timedelta(seconds=360)
    await env.advance_time(120)
    assert not is_live(env)
    assert summary_of(circle).embeds

    rows = await segments(env)
    assert [(r["speaker_id"], r["outcome"], r["actual_seconds"]) for r in rows] == [
        (fay.id, "timeout", 120),
        (ana.id, "timeout", 120),
        (ben.id, "timeout", 120),
        (cy.id, "timeout", 120),
    ]
    # ana's came late, once; ben's turn was over before Discord answered again, so his
    # announcement and warning were dropped, not posted late; none doubled.
    turns = [m.split(",")[0] for m in circle.messages() if "it's your turn" in m]
    assert turns == [f"🎙️ {fay.mention}", f"🎙️ {ana.mention}", f"🎙️ {cy.mention}"]
    assert not any(m.startswith(f"⏳ {ben.mention}") for m in circle.messages())


async def test_the_end_survives_a_failed_reply_and_panel_edit(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    panel = circle.panel()

    # Answering /session end and editing the panel both fail: the session still ends, and
    # the panel edit and the summary follow once Discord answers again; the ended
    # session's buttons, visible meanwhile, refuse politely.
    env.inject_error("PATCH", "/channels/*/messages/*", status=500, times=None)
    env.inject_error("POST", "/interactions/*/*/callback", status=500)
    await fay.slash(circle.text, "session end")
    assert not is_live(env)
    assert "Next" in labels(circle.panel())
    messages = len(circle.text.history())
    for label in ("Next", "Raise hand", "Pause", "End session"):
        await refused(env, ana.click(panel, label=label), "session has ended")
    assert len(circle.text.history()) == messages

    env.backend.faults.clear()
    await env.advance_time(10)  # the next retry of the panel edit
    assert "Next" not in labels(circle.panel())
    assert summary_of(circle).embeds
