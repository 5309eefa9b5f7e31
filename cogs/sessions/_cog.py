"""`/session` commands, the panel's buttons, voice presence and the session timer.

Thin: every decision is the core's (`core.session`); this module turns Discord events into
commands and the returned effects into messages, edits and server mutes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

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
from cogs.common.errors import handle_interaction_error
from cogs.common.forms import submitted_form
from cogs.common.replies import NO_PINGS, defer, reply
from cogs.sessions._channel import ChannelKeeper
from cogs.sessions._panel import announcement, namer, panel_embed, summary_message, warning
from cogs.sessions._stick import (
    MuteLedger,
    edit_mute,
    foreign_mute_change,
    foreign_mute_changes,
)
from cogs.sessions._views import NoteModal, panel_view
from core.errors import UserError
from core.models import Group
from core.session import (
    Announce,
    Command,
    Due,
    Effect,
    End,
    Ended,
    Extend,
    Format,
    HandsOff,
    Joined,
    Left,
    LowerHand,
    Move,
    Mute,
    Next,
    Order,
    PanelChanged,
    Pause,
    RaiseHand,
    Resume,
    SessionState,
    Skip,
    Stick,
    Unmute,
    Warn,
    default_config,
)
from core.session.service import Transition

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
        self._panels: dict[int, tuple[int, int]] = {}
        self._render_tail: dict[int, asyncio.Future[None]] = {}
        self.mutes = MuteLedger(bot.clock)
        self.keeper = ChannelKeeper(self)

    async def cog_load(self) -> None:
        self.bot.timers.register(TIMER_KIND, self._on_due, rearm=self._resume_live_sessions)
        await self.keeper.cog_load()
        self.bot.hooks.archive.add(self, self._end_for_archive)
        self.bot.hooks.group_info.add(self, self._info_fields)

    async def cog_unload(self) -> None:
        self.bot.timers.unregister(TIMER_KIND)
        self.keeper.cog_unload()
        self.bot.hooks.remove(self)

    # -- plumbing -------------------------------------------------------------------------

    def _arm(self, state: SessionState) -> None:
        self.bot.timers.schedule(TIMER_KIND, state.session_id, state.next_due())

    async def _group(self, state: SessionState) -> Group:
        group_id = self.service.group_of(state.session_id)
        if group_id is None:
            row = await self.bot.storage.sessions.get(state.session_id)
            if row is None:
                raise UserError("That session no longer exists.")
            group_id = row.group_id
        group = await self.bot.storage.groups.get(group_id)
        if group is None:
            raise UserError("That session's group no longer exists.")
        return group

    def _panel_embed(self, state: SessionState, group: Group) -> discord.Embed:
        return panel_embed(state, group.name, namer(self.bot.get_guild(group.guild_id)))

    async def _panel_location(self, session_id: int) -> tuple[int, int] | None:
        """(channel id, message id) of the session's panel, remembered after the first look:
        a hand-over must not reload the whole session just to find its panel."""
        if session_id not in self._panels:
            found = await self.bot.storage.sessions.panel_location(session_id)
            if found is None:
                return None
            self._panels[session_id] = found
        return self._panels[session_id]

    async def _run(
        self,
        session_id: int,
        command: Command,
        *,
        group: Group | None,
        interaction: discord.Interaction | None = None,
        confirmation: str | None = None,
    ) -> Transition:
        """Apply a command, persist it, answer the interaction, then render the effects.

        Without a group (a timer), the group is looked up only after the commit: when many
        deadlines fall together, the hand-overs are committed first."""
        transition = await self.service.command(session_id, command, self.bot.clock())
        self._arm(transition.state)
        if group is None:
            group = await self._group(transition.state)
        # Effects are rendered in the order the transitions happened (a timer hand-over and a
        # click in the same instant must not announce out of order); answering the click
        # does not wait for that.
        previous = self._render_tail.get(session_id)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._render_tail[session_id] = mine
        try:
            panel_done = False
            if interaction is not None:
                try:
                    panel_done = await self._answer(interaction, transition, group, confirmation)
                except discord.HTTPException as error:
                    # The command is saved: a lost answer must not also lose its effects.
                    log.warning("session %s: could not answer: %s", session_id, error)
            if previous is not None and not previous.done():
                await asyncio.shield(previous)
            await self.render(group, transition, panel_done=panel_done)
        finally:
            mine.set_result(None)
            if self._render_tail.get(session_id) is mine:
                del self._render_tail[session_id]
        return transition

    async def _answer(
        self,
        interaction: discord.Interaction,
        transition: Transition,
        group: Group,
        confirmation: str | None,
    ) -> bool:
        """Answer within the interaction's deadline; a press on the panel edits the panel in
        the same call. Returns True when the panel was updated that way."""
        panel = await self._panel_location(transition.state.session_id)
        on_panel = (
            interaction.type == discord.InteractionType.component
            and interaction.message is not None
            and panel is not None
            and interaction.message.id == panel[1]
        )
        changed = any(isinstance(e, PanelChanged) for e in transition.effects)
        if on_panel and changed and not interaction.response.is_done():
            await interaction.response.edit_message(
                embed=self._panel_embed(transition.state, group), view=panel_view(transition.state)
            )
            return True
        await reply(interaction, confirmation or "Done.")
        return False

    async def render(self, group: Group, transition: Transition, *, panel_done: bool) -> None:
        """Turn effects into Discord calls. The state is already saved, so a failed call is
        logged and skipped: it can neither stop nor repeat a hand-over."""
        guild = self.bot.get_guild(group.guild_id)
        if guild is None:
            return
        text = guild.get_channel(group.text_channel_id) if group.text_channel_id else None
        for effect in transition.effects:
            try:
                await self._render_one(guild, text, group, transition.state, effect, panel_done)
            except discord.HTTPException as error:
                log.warning(
                    "session %s: could not render %s: %s",
                    transition.state.session_id,
                    type(effect).__name__,
                    error,
                )
            except Exception:
                # A bug in one rendering (or in another feature's announcement extra) must not
                # keep the rest of the hand-over (mutes, panel) from happening.
                log.exception(
                    "session %s: rendering %s failed",
                    transition.state.session_id,
                    type(effect).__name__,
                )

    async def _render_one(
        self,
        guild: discord.Guild,
        text: object,
        group: Group,
        state: SessionState,
        effect: Effect,
        panel_done: bool,
    ) -> None:
        if isinstance(effect, Announce):
            if isinstance(text, discord.TextChannel):
                await self._announce(text, group, state, effect)
        elif isinstance(effect, Warn):
            if isinstance(text, discord.TextChannel):
                message = await text.send(
                    warning(effect.member_id, effect.deadline),
                    allowed_mentions=_only(effect.member_id),
                )
                await self.keeper.posted(state, message, "warning")
                if self.keeper.must_repost(state):
                    await self.keeper.repost(group, state)
        elif isinstance(effect, PanelChanged):
            coming = self.keeper.ahead(state)
            if self.keeper.must_repost(state, coming=coming):
                await self.keeper.repost(group, state, coming=coming)
            elif not panel_done:
                await self._update_panel(group, state)
        elif isinstance(effect, Mute | Unmute):
            await self._set_mute(guild, group, effect.member_id, isinstance(effect, Mute))
        elif isinstance(effect, Ended):
            await self._finish(group, state, text)

    async def _announce(
        self, text: discord.TextChannel, group: Group, state: SessionState, effect: Announce
    ) -> None:
        """One message per hand-over, with whatever other features add to it."""
        content = announcement(effect.member_id, effect.phase, effect.deadline)
        items: list[discord.ui.Item[Any]] = []
        follow_ups: list[tuple[str, list[discord.ui.Item[Any]]]] = []
        # Each extra is isolated: the announcement matters more than what others add to it.
        for parts in await self.bot.hooks.announce_extras.call_each(group, state, effect):
            if not parts:
                continue
            (more_text, more_items), *rest = parts
            if more_text:
                content += "\n" + more_text
            items.extend(more_items)
            follow_ups.extend(rest)
        if items:
            message = await text.send(
                content[:2000], allowed_mentions=_only(effect.member_id), view=_view(items)
            )
        else:
            message = await text.send(content[:2000], allowed_mentions=_only(effect.member_id))
        await self.keeper.posted(state, message, "announcement")
        for more_text, more_items in follow_ups:
            more = await text.send(
                more_text[:2000], allowed_mentions=NO_PINGS, view=_view(more_items)
            )
            await self.keeper.posted(state, more, "announcement")

    async def _update_panel(self, group: Group, state: SessionState) -> None:
        """Show the latest saved state, not necessarily `state`: an edit that lands after a
        newer transition's must not bring an older floor back."""
        panel = await self._panel_location(state.session_id)
        if panel is None:
            return
        channel = self.bot.get_channel(panel[0])
        if not isinstance(channel, discord.TextChannel):
            return
        latest = self.service.get(state.session_id) or state
        await channel.get_partial_message(panel[1]).edit(
            embed=self._panel_embed(latest, group),
            view=panel_view(latest),
            allowed_mentions=NO_PINGS,
        )

    async def _post_panel(self, group: Group, state: SessionState) -> discord.Message:
        guild = self.bot.get_guild(group.guild_id)
        channel = (
            guild.get_channel(group.text_channel_id) if guild and group.text_channel_id else None
        )
        if not isinstance(channel, discord.TextChannel):
            raise UserError(
                f"The text channel of **{group.name}** is gone; recreate it from `/group info`."
            )
        view = panel_view(state)
        embed = self._panel_embed(state, group)
        message = await (
            channel.send(embed=embed, view=view, allowed_mentions=NO_PINGS)
            if view is not None
            else channel.send(embed=embed, allowed_mentions=NO_PINGS)
        )
        await self.bot.storage.sessions.set_panel(state.session_id, channel.id, message.id)
        self._panels[state.session_id] = (channel.id, message.id)
        self.keeper.panel_posted(state.session_id, channel.id)
        return message

    async def _set_mute(
        self, guild: discord.Guild, group: Group, member_id: int, mute: bool
    ) -> None:
        """Mute or unmute; an unmute that cannot happen now (out of voice, or Discord refused)
        is owed and paid when the member is next in voice."""
        member = guild.get_member(member_id)
        in_voice = member is not None and member.voice is not None and member.voice.channel
        if member is None or not in_voice:
            if not mute:
                await self.bot.storage.sessions.owe_unmute(guild.id, member_id)
            return
        try:
            await edit_mute(self.mutes, member, mute, f"talking stick in {group.name}")
        except discord.HTTPException:
            if not mute:
                await self.bot.storage.sessions.owe_unmute(guild.id, member_id)
            raise

    async def _finish(self, group: Group, state: SessionState, text: object) -> None:
        """The summary, then whatever other features do at the end (feedback). The panel was
        already updated by the PanelChanged that comes with every end. Each step stands alone:
        one failing must not keep the others from happening. The tidy comes a little later."""
        self.keeper.session_ended(state)
        if isinstance(text, discord.TextChannel):
            notes = await self.bot.storage.sessions.notes(state.session_id)
            try:
                await text.send(
                    **summary_message(state, group.name, notes, self.bot.clock(), text.guild)
                )
            except discord.HTTPException as error:
                log.warning("session %s: could not post the summary: %s", state.session_id, error)
        await self.bot.hooks.session_end.call_each(group, state)

    # -- timer and start-up ------------------------------------------------------------------

    async def _on_due(self, session_id: int, now: datetime) -> None:
        state = self.service.get(session_id)
        if state is None:
            return
        try:
            await self._run(session_id, Due(), group=None)
        except UserError:
            log.info("session %s: nothing due", session_id)
        except Exception:
            # Nothing was saved (the store failed, say): try again shortly rather than leave
            # the session without a timer until the next restart.
            log.exception("session %s: the timer failed; retrying in %ss", session_id, RETRY)
            self.bot.timers.schedule(TIMER_KIND, session_id, now + timedelta(seconds=RETRY))

    async def _resume_live_sessions(self) -> None:
        """Adopt every live session, correct presence from who is really in voice, restore or
        release the talking stick's mutes, and re-arm the timers. Overdue work then runs once.

        The groups and their members are loaded for all sessions at once (three queries in
        all, not two per session), and each session is reconciled on its own: one failing
        keeps neither its timer nor the other sessions from being armed."""
        rows = await self.bot.storage.sessions.live()
        group_ids = [row.group_id for row in rows]
        groups = await self.bot.storage.groups.many(group_ids)
        members = await self.bot.storage.groups.member_ids(group_ids)
        for row in rows:
            self.service.adopt(row.state, row.group_id)
            group = groups.get(row.group_id)
            guild = self.bot.get_guild(row.guild_id)
            if group is None or guild is None:
                self._arm(row.state)
                continue
            try:
                await self.keeper.recount(row.id)
                if not guild.chunked:
                    # Who is in voice, and their Member objects, come from the member cache;
                    # right after connecting it may not be filled yet.
                    await guild.chunk()
                await self._reconcile(guild, group, row.state, members.get(group.id, set()))
            except Exception:
                log.exception("session %s: reconcile failed", row.id)
            current = self.service.get(row.id)
            if current is not None:
                self._arm(current)
        await self._pay_owed_unmutes()

    async def _pay_owed_unmutes(self) -> None:
        """Undo the talking-stick mutes still owed to people who are in voice right now (the
        others are paid when they next join a voice channel)."""
        for guild_id, user_id in await self.bot.storage.sessions.owed_unmutes():
            guild = self.bot.get_guild(guild_id)
            if guild is None:
                continue
            if not any(user_id in channel.voice_states for channel in guild.voice_channels):
                continue
            try:
                member = guild.get_member(user_id) or await guild.fetch_member(user_id)
            except discord.HTTPException:
                continue
            if await self.bot.storage.sessions.settle_unmute(guild_id, user_id):
                await self._pay_owed_unmute(member)

    async def _reconcile(
        self, guild: discord.Guild, group: Group, state: SessionState, members: set[int]
    ) -> None:
        channel = guild.get_channel(group.voice_channel_id) if group.voice_channel_id else None
        voice = channel if isinstance(channel, discord.VoiceChannel) else None
        # From the voice states, not `voice.members`, which needs the member cache.
        states = voice.voice_states if voice is not None else {}
        in_voice = set(states)
        commands_to_apply: list[Command] = []
        # Mutes someone else changed while the bot was away are theirs from now on. Without
        # the audit log there is no telling them from the bot's own edits that a crash cut
        # short, so those are made again.
        theirs = await foreign_mute_changes(guild, state.updated_at) if state.stick else None
        for member_id in sorted(theirs or ()):
            if member_id not in state.hands_off:
                commands_to_apply.append(HandsOff(member_id))
        for member_id in list(state.presence):
            if state.is_present(member_id) and member_id not in in_voice:
                commands_to_apply.append(Left(member_id))
        for member_id in state.bot_mutes:
            if member_id not in state.presence and member_id not in in_voice:
                commands_to_apply.append(Left(member_id))
        for member_id in sorted(in_voice & members):
            if not state.is_present(member_id):
                commands_to_apply.append(Joined(member_id, muted=states[member_id].mute))
        for command in commands_to_apply:
            try:
                await self._run(state.session_id, command, group=group)
            except UserError:
                continue
        current = self.service.get(state.session_id)
        if current is None:
            return
        for member_id in current.bot_mutes:
            member = guild.get_member(member_id)
            if member is None or member.voice is None or member.voice.channel != voice:
                continue
            if not member.voice.mute:
                try:
                    await edit_mute(self.mutes, member, True, "talking stick after restart")
                except discord.HTTPException as error:
                    log.warning("could not restore mute of %s: %s", member_id, error)

    async def _end_for_archive(self, group: Group) -> None:
        state = self.service.session_for_group(group.id)
        if state is not None:
            await self._run(state.session_id, End(), group=group)

    async def _info_fields(self, group: Group, now: datetime) -> list[tuple[str, str]]:
        held = await self.bot.storage.sessions.count_for_group(group.id)
        fields = [("Sessions held", str(held))]
        if self.service.session_for_group(group.id) is not None:
            fields.append(("Live now", "A session is running."))
        return fields

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A note form opened before a restart, submitted after it."""
        submitted = submitted_form(interaction)
        if submitted is None:
            return
        custom_id, values = submitted
        match = NOTE_FORM_ID.fullmatch(custom_id)
        if match is None or self.bot.open_forms.held(interaction.user.id, custom_id):
            return
        try:
            await self.add_note_from_form(
                interaction,
                int(match["session_id"]),
                values.get("kind", ""),
                values.get("text", ""),
            )
        except Exception as error:
            await handle_interaction_error(interaction, error, "note form")

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
            if await self.bot.storage.sessions.settle_unmute(member.guild.id, member.id):
                await self._pay_owed_unmute(member)
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
                await self._run(state.session_id, command, group=group)
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
        await self._run(state.session_id, HandsOff(member.id), group=group)

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
            await self._run(state.session_id, HandsOff(target_id), group=group)

    async def _pay_owed_unmute(self, member: discord.Member) -> bool:
        """Undo a talking-stick mute the bot could not undo earlier; False if it still can't."""
        try:
            await edit_mute(self.mutes, member, False, "undoing a talking-stick mute")
        except discord.HTTPException as error:
            log.warning("could not undo the mute of %s: %s", member.id, error)
            await self.bot.storage.sessions.owe_unmute(member.guild.id, member.id)
            return False
        return True

    # -- commands ---------------------------------------------------------------------------

    async def _live(
        self, interaction: discord.Interaction, group_name: str | None
    ) -> tuple[discord.Member, Group, SessionState]:
        member = guild_member(interaction)
        group = await resolve_group(interaction, group_name)
        state = self.service.session_for_group(group.id)
        if state is None:
            raise UserError(f"**{group.name}** has no live session. `/session start` starts one.")
        await self._require_participant(member, group)
        return member, group, state

    async def _require_participant(self, member: discord.Member, group: Group) -> None:
        if await self.bot.storage.groups.membership(group.id, member.id) is not None:
            return
        if await is_facilitator(self.bot, member, group):
            return
        raise UserError(f"Only members of **{group.name}** can use its session controls.")

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
        transition = await self.service.start(
            group_id=found.id,
            guild_id=member.guild.id,
            started_by=member.id,
            config=config,
            present=present,
            last_hotseat=await self.bot.storage.sessions.last_hotseats(found.id),
            seed=secrets.randbits(32),
            now=now,
        )
        self._arm(transition.state)
        await reply(
            interaction,
            f"Started a **{config.format.value}** session with {len(present)} people.",
        )
        await record_if_moderating(
            self.bot, member, found, "session.start", f"{found.name}: {config.format.value}"
        )
        try:
            await self._post_panel(found, transition.state)
        except discord.HTTPException as error:
            log.warning(
                "session %s: could not post the panel: %s", transition.state.session_id, error
            )
        await self.render(found, transition, panel_done=True)

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
        await self._run(
            state.session_id,
            make(member.id, facilitator),
            group=found,
            interaction=interaction,
            confirmation=confirmation,
        )
        await self._audit_control(member, found, state, action, confirmation.rstrip(".").lower())

    async def _audit_control(
        self,
        member: discord.Member,
        group: Group,
        before: SessionState,
        action: str,
        detail: str,
    ) -> None:
        """A moderator using a control on someone else's floor, in a group they do not
        facilitate, acted as a moderator: that is recorded. Their own floor is their own."""
        current = before.current()
        own = {before.floor_holder(), current.speaker_id if current else None}
        if member.id not in own:
            await record_if_moderating(
                self.bot, member, group, f"session.{action}", f"{group.name}: {detail}"
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
        await self._run(
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
        await self._run(
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
        await self._toggle_hand(interaction, member, found, state)

    async def _toggle_hand(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        group: Group,
        state: SessionState,
    ) -> None:
        raised = member.id in state.hands or (
            state.response is not None and state.response.member_id == member.id
        )
        command: Command = LowerHand(member.id) if raised else RaiseHand(member.id)
        await self._run(
            state.session_id,
            command,
            group=group,
            interaction=interaction,
            confirmation="Hand lowered." if raised else "Hand raised.",
        )

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
        await self._save_note(interaction, member, state, kind, text, target)

    async def _save_note(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        state: SessionState,
        kind: str,
        text: str,
        for_member_id: int | None,
    ) -> None:
        clean_kind = kind.strip().lower()
        if clean_kind not in NOTE_KINDS:
            raise UserError("A note's kind is `resource`, `referral` or `insight`.")
        body = text.strip()
        if not body:
            raise UserError("The note is empty.")
        if len(body) > NOTE_MAX:
            raise UserError(f"A note can be at most {NOTE_MAX} characters.")
        await self.bot.storage.sessions.add_note(
            state.session_id, member.id, for_member_id, clean_kind, body, self.bot.clock()
        )
        who = f" for <@{for_member_id}>" if for_member_id else ""
        await reply(interaction, f"Saved your {clean_kind}{who}.")

    async def add_note_from_form(
        self, interaction: discord.Interaction, session_id: int, kind: str, text: str
    ) -> None:
        member = guild_member(interaction)
        state = self.service.get(session_id)
        if state is None:
            raise UserError("That session has ended.")
        group = await self._group(state)
        await self._require_participant(member, group)
        await self._save_note(interaction, member, state, kind, text, state.floor_holder())

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
        await self._run(
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
        old = await self._panel_location(state.session_id)
        await reply(interaction, "Here is the panel.")
        await self._post_panel(found, state)
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
        await self._run(
            state.session_id,
            End(),
            group=found,
            interaction=interaction,
            confirmation="Session ended.",
        )
        await record_if_moderating(self.bot, member, found, "session.end", found.name)

    # -- panel buttons ----------------------------------------------------------------------

    async def on_panel_button(
        self, interaction: discord.Interaction, action: str, session_id: int
    ) -> None:
        member = guild_member(interaction)
        state = self.service.get(session_id)
        if state is None:
            raise UserError("This session has ended; its buttons no longer do anything.")
        group = await self._group(state)
        await self._require_participant(member, group)
        facilitator = await is_facilitator(self.bot, member, group)
        if action == "next":
            command: Command = Next(member.id, facilitator)
            done = ("next", "moved on")
        elif action == "extend":
            command = Extend(member.id, facilitator, 120)
            done = ("extend", "added 2 min")
        elif action == "pause":
            if state.is_paused():
                command, done = Resume(member.id, facilitator), ("resume", "resumed")
            else:
                command, done = Pause(member.id, facilitator), ("pause", "paused")
        elif action == "hand":
            await self._toggle_hand(interaction, member, group, state)
            return
        elif action == "note":
            modal = NoteModal(session_id)
            await interaction.response.send_modal(modal)
            self.bot.open_forms.opened(interaction.user.id, str(modal.custom_id))
            return
        elif action == "end":
            await require_facilitator(self.bot, member, group)
            await self._run(session_id, End(), group=group, interaction=interaction)
            await record_if_moderating(self.bot, member, group, "session.end", group.name)
            return
        else:
            raise UserError("Unknown button.")
        await self._run(session_id, command, group=group, interaction=interaction)
        await self._audit_control(member, group, state, *done)


def _is_bot(guild: discord.Guild, user_id: int) -> bool:
    member = guild.get_member(user_id)
    return user_id == guild.me.id or (member is not None and member.bot)


def _view(items: list[discord.ui.Item[Any]]) -> discord.ui.View:
    """Persistent buttons for an announcement (Discord takes at most 25, five rows)."""
    view = discord.ui.View(timeout=None)
    for item in items[:25]:
        view.add_item(item)
    return view


def _only(member_id: int) -> discord.AllowedMentions:
    """Ping exactly the floor holder: never roles, @everyone or anyone else."""
    return discord.AllowedMentions(
        everyone=False, roles=False, replied_user=False, users=[discord.Object(id=member_id)]
    )
