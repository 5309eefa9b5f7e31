"""Who may do what, and which group a command is about."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from core.errors import UserError
from core.models import Group

if TYPE_CHECKING:
    from bot import MastermindBot


def bot_of(interaction: discord.Interaction) -> MastermindBot:
    return cast("MastermindBot", interaction.client)


def guild_member(interaction: discord.Interaction) -> discord.Member:
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise UserError("This command only works inside a server.")
    return interaction.user


async def is_moderator(bot: MastermindBot, member: discord.Member) -> bool:
    if member.guild_permissions.manage_guild:
        return True
    settings = await bot.storage.guilds.settings(member.guild.id)
    return settings.moderator_role_id is not None and any(
        role.id == settings.moderator_role_id for role in member.roles
    )


async def require_moderator(bot: MastermindBot, member: discord.Member) -> None:
    if not await is_moderator(bot, member):
        raise UserError(
            "Only moderators can do that (Manage Server, or the moderator role "
            "set with `/mastermind setup`)."
        )


async def is_facilitator(bot: MastermindBot, member: discord.Member, group: Group) -> bool:
    membership = await bot.storage.groups.membership(group.id, member.id)
    if membership is not None and membership.is_facilitator:
        return True
    return await is_moderator(bot, member)


async def require_facilitator(bot: MastermindBot, member: discord.Member, group: Group) -> None:
    if not await is_facilitator(bot, member, group):
        raise UserError(f"Only a facilitator of **{group.name}** or a moderator can do that.")


async def resolve_group(interaction: discord.Interaction, name: str | None) -> Group:
    """The group named, or, when no name is given, the group whose channel this is."""
    member = guild_member(interaction)
    bot = bot_of(interaction)
    if name:
        group = await bot.storage.groups.by_name(member.guild.id, name)
        if group is None:
            raise UserError(
                f"There is no group called **{name}** here. `/group list` shows the groups."
            )
        return group
    if interaction.channel_id is not None:
        group = await bot.storage.groups.by_channel(interaction.channel_id)
        if group is not None and group.guild_id == member.guild.id:
            return group
    raise UserError("Which group? Name it, or use this command in the group's own channel.")


def require_active(group: Group) -> None:
    if group.archived:
        raise UserError(f"**{group.name}** is archived; its channels are read-only.")


async def group_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    groups = await bot_of(interaction).storage.groups.search(interaction.guild_id, current)
    return [app_commands.Choice(name=g.name, value=g.name) for g in groups]


def require_bot_permissions(guild: discord.Guild, *names: str) -> None:
    """Say which guild permission the bot lacks before trying, rather than failing halfway."""
    have = guild.me.guild_permissions
    missing = [name for name in names if not getattr(have, name)]
    if missing:
        pretty = " and ".join(name.replace("_", " ").title() for name in missing)
        raise UserError(
            f"I need the {pretty} permission for this. A server admin can grant it in "
            "Server Settings → Roles."
        )
