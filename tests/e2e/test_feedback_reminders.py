"""The one feedback reminder: a DM to each attendee who has not rated, and when DMs are
closed, one message in the group channel mentioning exactly those who could not be reached.
Feedback closes after the guild's `feedback_days`."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest
from simcord import Env, MemberActor

from tests.e2e.helpers import (
    bot_of_env,
    close_storage,  # noqa: F401  (a fixture, used below)
    refused,
    requests,
)
from tests.e2e.session_helpers import make_circle
from tests.e2e.test_feedback import feedback_message, run_short_session

pytestmark = pytest.mark.usefixtures("close_storage")


def close_dms(env: Env, person: MemberActor) -> None:
    """The person does not accept DMs from server members: Discord answers 50007."""
    channel_id = person.user.dm_channel.id
    env.inject_error(
        "POST",
        f"/channels/{channel_id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
        times=None,
    )


async def test_closed_dms_fall_back_to_one_channel_message_for_exactly_those(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben", "cy", "eve", "gus"))
    fay, ana, ben, cy, eve, gus = circle.everyone
    managers = circle.world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = circle.world.person("boss", roles=[managers])
    await boss.slash(circle.world.lobby, "mastermind setup", feedback_days=2)

    await run_short_session(env, circle)
    request = await bot_of_env(env).storage.feedback.request(1)
    assert request is not None
    assert request.closes_at - request.opened_at == timedelta(days=2), "the guild's setting"

    await fay.click(feedback_message(circle), label="Valuable")
    await ana.click(feedback_message(circle), label="Very valuable")
    close_dms(env, ben)
    close_dms(env, cy)
    seen = {m.id for m in circle.text.history()}

    await env.advance_time((request.remind_at - env.now()).total_seconds())

    # eve and gus accept DMs and got one each; ben and cy could not be reached by DM.
    assert [len(p.user.dm_channel.history()) for p in circle.everyone] == [0, 0, 0, 0, 1, 1]
    assert len(requests(env, "POST", f"/channels/{ben.user.dm_channel.id}/messages")) == 1
    # One message in the group channel mentions exactly ben and cy, and pings only them.
    new_posts = [m for m in circle.text.history() if m.id not in seen]
    assert len(new_posts) == 1
    fallback = new_posts[0]
    assert fallback.content.startswith(f"{ben.mention} {cy.mention}:")
    assert "reminder" in fallback.content
    assert {u.id for u in fallback.mentions} == {ben.id, cy.id}
    stored = env.backend.messages[circle.text.id][fallback.id]
    assert sorted(stored.ping_user_ids) == sorted([ben.id, cy.id])
    assert stored.ping_role_ids == [] and not stored.mention_everyone
    sent = requests(env, "POST", f"/channels/{circle.text.id}/messages")[-1].json or {}
    assert sorted(sent["allowed_mentions"]["users"]) == sorted([ben.id, cy.id])
    assert sent["allowed_mentions"]["parse"] == []

    # The reminder is sent once: a day later nothing more arrives anywhere.
    await env.advance_time(20 * 3600)
    assert [m.id for m in circle.text.history() if m.id not in seen] == [fallback.id]
    assert [len(p.user.dm_channel.history()) for p in (eve, gus)] == [1, 1]

    # Feedback closes exactly `feedback_days` after the session ended.
    await env.advance_time((request.closes_at - env.now()).total_seconds() - 1)
    assert "so far" in feedback_message(circle).content
    await env.advance_time(1)
    assert "Feedback is closed · 2 responses." in feedback_message(circle).content
    await refused(env, ben.slash(circle.text, "feedback give"), "closed")


async def test_no_reminder_when_everyone_has_rated(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    await run_short_session(env, circle)
    for person in circle.everyone:
        await person.click(feedback_message(circle), label="Moderately")
    seen = {m.id for m in circle.text.history()}
    await env.advance_time(25 * 3600)
    assert not any(p.user.dm_channel.history() for p in circle.everyone)
    assert {m.id for m in circle.text.history()} <= seen, "nothing new in the channel"
    request = await bot_of_env(env).storage.feedback.request(1)
    assert request is not None and request.reminded_at is not None
