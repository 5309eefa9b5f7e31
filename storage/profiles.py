"""Member profiles."""

from __future__ import annotations

from datetime import datetime

from core.models import CareerStage, Profile
from storage.convert import require_time, to_db_time
from storage.sql import Database, Row

_FIELDS = ("career_stage", "institution", "timezone", "focus", "hours")


class ProfileRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> Profile | None:
        row = await self.db.fetch_one("SELECT * FROM profiles WHERE user_id = ?", (user_id,))
        return _profile(row) if row is not None else None

    async def many(self, user_ids: list[int]) -> dict[int, Profile]:
        """The profiles of these people (those who have one), in one query."""
        if not user_ids:
            return {}
        marks = ", ".join("?" for _ in user_ids)
        rows = await self.db.fetch_all(
            f"SELECT * FROM profiles WHERE user_id IN ({marks})", tuple(user_ids)
        )
        return {int(row["user_id"]): _profile(row) for row in rows}

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


def _profile(row: Row) -> Profile:
    return Profile(
        user_id=row["user_id"],
        career_stage=CareerStage(row["career_stage"]) if row["career_stage"] else None,
        institution=row["institution"],
        timezone=row["timezone"],
        focus=row["focus"],
        hours=row["hours"],
        updated_at=require_time(row["updated_at"]),
    )
