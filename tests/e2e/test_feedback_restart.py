"""Feedback survives restarts: the buttons of a message posted before a restart still work,
the reminder goes out once, and feedback closes on time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from simcord import Env, MemberActor

from bot import MastermindBot, Settings
from core.feedback import StepStatus
from tests.e2e.helpers import (
    bot_of_env,
    close_storage,  # noqa: F401  (a fixture, used below)
    refused,
    reply_text,
    restart,
)
from tests.e2e.session_helpers import make_circle
from tests.e2e.test_feedback import button_labels, feedback_message, run_short_session

pytestmark = pytest.mark.usefixtures("close_storage")


def dm_texts(person: MemberActor) -> list[str]:
    return [m.content for m in person.user.dm_channel.history()]


async def test_ratings_after_a_restart_reminder_once_and_closing_on_time(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    names = ("fay", "ana", "ben", "cy", "eve", "gus", "dee")
    circle = await make_circle(env, names)
    fay, ana, ben, cy, eve, gus, dee = circle.everyone
    await dee.leave_voice()  # a member who does not attend
    await run_short_session(env, circle)
    session = await bot_of_env(env).storage.sessions.get(1)
    assert session is not None and session.ended_at is not None
    ended = session.ended_at
    posted = feedback_message(circle)
    assert posted.content.endswith("0 responses so far.")

    # The bot restarts between the end of the session and the ratings.
    old = bot_of_env(env)
    new = await restart(env, settings)
    assert new is not old and isinstance(new, MastermindBot)

    # The buttons of the message posted by the old bot still work.
    for person, label in (
        (fay, "Very valuable"),
        (ana, "Valuable"),
        (ben, "Very valuable"),
        (cy, "Slightly"),
    ):
        result = await person.click(feedback_message(circle), label=label)
        assert result.ephemeral and f"**{label}**" in reply_text(result)
    changed = await cy.click(feedback_message(circle), label="Moderately")
    assert changed.ephemeral and "Changed your rating to **Moderately**" in reply_text(changed)
    message = feedback_message(circle)
    assert message.id == posted.id, "the bot edits its one message; it never posts another"
    assert message.content.endswith("4 responses so far.")
    assert button_labels(message) == [
        "Not valuable",
        "Slightly",
        "Moderately",
        "Valuable",
        "Very valuable",
        "Add details",
    ]

    # A member who did not attend is refused, and nothing is stored for them.
    await refused(env, dee.click(message, label="Valuable"), "attended")
    await refused(env, dee.click(message, label="Add details"), "attended")
    storage = new.storage.feedback
    assert await storage.response(1, dee.id) is None
    ratings = {r.user_id: r.rating for r in await storage.responses(1)}
    assert ratings == {fay.id: 5, ana.id: 4, ben.id: 5, cy.id: 3}

    # One attendee adds details with three next steps; still four responses.
    shown = await ana.click(message, label="Add details")
    assert shown.modal is not None
    saved = await ana.submit_modal(
        shown,
        {
            "resources": "Kern's six steps",
            "referrals": "",
            "next_steps": "Draft aims page\n- Email the dean\n\n* Book a writing retreat",
            "comments": "Great group",
        },
    )
    assert saved.ephemeral and "Next steps recorded" in reply_text(saved)
    steps = await storage.open_steps(1, ana.id)
    assert [(s.text, s.session_id, s.status) for s in steps] == [
        ("Draft aims page", 1, StepStatus.OPEN),
        ("Email the dean", 1, StepStatus.OPEN),
        ("Book a writing retreat", 1, StepStatus.OPEN),
    ]
    assert all(f"`#{s.id}`" in reply_text(saved) for s in steps)
    assert feedback_message(circle).content.endswith("4 responses so far.")

    # 24 hours after the end, exactly the attendees who have not rated get one DM.
    await env.advance_time((ended + timedelta(hours=24) - env.now()).total_seconds() - 1)
    assert not any(dm_texts(p) for p in circle.everyone)
    channel_before = len(circle.text.history())
    await env.advance_time(1)
    reminded = sorted(p.name for p in circle.everyone if dm_texts(p))
    assert reminded == ["eve", "gus"]
    assert "gentle reminder" in dm_texts(eve)[0] and "Circle" in dm_texts(eve)[0]
    assert len(circle.text.history()) == channel_before, "every DM got through: no channel post"

    # Another restart does not send the reminder again.
    await restart(env, settings)
    await env.advance_time(6 * 3600)
    assert [len(dm_texts(p)) for p in (eve, gus)] == [1, 1]
    assert not any(dm_texts(p) for p in (fay, ana, ben, cy, dee))

    # Still open one second before the guild's 7 days are over: eve can rate, gus can change.
    closes = ended + timedelta(days=7)
    await env.advance_time((closes - env.now()).total_seconds() - 1)
    late = await eve.click(feedback_message(circle), label="Valuable")
    assert "Thank you" in reply_text(late)
    assert feedback_message(circle).content.endswith("5 responses so far.")
    ephemeral_form = await gus.slash(circle.text, "feedback give")
    assert ephemeral_form.ephemeral

    # At seven days it closes: the message says so and its buttons are disabled.
    await env.advance_time(1)
    closed = feedback_message(circle)
    assert closed.content.endswith("Feedback is closed · 5 responses.")
    assert all(c.disabled for row in closed.components for c in row.children)  # type: ignore[attr-defined]
    request = await bot_of_env(env).storage.feedback.request(1)
    assert request is not None and request.closed_at == closes
    # A rating after closing (from the copy `/feedback give` showed earlier) is refused.
    await refused(env, gus.click(ephemeral_form.response, label="Valuable"), "closed")
    await refused(env, gus.slash(circle.text, "feedback give"), "closed")
    assert await bot_of_env(env).storage.feedback.response(1, gus.id) is None
    assert len(dm_texts(gus)) == 1
