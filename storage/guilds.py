"""Guild settings, the audit trail and the bot's own metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.models import AuditEntry, GuildSettings
from storage.convert import require_time, to_db_time
from storage.sql import Database

_SETTING_FIELDS = (
    "moderator_role_id",
    "log_channel_id",
    "turn_minutes",
    "feedback_days",
    "identified_exports",
    "tidy_sessions",
)


class GuildRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def settings(self, guild_id: int) -> GuildSettings:
        row = await self.db.fetch_one(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        if row is None:
            return GuildSettings(guild_id=guild_id)
        data: dict[str, Any] = dict(row)
        data["identified_exports"] = bool(data["identified_exports"])
        data["tidy_sessions"] = bool(data["tidy_sessions"])
        return GuildSettings.model_validate(data)

    async def update_settings(self, guild_id: int, changes: dict[str, Any]) -> GuildSettings:
        unknown = set(changes) - set(_SETTING_FIELDS)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING",
                (guild_id,),
            )
            for field, value in changes.items():
                await conn.execute(
                    f"UPDATE guild_settings SET {field} = ? WHERE guild_id = ?",
                    (int(value) if isinstance(value, bool) else value, guild_id),
                )
        return await self.settings(guild_id)

    async def audit(
        self, guild_id: int, actor_id: int, action: str, detail: str, now: datetime
    ) -> None:
        await self.db.execute(
            "INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (guild_id, actor_id, action, detail, to_db_time(now)),
        )

    async def audit_entries(self, guild_id: int) -> list[AuditEntry]:
        rows = await self.db.fetch_all(
            "SELECT * FROM audit_log WHERE guild_id = ? ORDER BY id", (guild_id,)
        )
        return [
            AuditEntry(
                id=row["id"],
                guild_id=row["guild_id"],
                actor_id=row["actor_id"],
                action=row["action"],
                detail=row["detail"],
                created_at=require_time(row["created_at"]),
            )
            for row in rows
        ]

    async def get_meta(self, key: str) -> str | None:
        row = await self.db.fetch_one("SELECT value FROM bot_meta WHERE key = ?", (key,))
        return str(row["value"]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO bot_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
