"""`/mastermind`: server set-up and help."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import privacy as privacy_actions
from cogs.common.access import guild_member
from cogs.common.audit import record_action
from cogs.common.replies import defer, reply
from cogs.groups._channels import apply_permissions
from core.errors import UserError
from core.models import GuildSettings

if TYPE_CHECKING:
    from bot import MastermindBot

HELP_TEXT = """\
**How a Mastermind meeting runs**
Your group (4–8 people) meets in its own voice channel, and the bot keeps time. Everyone \
checks in briefly; then one or two people take the *hot seat*: they present a challenge, \
answer questions, then hear advice. At the end each person names their next steps. The bot \
tells you when it is your turn and warns you a minute before your time is up.

**Getting started**
• `/group list` shows the groups; `/group join` joins one; `/group create` starts your own.
• `/profile set` shares your career stage, time zone and usual hours.

**In a meeting** (type `/` in your group's channel to see the commands)
• A facilitator runs `/session start`; the buttons under the panel do the rest.
• **Raise hand** to give advice in someone's hot seat; **Add note** (or `/session note`) \
saves a resource or referral for the speaker.

**After a meeting**
• Rate it with one click, or with `/feedback give`; **Add details** records resources, \
referrals and your next steps.
• `/nextsteps list` shows your next steps and `/nextsteps done` ticks one off; they come \
back at the next check-in.

**Schedule**: `/schedule set` books the regular meeting; `/schedule show` lists the next \
ones in your own time.

**Reports**: facilitators use `/report session` and `/report group` (figures, a chart and \
CSV files); moderators also `/report program`.

**Cohorts**: moderators open sign-ups with `/cohort open`; people press **Join cohort**; \
`/cohort form` proposes groups with a weekly time inside everyone's hours, and one press \
creates them.

**Your data**: `/mastermind privacy export` sends you everything stored about you; \
`/mastermind privacy delete` erases it.

**Facilitators** add and remove members (`/group add`, `/group remove`). **Moderators** \
(Manage Server, or the role set with `/mastermind setup`) can manage every group.

Replies meant only for you are shown only to you. The bot never pings @everyone."""


class AdminCog(commands.Cog):
    mastermind = app_commands.Group(
        name="mastermind", description="Set-up, privacy and help", guild_only=True
    )
    privacy = app_commands.Group(
        name="privacy", description="Your own data: export it or delete it", parent=mastermind
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
        tidy_sessions="Delete the bot's announcements and warnings when a session ends",
    )
    async def setup_command(
        self,
        interaction: discord.Interaction,
        moderator_role: discord.Role | None = None,
        log_channel: discord.TextChannel | None = None,
        turn_minutes: app_commands.Range[int, 1, 60] | None = None,
        feedback_days: app_commands.Range[int, 1, 30] | None = None,
        identified_exports: bool | None = None,
        tidy_sessions: bool | None = None,
    ) -> None:
        actor = guild_member(interaction)
        if not actor.guild_permissions.manage_guild:
            raise UserError("Only someone with the Manage Server permission can run set-up.")
        changes: dict[str, Any] = {}
        if moderator_role is not None:
            if moderator_role.is_default() or moderator_role.managed:
                raise UserError(
                    f"{moderator_role.mention} cannot be the moderator role: pick a role people "
                    "are given, not @everyone or a bot's own role."
                )
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
        if tidy_sessions is not None:
            changes["tidy_sessions"] = tidy_sessions
        previous = await self.bot.storage.guilds.settings(actor.guild.id)
        settings = await self.bot.storage.guilds.update_settings(actor.guild.id, changes)
        notes: list[str] = []
        if settings.moderator_role_id != previous.moderator_role_id:
            notes.extend(await self._share_groups_with_moderators(interaction, actor, settings))
        if changes:
            detail = ", ".join(_describe(key, value) for key, value in changes.items())
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
        embed.add_field(
            name="After a session",
            value="announcements tidied away" if settings.tidy_sessions else "everything kept",
        )
        text = "Saved." if changes else "Current settings:"
        await reply(interaction, " ".join([text, *notes]), embed=embed)

    async def _share_groups_with_moderators(
        self, interaction: discord.Interaction, actor: discord.Member, settings: GuildSettings
    ) -> list[str]:
        """Moderators see every group's channels: give the new moderator role (and take the old
        one) the overwrites on the channels of the groups that already exist."""
        groups = await self.bot.storage.groups.list_for_guild(actor.guild.id)
        if not groups:
            return []
        me = actor.guild.me.guild_permissions
        if not (me.manage_roles and me.manage_channels):
            return [
                "I could not let the moderator role see the existing groups' channels: I need "
                "the Manage Roles and Manage Channels permissions."
            ]
        await defer(interaction)
        failed: list[str] = []
        for group in groups:
            try:
                await apply_permissions(
                    actor.guild, group, settings, reason=f"moderator role set by {actor}"
                )
            except discord.HTTPException:
                failed.append(group.name)
        if failed:
            return [f"I could not update the channels of: {', '.join(failed)}."]
        return []

    @privacy.command(name="export", description="Everything stored about you, as a JSON file")
    async def privacy_export(self, interaction: discord.Interaction) -> None:
        await privacy_actions.export_data(interaction)

    @privacy.command(name="delete", description="Delete your data (asks for a confirmation)")
    async def privacy_delete(self, interaction: discord.Interaction) -> None:
        await privacy_actions.ask_delete(interaction)

    @mastermind.command(name="help", description="How Mastermind works")
    async def help_command(self, interaction: discord.Interaction) -> None:
        await reply(interaction, HELP_TEXT)


def _describe(key: str, value: Any) -> str:
    if key == "moderator_role_id":
        return f"moderator role <@&{value}>"
    if key == "log_channel_id":
        return f"log channel <#{value}>"
    return f"{key.replace('_', ' ')} {value}"


async def setup(bot: MastermindBot) -> None:
    await bot.add_cog(AdminCog(bot))
