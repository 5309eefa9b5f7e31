"""The panel's buttons and the facilitator's commands: pause, extend, end, notes, status,
skip, move, and the fair order across sessions."""

from __future__ import annotations

from datetime import timedelta

from simcord import Env

from tests.e2e.helpers import reply_text
from tests.e2e.session_helpers import (
    Circle,
    bot_of,
    field,
    floor_line,
    is_live,
    labels,
    live,
    make_circle,
    named,
    segments,
    summary_of,
    unix,
)


async def roundrobin(env: Env, circle: Circle, minutes: int = 5) -> None:
    await circle.facilitator.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=minutes,
        order="joined",
    )


async def test_pause_freezes_the_clock_and_extend_moves_the_deadline(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    await roundrobin(env, circle)
    panel = circle.panel()
    await env.advance_time(100)

    await fay.click(panel, label="Pause")
    assert labels(circle.panel()) == [
        "Next",
        "+2 min",
        "Resume",
        "Raise hand",
        "Add note",
        "End session",
    ]
    assert "paused · 3:20 left" in floor_line(circle.panel())
    messages = len(circle.text.history())
    await env.advance_time(3600)
    assert len(circle.text.history()) == messages
    assert live(env).floor_holder() == fay.id

    await fay.click(panel, label="Resume")
    resumed = env.now()
    assert "Pause" in labels(circle.panel())
    assert f"ends <t:{unix(resumed + timedelta(seconds=200))}:R>" in floor_line(circle.panel())

    await fay.click(panel, label="+2 min")
    deadline = resumed + timedelta(seconds=320)
    assert f"ends <t:{unix(deadline)}:R>" in floor_line(circle.panel())
    await env.advance_time(319)
    assert live(env).floor_holder() == fay.id
    assert circle.messages()[-1].startswith(f"⏳ {fay.mention}, one minute left")
    await env.advance_time(1)
    handover = circle.text.history()[-1]
    assert handover.content.startswith(f"🎙️ {ana.mention}, it's your turn")
    assert handover.created_at == deadline

    # The speaker can pause and extend their own turn too.
    result = await ana.slash(circle.text, "session pause")
    assert reply_text(result) == "Paused."
    await ana.slash(circle.text, "session extend", minutes=3)
    assert "paused · 8:00 left" in floor_line(circle.panel())
    await ana.slash(circle.text, "session resume")
    assert live(env).floor_deadline() == env.now() + timedelta(minutes=8)

    await fay.slash(circle.text, "session end")
    first = (await segments(env))[0]
    assert (first["speaker_id"], first["actual_seconds"], first["outcome"]) == (
        fay.id,
        100 + 320,
        "timeout",
    )


async def test_notes_and_the_end_button_give_a_summary(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    await roundrobin(env, circle)

    shown = await ana.click(circle.panel(), label="Add note")
    assert shown.modal is not None
    assert {c["custom_id"] for c in _inputs(shown.modal)} == {"kind", "text"}
    saved = await ana.submit_modal(shown, {"kind": "resource", "text": "Kern's six steps"})
    assert saved.ephemeral and "Saved your resource" in reply_text(saved)
    result = await ben.slash(
        circle.text, "session note", kind="referral", text="Dr Lee, sim lab", for_member=cy
    )
    assert result.ephemeral and f"for {cy.mention}" in reply_text(result)

    await env.advance_time(300)
    assert live(env).floor_holder() == ana.id
    await fay.click(circle.panel(), label="End session")
    assert not is_live(env)
    panel = circle.panel()
    assert panel.embeds[0].title == "Circle · session (ended)"
    assert labels(panel) == []

    summary = summary_of(circle)
    assert summary.embeds[0].fields[0].name == "Attendance (4)"
    assert all(named(p) in field(summary, "Attendance") for p in circle.everyone)
    assert f"{named(fay)} · 5:00" in field(summary, "Time on the floor")
    notes = field(summary, "Notes")
    assert f"**resource** for {named(fay)}: Kern's six steps" in notes
    assert f"**referral** for {named(cy)}: Dr Lee, sim lab" in notes

    stored = await bot_of(env).storage.sessions.notes(1)
    assert [(n.author_id, n.for_member_id, n.kind, n.text) for n in stored] == [
        (ana.id, fay.id, "resource", "Kern's six steps"),
        (ben.id, cy.id, "referral", "Dr Lee, sim lab"),
    ]
    rows = await segments(env)
    assert [(r["speaker_id"], r["outcome"]) for r in rows] == [
        (fay.id, "timeout"),
        (ana.id, "done"),
        (ben.id, "skipped"),
        (cy.id, "skipped"),
    ]


def _inputs(modal: object) -> list[dict[str, object]]:
    data = modal if isinstance(modal, dict) else getattr(modal, "data", None) or {}
    found: list[dict[str, object]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == 4:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return found


async def test_status_reposts_the_panel_at_the_bottom(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    await roundrobin(env, circle)
    old = circle.panel()
    await env.advance_time(10)
    await ana.slash(circle.text, "session note", kind="insight", text="Protect teaching time")

    result = await ana.slash(circle.text, "session status")
    assert result.ephemeral
    history = circle.text.history()
    assert old.id not in [m.id for m in history]
    new = history[-1]
    assert new.id == circle.panel().id and new.id != old.id
    assert named(fay) in floor_line(new)
    await fay.click(new, label="Next")
    assert circle.messages()[-1].startswith(f"🎙️ {ana.mention}, it's your turn")
    assert named(ana) in floor_line(circle.panel())


async def test_skip_and_move_reorder_the_queue(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    await roundrobin(env, circle)
    assert live(env).upcoming_speakers(3) == [ana.id, ben.id, cy.id]

    result = await fay.slash(circle.text, "session move", member=cy, position=1)
    assert "position 1" in reply_text(result)
    assert live(env).upcoming_speakers(3) == [cy.id, ana.id, ben.id]
    assert field(circle.panel(), "Next") == (
        f"{named(cy)} (turn) · {named(ana)} (turn) · {named(ben)} (turn)"
    )
    await fay.slash(circle.text, "session move", member=ana, position=3)
    assert live(env).upcoming_speakers(3) == [cy.id, ben.id, ana.id]

    await fay.slash(circle.text, "session skip", member=ben)
    assert live(env).upcoming_speakers(3) == [cy.id, ana.id]
    await fay.slash(circle.text, "session skip", member=fay)  # the speaker: the floor moves
    assert circle.messages()[-1].startswith(f"🎙️ {cy.mention}, it's your turn")
    await env.advance_time(600)
    assert not is_live(env)

    outcomes = {r["speaker_id"]: r["outcome"] for r in await segments(env)}
    assert outcomes == {fay.id: "skipped", ben.id: "skipped", cy.id: "timeout", ana.id: "timeout"}


async def test_fair_order_gives_the_hot_seat_to_those_who_never_had_one(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay = circle.facilitator
    everyone = {p.id for p in circle.everyone}

    async def run_session(number: int) -> set[int]:
        await fay.slash(circle.text, "session start", group="Circle", turn_minutes=1, hotseats=2)
        state = live(env, number)
        seats = list(dict.fromkeys(s.speaker_id for s in state.pending if s.round == "hotseats"))
        assert seats == state.roster[:2]  # the first two in the speaking order
        await env.advance_time(4 * 120 + 2 * 60 + 4 * 60)
        assert not is_live(env, number)
        return set(seats)

    first = await run_session(1)
    assert len(first) == 2
    history = await bot_of(env).storage.sessions.last_hotseats(1)
    assert set(history) == first
    second = await run_session(2)
    assert second == everyone - first
    # Everyone has had one now: the two whose hot seat is longest ago come first again.
    third = await run_session(3)
    assert third == first
