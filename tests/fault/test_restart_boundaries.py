"""A restart at every boundary of a full meeting leaves the same records as no restart.

One meeting runs without a restart; then, for every instant the floor changes hands, the same
meeting runs again with the bot replaced by a new one (same database) at that instant: shortly
before the hand-over (the new bot makes it) or right after it (the old bot made it). Members
join voice at distinct times and the order is `joined`, so every run has the same agenda.
The meeting has a raised hand in its advice phase, so response slots cross restarts too.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from simcord import Env

from bot import Settings
from tests.e2e.session_helpers import Circle, make_circle, restart
from tests.fault.meeting import (
    GAP,
    STANDARD,
    Outcome,
    advance_to,
    bot_of,
    keep_session_messages,
    outcome,
    start_meeting,
)

# The bot's handling of REST errors and restarts is the same on both backends (the
# end-to-end suite runs on both); these long runs take the first chosen one.
pytestmark = pytest.mark.one_backend

PLAN = STANDARD
ADVICE = 420  # the hot seat's advice phase runs from +420 s to +480 s
ACTIONS = (
    (ADVICE + 10, "ana", "Raise hand"),  # ana gets the floor to respond
    (ADVICE + 20, "ben", "Raise hand"),  # ben's hand waits
    (ADVICE + 35, "ana", "Next"),  # ana is done: ben responds until the advice phase ends
)
BOUNDARIES = tuple(sorted({*PLAN.boundaries, ADVICE + 10, ADVICE + 35}))
"""Every instant the floor changes hands, the raised-hand responses included."""
BEFORE = 8
"""How long before a boundary the "before" restart happens: after the event preceding the
boundary (never closer than 10 s), and further ahead than SimCord's settle timeout (5 s of
real time), within which a restart would wait for the due timer in real time."""


async def meeting(env: Env, circle: Circle, settings: Settings, restart_at: int | None) -> Outcome:
    """The meeting, with a restart at `restart_at` seconds (None: no restart). At the instant
    of a click, the restart comes after the click."""
    # Everyone joins the call for the meeting, a second apart, as people do for a meeting.
    session_id, start = await start_meeting(circle, PLAN, rejoin=True)
    people = {p.name: p for p in circle.everyone}
    script: list[tuple[int, int, str, str]] = [(at, 0, name, label) for at, name, label in ACTIONS]
    if restart_at is not None:
        script.append((restart_at, 1, "", "restart"))
    for at, _, name, label in sorted(script):
        await advance_to(env, start, at)
        if label == "restart":
            old = bot_of(env)
            await restart(env, settings)
            assert bot_of(env) is not old
        else:
            # The panel posted at the start keeps working after any restart.
            result = await people[name].click(circle.panel(), label=label)
            assert result.acknowledged and not result.ephemeral, f"{name}: {label} refused"
    await advance_to(env, start, PLAN.duration + GAP)
    return await outcome(env, circle, PLAN, session_id, start)


@pytest.mark.parametrize("side", ["before", "after"])
async def test_restart_at_every_boundary_changes_nothing(
    simcord_env: Env, settings: Settings, side: str
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben"))
    await keep_session_messages(circle)
    _, ana, ben = circle.everyone

    clean = await meeting(env, circle, settings, None)
    assert clean.end_reason == "completed" and clean.ended_after == PLAN.duration
    responses = [(s[1], s[5], s[6]) for s in clean.segments if s[3] == "response"]
    assert responses == [(ana.id, 25, "done"), (ben.id, 25, "timeout")]
    planned = [s for s in clean.segments if s[3] != "response"]
    assert len(planned) == 9 and all(s[6] == "timeout" for s in planned)
    assert sum(s[5] for s in planned) == PLAN.duration
    assert [a[1] for a in clean.attendance] == [PLAN.duration] * 3

    shift = -BEFORE if side == "before" else 0
    for boundary in BOUNDARIES:
        if boundary == 0 and side == "before":
            continue  # nothing to restart before the session exists
        run = await meeting(env, circle, settings, boundary + shift)
        where = f"restart {side} +{boundary}s"
        assert run.segments == clean.segments, where
        assert run.attendance == clean.attendance, where
        assert (run.ended_after, run.end_reason) == (clean.ended_after, clean.end_reason), where
        # Same announcements and warnings at the same instants: none lost, none repeated.
        assert run.messages == clean.messages, where
        assert run.panel_title == "Circle · session (ended)", where
        assert run.feedback_message_id is not None, where


async def test_joined_order_survives_a_restart(
    simcord_env: Env, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben", "cy"))  # joined voice 1 s apart
    # A fixed seed whose shuffle is not the joining order, so a tie cannot match by chance.
    monkeypatch.setattr("cogs.sessions._cog.secrets.randbits", lambda bits: 1)
    joined = [p.id for p in circle.everyone]
    service = cast(Any, bot_of(env).get_cog("SessionsCog")).service

    first, _ = await start_meeting(circle, PLAN)
    assert service.get(first).roster == joined  # the order people joined voice in
    await circle.facilitator.slash(circle.text, "session end")
    assert service.get(first) is None

    # Nobody left the voice channel; only the bot restarted.
    await restart(env, settings)
    service = cast(Any, bot_of(env).get_cog("SessionsCog")).service
    second, _ = await start_meeting(circle, PLAN)
    assert service.get(second).roster == joined
