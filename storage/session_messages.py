"""The bot's transient messages of each session, remembered until the tidy after it."""

from __future__ import annotations

from core.records import PendingTidy
from core.shards import EVERY_SHARD, ShardSet
from storage.convert import require_time
from storage.sql import Database

KINDS = ("announcement", "warning", "pointer")


class SessionMessageRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, session_id: int, channel_id: int, message_id: int, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind of session message: {kind!r}")
        await self.db.execute(
            "INSERT INTO session_messages (session_id, channel_id, message_id, kind)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (session_id, channel_id, message_id, kind),
        )

    async def of_session(self, session_id: int) -> dict[int, list[int]]:
        """Message ids by channel, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT channel_id, message_id FROM session_messages WHERE session_id = ?"
            " ORDER BY message_id",
            (session_id,),
        )
        found: dict[int, list[int]] = {}
        for row in rows:
            found.setdefault(int(row["channel_id"]), []).append(int(row["message_id"]))
        return found

    async def count_after(self, session_id: int, message_id: int) -> int:
        """How many of the session's messages came after `message_id` (ids grow with time)."""
        row = await self.db.fetch_one(
            "SELECT COUNT(*) AS n FROM session_messages"
            " WHERE session_id = ? AND message_id > ? AND kind != 'pointer'",
            (session_id, message_id),
        )
        return int(row["n"]) if row is not None else 0

    async def pending_tidies(self, shards: ShardSet = EVERY_SHARD) -> list[PendingTidy]:
        """Ended sessions of `shards`' guilds whose messages are still to be tidied (or let
        go)."""
        where, params = shards.sql("s.guild_id")
        rows = await self.db.fetch_all(
            "SELECT DISTINCT s.id, s.guild_id, s.ended_at FROM session_messages m"
            " JOIN sessions s ON s.id = m.session_id WHERE s.ended_at IS NOT NULL"
            f" AND {where} ORDER BY s.id",
            params,
        )
        return [
            PendingTidy(int(row["id"]), int(row["guild_id"]), require_time(row["ended_at"]))
            for row in rows
        ]

    async def forget(self, session_id: int) -> None:
        """The tidy is done (or not wanted): nothing of this session is left to delete."""
        await self.db.execute("DELETE FROM session_messages WHERE session_id = ?", (session_id,))
