"""Read queries for the reports: the facts of ended sessions, feedback rows, pseudonym keys."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from core.records import EndedSession, FeedbackRecord
from core.stats import ResponseFact, SegmentFact, SessionFacts, count_lines
from storage.convert import require_time, to_db_time
from storage.sql import Database

KEY_BYTES = 32
CHUNK = 500
"""Sessions per query: far below SQLite's limit on `?` parameters."""


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def pseudonym_key(self, guild_id: int, now: datetime) -> bytes:
        """The guild's secret key for pseudonyms, made on first use."""
        row = await self.db.fetch_one(
            "SELECT pseudonym_key FROM guild_secrets WHERE guild_id = ?", (guild_id,)
        )
        if row is not None:
            return bytes(row[0])
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_secrets (guild_id, pseudonym_key, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id) DO NOTHING",
                (guild_id, secrets.token_bytes(KEY_BYTES), to_db_time(now)),
            )
            stored = await conn.fetch_one(
                "SELECT pseudonym_key FROM guild_secrets WHERE guild_id = ?", (guild_id,)
            )
        assert stored is not None
        return bytes(stored[0])

    # -- which sessions -----------------------------------------------------------------------

    async def session(self, session_id: int) -> EndedSession | None:
        """The session if it has ended (a live one has no report yet)."""
        row = await self.db.fetch_one(
            "SELECT id, guild_id, group_id, started_at, ended_at FROM sessions"
            " WHERE id = ? AND ended_at IS NOT NULL",
            (session_id,),
        )
        return _ended(row) if row else None

    async def ended_sessions(self, group_ids: Sequence[int]) -> list[EndedSession]:
        """Ended sessions of these groups, oldest first."""
        if not group_ids:
            return []
        rows = await self.db.fetch_all(
            "SELECT id, guild_id, group_id, started_at, ended_at FROM sessions"
            f" WHERE group_id IN ({_marks(group_ids)}) AND ended_at IS NOT NULL"
            " ORDER BY started_at, id",
            tuple(group_ids),
        )
        return [_ended(row) for row in rows]

    async def ended_sessions_of_guild(self, guild_id: int) -> list[EndedSession]:
        """Ended sessions of every group of the guild, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT id, guild_id, group_id, started_at, ended_at FROM sessions"
            " WHERE guild_id = ? AND ended_at IS NOT NULL ORDER BY started_at, id",
            (guild_id,),
        )
        return [_ended(row) for row in rows]

    async def latest_session(self, group_id: int) -> EndedSession | None:
        row = await self.db.fetch_one(
            "SELECT id, guild_id, group_id, started_at, ended_at FROM sessions"
            " WHERE group_id = ? AND ended_at IS NOT NULL ORDER BY started_at DESC, id DESC"
            " LIMIT 1",
            (group_id,),
        )
        return _ended(row) if row else None

    async def recent_sessions(self, group_id: int, limit: int = 25) -> list[EndedSession]:
        """The latest ended sessions of a group, newest first (for autocomplete)."""
        rows = await self.db.fetch_all(
            "SELECT id, guild_id, group_id, started_at, ended_at FROM sessions"
            " WHERE group_id = ? AND ended_at IS NOT NULL ORDER BY started_at DESC, id DESC"
            " LIMIT ?",
            (group_id, limit),
        )
        return [_ended(row) for row in rows]

    # -- what happened in them ----------------------------------------------------------------

    async def session_facts(self, session_ids: Sequence[int]) -> list[SessionFacts]:
        """The facts of these ended sessions, in the order given (six queries for every
        `CHUNK` sessions)."""
        if len(session_ids) > CHUNK:
            found: list[SessionFacts] = []
            for start in range(0, len(session_ids), CHUNK):
                found += await self.session_facts(session_ids[start : start + CHUNK])
            return found
        if not session_ids:
            return []
        ids = tuple(session_ids)
        marks = _marks(ids)
        sessions = await self.db.fetch_all(
            "SELECT s.id, s.group_id, s.started_at, s.ended_at, g.name, g.timezone"
            " FROM sessions s JOIN groups g ON g.id = s.group_id"
            f" WHERE s.id IN ({marks}) AND s.ended_at IS NOT NULL",
            ids,
        )
        attendance: dict[int, dict[int, int]] = {i: {} for i in ids}
        for row in await self.db.fetch_all(
            f"SELECT session_id, user_id, seconds FROM attendance WHERE session_id IN ({marks})"
            " ORDER BY first_joined_at, user_id",
            ids,
        ):
            attendance[row["session_id"]][int(row["user_id"])] = int(row["seconds"])
        responses: dict[int, list[ResponseFact]] = {i: [] for i in ids}
        for row in await self.db.fetch_all(
            "SELECT session_id, user_id, rating, resources, referrals, resources_count,"
            f" referrals_count FROM feedback WHERE session_id IN ({marks})"
            " ORDER BY submitted_at, user_id",
            ids,
        ):
            responses[row["session_id"]].append(
                ResponseFact(
                    user_id=int(row["user_id"]),
                    rating=row["rating"],
                    resources=_counted(row["resources_count"], row["resources"]),
                    referrals=_counted(row["referrals_count"], row["referrals"]),
                )
            )
        notes: dict[int, dict[str, int]] = {i: {} for i in ids}
        for row in await self.db.fetch_all(
            f"SELECT session_id, kind, COUNT(*) AS n FROM notes WHERE session_id IN ({marks})"
            " GROUP BY session_id, kind",
            ids,
        ):
            notes[row["session_id"]][row["kind"]] = int(row["n"])
        steps: dict[int, list[str]] = {i: [] for i in ids}
        for row in await self.db.fetch_all(
            f"SELECT session_id, status FROM next_steps WHERE session_id IN ({marks}) ORDER BY id",
            ids,
        ):
            steps[row["session_id"]].append(row["status"])
        segments: dict[int, list[SegmentFact]] = {i: [] for i in ids}
        for row in await self.db.fetch_all(
            "SELECT session_id, seq, speaker_id, round, phase, actual_seconds FROM segments"
            f" WHERE session_id IN ({marks}) ORDER BY session_id, seq",
            ids,
        ):
            segments[row["session_id"]].append(
                SegmentFact(
                    session_id=row["session_id"],
                    seq=row["seq"],
                    speaker_id=int(row["speaker_id"]),
                    round=row["round"],
                    phase=row["phase"],
                    actual_seconds=int(row["actual_seconds"]),
                )
            )
        by_id = {
            int(row["id"]): SessionFacts(
                session_id=int(row["id"]),
                group_id=int(row["group_id"]),
                group=row["name"],
                timezone=row["timezone"],
                started_at=require_time(row["started_at"]),
                ended_at=require_time(row["ended_at"]),
                attendance=attendance[row["id"]],
                responses=tuple(responses[row["id"]]),
                notes=notes[row["id"]],
                step_statuses=tuple(steps[row["id"]]),
                segments=tuple(segments[row["id"]]),
            )
            for row in sessions
        }
        return [by_id[i] for i in ids if i in by_id]

    async def feedback_records(self, session_ids: Sequence[int]) -> list[FeedbackRecord]:
        """Every response to these sessions: oldest session first, then in order of answering."""
        if len(session_ids) > CHUNK:
            found: list[FeedbackRecord] = []
            for start in range(0, len(session_ids), CHUNK):
                found += await self.feedback_records(session_ids[start : start + CHUNK])
            return found
        if not session_ids:
            return []
        rows = await self.db.fetch_all(
            "SELECT f.*, s.started_at AS session_started_at, g.name, g.timezone"
            " FROM feedback f JOIN sessions s ON s.id = f.session_id"
            " JOIN groups g ON g.id = s.group_id"
            f" WHERE f.session_id IN ({_marks(session_ids)})"
            " ORDER BY s.started_at, s.id, f.submitted_at, f.user_id",
            tuple(session_ids),
        )
        return [
            FeedbackRecord(
                session_id=int(row["session_id"]),
                group=row["name"],
                timezone=row["timezone"],
                session_started_at=require_time(row["session_started_at"]),
                user_id=int(row["user_id"]),
                rating=row["rating"],
                resources=row["resources"],
                referrals=row["referrals"],
                next_steps=row["next_steps"],
                comments=row["comments"],
                submitted_at=require_time(row["submitted_at"]),
            )
            for row in rows
        ]


def _counted(stored: int | None, text: str) -> int:
    return int(stored) if stored is not None else count_lines(text)


def _ended(row: object) -> EndedSession:
    data = dict(row)  # type: ignore[call-overload]
    return EndedSession(
        id=int(data["id"]),
        guild_id=int(data["guild_id"]),
        group_id=int(data["group_id"]),
        started_at=require_time(data["started_at"]),
        ended_at=require_time(data["ended_at"]),
    )
