"""`/schedule` commands and the hooks that tie schedules to the rest of the bot."""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.common.access import (
    group_autocomplete,
    guild_member,
    is_moderator,
    require_active,
    require_bot_permissions,
    require_facilitator,
    resolve_group,
)
from cogs.common.audit import record_action
from cogs.common.replies import defer, reply
from cogs.profiles import timezone_autocomplete
from cogs.schedule._keeper import (
    EVENT_DELETE_KIND,
    EVENT_KIND,
    NOTICE_KIND,
    REMINDER_KIND,
    SCOPE_PREFIX,
    TIMER_KIND,
    ScheduleKeeper,
)
from cogs.schedule._render import event_url, schedule_text, slots_text, when
from core.errors import UserError
from core.groups import channel_slug
from core.models import Group
from core.schedule import (
    DEFAULT_DURATION_MINUTES,
    MemberHours,
    Recurrence,
    calendar_ics,
    discord_timestamp,
    find_slots,
    format_recurrence,
    make_recurrence,
    occurrences,
    upcoming_meeting,
)
from core.schedule.model import Schedule
from core.schedule.reminders import escape_markdown
from core.timeparse import DEFAULT_HOURS, WEEKDAYS, parse_hours

if TYPE_CHECKING:
    from bot import MastermindBot

SHOWN_MEETINGS = 3


async def weekday_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    needle = current.strip().lower()
    return [
        app_commands.Choice(name=day.title(), value=day.title())
        for day in WEEKDAYS
        if day.startswith(needle)
    ]


def no_schedule(group: Group) -> UserError:
    return UserError(
        f"**{escape_markdown(group.name)}** has no meeting schedule. A facilitator can set one "
        "with `/schedule set`."
    )


class ScheduleCog(commands.Cog):
    schedule = app_commands.Group(
        name="schedule",
        description="Meeting schedule, reminders, calendar and finding a time",
        guild_only=True,
    )

    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot
        self.keeper = ScheduleKeeper(bot)

    async def cog_load(self) -> None:
        self.bot.timers.register(TIMER_KIND, self.keeper.on_timer, rearm=self._check_all)
        self.bot.outbox.register(
            REMINDER_KIND,
            self.keeper.deliver_reminder,
            permission="Send Messages",
            what="post the meeting reminder",
        )
        self.bot.outbox.register(
            EVENT_KIND,
            self.keeper.deliver_event,
            permission="Manage Events",
            what="make the meeting's Discord event",
        )
        self.bot.outbox.register(
            EVENT_DELETE_KIND,
            self.keeper.deliver_delete,
            permission="Manage Events",
            what="delete an old meeting's Discord event",
        )
        self.bot.outbox.register(
            NOTICE_KIND, self.keeper.deliver_notice, what="post the schedule change"
        )
        self.bot.outbox.register_collapse(SCOPE_PREFIX, self.keeper.collapse)
        self.bot.hooks.group_info.add(self, self._info)
        self.bot.hooks.archive.add(self, self._archived)

    async def cog_unload(self) -> None:
        self.bot.timers.unregister(TIMER_KIND)
        for kind in (REMINDER_KIND, EVENT_KIND, EVENT_DELETE_KIND, NOTICE_KIND):
            self.bot.outbox.unregister(kind)
        self.bot.outbox.unregister_collapse(SCOPE_PREFIX)
        self.bot.hooks.remove(self)

    # ------------------------------------------------------------------ hooks

    async def _check_all(self) -> None:
        """At start-up: look at every schedule as soon as the timers run, so a missing event
        is made again and a reminder that fell due while the bot was down is handled."""
        now = self.bot.clock()
        for schedule in await self.bot.storage.schedules.all(self.bot.shard_set):
            self.bot.timers.schedule(TIMER_KIND, schedule.group_id, now)

    async def _info(self, group: Group, now: datetime) -> list[tuple[str, str]]:
        schedule = await self.bot.storage.schedules.get(group.id)
        if schedule is None:
            return []
        skipped = await self.bot.storage.schedules.skipped(group.id)
        upcoming = upcoming_meeting(schedule.recurrence, now, skipped)
        if upcoming is None:
            return []
        return [("Next meeting", discord_timestamp(upcoming, "F"))]

    async def _archived(self, group: Group) -> None:
        await self.keeper.clear(group.id)

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        await self.keeper.event_gone(event.id)

    @commands.Cog.listener()
    async def on_scheduled_event_update(
        self, before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        cancelled = discord.EventStatus.cancelled
        if after.status is cancelled and before.status is not cancelled:
            await self.keeper.event_gone(after.id)

    # ------------------------------------------------------------------ helpers

    async def _schedule_of(self, group: Group) -> Schedule:
        found = await self.bot.storage.schedules.get(group.id)
        if found is None:
            raise no_schedule(group)
        return found

    # ------------------------------------------------------------------ commands

    @schedule.command(name="set", description="Set the group's recurring meeting (facilitators)")
    @app_commands.describe(
        group="The group",
        weekday="The day of the week, e.g. Tuesday",
        time="Start time, 24-hour HH:MM, in the group's time zone",
        every_weeks="Meet every 1-4 weeks (default 1)",
        duration="Length in minutes, 30-240 (default 90)",
        timezone="The meeting's time zone (default: the group's), e.g. America/Toronto",
    )
    @app_commands.autocomplete(
        group=group_autocomplete, weekday=weekday_autocomplete, timezone=timezone_autocomplete
    )
    async def set_schedule(
        self,
        interaction: discord.Interaction,
        group: str,
        weekday: str,
        time: str,
        every_weeks: int = 1,
        duration: int = DEFAULT_DURATION_MINUTES,
        timezone: str | None = None,
    ) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        require_active(found)
        await require_facilitator(self.bot, member, found)
        zone = timezone or found.timezone
        if not zone:
            raise UserError(
                f"**{escape_markdown(found.name)}** has no time zone yet: give the meeting's "
                "zone with the `timezone` option, e.g. `America/Toronto`."
            )
        rec = make_recurrence(weekday, time, every_weeks, duration, zone, self.bot.clock())
        self.check_can_schedule(member.guild, found)
        await defer(interaction)
        event_id, first, changed = await self.apply_schedule(found, member, rec)
        verb = "Changed" if changed else "Set"
        lines = [
            f"{verb} the schedule of **{escape_markdown(found.name)}**: {format_recurrence(rec)}."
        ]
        if first is not None:
            lines.append(f"Next meeting: {when(first)}.")
        if event_id is not None:
            lines.append(f"Discord event: {event_url(member.guild.id, event_id)}")
        else:
            lines.append("I could not create the Discord event yet; I will keep trying.")
        lines.append("Reminders will be posted in the group's channel 24 h and 15 min before.")
        await reply(interaction, "\n".join(lines))

    def check_can_schedule(self, guild: discord.Guild, group: Group) -> None:
        """Refuse before anything changes when the event cannot be made."""
        voice = guild.get_channel(group.voice_channel_id) if group.voice_channel_id else None
        if not isinstance(voice, discord.VoiceChannel):
            raise UserError(
                f"The voice channel of **{escape_markdown(group.name)}** was deleted; a "
                "facilitator can recreate it from `/group info`, then set the schedule."
            )
        require_bot_permissions(guild, "manage_events")

    async def apply_schedule(
        self, group: Group, member: discord.Member, rec: Recurrence
    ) -> tuple[int | None, datetime | None, bool]:
        """Store the recurrence (with the outbox row that makes the Discord event), record the
        action and tell the group: what `/schedule set` does, for other features too. Returns
        the event's id, the first meeting, and whether an earlier schedule was replaced."""
        now = self.bot.clock()
        repo = self.bot.storage.schedules
        previous = await repo.get(group.id)
        first = upcoming_meeting(rec, now, await repo.skipped(group.id))
        effects = [self.keeper.event_effect(group, refresh=True)]
        if first is not None:
            verb = "changed" if previous is not None else "set"
            text = (
                f"📅 {member.mention} {verb} the meeting schedule: "
                f"{format_recurrence(rec)}. Next meeting: {when(first)}."
            )
            effects.append(self.keeper.notice_effect(group, text))
        await repo.put(
            group_id=group.id,
            guild_id=member.guild.id,
            recurrence=rec,
            set_by=member.id,
            now=now,
            effects=effects,
        )
        event = await self.keeper.sync(group.id)
        await record_action(
            self.bot, member, "schedule.set", f"{group.name}: {format_recurrence(rec)}"
        )
        return event, first, previous is not None

    @schedule.command(name="show", description="The group's schedule and next three meetings")
    @app_commands.autocomplete(group=group_autocomplete)
    async def show(self, interaction: discord.Interaction, group: str) -> None:
        guild_member(interaction)
        found = await resolve_group(interaction, group)
        schedule = await self._schedule_of(found)
        now = self.bot.clock()
        skipped = await self.bot.storage.schedules.skipped(found.id)
        upcoming = occurrences(schedule.recurrence, now, SHOWN_MEETINGS, skipped)
        future_skips = sorted(s for s in skipped if s > now)
        await reply(interaction, schedule_text(found.name, schedule, upcoming, future_skips))

    @schedule.command(name="skip", description="Skip the next meeting (facilitators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def skip(self, interaction: discord.Interaction, group: str) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        require_active(found)
        await require_facilitator(self.bot, member, found)
        schedule = await self._schedule_of(found)
        repo = self.bot.storage.schedules
        now = self.bot.clock()
        skipped = await repo.skipped(found.id)
        target = upcoming_meeting(schedule.recurrence, now, skipped)
        if target is None:
            raise UserError("There is no upcoming meeting to skip.")
        await defer(interaction)
        following = upcoming_meeting(schedule.recurrence, now, skipped | {target})
        then = f" The next one is {when(following)}." if following is not None else ""
        notice = (
            f"📅 {member.mention} skipped the meeting of {discord_timestamp(target, 'F')}.{then}"
        )
        await repo.skip(
            found.id,
            target,
            now=now,
            effects=[
                self.keeper.event_effect(found, replace=True),
                self.keeper.notice_effect(found, notice),
            ],
        )
        await self.keeper.sync(found.id)
        await record_action(
            self.bot, member, "schedule.skip", f"{found.name}: {target.isoformat()}"
        )
        await reply(
            interaction,
            f"Skipped the meeting of {discord_timestamp(target, 'F')}; no reminders will be "
            f"posted for it.{then}",
        )

    @schedule.command(name="clear", description="Delete the schedule and its event (facilitators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def clear(self, interaction: discord.Interaction, group: str) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        await require_facilitator(self.bot, member, found)
        await self._schedule_of(found)
        await defer(interaction)
        notice = self.keeper.notice_effect(
            found, f"📅 {member.mention} cleared the meeting schedule."
        )
        await self.keeper.clear(found.id, notice)
        await record_action(self.bot, member, "schedule.clear", found.name)
        await reply(
            interaction,
            f"Cleared the schedule of **{escape_markdown(found.name)}**: its Discord event is "
            "deleted and no more reminders will be posted.",
        )

    @schedule.command(name="calendar", description="An .ics file with the recurring meeting")
    @app_commands.autocomplete(group=group_autocomplete)
    async def calendar(self, interaction: discord.Interaction, group: str) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        schedule = await self._schedule_of(found)
        now = self.bot.clock()
        skipped = await self.bot.storage.schedules.skipped(found.id)
        voice = member.guild.get_channel(found.voice_channel_id) if found.voice_channel_id else None
        location = f"Discord: {member.guild.name} · {voice.name}" if voice is not None else ""
        data = calendar_ics(
            schedule.recurrence,
            found.name,
            found.description or f"Mastermind group meeting of {found.name}.",
            f"{found.guild_id}:{found.id}",
            skipped=skipped,
            stamp=now,
            location=location,
            sequence=await self.bot.storage.schedules.calendar_sequence(found.id),
        )
        await reply(
            interaction,
            f"The meetings of **{escape_markdown(found.name)}** "
            f"({format_recurrence(schedule.recurrence)}). Open the file to add them to your "
            "calendar; import it again after a change and the entry is updated.",
            file=discord.File(io.BytesIO(data), filename=f"{channel_slug(found.name)}.ics"),
        )

    @schedule.command(name="findtime", description="Weekly times that suit the most members")
    @app_commands.describe(group="The group", duration="Meeting length in minutes (default 90)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def findtime(
        self, interaction: discord.Interaction, group: str, duration: int = DEFAULT_DURATION_MINUTES
    ) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        groups = self.bot.storage.groups
        if await groups.membership(found.id, member.id) is None and not await is_moderator(
            self.bot, member
        ):
            raise UserError(
                f"Only members of **{escape_markdown(found.name)}** and moderators can look "
                "for a meeting time."
            )
        memberships = await groups.members(found.id)
        if len(memberships) < 2:
            raise UserError(
                f"**{escape_markdown(found.name)}** has {len(memberships)} member; finding a "
                "time needs at least two."
            )
        schedule = await self.bot.storage.schedules.get(found.id)
        zone = found.timezone or (schedule.recurrence.timezone if schedule else None)
        ids = [m.user_id for m in memberships]
        profiles = await self.bot.storage.profiles.many(ids)
        hours: list[MemberHours] = []
        no_profile: list[int] = []
        no_zone: list[int] = []
        no_hours: list[int] = []
        for user_id in ids:
            profile = profiles.get(user_id)
            if profile is None:
                no_profile.append(user_id)
                hours.append(MemberHours(user_id))
                continue
            if not profile.timezone:
                no_zone.append(user_id)
            if not profile.hours:
                no_hours.append(user_id)
            hours.append(
                MemberHours(
                    user_id,
                    profile.timezone,
                    parse_hours(profile.hours) if profile.hours else None,
                )
            )
        group_zone = zone or "UTC"
        slots = find_slots(hours, group_zone, duration, self.bot.clock())

        def people(user_ids: list[int]) -> str:
            return ", ".join(f"<@{u}>" for u in user_ids)

        notes: list[str] = []
        if zone is None:
            notes.append(
                f"**{escape_markdown(found.name)}** has no time zone, so its times are in UTC."
            )
        if no_profile:
            notes.append(
                f"No profile yet for {people(no_profile)}: counted as {DEFAULT_HOURS} in "
                f"{group_zone}. `/profile set timezone hours` makes this exact."
            )
        if no_zone:
            notes.append(f"No time zone set by {people(no_zone)}: taken to be {group_zone}.")
        if no_hours:
            notes.append(f"No hours set by {people(no_hours)}: counted as {DEFAULT_HOURS}.")
        await reply(
            interaction,
            slots_text(found.name, group_zone, duration, slots, len(ids), notes),
        )
