"""`/group` commands."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

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
from cogs.common.replies import defer, reply
from cogs.groups._channels import (
    GroupResources,
    create_resources,
    find_resources,
    set_archived_permissions,
)
from cogs.groups._views import RecreateButton
from cogs.profiles import timezone_autocomplete
from core import groups as rules
from core.errors import UserError
from core.models import Group, Membership, Profile
from core.timeparse import parse_timezone

if TYPE_CHECKING:
    from bot import MastermindBot


def require_resources(group: Group, found: GroupResources, *need: str) -> None:
    missing = [name for name in found.missing() if name in need]
    if missing:
        raise UserError(
            f"The {' and '.join(missing)} of **{group.name}** was deleted. A facilitator can "
            "recreate it from `/group info`."
        )


def local_time(now: datetime, zone: str | None) -> str:
    if not zone:
        return "time zone not set"
    return now.astimezone(ZoneInfo(zone)).strftime("%a %H:%M")


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
        clean = rules.clean_name(name)
        if rules.has_mass_mention(clean):
            raise UserError("A group name cannot contain @everyone, @here or a role mention.")
        text = rules.clean_description(description)
        rules.check_capacity(capacity)
        zone = parse_timezone(timezone).key if timezone else None
        if await self.bot.storage.groups.by_name(member.guild.id, clean) is not None:
            raise UserError(f"There is already a group called **{clean}** here.")
        require_bot_permissions(member.guild, "manage_roles", "manage_channels")
        await defer(interaction, ephemeral=False)
        settings = await self.bot.storage.guilds.settings(member.guild.id)
        made = await create_resources(
            member.guild, clean, settings, reason=f"group created by {member} ({member.id})"
        )
        assert made.role and made.category and made.text and made.voice
        try:
            group = await self.bot.storage.groups.create(
                guild_id=member.guild.id,
                name=clean,
                description=text,
                capacity=capacity,
                timezone=zone,
                role_id=made.role.id,
                category_id=made.category.id,
                text_channel_id=made.text.id,
                voice_channel_id=made.voice.id,
                created_by=member.id,
                now=self.bot.clock(),
            )
        except BaseException:
            for thing in (made.voice, made.text, made.category, made.role):
                await thing.delete(reason="group could not be saved")
            raise
        await member.add_roles(made.role, reason=f"created {group.name}")
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
        await self._audit(actor, "group.facilitator", f"{found.name}: {member.id}")
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
        embed.add_field(
            name=f"Members ({len(memberships)}/{found.capacity})",
            value="\n".join(lines) or "nobody yet",
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
        lines = []
        for found in groups:
            count = len(await self.bot.storage.groups.members(found.id))
            state = (
                "archived"
                if found.archived
                else ("full" if count >= found.capacity else f"{found.capacity - count} seats free")
            )
            lines.append(f"**{found.name}** · {count}/{found.capacity} · {state}")
        embed = discord.Embed(title="Mastermind groups", description="\n".join(lines))
        await reply(interaction, embed=embed)

    @group.command(name="archive", description="Archive a group: read-only channels (moderators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def archive(self, interaction: discord.Interaction, group: str) -> None:
        actor = guild_member(interaction)
        found = await resolve_group(interaction, group)
        await require_moderator(self.bot, actor)
        require_active(found)
        await defer(interaction)
        await self.bot.before_group_archived(found)
        await self.bot.storage.groups.archive(found.id, self.bot.clock())
        archived = await self.bot.storage.groups.get(found.id)
        assert archived is not None
        settings = await self.bot.storage.guilds.settings(actor.guild.id)
        await set_archived_permissions(
            actor.guild, archived, settings, reason=f"archived by {actor} ({actor.id})"
        )
        await self._audit(actor, "group.archive", found.name)
        await reply(
            interaction, f"Archived **{found.name}**: its channels are read-only; data is kept."
        )

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
        require_resources(group, found, "role")
        require_bot_permissions(member.guild, "manage_roles")
        added = await self.bot.storage.groups.add_member(
            group.id, member.id, self.bot.clock(), capacity=group.capacity
        )
        if not added:
            raise UserError(f"**{group.name}** is full ({group.capacity} members).")
        assert found.role is not None
        try:
            await member.add_roles(found.role, reason=f"joined {group.name}")
        except BaseException:
            await self.bot.storage.groups.remove_member(group.id, member.id)
            raise
        if added_by is not None:
            await self._audit(added_by, "group.add", f"{group.name}: {member.id}")
            await reply(interaction, f"Added {member.mention} to **{group.name}**.")
        else:
            where = f" Its channel is {found.text.mention}." if found.text else ""
            await reply(interaction, f"Welcome to **{group.name}**!{where}")

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
        await self.bot.storage.groups.remove_member(group.id, member.id)
        if found.role is not None and found.role in member.roles:
            require_bot_permissions(member.guild, "manage_roles")
            await member.remove_roles(found.role, reason=f"left {group.name}")
        if removed_by is not None:
            await self._audit(removed_by, "group.remove", f"{group.name}: {member.id}")
            await reply(interaction, f"Removed {member.mention} from **{group.name}**.")
        else:
            await reply(interaction, f"You left **{group.name}**.")
