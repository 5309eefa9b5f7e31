"""The Discord side of a group: its role, private category, text and voice channels.

Overwrites are set on the category and on each channel explicitly, with one for the bot itself,
rather than trusting channels to inherit them.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from core.groups import channel_slug
from core.models import Group, GuildSettings

# Discord lets the bot allow or deny in an overwrite only permissions it holds itself, so these
# name nothing beyond bot.REQUIRED_PERMISSIONS (speaking comes from the server's own settings).
MEMBER_ACCESS = discord.PermissionOverwrite(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    connect=True,
)
READ_ONLY = discord.PermissionOverwrite(
    view_channel=True,
    send_messages=False,
    read_message_history=True,
    connect=False,
)
BOT_ACCESS = discord.PermissionOverwrite(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    connect=True,
    mute_members=True,
    manage_channels=True,
    send_polls=True,
)
HIDDEN = discord.PermissionOverwrite(view_channel=False, connect=False)

Overwrites = dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]


@dataclass
class GroupResources:
    role: discord.Role | None
    category: discord.CategoryChannel | None
    text: discord.TextChannel | None
    voice: discord.VoiceChannel | None

    def missing(self) -> list[str]:
        names = []
        if self.role is None:
            names.append("role")
        if self.category is None:
            names.append("category")
        if self.text is None:
            names.append("text channel")
        if self.voice is None:
            names.append("voice channel")
        return names


def find_resources(guild: discord.Guild, group: Group) -> GroupResources:
    category = guild.get_channel(group.category_id) if group.category_id else None
    text = guild.get_channel(group.text_channel_id) if group.text_channel_id else None
    voice = guild.get_channel(group.voice_channel_id) if group.voice_channel_id else None
    return GroupResources(
        role=guild.get_role(group.role_id) if group.role_id else None,
        category=category if isinstance(category, discord.CategoryChannel) else None,
        text=text if isinstance(text, discord.TextChannel) else None,
        voice=voice if isinstance(voice, discord.VoiceChannel) else None,
    )


def moderator_roles(guild: discord.Guild, settings: GuildSettings) -> list[discord.Role]:
    """Roles whose holders moderate: the configured one and those with Manage Server."""
    own = set(guild.me.roles)
    roles = [
        role
        for role in guild.roles
        if role.permissions.manage_guild and not role.is_default() and role not in own
    ]
    configured = guild.get_role(settings.moderator_role_id) if settings.moderator_role_id else None
    if configured is not None and configured not in roles:
        roles.append(configured)
    return roles


def overwrites_for(
    guild: discord.Guild,
    role: discord.Role,
    settings: GuildSettings,
    *,
    archived: bool = False,
) -> Overwrites:
    access = READ_ONLY if archived else MEMBER_ACCESS
    overwrites: dict[
        discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite
    ] = {
        guild.default_role: HIDDEN,
        role: access,
    }
    for moderator_role in moderator_roles(guild, settings):
        overwrites[moderator_role] = access
    overwrites[guild.me] = BOT_ACCESS
    return overwrites


async def create_resources(
    guild: discord.Guild, name: str, settings: GuildSettings, *, reason: str
) -> GroupResources:
    """Create the role, category and channels; on failure delete whatever was made."""
    made: list[discord.abc.GuildChannel | discord.Role] = []
    try:
        role = await guild.create_role(name=name, mentionable=False, reason=reason)
        made.append(role)
        overwrites = overwrites_for(guild, role, settings)
        category = await guild.create_category(name, overwrites=overwrites, reason=reason)
        made.append(category)
        text = await guild.create_text_channel(
            channel_slug(name), category=category, overwrites=overwrites, reason=reason
        )
        made.append(text)
        voice = await guild.create_voice_channel(
            name, category=category, overwrites=overwrites, reason=reason
        )
        made.append(voice)
    except BaseException:
        await _delete_all(made)
        raise
    return GroupResources(role=role, category=category, text=text, voice=voice)


async def repair_resources(
    guild: discord.Guild, group: Group, settings: GuildSettings, *, reason: str
) -> GroupResources:
    """Recreate whatever of the group's role and channels was deleted by hand.

    Surviving channels get the overwrites again (a recreated role is a new role) and are put back
    in the category. If Discord refuses part-way, what this call made is deleted again."""
    found = find_resources(guild, group)
    made: list[discord.abc.GuildChannel | discord.Role] = []
    try:
        role = found.role
        if role is None:
            role = await guild.create_role(name=group.name, mentionable=False, reason=reason)
            made.append(role)
        overwrites = overwrites_for(guild, role, settings, archived=group.archived)
        category = found.category
        if category is None:
            category = await guild.create_category(group.name, overwrites=overwrites, reason=reason)
            made.append(category)
        text = found.text
        if text is None:
            text = await guild.create_text_channel(
                channel_slug(group.name), category=category, overwrites=overwrites, reason=reason
            )
            made.append(text)
        voice = found.voice
        if voice is None:
            voice = await guild.create_voice_channel(
                group.name, category=category, overwrites=overwrites, reason=reason
            )
            made.append(voice)
    except BaseException:
        await _delete_all(made)
        raise
    if found.role is None and found.category is not None:
        await found.category.edit(overwrites=overwrites, reason=reason)
    for kept in (found.text, found.voice):
        if kept is None:
            continue
        if found.role is None or kept.category_id != category.id:
            await kept.edit(category=category, overwrites=overwrites, reason=reason)
    return GroupResources(role=role, category=category, text=text, voice=voice)


async def _delete_all(made: list[discord.abc.GuildChannel | discord.Role]) -> None:
    for thing in reversed(made):
        try:
            await thing.delete(reason="undoing a group set-up that could not be finished")
        except discord.HTTPException:
            continue


async def apply_permissions(
    guild: discord.Guild, group: Group, settings: GuildSettings, *, reason: str
) -> bool:
    """Set the overwrites the group should have now (read-only once archived, the current
    moderator roles) on its category and channels. False when its role is gone."""
    found = find_resources(guild, group)
    if found.role is None:
        return False
    overwrites = overwrites_for(guild, found.role, settings, archived=group.archived)
    for channel in (found.category, found.text, found.voice):
        if channel is not None:
            await channel.edit(overwrites=overwrites, reason=reason)
    return True
