"""`/profile`: career stage, institution, time zone, focus and usual hours."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.common.access import guild_member
from cogs.common.format import local_clock
from cogs.common.replies import reply
from core.errors import UserError
from core.models import CareerStage, Profile
from core.timeparse import (
    DEFAULT_HOURS,
    format_hours,
    parse_hours,
    parse_timezone,
    timezone_choices,
)

if TYPE_CHECKING:
    from bot import MastermindBot

TEXT_LIMIT = 100


async def timezone_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=name, value=name) for name in timezone_choices(current)]


def _short_text(label: str, value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    if len(text) > TEXT_LIMIT:
        raise UserError(f"{label} can be at most {TEXT_LIMIT} characters.")
    return text or None


def profile_embed(user: discord.abc.User, profile: Profile | None, now_text: str) -> discord.Embed:
    embed = discord.Embed(title=f"Profile of {user.display_name}", colour=discord.Colour.teal())
    if profile is None:
        embed.description = "No profile yet. `/profile set` fills it in."
        return embed
    embed.add_field(
        name="Career stage", value=profile.career_stage.value if profile.career_stage else "—"
    )
    embed.add_field(name="Institution", value=profile.institution or "—")
    embed.add_field(name="Time zone", value=profile.timezone or "—")
    embed.add_field(name="Local time", value=now_text)
    embed.add_field(name="Focus", value=profile.focus or "—")
    embed.add_field(name="Usual hours", value=profile.hours or f"{DEFAULT_HOURS} (default)")
    return embed


class ProfilesCog(commands.Cog):
    profile = app_commands.Group(
        name="profile", description="Your Mastermind profile", guild_only=True
    )

    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot

    @profile.command(name="set", description="Set parts of your profile")
    @app_commands.describe(
        career_stage="Where you are in your career",
        institution="Where you work or study",
        timezone="Your time zone, e.g. Europe/London",
        focus="What you are working on",
        hours="When you are usually available, local time, HH:MM-HH:MM",
    )
    @app_commands.choices(
        career_stage=[app_commands.Choice(name=s.value, value=s.value) for s in CareerStage]
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def set_profile(
        self,
        interaction: discord.Interaction,
        career_stage: str | None = None,
        institution: str | None = None,
        timezone: str | None = None,
        focus: str | None = None,
        hours: str | None = None,
    ) -> None:
        member = guild_member(interaction)
        changes: dict[str, str | None] = {}
        if career_stage is not None:
            try:
                changes["career_stage"] = CareerStage(career_stage).value
            except ValueError:
                stages = ", ".join(s.value for s in CareerStage)
                raise UserError(f"Career stage must be one of: {stages}.") from None
        if institution is not None:
            changes["institution"] = _short_text("Institution", institution)
        if timezone is not None:
            changes["timezone"] = parse_timezone(timezone).key
        if focus is not None:
            changes["focus"] = _short_text("Focus", focus)
        if hours is not None:
            changes["hours"] = format_hours(parse_hours(hours))
        if not changes:
            raise UserError("Give at least one field to set, for example `timezone`.")
        now = self.bot.clock()
        saved = await self.bot.storage.profiles.update(member.id, changes, now)
        await reply(
            interaction,
            "Saved your profile.",
            embed=profile_embed(member, saved, _local(saved, now)),
        )

    @profile.command(name="show", description="Show a profile")
    async def show(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        caller = guild_member(interaction)
        target = member or caller
        found = await self.bot.storage.profiles.get(target.id)
        await reply(
            interaction, embed=profile_embed(target, found, _local(found, self.bot.clock()))
        )


def _local(profile: Profile | None, now: datetime) -> str:
    return local_clock(now, profile.timezone if profile else None) or "—"


async def setup(bot: MastermindBot) -> None:
    await bot.add_cog(ProfilesCog(bot))
