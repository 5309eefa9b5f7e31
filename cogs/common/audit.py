"""Moderator and facilitator actions: recorded in the audit table, echoed to the log channel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from cogs.common.access import is_moderator
from cogs.common.replies import NO_PINGS
from core.models import Group

if TYPE_CHECKING:
    from bot import MastermindBot

log = logging.getLogger(__name__)


async def record_action(
    bot: MastermindBot, actor: discord.Member, action: str, detail: str
) -> None:
    """Write the audit row first (it is the record); the log channel is a courtesy copy."""
    await bot.storage.guilds.audit(actor.guild.id, actor.id, action, detail, bot.clock())
    settings = await bot.storage.guilds.settings(actor.guild.id)
    if settings.log_channel_id is None:
        return
    channel = actor.guild.get_channel(settings.log_channel_id)
    if not isinstance(channel, discord.TextChannel):
        return
    try:
        await channel.send(f"`{action}` by {actor.mention}: {detail}", allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("could not post %s to the log channel of guild %s", action, actor.guild.id)


async def record_if_moderating(
    bot: MastermindBot, actor: discord.Member, group: Group, action: str, detail: str
) -> None:
    """Record an action a moderator took on a group they do not facilitate (ending, skipping,
    reordering its session...): that is a moderator action, logged like every other. A
    facilitator running their own group's session is not logged."""
    membership = await bot.storage.groups.membership(group.id, actor.id)
    if membership is not None and membership.is_facilitator:
        return
    if await is_moderator(bot, actor):
        await record_action(bot, actor, action, detail)
