"""`/report session|group|program`: two sessions with known ratings, notes and next steps, and
every figure of the embeds and the CSV files checked against values computed by hand."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import discord
import pytest
from simcord import Env, MemberActor

from core.exports import FEEDBACK_COLUMNS, NOTES_COLUMNS, SESSIONS_COLUMNS, pseudonym
from core.stats import SegmentFact, floor_seconds
from tests.e2e.helpers import bot_of_env, close_storage, make_world, refused  # noqa: F401
from tests.e2e.session_helpers import Circle, make_circle

pytestmark = pytest.mark.usefixtures("close_storage")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def feedback_message(circle: Circle) -> discord.Message:
    return [m for m in circle.text.history() if m.content.startswith("How valuable")][-1]


async def rate(person: MemberActor, circle: Circle, label: str) -> None:
    result = await person.click(feedback_message(circle), label=label)
    assert label in (result.response.content if result.response else "")


async def details(person: MemberActor, circle: Circle, **fields: str) -> None:
    shown = await person.click(feedback_message(circle), label="Add details")
    values = {"resources": "", "referrals": "", "next_steps": "", "comments": "", **fields}
    saved = await person.submit_modal(shown, values)
    assert saved.response is not None and "Saved" in saved.response.content


async def note(person: MemberActor, circle: Circle, kind: str, text: str) -> None:
    result = await person.slash(circle.text, "session note", kind=kind, text=text)
    assert result.ephemeral


@dataclass
class Report:
    embed: discord.Embed
    files: dict[str, bytes]

    def field(self, name: str) -> str:
        found = [f.value or "" for f in self.embed.fields if (f.name or "").startswith(name)]
        assert found, f"no field {name!r} in {[f.name for f in self.embed.fields]}"
        return found[0]

    def csv(self, name: str) -> list[dict[str, str]]:
        text = self.files[name].decode("utf-8")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        header = tuple(rows[0])
        columns = {
            "feedback.csv": FEEDBACK_COLUMNS,
            "notes.csv": NOTES_COLUMNS,
        }.get(name, SESSIONS_COLUMNS)
        assert header == columns
        assert text.count(",".join(columns[:2])) == 1
        return [dict(zip(header, row, strict=True)) for row in rows[1:]]


async def report(person: MemberActor, where: Any, command: str, **options: Any) -> Report:
    result = await person.slash(where, command, **options)
    assert result.ephemeral
    message = result.followups[-1] if result.followups else result.response
    assert message is not None and message.embeds, f"no report: {message!r}"
    files = {a.filename: await a.read() for a in message.attachments}
    embed = message.embeds[0]
    pngs = [name for name in files if name.endswith(".png")]
    assert len(pngs) == 1 and files[pngs[0]].startswith(PNG_MAGIC)
    assert embed.image.url == f"attachment://{pngs[0]}"
    return Report(embed, files)


async def two_sessions(env: Env) -> Circle:
    """Session 1 (hot seats of 4 min: present 1, questions 1, advice 2) with fay, ana, ben and
    cy; session 2 a day later (standard, one hot seat of 4 min) with fay, ana and ben."""
    circle = await make_circle(env, ("fay", "ana", "ben", "cy"))
    fay, ana, ben, cy = circle.everyone
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="hotseat",
        turn_minutes=4,
        order="joined",
    )
    # fay's hot seat: at 2:10 of her advice phase ana raises her hand, answers for 40 s.
    await env.advance_time(130)
    await ana.click(circle.panel(), label="Raise hand")
    await env.advance_time(40)
    await ana.click(circle.panel(), label="Next")
    await env.advance_time(70 + 10)  # ana's hot seat
    await note(fay, circle, "resource", "AMEE guide 83")  # for ana, who holds the floor
    await note(fay, circle, "insight", "Start from the learners")  # not counted
    await env.advance_time(240)  # ben's hot seat
    await note(cy, circle, "referral", "Dr. Lee, simulation lab")  # for ben
    await env.advance_time(240 + 240)  # cy's hot seat, and the session ends by itself

    await rate(fay, circle, "Very valuable")
    await rate(ana, circle, "Valuable")
    await details(
        ana,
        circle,
        resources="Kern's six steps\n\n  \nBEME guide 12",
        referrals="Dr. Osei for mentoring",
        next_steps="Draft aims page\n- Email the dean",
        comments="Helpful",
    )
    await rate(ben, circle, "Very valuable")
    await details(cy, circle, next_steps="Book a writing retreat", comments="Great, thanks\nBye")

    await env.advance_time(24 * 3600)
    await cy.leave_voice()
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="standard",
        hotseats=1,
        turn_minutes=4,
        order="joined",
    )
    await env.advance_time(120 + 10)  # ana's check-in: she marks a step of last time done
    await ana.slash(circle.text, "nextsteps done", step=1)
    await env.advance_time(110 + 120 + 10)  # fay's hot seat
    await note(ana, circle, "resource", "Teaching tips podcast")
    await env.advance_time(230 + 180)
    await rate(fay, circle, "Moderately")
    await rate(ana, circle, "Very valuable")
    await rate(ben, circle, "Slightly")
    await rate(ben, circle, "Valuable")  # a second click changes the rating
    await details(ben, circle, resources="Medical Teacher podcast", next_steps="Submit abstract")
    return circle


async def test_session_group_and_program_reports(simcord_env: Env) -> None:
    env = simcord_env
    circle = await two_sessions(env)
    fay, ana, ben, cy = circle.everyone
    bot = bot_of_env(env)

    # The floor time the reports compute from the stored segments is the session's own.
    for session_id in (1, 2):
        row = await bot.storage.sessions.get(session_id)
        assert row is not None
        stored = await bot.storage.sessions.segment_rows(session_id)
        facts = [
            SegmentFact(
                session_id, s["seq"], s["speaker_id"], s["round"], s["phase"], s["actual_seconds"]
            )
            for s in stored
        ]
        assert floor_seconds(facts) == row.state.floor_seconds()

    first = await report(fay, circle.text, "report session", group="Circle", session=1)
    assert first.embed.title == "Circle · session #1 report"
    assert "16 min · 4 attended" in (first.embed.description or "")
    assert first.field("Attendance (4)").count("<@") == 4
    assert first.field("Time on the floor").splitlines() == [
        f"{ana.mention} · 4:40",
        f"{ben.mention} · 4:00",
        f"{cy.mention} · 4:00",
        f"{fay.mention} · 3:20",
        "Fairness **0.99** (1.00 = everyone the same)",
    ]
    assert first.field("Ratings (3)").splitlines() == [
        "Very valuable · **2**", "Valuable · **1**", "Moderately · **0**",
        "Slightly · **0**", "Not valuable · **0**",
    ]  # fmt: skip
    assert first.field("Value").splitlines() == [
        "Mean **4.67 / 5**",
        "Very valuable **66.7 %**",
        "Response rate **100.0 %** (4 of 4)",
    ]
    assert first.field("Taken away").splitlines() == [
        "Resources **3**",
        "Referrals **2**",
        "Next steps **3** (33.3 % done)",
    ]
    key = await bot.storage.reports.pseudonym_key(circle.world.guild.id, env.now())
    rows = first.csv("feedback.csv")
    assert [r["respondent"] for r in rows] == [pseudonym(key, p.id) for p in (fay, ana, ben, cy)]
    assert all(r["respondent"].startswith("r-") and len(r["respondent"]) == 10 for r in rows)
    assert [(r["session_id"], r["group"], r["session_date"]) for r in rows] == [
        ("1", "Circle", "2026-01-01")
    ] * 4
    assert [(r["rating"], r["rating_label"]) for r in rows] == [
        ("5", "Very valuable"), ("4", "Valuable"), ("5", "Very valuable"), ("", ""),
    ]  # fmt: skip
    assert rows[1]["resources"] == "Kern's six steps\n\n  \nBEME guide 12"
    assert rows[1]["next_steps"] == "Draft aims page\n- Email the dean"
    assert rows[3]["comments"] == "Great, thanks\nBye"
    assert all(r["submitted_at"].startswith("2026-01-01T00:") for r in rows)
    assert all(r["submitted_at"].endswith("Z") for r in rows)
    text = first.files["feedback.csv"].decode()
    for person in circle.everyone:
        assert str(person.id) not in text and person.name not in text
    # Every note of the session, people pseudonymous like the respondents.
    notes = first.csv("notes.csv")
    assert [(r["session_id"], r["group"], r["kind"], r["author"], r["text"]) for r in notes] == [
        ("1", "Circle", "resource", pseudonym(key, fay.id), "AMEE guide 83"),
        ("1", "Circle", "insight", pseudonym(key, fay.id), "Start from the learners"),
        ("1", "Circle", "referral", pseudonym(key, cy.id), "Dr. Lee, simulation lab"),
    ]
    assert [notes[0]["for_member"], notes[2]["for_member"]] == [
        pseudonym(key, ana.id),
        pseudonym(key, ben.id),
    ]
    assert all(r["created_at"].startswith("2026-01-01T00:") for r in notes)
    text = first.files["notes.csv"].decode()
    for person in circle.everyone:
        assert str(person.id) not in text and person.name not in text

    second = await report(fay, circle.text, "report session", group="Circle")
    assert second.embed.title == "Circle · session #2 report"  # the latest by default
    assert "13 min · 3 attended" in (second.embed.description or "")
    assert second.field("Time on the floor").splitlines()[:3] == [
        f"{fay.mention} · 7:00",
        f"{ana.mention} · 3:00",
        f"{ben.mention} · 3:00",
    ]
    assert "Fairness **0.84**" in second.field("Time on the floor")
    assert second.field("Value").splitlines()[:2] == [
        "Mean **4.00 / 5**",
        "Very valuable **33.3 %**",
    ]
    assert second.field("Taken away").splitlines() == [
        "Resources **2**", "Referrals **0**", "Next steps **1** (0.0 % done)",
    ]  # fmt: skip
    again = second.csv("feedback.csv")
    assert [(r["respondent"], r["rating"]) for r in again] == [
        (pseudonym(key, fay.id), "3"), (pseudonym(key, ana.id), "5"), (pseudonym(key, ben.id), "4"),
    ]  # fmt: skip

    group = await report(fay, circle.text, "report group", group="Circle")
    expected_sessions = [
        {
            "session_id": "1", "group": "Circle", "session_date": "2026-01-01",
            "duration_min": "16.0", "attendees": "4", "responses": "4", "response_rate": "1.000",
            "rating_mean": "4.67", "very_valuable_pct": "66.7", "resources": "3",
            "referrals": "2", "next_steps": "3", "next_steps_done_pct": "33.3",
        },
        {
            "session_id": "2", "group": "Circle", "session_date": "2026-01-02",
            "duration_min": "13.0", "attendees": "3", "responses": "3", "response_rate": "1.000",
            "rating_mean": "4.00", "very_valuable_pct": "33.3", "resources": "2",
            "referrals": "0", "next_steps": "1", "next_steps_done_pct": "0.0",
        },
    ]  # fmt: skip
    assert group.csv("sessions.csv") == expected_sessions
    assert group.field("Overall").splitlines() == [
        "Mean rating **4.33 / 5** (6 ratings)",
        "Very valuable **50.0 %**",
        "Response rate **100.0 %** (7 of 7)",
        "Next steps done **25.0 %** (1 of 4)",
        "Resources **5** · referrals **2**",
    ]
    assert group.field("Hot-seat turns").splitlines() == [
        f"{fay.mention} · 2", f"{ana.mention} · 1", f"{ben.mention} · 1", f"{cy.mention} · 1",
    ]  # fmt: skip
    assert "Fairness **0.91**" in group.field("Floor time")
    assert "attendance 4 → 3" in (group.embed.description or "")

    # A second group with one session, for the program report (moderators only).
    gus = circle.world.person("gus")
    hal = circle.world.person("hal")
    await gus.slash(circle.world.lobby, "group create", name="Larks")
    await hal.slash(circle.world.lobby, "group join", group="Larks")
    larks_text, larks_voice = circle.world.channel("larks"), circle.world.channel("Larks")
    for person in (gus, hal):
        await person.join_voice(larks_voice)
    await gus.slash(
        larks_text,
        "session start",
        group="Larks",
        format="roundrobin",
        turn_minutes=1,
        order="joined",
    )
    await env.advance_time(120)
    larks_feedback = [m for m in larks_text.history() if m.content.startswith("How valuable")][-1]
    await gus.click(larks_feedback, label="Not valuable")
    await hal.click(larks_feedback, label="Moderately")

    managers = circle.world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = circle.world.person("boss", roles=[managers])
    program = await report(boss, circle.world.lobby, "report program")
    rows = program.csv("sessions.csv")
    assert rows[:2] == expected_sessions
    assert rows[2] == {
        "session_id": "3", "group": "Larks", "session_date": "2026-01-02", "duration_min": "2.0",
        "attendees": "2", "responses": "2", "response_rate": "1.000", "rating_mean": "2.00",
        "very_valuable_pct": "0.0", "resources": "0", "referrals": "0", "next_steps": "0",
        "next_steps_done_pct": "",
    }  # fmt: skip
    assert program.field("Overall").splitlines()[:3] == [
        "Mean rating **3.75 / 5** (8 ratings)",
        "Very valuable **37.5 %**",
        "Response rate **100.0 %** (9 of 9)",
    ]
    groups = program.field("Groups").splitlines()
    assert groups[0].startswith("**Circle** · 2 sessions · mean 4.33 · 100.0 % answered")
    assert groups[1].startswith("**Larks** · 1 session · mean 2.00")

    # A moderator sees any group's report; with identified exports the names are shown.
    await boss.slash(circle.world.lobby, "mastermind setup", identified_exports=True)
    named = await report(boss, circle.world.lobby, "report session", group="Circle", session=2)
    assert [r["respondent"] for r in named.csv("feedback.csv")] == [
        f"{p.name} ({p.id})" for p in (fay, ana, ben)
    ]
    named = await report(boss, circle.world.lobby, "report session", group="Circle", session=1)
    assert [r["author"] for r in named.csv("notes.csv")] == [
        f"{p.name} ({p.id})" for p in (fay, fay, cy)
    ]


async def short_session(env: Env, facilitator: MemberActor, text: Any, group: str) -> None:
    await facilitator.slash(
        text, "session start", group=group, format="roundrobin", turn_minutes=1, order="joined"
    )
    await env.advance_time(60 * 4)


async def test_reports_are_for_facilitators_and_moderators_of_the_right_group(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben"))
    fay, ana, ben = circle.everyone
    world = circle.world
    lobby = world.lobby

    # A group that never met has nothing to report.
    await fay.slash(lobby, "group create", name="Empty")
    await refused(env, fay.slash(lobby, "report group", group="Empty"), "not held a session")
    await refused(env, fay.slash(lobby, "report session", group="Empty"), "not held a session")
    await refused(env, fay.slash(lobby, "report group", group="Nowhere"), "no group called")

    await short_session(env, fay, circle.text, "Circle")  # session 1

    # A member is not a facilitator; a facilitator of another group neither.
    await refused(
        env, ben.slash(lobby, "report session", group="Circle"), "facilitators and moderators"
    )
    await refused(env, ana.slash(lobby, "report group", group="Circle"), "facilitators")
    gus = world.person("gus")
    await gus.slash(lobby, "group create", name="Larks")
    await gus.join_voice(world.channel("Larks"))
    await short_session(env, gus, world.channel("larks"), "Larks")  # session 2
    await refused(env, gus.slash(lobby, "report group", group="Circle"), "facilitators")
    assert await gus.autocomplete(lobby, "report session", "session", "", group="Circle") == []

    # Only moderators see the whole program.
    await refused(env, fay.slash(lobby, "report program"), "Only moderators")
    await refused(env, gus.slash(lobby, "report program"), "Only moderators")

    # A session of another group, of another server (a group with the same name), or none.
    other = env.create_guild("Another Server")
    other_lobby = other.create_text_channel("lobby")
    olga = other.add_member(env.create_user("olga"))
    await olga.slash(other_lobby, "group create", name="Circle")
    await olga.join_voice(other.channels["Circle"])
    await short_session(env, olga, other.channels["circle"], "Circle")  # session 3
    for session_id in (2, 3, 99):
        text = await refused(
            env,
            fay.slash(lobby, "report session", group="Circle", session=session_id),
            f"no session #{session_id}",
        )
        assert "Larks" not in text and "Another" not in text
    choices = await fay.autocomplete(lobby, "report session", "session", "", group="Circle")
    assert [c["value"] for c in choices] == [1]

    # A session still running has no report yet; the latest ended one is the default.
    await fay.slash(
        circle.text, "session start", group="Circle", format="roundrobin", turn_minutes=5
    )
    await refused(
        env,
        fay.slash(lobby, "report session", group="Circle", session=4),
        "still running",
    )
    latest = await report(fay, lobby, "report session", group="Circle")
    assert latest.embed.title == "Circle · session #1 report"

    # The moderator role set up by a server manager sees every group and the program.
    mods = world.guild.create_role("Moderators")
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[managers])
    await boss.slash(lobby, "mastermind setup", moderator_role=mods)
    mod = world.person("mod", roles=[mods])
    larks = await report(mod, lobby, "report group", group="Larks")
    assert [r["session_id"] for r in larks.csv("sessions.csv")] == ["2"]
    program = await report(mod, lobby, "report program")
    assert [r["session_id"] for r in program.csv("sessions.csv")] == ["1", "2"]
