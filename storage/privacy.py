"""Everything stored about one person: the export, and the erasure in one transaction.

What an erasure does, table by table (a person is a Discord user id, the same in every guild;
the erasure covers every guild):

- `profiles`, `memberships`, `cohort_members`, `hotseat_history`, `voice_joins`,
  `feedback_drafts`, `feedback_reminder_misses`: the person's rows are deleted.
  A group left without a facilitator gets its longest-standing member as facilitator.
- `feedback`: kept only as an anonymous rating: the id becomes the erasure's anonymous id, the
  form's text is removed, and how many resources and referrals it listed is kept in
  `resources_count` / `referrals_count` so the reports' counts do not change.
- `next_steps` they own: the text is removed; the status stays (for next-step completion).
- `notes`: the author of their notes is removed (NULL); notes *for* them stay, linked to the
  anonymous id so resource and referral counts do not change.
- `attendance`, `segments`, and the persisted state of ended `sessions`: the id becomes the
  anonymous id, so attendance, floor time, fairness and hot-seat turns still add up, and the
  person is one anonymous attendee among the others.
- `sessions.started_by`, `groups.created_by`, `polls.created_by`, `schedules.set_by`,
  `next_steps.status_by`, `audit_log.actor_id`: the anonymous id; mentions of the person in
  audit details become "a deleted member".
- An unmute the bot still owes the person (an outbox row waiting until they are in voice) is
  kept: it is the bot's promise to undo a server mute it made on them, and it is delivered
  as soon as it can be. Delivered outbox rows that name them are deleted.

The anonymous id is a random negative integer (Discord ids are positive), one per erasure,
recorded in `erasures` only to keep it unique: nothing maps it back to the person.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core.privacy import Erasure, InLiveSession, LeftGroup
from core.session import SessionState, codec
from core.session.members import member_ids, replace_member
from core.stats import count_lines
from storage.convert import to_db_time
from storage.groups import promote_if_leaderless
from storage.sql import Database, Row, Tx

DELETED_MENTION = "a deleted member"


def mentions(user_id: int) -> re.Pattern[str]:
    """The person's id as a whole number in free text (an audit detail): a mention or the
    bare id."""
    return re.compile(rf"<@!?{user_id}>|(?<![0-9]){user_id}(?![0-9])")


def scrub_state(state_json: str, user_id: int, anon_id: int) -> str | None:
    """The persisted session state with the anonymous id in the person's place, or None when
    the state does not name them (`replace_member` works through the state's own fields)."""
    state = SessionState.model_validate_json(state_json)
    if user_id not in member_ids(state):
        return None
    return codec.state_json(replace_member(state, user_id, anon_id))


# Columns that hold a person's id and are replaced by the anonymous id (table, column).
_REPLACED = (
    ("attendance", "user_id"),
    ("segments", "speaker_id"),
    ("notes", "for_member_id"),
    ("next_steps", "status_by"),
    ("sessions", "started_by"),
    ("groups", "created_by"),
    ("polls", "created_by"),
    ("schedules", "set_by"),
)


class PrivacyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- what is stored -----------------------------------------------------------------------

    async def has_data(self, user_id: int) -> bool:
        checks = (
            ("profiles", "user_id"),
            ("memberships", "user_id"),
            ("cohort_members", "user_id"),
            ("hotseat_history", "user_id"),
            ("feedback", "user_id"),
            ("feedback_drafts", "user_id"),
            ("next_steps", "owner_id"),
            ("notes", "author_id"),
            ("audit_log", "actor_id"),
            *_REPLACED,
        )
        for table, column in checks:
            row = await self.db.fetch_one(
                f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", (user_id,)
            )
            if row is not None:
                return True
        return False

    async def live_groups_with(self, user_id: int) -> list[int]:
        """Groups whose running session includes the person (they cannot be erased from it)."""
        rows = await self.db.fetch_all(
            "SELECT group_id, state FROM sessions WHERE ended_at IS NULL ORDER BY group_id"
        )
        return [
            int(row["group_id"])
            for row in rows
            if user_id in member_ids(SessionState.model_validate_json(row["state"]))
        ]

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the person, in every guild, as plain JSON-ready values."""
        one = self.db.fetch_all
        profile = await one("SELECT * FROM profiles WHERE user_id = ?", (user_id,))
        pattern = mentions(user_id)
        audit_rows = await one(
            "SELECT guild_id, actor_id, action, detail, created_at FROM audit_log"
            " WHERE actor_id = ? OR detail LIKE ? ORDER BY id",
            (user_id, f"%{user_id}%"),
        )
        return {
            "user_id": str(user_id),
            "profile": _plain(profile[0], drop=("user_id",)) if profile else None,
            "memberships": _rows(
                await one(
                    "SELECT g.guild_id, g.name AS group_name, m.is_facilitator, m.joined_at"
                    " FROM memberships m JOIN groups g ON g.id = m.group_id"
                    " WHERE m.user_id = ? ORDER BY m.joined_at",
                    (user_id,),
                ),
                booleans=("is_facilitator",),
            ),
            "cohort_signups": _rows(
                await one(
                    "SELECT c.guild_id, c.name AS cohort_name, m.career_stage, m.timezone,"
                    " m.hours, m.institution, m.focus, m.joined_at, m.updated_at"
                    " FROM cohort_members m JOIN cohorts c ON c.id = m.cohort_id"
                    " WHERE m.user_id = ? ORDER BY m.joined_at",
                    (user_id,),
                )
            ),
            "groups_created": _rows(
                await one(
                    "SELECT guild_id, name AS group_name, created_at FROM groups"
                    " WHERE created_by = ? ORDER BY id",
                    (user_id,),
                )
            ),
            "hot_seat_history": _rows(
                await one(
                    "SELECT g.name AS group_name, h.last_hotseat_at FROM hotseat_history h"
                    " JOIN groups g ON g.id = h.group_id WHERE h.user_id = ?",
                    (user_id,),
                )
            ),
            "sessions_started": _rows(
                await one(
                    "SELECT s.id AS session_id, g.name AS group_name, s.format, s.started_at,"
                    " s.ended_at FROM sessions s JOIN groups g ON g.id = s.group_id"
                    " WHERE s.started_by = ? ORDER BY s.id",
                    (user_id,),
                )
            ),
            "attendance": _rows(
                await one(
                    "SELECT a.session_id, g.name AS group_name, a.first_joined_at,"
                    " a.seconds AS seconds_in_voice FROM attendance a"
                    " JOIN sessions s ON s.id = a.session_id JOIN groups g ON g.id = s.group_id"
                    " WHERE a.user_id = ? ORDER BY a.session_id",
                    (user_id,),
                )
            ),
            "turns_on_the_floor": _rows(
                await one(
                    "SELECT session_id, seq, round, phase, planned_seconds, actual_seconds,"
                    " outcome, started_at, ended_at FROM segments WHERE speaker_id = ?"
                    " ORDER BY session_id, seq",
                    (user_id,),
                )
            ),
            "feedback": _rows(
                await one(
                    "SELECT f.session_id, g.name AS group_name, f.rating, f.resources,"
                    " f.referrals, f.next_steps, f.comments, f.submitted_at, f.updated_at"
                    " FROM feedback f JOIN sessions s ON s.id = f.session_id"
                    " JOIN groups g ON g.id = s.group_id WHERE f.user_id = ?"
                    " ORDER BY f.session_id",
                    (user_id,),
                )
            ),
            "feedback_drafts": _rows(
                await one(
                    "SELECT d.session_id, g.name AS group_name, d.resources, d.referrals,"
                    " d.next_steps, d.comments, d.saved_at FROM feedback_drafts d"
                    " JOIN sessions s ON s.id = d.session_id"
                    " JOIN groups g ON g.id = s.group_id WHERE d.user_id = ?"
                    " ORDER BY d.session_id",
                    (user_id,),
                )
            ),
            "next_steps": _rows(
                await one(
                    "SELECT n.id, n.session_id, g.name AS group_name, n.text, n.status,"
                    " n.created_at, n.status_at FROM next_steps n"
                    " JOIN groups g ON g.id = n.group_id WHERE n.owner_id = ? ORDER BY n.id",
                    (user_id,),
                )
            ),
            "next_steps_you_marked_for_others": _rows(
                await one(
                    "SELECT id, session_id, status, status_at FROM next_steps"
                    " WHERE status_by = ? AND owner_id != ? ORDER BY id",
                    (user_id, user_id),
                )
            ),
            "notes_you_wrote": [
                {
                    **_plain(row, drop=("for_member_id",)),
                    "for_you": row["for_member_id"] == user_id,
                }
                for row in await one(
                    "SELECT session_id, kind, text, for_member_id, created_at FROM notes"
                    " WHERE author_id = ? ORDER BY id",
                    (user_id,),
                )
            ],
            "notes_for_you": _rows(
                await one(
                    "SELECT session_id, kind, text, created_at FROM notes"
                    " WHERE for_member_id = ? AND (author_id IS NULL OR author_id != ?)"
                    " ORDER BY id",
                    (user_id, user_id),
                )
            ),
            "polls_created": [
                {**_plain(row, drop=("options", "results")), **_poll_json(row)}
                for row in await one(
                    "SELECT guild_id, question, options, results, created_at, closes_at"
                    " FROM polls WHERE created_by = ? ORDER BY id",
                    (user_id,),
                )
            ],
            "schedules_set": _rows(
                await one(
                    "SELECT g.name AS group_name, c.weekday, c.local_time, c.every_weeks,"
                    " c.duration_minutes, c.timezone, c.set_at FROM schedules c"
                    " JOIN groups g ON g.id = c.group_id WHERE c.set_by = ?",
                    (user_id,),
                )
            ),
            "moderator_actions": [
                _plain(row, drop=("actor_id",)) for row in audit_rows if row["actor_id"] == user_id
            ],
            "moderator_actions_about_you": [
                _plain(row, drop=("actor_id",))
                for row in audit_rows
                if row["actor_id"] != user_id and pattern.search(row["detail"])
            ],
            "owed_unmutes": _rows(
                await one(
                    "SELECT guild_id FROM outbox WHERE state = 'waiting'"
                    " AND wait_for = 'voice:' || guild_id || ':' || ?",
                    (user_id,),
                )
            ),
            "voice_channel_joined": _rows(
                await one(
                    "SELECT guild_id, channel_id, joined_at FROM voice_joins WHERE user_id = ?",
                    (user_id,),
                )
            ),
        }

    # -- the erasure ----------------------------------------------------------------------------

    async def erase(self, user_id: int, now: datetime) -> Erasure | None:
        """Erase the person as the module docstring says, in one transaction: either all of it
        happens or none. None when nothing is stored about them (already erased); raises
        `InLiveSession` when a running session includes them."""
        if user_id <= 0:
            raise ValueError("only a Discord user id can be erased")
        async with self.db.transaction() as conn:
            live = await self.live_groups_with(user_id)
            if live:
                raise InLiveSession(live)
            if not await self.has_data(user_id):
                return None
            anon_id = await _new_anon_id(conn, to_db_time(now) or "")
            erasure = Erasure(anon_id=anon_id)
            changed = erasure.changed

            erasure.left = [
                LeftGroup(int(r[0]), int(r[1]), str(r[2]), r[3], r[4])
                for r in await conn.fetch_all(
                    "SELECT g.guild_id, g.id, g.name, g.role_id, g.text_channel_id"
                    " FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ?"
                    " ORDER BY g.id",
                    (user_id,),
                )
            ]
            tables = (
                "memberships",
                "cohort_members",
                "profiles",
                "hotseat_history",
                "voice_joins",
                "feedback_drafts",
                "feedback_reminder_misses",
            )
            for table in tables:
                changed[table] = await _count(
                    conn, f"DELETE FROM {table} WHERE user_id = ?", (user_id,)
                )
            changed["outbox"] = await _count(
                conn,
                "DELETE FROM outbox WHERE state IN ('done', 'failed', 'dropped')"
                " AND (payload LIKE ? OR payload LIKE ?)",
                (f'%"member_id":{user_id},%', f'%"member_id":{user_id}}}%'),
            )

            responses = list(
                await conn.fetch_all(
                    "SELECT session_id, resources, referrals, resources_count, referrals_count"
                    " FROM feedback WHERE user_id = ?",
                    (user_id,),
                )
            )
            for row in responses:
                await conn.execute(
                    "UPDATE feedback SET user_id = ?, resources = '', referrals = '',"
                    " next_steps = '', comments = '', resources_count = ?, referrals_count = ?"
                    " WHERE session_id = ? AND user_id = ?",
                    (
                        anon_id,
                        _kept_count(row["resources_count"], row["resources"]),
                        _kept_count(row["referrals_count"], row["referrals"]),
                        row["session_id"],
                        user_id,
                    ),
                )
            changed["feedback"] = len(responses)
            changed["next_steps"] = await _count(
                conn,
                "UPDATE next_steps SET owner_id = ?, text = '' WHERE owner_id = ?",
                (anon_id, user_id),
            )
            changed["notes.author_id"] = await _count(
                conn, "UPDATE notes SET author_id = NULL WHERE author_id = ?", (user_id,)
            )
            for table, column in _REPLACED:
                changed[f"{table}.{column}"] = await _count(
                    conn,
                    f"UPDATE {table} SET {column} = ? WHERE {column} = ?",
                    (anon_id, user_id),
                )

            states = list(
                await conn.fetch_all(
                    "SELECT id, state FROM sessions WHERE ended_at IS NOT NULL AND state LIKE ?",
                    (f"%{user_id}%",),
                )
            )
            scrubbed = 0
            for row in states:
                replaced = scrub_state(row["state"], user_id, anon_id)
                if replaced is None:
                    continue
                await conn.execute(
                    "UPDATE sessions SET state = ? WHERE id = ?", (replaced, row["id"])
                )
                scrubbed += 1
            changed["sessions.state"] = scrubbed

            changed["audit_log.actor_id"] = await _count(
                conn, "UPDATE audit_log SET actor_id = ? WHERE actor_id = ?", (anon_id, user_id)
            )
            details = list(
                await conn.fetch_all(
                    "SELECT id, detail FROM audit_log WHERE detail LIKE ?", (f"%{user_id}%",)
                )
            )
            pattern = mentions(user_id)
            edited = 0
            for row in details:
                text = pattern.sub(DELETED_MENTION, row["detail"])
                if text != row["detail"]:
                    await conn.execute(
                        "UPDATE audit_log SET detail = ? WHERE id = ?", (text, row["id"])
                    )
                    edited += 1
            changed["audit_log.detail"] = edited

            for group in erasure.left:
                promoted = await promote_if_leaderless(conn, group.group_id)
                if promoted is not None:
                    erasure.promoted[group.group_id] = promoted
        return erasure


async def _new_anon_id(conn: Tx, now: str) -> int:
    while True:
        anon_id = -(secrets.randbits(62) + 1)
        added = await conn.execute(
            "INSERT INTO erasures (anon_id, erased_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (anon_id, now),
        )
        if added == 1:
            return anon_id


async def _count(conn: Tx, sql: str, params: tuple[object, ...]) -> int:
    return max(await conn.execute(sql, params), 0)


def _kept_count(stored: int | None, text: str) -> int:
    return int(stored) if stored is not None else count_lines(text)


def _plain(row: Row, drop: Iterable[str] = ()) -> dict[str, Any]:
    skipped = set(drop)
    return {
        key: (str(value) if key.endswith("_id") and isinstance(value, int) else value)
        for key, value in dict(row).items()
        if key not in skipped
    }


def _rows(rows: Iterable[Row], booleans: Iterable[str] = ()) -> list[dict[str, Any]]:
    flags = set(booleans)
    found = []
    for row in rows:
        plain = _plain(row)
        for name in flags:
            plain[name] = bool(plain[name])
        found.append(plain)
    return found


def _poll_json(row: Row) -> dict[str, Any]:
    return {
        "options": json.loads(row["options"]),
        "results": json.loads(row["results"]) if row["results"] else None,
    }
