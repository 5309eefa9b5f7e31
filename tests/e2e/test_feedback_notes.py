"""Notes taken during a session count as resources and referrals of the member they were for;
and text members type (steps, polls, notes) never pings anyone."""

from __future__ import annotations

import json

import pytest
from simcord import Env

from tests.e2e.helpers import (
    bot_of_env,
    close_storage,  # noqa: F401  (a fixture, used below)
    message_payloads,
    reply_text,
)
from tests.e2e.session_helpers import field, make_circle, named, summary_of
from tests.e2e.test_feedback import feedback_message, run_short_session
from tests.e2e.test_feedback_steps import latest_starting, start_standard

pytestmark = pytest.mark.usefixtures("close_storage")


async def test_notes_count_as_resources_and_referrals_of_the_member_they_were_for(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben"))
    fay, ana, ben = circle.everyone
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=5,
        order="joined",
    )
    await env.advance_time(5 * 60)  # ana holds the floor now
    assert circle.messages()[-1].startswith(f"🎙️ {ana.mention}")

    # A note for whoever holds the floor, by command and by the panel's form.
    await ben.slash(circle.text, "session note", kind="resource", text="Kern's six steps")
    shown = await fay.click(circle.panel(), label="Add note")
    await fay.submit_modal(shown, {"kind": "referral", "text": "Dr. Osei for mentoring"})
    # A note for someone else, and an insight (neither resource nor referral).
    await ana.slash(
        circle.text, "session note", kind="referral", text="Talk to Lee", for_member=ben
    )
    await ben.slash(circle.text, "session note", kind="insight", text="Ask early")
    await fay.slash(circle.text, "session end", group="Circle")

    # ana's own form repeats one note (counted once) and adds a resource of her own.
    shown = await ana.click(feedback_message(circle), label="Add details")
    await ana.submit_modal(
        shown,
        {"resources": "kern's  six steps\n- The Teaching Handbook", "referrals": ""},
    )
    shown = await fay.click(feedback_message(circle), label="Add details")
    await fay.submit_modal(shown, {"referrals": "Mentoring office"})

    found = await bot_of_env(env).storage.feedback.resources_and_referrals(1)
    assert found == {
        ana.id: {
            "resources": ["Kern's six steps", "The Teaching Handbook"],
            "referrals": ["Dr. Osei for mentoring"],
        },
        ben.id: {"resources": [], "referrals": ["Talk to Lee"]},
        fay.id: {"resources": [], "referrals": ["Mentoring office"]},
    }


async def test_text_members_type_never_pings_anyone(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben"))
    fay, ana, ben = circle.everyone
    deans = circle.world.guild.create_role("Deans", mentionable=True)
    pings = f"@everyone @here <@&{deans.id}> <@{ben.id}>"

    await run_short_session(env, circle)
    shown = await ana.click(feedback_message(circle), label="Add details")
    await ana.submit_modal(shown, {"next_steps": f"Ask {pings} for help"})
    listed = await ana.slash(circle.text, "nextsteps list")
    assert pings in reply_text(listed)
    await fay.slash(
        circle.text,
        "feedback poll",
        question=f"Who? {pings}",
        options=f"@everyone | <@&{deans.id}>",
    )

    # At the next check-in the step is shown to the group, and marking it echoes it.
    await start_standard(circle)
    await env.advance_time(120)
    checkin = latest_starting(circle, f"🎙️ {ana.mention}, your check-in")
    assert pings in checkin.content
    await ana.slash(circle.text, "session note", kind="resource", text=f"Book for {pings}")
    marked = await ana.click(checkin, custom_id="mm:step:partly:1")
    assert pings in reply_text(marked)
    await fay.slash(circle.text, "session end", group="Circle")

    # Every message the bot sent or edited that carries the typed text pings nobody it names:
    # not @everyone/@here, not the role, not ben (only ana, whose check-in it is).
    carrying = [
        body
        for body in message_payloads(env)
        if "@everyone" in json.dumps(body, ensure_ascii=False)
    ]
    # The list, the poll, the check-in, the mark's reply and its edit, the session summary.
    assert len(carrying) >= 6
    for body in carrying:
        allowed = body.get("allowed_mentions")
        assert allowed is not None, body
        assert allowed.get("parse") == [] and not allowed.get("roles")
        assert {int(u) for u in allowed.get("users", [])} <= {ana.id}
    bot_id = bot_of_env(env).user.id  # type: ignore[union-attr]
    stored = [
        m
        for messages in env.backend.messages.values()
        for m in messages.values()
        if m.author_id == bot_id and "@everyone" in m.content
    ]
    assert stored
    for message in stored:
        assert not message.mention_everyone and message.ping_role_ids == []
        assert ben.id not in message.ping_user_ids


async def test_notes_beyond_the_summary_field_are_attached_as_notes_txt(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben"))
    fay, ana, ben = circle.everyone
    await fay.slash(
        circle.text, "session start", group="Circle", format="roundrobin", turn_minutes=5
    )
    links = [f"https://example.org/reading-list/{n}/" + "x" * 150 for n in range(9)]
    for link in links:
        await ana.slash(circle.text, "session note", kind="resource", text=link, for_member=ben)
    await fay.slash(circle.text, "session end", group="Circle")

    summary = summary_of(circle)
    notes = field(summary, "Notes (9)")
    assert len(notes) <= 1024
    shown = sum(link in notes for link in links)
    assert 0 < shown < 9
    assert notes.splitlines()[-1] == f"…and {9 - shown} more in notes.txt"
    assert [a.filename for a in summary.attachments] == ["notes.txt"]
    text = (await summary.attachments[0].read()).decode()
    assert text.startswith("Circle · session notes (9)")
    for link in links:  # every note, in full, with who it was for and who wrote it
        assert f"[resource] for {ben.member.display_name}, by {ana.member.display_name} · " in text
        assert f"\n{link}\n" in text
    assert "<@" not in text


async def test_a_summary_whose_notes_fit_has_no_file(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    fay, ana = circle.everyone
    await fay.slash(
        circle.text, "session start", group="Circle", format="roundrobin", order="joined"
    )
    await ana.slash(circle.text, "session note", kind="insight", text="Ask the learners")
    await fay.slash(circle.text, "session end", group="Circle")
    summary = summary_of(circle)
    assert field(summary, "Notes (1)") == f"**insight** for {named(fay)}: Ask the learners"
    assert summary.attachments == []
