"""`/feedback give`, `/feedback status`, and the details form's limits."""

from __future__ import annotations

import pytest
from simcord import Env, SetupError

from bot import Settings
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


async def test_feedback_give_and_status(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben", "cy", "dee"))
    fay, ana, ben, cy, dee = circle.everyone
    outsider = circle.world.person("oz")
    await dee.leave_voice()
    await run_short_session(env, circle)
    storage = bot_of_env(env).storage.feedback

    # The same buttons, ephemeral, for the latest session ana attended.
    given = await ana.slash(circle.text, "feedback give")
    assert given.ephemeral and given.response is not None
    assert reply_text(given).startswith("How valuable was the **Circle** session")
    assert button_labels(given.response.message) == [
        "Not valuable",
        "Slightly",
        "Moderately",
        "Valuable",
        "Very valuable",
        "Add details",
    ]
    rated = await ana.click(given.response, label="Valuable")
    assert rated.ephemeral and "**Valuable**" in reply_text(rated)
    # The public message counts the response given through the ephemeral copy.
    assert feedback_message(circle).content.endswith("1 response so far.")
    again = await ana.slash(circle.text, "feedback give")
    assert "Your rating now: **Valuable**" in reply_text(again)
    form = await ana.click(again.response, label="Add details")
    assert form.modal is not None and form.modal["custom_id"] == "mm:feedback:form:1"
    await ana.submit_modal(form, {"comments": "More time for advice"})
    response = await storage.response(1, ana.id)
    assert response is not None
    assert (response.rating, response.details.comments) == (4, "More time for advice")

    # From another channel, naming the group.
    from_lobby = await ben.slash(circle.world.lobby, "feedback give", group="Circle")
    assert "How valuable" in reply_text(from_lobby)
    # Details without a rating are a response too (with a nudge to rate as well).
    form = await ben.click(from_lobby.response, label="Add details")
    saved = await ben.submit_modal(form, {"resources": "Kern's six steps"})
    assert "Please also rate" in reply_text(saved)
    assert feedback_message(circle).content.endswith("2 responses so far.")
    rated = await ben.click(from_lobby.response, label="Slightly")
    assert "Thank you" in reply_text(rated)
    assert feedback_message(circle).content.endswith("2 responses so far.")
    await refused(env, dee.slash(circle.text, "feedback give"), "not attended")
    await refused(env, outsider.slash(circle.world.lobby, "feedback give"), "not attended")

    # Status: everyone in the group sees the rate; only a facilitator sees who is missing.
    await cy.click(feedback_message(circle), label="Slightly")
    status = await fay.slash(circle.text, "feedback status")
    assert status.ephemeral
    text = reply_text(status)
    assert "3 of 4 attendees answered (75.0 %)" in text
    assert f"Not answered yet: {fay.mention}" in text
    member_view = reply_text(await cy.slash(circle.text, "feedback status"))
    assert "3 of 4 attendees answered (75.0 %)" in member_view
    assert "Not answered" not in member_view and fay.mention not in member_view
    await refused(
        env,
        outsider.slash(circle.world.lobby, "feedback status", group="Circle"),
        "Only members",
    )


async def test_form_limits_are_enforced_and_a_refused_form_changes_nothing(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    _fay, ana = circle.everyone
    await run_short_session(env, circle)
    storage = bot_of_env(env).storage.feedback
    message = feedback_message(circle)

    # Every field declares its 1000-character limit, so Discord refuses a longer text...
    shown = await ana.click(message, label="Add details")
    assert shown.modal is not None
    limits = {
        c["custom_id"]: c["max_length"]
        for row in shown.modal["components"]
        for c in row["components"]
    }
    assert limits == dict.fromkeys(("resources", "referrals", "next_steps", "comments"), 1000)
    with pytest.raises(SetupError, match="max_length"):
        await ana.submit_modal(shown, {"comments": "x" * 1001})

    # ...and the bot refuses it too when a client does not enforce the limit.
    shown = await ana.click(message, label="Add details")
    for row in shown._interaction.modal["components"]:  # type: ignore[index]
        for control in row["components"]:
            control["max_length"] = 4000
    await refused(
        env, ana.submit_modal(shown, {"comments": "x" * 1001}), "comments", "at most 1000"
    )
    assert await storage.response(1, ana.id) is None

    # A next step over 300 characters, or more than ten steps, is refused by the bot.
    shown = await ana.click(message, label="Add details")
    await refused(
        env,
        ana.submit_modal(shown, {"next_steps": "Short one\n" + "y" * 301}),
        "at most 300 characters",
    )
    shown = await ana.click(message, label="Add details")
    eleven = "\n".join(f"Step {n}" for n in range(11))
    await refused(env, ana.submit_modal(shown, {"next_steps": eleven}), "at most 10 next steps")
    assert await storage.response(1, ana.id) is None
    assert await storage.open_steps(1, ana.id) == []

    # Exactly at the limits it is saved.
    shown = await ana.click(message, label="Add details")
    ten = "\n".join(f"Step {n}" for n in range(9)) + "\n" + "z" * 300
    saved = await ana.submit_modal(shown, {"comments": "c" * 1000, "next_steps": ten})
    assert "Next steps recorded" in reply_text(saved)
    assert len(await storage.open_steps(1, ana.id)) == 10

    # Many long steps do not fit in one message: the list shows what fits, how many more, and
    # attaches them all.
    for batch in range(3):
        shown = await ana.click(message, label="Add details")
        lines = [f"{batch}.{n} " + "w" * 290 for n in range(3)]
        saved = await ana.submit_modal(shown, {"next_steps": "\n".join(lines)})
        for step_id in range(11 + 3 * batch, 14 + 3 * batch):
            assert f"`#{step_id}`" in reply_text(saved)
            await ana.slash(circle.text, "nextsteps done", step=step_id)
    listed = reply_text(await ana.slash(circle.text, "nextsteps list"))
    assert len(listed) <= 2000
    # (each form replaced the open steps of the one before: nine done steps, newest first)
    assert listed.startswith(f"Next steps of {ana.mention}:\n`#19` 2.2 ")
    shown = len(listed.splitlines()) - 2
    last = listed.splitlines()[-1]
    assert last == f"…and {9 - shown} more: every step is in the attached file."


async def test_status_during_a_live_session_says_it_is_in_progress(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    fay, ana = circle.everyone
    start = dict(group="Circle", format="roundrobin", turn_minutes=1, order="joined")

    # The group's first session is live: it has held one, and feedback opens when it ends.
    await fay.slash(circle.text, "session start", **start)
    text = reply_text(await ana.slash(circle.text, "feedback status"))
    assert "has not held a session" not in text
    assert "A session of **Circle** is in progress" in text
    assert "feedback opens when it ends" in text
    await env.advance_time(120)  # both turns: the session ends by itself

    # Once it has ended, its response rate; the next live session is mentioned below it.
    await ana.click(feedback_message(circle), label="Valuable")
    await fay.slash(circle.text, "session start", **start)
    text = reply_text(await fay.slash(circle.text, "feedback status"))
    assert "session #1: 1 of 2 attendees answered (50.0 %)" in text
    assert text.splitlines()[-1].startswith("A session of **Circle** is in progress")
    await fay.slash(circle.text, "session end", group="Circle")


async def test_status_of_a_group_that_never_met(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"), join_voice=False)
    await refused(
        env, circle.members[0].slash(circle.text, "feedback status"), "has not held a session yet"
    )


async def test_a_refused_form_names_the_field_and_can_be_reopened_as_typed(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    _fay, ana = circle.everyone
    await run_short_session(env, circle)
    storage = bot_of_env(env).storage.feedback

    typed = {
        "resources": "Kern's six steps\nBEME guide 12",
        "referrals": "Dr. Osei",
        "next_steps": "\n".join([*(f"Step {n}" for n in range(11)), "w" * 301]),
        "comments": "Long, thoughtful comments",
    }
    shown = await ana.click(feedback_message(circle), label="Add details")
    result = await ana.submit_modal(shown, typed)
    text = reply_text(result)
    assert result.ephemeral and text.startswith("Nothing was saved yet:")
    assert "**Your next steps, one per line**: step 12" in text
    assert "has 301 characters" in text and "lists 12 steps" in text
    assert "Resources you were given" not in text and "Other comments" not in text
    message = result.response
    assert message is not None and button_labels(message.message) == ["Edit what I typed"]
    assert await storage.response(1, ana.id) is None and await storage.open_steps(1, ana.id) == []

    # The button still works after a restart, and gives back exactly what was typed.
    await restart(env, settings)
    storage = bot_of_env(env).storage.feedback
    reopened = await ana.click(message, label="Edit what I typed")
    assert reopened.modal is not None and reopened.modal["custom_id"] == "mm:feedback:form:1"
    fields = {
        c["custom_id"]: c.get("value")
        for row in reopened.modal["components"]
        for c in row["components"]
    }
    assert fields == typed
    fixed = {**typed, "next_steps": "\n".join(f"Step {n}" for n in range(10))}
    saved = await ana.submit_modal(reopened, fixed)
    assert "Next steps recorded" in reply_text(saved)
    response = await storage.response(1, ana.id)
    assert response is not None and response.details.comments == "Long, thoughtful comments"
    assert len(await storage.open_steps(1, ana.id)) == 10
    # Once saved, there is no draft left to reopen; the saved form is what Add details shows.
    assert await storage.draft(1, ana.id) is None
    await refused(env, ana.click(message, label="Edit what I typed"), "nothing to reopen")
