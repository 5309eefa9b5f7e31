"""Feedback after a session: ratings, details, reminders, closing, next steps at check-in."""

from __future__ import annotations

import discord
import pytest
from simcord import Env

from bot import MastermindBot
from tests.e2e.helpers import (
    close_storage,  # noqa: F401  (a fixture, used below)
    refused,
    reply_text,
)
from tests.e2e.session_helpers import Circle, make_circle

pytestmark = pytest.mark.usefixtures("close_storage")


def feedback_message(circle: Circle) -> discord.Message:
    """The latest feedback message everyone sees (not someone's `/feedback give` copy)."""
    found = [
        m
        for m in circle.text.history()
        if m.content.startswith("How valuable") and not m.flags.ephemeral
    ]
    assert found, "no feedback message was posted"
    return found[-1]


def button_labels(message: discord.Message) -> list[str]:
    return [c.label or "" for row in message.components for c in row.children]  # type: ignore[attr-defined]


def custom_ids(message: discord.Message) -> list[str]:
    return [c.custom_id or "" for row in message.components for c in row.children]  # type: ignore[attr-defined]


async def run_short_session(env: Env, circle: Circle) -> None:
    await circle.facilitator.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=1,
        order="joined",
    )
    await env.advance_time(60 * len(circle.everyone))


async def test_ratings_details_and_reminder(simcord_env: Env) -> None:
    circle = await make_circle(simcord_env, ("fay", "ana", "ben", "cy", "eve", "dee"))
    fay, ana, ben, cy, eve, dee = circle.everyone
    await dee.leave_voice()
    await run_short_session(simcord_env, circle)

    message = feedback_message(circle)
    labels = [c.label for row in message.components for c in row.children]  # type: ignore[attr-defined]
    assert labels == [
        "Not valuable",
        "Slightly",
        "Moderately",
        "Valuable",
        "Very valuable",
        "Add details",
    ]
    assert message.content.endswith("0 responses so far.")

    for person, label in (
        (fay, "Very valuable"),
        (ana, "Valuable"),
        (ben, "Very valuable"),
        (cy, "Slightly"),
    ):
        result = await person.click(message, label=label)
        assert result.ephemeral and label in reply_text(result)
    result = await cy.click(feedback_message(circle), label="Moderately")
    assert "Changed your rating to **Moderately**" in reply_text(result)
    assert feedback_message(circle).content.endswith("4 responses so far.")

    await refused(simcord_env, dee.click(feedback_message(circle), label="Valuable"), "attended")

    shown = await ana.click(feedback_message(circle), label="Add details")
    assert shown.modal is not None
    saved = await ana.submit_modal(
        shown,
        {
            "resources": "Kern's six steps",
            "referrals": "Dr. Osei for mentoring",
            "next_steps": "Draft aims page\n\n- Email the dean\nBook a writing retreat",
            "comments": "",
        },
    )
    assert "Next steps recorded" in reply_text(saved)
    bot = simcord_env.bot
    assert isinstance(bot, MastermindBot)
    steps = await bot.storage.feedback.open_steps(1, ana.id)
    assert [s.text for s in steps] == [
        "Draft aims page",
        "Email the dean",
        "Book a writing retreat",
    ]
    assert feedback_message(circle).content.endswith("4 responses so far.")

    before = len(circle.text.history())
    await simcord_env.advance_time(24 * 3600)
    reminded = [p.name for p in circle.everyone if p.user.dm_channel.history()]
    assert reminded == ["eve"]
    assert "gentle reminder" in eve.user.dm_channel.history()[-1].content
    assert len(circle.text.history()) == before
    await simcord_env.advance_time(3600)
    assert len(eve.user.dm_channel.history()) == 1

    await simcord_env.advance_time(6 * 24 * 3600)
    closed = feedback_message(circle)
    assert "Feedback is closed · 4 responses." in closed.content
    assert all(c.disabled for row in closed.components for c in row.children)  # type: ignore[attr-defined]
    await refused(simcord_env, eve.slash(circle.text, "feedback give"), "closed")
