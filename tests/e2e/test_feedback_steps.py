"""Next steps: recorded in the commitments round and the feedback form, shown at the next
check-in with Done / Partly / Not yet buttons, and managed with `/nextsteps`."""

from __future__ import annotations

import discord
import pytest
from simcord import Env, OptionError

from bot import Settings
from core.feedback import StepStatus
from tests.e2e.helpers import (
    bot_of_env,
    close_storage,  # noqa: F401  (a fixture, used below)
    refused,
    reply_text,
    restart,
)
from tests.e2e.session_helpers import Circle, make_circle
from tests.e2e.test_feedback import button_labels, custom_ids, feedback_message, run_short_session

pytestmark = pytest.mark.usefixtures("close_storage")


async def start_standard(circle: Circle) -> None:
    """Check-in 2 min each, one hot seat of 1 min, commitments 1 min each; order of joining."""
    await circle.facilitator.slash(
        circle.text,
        "session start",
        group="Circle",
        format="standard",
        turn_minutes=1,
        hotseats=1,
        order="joined",
    )


def latest_starting(circle: Circle, prefix: str) -> discord.Message:
    found = [m for m in circle.text.history() if m.content.startswith(prefix)]
    assert found, f"no message starting with {prefix!r}"
    return found[-1]


async def test_steps_come_back_at_the_next_check_in_and_buttons_mark_them(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben", "cy", "dee"))
    fay, ana, ben, _cy, dee = circle.everyone
    await dee.leave_voice()  # a member, but not taking part
    storage = bot_of_env(env).storage.feedback
    # The check-in message is pressed again long after its session ended: the server keeps
    # session messages instead of tidying them away.
    managers = circle.world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = circle.world.person("boss", roles=[managers])
    await boss.slash(circle.world.lobby, "mastermind setup", tidy_sessions=False)

    # Session 1: the commitments round invites each speaker to record next steps.
    await start_standard(circle)
    await env.advance_time(4 * 120 + 60)  # check-in and the hot seat
    commitments = latest_starting(circle, f"📝 {fay.mention}, your commitments")
    assert "Record your next steps" in commitments.content
    assert button_labels(commitments) == ["Record next steps"]
    shown = await ana.click(commitments, label="Record next steps")
    assert shown.modal is not None
    assert shown.modal["custom_id"] == "mm:feedback:form:1"
    saved = await ana.submit_modal(shown, {"next_steps": "Draft aims page\nEmail the dean"})
    assert saved.ephemeral and "`#1`, `#2`" in reply_text(saved)
    assert "After the session, please also rate it" in reply_text(saved)
    # Someone not taking part in the session cannot record steps for it.
    await refused(
        env,
        dee.click(commitments, label="Record next steps"),
        "taking part",
    )
    await env.advance_time(4 * 60)  # commitments; the session ends by itself
    # The form ana sent during the session already counts as her response.
    assert feedback_message(circle).content.endswith("1 response so far.")

    # After the session, the feedback form shows what was recorded; adding a line keeps the
    # ids of the steps already there and adds one.
    shown = await ana.click(feedback_message(circle), label="Add details")
    assert shown.modal is not None
    fields = {
        c["custom_id"]: c.get("value")
        for row in shown.modal["components"]
        for c in row["components"]
    }
    assert fields["next_steps"] == "Draft aims page\nEmail the dean"
    saved = await ana.submit_modal(
        shown, {"next_steps": "Draft aims page\nEmail the dean\nBook a writing retreat"}
    )
    assert "`#1`, `#2`, `#3`" in reply_text(saved)
    shown = await ben.click(feedback_message(circle), label="Add details")
    await ben.submit_modal(shown, {"next_steps": "Read Kern"})
    assert [(s.id, s.text) for s in await storage.open_steps(1, ana.id)] == [
        (1, "Draft aims page"),
        (2, "Email the dean"),
        (3, "Book a writing retreat"),
    ]

    # Session 2: fay has no steps, so her check-in is plain; ana's shows her three open steps
    # in one message with a row of Done / Partly / Not yet buttons each.
    await start_standard(circle)
    first = latest_starting(circle, f"🎙️ {fay.mention}, your check-in")
    assert "next steps" not in first.content and not first.components
    await env.advance_time(120)
    checkin = latest_starting(circle, f"🎙️ {ana.mention}, your check-in")
    content = checkin.content
    assert "1. `#1` Draft aims page" in content
    assert "2. `#2` Email the dean" in content
    assert "3. `#3` Book a writing retreat" in content
    assert button_labels(checkin) == ["Done", "Partly", "Not yet"] * 3
    assert custom_ids(checkin) == [
        f"mm:step:{status}:{step}" for step in (1, 2, 3) for status in ("done", "partly", "notyet")
    ]
    rows = checkin.components
    assert [len(row.children) for row in rows] == [3, 3, 3]

    # The owner marks one done: status and date stored, the line shows it for everyone.
    pressed_at = env.now()
    result = await ana.click(checkin, custom_id="mm:step:done:1")
    assert result.ephemeral and "Marked `#1` **Done**" in reply_text(result)
    step = await storage.step(1)
    assert step is not None and (step.status, step.status_at) == (StepStatus.DONE, pressed_at)
    checkin = latest_starting(circle, f"🎙️ {ana.mention}, your check-in")
    assert "1. `#1` Draft aims page (Done)" in checkin.content

    # Another member cannot mark ana's step; nothing changes.
    await refused(
        env,
        ben.click(checkin, custom_id="mm:step:partly:2"),
        "belongs to someone else",
    )
    step = await storage.step(2)
    assert step is not None and (step.status, step.status_at) == (StepStatus.OPEN, None)

    # The buttons keep working after a restart (the session is ended first: this test is about
    # the step buttons, not about resuming a live session).
    await fay.slash(circle.text, "session end", group="Circle")
    await restart(env, settings)
    storage = bot_of_env(env).storage.feedback
    await env.advance_time(3600)

    # A facilitator may mark someone else's step; the owner marks the third one partly.
    result = await fay.click(checkin, custom_id="mm:step:notyet:2")
    assert "Marked `#2` **Not yet**" in reply_text(result)
    result = await ana.click(checkin, custom_id="mm:step:partly:3")
    assert "Marked `#3` **Partly**" in reply_text(result)
    statuses = {s: await storage.step(s) for s in (1, 2, 3)}
    assert {s: (v.status if v else None) for s, v in statuses.items()} == {
        1: StepStatus.DONE,
        2: StepStatus.NOT_YET,
        3: StepStatus.PARTLY,
    }
    assert statuses[2] is not None and statuses[2].status_at == env.now()
    checkin = latest_starting(circle, f"🎙️ {ana.mention}, your check-in")
    assert "2. `#2` Email the dean (Not yet)" in checkin.content
    assert "3. `#3` Book a writing retreat (Partly)" in checkin.content

    # Steps not done yet stay open for the next check-in; the done one does not.
    assert [s.id for s in await storage.open_steps(1, ana.id)] == [2, 3]


async def test_nextsteps_list_and_done(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben", "cy"))
    fay, ana, ben, _cy = circle.everyone
    outsider = circle.world.person("oz")
    await run_short_session(env, circle)
    form = await ana.click(feedback_message(circle), label="Add details")
    await ana.submit_modal(form, {"next_steps": "Draft aims page\nEmail the dean"})
    form = await ben.click(feedback_message(circle), label="Add details")
    await ben.submit_modal(form, {"next_steps": "Read Kern"})
    storage = bot_of_env(env).storage.feedback

    listed = await ana.slash(circle.text, "nextsteps list")
    assert listed.ephemeral
    assert reply_text(listed).splitlines()[1:] == ["`#1` Draft aims page", "`#2` Email the dean"]
    theirs = await ana.slash(circle.world.lobby, "nextsteps list", member=ben)
    assert "`#3` Read Kern" in reply_text(theirs) and "Draft" not in reply_text(theirs)
    await refused(
        env, outsider.slash(circle.world.lobby, "nextsteps list", member=ana), "share a group"
    )
    empty = await outsider.slash(circle.world.lobby, "nextsteps list")
    assert "no next steps" in reply_text(empty)

    # Autocomplete offers the caller's own steps that are not done, filtered by what they type.
    choices = await ana.autocomplete(circle.text, "nextsteps done", "step", "")
    assert [(c["name"], c["value"]) for c in choices] == [
        ("#1 Draft aims page", 1),
        ("#2 Email the dean", 2),
    ]
    choices = await ana.autocomplete(circle.text, "nextsteps done", "step", "email")
    assert [c["value"] for c in choices] == [2]

    # Own step: done, with the date.
    done = await ana.slash(circle.text, "nextsteps done", step=2)
    assert done.ephemeral and "Marked `#2` **Done**" in reply_text(done)
    step = await storage.step(2)
    assert step is not None and (step.status, step.status_at) == (StepStatus.DONE, env.now())
    assert [
        c["value"] for c in await ana.autocomplete(circle.text, "nextsteps done", "step", "")
    ] == [1]
    listed = await ana.slash(circle.text, "nextsteps list")
    assert reply_text(listed).splitlines()[1:] == [
        "`#1` Draft aims page",
        "`#2` Email the dean (Done)",
    ]
    await refused(env, ana.slash(circle.text, "nextsteps done", step=2), "already done")

    # Someone else's step: refused for a member, allowed for the facilitator.
    await refused(env, ben.slash(circle.text, "nextsteps done", step=1), "belongs to someone else")
    step = await storage.step(1)
    assert step is not None and step.status == StepStatus.OPEN
    by_facilitator = await fay.slash(circle.text, "nextsteps done", step=3)
    assert "Marked `#3` **Done**" in reply_text(by_facilitator)
    step = await storage.step(3)
    assert step is not None and step.status == StepStatus.DONE

    # Unknown ids are refused; an id is a whole number.
    await refused(env, ana.slash(circle.text, "nextsteps done", step=999), "no next step `#999`")
    with pytest.raises(OptionError):
        await ana.slash(circle.text, "nextsteps done", step="first")


async def test_every_open_step_is_markable_at_check_in(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    _fay, ana = circle.everyone
    # Twelve open steps from two earlier sessions: more than one message has rows for.
    for count in (10, 2):
        await run_short_session(env, circle)
        form = await ana.click(feedback_message(circle), label="Add details")
        lines = "\n".join(f"Step {len(circle.messages())}-{n}" for n in range(count))
        await ana.submit_modal(form, {"next_steps": lines})
    storage = bot_of_env(env).storage.feedback
    steps = await storage.open_steps(1, ana.id)
    assert [s.id for s in steps] == list(range(1, 13))

    await start_standard(circle)
    await env.advance_time(120)  # fay's check-in; ana's begins
    checkin = latest_starting(circle, f"🎙️ {ana.mention}, your check-in")
    history = circle.text.history()
    after = history[[m.id for m in history].index(checkin.id) + 1 :][:2]
    messages = [checkin, *after]
    # Three messages: steps 1-5, 6-10 and 11-12, one row of Done / Partly / Not yet each.
    assert "Your 12 open next steps" in checkin.content and "7 more below" in checkin.content
    assert after[0].content.startswith(f"More open next steps of {ana.mention} (6–10 of 12):")
    assert after[1].content.startswith(f"More open next steps of {ana.mention} (11–12 of 12):")
    assert [[len(row.children) for row in m.components] for m in messages] == [
        [3] * 5,
        [3] * 5,
        [3] * 2,
    ]
    assert [cid for m in messages for cid in custom_ids(m)] == [
        f"mm:step:{status}:{step}"
        for step in range(1, 13)
        for status in ("done", "partly", "notyet")
    ]
    assert f"12. `#12` {steps[11].text}" in after[1].content
    # Only the announcement pings (ana); the continuation messages ping nobody.
    assert circle.pings()[-2:] == [[], []]

    # The last step is marked from the third message, which then shows it.
    result = await ana.click(after[1], custom_id="mm:step:partly:12")
    assert "Marked `#12` **Partly**" in reply_text(result)
    step = await storage.step(12)
    assert step is not None and step.status == StepStatus.PARTLY
    third = next(m for m in circle.text.history() if m.id == after[1].id)
    assert f"12. `#12` {steps[11].text} (Partly)" in third.content
    await circle.facilitator.slash(circle.text, "session end", group="Circle")
