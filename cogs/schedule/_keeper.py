"""Keeps each group's schedule true on Discord: one scheduled event for the next meeting, and
the reminders in the group's channel, each posted once.

Everything for one group runs under that group's lock, from the timer, a command, the
start-up check or the event-deleted listener alike, so two of them never create two events.
The database is updated before anything is deleted on Discord, so the bot's own deletions
are never taken for deletions by hand.

Reminders go through the outbox: the record "this reminder is sent" and the row that posts
it are one transaction, so a crash or a failing POST never loses one (the row is retried, its
create carrying the same nonce) and never posts one twice. A row held up past the time of the
next reminder, or past the start of the meeting, is dropped: only the latest is posted.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from cogs.common.outbox import Delivery
from cogs.common.replies import NO_PINGS
from core.isotime import from_iso, to_iso
from core.models import Group
from core.outbox import OutboxRow, Outgoing
from core.schedule import (
    Recurrence,
    due_reminder,
    event_meeting,
    format_recurrence,
    is_occurrence,
    next_check,
    reminder_stale,
    reminder_text,
    skips_to_keep,
    superseded_reminders,
    upcoming_meeting,
)
from core.schedule.model import Schedule

if TYPE_CHECKING:
    from bot import MastermindBot

log = logging.getLogger(__name__)

TIMER_KIND = "schedule"
REMINDER_KIND = "schedule.reminder"
EVENT_KIND = "schedule.event"
EVENT_DELETE_KIND = "schedule.event_delete"
NOTICE_KIND = "schedule.notice"
SCOPE_PREFIX = "schedule:"
# When the event is not as it should be (its row waits for Discord, or the voice channel is
# gone), look again after:
RETRY = timedelta(minutes=15)
# ...or, when Discord refused the last event row (a permission the bot lacks, which the
# facilitators were told about once), after this: a refusal is not fixed in minutes, and
# asking every quarter of an hour only adds refused calls.
RETRY_REFUSED = timedelta(hours=6)
# Reminder records of meetings this long past are forgotten (skips stay: the .ics needs them).
KEEP_PAST = timedelta(days=1)
ALIVE = (discord.EventStatus.scheduled, discord.EventStatus.active)


def event_name(group: Group) -> str:
    return f"{group.name} · Mastermind meeting"[:100]


def event_description(group: Group, rec: Recurrence) -> str:
    return (
        f"{format_recurrence(rec)}. The meeting happens in this voice channel; reminders are "
        "posted in the group's text channel."
    )[:1000]


class ScheduleKeeper:
    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot
        self._locks: dict[int, asyncio.Lock] = {}

    def lock(self, group_id: int) -> asyncio.Lock:
        return self._locks.setdefault(group_id, asyncio.Lock())

    # ------------------------------------------------------------------ entry points

    async def on_timer(self, group_id: int, now: datetime) -> None:
        """The timer service's handler: a reminder or the end of a meeting is due."""
        async with self.lock(group_id):
            try:
                # Read the clock again: a command may have held the lock for a moment.
                await self.sync_locked(group_id, max(now, self.bot.clock()))
            except Exception:
                # Keep the schedule alive: look again later (the service logs the error).
                self.bot.timers.schedule(TIMER_KIND, group_id, self.bot.clock() + RETRY)
                raise

    async def sync(self, group_id: int) -> int | None:
        """Bring the group's reminders and timer up to date now and deliver its event rows
        (written with the change that needs them); returns the id of the event kept."""
        async with self.lock(group_id):
            await self.sync_locked(group_id, self.bot.clock())
        await self.bot.outbox.settled(scope_of(group_id))
        schedule = await self.bot.storage.schedules.get(group_id)
        return schedule.event_id if schedule is not None else None

    async def sync_locked(self, group_id: int, now: datetime) -> None:
        schedule = await self.bot.storage.schedules.get(group_id)
        group = await self.bot.storage.groups.get(group_id)
        if schedule is None or group is None or group.archived:
            self.bot.timers.schedule(TIMER_KIND, group_id, None)
            return
        repo = self.bot.storage.schedules
        rec = schedule.recurrence
        scope = scope_of(group_id)
        await repo.prune_reminders(group_id, now - KEEP_PAST)
        skipped = await repo.skipped(group_id)
        stale = skipped - skips_to_keep(rec, skipped)
        if stale:
            await repo.forget_skips(group_id, stale)
            skipped -= stale
        settled = self._event_current(group, schedule, event_meeting(rec, now, skipped), now)
        pending = any(r.kind == EVENT_KIND for r in await self.bot.storage.outbox.pending(scope))
        retry = now + RETRY
        if not settled and not pending:
            last = await self.bot.storage.outbox.latest(scope, EVENT_KIND)
            if (
                last is not None
                and last.state == "failed"
                and now < last.created_at + RETRY_REFUSED
            ):
                retry = last.created_at + RETRY_REFUSED
            else:
                await self.bot.storage.outbox.add([self.event_effect(group)], now)
        if pending or not settled:
            self.bot.outbox.kick(scope)

        upcoming = upcoming_meeting(rec, now, skipped)
        sent: frozenset[str] = frozenset()
        if upcoming is not None:
            sent = await repo.sent_reminders(group_id, upcoming)
            due = due_reminder(upcoming, now, sent, schedule.set_at)
            if due is not None:
                post = (due.send, self.reminder_effect(group, due.send, upcoming))
                claimed = await repo.claim_reminders(group_id, upcoming, due.kinds, now, post=post)
                sent = sent | claimed
                if due.send in claimed:
                    self.bot.outbox.kick(scope)
        due_at = next_check(rec, now, skipped, sent, schedule.set_at)
        if not settled:
            # Look again later: the event row may be waiting for Discord, or for a voice channel.
            due_at = retry if due_at is None else min(due_at, retry)
        self.bot.timers.schedule(TIMER_KIND, group_id, due_at)

    async def event_gone(self, event_id: int) -> None:
        """A scheduled event was deleted or cancelled on Discord. If it was the one kept for a
        schedule (not one the bot already replaced), make the meeting's event again."""
        schedule = await self.bot.storage.schedules.by_event(event_id)
        if schedule is None:
            return
        async with self.lock(schedule.group_id):
            if await self.bot.storage.schedules.forget_event(event_id) is None:
                return
            log.info("event %s of group %s was deleted by hand", event_id, schedule.group_id)
            await self.sync_locked(schedule.group_id, self.bot.clock())

    async def clear(self, group_id: int, notice: Outgoing | None = None) -> Schedule | None:
        """Delete the schedule (with its skips and reminder records) and, through the outbox
        in the same transaction, its Discord event (and the `notice` to the group, if any)."""

        def effects(found: Schedule) -> list[Outgoing]:
            rows = [] if notice is None else [notice]
            if found.event_id is not None:
                rows.insert(0, self.delete_effect(found.guild_id, group_id, found.event_id))
            return rows

        async with self.lock(group_id):
            removed = await self.bot.storage.schedules.delete(
                group_id, now=self.bot.clock(), effects=effects
            )
            self.bot.timers.schedule(TIMER_KIND, group_id, None)
        self.bot.outbox.kick(scope_of(group_id))
        await self.bot.outbox.settled(scope_of(group_id))
        return removed

    # ------------------------------------------------------------------ the event

    def event_effect(
        self, group: Group, *, replace: bool = False, refresh: bool = False
    ) -> Outgoing:
        """The row that makes the group's event show the meeting it should, as the schedule
        says when it is delivered. `replace` (a skipped meeting): a new event rather than the
        old one moved; `refresh` (the schedule was set): name and description rewritten."""
        return Outgoing(
            EVENT_KIND,
            scope_of(group.id),
            group.guild_id,
            {
                "group_id": group.id,
                "channel_id": group.voice_channel_id,
                "replace": replace,
                "refresh": refresh,
            },
        )

    def delete_effect(self, guild_id: int, group_id: int, event_id: int) -> Outgoing:
        return Outgoing(
            EVENT_DELETE_KIND,
            scope_of(group_id),
            guild_id,
            {"group_id": group_id, "event_id": event_id},
        )

    def _event_current(
        self, group: Group, schedule: Schedule, want: datetime | None, now: datetime
    ) -> bool:
        """From the gateway cache alone (no REST call): whether the event is as it should be.
        False sends an event row, whose delivery looks on Discord itself."""
        guild = self.bot.get_guild(group.guild_id)
        if want is None or guild is None:
            return True
        if schedule.event_id is None:
            return want <= now  # a meeting in progress without an event: nothing to make
        if schedule.event_start != want:
            return False
        event = guild.get_scheduled_event(schedule.event_id)
        if event is None or event.status not in ALIVE:
            return False
        voice = guild.get_channel(group.voice_channel_id) if group.voice_channel_id else None
        if event.status is discord.EventStatus.scheduled and isinstance(
            voice, discord.VoiceChannel
        ):
            return event.end_time == want + schedule.recurrence.duration and (
                event.channel_id == voice.id
            )
        return True

    async def deliver_event(self, delivery: Delivery) -> int | None:
        """The outbox handler: make the Discord event show the meeting in progress or the next
        one; returns its id. A failed Discord call raises, and the row is retried; after a
        crash between making an event and recording it, the one made is reused."""
        group_id = int(delivery.row.payload["group_id"])
        replace = bool(delivery.row.payload.get("replace"))
        refresh = bool(delivery.row.payload.get("refresh"))
        async with self.lock(group_id):
            schedule = await self.bot.storage.schedules.get(group_id)
            group = await self.bot.storage.groups.get(group_id)
            if schedule is None or group is None or group.archived:
                return None
            skipped = await self.bot.storage.schedules.skipped(group_id)
            return await self._ensure_event(
                group, schedule, skipped, self.bot.clock(), replace=replace, refresh=refresh
            )

    async def deliver_delete(self, delivery: Delivery) -> int | None:
        """The outbox handler: delete an event the schedule no longer keeps (or end one that
        is live and over). Idempotent: an event already gone is done."""
        row = delivery.row
        guild = self.bot.get_guild(row.guild_id)
        if guild is None:
            return None
        event = await self._fetch(guild, int(row.payload["event_id"]))
        try:
            if event is not None and event.status is discord.EventStatus.scheduled:
                await event.delete(reason="no longer the group's next meeting")
            elif event is not None and event.status is discord.EventStatus.active:
                await event.end(reason="the meeting is over")
        except discord.NotFound:
            return None
        return None

    async def _ensure_event(
        self,
        group: Group,
        schedule: Schedule,
        skipped: frozenset[datetime],
        now: datetime,
        *,
        replace: bool,
        refresh: bool,
    ) -> int | None:
        guild = self.bot.get_guild(group.guild_id)
        if guild is None:
            return None
        rec = schedule.recurrence
        want = event_meeting(rec, now, skipped)
        current = await self._fetch(guild, schedule.event_id)
        alive = current is not None and current.status in ALIVE
        if want is None:
            return current.id if current is not None else None
        end = want + rec.duration
        voice = guild.get_channel(group.voice_channel_id) if group.voice_channel_id else None
        if alive and current is not None and schedule.event_start == want:
            if current.status is discord.EventStatus.scheduled and isinstance(
                voice, discord.VoiceChannel
            ):
                stale = (
                    current.end_time != end
                    or current.channel_id != voice.id
                    or (
                        refresh
                        and (
                            current.name != event_name(group)
                            or (current.description or "") != event_description(group, rec)
                        )
                    )
                )
                if stale:
                    current = await self._edit(current, group, rec, want, voice)
            return current.id
        if want <= now:
            # The meeting is in progress and its event is gone: an event cannot start in the
            # past, so the next one is made when this meeting ends.
            return current.id if alive and current is not None else None
        if not isinstance(voice, discord.VoiceChannel):
            log.info("group %s has no voice channel; its event waits", group.id)
            return None
        upcoming = current is not None and current.status is discord.EventStatus.scheduled
        if alive and upcoming and not replace and current is not None:
            # Same event, new time: people who marked interest keep it.
            event = await self._edit(current, group, rec, want, voice)
            await self.bot.storage.schedules.set_event(group.id, event.id, want)
            return event.id
        orphan = self._orphan(guild, voice, schedule.event_id)
        if orphan is not None:
            event = await self._edit(orphan, group, rec, want, voice)
        else:
            event = await guild.create_scheduled_event(
                name=event_name(group),
                description=event_description(group, rec),
                start_time=want,
                end_time=end,
                channel=voice,
                entity_type=discord.EntityType.voice,
                privacy_level=discord.PrivacyLevel.guild_only,
                reason=f"next meeting of {group.name}",
            )
        # Recorded at once: a retry of this row finds it, and so does the listener, which
        # then does not take the old event's deletion for a deletion by hand.
        await self.bot.storage.schedules.set_event(group.id, event.id, want)
        if current is not None and current.id != event.id:
            over = current.end_time is not None and current.end_time <= now
            if current.status is discord.EventStatus.scheduled or (
                current.status is discord.EventStatus.active and over
            ):
                await self.bot.storage.outbox.add(
                    [self.delete_effect(group.guild_id, group.id, current.id)], now
                )
                self.bot.outbox.kick(scope_of(group.id))
        return event.id

    async def _edit(
        self,
        event: discord.ScheduledEvent,
        group: Group,
        rec: Recurrence,
        start: datetime,
        voice: discord.VoiceChannel,
    ) -> discord.ScheduledEvent:
        return await event.edit(
            name=event_name(group),
            description=event_description(group, rec),
            start_time=start,
            end_time=start + rec.duration,
            channel=voice,
            reason=f"meeting of {group.name}",
        )

    def _orphan(
        self, guild: discord.Guild, voice: discord.VoiceChannel, known: int | None
    ) -> discord.ScheduledEvent | None:
        """An event this bot made in the group's voice channel that the database does not
        know (the bot stopped between making it and recording it): reuse it, never add a
        second one."""
        me = self.bot.user
        for event in guild.scheduled_events:
            if (
                event.id != known
                and me is not None
                and event.creator_id == me.id
                and event.channel_id == voice.id
                and event.status is discord.EventStatus.scheduled
            ):
                return event
        return None

    async def _fetch(
        self, guild: discord.Guild, event_id: int | None
    ) -> discord.ScheduledEvent | None:
        if event_id is None:
            return None
        cached = guild.get_scheduled_event(event_id)
        if cached is not None:
            return cached
        try:
            return await guild.fetch_scheduled_event(event_id, with_counts=False)
        except discord.NotFound:
            return None

    # ------------------------------------------------------------------ notices

    def notice_effect(self, group: Group, text: str) -> Outgoing:
        """The row that tells the group, in its channel, that its schedule changed."""
        return Outgoing(
            NOTICE_KIND,
            scope_of(group.id),
            group.guild_id,
            {"group_id": group.id, "channel_id": group.text_channel_id, "text": text},
        )

    async def deliver_notice(self, delivery: Delivery) -> int | None:
        """The outbox handler: post a schedule change in the group's channel (pinging nobody)."""
        channel = self.bot.get_channel(int(delivery.row.payload.get("channel_id") or 0))
        if not isinstance(channel, discord.TextChannel):
            return None
        message = await channel.send(
            str(delivery.row.payload["text"]), allowed_mentions=NO_PINGS, nonce=delivery.nonce()
        )
        return message.id

    # ------------------------------------------------------------------ reminders

    def reminder_effect(self, group: Group, kind: str, starts_at: datetime) -> Outgoing:
        return Outgoing(
            REMINDER_KIND,
            scope_of(group.id),
            group.guild_id,
            {
                "group_id": group.id,
                "channel_id": group.text_channel_id,
                "kind": kind,
                "starts_at": to_iso(starts_at),
            },
        )

    async def deliver_reminder(self, delivery: Delivery) -> int | None:
        """The outbox handler: post a reminder, unless it no longer applies (the schedule was
        cleared or changed, the meeting skipped, or a later reminder has come)."""
        payload = delivery.row.payload
        group_id = int(payload["group_id"])
        kind = str(payload["kind"])
        starts_at = from_iso(payload["starts_at"])
        now = self.bot.clock()
        schedule = await self.bot.storage.schedules.get(group_id)
        group = await self.bot.storage.groups.get(group_id)
        if (
            schedule is None
            or group is None
            or group.archived
            or not is_occurrence(schedule.recurrence, starts_at)
            or starts_at in await self.bot.storage.schedules.skipped(group_id)
            or reminder_stale(kind, starts_at, now)
        ):
            log.info("group %s: the %s reminder of %s no longer applies", group_id, kind, starts_at)
            return None
        guild = self.bot.get_guild(group.guild_id)
        channel = (
            guild.get_channel(group.text_channel_id)
            if guild is not None and group.text_channel_id
            else None
        )
        if not isinstance(channel, discord.TextChannel):
            log.warning("group %s has no text channel for its %s reminder", group.id, kind)
            return None
        message = await channel.send(
            reminder_text(kind, starts_at, group.name),
            allowed_mentions=NO_PINGS,
            nonce=delivery.nonce(),
        )
        return message.id

    async def collapse(self, scope: str, rows: list[OutboxRow]) -> list[int]:
        """Before a backlog is delivered: only the latest reminder that still applies."""
        reminders = [
            (row.id, str(row.payload["kind"]), from_iso(row.payload["starts_at"]))
            for row in rows
            if row.kind == REMINDER_KIND
        ]
        return superseded_reminders(reminders, self.bot.clock())


def scope_of(group_id: int) -> str:
    """The outbox scope of a group's schedule: its reminders are delivered in order."""
    return f"{SCOPE_PREFIX}{group_id}"
