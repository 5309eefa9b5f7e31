"""`/mastermind`: server set-up and help."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.common.access import guild_member, require_moderator
from cogs.common.audit import record_action
from cogs.common.replies import reply
from core.errors import UserError

if TYPE_CHECKING:
    from bot import MastermindBot

HELP_TEXT = """\
**How a Mastermind meeting runs**
A group of 4–8 people meets in its own voice channel. Each person gets a timed turn; in a \
*hot seat* one person presents a challenge, answers clarifying questions, then listens to \
advice. The bot keeps time, says who is speaking, and collects what you learned.

**Getting started**
• `/group list` shows the groups; `/group join` joins one; `/group create` starts your own.
• `/profile set` tells others your career stage, time zone and usual hours.
• `/group info` shows who is in a group and their local time.

**Facilitators** add and remove members (`/group add`, `/group remove`) and share the role \
(`/group facilitator`).

**Moderators** (Manage Server, or the role set with `/mastermind setup`) can archive groups.

Every reply that is only for you is shown only to you. The bot never pings @everyone."""


class AdminCog(commands.Cog):
    mastermind = app_commands.Group(
        name="mastermind", description="Set-up, privacy and help", guild_only=True
    )

    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot

    @mastermind.command(name="setup", description="Configure Mastermind for this server")
    @app_commands.describe(
        moderator_role="Members with this role moderate every group",
        log_channel="Where moderator actions are logged",
        turn_minutes="Default hot-seat length in minutes (1-60)",
        feedback_days="How many days feedback stays open (1-30)",
        identified_exports="Name respondents in exports instead of pseudonyms",
    )
    async def setup_command(
        self,
        interaction: discord.Interaction,
        moderator_role: discord.Role | None = None,
        log_channel: discord.TextChannel | None = None,
        turn_minutes: app_commands.Range[int, 1, 60] | None = None,
        feedback_days: app_commands.Range[int, 1, 30] | None = None,
        identified_exports: bool | None = None,
    ) -> None:
        actor = guild_member(interaction)
        if not actor.guild_permissions.manage_guild:
            raise UserError("Only someone with the Manage Server permission can run set-up.")
        await require_moderator(self.bot, actor)
        changes: dict[str, Any] = {}
        if moderator_role is not None:
            if moderator_role.is_default() or moderator_role.managed:
                raise UserError(f"{moderator_role.mention} cannot be the moderator role.")
            changes["moderator_role_id"] = moderator_role.id
        if log_channel is not None:
            mine = log_channel.permissions_for(actor.guild.me)
            if not (mine.view_channel and mine.send_messages):
                raise UserError(
                    f"I cannot post in {log_channel.mention}; give me View Channel and Send "
                    "Messages there, or pick another channel."
                )
            changes["log_channel_id"] = log_channel.id
        if turn_minutes is not None:
            changes["turn_minutes"] = turn_minutes
        if feedback_days is not None:
            changes["feedback_days"] = feedback_days
        if identified_exports is not None:
            changes["identified_exports"] = identified_exports
        settings = await self.bot.storage.guilds.update_settings(actor.guild.id, changes)
        if changes:
            detail = ", ".join(f"{key}={value}" for key, value in changes.items())
            await record_action(self.bot, actor, "mastermind.setup", detail)
        role = f"<@&{settings.moderator_role_id}>" if settings.moderator_role_id else "none"
        channel = f"<#{settings.log_channel_id}>" if settings.log_channel_id else "none"
        embed = discord.Embed(title="Mastermind settings", colour=discord.Colour.dark_teal())
        embed.add_field(name="Moderator role", value=role)
        embed.add_field(name="Log channel", value=channel)
        embed.add_field(
            name="Default turn",
            value=f"{settings.turn_minutes} min" if settings.turn_minutes else "format default",
        )
        embed.add_field(name="Feedback open", value=f"{settings.feedback_days} days")
        embed.add_field(
            name="Exports", value="identified" if settings.identified_exports else "pseudonymous"
        )
        await reply(interaction, "Saved." if changes else "Current settings:", embed=embed)

    @mastermind.command(name="help", description="How Mastermind works")
    async def help_command(self, interaction: discord.Interaction) -> None:
        await reply(interaction, HELP_TEXT)


async def setup(bot: MastermindBot) -> None:
    await bot.add_cog(AdminCog(bot))
