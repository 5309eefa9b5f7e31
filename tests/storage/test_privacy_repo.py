"""A person's export and erasure on a real temporary database."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

import storage.privacy as privacy_module
from core.feedback import FeedbackDetails, StepStatus
from core.outbox import Outgoing, voice_key
from core.privacy import InLiveSession
from core.session import SessionState
from core.session.outbox import UNMUTE
from core.stats import session_figures
from storage import Storage
from storage.privacy import DELETED_MENTION, scrub_state
from tests.schema import table_names
from tests.storage.test_reports_repo import ANA, BEN, CY, GUILD, NOW, make_group, run_session

LATER = NOW + timedelta(minutes=30)


async def populate(storage: Storage) -> int:
    """ana created Circle (so she is its only facilitator); ben and cy joined; one session in
    which ben answered ana's hot seat; feedback, notes, next steps, a poll, a schedule, audit."""
    circle = await make_group(storage, "Circle")
    await storage.groups.add_member(circle, BEN, NOW, capacity=8)
    await storage.groups.add_member(circle, CY, NOW + timedelta(seconds=1), capacity=8)
    await storage.profiles.update(ANA, {"institution": "McMaster", "focus": "OSCEs"}, NOW)
    await run_session(storage, circle, NOW, response_by=BEN)
    await storage.feedback.rate(1, ANA, 4, LATER)
    await storage.feedback.save_details(
        session_id=1,
        group_id=circle,
        user_id=ANA,
        details=FeedbackDetails(
            resources="Kern's six steps\nBEME 12",
            referrals="Dr. Osei",
            next_steps="Draft aims page\nEmail the dean",
            comments="Helpful, thanks",
        ),
        now=LATER,
    )
    await storage.feedback.rate(1, BEN, 5, LATER)
    await storage.feedback.set_step_status(1, StepStatus.DONE, ANA, LATER)
    await storage.sessions.add_note(1, ANA, BEN, "referral", "Dr. Lee for ben", LATER)
    await storage.sessions.add_note(1, BEN, ANA, "resource", "AMEE 83 for ana", LATER)
    await storage.sessions.add_note(1, ANA, ANA, "insight", "My own insight", LATER)
    await storage.feedback.create_poll(
        guild_id=GUILD,
        group_id=circle,
        channel_id=5,
        message_id=6,
        question="Tuesday or Thursday?",
        options=["Tuesday", "Thursday"],
        created_by=ANA,
        created_at=LATER,
        closes_at=LATER + timedelta(days=1),
    )
    await storage.db.execute(
        "INSERT INTO schedules (group_id, guild_id, weekday, local_time, every_weeks,"
        " duration_minutes, timezone, anchor, set_by, set_at)"
        " VALUES (?, ?, 1, '18:00', 1, 90, 'UTC', '2026-01-06', ?, ?)",
        (circle, GUILD, ANA, LATER.isoformat()),
    )
    await storage.guilds.audit(GUILD, ANA, "group.add", f"Circle: <@{BEN}>", LATER)
    await storage.guilds.audit(GUILD, BEN, "group.remove", f"Circle: <@{ANA}>", LATER)
    # An unmute the bot owes her, waiting until she is back in voice; and one it delivered.
    await storage.outbox.add(
        [
            Outgoing(
                UNMUTE, "session:1", GUILD, {"member_id": ANA}, wait_for=voice_key(GUILD, ANA)
            ),
            Outgoing(UNMUTE, "session:1", GUILD, {"member_id": ANA, "session_id": 1}),
        ],
        LATER,
    )
    delivered = await storage.outbox.next_in("session:1")
    assert delivered is not None
    await storage.outbox.done(delivered.id, None, LATER)
    # A refused form of ana's kept as a draft (she never sent it again).
    await storage.feedback.save_draft(1, ANA, {"comments": "A draft by ana"}, LATER)
    return circle


async def cells_with(storage: Storage, user_id: int, anon_id: int) -> list[tuple[str, str]]:
    """Every (table, column) whose value contains the id, in any form, anywhere (the random
    anonymous id that replaced it may happen to hold the same digits: it does not count)."""
    needle = str(user_id)
    found = []
    for table in await table_names(storage.db):
        for row in await storage.db.fetch_all(f"SELECT * FROM {table}"):
            for column, value in dict(row).items():
                if value is not None and needle in str(value).replace(str(anon_id), ""):
                    found.append((table, column))
    return sorted(set(found))


def figures_without_people(facts: Any) -> dict[str, Any]:
    """The session's figures with the people replaced by what can be counted about them."""
    figures = dataclasses.asdict(session_figures(facts))
    figures["attendance"] = Counter(figures["attendance"].values())
    figures["floor"] = Counter(figures["floor"].values())
    figures["hotseat_turns"] = Counter(figures["hotseat_turns"].values())
    return figures


async def test_export_holds_everything_about_the_person(storage: Storage) -> None:
    await populate(storage)
    data = await storage.privacy.export(ANA)
    json.dumps(data)  # plain JSON values only
    assert data["user_id"] == str(ANA)
    assert data["profile"]["institution"] == "McMaster"
    assert [(m["group_name"], m["is_facilitator"]) for m in data["memberships"]] == [
        ("Circle", True)
    ]
    assert data["groups_created"][0]["group_name"] == "Circle"
    assert [a["seconds_in_voice"] for a in data["attendance"]] == [720]
    assert {t["phase"] for t in data["turns_on_the_floor"]} == {"present", "questions", "advice"}
    [draft] = data["feedback_drafts"]
    assert (draft["group_name"], draft["comments"], draft["resources"]) == (
        "Circle",
        "A draft by ana",
        "",
    )
    [feedback] = data["feedback"]
    assert (feedback["rating"], feedback["comments"]) == (4, "Helpful, thanks")
    assert [(s["text"], s["status"]) for s in data["next_steps"]] == [
        ("Draft aims page", "done"),
        ("Email the dean", "open"),
    ]
    assert [(n["text"], n["for_you"]) for n in data["notes_you_wrote"]] == [
        ("Dr. Lee for ben", False),
        ("My own insight", True),
    ]
    assert "for_member_id" not in data["notes_you_wrote"][0]
    assert [n["text"] for n in data["notes_for_you"]] == ["AMEE 83 for ana"]
    assert "author_id" not in data["notes_for_you"][0]
    assert data["polls_created"][0]["options"] == ["Tuesday", "Thursday"]
    assert data["schedules_set"][0]["local_time"] == "18:00"
    assert data["sessions_started"][0]["session_id"] == "1"
    assert [a["action"] for a in data["moderator_actions"]] == ["group.add"]
    assert [a["action"] for a in data["moderator_actions_about_you"]] == ["group.remove"]
    assert data["owed_unmutes"] == [{"guild_id": str(GUILD)}]
    assert data["hot_seat_history"][0]["group_name"] == "Circle"
    # Nothing about the others, except whom her own moderator action concerned.
    assert data["moderator_actions"][0]["detail"] == f"Circle: <@{BEN}>"
    data.pop("moderator_actions")
    assert str(BEN) not in json.dumps(data)

    nobody = await storage.privacy.export(999)
    assert nobody["profile"] is None and nobody["feedback"] == [] and nobody["memberships"] == []


async def test_erasure_leaves_nothing_that_identifies_the_person_and_keeps_the_figures(
    storage: Storage,
) -> None:
    circle = await populate(storage)
    before = await storage.reports.session_facts([1])
    assert await storage.privacy.has_data(ANA)

    erasure = await storage.privacy.erase(ANA, LATER)
    assert erasure is not None
    anon = erasure.anon_id
    assert anon < 0
    assert [g.name for g in erasure.left] == ["Circle"]
    assert erasure.promoted == {circle: BEN}  # the longest-standing member now leads
    assert erasure.changed["memberships"] == 1 and erasure.changed["feedback"] == 1
    assert erasure.changed["feedback_drafts"] == 1

    # Only the bot's promise to undo a server mute it made remains.
    assert await cells_with(storage, ANA, anon) == [("outbox", "payload"), ("outbox", "wait_for")]
    (kept,) = await storage.outbox.waiting(voice_key(GUILD, ANA))
    assert kept.kind == UNMUTE
    assert not await storage.privacy.has_data(ANA)

    after = await storage.reports.session_facts([1])
    assert figures_without_people(after[0]) == figures_without_people(before[0])
    response = await storage.feedback.response(1, anon)
    assert response is not None and response.rating == 4
    assert dataclasses.astuple(response.details) == ("", "", "", "")
    steps = await storage.feedback.steps_of(GUILD, anon, None)
    assert sorted((s.text, s.status) for s in steps) == [("", "done"), ("", "open")]
    notes = await storage.sessions.notes(1)
    assert [(n.author_id, n.for_member_id) for n in notes] == [
        (None, BEN),
        (BEN, anon),
        (None, anon),
    ]
    members = await storage.groups.members(circle)
    assert [(m.user_id, m.is_facilitator) for m in members] == [(BEN, True), (CY, False)]
    assert await storage.profiles.get(ANA) is None
    entries = await storage.guilds.audit_entries(GUILD)
    assert [(e.actor_id, e.detail) for e in entries] == [
        (anon, f"Circle: <@{BEN}>"),
        (BEN, f"Circle: {DELETED_MENTION}"),
    ]
    row = await storage.sessions.get(1)
    assert row is not None and anon in row.state.presence and ANA not in row.state.presence
    group = await storage.groups.get(circle)
    assert group is not None and group.created_by == anon

    # A second erasure finds nothing, and changes nothing.
    assert await storage.privacy.erase(ANA, LATER) is None


async def test_erasure_is_one_transaction(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await populate(storage)

    def broken(state_json: str, user_id: int, anon_id: int) -> str | None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(privacy_module, "scrub_state", broken)
    with pytest.raises(RuntimeError):
        await storage.privacy.erase(ANA, LATER)
    # The memberships, profile and feedback changed before the failure are all back.
    assert await storage.groups.membership(1, ANA) is not None
    assert await storage.profiles.get(ANA) is not None
    response = await storage.feedback.response(1, ANA)
    assert response is not None and response.details.comments == "Helpful, thanks"
    count = await storage.db.fetch_one("SELECT COUNT(*) FROM erasures")
    assert count is not None and count[0] == 0


async def test_nobody_is_erased_from_a_running_session(storage: Storage) -> None:
    circle = await make_group(storage, "Circle")
    await run_session(storage, circle, NOW, finish=False)
    with pytest.raises(InLiveSession) as refused:
        await storage.privacy.erase(BEN, LATER)
    assert refused.value.group_ids == [circle]
    assert await storage.privacy.live_groups_with(BEN) == [circle]
    assert await storage.privacy.live_groups_with(999) == []
    assert await storage.groups.membership(circle, ANA) is not None


async def test_scrub_state_replaces_whole_ids_only() -> None:
    state = SessionState.model_validate_json((await _ended_state_json()).replace(str(CY), "1103"))
    text = state.model_dump_json()
    scrubbed = scrub_state(text, ANA, -77)
    assert scrubbed is not None
    assert str(ANA) not in scrubbed.replace("-77", "")
    assert scrub_state(text, 999, -77) is None
    assert "1103" in scrubbed  # 103 inside a longer number is another id
    assert -77 in SessionState.model_validate_json(scrubbed).presence


async def _ended_state_json() -> str:
    from core.session import End, apply, default_config, start

    config = default_config("roundrobin", turn_minutes=1, order="joined")
    state, _ = start(1, config, [(ANA, NOW), (BEN, NOW), (CY, NOW)], {}, 1, NOW)
    state, _ = apply(state, End(), NOW + timedelta(seconds=30))
    return state.model_dump_json()
