"""Creating a group and adding a member, as `/group create` and `/group add` do; other
features (cohorts) call these too, so a group is made one way only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from cogs.common.access import require_bot_permissions
from cogs.groups._channels import GroupResources, create_resources
from core import groups as rules
from core.errors import DuplicateName, UserError
from core.models import Group
from core.timeparse import parse_timezone

if TYPE_CHECKING:
    from bot import MastermindBot


@dataclass(frozen=True)
class NewGroup:
    """What `/group create` was asked for, checked."""

    name: str
    description: str
    capacity: int
    timezone: str | None


async def check_new_group(
    bot: MastermindBot,
    guild: discord.Guild,
    name: str,
    description: str | None = None,
    capacity: int = rules.DEFAULT_CAPACITY,
    timezone: str | None = None,
) -> NewGroup:
    """Refuse a bad or taken name, capacity or zone, and a bot that cannot make channels,
    before anything is created."""
    clean = rules.clean_name(name)
    if rules.has_mass_mention(clean):
        raise UserError("A group name cannot contain @everyone, @here or a role mention.")
    text = rules.clean_description(description)
    rules.check_capacity(capacity)
    zone = parse_timezone(timezone).key if timezone else None
    if await bot.storage.groups.by_name(guild.id, clean) is not None:
        raise UserError(f"There is already a group called **{clean}** here.")
    require_bot_permissions(guild, "manage_roles", "manage_channels")
    return NewGroup(clean, text, capacity, zone)


async def create_group(
    bot: MastermindBot, creator: discord.Member, new: NewGroup, *, reason: str
) -> tuple[Group, GroupResources]:
    """The role, the private category and channels, the stored group with its creator as
    facilitator and member, and the creator's role. If saving fails, the channels go again."""
    guild = creator.guild
    settings = await bot.storage.guilds.settings(guild.id)
    made = await create_resources(guild, new.name, settings, reason=reason)
    assert made.role and made.category and made.text and made.voice
    try:
        group = await bot.storage.groups.create(
            guild_id=guild.id,
            name=new.name,
            description=new.description,
            capacity=new.capacity,
            timezone=new.timezone,
            role_id=made.role.id,
            category_id=made.category.id,
            text_channel_id=made.text.id,
            voice_channel_id=made.voice.id,
            created_by=creator.id,
            now=bot.clock(),
        )
    except BaseException as error:
        for thing in (made.voice, made.text, made.category, made.role):
            try:
                await thing.delete(reason="group could not be saved")
            except discord.HTTPException:
                continue
        if isinstance(error, DuplicateName):
            # Someone created a group of the same name a moment earlier.
            raise UserError(f"There is already a group called **{new.name}** here.") from None
        raise
    await creator.add_roles(made.role, reason=f"created {group.name}")
    return group, made


async def add_member(
    bot: MastermindBot, group: Group, member: discord.Member, role: discord.Role
) -> int | bool | None:
    """Store the membership (unless the group is full: False) and give the role; if Discord
    refuses the role, the membership is undone. Returns who became facilitator because the
    group had none (or None)."""
    added = await bot.storage.groups.add_member(
        group.id, member.id, bot.clock(), capacity=group.capacity
    )
    if not added:
        raise UserError(f"**{group.name}** is full ({group.capacity} members).")
    try:
        await member.add_roles(role, reason=f"joined {group.name}")
    except BaseException:
        await bot.storage.groups.remove_member(group.id, member.id)
        raise
    return await bot.storage.groups.promote_if_leaderless(group.id)
