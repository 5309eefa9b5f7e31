"""What happens on Discord after a session's transition: the one home for it.

The runner applies commands through `SessionService` (which commits the new state together
with the outbox rows of its effects), answers the interaction that asked, and lets the
outbox deliver the rest: announcements, warnings, panel edits and re-posts, mutes and
unmutes, the summary (the feedback message is the feedback cog's kind). It also runs the
session timer, resumes live sessions at start-up and reconciles them with who is really in
voice, and collapses a backlog of undelivered rows to what the session needs now
(`core.session.outbox.collapse`). `SessionsCog` only parses commands and events; the panel's
buttons and note form call the runner on the bot (`bot.session_runner`).

Several processes may run the same session for a moment (a rolling restart): every save is a
compare-and-set, so only one of them advances it. The one that loses (`StaleSession`) wrote
nothing and announces nothing; it reloads the session and re-arms from the stored state.
At start-up a process adopts only its own shards' sessions.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from cogs.common.access import guild_member, is_facilitator, require_facilitator
from cogs.common.audit import record_if_moderating
from cogs.common.outbox import Delivery, Wait
from cogs.common.replies import NO_PINGS, reply
from cogs.sessions._channel import ChannelKeeper
from cogs.sessions._panel import (
    announcement,
    namer,
    panel_embed,
    pointer,
    summary_message,
    warning,
)
from cogs.sessions._stick import MuteLedger, edit_mute, foreign_mute_changes
from cogs.sessions._views import NoteModal, panel_view
from core import collector
from core.errors import StaleSession, UserError
from core.models import Group
from core.outbox import voice_key
from core.session import (
    Announce,
    Command,
    Due,
    End,
    Extend,
    LowerHand,
    Mute,
    Next,
    PanelChanged,
    Pause,
    Phase,
    RaiseHand,
    Resume,
    SessionConfig,
    SessionState,
)
from core.session.notes import clean_note
from core.session.outbox import (
    ANNOUNCE,
    MUTE,
    PANEL,
    SUMMARY,
    UNMUTE,
    WARN,
    Pending,
    Where,
    collapse,
    rows,
    session_of,
)
from core.session.reconcile import reconcile_commands
from core.session.service import Transition

if TYPE_CHECKING:
    from bot import MastermindBot
    from core.outbox import OutboxRow

log = logging.getLogger(__name__)

TIMER_KIND = "session"
RETRY = 5
"""Seconds before a timer whose work failed unexpectedly runs again."""


class SessionRunner:
    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot
        self.service = bot.sessions
        self._panels: dict[int, tuple[int, int]] = {}
        self._shown: dict[int, SessionState] = {}
        """The state an interaction's own panel edit showed: the panel row need not repeat it."""
        self._ended: dict[int, SessionState] = {}
        self._group_cache: dict[int, Group] = {}
        """Each live session's group as last loaded: a timer's hand-over needs it (for where
        its rows go) before its commit, and must not wait for a query to get it."""
        self.mutes = MuteLedger(bot.clock)
        self.keeper = ChannelKeeper(self)

    async def load(self) -> None:
        self.bot.timers.register(
            TIMER_KIND,
            self._on_due,
            rearm=self.resume,
            together=self._on_due_together,
            prepare=self._prepare_due,
        )
        await self.keeper.cog_load()
        outbox = self.bot.outbox
        outbox.register(ANNOUNCE, self._deliver_announce, what="post the floor announcement")
        outbox.register(WARN, self._deliver_warning, what="post the one-minute warning")
        # Editing its own message needs only to see the channel; a re-post needs Send Messages.
        outbox.register(
            PANEL, self._deliver_panel, permission="View Channel", what="update the session panel"
        )
        outbox.register(
            MUTE, self._deliver_mute, permission="Mute Members", what="mute for the talking stick"
        )
        outbox.register(
            UNMUTE,
            self._deliver_mute,
            permission="Mute Members",
            what="undo a talking-stick mute",
        )
        outbox.register(SUMMARY, self._deliver_summary, what="post the session summary")
        outbox.register_collapse("session:", self._collapse)

    def unload(self) -> None:
        self.bot.timers.unregister(TIMER_KIND)
        self.keeper.cog_unload()
        for kind in (ANNOUNCE, WARN, PANEL, MUTE, UNMUTE, SUMMARY):
            self.bot.outbox.unregister(kind)
        self.bot.outbox.unregister_collapse("session:")

    # -- plumbing -------------------------------------------------------------------------

    def where(self, group: Group, session_id: int) -> Where:
        return Where(
            session_id=session_id,
            group_id=group.id,
            guild_id=group.guild_id,
            text_channel_id=group.text_channel_id,
            voice_channel_id=group.voice_channel_id,
        )

    def arm(self, state: SessionState) -> None:
        self.bot.timers.schedule(TIMER_KIND, state.session_id, state.next_due())

    def keep_group(self, session_id: int, group: Group) -> None:
        """Hold a live session's group, so its hand-overs need not look it up."""
        self._group_cache[session_id] = group

    async def group_of(self, state: SessionState) -> Group:
        cached = self._group_cache.get(state.session_id)
        return cached if cached is not None else await self._group(state.session_id)

    async def _group(self, session_id: int) -> Group:
        group_id = self.service.group_of(session_id)
        if group_id is None:
            row = await self.bot.storage.sessions.get(session_id)
            if row is None:
                raise UserError("That session no longer exists.")
            group_id = row.group_id
        group = await self.bot.storage.groups.get(group_id)
        if group is None:
            raise UserError("That session's group no longer exists.")
        if self.service.get(session_id) is not None:
            self.keep_group(session_id, group)
        return group

    async def refresh(self, session_id: int) -> SessionState | None:
        """Carry on from the stored state: another process advanced (or ended) the session
        since this one last saved it. Nothing is announced: the effects of that transition
        are the other process's rows. Returns the live state, or None once it has ended."""
        row = await self.bot.storage.sessions.reload(session_id)
        self._panels.pop(session_id, None)
        self._shown.pop(session_id, None)
        if row is None or row.ended_at is not None:
            log.info("session %s ended elsewhere; letting it go", session_id)
            self.service.forget(session_id)
            self._group_cache.pop(session_id, None)
            self.bot.timers.schedule(TIMER_KIND, session_id, None)
            if row is not None:
                self._ended[session_id] = row.state
            return None
        log.info(
            "session %s advanced elsewhere; carrying on from version %s", session_id, row.version
        )
        self.service.adopt(row.state, row.group_id)
        self.arm(row.state)
        return row.state

    async def state_of(self, session_id: int) -> SessionState | None:
        """The latest state: live, or as the session ended."""
        live = self.service.get(session_id)
        if live is not None:
            return live
        if session_id not in self._ended:
            row = await self.bot.storage.sessions.get(session_id)
            if row is None:
                return None
            self._ended[session_id] = row.state
        return self._ended[session_id]

    def panel_embed(self, state: SessionState, group: Group) -> discord.Embed:
        return panel_embed(state, group.name, namer(self.bot.get_guild(group.guild_id)))

    async def panel_location(self, session_id: int) -> tuple[int, int] | None:
        """(channel id, message id) of the session's panel, remembered after the first look:
        a hand-over must not reload the whole session just to find its panel."""
        if session_id not in self._panels:
            found = await self.bot.storage.sessions.panel_location(session_id)
            if found is None:
                return None
            self._panels[session_id] = found
        return self._panels[session_id]

    def has_panel(self, session_id: int) -> bool:
        return session_id in self._panels

    # -- transitions ----------------------------------------------------------------------

    async def run(
        self,
        session_id: int,
        command: Command,
        *,
        group: Group,
        interaction: discord.Interaction | None = None,
        confirmation: str | None = None,
    ) -> Transition:
        """Apply a command (its effects are committed with it), answer the interaction, then
        let the outbox deliver the effects, in the order the transitions happened."""
        try:
            transition = await self.service.command(
                session_id, command, self.bot.clock(), where=self.where(group, session_id)
            )
        except StaleSession:
            await self.refresh(session_id)
            raise UserError(
                "The session changed just now; look at the panel and try again."
            ) from None
        self._applied(transition, group)
        if interaction is not None:
            try:
                await self._answer(interaction, transition, group, confirmation)
            except discord.HTTPException as error:
                # The command is saved: a lost answer must not also lose its effects.
                log.warning("session %s: could not answer: %s", session_id, error)
        self.bot.outbox.kick(transition.scope)
        return transition

    def _applied(self, transition: Transition, group: Group) -> None:
        """What follows a committed transition here: its next timer, and an ended session's
        goodbye."""
        state = transition.state
        self.arm(state)
        self.keep_group(state.session_id, group)
        if state.is_ended():
            self._ended[state.session_id] = state
            self._group_cache.pop(state.session_id, None)
            self.keeper.session_ended(state)

    async def _answer(
        self,
        interaction: discord.Interaction,
        transition: Transition,
        group: Group,
        confirmation: str | None,
    ) -> None:
        """Answer within the interaction's deadline; a press on the panel edits the panel in
        the same call, and the panel row then has nothing left to do. A press on an older
        panel (left above by a re-post) turns it, in the same call, into a pointer to the live
        one, which the panel row updates."""
        panel = await self.panel_location(transition.state.session_id)
        if (
            panel is not None
            and _on_old_panel(interaction, transition.state.session_id, panel[1])
            and not interaction.response.is_done()
        ):
            jump = f"https://discord.com/channels/{group.guild_id}/{panel[0]}/{panel[1]}"
            await interaction.response.edit_message(
                content=pointer(jump), embed=None, view=None, allowed_mentions=NO_PINGS
            )
            return
        on_panel = (
            interaction.type == discord.InteractionType.component
            and interaction.message is not None
            and panel is not None
            and interaction.message.id == panel[1]
        )
        changed = any(isinstance(e, PanelChanged) for e in transition.effects)
        if on_panel and changed and not interaction.response.is_done():
            await interaction.response.edit_message(
                embed=self.panel_embed(transition.state, group), view=panel_view(transition.state)
            )
            self._shown[transition.state.session_id] = transition.state
            return
        await reply(interaction, confirmation or "Done.")

    async def start(
        self,
        group: Group,
        *,
        started_by: int,
        config: SessionConfig,
        present: list[tuple[int, datetime]],
        seed: int,
    ) -> Transition:
        """A new session: its panel and first announcement are rows of its first commit.
        The store refuses a second live session of a group (as a UserError), even one another
        process started a moment ago."""
        last_hotseat = await self.bot.storage.sessions.last_hotseats(group.id)
        transition = await self.service.start(
            where=lambda session_id: self.where(group, session_id),
            group_id=group.id,
            guild_id=group.guild_id,
            started_by=started_by,
            config=config,
            present=present,
            last_hotseat=last_hotseat,
            seed=seed,
            now=self.bot.clock(),
        )
        self.arm(transition.state)
        self.bot.outbox.kick(transition.scope)
        return transition

    # -- delivering the effects -------------------------------------------------------------

    async def _context(
        self, row: OutboxRow
    ) -> tuple[SessionState, Group, discord.TextChannel] | None:
        """The session's latest state, its group and text channel (None: nothing to post to)."""
        session_id = int(row.payload["session_id"])
        state = await self.state_of(session_id)
        if state is None:
            return None
        try:
            group = await self._group(session_id)
        except UserError:
            return None
        guild = self.bot.get_guild(group.guild_id)
        text = guild.get_channel(group.text_channel_id or 0) if guild else None
        return (state, group, text) if isinstance(text, discord.TextChannel) else None

    async def _deliver_announce(self, delivery: Delivery) -> int | None:
        """One message per hand-over, with whatever other features add to it."""
        found = await self._context(delivery.row)
        if found is None:
            return None
        state, group, text = found
        payload = delivery.row.payload
        deadline = payload.get("deadline")
        effect = Announce(
            member_id=int(payload["member_id"]),
            phase=Phase(payload["phase"]),
            round=str(payload.get("round", "")),
            deadline=datetime.fromisoformat(deadline) if isinstance(deadline, str) else None,
        )
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
        mentions = _only(effect.member_id)
        if items:
            message = await text.send(
                content[:2000], allowed_mentions=mentions, view=_view(items), nonce=delivery.nonce()
            )
        else:
            message = await text.send(
                content[:2000], allowed_mentions=mentions, nonce=delivery.nonce()
            )
        await self.keeper.posted(state, message, "announcement")
        for part, (more_text, more_items) in enumerate(follow_ups, start=1):
            more = await text.send(
                more_text[:2000],
                allowed_mentions=NO_PINGS,
                view=_view(more_items),
                nonce=delivery.nonce(part),
            )
            await self.keeper.posted(state, more, "announcement")
        return message.id

    async def _deliver_warning(self, delivery: Delivery) -> int | None:
        found = await self._context(delivery.row)
        if found is None:
            return None
        state, group, text = found
        member_id = int(delivery.row.payload["member_id"])
        deadline = datetime.fromisoformat(str(delivery.row.payload["deadline"]))
        message = await text.send(
            warning(member_id, deadline), allowed_mentions=_only(member_id), nonce=delivery.nonce()
        )
        await self.keeper.posted(state, message, "warning")
        if self.keeper.must_repost(state):
            await self.keeper.repost(group, state, nonce=delivery.nonce(1), point=False)
        return message.id

    async def _deliver_panel(self, delivery: Delivery) -> int | None:
        """Show the latest state (an edit that lands after a newer transition's must not
        bring an older floor back); post it again instead when it would leave sight."""
        found = await self._context(delivery.row)
        if found is None:
            return None
        state, group, _ = found
        coming = self.keeper.ahead(state)
        if self.keeper.must_repost(state, coming=coming):
            posted = await self.keeper.repost(
                group, state, coming=coming, nonce=delivery.nonce(), point=False
            )
            return posted.id if posted is not None else None
        if self._shown.get(state.session_id) is state:
            return None  # the click that made this state already showed it on the panel
        panel = await self.panel_location(state.session_id)
        if panel is None:
            return None
        channel = self.bot.get_channel(panel[0])
        if not isinstance(channel, discord.TextChannel):
            return None
        try:
            await channel.get_partial_message(panel[1]).edit(
                embed=self.panel_embed(state, group),
                view=panel_view(state),
                allowed_mentions=NO_PINGS,
            )
        except discord.NotFound:
            if state.is_ended():
                return None
            # Someone deleted the panel: a session needs one, so it comes back.
            return (await self.post_panel(group, state, nonce=delivery.nonce())).id
        self._shown[state.session_id] = state
        return panel[1]

    async def _deliver_mute(self, delivery: Delivery) -> int | None:
        """A talking-stick mute or unmute. An unmute that cannot happen now (the member is out
        of voice) waits until they are next in voice; a mute of someone gone is moot."""
        row = delivery.row
        mute = row.kind == MUTE
        member_id = int(row.payload["member_id"])
        guild = self.bot.get_guild(row.guild_id)
        member = guild.get_member(member_id) if guild is not None else None
        in_voice = member is not None and member.voice is not None and member.voice.channel
        if member is None or not in_voice:
            if mute:
                return None
            raise Wait(voice_key(row.guild_id, member_id))
        name = row.payload.get("group_name") or "the group"
        try:
            await edit_mute(self.mutes, member, mute, f"talking stick in {name}")
        except discord.HTTPException as error:
            if not mute and error.status == 400:
                raise Wait(voice_key(row.guild_id, member_id)) from error
            raise
        return None

    async def _deliver_summary(self, delivery: Delivery) -> int | None:
        found = await self._context(delivery.row)
        if found is None:
            return None
        state, group, text = found
        notes = await self.bot.storage.sessions.notes(state.session_id)
        message = await text.send(
            **summary_message(state, group.name, notes, self.bot.clock(), text.guild),
            nonce=delivery.nonce(),
        )
        return message.id

    async def post_panel(
        self, group: Group, state: SessionState, *, nonce: str | None = None
    ) -> discord.Message:
        guild = self.bot.get_guild(group.guild_id)
        channel = (
            guild.get_channel(group.text_channel_id) if guild and group.text_channel_id else None
        )
        if not isinstance(channel, discord.TextChannel):
            raise UserError(
                f"The text channel of **{group.name}** is gone; recreate it from `/group info`."
            )
        view = panel_view(state)
        embed = self.panel_embed(state, group)
        extra: dict[str, Any] = {"nonce": nonce} if nonce is not None else {}
        if view is not None:
            extra["view"] = view
        message = await channel.send(embed=embed, allowed_mentions=NO_PINGS, **extra)
        await self.bot.storage.sessions.set_panel(state.session_id, channel.id, message.id)
        self._panels[state.session_id] = (channel.id, message.id)
        self._shown[state.session_id] = state
        self.keeper.panel_posted(state.session_id, channel.id)
        return message

    async def _collapse(self, scope: str, pending: list[OutboxRow]) -> list[int]:
        session_id = session_of(scope)
        if session_id is None:
            return []
        state = await self.state_of(session_id)
        return collapse(
            [Pending(r.id, r.kind, r.payload) for r in pending], state, self.bot.clock()
        )

    # -- timer and start-up ------------------------------------------------------------------

    async def _on_due(self, session_id: int, now: datetime) -> None:
        state = self.service.get(session_id)
        if state is None:
            return
        try:
            group = await self.group_of(state)
            await self.run(session_id, Due(), group=group)
        except UserError as refused:
            log.info("session %s: nothing due (%s)", session_id, refused.message)
        except Exception:
            log.exception("session %s: the timer failed", session_id)
            self._retry_later(session_id, now)

    async def _on_due_together(self, session_ids: list[int], now: datetime) -> None:
        """Deadlines that fell at once (every group of a programme meets at 18:00, or the bot
        was down): their hand-overs are applied and committed together, each as `_on_due`
        would apply it, and their rows delivered after."""
        due: list[tuple[int, Group]] = []
        for session_id in session_ids:
            state = self.service.get(session_id)
            if state is None:
                continue
            try:
                due.append((session_id, await self.group_of(state)))
            except UserError as refused:
                log.info("session %s: nothing due (%s)", session_id, refused.message)
            except Exception:
                log.exception("session %s: its group could not be loaded", session_id)
                self._retry_later(session_id, now)
        outcomes = await self.service.command_many(
            [(session_id, Due(), self.where(group, session_id)) for session_id, group in due],
            self.bot.clock(),
        )
        for (session_id, group), outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, Transition):
                self._applied(outcome, group)
                self.bot.outbox.kick(outcome.scope)
            elif isinstance(outcome, StaleSession):
                await self.refresh(session_id)
            elif isinstance(outcome, UserError):
                log.info("session %s: nothing due (%s)", session_id, outcome.message)
            else:
                log.error("session %s: the timer failed", session_id, exc_info=outcome)
                self._retry_later(session_id, now)

    async def _prepare_due(self, coming: list[tuple[int, datetime]], now: datetime) -> None:
        """Just before deadlines fall, their hand-overs are worked out, so that at the
        deadline only the commit is left. Only sessions whose group is at hand: preparing
        never waits for a query."""
        prepared: list[tuple[int, datetime, Where]] = []
        for session_id, at in coming:
            group = self._group_cache.get(session_id)
            if group is not None:
                prepared.append((session_id, at, self.where(group, session_id)))
        await self.service.prepare(prepared)

    def _retry_later(self, session_id: int, now: datetime) -> None:
        """Nothing was saved (the store failed, say): try again shortly rather than leave the
        session without a timer until the next restart."""
        log.warning("session %s: retrying its timer in %ss", session_id, RETRY)
        self.bot.timers.schedule(TIMER_KIND, session_id, now + timedelta(seconds=RETRY))

    async def resume(self) -> None:
        """Adopt every live session, correct presence from who is really in voice, restore or
        release the talking stick's mutes, and re-arm the timers. Overdue work then runs once,
        and the outbox delivers what is left, collapsed.

        The groups and their members are loaded for all sessions at once (three queries in
        all, not two per session), and each session is reconciled on its own: one failing
        keeps neither its timer nor the other sessions from being armed."""
        # Thousands of states, groups and member sets, all kept: loaded with no collection
        # tracing them again and again, and then moved out of the collector's generations.
        with collector.long_lived():
            rows = await self.bot.storage.sessions.live(self.bot.shard_set)
            group_ids = [row.group_id for row in rows]
            groups = await self.bot.storage.groups.many(group_ids)
            members = await self.bot.storage.groups.member_ids(group_ids)
            for row in rows:
                self.service.adopt(row.state, row.group_id)
                group = groups.get(row.group_id)
                if group is not None:
                    self.keep_group(row.id, group)
        for row in rows:
            group = groups.get(row.group_id)
            guild = self.bot.get_guild(row.guild_id)
            state = self.service.get(row.id)
            if state is None:
                continue
            if group is None or guild is None:
                self.arm(state)
                continue
            try:
                await self.keeper.recount(row.id)
                if not guild.chunked:
                    await guild.chunk()
                # The state as it is now: an event of its voice channel may have come in while
                # the sessions before it were reconciled.
                await self._reconcile(guild, group, state, members.get(group.id, set()))
            except Exception:
                log.exception("session %s: reconcile failed", row.id)
            current = self.service.get(row.id)
            if current is not None:
                self.arm(current)
        await self._release_owed_unmutes()

    async def _release_owed_unmutes(self) -> None:
        """Unmutes waiting for people who are in voice right now go out (the others when
        they next join a voice channel)."""
        for key in await self.bot.storage.outbox.waiting_keys("voice:", self.bot.shard_set):
            _, guild_id, user_id = key.split(":")
            guild = self.bot.get_guild(int(guild_id))
            if guild is None:
                continue
            if any(int(user_id) in channel.voice_states for channel in guild.voice_channels):
                await self.bot.outbox.release(key)

    async def _reconcile(
        self, guild: discord.Guild, group: Group, state: SessionState, members: set[int]
    ) -> None:
        channel = guild.get_channel(group.voice_channel_id) if group.voice_channel_id else None
        voice = channel if isinstance(channel, discord.VoiceChannel) else None
        # From the voice states, not `voice.members`, which needs the member cache.
        states = voice.voice_states if voice is not None else {}
        # Mutes someone else changed while the bot was away are theirs from now on. Without
        # the audit log there is no telling them from the bot's own edits that a crash cut
        # short, so those are made again.
        theirs = await foreign_mute_changes(guild, state.updated_at) if state.stick else None
        in_voice = {user_id: voice_state.mute for user_id, voice_state in states.items()}
        for command in reconcile_commands(state, in_voice, members, theirs or set()):
            try:
                await self.run(state.session_id, command, group=group)
            except UserError:
                continue
        current = self.service.get(state.session_id)
        if current is None:
            return
        restore = [
            Mute(member_id)
            for member_id in current.bot_mutes
            if member_id in in_voice and not in_voice[member_id]
        ]
        if restore:
            where = self.where(group, state.session_id)
            await self.bot.storage.outbox.add(rows(where, restore), self.bot.clock())
            self.bot.outbox.kick(where.scope())

    async def end_for_archive(self, group: Group) -> None:
        state = self.service.session_for_group(group.id)
        if state is not None:
            await self.run(state.session_id, End(), group=group)

    # -- the panel's buttons and note form --------------------------------------------------

    async def require_participant(self, member: discord.Member, group: Group) -> None:
        if await self.bot.storage.groups.membership(group.id, member.id) is not None:
            return
        if await is_facilitator(self.bot, member, group):
            return
        raise UserError(f"Only members of **{group.name}** can use its session controls.")

    async def audit_control(
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

    async def toggle_hand(
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
        await self.run(
            state.session_id,
            command,
            group=group,
            interaction=interaction,
            confirmation="Hand lowered." if raised else "Hand raised.",
        )

    async def save_note(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        state: SessionState,
        kind: str,
        text: str,
        for_member_id: int | None,
    ) -> None:
        note = clean_note(kind, text)
        await self.bot.storage.sessions.add_note(
            state.session_id, member.id, for_member_id, note.kind, note.text, self.bot.clock()
        )
        who = f" for <@{for_member_id}>" if for_member_id else ""
        await reply(interaction, f"Saved your {note.kind}{who}.")

    async def add_note_from_form(
        self, interaction: discord.Interaction, session_id: int, kind: str, text: str
    ) -> None:
        member = guild_member(interaction)
        state = self.service.get(session_id)
        if state is None:
            raise UserError("That session has ended.")
        group = await self.group_of(state)
        await self.require_participant(member, group)
        await self.save_note(interaction, member, state, kind, text, state.floor_holder())

    async def on_panel_button(
        self, interaction: discord.Interaction, action: str, session_id: int
    ) -> None:
        member = guild_member(interaction)
        state = self.service.get(session_id)
        if state is None:
            raise UserError("This session has ended; its buttons no longer do anything.")
        group = await self.group_of(state)
        await self.require_participant(member, group)
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
            await self.toggle_hand(interaction, member, group, state)
            return
        elif action == "note":
            modal = NoteModal(session_id)
            await interaction.response.send_modal(modal)
            self.bot.open_forms.opened(interaction.user.id, str(modal.custom_id))
            return
        elif action == "end":
            await require_facilitator(self.bot, member, group)
            await self.run(session_id, End(), group=group, interaction=interaction)
            await record_if_moderating(self.bot, member, group, "session.end", group.name)
            return
        else:
            raise UserError("Unknown button.")
        await self.run(session_id, command, group=group, interaction=interaction)
        await self.audit_control(member, group, state, *done)


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


def _on_old_panel(interaction: discord.Interaction, session_id: int, live_panel_id: int) -> bool:
    """A press on one of this session's panel buttons, on a message that is not its live panel."""
    if interaction.type != discord.InteractionType.component or interaction.message is None:
        return False
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    return (
        interaction.message.id != live_panel_id
        and custom_id.startswith("mm:session:")
        and custom_id.endswith(f":{session_id}")
    )
