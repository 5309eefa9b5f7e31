"""The feedback reminder through the outbox: a DM or the channel fallback that fails once is
delivered once, shortly after; a crash between the commit and the DMs sends each DM once."""

from __future__ import annotations

import pytest
from simcord import Env, MemberActor

from bot import Settings
from cogs.feedback._cog import REMIND_CHANNEL, REMIND_DM
from tests.e2e.helpers import (
    bot_of_env,
    close_storage,  # noqa: F401  (a fixture, used below)
    requests,
    restart,
)
from tests.e2e.session_helpers import Circle, make_circle
from tests.e2e.test_feedback import feedback_message, run_short_session
from tests.e2e.test_feedback_reminders import close_dms

pytestmark = pytest.mark.usefixtures("close_storage")


async def ended_with_eve_waiting(env: Env) -> tuple[Circle, MemberActor, float]:
    """A session of fay, ana and eve; fay and ana rate it. Returns seconds to the reminder."""
    circle = await make_circle(env, ("fay", "ana", "eve"))
    fay, ana, eve = circle.everyone
    await run_short_session(env, circle)
    await fay.click(feedback_message(circle), label="Valuable")
    await ana.click(feedback_message(circle), label="Slightly")
    request = await bot_of_env(env).storage.feedback.request(1)
    assert request is not None
    return circle, eve, (request.remind_at - env.now()).total_seconds()


def dm_posts(env: Env, person: MemberActor) -> list[dict[str, object]]:
    return [
        r.json or {}
        for r in requests(env, "POST", f"/channels/{person.user.dm_channel.id}/messages")
    ]


async def rows(env: Env) -> list[tuple[str, str]]:
    found = await bot_of_env(env).storage.outbox.of_scope("feedback:1")
    return [(r.kind, r.state) for r in found]


async def test_a_reminder_dm_that_fails_once_is_delivered_once(simcord_env: Env) -> None:
    env = simcord_env
    circle, eve, until = await ended_with_eve_waiting(env)
    env.inject_error("POST", f"/channels/{eve.user.dm_channel.id}/messages", status=500)

    await env.advance_time(until)
    assert eve.user.dm_channel.history() == []
    await env.advance_time(5)

    (dm,) = eve.user.dm_channel.history()
    assert "gentle reminder" in dm.content and "Circle" in dm.content
    attempts = dm_posts(env, eve)
    assert len(attempts) == 2 and attempts[0]["nonce"] == attempts[1]["nonce"]
    assert [len(p.user.dm_channel.history()) for p in circle.everyone[:2]] == [0, 0]
    assert await rows(env) == [(REMIND_DM, "done"), (REMIND_CHANNEL, "done")]
    await env.advance_time(3 * 24 * 3600)
    assert len(eve.user.dm_channel.history()) == 1


async def test_a_crash_between_the_commit_and_the_dm_sends_it_once(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    _, eve, until = await ended_with_eve_waiting(env)
    env.inject_error("POST", f"/channels/{eve.user.dm_channel.id}/messages", times=None)
    await env.advance_time(until)
    assert await rows(env) == [(REMIND_DM, "pending"), (REMIND_CHANNEL, "pending")]

    old = bot_of_env(env)
    await old.timers.stop()
    await old.outbox.stop()
    env.backend.faults.clear()
    await restart(env, settings)
    await env.advance_time(10)
    await restart(env, settings)
    await env.advance_time(2 * 24 * 3600)

    assert len(eve.user.dm_channel.history()) == 1
    assert len({str(p["nonce"]) for p in dm_posts(env, eve)}) == 1
    request = await bot_of_env(env).storage.feedback.request(1)
    assert request is not None and request.reminded_at is not None


async def test_the_channel_fallback_that_fails_once_is_posted_once(simcord_env: Env) -> None:
    env = simcord_env
    circle, eve, until = await ended_with_eve_waiting(env)
    close_dms(env, eve)
    env.inject_error("POST", f"/channels/{circle.text.id}/messages", status=503)
    seen = {m.id for m in circle.text.history()}

    await env.advance_time(until + 5)

    new = [m for m in circle.text.history() if m.id not in seen]
    assert len(new) == 1 and new[0].content.startswith(f"{eve.mention}:")
    assert {u.id for u in new[0].mentions} == {eve.id}
    assert await rows(env) == [(REMIND_DM, "done"), (REMIND_CHANNEL, "done")]
    assert await bot_of_env(env).storage.feedback.reminder_misses(1) == [eve.id]
