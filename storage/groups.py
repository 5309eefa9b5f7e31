"""Groups and their memberships."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core.groups import name_key, next_leader
from core.models import Group, Membership
from storage.convert import from_db_time, require_time, to_db_time, unique_names
from storage.sql import Database, Row, Tx, placeholders


def _group(row: Row) -> Group:
    data: dict[str, Any] = dict(row)
    data.pop("name_key", None)
    data["created_at"] = require_time(data["created_at"])
    data["archived_at"] = from_db_time(data["archived_at"])
    return Group.model_validate(data)


def _membership(row: Row) -> Membership:
    return Membership(
        group_id=row["group_id"],
        user_id=row["user_id"],
        is_facilitator=bool(row["is_facilitator"]),
        joined_at=require_time(row["joined_at"]),
    )


class GroupRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        *,
        guild_id: int,
        name: str,
        description: str,
        capacity: int,
        timezone: str | None,
        role_id: int | None,
        category_id: int | None,
        text_channel_id: int | None,
        voice_channel_id: int | None,
        created_by: int,
        now: datetime,
    ) -> Group:
        """The group and its creator as facilitator and member, in one transaction. Raises
        `DuplicateName` when the guild has a group of that name (any case)."""
        with unique_names():
            async with self.db.transaction() as conn:
                group_id = await conn.insert(
                    "INSERT INTO groups (guild_id, name, name_key, description, capacity,"
                    " timezone, role_id, category_id, text_channel_id, voice_channel_id,"
                    " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING id",
                    (
                        guild_id,
                        name,
                        name_key(name),
                        description,
                        capacity,
                        timezone,
                        role_id,
                        category_id,
                        text_channel_id,
                        voice_channel_id,
                        created_by,
                        to_db_time(now),
                    ),
                )
                await conn.execute(
                    "INSERT INTO memberships (group_id, user_id, is_facilitator, joined_at)"
                    " VALUES (?, ?, 1, ?)",
                    (group_id, created_by, to_db_time(now)),
                )
        group = await self.get(group_id)
        assert group is not None
        return group

    async def get(self, group_id: int) -> Group | None:
        row = await self.db.fetch_one("SELECT * FROM groups WHERE id = ?", (group_id,))
        return _group(row) if row else None

    async def many(self, group_ids: Iterable[int]) -> dict[int, Group]:
        """The groups with these ids, in one query (start-up loads thousands at once)."""
        wanted = sorted(set(group_ids))
        if not wanted:
            return {}
        rows = await self.db.fetch_all(
            f"SELECT * FROM groups WHERE id IN ({placeholders(len(wanted))})", wanted
        )
        return {int(row["id"]): _group(row) for row in rows}

    async def by_name(self, guild_id: int, name: str) -> Group | None:
        row = await self.db.fetch_one(
            "SELECT * FROM groups WHERE guild_id = ? AND name_key = ?", (guild_id, name_key(name))
        )
        return _group(row) if row else None

    async def by_channel(self, channel_id: int) -> Group | None:
        row = await self.db.fetch_one(
            "SELECT * FROM groups WHERE text_channel_id = ? OR voice_channel_id = ?",
            (channel_id, channel_id),
        )
        return _group(row) if row else None

    async def list_for_guild(self, guild_id: int, *, include_archived: bool = True) -> list[Group]:
        sql = "SELECT * FROM groups WHERE guild_id = ?"
        if not include_archived:
            sql += " AND archived_at IS NULL"
        rows = await self.db.fetch_all(sql + " ORDER BY name_key", (guild_id,))
        return [_group(row) for row in rows]

    async def search(self, guild_id: int, text: str, limit: int = 25) -> list[Group]:
        """Groups whose name contains the text, any case; names that start with it first, then
        active before archived groups. `%` and `_` are matched literally."""
        needle = name_key(text)
        rows = await self.db.fetch_all(
            "SELECT * FROM groups WHERE guild_id = ? AND instr(name_key, ?) > 0"
            " ORDER BY instr(name_key, ?) != 1, archived_at IS NOT NULL, name_key LIMIT ?",
            (guild_id, needle, needle, limit),
        )
        return [_group(row) for row in rows]

    async def set_discord_ids(
        self,
        group_id: int,
        *,
        role_id: int | None,
        category_id: int | None,
        text_channel_id: int | None,
        voice_channel_id: int | None,
    ) -> None:
        await self.db.execute(
            "UPDATE groups SET role_id = ?, category_id = ?, text_channel_id = ?,"
            " voice_channel_id = ? WHERE id = ?",
            (role_id, category_id, text_channel_id, voice_channel_id, group_id),
        )

    async def archive(self, group_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE groups SET archived_at = ? WHERE id = ?", (to_db_time(now), group_id)
        )

    async def members(self, group_id: int) -> list[Membership]:
        rows = await self.db.fetch_all(
            "SELECT * FROM memberships WHERE group_id = ? ORDER BY joined_at, user_id", (group_id,)
        )
        return [_membership(row) for row in rows]

    async def member_ids(self, group_ids: Iterable[int]) -> dict[int, set[int]]:
        """Who belongs to each of these groups, in one query; a group without members maps
        to an empty set."""
        wanted = sorted(set(group_ids))
        found: dict[int, set[int]] = {group_id: set() for group_id in wanted}
        if not wanted:
            return found
        rows = await self.db.fetch_all(
            "SELECT group_id, user_id FROM memberships"
            f" WHERE group_id IN ({placeholders(len(wanted))})",
            wanted,
        )
        for row in rows:
            found[int(row[0])].add(int(row[1]))
        return found

    async def membership(self, group_id: int, user_id: int) -> Membership | None:
        row = await self.db.fetch_one(
            "SELECT * FROM memberships WHERE group_id = ? AND user_id = ?", (group_id, user_id)
        )
        return _membership(row) if row else None

    async def add_member(
        self, group_id: int, user_id: int, now: datetime, *, capacity: int
    ) -> bool:
        """Add a member unless the group is full; the count and the insert are one transaction,
        so two people clicking at once cannot both take the last seat."""
        async with self.db.transaction() as conn:
            row = await conn.fetch_one(
                "SELECT COUNT(*) FROM memberships WHERE group_id = ?", (group_id,)
            )
            if row is not None and int(row[0]) >= capacity:
                return False
            await conn.execute(
                "INSERT INTO memberships (group_id, user_id, is_facilitator, joined_at)"
                " VALUES (?, ?, 0, ?)",
                (group_id, user_id, to_db_time(now)),
            )
        return True

    async def restore_member(self, membership: Membership) -> None:
        """Put back a membership exactly as it was (undoing a removal Discord refused)."""
        await self.db.execute(
            "INSERT INTO memberships (group_id, user_id, is_facilitator, joined_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                membership.group_id,
                membership.user_id,
                int(membership.is_facilitator),
                to_db_time(membership.joined_at),
            ),
        )

    async def remove_member(self, group_id: int, user_id: int) -> None:
        await self.db.execute(
            "DELETE FROM memberships WHERE group_id = ? AND user_id = ?", (group_id, user_id)
        )

    async def set_facilitator(self, group_id: int, user_id: int, value: bool) -> None:
        await self.db.execute(
            "UPDATE memberships SET is_facilitator = ? WHERE group_id = ? AND user_id = ?",
            (int(value), group_id, user_id),
        )

    async def remove_user_from_guild(self, guild_id: int, user_id: int) -> list[int]:
        """Someone left the server: drop their memberships there. Returns the groups affected."""
        async with self.db.transaction() as conn:
            group_ids = [
                int(row[0])
                for row in await conn.fetch_all(
                    "SELECT m.group_id FROM memberships m JOIN groups g ON g.id = m.group_id"
                    " WHERE g.guild_id = ? AND m.user_id = ? ORDER BY m.group_id",
                    (guild_id, user_id),
                )
            ]
            for group_id in group_ids:
                await conn.execute(
                    "DELETE FROM memberships WHERE group_id = ? AND user_id = ?",
                    (group_id, user_id),
                )
        return group_ids

    async def promote_if_leaderless(self, group_id: int) -> int | None:
        """Make the longest-standing member facilitator of a group that has members but no
        facilitator left. Returns who was promoted, if anyone."""
        async with self.db.transaction() as conn:
            return await promote_if_leaderless(conn, group_id)

    async def member_counts(self, guild_id: int) -> dict[int, int]:
        """How many members each group of the guild has (groups with none are absent)."""
        rows = await self.db.fetch_all(
            "SELECT m.group_id, COUNT(*) FROM memberships m JOIN groups g ON g.id = m.group_id"
            " WHERE g.guild_id = ? GROUP BY m.group_id",
            (guild_id,),
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def memberships_of_user(self, guild_id: int, user_id: int) -> list[Membership]:
        """The person's memberships in the guild's groups (with whether they facilitate)."""
        rows = await self.db.fetch_all(
            "SELECT m.* FROM memberships m JOIN groups g ON g.id = m.group_id"
            " WHERE g.guild_id = ? AND m.user_id = ? ORDER BY m.group_id",
            (guild_id, user_id),
        )
        return [_membership(row) for row in rows]

    async def groups_of_user(self, guild_id: int, user_id: int) -> list[Group]:
        rows = await self.db.fetch_all(
            "SELECT g.* FROM groups g JOIN memberships m ON m.group_id = g.id"
            " WHERE g.guild_id = ? AND m.user_id = ? ORDER BY g.name_key",
            (guild_id, user_id),
        )
        return [_group(row) for row in rows]


async def promote_if_leaderless(conn: Tx, group_id: int) -> int | None:
    """Inside the caller's transaction: a group left without a facilitator gets the one
    `next_leader` names. Returns who was promoted, if anyone."""
    rows = await conn.fetch_all(
        "SELECT user_id, is_facilitator, joined_at FROM memberships WHERE group_id = ?",
        (group_id,),
    )
    chosen = next_leader(
        (int(row["user_id"]), bool(row["is_facilitator"]), require_time(row["joined_at"]))
        for row in rows
    )
    if chosen is None:
        return None
    await conn.execute(
        "UPDATE memberships SET is_facilitator = 1 WHERE group_id = ? AND user_id = ?",
        (group_id, chosen),
    )
    return chosen
