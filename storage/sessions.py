"""Live sessions (their persisted state machine) and what they leave behind.

Several processes may share the database. Every save of a session's state is a
compare-and-set on its `version`: the repository remembers the version each session was last
read or written at, saves only over that one and counts one more. A save over a version
another process moved past writes nothing and raises `StaleSession`; the caller reloads the
session (`get`) and carries on from what is there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from core import collector
from core.errors import StaleSession, UserError
from core.feedback import REMINDER_AFTER, feedback_closes_at
from core.models import Note
from core.outbox import Outgoing
from core.records import SessionRow
from core.session import SessionState
from core.session.codec import state_json
from core.shards import EVERY_SHARD, ShardSet
from core.stats import is_hotseat_turn
from storage.convert import from_db_time, require_time, to_db_time
from storage.outbox import OutboxRepository, insert_outbox_rows, outbox_values
from storage.sql import Database, Row, SyncTx, UniqueViolation


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A save as its statements take it: the state's JSON, its next deadline and the values
    of its outbox rows."""

    state: SessionState
    outgoing: Sequence[Outgoing]
    state_json: str
    next_due: str | None
    rows: list[tuple[object, ...]]


class SessionRepository:
    def __init__(self, db: Database, outbox: OutboxRepository | None = None) -> None:
        self.db = db
        self.outbox = outbox or OutboxRepository(db)
        self._versions: dict[int, int] = {}
        """The version of each session's state as this process last read or wrote it."""
        self._ahead: dict[int, _Encoded] = {}
        """Saves encoded before they are made (`encode_ahead`), by session."""

    def version(self, session_id: int) -> int | None:
        """The version this process holds of a session (None: never loaded here)."""
        return self._versions.get(session_id)

    async def create(
        self,
        *,
        group_id: int,
        guild_id: int,
        started_by: int,
        now: datetime,
        build: Callable[[int], tuple[SessionState, list[Outgoing]]],
    ) -> SessionState:
        """Insert the session, its first state and the outbox rows of its first effects in
        one transaction (the state needs the id).

        The partial unique index refuses a second live session of the same group."""
        try:
            return await self._create(group_id, guild_id, started_by, now, build)
        except UniqueViolation:
            # Another process started one a moment ago: its own check could not see it.
            raise UserError(
                "This group already has a live session; `/session end` ends it."
            ) from None

    async def _create(
        self,
        group_id: int,
        guild_id: int,
        started_by: int,
        now: datetime,
        build: Callable[[int], tuple[SessionState, list[Outgoing]]],
    ) -> SessionState:
        async with self.db.transaction() as conn:
            session_id = await conn.insert(
                "INSERT INTO sessions (group_id, guild_id, format, started_by, started_at, state,"
                " version) VALUES (?, ?, '', ?, ?, '{}', 1) RETURNING id",
                (group_id, guild_id, started_by, to_db_time(now)),
            )
            state, outgoing = build(session_id)
            await self.outbox.insert(conn, outgoing, now)
            await conn.execute(
                "UPDATE sessions SET format = ?, state = ?, next_due = ? WHERE id = ?",
                (
                    state.config.format.value,
                    state_json(state),
                    to_db_time(state.next_due()),
                    session_id,
                ),
            )
        self._versions[session_id] = 1
        return state

    def encode_ahead(self, state: SessionState, outgoing: Sequence[Outgoing]) -> None:
        """Encode now a save that is coming (a hand-over prepared before its deadline): the
        state's JSON and its rows' values, which are most of a save's work on the event loop.
        A save of this very state with these very rows then only writes them; any other save
        of the session encodes afresh (and forgets this)."""
        self._ahead[state.session_id] = self._encoded(state, outgoing, {})

    def _encode(
        self, state: SessionState, outgoing: Sequence[Outgoing], stamps: dict[datetime, str | None]
    ) -> _Encoded:
        ahead = self._ahead.pop(state.session_id, None)
        if ahead is not None and ahead.state is state and ahead.outgoing is outgoing:
            return ahead
        return self._encoded(state, outgoing, stamps)

    @staticmethod
    def _encoded(
        state: SessionState, outgoing: Sequence[Outgoing], stamps: dict[datetime, str | None]
    ) -> _Encoded:
        """`stamps` keeps the text of each time already written: the hand-overs of one
        instant share it."""
        at = state.updated_at
        stamp = stamps.get(at)
        if stamp is None:
            stamp = stamps[at] = to_db_time(at)
        return _Encoded(
            state,
            outgoing,
            state_json(state),
            to_db_time(state.next_due()),
            [outbox_values(item, stamp) for item in outgoing],
        )

    async def save_state(self, state: SessionState, outgoing: Sequence[Outgoing] = ()) -> None:
        """The new state and the outbox rows of its effects, atomically, in one trip to the
        writer (so a burst of hand-overs shares its group commits); only over the version
        this process holds, else `StaleSession` and nothing is written."""
        session_id = state.session_id
        expected = self._expected(session_id)
        encoded = self._encode(state, outgoing, {})
        params = (encoded.state_json, encoded.next_due, session_id, expected)
        rows = encoded.rows

        def save(tx: SyncTx) -> bool:
            changed = tx.execute(
                "UPDATE sessions SET state = ?, next_due = ?, version = version + 1"
                " WHERE id = ? AND version = ? AND ended_at IS NULL",
                params,
            )
            if changed != 1:
                return False
            if rows:
                insert_outbox_rows(tx, rows)
            return True

        if not await self.db.run(save, single=not rows):
            self._versions.pop(session_id, None)
            raise StaleSession(session_id)
        self._versions[session_id] = expected + 1

    async def save_states(
        self, saves: Sequence[tuple[SessionState, Sequence[Outgoing]]]
    ) -> set[int]:
        """Many sessions' new states and their outbox rows (the hand-overs of deadlines that
        fell together) in one unit of one group commit: one statement per SAVE_CHUNK
        sessions and one per OUTBOX_CHUNK rows, rather than a statement and a wait per
        session. Each is a compare-and-set of its own, as in `save_state`; returns the ids of
        those whose copy was stale, for which nothing was written."""
        stale = {state.session_id for state, _ in saves if state.session_id not in self._versions}
        stamps: dict[datetime, str | None] = {}
        held = [
            self._encode(state, outgoing, stamps)
            for state, outgoing in saves
            if state.session_id not in stale
        ]
        if not held:
            return stale
        updates = [
            (
                item.state.session_id,
                item.state_json,
                item.next_due,
                self._versions[item.state.session_id],
            )
            for item in held
        ]
        rows = {item.state.session_id: item.rows for item in held}

        def save(tx: SyncTx) -> set[int]:
            saved: set[int] = set()
            for start in range(0, len(updates), SAVE_CHUNK):
                chunk = updates[start : start + SAVE_CHUNK]
                params = [value for update in chunk for value in update]
                for row in tx.fetch_all(_save_many_sql(len(chunk)), params):
                    saved.add(int(row[0]))
            written = [
                row for session_id, own in rows.items() if session_id in saved for row in own
            ]
            insert_outbox_rows(tx, written)
            return saved

        saved = await self.db.run(save)
        for session_id, _, _, expected in updates:
            if session_id in saved:
                self._versions[session_id] = expected + 1
            else:
                self._versions.pop(session_id, None)
                stale.add(session_id)
        return stale

    def _expected(self, session_id: int) -> int:
        """The version a save goes over: the one this process holds. A session it never
        loaded (or whose copy went stale) is not its to save until it is reloaded."""
        held = self._versions.get(session_id)
        if held is None:
            raise StaleSession(session_id)
        return held

    async def finish(
        self,
        state: SessionState,
        group_id: int,
        attendance: dict[int, int],
        now: datetime,
        outgoing: Sequence[Outgoing] = (),
    ) -> None:
        """The end of a session, atomically: the final state, segment records, attendance,
        hot-seat history, the feedback request (with its close and reminder times) and the
        outbox rows of the summary and the feedback message."""
        ended = state.ended_at or now
        expected = self._expected(state.session_id)
        self._ahead.pop(state.session_id, None)
        async with self.db.transaction() as conn:
            # First, so that a stale copy writes nothing at all (the block rolls back).
            changed = await conn.execute(
                "UPDATE sessions SET state = ?, next_due = NULL, ended_at = ?, end_reason = ?,"
                " version = version + 1 WHERE id = ? AND version = ? AND ended_at IS NULL",
                (
                    state_json(state),
                    to_db_time(state.ended_at or now),
                    state.end_reason,
                    state.session_id,
                    expected,
                ),
            )
            if changed != 1:
                self._versions.pop(state.session_id, None)
                raise StaleSession(state.session_id)
            days = await conn.fetch_one(
                "SELECT g.feedback_days FROM guild_settings g JOIN groups r"
                " ON r.guild_id = g.guild_id WHERE r.id = ?",
                (group_id,),
            )
            feedback_days = int(days[0]) if days else 7
            await conn.execute(
                "INSERT INTO feedback_requests (session_id, group_id, opened_at,"
                " closes_at, remind_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    state.session_id,
                    group_id,
                    to_db_time(ended),
                    to_db_time(feedback_closes_at(ended, feedback_days)),
                    to_db_time(ended + REMINDER_AFTER),
                ),
            )
            await self.outbox.insert(conn, outgoing, now)
            # Written once, at the end; anything from an earlier attempt is replaced.
            await conn.execute("DELETE FROM segments WHERE session_id = ?", (state.session_id,))
            await conn.execute("DELETE FROM attendance WHERE session_id = ?", (state.session_id,))
            await conn.executemany(
                "INSERT INTO segments (session_id, seq, speaker_id, round, phase,"
                " planned_seconds, actual_seconds, outcome, started_at, ended_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        state.session_id,
                        seq,
                        r.speaker_id,
                        r.round,
                        r.phase.value,
                        r.planned_seconds,
                        r.actual_seconds,
                        r.outcome.value,
                        to_db_time(r.started_at),
                        to_db_time(r.ended_at),
                    )
                    for seq, r in enumerate(state.records, start=1)
                ],
            )
            await conn.executemany(
                "INSERT INTO attendance (session_id, user_id, first_joined_at, seconds)"
                " VALUES (?, ?, ?, ?)",
                [
                    (
                        state.session_id,
                        member_id,
                        to_db_time(state.presence[member_id].first_joined),
                        seconds,
                    )
                    for member_id, seconds in attendance.items()
                ],
            )
            hot_seat_at: dict[int, datetime] = {}
            for record in state.records:
                if record.started_at and is_hotseat_turn(
                    record.round, record.phase.value, record.actual_seconds
                ):
                    hot_seat_at.setdefault(record.speaker_id, record.started_at)
            await conn.executemany(
                "INSERT INTO hotseat_history (group_id, user_id, last_hotseat_at) VALUES (?, ?, ?)"
                " ON CONFLICT (group_id, user_id) DO UPDATE SET"
                " last_hotseat_at = excluded.last_hotseat_at",
                [(group_id, member, to_db_time(at)) for member, at in hot_seat_at.items()],
            )
        self._versions.pop(state.session_id, None)

    async def set_panel(self, session_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE sessions SET panel_channel_id = ?, panel_message_id = ? WHERE id = ?",
            (channel_id, message_id, session_id),
        )

    async def panel_location(self, session_id: int) -> tuple[int, int] | None:
        row = await self.db.fetch_one(
            "SELECT panel_channel_id, panel_message_id FROM sessions WHERE id = ?", (session_id,)
        )
        if row is None or row[0] is None or row[1] is None:
            return None
        return int(row[0]), int(row[1])

    async def get(self, session_id: int) -> SessionRow | None:
        """The stored session, to read (the version this process holds does not change)."""
        row = await self.db.fetch_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return _session(row) if row else None

    async def reload(self, session_id: int) -> SessionRow | None:
        """The stored session, to carry on from: its version becomes the one this process
        holds (after a `StaleSession`, or to adopt it)."""
        row = await self.db.fetch_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return self._hold(_session(row)) if row else None

    async def live(self, shards: ShardSet = EVERY_SHARD) -> list[SessionRow]:
        """The live sessions of `shards`' guilds (every guild by default), to adopt."""
        where, params = shards.sql()
        rows = await self.db.fetch_all(
            f"SELECT * FROM sessions WHERE ended_at IS NULL AND {where}", params
        )
        # Thousands of states, every one of which lives on: the collector would trace them
        # again and again as they pile up (a third of the time at start-up). They are moved
        # out of its generations once start-up has re-armed (`MastermindBot.on_ready`).
        with collector.paused():
            return [self._hold(_session(row)) for row in rows]

    def _hold(self, session: SessionRow) -> SessionRow:
        if session.ended_at is None:
            self._versions[session.id] = session.version
        else:
            self._versions.pop(session.id, None)
        return session

    async def live_for_group(self, group_id: int) -> SessionRow | None:
        row = await self.db.fetch_one(
            "SELECT * FROM sessions WHERE group_id = ? AND ended_at IS NULL", (group_id,)
        )
        return _session(row) if row else None

    async def count_for_group(self, group_id: int) -> int:
        row = await self.db.fetch_one(
            "SELECT COUNT(*) FROM sessions WHERE group_id = ? AND ended_at IS NOT NULL",
            (group_id,),
        )
        return int(row[0]) if row else 0

    async def last_hotseats(self, group_id: int) -> dict[int, datetime | None]:
        rows = await self.db.fetch_all(
            "SELECT user_id, last_hotseat_at FROM hotseat_history WHERE group_id = ?", (group_id,)
        )
        return {int(row["user_id"]): from_db_time(row["last_hotseat_at"]) for row in rows}

    async def add_note(
        self,
        session_id: int,
        author_id: int,
        for_member_id: int | None,
        kind: str,
        text: str,
        now: datetime,
    ) -> int:
        return await self.db.insert(
            "INSERT INTO notes (session_id, author_id, for_member_id, kind, text, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (session_id, author_id, for_member_id, kind, text, to_db_time(now)),
        )

    async def notes(self, session_id: int) -> list[Note]:
        rows = await self.db.fetch_all(
            "SELECT * FROM notes WHERE session_id = ? ORDER BY id", (session_id,)
        )
        return [
            Note(
                id=row["id"],
                session_id=row["session_id"],
                author_id=row["author_id"],
                for_member_id=row["for_member_id"],
                kind=row["kind"],
                text=row["text"],
                created_at=require_time(row["created_at"]),
            )
            for row in rows
        ]

    async def segment_rows(self, session_id: int) -> list[dict[str, object]]:
        rows = await self.db.fetch_all(
            "SELECT * FROM segments WHERE session_id = ? ORDER BY seq", (session_id,)
        )
        return [dict(row) for row in rows]

    async def record_voice_join(
        self, guild_id: int, user_id: int, channel_id: int, at: datetime
    ) -> None:
        await self.db.execute(
            "INSERT INTO voice_joins (guild_id, user_id, channel_id, joined_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (guild_id, user_id) DO UPDATE SET channel_id = excluded.channel_id,"
            " joined_at = excluded.joined_at",
            (guild_id, user_id, channel_id, to_db_time(at)),
        )

    async def forget_voice_join(self, guild_id: int, user_id: int) -> None:
        await self.db.execute(
            "DELETE FROM voice_joins WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )

    async def voice_joins(self, channel_id: int) -> dict[int, datetime]:
        """When each person now in the channel joined it (as far as the bot saw)."""
        rows = await self.db.fetch_all(
            "SELECT user_id, joined_at FROM voice_joins WHERE channel_id = ?", (channel_id,)
        )
        return {int(row["user_id"]): require_time(row["joined_at"]) for row in rows}


SAVE_CHUNK = 250
"""Sessions per statement of `save_states`: four parameters each, well inside SQLite's
limit of 32,766 per statement."""


@lru_cache(maxsize=8)
def _save_many_sql(count: int) -> str:
    """A compare-and-set of `count` sessions in one UPDATE, saying which ones it changed.
    VALUES names its columns column1... on both SQLite and PostgreSQL."""
    values = ", ".join(["(?, ?, ?, ?)"] * count)
    return (
        "UPDATE sessions SET state = v.column2, next_due = v.column3, version = version + 1"
        f" FROM (VALUES {values}) AS v WHERE sessions.id = v.column1"
        " AND sessions.version = v.column4 AND sessions.ended_at IS NULL RETURNING sessions.id"
    )


def _session(row: Row) -> SessionRow:
    data: dict[str, Any] = dict(row)
    return SessionRow(
        id=data["id"],
        group_id=data["group_id"],
        guild_id=data["guild_id"],
        started_by=data["started_by"],
        started_at=require_time(data["started_at"]),
        ended_at=from_db_time(data["ended_at"]),
        panel_channel_id=data["panel_channel_id"],
        panel_message_id=data["panel_message_id"],
        state=SessionState.model_validate_json(data["state"]),
        version=int(data["version"]),
    )
