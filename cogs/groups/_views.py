"""Buttons of the groups feature; they keep working after a restart."""

from __future__ import annotations

import re
from typing import Any

import discord

from cogs.common.access import (
    bot_of,
    guild_member,
    require_bot_permissions,
    require_facilitator,
)
from cogs.common.audit import record_action
from cogs.common.errors import GuardedButton
from cogs.common.replies import defer, reply
from cogs.groups._channels import find_resources, repair_resources
from core.errors import UserError


class RecreateButton(
    GuardedButton,
    template=r"mm:group:recreate:(?P<group_id>\d+)",
):
    def __init__(self, group_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Recreate role and channels",
                style=discord.ButtonStyle.primary,
                custom_id=f"mm:group:recreate:{group_id}",
            )
        )
        self.group_id = group_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> RecreateButton:
        return cls(int(match["group_id"]))

    async def pressed(self, interaction: discord.Interaction) -> None:
        await self._recreate(interaction)

    async def _recreate(self, interaction: discord.Interaction) -> None:
        bot = bot_of(interaction)
        member = guild_member(interaction)
        group = await bot.storage.groups.get(self.group_id)
        if group is None or group.guild_id != member.guild.id:
            raise UserError("That group no longer exists.")
        await require_facilitator(bot, member, group)
        missing = find_resources(member.guild, group).missing()
        if not missing:
            await reply(interaction, f"Nothing of **{group.name}** is missing any more.")
            return
        require_bot_permissions(member.guild, "manage_roles", "manage_channels")
        await defer(interaction)
        settings = await bot.storage.guilds.settings(member.guild.id)
        made = await repair_resources(
            member.guild, group, settings, reason=f"recreated by {member} ({member.id})"
        )
        assert made.role and made.category and made.text and made.voice
        await bot.storage.groups.set_discord_ids(
            group.id,
            role_id=made.role.id,
            category_id=made.category.id,
            text_channel_id=made.text.id,
            voice_channel_id=made.voice.id,
        )
        for membership in await bot.storage.groups.members(group.id):
            person = member.guild.get_member(membership.user_id)
            if person is not None and made.role not in person.roles:
                await person.add_roles(made.role, reason=f"member of {group.name}")
        await record_action(bot, member, "group.recreate", f"{group.name}: {', '.join(missing)}")
        await reply(
            interaction,
            f"Recreated the {', '.join(missing)} of **{group.name}**: {made.text.mention}.",
        )
