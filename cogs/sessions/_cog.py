"""`/session` commands and the Discord events a live session listens to.

Thin: every decision is the core's (`core.session`); this module turns slash commands,
voice-state changes and audit-log entries into commands for the session runner
(`_runner.py`), which commits them and has their effects delivered.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.common.access import (
    group_autocomplete,
    guild_member,
    is_facilitator,
    require_active,
    require_facilitator,
    resolve_group,
)
from cogs.common.audit import record_if_moderating
from cogs.common.forms import resume_orphan_form
from cogs.common.replies import defer, reply
from cogs.sessions._runner import SessionRunner
from cogs.sessions._stick import (
    foreign_mute_change,
)
from core.errors import UserError
from core.models import Group
from core.outbox import voice_key
from core.session import (
    Command,
    End,
    Extend,
    Format,
    HandsOff,
    Joined,
    Left,
    Move,
    Next,
    Order,
    Pause,
    Resume,
    SessionState,
    Skip,
    Stick,
    default_config,
)

if TYPE_CHECKING:
    from bot import MastermindBot

log = logging.getLogger(__name__)

NOTE_FORM_ID = re.compile(r"mm:session:notemodal:(?P<session_id>\d+)")
TIMER_KIND = "session"
RETRY = 5
"""Seconds before a timer whose work failed unexpectedly runs again."""
NOTE_KINDS = ("resource", "referral", "insight")
NOTE_MAX = 1000


class SessionsCog(commands.Cog):
    session = app_commands.Group(
        name="session", description="Run a live Mastermind session", guild_only=True
    )

    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot
        self.service = bot.sessions
        self.runner = SessionRunner(bot)
        self.keeper = self.runner.keeper
        self.mutes = self.runner.mutes

    async def cog_load(self) -> None:
        await self.runner.load()
        self.bot.session_runner = self.runner
        self.bot.hooks.archive.add(self, self.runner.end_for_archive)
        self.bot.hooks.group_info.add(self, self._info_fields)

    async def cog_unload(self) -> None:
        self.runner.unload()
        self.bot.hooks.remove(self)
        if self.bot.session_runner is self.runner:
            self.bot.session_runner = None

    async def _info_fields(self, group: Group, now: datetime) -> list[tuple[str, str]]:
        held = await self.bot.storage.sessions.count_for_group(group.id)
        fields = [("Sessions held", str(held))]
        if self.service.session_for_group(group.id) is not None:
            fields.append(("Live now", "A session is running."))
        return fields

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A note form opened before a restart, submitted after it."""

        async def save(match: re.Match[str], values: dict[str, str]) -> None:
            await self.runner.add_note_from_form(
                interaction,
                int(match["session_id"]),
                values.get("kind", ""),
                values.get("text", ""),
            )

        await resume_orphan_form(interaction, self.bot.open_forms, NOTE_FORM_ID, save, "note form")

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Members' messages push the panel up too (no content is read: none is needed)."""
        await self.keeper.on_message(message)

    # -- voice ------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        if before.channel == after.channel:
            if after.channel is not None and before.mute != after.mute:
                await self._mute_changed(member, after.channel, after.mute)
            return
        now = self.bot.clock()
        # Arriving muted by someone else makes that mute theirs; a mute the bot still owes
        # the undoing of is its own.
        muted = after.mute
        if after.channel is not None:
            await self.bot.storage.sessions.record_voice_join(
                member.guild.id, member.id, after.channel.id, now
            )
            owed = voice_key(member.guild.id, member.id)
            if await self.bot.storage.outbox.waiting(owed):
                await self.bot.outbox.release(owed)
                muted = False
        else:
            await self.bot.storage.sessions.forget_voice_join(member.guild.id, member.id)
        for channel, joined in ((before.channel, False), (after.channel, True)):
            found = await self._live_in(channel)
            if found is None:
                continue
            group, state = found
            is_member = await self.bot.storage.groups.membership(group.id, member.id) is not None
            # Someone outside the group muted when the stick went on is released too.
            if not is_member and (joined or member.id not in state.bot_mutes):
                continue
            command: Command = Joined(member.id, muted=muted) if joined else Left(member.id)
            try:
                await self.runner.run(state.session_id, command, group=group)
            except UserError:
                continue

    async def _live_in(
        self, channel: discord.abc.Connectable | None
    ) -> tuple[Group, SessionState] | None:
        """The group whose voice channel this is, and its live session."""
        if not isinstance(channel, discord.abc.GuildChannel):
            return None
        group = await self.bot.storage.groups.by_channel(channel.id)
        if group is None or group.voice_channel_id != channel.id:
            return None
        state = self.service.session_for_group(group.id)
        return None if state is None else (group, state)

    async def _mute_changed(
        self, member: discord.Member, channel: discord.abc.Connectable, mute: bool
    ) -> None:
        """A server mute changed in voice: unless the bot asked for it, it is someone else's,
        and the bot leaves that member's mute alone for the rest of the session."""
        if member.bot or self.mutes.is_own(member.guild.id, member.id, mute):
            return
        found = await self._live_in(channel)
        if found is None:
            return
        group, state = found
        with contextlib.suppress(UserError):
            # The session ended, or another process applied the same change first.
            await self.runner.run(state.session_id, HandsOff(member.id), group=group)

    @commands.Cog.listener()
    async def on_audit_log_entry_create(self, entry: discord.AuditLogEntry) -> None:
        """The audit log names who changed a mute: a change by anyone but the bot is theirs,
        even if it looked like one the bot asked for (both at once)."""
        me = self.bot.user
        target_id = foreign_mute_change(entry, me.id if me else 0)
        if target_id is None:
            return
        member = entry.guild.get_member(target_id)
        if member is None or member.bot:
            return
        channel = member.voice.channel if member.voice else None
        found = await self._live_in(channel)
        if found is None:
            return
        group, state = found
        if target_id not in state.hands_off:
            with contextlib.suppress(UserError):
                await self.runner.run(state.session_id, HandsOff(target_id), group=group)

    # -- commands ---------------------------------------------------------------------------

    async def _live(
        self, interaction: discord.Interaction, group_name: str | None
    ) -> tuple[discord.Member, Group, SessionState]:
        member = guild_member(interaction)
        group = await resolve_group(interaction, group_name)
        state = self.service.session_for_group(group.id)
        if state is None:
            raise UserError(f"**{group.name}** has no live session. `/session start` starts one.")
        await self.runner.require_participant(member, group)
        return member, group, state

    @session.command(name="start", description="Start a session in the group's voice channel")
    @app_commands.describe(
        group="The group",
        format="standard, roundrobin or hotseat",
        turn_minutes="Minutes per turn (hot seat, or round-robin turn)",
        hotseats="How many hot seats (standard format)",
        order="fair, random or joined",
    )
    @app_commands.choices(
        format=[app_commands.Choice(name=f.value, value=f.value) for f in Format],
        order=[app_commands.Choice(name=o.value, value=o.value) for o in Order],
    )
    @app_commands.autocomplete(group=group_autocomplete)
    async def start(
        self,
        interaction: discord.Interaction,
        group: str,
        format: str = Format.STANDARD.value,
        turn_minutes: app_commands.Range[int, 1, 60] | None = None,
        hotseats: app_commands.Range[int, 1, 8] | None = None,
        order: str = Order.FAIR.value,
    ) -> None:
        member = guild_member(interaction)
        found = await resolve_group(interaction, group)
        require_active(found)
        await require_facilitator(self.bot, member, found)
        if turn_minutes is None and format != Format.ROUNDROBIN.value:
            turn_minutes = (await self.bot.storage.guilds.settings(member.guild.id)).turn_minutes
        config = default_config(format, turn_minutes, hotseats, order)
        voice = member.guild.get_channel(found.voice_channel_id or 0)
        if not isinstance(voice, discord.VoiceChannel):
            raise UserError(
                f"The voice channel of **{found.name}** is gone; recreate it from `/group info`."
            )
        if not member.guild.chunked:
            # The talking stick and the panel need the members in voice; after a reconnect the
            # member cache may still be empty. Fetching it may take a moment.
            await defer(interaction)
            await member.guild.chunk()
        members = {m.user_id for m in await self.bot.storage.groups.members(found.id)}
        now = self.bot.clock()
        # The voice states, not `voice.members`: those need the member cache, which may not
        # be filled yet after a reconnect.
        joined_at = await self.bot.storage.sessions.voice_joins(voice.id)
        present = [
            (user_id, joined_at.get(user_id, now))
            for user_id in voice.voice_states
            if user_id in members
        ]
        if not present:
            raise UserError(
                f"Nobody from **{found.name}** is in {voice.mention} yet; start when people "
                "have joined the voice channel."
            )
        transition = await self.runner.start(
            found,
            started_by=member.id,
            config=config,
            present=present,
            seed=secrets.randbits(32),
        )
        await reply(
            interaction,
            f"Started a **{config.format.value}** session with {len(present)} people.",
        )
        await record_if_moderating(
            self.bot, member, found, "session.start", f"{found.name}: {config.format.value}"
        )
        log.info("session %s started in group %s", transition.state.session_id, found.id)

    async def _control(
        self,
        interaction: discord.Interaction,
        group: str | None,
        make: Callable[[int, bool], Command],
        confirmation: str,
        action: str,
    ) -> None:
        """A control the speaker or a facilitator may use; the core decides who may."""
        member, found, state = await self._live(interaction, group)
        facilitator = await is_facilitator(self.bot, member, found)
        await self.runner.run(
            state.session_id,
            make(member.id, facilitator),
            group=found,
            interaction=interaction,
            confirmation=confirmation,
        )
        await self.runner.audit_control(
            member, found, state, action, confirmation.rstrip(".").lower()
        )

    @session.command(name="next", description="End the current turn and move on")
    @app_commands.autocomplete(group=group_autocomplete)
    async def next_turn(self, interaction: discord.Interaction, group: str | None = None) -> None:
        await self._control(interaction, group, Next, "Moved on.", "next")

    @session.command(name="extend", description="Give the current turn more time")
    @app_commands.autocomplete(group=group_autocomplete)
    async def extend(
        self,
        interaction: discord.Interaction,
        minutes: app_commands.Range[int, 1, 15] = 2,
        group: str | None = None,
    ) -> None:
        await self._control(
            interaction,
            group,
            lambda actor, facilitator: Extend(actor, facilitator, minutes * 60),
            f"Added {minutes} min.",
            "extend",
        )

    @session.command(name="pause", description="Pause the clock")
    @app_commands.autocomplete(group=group_autocomplete)
    async def pause(self, interaction: discord.Interaction, group: str | None = None) -> None:
        await self._control(interaction, group, Pause, "Paused.", "pause")

    @session.command(name="resume", description="Resume the clock")
    @app_commands.autocomplete(group=group_autocomplete)
    async def resume(self, interaction: discord.Interaction, group: str | None = None) -> None:
        await self._control(interaction, group, Resume, "Resumed.", "resume")

    @session.command(name="skip", description="Skip someone's turn (facilitators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def skip(
        self, interaction: discord.Interaction, member: discord.Member, group: str | None = None
    ) -> None:
        actor, found, state = await self._live(interaction, group)
        await require_facilitator(self.bot, actor, found)
        await self.runner.run(
            state.session_id,
            Skip(member.id),
            group=found,
            interaction=interaction,
            confirmation=f"Skipped {member.mention}.",
        )
        await record_if_moderating(
            self.bot, actor, found, "session.skip", f"{found.name}: {member.mention}"
        )

    @session.command(name="move", description="Move someone in the queue (facilitators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def move(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        position: app_commands.Range[int, 1, 50],
        group: str | None = None,
    ) -> None:
        actor, found, state = await self._live(interaction, group)
        await require_facilitator(self.bot, actor, found)
        await self.runner.run(
            state.session_id,
            Move(member.id, position),
            group=found,
            interaction=interaction,
            confirmation=f"Moved {member.mention} to position {position}.",
        )
        await record_if_moderating(
            self.bot,
            actor,
            found,
            "session.move",
            f"{found.name}: {member.mention} to position {position}",
        )

    @session.command(name="hand", description="Raise or lower your hand to respond")
    @app_commands.autocomplete(group=group_autocomplete)
    async def hand(self, interaction: discord.Interaction, group: str | None = None) -> None:
        member, found, state = await self._live(interaction, group)
        await self.runner.toggle_hand(interaction, member, found, state)

    @session.command(name="note", description="Record a resource, referral or insight")
    @app_commands.describe(
        kind="resource, referral or insight",
        text="The note",
        for_member="Who it is for (default: whoever holds the floor)",
    )
    @app_commands.choices(kind=[app_commands.Choice(name=k, value=k) for k in NOTE_KINDS])
    @app_commands.autocomplete(group=group_autocomplete)
    async def note(
        self,
        interaction: discord.Interaction,
        kind: str,
        text: str,
        for_member: discord.Member | None = None,
        group: str | None = None,
    ) -> None:
        member, _, state = await self._live(interaction, group)
        target = for_member.id if for_member else state.floor_holder()
        await self.runner.save_note(interaction, member, state, kind, text, target)

    @session.command(name="talkingstick", description="Mute everyone but the floor holder")
    @app_commands.autocomplete(group=group_autocomplete)
    async def talkingstick(
        self, interaction: discord.Interaction, enabled: bool, group: str | None = None
    ) -> None:
        member, found, state = await self._live(interaction, group)
        await require_facilitator(self.bot, member, found)
        voice = member.guild.get_channel(found.voice_channel_id or 0)
        if not isinstance(voice, discord.VoiceChannel):
            raise UserError(f"The voice channel of **{found.name}** is gone.")
        if enabled and not voice.permissions_for(member.guild.me).mute_members:
            raise UserError(
                f"I need the Mute Members permission in {voice.mention} for the talking stick; "
                "it stays off."
            )
        if enabled == state.stick:
            raise UserError(f"The talking stick is already {'on' if enabled else 'off'}.")
        states = voice.voice_states
        in_voice = [user_id for user_id in states if not _is_bot(member.guild, user_id)]
        muted = [user_id for user_id, voice_state in states.items() if voice_state.mute]
        await self.runner.run(
            state.session_id,
            Stick(enabled, in_voice, [m for m in muted if m not in state.bot_mutes]),
            group=found,
            interaction=interaction,
            confirmation=f"Talking stick {'on' if enabled else 'off'}.",
        )
        await record_if_moderating(
            self.bot,
            member,
            found,
            "session.talkingstick",
            f"{found.name}: {'on' if enabled else 'off'}",
        )

    @session.command(name="status", description="Post the session panel again at the bottom")
    @app_commands.autocomplete(group=group_autocomplete)
    async def status(self, interaction: discord.Interaction, group: str | None = None) -> None:
        _, found, state = await self._live(interaction, group)
        old = await self.runner.panel_location(state.session_id)
        await reply(interaction, "Here is the panel.")
        await self.runner.post_panel(found, state)
        if old is not None:
            channel = self.bot.get_channel(old[0])
            if isinstance(channel, discord.TextChannel):
                try:
                    await channel.get_partial_message(old[1]).delete()
                except discord.HTTPException:
                    log.info("old panel of session %s already gone", state.session_id)

    @session.command(name="end", description="End the session (facilitators)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def end(self, interaction: discord.Interaction, group: str | None = None) -> None:
        member, found, state = await self._live(interaction, group)
        await require_facilitator(self.bot, member, found)
        await self.runner.run(
            state.session_id,
            End(),
            group=found,
            interaction=interaction,
            confirmation="Session ended.",
        )
        await record_if_moderating(self.bot, member, found, "session.end", found.name)


def _is_bot(guild: discord.Guild, user_id: int) -> bool:
    member = guild.get_member(user_id)
    return user_id == guild.me.id or (member is not None and member.bot)
