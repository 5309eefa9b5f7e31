"""Member profiles."""

from __future__ import annotations

from datetime import datetime

from core.models import CareerStage, Profile
from storage.convert import require_time, to_db_time
from storage.db import Database

_FIELDS = ("career_stage", "institution", "timezone", "focus", "hours")


class ProfileRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> Profile | None:
        row = await self.db.fetch_one("SELECT * FROM profiles WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return Profile(
            user_id=row["user_id"],
            career_stage=CareerStage(row["career_stage"]) if row["career_stage"] else None,
            institution=row["institution"],
            timezone=row["timezone"],
            focus=row["focus"],
            hours=row["hours"],
            updated_at=require_time(row["updated_at"]),
        )

    async def many(self, user_ids: list[int]) -> dict[int, Profile]:
        found: dict[int, Profile] = {}
        for user_id in user_ids:
            profile = await self.get(user_id)
            if profile is not None:
                found[user_id] = profile
        return found

    async def update(self, user_id: int, changes: dict[str, str | None], now: datetime) -> Profile:
        """Set only the fields given; the others keep their values."""
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown profile fields: {sorted(unknown)}")
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO profiles (user_id, updated_at) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user_id, to_db_time(now)),
            )
            for field, value in changes.items():
                await conn.execute(
                    f"UPDATE profiles SET {field} = ?, updated_at = ? WHERE user_id = ?",
                    (value, to_db_time(now), user_id),
                )
        profile = await self.get(user_id)
        assert profile is not None
        return profile
