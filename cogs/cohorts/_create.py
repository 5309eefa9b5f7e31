"""`Create groups`, exactly once: the plan is written first, then carried out step by step.

Each group goes through three steps (group with its role and channels; members; schedule),
and each finished step is recorded before the next starts. A crash, a restart or a refusal
from Discord leaves the plan where it stopped; pressing the button again, or the next
start-up, carries on from there, and nothing done before is done again. A group whose
creation was stored but not yet recorded in the plan is recognised by its name, creator and
creation time, and adopted instead of made twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import discord

from cogs.common.replies import NO_PINGS
from cogs.groups import NewGroup, add_member, create_group
from core.cohorts import Cohort, Plan, ProposedGroup
from core.cohorts.model import GROUP_SIZE_MAX
from core.groups import CAPACITY_MAX
from core.models import Group
from core.schedule import Recurrence, make_recurrence
from core.timeparse import WEEKDAYS

if TYPE_CHECKING:
    from bot import MastermindBot
    from cogs.schedule import ScheduleCog

log = logging.getLogger(__name__)

# The group's members, the moderator who facilitates it, and one seat to spare.
CAPACITY = min(CAPACITY_MAX, GROUP_SIZE_MAX + 1 + 1 + 1)


def recurrence_for(proposed: ProposedGroup, duration: int, now: datetime) -> Recurrence:
    """The weekly schedule of a proposed group, first meeting on the date the proposal checked
    everyone's hours for; if that date is past (the proposal was created late), the next
    meeting of the same weekday and time."""
    local = proposed.start.astimezone(ZoneInfo(proposed.timezone))
    if proposed.start > now:
        return Recurrence(
            weekday=proposed.weekday,
            local_time=proposed.local_time,
            every_weeks=1,
            duration_minutes=duration,
            timezone=proposed.timezone,
            anchor=local.date(),
        )
    return make_recurrence(
        WEEKDAYS[proposed.weekday],
        f"{proposed.local_time:%H:%M}",
        1,
        duration,
        proposed.timezone,
        now,
    )


class PlanRunner:
    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = {}

    def lock(self, cohort_id: int) -> asyncio.Lock:
        return self._locks.setdefault(cohort_id, asyncio.Lock())

    async def run(self, cohort_id: int) -> tuple[Plan, list[Group], bool]:
        """Carry out the cohort's plan from where it stands. Returns the plan, its groups,
        and whether this call is the one that finished it."""
        async with self.lock(cohort_id):
            return await self._run_locked(cohort_id)

    async def _run_locked(self, cohort_id: int) -> tuple[Plan, list[Group], bool]:
        repo = self.bot.storage.cohorts
        plan = await repo.plan(cohort_id)
        cohort = await repo.get(cohort_id)
        assert plan is not None and cohort is not None
        if plan.finished_at is not None:
            return plan, await self._groups(plan), False
        stored = await repo.proposal(plan.proposal_id)
        assert stored is not None
        guild = self.bot.get_guild(cohort.guild_id)
        if guild is None:
            raise RuntimeError(f"guild {cohort.guild_id} of cohort {cohort_id} is not available")
        moderator = guild.get_member(plan.started_by) or await guild.fetch_member(plan.started_by)
        schedule = cast("ScheduleCog | None", self.bot.get_cog("ScheduleCog"))
        assert schedule is not None, "the schedule cog is not loaded"
        for step, proposed in zip(plan.steps, stored.proposal.groups, strict=True):
            group = await self.bot.storage.groups.get(step.group_id) if step.group_id else None
            if group is None:
                group = await self._make_group(cohort, plan, moderator, step.name, proposed)
                await repo.step_group(cohort_id, step.position, group.id)
            if not step.members_done:
                await self._add_members(guild, group, (plan.started_by, *proposed.members))
                await repo.step_members_done(cohort_id, step.position)
            if not step.schedule_done:
                rec = recurrence_for(proposed, stored.proposal.duration_minutes, self.bot.clock())
                schedule.check_can_schedule(guild, group)
                await schedule.apply_schedule(group, moderator, rec)
                await repo.step_schedule_done(cohort_id, step.position)
        finished = await repo.finish_plan(cohort_id, self.bot.clock())
        plan = await repo.plan(cohort_id)
        assert plan is not None
        groups = await self._groups(plan)
        if finished:
            await self._announce(guild, cohort, plan, groups)
        return plan, groups, finished

    async def _make_group(
        self,
        cohort: Cohort,
        plan: Plan,
        moderator: discord.Member,
        name: str,
        proposed: ProposedGroup,
    ) -> Group:
        existing = await self.bot.storage.groups.by_name(cohort.guild_id, name)
        if (
            existing is not None
            and existing.created_by == plan.started_by
            and existing.created_at >= plan.started_at
        ):
            # Stored just before a crash, before the plan recorded it: this plan's own group.
            return existing
        new = NewGroup(
            name=name,
            description=f"A group of the cohort {cohort.name}.",
            capacity=CAPACITY,
            timezone=proposed.timezone,
        )
        group, _ = await create_group(
            self.bot,
            moderator,
            new,
            reason=f"cohort {cohort.name} formed by {moderator} ({moderator.id})",
        )
        return group

    async def _add_members(
        self, guild: discord.Guild, group: Group, user_ids: tuple[int, ...]
    ) -> None:
        """Everyone gets the membership and the role, the facilitating moderator included
        (their membership came with the group; the role may not have, after a crash)."""
        role = guild.get_role(group.role_id) if group.role_id else None
        if role is None:
            raise RuntimeError(f"the role of group {group.id} is gone")
        for user_id in user_ids:
            member = guild.get_member(user_id)
            if member is None:  # left the server since signing up
                continue
            if await self.bot.storage.groups.membership(group.id, user_id) is None:
                await add_member(self.bot, group, member, role)
            elif role not in member.roles:
                await member.add_roles(role, reason=f"joined {group.name}")

    async def _groups(self, plan: Plan) -> list[Group]:
        found = []
        for group_id in await self.bot.storage.cohorts.group_ids(plan.cohort_id):
            group = await self.bot.storage.groups.get(group_id)
            if group is not None:
                found.append(group)
        return found

    async def _announce(
        self, guild: discord.Guild, cohort: Cohort, plan: Plan, groups: list[Group]
    ) -> None:
        """Say once, where the proposal was, that the groups exist."""
        channel = guild.get_channel(plan.channel_id) if plan.channel_id else None
        if not isinstance(channel, discord.TextChannel):
            return
        names = ", ".join(
            f"**{g.name}** (<#{g.text_channel_id}>)" if g.text_channel_id else f"**{g.name}**"
            for g in groups
        )
        try:
            await channel.send(
                f"The groups of **{cohort.name}** are ready: {names}. Each has its private "
                "channels, its members and its weekly meeting.",
                allowed_mentions=NO_PINGS,
            )
        except discord.HTTPException:
            log.warning("could not announce the groups of cohort %s", cohort.id)
