"""The report queries on a real temporary database, with sessions run by the real machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import storage.reports as reports_module
from core.feedback import FeedbackDetails, StepStatus
from core.outbox import Outgoing
from core.session import Due, Next, RaiseHand, SessionState, apply, default_config, start
from core.stats import ResponseFact, SegmentFact
from storage import Storage
from tests.storage.conftest import StorageFactory

NOW = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 10, 20
ANA, BEN, CY = 101, 102, 103


async def make_group(
    storage: Storage, name: str, guild_id: int = GUILD, tz: str | None = None
) -> int:
    group = await storage.groups.create(
        guild_id=guild_id,
        name=name,
        description="",
        capacity=8,
        timezone=tz,
        role_id=None,
        category_id=None,
        text_channel_id=None,
        voice_channel_id=None,
        created_by=ANA,
        now=NOW,
    )
    return group.id


async def run_session(
    storage: Storage,
    group_id: int,
    at: datetime,
    people: tuple[int, ...] = (ANA, BEN, CY),
    *,
    guild_id: int = GUILD,
    response_by: int | None = None,
    finish: bool = True,
) -> SessionState:
    """A `hotseat` session of 4-minute hot seats in joined order, run to its end by `Due`.
    With `response_by`, that person answers the first hot seat's advice for 30 s."""
    config = default_config("hotseat", turn_minutes=4, order="joined")

    def build(session_id: int) -> tuple[SessionState, list[Outgoing]]:
        joined = [(p, at - timedelta(seconds=len(people) - i)) for i, p in enumerate(people)]
        state, _ = start(session_id, config, joined, {}, 1, at)
        return state, []

    state = await storage.sessions.create(
        group_id=group_id, guild_id=guild_id, started_by=people[0], now=at, build=build
    )
    if not finish:
        return state
    now = at
    if response_by is not None:
        now = at + timedelta(seconds=150)  # 30 s into the first advice phase
        while (due := state.next_due()) is not None and due <= now:
            state, _ = apply(state, Due(), due)
        state, _ = apply(state, RaiseHand(response_by), now)
        now += timedelta(seconds=30)
        state, _ = apply(state, Next(actor_id=response_by, is_facilitator=False), now)
    while state.ended_at is None:
        due = state.next_due()
        assert due is not None
        now = due
        state, _ = apply(state, Due(), now)
    await storage.sessions.finish(state, group_id, state.attendance_seconds(now), now)
    return state


async def test_the_pseudonym_key_is_made_once_per_guild_and_kept(
    storage_factory: StorageFactory,
) -> None:
    first = storage_factory()
    await first.open()
    key = await first.reports.pseudonym_key(GUILD, NOW)
    assert len(key) == 32
    assert await first.reports.pseudonym_key(GUILD, NOW + timedelta(days=1)) == key
    other = await first.reports.pseudonym_key(OTHER_GUILD, NOW)
    assert other != key
    await first.close()
    again = storage_factory()
    await again.open()
    try:
        assert await again.reports.pseudonym_key(GUILD, NOW) == key
    finally:
        await again.close()


async def test_which_sessions_a_report_covers(storage: Storage) -> None:
    circle = await make_group(storage, "Circle")
    larks = await make_group(storage, "Larks")
    elsewhere = await make_group(storage, "Circle", guild_id=OTHER_GUILD)
    await run_session(storage, circle, NOW)  # 1
    await run_session(storage, larks, NOW + timedelta(hours=1))  # 2
    await run_session(storage, circle, NOW + timedelta(days=7))  # 3
    await run_session(storage, elsewhere, NOW, guild_id=OTHER_GUILD)  # 4
    await run_session(storage, circle, NOW + timedelta(days=14), finish=False)  # 5, live

    reports = storage.reports
    found = await reports.session(3)
    assert found is not None
    assert (found.id, found.guild_id, found.group_id) == (3, GUILD, circle)
    assert found.started_at == NOW + timedelta(days=7)
    assert found.ended_at == found.started_at + timedelta(minutes=12)
    assert await reports.session(5) is None  # still running
    assert await reports.session(99) is None
    assert [s.id for s in await reports.ended_sessions([circle])] == [1, 3]
    assert [s.id for s in await reports.ended_sessions([larks, circle])] == [1, 2, 3]
    assert await reports.ended_sessions([]) == []
    assert [s.id for s in await reports.ended_sessions_of_guild(GUILD)] == [1, 2, 3]
    latest = await reports.latest_session(circle)
    assert latest is not None and latest.id == 3
    assert await reports.latest_session(await make_group(storage, "Empty")) is None
    assert [s.id for s in await reports.recent_sessions(circle)] == [3, 1]


async def test_session_facts(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    circle = await make_group(storage, "Circle", tz="Asia/Tokyo")
    state = await run_session(storage, circle, NOW, response_by=BEN)
    await run_session(storage, circle, NOW + timedelta(days=7), people=(ANA, BEN))
    feedback = storage.feedback
    later = NOW + timedelta(minutes=20)
    await feedback.rate(1, ANA, 5, later)
    await feedback.save_details(
        session_id=1,
        group_id=circle,
        user_id=ANA,
        details=FeedbackDetails(
            resources="Kern\n\n- BEME 12\n-", referrals="Dr. Osei", next_steps="Draft\nEmail"
        ),
        now=later,
    )
    await feedback.save_details(
        session_id=1,
        group_id=circle,
        user_id=CY,
        details=FeedbackDetails(referrals="Dr. Lee\nDr. Kim", next_steps="Retreat"),
        now=later + timedelta(minutes=1),
    )
    await feedback.rate(1, BEN, 3, later + timedelta(minutes=2))
    await feedback.set_step_status(1, StepStatus.DONE, ANA, later)
    await feedback.set_step_status(3, StepStatus.PARTLY, CY, later)
    await storage.sessions.add_note(1, ANA, BEN, "resource", "AMEE 83", later)
    await storage.sessions.add_note(1, BEN, ANA, "resource", "Guide", later)
    await storage.sessions.add_note(1, BEN, ANA, "insight", "Listen", later)
    await storage.sessions.add_note(2, BEN, ANA, "referral", "Dr. Who", later)
    # A response an erasure kept only as counts: the stored counts win over the (empty) text.
    await storage.db.execute(
        "UPDATE feedback SET resources_count = 4, referrals_count = 0 WHERE user_id = ?", (CY,)
    )

    monkeypatch.setattr(reports_module, "CHUNK", 1)  # the chunked path gives the same answer
    second, first = await storage.reports.session_facts([2, 1, 77])
    assert (first.session_id, first.group_id, first.group, first.timezone) == (
        1,
        circle,
        "Circle",
        "Asia/Tokyo",
    )
    assert (first.started_at, first.ended_at) == (NOW, NOW + timedelta(minutes=12))
    assert first.attendance == {ANA: 720, BEN: 720, CY: 720}
    assert list(first.responses) == [
        ResponseFact(ANA, 5, resources=2, referrals=1),
        ResponseFact(CY, None, resources=4, referrals=0),
        ResponseFact(BEN, 3, resources=0, referrals=0),
    ]
    assert first.notes == {"resource": 2, "insight": 1}
    assert list(first.step_statuses) == ["done", "open", "partly"]
    assert first.segments[0] == SegmentFact(1, 1, ANA, "hotseats", "present", 60)
    assert [s.phase for s in first.segments][:4] == ["present", "questions", "response", "advice"]
    assert [(s.speaker_id, s.actual_seconds) for s in first.segments if s.phase == "response"] == [
        (BEN, 30)
    ]
    assert len(first.segments) == len(state.records)
    assert second.attendance == {ANA: 480, BEN: 480}
    assert second.notes == {"referral": 1} and second.responses == ()

    records = await storage.reports.feedback_records([1, 2])
    assert [(r.session_id, r.user_id, r.rating) for r in records] == [
        (1, ANA, 5),
        (1, CY, None),
        (1, BEN, 3),
    ]
    assert (
        records[0].resources == "Kern\n\n- BEME 12\n-" and records[0].next_steps == "Draft\nEmail"
    )
    assert (records[0].group, records[0].timezone, records[0].session_started_at) == (
        "Circle",
        "Asia/Tokyo",
        NOW,
    )
    assert records[0].submitted_at == later
    assert await storage.reports.session_facts([]) == []
    assert await storage.reports.feedback_records([]) == []
