"""Sessions on a real temporary database: the live state, the one-live-session rule, what a
finished session leaves behind, notes, owed unmutes and hot-seat history."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import StaleSession, UserError
from core.outbox import Outgoing
from core.session import (
    Due,
    End,
    Left,
    Next,
    SessionState,
    apply,
    default_config,
    start,
)
from core.session.outbox import ANNOUNCE, FEEDBACK, PANEL, SUMMARY, Where, rows
from core.shards import ShardSet
from storage import Storage
from storage.sessions import SAVE_CHUNK
from storage.sql import IntegrityViolation

NOW = datetime(2026, 1, 1, 18, tzinfo=UTC)
ANA, BEN, CY = 101, 102, 103


async def make_group(storage: Storage, name: str = "Circle") -> int:
    group = await storage.groups.create(
        guild_id=10,
        name=name,
        description="",
        capacity=6,
        timezone=None,
        role_id=None,
        category_id=None,
        text_channel_id=None,
        voice_channel_id=None,
        created_by=ANA,
        now=NOW,
    )
    return group.id


async def create_session(
    storage: Storage, group_id: int, *, fmt: str = "hotseat", at: datetime = NOW
) -> SessionState:
    config = default_config(fmt, turn_minutes=4, order="joined")
    present = [(ANA, at), (BEN, at + timedelta(seconds=1)), (CY, at + timedelta(seconds=2))]

    def build(session_id: int) -> SessionState:
        return start(session_id, config, present, {}, seed=7, now=at)[0], []

    return await storage.sessions.create(
        group_id=group_id, guild_id=10, started_by=ANA, now=at, build=build
    )


async def test_create_save_and_read_back(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)

    row = await storage.sessions.get(state.session_id)
    assert row is not None
    assert (row.group_id, row.guild_id, row.started_by, row.started_at) == (group_id, 10, ANA, NOW)
    assert row.ended_at is None and row.panel_message_id is None
    assert row.state == state
    next_due = await storage.db.fetch_one("SELECT next_due, format FROM sessions")
    assert next_due is not None and next_due["format"] == "hotseat"

    later = NOW + timedelta(seconds=30)
    moved, _ = apply(state, Next(ANA, is_facilitator=True), later)
    await storage.sessions.save_state(moved)
    await storage.sessions.set_panel(state.session_id, 555, 777)
    row = await storage.sessions.get(state.session_id)
    assert row is not None and row.state == moved
    assert (row.panel_channel_id, row.panel_message_id) == (555, 777)
    assert [r.id for r in await storage.sessions.live()] == [state.session_id]
    live = await storage.sessions.live_for_group(group_id)
    assert live is not None and live.state.floor_holder() == moved.floor_holder()


async def test_only_one_live_session_per_group(storage: Storage) -> None:
    group_id = await make_group(storage)
    other_group = await make_group(storage, "Other")
    first = await create_session(storage, group_id)

    with pytest.raises(UserError, match="already has a live session"):
        await create_session(storage, group_id)
    rows = await storage.db.fetch_all("SELECT id FROM sessions WHERE group_id = ?", (group_id,))
    assert [r["id"] for r in rows] == [first.session_id]

    # Another group may run one at the same time; a failed build leaves no row either.
    await create_session(storage, other_group)

    def refuse(session_id: int) -> tuple[SessionState, list[Outgoing]]:
        raise UserError("nobody is here")

    third_group = await make_group(storage, "Third")
    with pytest.raises(UserError):
        await storage.sessions.create(
            group_id=third_group, guild_id=10, started_by=ANA, now=NOW, build=refuse
        )
    assert len(await storage.db.fetch_all("SELECT id FROM sessions")) == 2

    # Once the first one is finished, the group can start again.
    ended, _ = apply(first, End(), NOW + timedelta(minutes=1))
    await storage.sessions.finish(
        ended, group_id, ended.attendance_seconds(ended.ended_at or NOW), NOW
    )
    again = await create_session(storage, group_id, at=NOW + timedelta(minutes=2))
    assert again.session_id != first.session_id
    assert await storage.sessions.count_for_group(group_id) == 1


async def test_finish_writes_segments_attendance_and_hot_seat_history(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)
    # ANA's hot seat runs out (4 min); BEN leaves at its start and is gone for good.
    at = NOW + timedelta(minutes=4)
    state, _ = apply(state, Due(), at)
    assert state.floor_holder() == BEN
    state, _ = apply(state, Left(BEN), at)
    state, _ = apply(state, Due(), at + timedelta(seconds=60))
    assert state.floor_holder() == CY
    end_at = at + timedelta(seconds=90)
    state, _ = apply(state, End(), end_at)
    await storage.sessions.finish(state, group_id, state.attendance_seconds(end_at), end_at)

    row = await storage.sessions.get(state.session_id)
    assert row is not None and row.ended_at == end_at and row.state.is_ended()
    assert await storage.sessions.live() == []
    reason = await storage.db.fetch_one("SELECT end_reason, next_due FROM sessions")
    assert reason is not None and tuple(reason) == ("ended", None)

    segments = await storage.sessions.segment_rows(state.session_id)
    assert [(s["seq"], s["speaker_id"], s["phase"], s["outcome"]) for s in segments] == [
        (1, ANA, "present", "timeout"),
        (2, ANA, "questions", "timeout"),
        (3, ANA, "advice", "timeout"),
        (4, BEN, "present", "left"),
        (5, BEN, "questions", "left"),
        (6, BEN, "advice", "left"),
        (7, CY, "present", "done"),
        (8, CY, "questions", "skipped"),
        (9, CY, "advice", "skipped"),
    ]
    assert [s["actual_seconds"] for s in segments] == [60, 60, 120, 60, 0, 0, 30, 0, 0]

    attendance = await storage.db.fetch_all(
        "SELECT user_id, seconds FROM attendance ORDER BY user_id"
    )
    assert [tuple(r) for r in attendance] == [(ANA, 330), (BEN, 240), (CY, 330)]

    history = await storage.sessions.last_hotseats(group_id)
    assert history == {
        ANA: NOW,
        BEN: NOW + timedelta(minutes=4),
        CY: NOW + timedelta(minutes=5),
    }

    # A later session moves the history on only for those who had a hot seat in it.
    later = NOW + timedelta(days=7)
    second = await create_session(storage, group_id, at=later)
    second, _ = apply(second, Next(ANA, is_facilitator=True), later + timedelta(seconds=10))
    second, _ = apply(second, End(), later + timedelta(seconds=20))
    await storage.sessions.finish(second, group_id, {}, later + timedelta(seconds=20))
    history = await storage.sessions.last_hotseats(group_id)
    assert history[ANA] == later and history[BEN] == NOW + timedelta(minutes=4)


async def test_notes(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)
    first = await storage.sessions.add_note(state.session_id, BEN, ANA, "resource", "A book", NOW)
    second = await storage.sessions.add_note(
        state.session_id, CY, None, "insight", "Say no", NOW + timedelta(seconds=5)
    )
    assert first < second

    notes = await storage.sessions.notes(state.session_id)
    assert [(n.id, n.author_id, n.for_member_id, n.kind, n.text) for n in notes] == [
        (first, BEN, ANA, "resource", "A book"),
        (second, CY, None, "insight", "Say no"),
    ]
    assert notes[1].created_at == NOW + timedelta(seconds=5)
    with pytest.raises(IntegrityViolation):
        await storage.sessions.add_note(state.session_id, BEN, None, "video", "nope", NOW)
    assert len(await storage.sessions.notes(state.session_id)) == 2
    assert await storage.sessions.notes(state.session_id + 1) == []


async def test_the_end_commits_the_feedback_request_and_its_rows_together(
    storage: Storage,
) -> None:
    group_id = await make_group(storage)
    await storage.guilds.update_settings(10, {"feedback_days": 3})
    state = await create_session(storage, group_id)
    end_at = NOW + timedelta(minutes=2)
    ended, effects = apply(state, End(), end_at)
    where = Where(state.session_id, group_id, 10, 555, 556)
    outgoing = rows(where, effects)
    assert [r.kind for r in outgoing][-2:] == [SUMMARY, FEEDBACK]

    # A failure inside the transaction leaves neither the end, the request nor the rows.
    bad = [*outgoing, Outgoing("x", "s", 10, {"not json": object()})]
    with pytest.raises(TypeError):
        await storage.sessions.finish(ended, group_id, {}, end_at, bad)
    assert await storage.feedback.request(state.session_id) is None
    assert await storage.outbox.pending(where.scope()) == []
    assert (await storage.sessions.live())[0].id == state.session_id

    await storage.sessions.finish(ended, group_id, {}, end_at, outgoing)
    request = await storage.feedback.request(state.session_id)
    assert request is not None
    assert request.opened_at == end_at and request.closes_at == end_at + timedelta(days=3)
    assert request.remind_at == end_at + timedelta(hours=24)
    pending = await storage.outbox.pending(where.scope())
    assert [r.kind for r in pending] == [r.kind for r in outgoing]
    assert all(r.payload["channel_id"] == 555 for r in pending if r.kind == SUMMARY)
    assert await storage.sessions.live() == []


async def test_a_state_and_its_rows_are_saved_together(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)
    moved, effects = apply(state, Due(), NOW + timedelta(minutes=4))
    where = Where(state.session_id, group_id, 10, 555, 556)
    await storage.sessions.save_state(moved, rows(where, effects))
    kinds = [r.kind for r in await storage.outbox.pending(where.scope())]
    assert ANNOUNCE in kinds and PANEL in kinds
    row = await storage.sessions.get(state.session_id)
    assert row is not None and row.state == moved


async def test_a_save_over_a_stale_version_writes_nothing(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)
    # A second process sharing the database adopts the same live session.
    other = Storage.for_database(storage.db)
    [adopted] = await other.sessions.live()
    assert adopted.version == 1 == storage.sessions.version(state.session_id)
    where = Where(state.session_id, group_id, 10, 555, 556)
    at = NOW + timedelta(minutes=4)

    moved, effects = apply(adopted.state, Due(), at)
    await other.sessions.save_state(moved, rows(where, effects))
    announced = await storage.outbox.pending(where.scope())

    # This process still holds version 1: its own copy of the same deadline is refused whole.
    mine, mine_effects = apply(state, Due(), at)
    with pytest.raises(StaleSession):
        await storage.sessions.save_state(mine, rows(where, mine_effects))
    assert await storage.outbox.pending(where.scope()) == announced
    row = await storage.sessions.get(state.session_id)
    assert row is not None and row.version == 2 and row.state == moved
    # Until it reloads, every save of it is refused (its copy is stale, not just its number).
    with pytest.raises(StaleSession):
        await storage.sessions.save_state(mine)
    # Nor can it end the session over the newer state.
    ended, _ = apply(state, End(), at)
    with pytest.raises(StaleSession):
        await storage.sessions.finish(ended, group_id, {}, at)
    assert await storage.feedback.request(state.session_id) is None

    fresh = await storage.sessions.reload(state.session_id)
    assert fresh is not None and fresh.state == moved
    later, _ = apply(fresh.state, Next(ANA, is_facilitator=True), at + timedelta(seconds=5))
    await storage.sessions.save_state(later)
    assert storage.sessions.version(state.session_id) == 3
    with pytest.raises(StaleSession):
        await other.sessions.save_state(later)


async def test_many_saves_together_each_compare_and_set_on_its_own(storage: Storage) -> None:
    """Deadlines that fall at once: one unit for all of them, chunked (more sessions than one
    statement takes), and a stale copy among them refused alone, its rows not written."""
    count = SAVE_CHUNK + 3
    sessions = []
    for index in range(count):
        group_id = await make_group(storage, name=f"Circle {index}")
        sessions.append((group_id, await create_session(storage, group_id)))
    other = Storage.for_database(storage.db)
    _, stale_state = sessions[SAVE_CHUNK + 1]
    adopted = await other.sessions.reload(stale_state.session_id)
    assert adopted is not None
    at = NOW + timedelta(minutes=4)
    elsewhere, _ = apply(adopted.state, Next(ANA, is_facilitator=True), at)
    await other.sessions.save_state(elsewhere)
    commits = storage.db.commits

    saves = []
    for group_id, state in sessions:
        moved, effects = apply(state, Due(), at)
        where = Where(state.session_id, group_id, 10, 555, 556)
        saves.append((moved, rows(where, effects)))
    stale = await storage.sessions.save_states(saves)

    assert stale == {stale_state.session_id}
    assert storage.db.commits == commits + 1, "one group commit for all of them"
    for (_, state), (moved, outgoing) in zip(sessions, saves, strict=True):
        row = await storage.sessions.get(state.session_id)
        pending = await storage.outbox.pending(f"session:{state.session_id}")
        assert row is not None
        if state.session_id == stale_state.session_id:
            assert row.state == elsewhere and row.version == 2
            assert pending == [] and storage.sessions.version(state.session_id) is None
        else:
            assert row.state == moved and row.version == 2
            assert [r.kind for r in pending] == [item.kind for item in outgoing]
            assert storage.sessions.version(state.session_id) == 2
    # What was never loaded here is stale too, and nothing of it is written.
    fresh = Storage.for_database(storage.db)
    assert await fresh.sessions.save_states(saves[:2]) == {s.session_id for s, _ in saves[:2]}
    assert await storage.sessions.save_states([]) == set()


async def test_reading_a_session_does_not_adopt_its_version(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)
    other = Storage.for_database(storage.db)
    [adopted] = await other.sessions.live()
    moved, _ = apply(adopted.state, Next(ANA, is_facilitator=True), NOW + timedelta(seconds=9))
    await other.sessions.save_state(moved)
    # A plain read (a report, a panel) must not let the stale copy be saved over the new one.
    assert (await storage.sessions.get(state.session_id)) is not None
    with pytest.raises(StaleSession):
        await storage.sessions.save_state(state)


async def test_live_sessions_of_a_shard_set(storage: Storage) -> None:
    on_shard = {0: 4 << 22, 1: 5 << 22}  # (id >> 22) % 2
    ids = {}
    for shard, guild_id in on_shard.items():
        group = await storage.groups.create(
            guild_id=guild_id,
            name=f"Circle {shard}",
            description="",
            capacity=6,
            timezone=None,
            role_id=None,
            category_id=None,
            text_channel_id=None,
            voice_channel_id=None,
            created_by=ANA,
            now=NOW,
        )

        def build(session_id: int) -> tuple[SessionState, list[Outgoing]]:
            config = default_config("hotseat", turn_minutes=4, order="joined")
            return start(session_id, config, [(ANA, NOW)], {}, seed=7, now=NOW)[0], []

        created = await storage.sessions.create(
            group_id=group.id, guild_id=guild_id, started_by=ANA, now=NOW, build=build
        )
        ids[shard] = created.session_id
    assert [r.id for r in await storage.sessions.live(ShardSet.of(2, [0]))] == [ids[0]]
    assert [r.id for r in await storage.sessions.live(ShardSet.of(2, [1]))] == [ids[1]]
    assert sorted(r.id for r in await storage.sessions.live(ShardSet.of(2))) == sorted(ids.values())
    assert [r.id for r in await storage.sessions.live(ShardSet.of(4, [1, 3]))] == [ids[1]]


async def test_loading_the_live_sessions_leaves_the_collector_as_it_was(storage: Storage) -> None:
    group_id = await make_group(storage)
    state = await create_session(storage, group_id)
    assert gc.isenabled()
    assert [row.state for row in await storage.sessions.live()] == [state]
    assert gc.isenabled(), "the collector runs again after the load"
    gc.disable()
    try:
        await storage.sessions.live()
        assert not gc.isenabled(), "a collector paused by someone else stays paused"
    finally:
        gc.enable()
