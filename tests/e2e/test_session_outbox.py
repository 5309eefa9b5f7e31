"""Every effect of a session lands exactly once: retried on 5xx and timeouts with the same
nonce, delivered after a restart collapsed to what the session needs now, reported to the
facilitators once when the bot lost a permission."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
from simcord import Env

from bot import Settings
from tests.e2e.helpers import reply_text, set_bot_permissions
from tests.e2e.session_helpers import (
    Circle,
    allow,
    bot_member_id,
    bot_of,
    floor_line,
    is_live,
    live,
    make_circle,
    muted,
    named,
    restart,
    summary_of,
)
from tests.e2e.test_feedback import feedback_message

POSTS = "/channels/*/messages"


async def start_roundrobin(circle: Circle, minutes: int = 2) -> None:
    await circle.facilitator.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=minutes,
        order="joined",
    )


def creates(env: Env, circle: Circle, since: int = 0) -> list[dict[str, Any]]:
    """Every message create the bot sent to the group channel (failed ones too)."""
    return [
        dict(r.json or {})
        for r in env.http_requests[since:]
        if r.method == "POST" and r.path == f"/channels/{circle.text.id}/messages"
    ]


def time_out_once(env: Env, path_end: str) -> list[int]:
    """The next message create to the channel times out before it reaches Discord, as a
    dropped connection would; returns a list that counts the timeouts raised."""
    bot = bot_of(env)
    original = bot.http.request
    raised: list[int] = []

    async def request(route: discord.http.Route, **kwargs: Any) -> Any:
        if not raised and route.method == "POST" and route.path.endswith(path_end):
            raised.append(1)
            raise TimeoutError("connection timed out (injected by test)")
        return await original(route, **kwargs)

    bot.http.request = request  # type: ignore[method-assign]
    return raised


@pytest.mark.parametrize("fault", ["500", "503", "timeout"])
async def test_a_failed_announcement_is_delivered_once_shortly_after(
    simcord_env: Env, fault: str
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    await start_roundrobin(circle)
    started = env.now()
    await env.advance_time(119)
    cursor = len(env.http_requests)
    if fault == "timeout":
        raised = time_out_once(env, "/channels/{channel_id}/messages")
    else:
        env.inject_error("POST", POSTS, status=int(fault))
    await env.advance_time(1)
    assert live(env).floor_holder() == ana.id
    assert not any(m.startswith(f"🎙️ {ana.mention}") for m in circle.messages())

    await env.advance_time(2)
    if fault == "timeout":
        assert raised == [1]
    handed = [m for m in circle.text.history() if m.content.startswith(f"🎙️ {ana.mention}")]
    assert len(handed) == 1
    assert handed[0].created_at == started + timedelta(seconds=122)
    assert named(ana) in floor_line(circle.panel())
    # The retry carried the nonce of the first attempt (which Discord would have deduped).
    tries = [c for c in creates(env, circle, cursor) if ana.mention in c.get("content", "")]
    assert len(tries) == (1 if fault == "timeout" else 2)
    assert {c["nonce"] for c in tries} == {tries[0]["nonce"]} and tries[0]["enforce_nonce"]
    rows = await bot_of(env).storage.outbox.of_scope("session:1")
    assert [r.state for r in rows if r.kind == "session.announce"] == ["done", "done"]
    assert fay.id not in live(env).bot_mutes


async def test_every_message_failing_across_hand_overs_then_a_restart(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    await start_roundrobin(circle)
    await env.advance_time(100)
    before = len(circle.messages())
    # Discord refuses every message post through two hand-overs; then the bot restarts.
    env.inject_error("POST", POSTS, status=503, times=None)
    await env.advance_time(20 + 120 + 30)  # ana's turn, ben's turn, 30 s into ben's
    assert live(env).floor_holder() == ben.id
    assert len(circle.messages()) == before
    env.backend.faults.clear()
    await restart(env, settings)

    # Only the current floor is announced, once; no stale warning; the panel is current.
    new = circle.messages()[before:]
    assert [m.split(",")[0] for m in new] == [f"🎙️ {ben.mention}"]
    assert named(ben) in floor_line(circle.panel())
    await env.advance_time(90)
    assert live(env).floor_holder() == cy.id
    turns = [m.split(",")[0] for m in circle.messages() if "it's your turn" in m]
    assert turns == [f"🎙️ {m.mention}" for m in (fay, ben, cy)]
    assert ana.id != fay.id


async def test_the_end_during_an_outage_still_gives_one_summary_and_one_feedback_message(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    await start_roundrobin(circle)
    await env.advance_time(30)
    env.inject_error("POST", POSTS, status=500, times=None)
    await fay.slash(circle.text, "session end")
    assert not is_live(env)
    await env.advance_time(60)
    env.backend.faults.clear()
    await restart(env, settings)

    summaries = [
        m
        for m in circle.text.history()
        if m.embeds and m.embeds[0].title == "Circle · session summary"
    ]
    assert len(summaries) == 1 and summary_of(circle).id == summaries[0].id
    asked = [m for m in circle.messages() if m.startswith("How valuable was today's session?")]
    assert len(asked) == 1
    result = await ana.click(feedback_message(circle), label="Valuable")
    assert "Valuable" in reply_text(result)
    request = await bot_of(env).storage.feedback.request(1)
    assert request is not None and request.message_id == feedback_message(circle).id


async def test_losing_send_messages_is_reported_once_to_the_facilitators(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _, _ = circle.everyone
    await start_roundrobin(circle)
    allow(env, circle.text, bot_member_id(env), deny=discord.Permissions(send_messages=True))
    await env.settle()
    await env.advance_time(60 + 60 + 120)  # a warning, a hand-over, another turn
    assert live(env).floor_holder() != fay.id

    told = fay.user.dm_channel.history()
    assert len(told) == 1, [m.content for m in told]
    assert "**Send Messages**" in told[0].content and circle.text.mention in told[0].content
    assert not ana.user.dm_channel.history()  # only facilitators are told


async def test_losing_mute_members_is_reported_once_in_the_group_channel(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, _ = circle.everyone
    await start_roundrobin(circle)
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    assert muted(ana)
    await set_bot_permissions(env, circle.world.guild, mute_members=False)
    await env.advance_time(120 + 120)  # two hand-overs: each unmutes and mutes someone
    assert live(env).floor_holder() == ben.id

    notices = [m for m in circle.messages() if m.startswith("⚠️")]
    assert len(notices) == 1, notices
    assert "**Mute Members**" in notices[0] and circle.voice.mention in notices[0]
    assert ben.id in live(env).bot_mutes or muted(ben)  # the meeting went on regardless


async def test_a_timer_and_a_click_in_the_same_instant(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, _ = circle.everyone
    await start_roundrobin(circle)
    bot = bot_of(env)
    # Hold the timer back so that its deadline and fay's Next fall on the same instant.
    bot.timers.schedule("session", 1, None)
    await env.advance_time(120)
    panel = circle.panel()
    bot.timers.schedule("session", 1, env.now())  # due now: it runs as the click lands
    await fay.click(panel, label="Next")
    await env.settle()
    # The timer's task was started from the test, so SimCord does not wait for its work.
    await bot.outbox.idle()
    await env.settle()

    state = live(env)
    assert state.floor_holder() in {ana.id, ben.id}
    expected = [fay, ana] if state.floor_holder() == ana.id else [fay, ana, ben]
    turns = [m.split(",")[0] for m in circle.messages() if "it's your turn" in m]
    assert turns == [f"🎙️ {m.mention}" for m in expected]
    holder = next(m for m in circle.everyone if m.id == state.floor_holder())
    assert named(holder) in floor_line(circle.panel())
    rows = await bot.storage.outbox.of_scope("session:1")
    assert all(r.state == "done" for r in rows)
    announced = [r.payload["member_id"] for r in rows if r.kind == "session.announce"]
    assert announced == [m.id for m in expected]
