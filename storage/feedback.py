"""Feedback requests and responses, next steps, and polls."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from core.feedback import (
    DETAIL_FIELDS,
    RECENT_DONE_LISTED,
    FeedbackDetails,
    FeedbackRequest,
    FeedbackResponse,
    NextStep,
    Poll,
    StepStatus,
    detail_items,
    next_step_lines,
    plan_step_changes,
    step_key,
)
from core.outbox import Outgoing
from core.shards import EVERY_SHARD, ShardSet
from storage.convert import from_db_time, require_time, to_db_time
from storage.outbox import OutboxRepository
from storage.sql import Database, Row, SyncTx


def _request(row: Row) -> FeedbackRequest:
    return FeedbackRequest(
        session_id=row["session_id"],
        group_id=row["group_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        opened_at=require_time(row["opened_at"]),
        closes_at=require_time(row["closes_at"]),
        remind_at=require_time(row["remind_at"]),
        reminded_at=from_db_time(row["reminded_at"]),
        closed_at=from_db_time(row["closed_at"]),
    )


def _response(row: Row) -> FeedbackResponse:
    return FeedbackResponse(
        session_id=row["session_id"],
        user_id=row["user_id"],
        rating=row["rating"],
        details=FeedbackDetails(
            resources=row["resources"],
            referrals=row["referrals"],
            next_steps=row["next_steps"],
            comments=row["comments"],
        ),
        submitted_at=require_time(row["submitted_at"]),
        updated_at=require_time(row["updated_at"]),
    )


def _step(row: Row) -> NextStep:
    return NextStep(
        id=row["id"],
        session_id=row["session_id"],
        group_id=row["group_id"],
        owner_id=row["owner_id"],
        text=row["text"],
        status=StepStatus(row["status"]),
        created_at=require_time(row["created_at"]),
        status_at=from_db_time(row["status_at"]),
    )


def _poll(row: Row) -> Poll:
    return Poll(
        id=row["id"],
        guild_id=row["guild_id"],
        group_id=row["group_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        question=row["question"],
        options=list(json.loads(row["options"])),
        created_by=row["created_by"],
        created_at=require_time(row["created_at"]),
        closes_at=require_time(row["closes_at"]),
        closed_at=from_db_time(row["closed_at"]),
        results=json.loads(row["results"]) if row["results"] else None,
    )


class FeedbackRepository:
    def __init__(self, db: Database, outbox: OutboxRepository | None = None) -> None:
        self.db = db
        self.outbox = outbox or OutboxRepository(db)

    # -- requests ---------------------------------------------------------------------------

    async def open_request(
        self,
        *,
        session_id: int,
        group_id: int,
        opened_at: datetime,
        closes_at: datetime,
        remind_at: datetime,
    ) -> FeedbackRequest:
        await self.db.execute(
            "INSERT INTO feedback_requests (session_id, group_id, opened_at, closes_at,"
            " remind_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                session_id,
                group_id,
                to_db_time(opened_at),
                to_db_time(closes_at),
                to_db_time(remind_at),
            ),
        )
        found = await self.request(session_id)
        assert found is not None
        return found

    async def set_message(self, session_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE feedback_requests SET channel_id = ?, message_id = ? WHERE session_id = ?",
            (channel_id, message_id, session_id),
        )

    async def request(self, session_id: int) -> FeedbackRequest | None:
        row = await self.db.fetch_one(
            "SELECT * FROM feedback_requests WHERE session_id = ?", (session_id,)
        )
        return _request(row) if row else None

    async def open_requests(self, shards: ShardSet = EVERY_SHARD) -> list[FeedbackRequest]:
        """Open requests of `shards`' guilds (of every guild by default)."""
        where, params = shards.sql("g.guild_id")
        rows = await self.db.fetch_all(
            "SELECT r.* FROM feedback_requests r JOIN groups g ON g.id = r.group_id"
            f" WHERE r.closed_at IS NULL AND {where}",
            params,
        )
        return [_request(row) for row in rows]

    async def claim_reminder(
        self, session_id: int, now: datetime, effects: Sequence[Outgoing]
    ) -> bool:
        """Record the reminder as sent and write the outbox rows that send it, in one
        transaction; False (and nothing written) when it was recorded before."""
        async with self.db.transaction() as conn:
            claimed = (
                await conn.execute(
                    "UPDATE feedback_requests SET reminded_at = ?"
                    " WHERE session_id = ? AND reminded_at IS NULL",
                    (to_db_time(now), session_id),
                )
                > 0
            )
            if claimed:
                await self.outbox.insert(conn, effects, now)
        return claimed

    async def reminder_missed(self, session_id: int, user_id: int) -> None:
        """The member's DMs are closed: the reminder's channel message is to name them."""
        await self.db.execute(
            "INSERT INTO feedback_reminder_misses (session_id, user_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            (session_id, user_id),
        )

    async def reminder_misses(self, session_id: int) -> list[int]:
        """Whom the reminder's DM could not reach, by id."""
        rows = await self.db.fetch_all(
            "SELECT user_id FROM feedback_reminder_misses WHERE session_id = ? ORDER BY user_id",
            (session_id,),
        )
        return [int(row[0]) for row in rows]

    async def close(self, session_id: int, now: datetime) -> bool:
        changed = await self.db.execute(
            "UPDATE feedback_requests SET closed_at = ? WHERE session_id = ? AND closed_at IS NULL",
            (to_db_time(now), session_id),
        )
        return changed > 0

    # -- attendees and responses ------------------------------------------------------------

    async def attendees(self, session_id: int) -> list[int]:
        rows = await self.db.fetch_all(
            "SELECT user_id FROM attendance WHERE session_id = ? ORDER BY first_joined_at",
            (session_id,),
        )
        return [int(row["user_id"]) for row in rows]

    async def latest_attended(
        self, guild_id: int, user_id: int, group_id: int | None
    ) -> tuple[int, int] | None:
        """(session id, group id) of the latest ended session the person attended."""
        sql = (
            "SELECT s.id, s.group_id FROM sessions s JOIN attendance a ON a.session_id = s.id"
            " WHERE s.guild_id = ? AND a.user_id = ? AND s.ended_at IS NOT NULL"
        )
        params: tuple[object, ...] = (guild_id, user_id)
        if group_id is not None:
            sql += " AND s.group_id = ?"
            params += (group_id,)
        row = await self.db.fetch_one(sql + " ORDER BY s.ended_at DESC, s.id DESC LIMIT 1", params)
        return (int(row[0]), int(row[1])) if row else None

    async def latest_session(self, group_id: int) -> int | None:
        row = await self.db.fetch_one(
            "SELECT id FROM sessions WHERE group_id = ? AND ended_at IS NOT NULL"
            " ORDER BY ended_at DESC, id DESC LIMIT 1",
            (group_id,),
        )
        return int(row[0]) if row else None

    async def rate(self, session_id: int, user_id: int, rating: int, now: datetime) -> int | None:
        """Set or change the person's one rating; returns the rating it replaced (None when
        this is their first). Runs on the writer's thread: a burst of clicks shares commits."""
        at = to_db_time(now)

        def work(conn: SyncTx) -> int | None:
            row = conn.fetch_one(
                "SELECT rating FROM feedback WHERE session_id = ? AND user_id = ?",
                (session_id, user_id),
            )
            conn.write(
                "INSERT INTO feedback (session_id, user_id, rating, submitted_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id, user_id) DO UPDATE SET"
                " rating = excluded.rating, updated_at = excluded.updated_at",
                (session_id, user_id, rating, at, at),
            )
            return None if row is None or row[0] is None else int(row[0])

        return await self.db.run(work)

    async def save_details(
        self,
        *,
        session_id: int,
        group_id: int,
        user_id: int,
        details: FeedbackDetails,
        now: datetime,
    ) -> list[int]:
        """Store the form and turn its next steps into steps, in one transaction.

        Sending the form again keeps the steps it still lists (same id, same status), drops
        the open ones it no longer lists and adds the new lines. Returns the ids of the steps
        the form lists, in its order. Runs on the writer's thread, like `rate`."""
        lines = next_step_lines(details.next_steps)
        at = to_db_time(now)

        def work(conn: SyncTx) -> list[int]:
            conn.write(
                "INSERT INTO feedback (session_id, user_id, resources, referrals, next_steps,"
                " comments, submitted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (session_id, user_id) DO UPDATE SET resources = excluded.resources,"
                " referrals = excluded.referrals, next_steps = excluded.next_steps,"
                " comments = excluded.comments, updated_at = excluded.updated_at",
                (
                    session_id,
                    user_id,
                    details.resources,
                    details.referrals,
                    details.next_steps,
                    details.comments,
                    at,
                    at,
                ),
            )
            existing = [
                (int(row[0]), str(row[1]), StepStatus(row[2]))
                for row in conn.fetch_all(
                    "SELECT id, text, status FROM next_steps WHERE session_id = ? AND owner_id = ?"
                    " ORDER BY id",
                    (session_id, user_id),
                )
            ]
            changes = plan_step_changes(existing, lines)
            conn.executemany(
                "DELETE FROM next_steps WHERE id = ?", [(step_id,) for step_id in changes.delete]
            )
            ids_by_key = {
                step_key(text): step_id
                for step_id, text, _ in reversed(existing)
                if step_id not in changes.delete
            }
            if changes.add:
                # One statement for all the new lines (on PostgreSQL, one round trip). Rows
                # come back in no promised order: they are matched by text (the lines are
                # distinct, `next_step_lines` keeps each once).
                added = conn.fetch_all(
                    "INSERT INTO next_steps (session_id, group_id, owner_id, text, created_at)"
                    " VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?)"] * len(changes.add))
                    + " RETURNING id, text",
                    [
                        value
                        for text in changes.add
                        for value in (session_id, group_id, user_id, text, at)
                    ],
                )
                for row in added:
                    ids_by_key[step_key(str(row[1]))] = int(row[0])
            conn.write(
                "DELETE FROM feedback_drafts WHERE session_id = ? AND user_id = ?",
                (session_id, user_id),
            )
            return [ids_by_key[step_key(line)] for line in lines]

        return await self.db.run(work)

    async def save_draft(
        self, session_id: int, user_id: int, values: Mapping[str, str], now: datetime
    ) -> None:
        """Keep a refused form exactly as it was typed (the last one wins), committed before
        the person is told, so the form can be reopened with it."""
        await self.db.execute(
            "INSERT INTO feedback_drafts (session_id, user_id, resources, referrals, next_steps,"
            " comments, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (session_id, user_id) DO UPDATE SET resources = excluded.resources,"
            " referrals = excluded.referrals, next_steps = excluded.next_steps,"
            " comments = excluded.comments, saved_at = excluded.saved_at",
            (
                session_id,
                user_id,
                *(values.get(name) or "" for name in DETAIL_FIELDS),
                to_db_time(now),
            ),
        )

    async def draft(self, session_id: int, user_id: int) -> dict[str, str] | None:
        """The refused form the person may reopen, field by field; None if there is none."""
        row = await self.db.fetch_one(
            "SELECT * FROM feedback_drafts WHERE session_id = ? AND user_id = ?",
            (session_id, user_id),
        )
        return {name: str(row[name]) for name in DETAIL_FIELDS} if row else None

    async def response(self, session_id: int, user_id: int) -> FeedbackResponse | None:
        row = await self.db.fetch_one(
            "SELECT * FROM feedback WHERE session_id = ? AND user_id = ?", (session_id, user_id)
        )
        return _response(row) if row else None

    async def responses(self, session_id: int) -> list[FeedbackResponse]:
        rows = await self.db.fetch_all(
            "SELECT * FROM feedback WHERE session_id = ? ORDER BY submitted_at, user_id",
            (session_id,),
        )
        return [_response(row) for row in rows]

    async def count_responses(self, session_id: int) -> int:
        """Respondents: people who left feedback on the session, a rating or the details form
        or both (one `feedback` row each; the same definition as the reports)."""
        row = await self.db.fetch_one(
            "SELECT COUNT(*) FROM feedback WHERE session_id = ?", (session_id,)
        )
        return int(row[0]) if row else 0

    async def respondents(self, session_id: int) -> set[int]:
        """Who has left feedback on the session (see `count_responses`)."""
        rows = await self.db.fetch_all(
            "SELECT user_id FROM feedback WHERE session_id = ?", (session_id,)
        )
        return {int(row[0]) for row in rows}

    async def resources_and_referrals(self, session_id: int) -> dict[int, dict[str, list[str]]]:
        """Per member, the resources and referrals they got from a session:
        `{member_id: {"resources": [...], "referrals": [...]}}`.

        Notes taken during the session (`/session note`, `Add note`) of kind resource or
        referral count for the member they were for; then each non-empty line of the
        member's own feedback form. The same item twice (case and spacing aside) counts once.
        Notes for nobody in particular (taken while nobody held the floor) are left out."""
        found: dict[int, dict[str, list[str]]] = {}
        seen: dict[tuple[int, str], set[str]] = {}

        def add(member_id: int, field: str, item: str) -> None:
            keys = seen.setdefault((member_id, field), set())
            if step_key(item) in keys:
                return
            keys.add(step_key(item))
            entry = found.setdefault(member_id, {"resources": [], "referrals": []})
            entry[field].append(item)

        notes = await self.db.fetch_all(
            "SELECT for_member_id, kind, text FROM notes WHERE session_id = ?"
            " AND kind IN ('resource', 'referral') AND for_member_id IS NOT NULL ORDER BY id",
            (session_id,),
        )
        for row in notes:
            field = "resources" if row["kind"] == "resource" else "referrals"
            text = str(row["text"]).strip()
            if text:
                add(int(row["for_member_id"]), field, text)
        forms = await self.db.fetch_all(
            "SELECT user_id, resources, referrals FROM feedback WHERE session_id = ?"
            " ORDER BY submitted_at, user_id",
            (session_id,),
        )
        for row in forms:
            for field in ("resources", "referrals"):
                for item in detail_items(row[field] or ""):
                    add(int(row["user_id"]), field, item)
        return found

    # -- next steps -------------------------------------------------------------------------

    async def step(self, step_id: int) -> NextStep | None:
        row = await self.db.fetch_one("SELECT * FROM next_steps WHERE id = ?", (step_id,))
        return _step(row) if row else None

    async def open_steps(self, group_id: int, owner_id: int) -> list[NextStep]:
        """Steps not yet done (open, partly, not yet), oldest first."""
        rows = await self.db.fetch_all(
            "SELECT * FROM next_steps WHERE group_id = ? AND owner_id = ? AND status != 'done'"
            " ORDER BY id",
            (group_id, owner_id),
        )
        return [_step(row) for row in rows]

    async def steps_of(
        self,
        guild_id: int,
        owner_id: int,
        groups: Collection[int] | None,
        recent_done: int = RECENT_DONE_LISTED,
    ) -> list[NextStep]:
        """Every step not done yet, oldest first (the most overdue lead), then the
        `recent_done` most recently done ones; only of `groups` unless that is None."""
        sql = (
            "SELECT n.* FROM next_steps n JOIN groups g ON g.id = n.group_id"
            " WHERE g.guild_id = ? AND n.owner_id = ?"
        )
        params: tuple[object, ...] = (guild_id, owner_id)
        if groups is not None:
            wanted = sorted(set(groups))
            if not wanted:
                return []
            sql += f" AND n.group_id IN ({', '.join('?' * len(wanted))})"
            params += tuple(wanted)
        open_rows = await self.db.fetch_all(
            sql + " AND n.status != 'done' ORDER BY n.created_at, n.id", params
        )
        done_rows = await self.db.fetch_all(
            sql + " AND n.status = 'done' ORDER BY n.status_at DESC, n.id DESC LIMIT ?",
            (*params, recent_done),
        )
        return [_step(row) for row in (*open_rows, *done_rows)]

    async def set_step_status(
        self, step_id: int, status: StepStatus, by: int, now: datetime
    ) -> None:
        await self.db.execute(
            "UPDATE next_steps SET status = ?, status_at = ?, status_by = ? WHERE id = ?",
            (status.value, to_db_time(now), by, step_id),
        )

    # -- polls ------------------------------------------------------------------------------

    async def create_poll(
        self,
        *,
        guild_id: int,
        group_id: int,
        channel_id: int,
        message_id: int,
        question: str,
        options: list[str],
        created_by: int,
        created_at: datetime,
        closes_at: datetime,
    ) -> int:
        return await self.db.insert(
            "INSERT INTO polls (guild_id, group_id, channel_id, message_id, question, options,"
            " created_by, created_at, closes_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                guild_id,
                group_id,
                channel_id,
                message_id,
                question,
                json.dumps(options),
                created_by,
                to_db_time(created_at),
                to_db_time(closes_at),
            ),
        )

    async def poll(self, poll_id: int) -> Poll | None:
        row = await self.db.fetch_one("SELECT * FROM polls WHERE id = ?", (poll_id,))
        return _poll(row) if row else None

    async def open_polls(self, shards: ShardSet = EVERY_SHARD) -> list[Poll]:
        """Open polls of `shards`' guilds (of every guild by default)."""
        where, params = shards.sql()
        rows = await self.db.fetch_all(
            f"SELECT * FROM polls WHERE closed_at IS NULL AND {where}", params
        )
        return [_poll(row) for row in rows]

    async def close_poll(self, poll_id: int, results: dict[str, int], now: datetime) -> None:
        await self.db.execute(
            "UPDATE polls SET results = ?, closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (json.dumps(results), to_db_time(now), poll_id),
        )
