"""`/mastermind privacy export|delete`: a member's data as a file, then erased, with the
reports' totals unchanged."""

from __future__ import annotations

import json

import discord
import pytest
from simcord import Env, MemberActor

from bot import Settings
from core.exports import ANONYMOUS
from tests.e2e.helpers import bot_of_env, close_storage, refused, restart  # noqa: F401
from tests.e2e.session_helpers import Circle, make_circle
from tests.e2e.test_reports import details, rate, report
from tests.schema import table_names

pytestmark = pytest.mark.usefixtures("close_storage")


async def one_session(env: Env) -> Circle:
    """fay, ana and ben meet once (3 turns of 2 min); ana rates, writes details and a note."""
    circle = await make_circle(env, ("fay", "ana", "ben"))
    fay, ana, ben = circle.everyone
    await ana.slash(circle.world.lobby, "profile set", institution="McMaster", focus="OSCEs")
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=2,
        order="joined",
    )
    await env.advance_time(10)
    await ana.slash(circle.text, "session note", kind="resource", text="Kern, for fay")
    await env.advance_time(120)
    await fay.slash(circle.text, "session note", kind="referral", text="Dr. Osei, for ana")
    await env.advance_time(230)
    await rate(ana, circle, "Valuable")
    await details(
        ana, circle, resources="BEME guide 12", next_steps="Draft aims page", comments="Helpful"
    )
    await rate(ben, circle, "Very valuable")
    return circle


async def delete_prompt(person: MemberActor, circle: Circle) -> discord.Message:
    result = await person.slash(circle.world.lobby, "mastermind privacy delete")
    assert result.ephemeral and result.response is not None
    assert "Delete your Mastermind data?" in result.response.content
    return result.response.message


async def test_export_then_delete_a_member(simcord_env: Env) -> None:
    env = simcord_env
    circle = await one_session(env)
    fay, ana, _ben = circle.everyone
    bot = bot_of_env(env)
    lobby = circle.world.lobby

    exported = await ana.slash(lobby, "mastermind privacy export")
    assert exported.ephemeral
    message = exported.followups[-1] if exported.followups else exported.response
    assert message is not None and "everything Mastermind stores about you" in message.content
    [attachment] = message.attachments
    assert attachment.filename == "mastermind-my-data.json"
    data = json.loads(await attachment.read())
    assert data["user_id"] == str(ana.id)
    assert data["profile"]["institution"] == "McMaster"
    assert [m["group_name"] for m in data["memberships"]] == ["Circle"]
    assert [(f["rating"], f["resources"], f["comments"]) for f in data["feedback"]] == [
        (4, "BEME guide 12", "Helpful")
    ]
    assert [s["text"] for s in data["next_steps"]] == ["Draft aims page"]
    assert [n["text"] for n in data["notes_you_wrote"]] == ["Kern, for fay"]
    assert [n["text"] for n in data["notes_for_you"]] == ["Dr. Osei, for ana"]
    assert [a["seconds_in_voice"] for a in data["attendance"]] == [360]
    assert [t["actual_seconds"] for t in data["turns_on_the_floor"]] == [120]

    before_sessions = (await report(fay, lobby, "report group", group="Circle")).files
    before_feedback = (await report(fay, lobby, "report session", group="Circle")).csv(
        "feedback.csv"
    )

    # Cancelled: nothing changes.
    prompt = await delete_prompt(ana, circle)
    cancelled = await ana.click(prompt, label="Cancel")
    assert "nothing was deleted" in (cancelled.response.content if cancelled.response else "")
    assert await bot.storage.privacy.has_data(ana.id)

    # Asked twice; the first confirmation deletes, the second finds nothing left.
    first, second = await delete_prompt(ana, circle), await delete_prompt(ana, circle)
    done = await ana.click(first, label="Delete my data")
    assert done.response is not None and done.response.content.startswith("Done")
    assert not done.response.components  # the buttons are gone
    again = await ana.click(second, label="Delete my data")
    assert again.response is not None and "nothing left to delete" in again.response.content
    await refused(env, ana.slash(lobby, "mastermind privacy delete"), "stores nothing about you")

    # Nothing identifies her any more: not in any table, not in the group's role.
    for table in await table_names(bot.storage.db):
        for row in await bot.storage.db.fetch_all(f"SELECT * FROM {table}"):
            assert str(ana.id) not in json.dumps([str(v) for v in tuple(row)]), table
    circle_role = circle.world.guild.roles["Circle"]
    assert ana.member is not None and circle_role not in ana.member.roles
    assert await bot.storage.groups.membership(1, ana.id) is None

    # The reports still add up; she is gone from them.
    after = await report(fay, lobby, "report group", group="Circle")
    assert after.files["sessions.csv"] == before_sessions["sessions.csv"]
    session = await report(fay, lobby, "report session", group="Circle")
    after_feedback = session.csv("feedback.csv")
    assert len(after_feedback) == len(before_feedback) == 2
    assert after_feedback[1] == before_feedback[1]  # ben's row is untouched
    assert after_feedback[0] == {
        **before_feedback[0],
        "respondent": ANONYMOUS,
        "resources": "",
        "next_steps": "",
        "comments": "",
    }
    assert "Attendance (3)" in [f.name for f in session.embed.fields]
    embed_text = json.dumps(session.embed.to_dict())
    assert ana.mention not in embed_text and "a deleted member" in embed_text


async def test_delete_is_refused_while_in_a_live_session_or_after_it_expired(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    fay, ana = circle.everyone
    lobby = circle.world.lobby
    # Someone who never used the bot has nothing to delete; the export is still a file.
    cy = circle.world.person("cy")
    await refused(env, cy.slash(lobby, "mastermind privacy delete"), "nothing to delete")
    empty = await cy.slash(lobby, "mastermind privacy export")
    message = empty.followups[-1] if empty.followups else empty.response
    assert message is not None
    assert json.loads(await message.attachments[0].read())["memberships"] == []

    prompt = await delete_prompt(ana, circle)
    await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    await refused(env, ana.slash(lobby, "mastermind privacy delete"), "still running")
    await refused(env, ana.click(prompt, label="Delete my data"), "still running")
    await fay.slash(circle.text, "session end")
    await env.advance_time(11 * 60)
    await refused(env, ana.click(prompt, label="Delete my data"), "expired")
    assert await bot_of_env(env).storage.privacy.has_data(ana.id)

    # A fresh confirmation still works after the bot restarted.
    prompt = await delete_prompt(ana, circle)
    bot = await restart(env, settings)
    done = await ana.click(prompt, label="Delete my data")
    assert done.response is not None and done.response.content.startswith("Done")
    assert not await bot.storage.privacy.has_data(ana.id)
