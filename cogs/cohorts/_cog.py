"""`/cohort open|status|form|close`, the sign-up form, and the proposal's buttons."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.cohorts._create import PlanRunner
from cogs.cohorts._render import (
    proposal_embed,
    proposal_file,
    signup_text,
    status_text,
)
from cogs.cohorts._views import (
    FIELDS,
    FORM_ID,
    SignupModal,
    proposal_view,
    retry_view,
    signup_view,
)
from cogs.common.access import (
    bot_of,
    guild_member,
    require_bot_permissions,
    require_moderator,
)
from cogs.common.audit import record_action
from cogs.common.forms import resume_orphan_form
from cogs.common.replies import NO_PINGS, defer, reply
from core.cohorts import (
    DEFAULT_GROUP_SIZE,
    Applicant,
    Cohort,
    CohortStatus,
    Mix,
    Proposal,
    check_group_size,
    clean_cohort_name,
    form_groups,
    group_name,
    min_members,
)
from core.cohorts.model import CohortMember
from core.errors import DuplicateName, UserError
from core.models import CareerStage
from core.schedule import DEFAULT_DURATION_MINUTES
from core.schedule.recurrence import check_duration
from core.timeparse import DEFAULT_HOURS, format_hours, parse_hours, parse_timezone

if TYPE_CHECKING:
    from bot import MastermindBot

log = logging.getLogger(__name__)

# Reshuffle tries this many other seeds for a different proposal of the same quality.
RESHUFFLE_TRIES = 4
# A creation that a crash or restart interrupted, carried on from the timer loop.
CREATE_KIND = "cohort:create"


async def cohort_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    found = await bot_of(interaction).storage.cohorts.search(interaction.guild_id, current)
    return [app_commands.Choice(name=c.name, value=c.name) for c in found]


def parse_stage(text: str) -> CareerStage:
    key = "-".join(text.strip().lower().replace("_", " ").split())
    try:
        return CareerStage(key)
    except ValueError:
        stages = ", ".join(f"`{s.value}`" for s in CareerStage)
        raise UserError(f"`{text}` is not a career stage: use one of {stages}.") from None


def check_answers(values: dict[str, str]) -> tuple[dict[str, str | None], list[str]]:
    """The answers cleaned, and one sentence per field that is wrong (naming the field)."""
    clean: dict[str, str | None] = {}
    problems: list[str] = []
    checks = {
        "career_stage": lambda v: parse_stage(v).value,
        "timezone": lambda v: parse_timezone(v).key,
        "hours": lambda v: format_hours(parse_hours(v or DEFAULT_HOURS)),
    }
    for name in FIELDS:
        raw = " ".join((values.get(name) or "").split())
        if name in checks:
            if not raw and name != "hours":
                problems.append(f"**{name}**: this answer is needed.")
                continue
            try:
                clean[name] = checks[name](raw)
            except UserError as error:
                problems.append(f"**{name}**: {error.message}")
        else:
            clean[name] = raw[:100] or None
    return clean, problems


def applicants_of(members: list[CohortMember]) -> list[Applicant]:
    out = []
    for m in members:
        if m.career_stage is None or not m.timezone:
            continue
        out.append(
            Applicant(
                user_id=m.user_id,
                stage=m.career_stage,
                timezone=m.timezone,
                hours=parse_hours(m.hours or DEFAULT_HOURS),
            )
        )
    return out


def fingerprint(applicants: list[Applicant]) -> str:
    """Identifies the answers a proposal was made from: a change means it is out of date."""
    text = "|".join(
        f"{a.user_id},{a.stage.value},{a.timezone},{format_hours(a.hours)}"
        for a in sorted(applicants, key=lambda a: a.user_id)
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _group_sets(proposal: Proposal) -> set[frozenset[int]]:
    return {frozenset(g.members) for g in proposal.groups}


class CohortsCog(commands.Cog):
    cohort = app_commands.Group(
        name="cohort",
        description="Sign-up and group formation for a cohort (moderators)",
        guild_only=True,
    )

    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot
        self.runner = PlanRunner(bot)
        # What someone typed in a refused form, to give it back to them (this process only).
        self._typed: dict[tuple[int, int], dict[str, str]] = {}

    async def cog_load(self) -> None:
        self.bot.timers.register(CREATE_KIND, self._on_create_due, rearm=self._rearm)

    async def cog_unload(self) -> None:
        self.bot.timers.unregister(CREATE_KIND)

    async def _rearm(self) -> None:
        """Carry on with interrupted creations, each as a timer due now: the loop runs them on
        their own, so dozens of channels hold up neither start-up nor the other timers."""
        now = self.bot.clock()
        for cohort_id in await self.bot.storage.cohorts.unfinished_plans(self.bot.shard_set):
            self.bot.timers.schedule(CREATE_KIND, cohort_id, now)

    async def _on_create_due(self, cohort_id: int, now: datetime) -> None:
        try:
            await self.runner.run(cohort_id)
        except Exception:
            log.exception("could not finish creating the groups of cohort %s", cohort_id)

    # -- helpers -----------------------------------------------------------------------------

    async def _cohort(self, guild: discord.Guild, name: str) -> Cohort:
        found = await self.bot.storage.cohorts.by_name(guild.id, name)
        if found is None:
            raise UserError(f"There is no cohort called **{name}** here.")
        return found

    async def _signup_message(self, cohort: Cohort) -> None:
        """Make the sign-up message say whether sign-ups are open."""
        guild = self.bot.get_guild(cohort.guild_id)
        channel = guild.get_channel(cohort.channel_id) if guild and cohort.channel_id else None
        if not isinstance(channel, discord.TextChannel) or cohort.message_id is None:
            return
        try:
            await channel.get_partial_message(cohort.message_id).edit(
                content=signup_text(cohort), view=signup_view(cohort.id)
            )
        except discord.HTTPException:
            log.warning("could not update the sign-up message of cohort %s", cohort.id)

    def _names(self, guild: discord.Guild) -> dict[int, str]:
        return {m.id: m.display_name for m in guild.members}

    async def _propose(
        self,
        guild: discord.Guild,
        cohort: Cohort,
        group_size: int,
        duration: int,
        seed: int,
    ) -> tuple[Proposal, list[Applicant], dict[int, CohortMember]]:
        members = [
            m
            for m in await self.bot.storage.cohorts.members(cohort.id)
            if guild.get_member(m.user_id) is not None
        ]
        applicants = applicants_of(members)
        needed = min_members(group_size)
        if len(applicants) < needed:
            raise UserError(
                f"**{cohort.name}** has {len(applicants)} sign-ups; forming two groups of "
                f"{group_size} ± 1 needs at least {needed}."
            )
        now = self.bot.clock()
        proposal = await asyncio.to_thread(
            form_groups,
            applicants,
            group_size=group_size,
            duration_minutes=duration,
            mix=cohort.mix,
            reference=now,
            seed=seed,
        )
        return proposal, applicants, {m.user_id: m for m in members}

    def _refuse_empty(self, proposal: Proposal, duration: int) -> None:
        if not proposal.groups:
            raise UserError(
                f"Nobody shares a {duration}-minute window with enough others to make a group "
                f"of {proposal.group_size - 1}–{proposal.group_size + 1}, so no groups can be "
                "proposed and nothing was created. People could widen their hours in the form."
            )

    # -- commands ----------------------------------------------------------------------------

    @cohort.command(name="open", description="Open sign-ups for a cohort here (moderators)")
    @app_commands.describe(
        name="The cohort's name; its groups are called <name> 1, <name> 2, …",
        group_size="People per group, 4-8 (each group gets this ± 1)",
        mix="mixed: each group spans career stages; similar: stages close together",
    )
    @app_commands.choices(mix=[app_commands.Choice(name=m.value, value=m.value) for m in Mix])
    async def open_cohort(
        self,
        interaction: discord.Interaction,
        name: str,
        group_size: int = DEFAULT_GROUP_SIZE,
        mix: str = Mix.MIXED.value,
    ) -> None:
        member = guild_member(interaction)
        await require_moderator(self.bot, member)
        clean = clean_cohort_name(name)
        check_group_size(group_size)
        try:
            chosen = Mix(mix)
        except ValueError:
            raise UserError("`mix` is `mixed` or `similar`.") from None
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel):
            raise UserError("Open a cohort in a text channel, where people can see the button.")
        repo = self.bot.storage.cohorts
        if await repo.by_name(member.guild.id, clean) is not None:
            raise UserError(f"There is already a cohort called **{clean}** here.")
        try:
            cohort = await repo.create(
                guild_id=member.guild.id,
                name=clean,
                group_size=group_size,
                mix=chosen,
                created_by=member.id,
                now=self.bot.clock(),
            )
        except DuplicateName:
            raise UserError(f"There is already a cohort called **{clean}** here.") from None
        message = await channel.send(
            signup_text(cohort), view=signup_view(cohort.id), allowed_mentions=NO_PINGS
        )
        await repo.set_message(cohort.id, channel.id, message.id)
        await record_action(self.bot, member, "cohort.open", clean)
        await reply(
            interaction,
            f"Opened **{clean}**: the sign-up message is above. `/cohort status {clean}` shows "
            f"who signed up; `/cohort form {clean}` proposes groups.",
        )

    @cohort.command(name="status", description="Who signed up, by career stage and time zone")
    @app_commands.autocomplete(cohort=cohort_autocomplete)
    async def status(self, interaction: discord.Interaction, cohort: str) -> None:
        member = guild_member(interaction)
        await require_moderator(self.bot, member)
        found = await self._cohort(member.guild, cohort)
        members = await self.bot.storage.cohorts.members(found.id)
        await reply(interaction, status_text(found, members))

    @cohort.command(name="form", description="Propose groups with a weekly slot each")
    @app_commands.describe(
        cohort="The cohort",
        group_size="People per group, 4-8 (default: the cohort's)",
        duration="Meeting length in minutes, 30-240 (default 90)",
    )
    @app_commands.autocomplete(cohort=cohort_autocomplete)
    async def form(
        self,
        interaction: discord.Interaction,
        cohort: str,
        group_size: int | None = None,
        duration: int = DEFAULT_DURATION_MINUTES,
    ) -> None:
        member = guild_member(interaction)
        await require_moderator(self.bot, member)
        found = await self._cohort(member.guild, cohort)
        size = check_group_size(group_size if group_size is not None else found.group_size)
        check_duration(duration)
        if found.status is CohortStatus.FORMED:
            raise UserError(f"The groups of **{found.name}** have already been created.")
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel):
            raise UserError("Use this in a text channel, where the proposal can be posted.")
        await defer(interaction)
        proposal, applicants, members = await self._propose(
            member.guild, found, size, duration, seed=0
        )
        self._refuse_empty(proposal, duration)
        stored = await self.bot.storage.cohorts.add_proposal(
            found.id, fingerprint(applicants), proposal, member.id, self.bot.clock()
        )
        await self._post_proposal(channel, found, stored.id, proposal, members, len(applicants))
        await reply(
            interaction,
            f"Proposed {len(proposal.groups)} groups for **{found.name}** below; nothing is "
            "created until you press **Create groups**.",
        )

    async def _post_proposal(
        self,
        channel: discord.TextChannel,
        cohort: Cohort,
        proposal_id: int,
        proposal: Proposal,
        members: dict[int, CohortMember],
        total: int,
    ) -> None:
        names = self._names(channel.guild)
        data = proposal_file(cohort, proposal, members, total, lambda u: names.get(u, str(u)))
        await channel.send(
            embed=proposal_embed(cohort, proposal, members, total),
            file=discord.File(io.BytesIO(data), filename="proposal.txt"),
            view=proposal_view(proposal_id),
            allowed_mentions=NO_PINGS,
        )

    @cohort.command(name="close", description="Stop sign-ups for a cohort (moderators)")
    @app_commands.autocomplete(cohort=cohort_autocomplete)
    async def close_cohort(self, interaction: discord.Interaction, cohort: str) -> None:
        member = guild_member(interaction)
        await require_moderator(self.bot, member)
        found = await self._cohort(member.guild, cohort)
        if not await self.bot.storage.cohorts.close(found.id):
            raise UserError(f"Sign-ups for **{found.name}** are already closed.")
        closed = await self.bot.storage.cohorts.get(found.id)
        assert closed is not None
        await self._signup_message(closed)
        await record_action(self.bot, member, "cohort.close", found.name)
        await reply(interaction, f"Closed sign-ups for **{found.name}**.")

    # -- sign-up -----------------------------------------------------------------------------

    async def open_form(
        self, interaction: discord.Interaction, cohort_id: int, *, retry: bool
    ) -> None:
        member = guild_member(interaction)
        repo = self.bot.storage.cohorts
        found = await repo.get(cohort_id)
        if found is None or found.guild_id != member.guild.id:
            raise UserError("That cohort no longer exists.")
        if found.status is CohortStatus.CLOSED:
            raise UserError(f"Sign-ups for **{found.name}** are closed.")
        if found.status is CohortStatus.FORMED:
            raise UserError(
                f"The groups of **{found.name}** have been created; answers can no longer change."
            )
        current: dict[str, str | None] = {}
        earlier = await repo.member(cohort_id, member.id)
        if earlier is not None:
            current = {name: getattr(earlier, name) for name in FIELDS}
            current["career_stage"] = earlier.career_stage.value if earlier.career_stage else None
        else:
            profile = await self.bot.storage.profiles.get(member.id)
            if profile is not None:
                current = {
                    "career_stage": profile.career_stage.value if profile.career_stage else None,
                    "timezone": profile.timezone,
                    "hours": profile.hours,
                    "institution": profile.institution,
                    "focus": profile.focus,
                }
        current.setdefault("hours", None)
        current["hours"] = current["hours"] or DEFAULT_HOURS
        typed = self._typed.get((member.id, cohort_id)) if retry else None
        if typed is not None:
            current = dict(typed)
        modal = SignupModal(cohort_id, f"Join {found.name}", current)
        await interaction.response.send_modal(modal)
        self.bot.open_forms.opened(member.id, str(modal.custom_id))

    async def save_form(
        self, interaction: discord.Interaction, cohort_id: int, values: dict[str, str]
    ) -> None:
        member = guild_member(interaction)
        repo = self.bot.storage.cohorts
        found = await repo.get(cohort_id)
        if found is None or found.guild_id != member.guild.id:
            raise UserError("That cohort no longer exists.")
        if found.status is CohortStatus.CLOSED:
            raise UserError(f"Sign-ups for **{found.name}** are closed; nothing was saved.")
        clean, problems = check_answers(values)
        if problems:
            self._typed[(member.id, cohort_id)] = dict(values)
            await reply(
                interaction,
                "Nothing was saved; please fix:\n"
                + "\n".join(f"- {p}" for p in problems)
                + "\n**Fix my answers** opens the form again with what you typed.",
                view=retry_view(cohort_id),
            )
            return
        now = self.bot.clock()
        added = await repo.save_member(cohort_id, member.id, clean, now)
        if added is None:
            raise UserError(
                f"The groups of **{found.name}** have been created; answers can no longer change."
            )
        self._typed.pop((member.id, cohort_id), None)
        await self.bot.storage.profiles.update(
            member.id, {k: v for k, v in clean.items() if v is not None}, now
        )
        verb = "You are signed up for" if added else "Updated your answers for"
        await reply(
            interaction,
            f"{verb} **{found.name}** ({clean['career_stage']}, {clean['timezone']}, "
            f"{clean['hours']}). Your profile has these answers too. Press **Join cohort** "
            "again to change them until the groups are made.",
        )

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A sign-up form opened before a restart, submitted after it."""

        async def save(match: re.Match[str], values: dict[str, str]) -> None:
            await self.save_form(interaction, int(match["cohort_id"]), values)

        await resume_orphan_form(interaction, self.bot.open_forms, FORM_ID, save, "cohort form")

    # -- the proposal's buttons --------------------------------------------------------------

    async def _stored(self, guild: discord.Guild, proposal_id: int) -> tuple[Cohort, Proposal]:
        stored = await self.bot.storage.cohorts.proposal(proposal_id)
        cohort = await self.bot.storage.cohorts.get(stored.cohort_id) if stored else None
        if stored is None or cohort is None or cohort.guild_id != guild.id:
            raise UserError("That proposal no longer exists.")
        return cohort, stored.proposal

    async def reshuffle(self, interaction: discord.Interaction, proposal_id: int) -> None:
        member = guild_member(interaction)
        await require_moderator(self.bot, member)
        cohort, current = await self._stored(member.guild, proposal_id)
        if cohort.status is CohortStatus.FORMED:
            raise UserError(f"The groups of **{cohort.name}** have already been created.")
        await defer(interaction)
        best = None
        for step in range(1, RESHUFFLE_TRIES + 1):
            proposal, applicants, members = await self._propose(
                member.guild,
                cohort,
                current.group_size,
                current.duration_minutes,
                seed=current.seed + step,
            )
            if proposal.rank() >= current.rank() and _group_sets(proposal) != _group_sets(current):
                best = (proposal, applicants, members)
                break
        if best is None:
            raise UserError(
                "I found no other split of the same quality: this proposal is the best there is."
            )
        proposal, applicants, members = best
        self._refuse_empty(proposal, proposal.duration_minutes)
        stored = await self.bot.storage.cohorts.add_proposal(
            cohort.id, fingerprint(applicants), proposal, member.id, self.bot.clock()
        )
        if interaction.message is not None:
            try:
                await interaction.message.edit(view=proposal_view(proposal_id, retired=True))
            except discord.HTTPException:
                log.warning("could not retire proposal %s", proposal_id)
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        await self._post_proposal(channel, cohort, stored.id, proposal, members, len(applicants))
        await reply(interaction, "Posted another proposal of the same quality below.")

    async def create_groups(self, interaction: discord.Interaction, proposal_id: int) -> None:
        member = guild_member(interaction)
        await require_moderator(self.bot, member)
        cohort, proposal = await self._stored(member.guild, proposal_id)
        repo = self.bot.storage.cohorts
        plan = await repo.plan(cohort.id)
        if plan is not None and plan.proposal_id != proposal_id:
            raise UserError(f"The groups of **{cohort.name}** were created from another proposal.")
        if plan is None:
            stored = await repo.proposal(proposal_id)
            assert stored is not None
            members = [
                m
                for m in await repo.members(cohort.id)
                if member.guild.get_member(m.user_id) is not None
            ]
            if fingerprint(applicants_of(members)) != stored.fingerprint:
                raise UserError(
                    "Sign-ups changed since this proposal was made; run "
                    f"`/cohort form {cohort.name}` again for an up-to-date one."
                )
            require_bot_permissions(member.guild, "manage_roles", "manage_channels")
            require_bot_permissions(member.guild, "manage_events")
            names = [group_name(cohort.name, i + 1) for i in range(len(proposal.groups))]
            for name in names:
                if await self.bot.storage.groups.by_name(member.guild.id, name) is not None:
                    raise UserError(
                        f"There is already a group called **{name}**; rename it or the "
                        "cohort first. Nothing was created."
                    )
            await defer(interaction)
            started = await repo.start_plan(
                cohort_id=cohort.id,
                proposal_id=proposal_id,
                names=names,
                started_by=member.id,
                channel_id=interaction.channel_id,
                now=self.bot.clock(),
            )
            if started:
                await record_action(
                    self.bot, member, "cohort.create", f"{cohort.name}: {len(names)} groups"
                )
                updated = await repo.get(cohort.id)
                if updated is not None:
                    await self._signup_message(updated)
        else:
            if plan.finished_at is None:
                require_bot_permissions(member.guild, "manage_roles", "manage_channels")
                require_bot_permissions(member.guild, "manage_events")
            await defer(interaction)
        try:
            plan, groups, _ = await self.runner.run(cohort.id)
        except discord.HTTPException as error:
            log.warning("creating the groups of cohort %s stopped: %s", cohort.id, error)
            await reply(
                interaction,
                f"Discord refused a step ({error.status} {error.text or ''}). What was made is "
                "kept; press **Create groups** again to carry on from there (I also carry on "
                "when I restart). Nothing will be created twice.",
            )
            return
        if interaction.message is not None:
            try:
                await interaction.message.edit(view=proposal_view(proposal_id, created=True))
            except discord.HTTPException:
                log.warning("could not update proposal %s", proposal_id)
        made = ", ".join(f"**{g.name}**" for g in groups)
        await reply(interaction, f"The groups of **{cohort.name}** exist: {made}.")
