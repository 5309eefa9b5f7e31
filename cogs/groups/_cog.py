"""`/group` commands."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.common.access import (
    group_autocomplete,
    guild_member,
    is_facilitator,
    require_active,
    require_bot_permissions,
    require_facilitator,
    require_moderator,
    resolve_group,
)
from cogs.common.audit import record_action
from cogs.common.format import local_clock
from cogs.common.replies import NO_PINGS, defer, reply
from cogs.groups._channels import (
    GroupResources,
    apply_permissions,
    find_resources,
)
from cogs.groups._service import add_member, check_new_group, create_group
from cogs.groups._views import RecreateButton
from cogs.profiles import timezone_autocomplete
from core import groups as rules
from core.errors import UserError
from core.models import Group, Membership, Profile

if TYPE_CHECKING:
    from bot import MastermindBot

log = logging.getLogger(__name__)


def require_resources(group: Group, found: GroupResources) -> None:
    """Refuse, naming exactly what was deleted, while the group's role or channels are gone."""
    missing = found.missing()
    if missing:
        what = _join_words(missing)
        verb, them = ("was", "it") if len(missing) == 1 else ("were", "them")
        raise UserError(
            f"The {what} of **{group.name}** {verb} deleted, so nobody can join it right now. "
            f"A facilitator can recreate {them} with the button under `/group info "
            f"{group.name}`."
        )


def _join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096


def chunk_lines(lines: list[str], limit: int) -> list[str]:
    """Join lines into texts of at most `limit` characters, never splitting a line (a line
    longer than the limit is cut)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def local_time(now: datetime, zone: str | None) -> str:
    return local_clock(now, zone) or "time zone not set"


def member_line(membership: Membership, profile: Profile | None, now: datetime) -> str:
    stage = profile.career_stage.value if profile and profile.career_stage else "stage not set"
    where = f", {profile.institution}" if profile and profile.institution else ""
    clock = local_time(now, profile.timezone if profile else None)
    badge = " (facilitator)" if membership.is_facilitator else ""
    return f"<@{membership.user_id}>{badge}: {stage}{where} · {clock}"


class GroupsCog(commands.Cog):
    group = app_commands.Group(name="group", description="Mastermind groups", guild_only=True)

    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot

    async def _audit(self, member: discord.Member, action: str, detail: str) -> None:
        await record_action(self.bot, member, action, detail)

    @group.command(name="create", description="Create a group with its own private channels")
    @app_commands.describe(
        name="The group's name (1-50 characters)",
        description="What the group is about",
        capacity="How many members it can have (2-12)",
        timezone="The group's time zone, e.g. America/Toronto",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def create(
        self,
        interaction: discord.Interaction,
        name: str,
        description: str | None = None,
        capacity: int = rules.DEFAULT_CAPACITY,
        timezone: str | None = None,
    ) -> None:
        member = guild_member(interaction)
        new = await check_new_group(self.bot, member.guild, name, description, capacity, timezone)
        await defer(interaction, ephemeral=False)
        group, made = await create_group(
            self.bot, member, new, reason=f"group created by {member} ({member.id})"
        )
        assert made.text and made.voice
        await reply(
            interaction,
            f"Created **{group.name}** with {made.text.mention} and {made.voice.mention}. "
            f"You are its facilitator. Others can join with `/group join {group.name}`.",
            ephemeral=False,
        )

    @group.command(name="join", description="Join a group")
    @app_commands.autocomplete(group=group_autocomplete)
    async def join(self, interaction: discord.Interaction, group: str) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        await self._add(interaction, found, member, added_by=None)

    @group.command(name="leave", description="Leave a group")
    @app_commands.autocomplete(group=group_autocomplete)
    async def leave(self, interaction: discord.Interaction, group: str) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        await self._remove(interaction, found, member, removed_by=None)

    @group.command(name="add", description="Add someone to a group (facilitators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def add(
        self, interaction: discord.Interaction, group: str, member: discord.Member
    ) -> None:
        actor = guild_member(interaction)
        found = await resolve_group(interaction, group)
        await require_facilitator(self.bot, actor, found)
        await self._add(interaction, found, member, added_by=actor)

    @group.command(name="remove", description="Remove someone from a group (facilitators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def remove(
        self, interaction: discord.Interaction, group: str, member: discord.Member
    ) -> None:
        actor = guild_member(interaction)
        found = await resolve_group(interaction, group)
        await require_facilitator(self.bot, actor, found)
        await self._remove(interaction, found, member, removed_by=actor)

    @group.command(name="facilitator", description="Make a member a facilitator (facilitators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def facilitator(
        self, interaction: discord.Interaction, group: str, member: discord.Member
    ) -> None:
        actor = guild_member(interaction)
        found = await resolve_group(interaction, group)
        require_active(found)
        await require_facilitator(self.bot, actor, found)
        membership = await self.bot.storage.groups.membership(found.id, member.id)
        if membership is None:
            raise UserError(
                f"{member.mention} is not a member of **{found.name}**; add them first."
            )
        if membership.is_facilitator:
            raise UserError(f"{member.mention} is already a facilitator of **{found.name}**.")
        await self.bot.storage.groups.set_facilitator(found.id, member.id, True)
        await self._audit(actor, "group.facilitator", f"{found.name}: {member.mention}")
        await reply(interaction, f"{member.mention} is now a facilitator of **{found.name}**.")

    @group.command(name="info", description="Members, facilitators and meetings of a group")
    @app_commands.autocomplete(group=group_autocomplete)
    async def info(self, interaction: discord.Interaction, group: str) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        now = self.bot.clock()
        memberships = await self.bot.storage.groups.members(found.id)
        profiles = await self.bot.storage.profiles.many([m.user_id for m in memberships])
        embed = discord.Embed(
            title=found.name + (" (archived)" if found.archived else ""),
            description=found.description or None,
            colour=discord.Colour.blurple(),
        )
        lines = [member_line(m, profiles.get(m.user_id), now) for m in memberships]
        # A field holds at most 1024 characters: a full group with long institutions needs more.
        for index, chunk in enumerate(chunk_lines(lines, FIELD_LIMIT) or ["nobody yet"]):
            embed.add_field(
                name=f"Members ({len(memberships)}/{found.capacity})" if index == 0 else "\u200b",
                value=chunk,
                inline=False,
            )
        facilitators = [f"<@{m.user_id}>" for m in memberships if m.is_facilitator]
        embed.add_field(name="Facilitators", value=", ".join(facilitators) or "none")
        embed.add_field(name="Time zone", value=found.timezone or "not set")
        for name, value in await self.bot.group_info_extras(found, now):
            embed.add_field(name=name, value=value)
        found_resources = find_resources(member.guild, found)
        view: discord.ui.View | None = None
        missing = found_resources.missing()
        if missing:
            embed.add_field(
                name="Needs repair",
                value=f"Deleted by hand: {', '.join(missing)}.",
                inline=False,
            )
            if await is_facilitator(self.bot, member, found):
                view = discord.ui.View(timeout=None)
                view.add_item(RecreateButton(found.id))
        await reply(interaction, embed=embed, view=view)

    @group.command(name="list", description="The groups of this server")
    async def list_groups(self, interaction: discord.Interaction) -> None:
        member = guild_member(interaction)
        groups = await self.bot.storage.groups.list_for_guild(member.guild.id)
        if not groups:
            await reply(interaction, "There are no groups yet. Start one with `/group create`.")
            return
        counts = await self.bot.storage.groups.member_counts(member.guild.id)
        lines = []
        for found in groups:
            count = counts.get(found.id, 0)
            state = (
                "archived"
                if found.archived
                else ("full" if count >= found.capacity else f"{found.capacity - count} seats free")
            )
            lines.append(f"**{found.name}** · {count}/{found.capacity} · {state}")
        chunks = chunk_lines(lines, DESCRIPTION_LIMIT - 40)
        description = chunks[0]
        if len(chunks) > 1:
            shown = description.count("\n") + 1
            description += f"\n… and {len(lines) - shown} more: type in `/group info` to find one."
        embed = discord.Embed(title="Mastermind groups", description=description)
        await reply(interaction, embed=embed)

    @group.command(name="archive", description="Archive a group: read-only channels (moderators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def archive(self, interaction: discord.Interaction, group: str) -> None:
        actor = guild_member(interaction)
        found = await resolve_group(interaction, group)
        await require_moderator(self.bot, actor)
        require_active(found)
        require_bot_permissions(actor.guild, "manage_roles", "manage_channels")
        await defer(interaction)
        await self.bot.before_group_archived(found)
        await self.bot.storage.groups.archive(found.id, self.bot.clock())
        archived = await self.bot.storage.groups.get(found.id)
        assert archived is not None
        settings = await self.bot.storage.guilds.settings(actor.guild.id)
        await apply_permissions(
            actor.guild, archived, settings, reason=f"archived by {actor} ({actor.id})"
        )
        await self._audit(actor, "group.archive", found.name)
        await reply(
            interaction, f"Archived **{found.name}**: its channels are read-only; data is kept."
        )

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """Someone left the server: free their seats, and keep every group led."""
        storage = self.bot.storage.groups
        for group_id in await storage.remove_user_from_guild(payload.guild_id, payload.user.id):
            promoted = await storage.promote_if_leaderless(group_id)
            group = await storage.get(group_id)
            guild = self.bot.get_guild(payload.guild_id)
            if promoted is None or group is None or guild is None or group.archived:
                continue
            text = find_resources(guild, group).text
            if text is None:
                continue
            try:
                await text.send(
                    f"<@{payload.user.id}> left the server, so <@{promoted}> is now a "
                    f"facilitator of **{group.name}**.",
                    allowed_mentions=NO_PINGS,
                )
            except discord.HTTPException:
                log.warning("could not tell group %s about its new facilitator", group_id)

    async def _add(
        self,
        interaction: discord.Interaction,
        group: Group,
        member: discord.Member,
        *,
        added_by: discord.Member | None,
    ) -> None:
        require_active(group)
        if member.bot:
            raise UserError("Bots cannot be members of a group.")
        you = "You are" if added_by is None else f"{member.mention} is"
        if await self.bot.storage.groups.membership(group.id, member.id) is not None:
            raise UserError(f"{you} already in **{group.name}**.")
        found = find_resources(member.guild, group)
        require_resources(group, found)
        require_bot_permissions(member.guild, "manage_roles")
        assert found.role is not None
        promoted = await add_member(self.bot, group, member, found.role)
        lead = " They are its facilitator now." if promoted == member.id else ""
        if added_by is not None:
            await self._audit(added_by, "group.add", f"{group.name}: {member.mention}")
            await reply(interaction, f"Added {member.mention} to **{group.name}**.{lead}")
        else:
            where = f" Its channel is {found.text.mention}." if found.text else ""
            lead = " The group had no facilitator: you are it now." if lead else ""
            await reply(interaction, f"Welcome to **{group.name}**!{where}{lead}")

    async def _remove(
        self,
        interaction: discord.Interaction,
        group: Group,
        member: discord.Member,
        *,
        removed_by: discord.Member | None,
    ) -> None:
        membership = await self.bot.storage.groups.membership(group.id, member.id)
        if membership is None:
            who = "You are" if removed_by is None else f"{member.mention} is"
            raise UserError(f"{who} not a member of **{group.name}**.")
        memberships = await self.bot.storage.groups.members(group.id)
        facilitators = [m for m in memberships if m.is_facilitator]
        if membership.is_facilitator and len(facilitators) == 1 and len(memberships) > 1:
            raise UserError(
                f"{member.mention} is the last facilitator of **{group.name}**. Make someone "
                "else facilitator first with `/group facilitator`."
            )
        found = find_resources(member.guild, group)
        has_role = found.role is not None and found.role in member.roles
        if has_role:
            # Checked before anything changes, so a refusal leaves the membership as it was.
            require_bot_permissions(member.guild, "manage_roles")
        await self.bot.storage.groups.remove_member(group.id, member.id)
        if has_role and found.role is not None:
            try:
                await member.remove_roles(found.role, reason=f"left {group.name}")
            except BaseException:
                await self.bot.storage.groups.restore_member(membership)
                raise
        if removed_by is not None:
            await self._audit(removed_by, "group.remove", f"{group.name}: {member.mention}")
            await reply(interaction, f"Removed {member.mention} from **{group.name}**.")
        else:
            await reply(interaction, f"You left **{group.name}**.")
