"""Cohorts, their sign-ups, proposals, and the plan that creates their groups exactly once."""

from __future__ import annotations

import json
from datetime import datetime

from core.cohorts.model import (
    Cohort,
    CohortMember,
    CohortStatus,
    Mix,
    Plan,
    PlanStep,
    Proposal,
    StoredProposal,
)
from core.groups import name_key
from core.models import CareerStage
from core.shards import EVERY_SHARD, ShardSet
from storage.convert import from_db_time, require_time, to_db_time, unique_names
from storage.sql import Database, Row

ANSWERS = ("career_stage", "timezone", "hours", "institution", "focus")


def _cohort(row: Row) -> Cohort:
    return Cohort(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        group_size=row["group_size"],
        mix=Mix(row["mix"]),
        status=CohortStatus(row["status"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        created_by=row["created_by"],
        created_at=require_time(row["created_at"]),
    )


def _member(row: Row) -> CohortMember:
    return CohortMember(
        cohort_id=row["cohort_id"],
        user_id=row["user_id"],
        career_stage=CareerStage(row["career_stage"]) if row["career_stage"] else None,
        timezone=row["timezone"],
        hours=row["hours"],
        institution=row["institution"],
        focus=row["focus"],
        joined_at=require_time(row["joined_at"]),
        updated_at=require_time(row["updated_at"]),
    )


class CohortRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- cohorts -----------------------------------------------------------------------------

    async def create(
        self,
        *,
        guild_id: int,
        name: str,
        group_size: int,
        mix: Mix,
        created_by: int,
        now: datetime,
    ) -> Cohort:
        """Raises `DuplicateName` when the guild has a cohort of that name (any case)."""
        with unique_names():
            cohort_id = await self.db.insert(
                "INSERT INTO cohorts (guild_id, name, name_key, group_size, mix, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    guild_id,
                    name,
                    name_key(name),
                    group_size,
                    mix.value,
                    created_by,
                    to_db_time(now),
                ),
            )
        cohort = await self.get(cohort_id)
        assert cohort is not None
        return cohort

    async def get(self, cohort_id: int) -> Cohort | None:
        row = await self.db.fetch_one("SELECT * FROM cohorts WHERE id = ?", (cohort_id,))
        return _cohort(row) if row else None

    async def by_name(self, guild_id: int, name: str) -> Cohort | None:
        row = await self.db.fetch_one(
            "SELECT * FROM cohorts WHERE guild_id = ? AND name_key = ?", (guild_id, name_key(name))
        )
        return _cohort(row) if row else None

    async def search(self, guild_id: int, text: str, limit: int = 25) -> list[Cohort]:
        needle = name_key(text)
        rows = await self.db.fetch_all(
            "SELECT * FROM cohorts WHERE guild_id = ? AND instr(name_key, ?) > 0"
            " ORDER BY instr(name_key, ?) != 1, name_key LIMIT ?",
            (guild_id, needle, needle, limit),
        )
        return [_cohort(row) for row in rows]

    async def set_message(self, cohort_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE cohorts SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, cohort_id),
        )

    async def close(self, cohort_id: int) -> bool:
        """Stop sign-ups; False if the cohort was not open."""
        async with self.db.transaction() as conn:
            changed = await conn.execute(
                "UPDATE cohorts SET status = 'closed' WHERE id = ? AND status = 'open'",
                (cohort_id,),
            )
            return changed == 1

    # -- sign-ups ----------------------------------------------------------------------------

    async def save_member(
        self, cohort_id: int, user_id: int, answers: dict[str, str | None], now: datetime
    ) -> bool | None:
        """Record someone's answers; True when they are new to the cohort, False when they
        changed their answers, None when the cohort's groups are already being created."""
        unknown = set(answers) - set(ANSWERS)
        if unknown:
            raise ValueError(f"unknown answers: {sorted(unknown)}")
        values = tuple(answers.get(name) for name in ANSWERS)
        async with self.db.transaction() as conn:
            row = await conn.fetch_one("SELECT status FROM cohorts WHERE id = ?", (cohort_id,))
            if row is None or row[0] == CohortStatus.FORMED.value:
                return None
            existed = (
                await conn.fetch_one(
                    "SELECT 1 FROM cohort_members WHERE cohort_id = ? AND user_id = ?",
                    (cohort_id, user_id),
                )
                is not None
            )
            await conn.execute(
                "INSERT INTO cohort_members (cohort_id, user_id, career_stage, timezone, hours,"
                " institution, focus, joined_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (cohort_id, user_id) DO UPDATE SET career_stage = excluded"
                ".career_stage, timezone = excluded.timezone, hours = excluded.hours,"
                " institution = excluded.institution, focus = excluded.focus,"
                " updated_at = excluded.updated_at",
                (cohort_id, user_id, *values, to_db_time(now), to_db_time(now)),
            )
        return not existed

    async def members(self, cohort_id: int) -> list[CohortMember]:
        rows = await self.db.fetch_all(
            "SELECT * FROM cohort_members WHERE cohort_id = ? ORDER BY joined_at, user_id",
            (cohort_id,),
        )
        return [_member(row) for row in rows]

    async def member(self, cohort_id: int, user_id: int) -> CohortMember | None:
        row = await self.db.fetch_one(
            "SELECT * FROM cohort_members WHERE cohort_id = ? AND user_id = ?",
            (cohort_id, user_id),
        )
        return _member(row) if row else None

    # -- proposals ---------------------------------------------------------------------------

    async def add_proposal(
        self,
        cohort_id: int,
        fingerprint: str,
        proposal: Proposal,
        created_by: int,
        now: datetime,
    ) -> StoredProposal:
        proposal_id = await self.db.insert(
            "INSERT INTO cohort_proposals (cohort_id, fingerprint, payload, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (cohort_id, fingerprint, proposal.model_dump_json(), created_by, to_db_time(now)),
        )
        stored = await self.proposal(proposal_id)
        assert stored is not None
        return stored

    async def proposal(self, proposal_id: int) -> StoredProposal | None:
        row = await self.db.fetch_one("SELECT * FROM cohort_proposals WHERE id = ?", (proposal_id,))
        if row is None:
            return None
        return StoredProposal(
            id=row["id"],
            cohort_id=row["cohort_id"],
            fingerprint=row["fingerprint"],
            proposal=Proposal.model_validate(json.loads(row["payload"])),
            created_by=row["created_by"],
            created_at=require_time(row["created_at"]),
        )

    # -- the creation plan -------------------------------------------------------------------

    async def start_plan(
        self,
        *,
        cohort_id: int,
        proposal_id: int,
        names: list[str],
        started_by: int,
        channel_id: int | None,
        now: datetime,
    ) -> bool:
        """Write the whole plan, and freeze the cohort's answers, in one transaction. False
        when the cohort already has a plan (a second press, or another moderator's)."""
        async with self.db.transaction() as conn:
            if (
                await conn.fetch_one("SELECT 1 FROM cohort_plans WHERE cohort_id = ?", (cohort_id,))
                is not None
            ):
                return False
            await conn.execute(
                "INSERT INTO cohort_plans (cohort_id, proposal_id, started_by, channel_id,"
                " started_at) VALUES (?, ?, ?, ?, ?)",
                (cohort_id, proposal_id, started_by, channel_id, to_db_time(now)),
            )
            await conn.executemany(
                "INSERT INTO cohort_plan_groups (cohort_id, position, name) VALUES (?, ?, ?)",
                [(cohort_id, position, name) for position, name in enumerate(names, start=1)],
            )
            await conn.execute("UPDATE cohorts SET status = 'formed' WHERE id = ?", (cohort_id,))
        return True

    async def plan(self, cohort_id: int) -> Plan | None:
        row = await self.db.fetch_one(
            "SELECT * FROM cohort_plans WHERE cohort_id = ?", (cohort_id,)
        )
        if row is None:
            return None
        steps = await self.db.fetch_all(
            "SELECT * FROM cohort_plan_groups WHERE cohort_id = ? ORDER BY position",
            (cohort_id,),
        )
        return Plan(
            cohort_id=row["cohort_id"],
            proposal_id=row["proposal_id"],
            started_by=row["started_by"],
            channel_id=row["channel_id"],
            started_at=require_time(row["started_at"]),
            finished_at=from_db_time(row["finished_at"]),
            steps=tuple(
                PlanStep(
                    position=step["position"],
                    name=step["name"],
                    group_id=step["group_id"],
                    members_done=bool(step["members_done"]),
                    schedule_done=bool(step["schedule_done"]),
                )
                for step in steps
            ),
        )

    async def unfinished_plans(self, shards: ShardSet = EVERY_SHARD) -> list[int]:
        """Cohorts of `shards`' guilds whose groups are still being created."""
        where, params = shards.sql("c.guild_id")
        rows = await self.db.fetch_all(
            "SELECT p.cohort_id FROM cohort_plans p JOIN cohorts c ON c.id = p.cohort_id"
            f" WHERE p.finished_at IS NULL AND {where} ORDER BY p.cohort_id",
            params,
        )
        return [int(row[0]) for row in rows]

    async def step_group(self, cohort_id: int, position: int, group_id: int) -> None:
        await self.db.execute(
            "UPDATE cohort_plan_groups SET group_id = ? WHERE cohort_id = ? AND position = ?",
            (group_id, cohort_id, position),
        )

    async def step_members_done(self, cohort_id: int, position: int) -> None:
        await self.db.execute(
            "UPDATE cohort_plan_groups SET members_done = 1 WHERE cohort_id = ? AND position = ?",
            (cohort_id, position),
        )

    async def step_schedule_done(self, cohort_id: int, position: int) -> None:
        await self.db.execute(
            "UPDATE cohort_plan_groups SET schedule_done = 1 WHERE cohort_id = ? AND position = ?",
            (cohort_id, position),
        )

    async def finish_plan(self, cohort_id: int, now: datetime) -> bool:
        """Mark the plan done; False if it already was (so only one caller announces it)."""
        async with self.db.transaction() as conn:
            changed = await conn.execute(
                "UPDATE cohort_plans SET finished_at = ? WHERE cohort_id = ?"
                " AND finished_at IS NULL",
                (to_db_time(now), cohort_id),
            )
            return changed == 1

    async def group_ids(self, cohort_id: int) -> list[int]:
        """The groups created from the cohort, in order."""
        rows = await self.db.fetch_all(
            "SELECT group_id FROM cohort_plan_groups WHERE cohort_id = ? AND group_id IS NOT NULL"
            " ORDER BY position",
            (cohort_id,),
        )
        return [int(row[0]) for row in rows]
