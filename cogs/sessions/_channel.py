"""A group channel that stays readable: the live panel in sight, and a tidy after the session.

During a session the live panel stays within the last `IN_SIGHT` messages of the channel. The
bot counts what is posted below the panel (its own announcements and warnings as it sends
them, members' messages as the gateway reports them) and, when the next message would push
the panel out of sight, posts a fresh panel instead of editing the old one. A re-post that
the session's own messages force (a hand-over's announcement, a warning) costs no call more
than the edit it replaces: the old panel is left as it was, above the announcements that say
who has the floor since, until the tidy deletes it (a press on its buttons, which still act
on the live session, answers by turning it into a pointer). A re-post that other messages force
(members talking, a poll) turns the old panel into a one-line pointer to the new one, one
call more, so a panel that still looks live never sits just above a conversation.

Every announcement, warning, pointer and old panel is remembered in the database;
`TIDY_DELAY` after the session ends they are deleted (in bulk when the bot has Manage
Messages), unless the server chose `/mastermind setup tidy_sessions:false`. The remembered
rows of an ended session are the pending tidy, so a restart in between still tidies, once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from cogs.common.replies import NO_PINGS
from cogs.sessions._panel import pointer
from core.errors import UserError
from core.models import Group
from core.session import SessionState
from core.session.progress import will_warn
from core.session.tidy import plan_deletes

if TYPE_CHECKING:
    from bot import MastermindBot
    from cogs.sessions._runner import SessionRunner

log = logging.getLogger(__name__)

IN_SIGHT = 8
"""The live panel is always among the channel's last this many messages."""
TIDY_DELAY = timedelta(minutes=1)
"""The tidy waits this long after the end, so the last hand-over can still be read and a
click on a message that is about to go does not land on nothing."""
TIDY_KIND = "session-tidy"


class ChannelKeeper:
    def __init__(self, runner: SessionRunner) -> None:
        self.runner = runner
        self.bot: MastermindBot = runner.bot
        self._below: dict[int, int] = {}
        """Messages below the live panel, per live session."""
        self._by_channel: dict[int, int] = {}
        """The live session whose panel is in each channel (one per group channel)."""
        self._locks: dict[int, asyncio.Lock] = {}

    async def cog_load(self) -> None:
        self.bot.timers.register(TIDY_KIND, self._on_tidy_due, rearm=self.rearm)

    def cog_unload(self) -> None:
        self.bot.timers.unregister(TIDY_KIND)

    # -- the panel in sight -----------------------------------------------------------------

    def panel_posted(self, session_id: int, channel_id: int) -> None:
        self._below[session_id] = 0
        self._by_channel[channel_id] = session_id

    async def posted(self, state: SessionState, message: discord.Message, kind: str) -> None:
        """One of the session's own transient messages is now below the panel."""
        self._below[state.session_id] = self._below.get(state.session_id, 0) + 1
        await self.bot.storage.session_messages.add(
            state.session_id, message.channel.id, message.id, kind
        )

    def must_repost(self, state: SessionState, *, coming: int = 0) -> bool:
        """Whether the panel would leave the last `IN_SIGHT` messages once `coming` more are
        posted below it, or is missing altogether."""
        if state.is_ended():
            return False
        if not self.runner.has_panel(state.session_id):
            return True  # there is none: posting it at /session start failed
        return self._below.get(state.session_id, 0) + coming > IN_SIGHT - 1

    def ahead(self, state: SessionState) -> int:
        """At a hand-over, look one message ahead (the warning to come), so the panel never
        has to be posted again just for the warning: a re-post then replaces the panel edit."""
        return 1 if will_warn(state) else 0

    async def repost(
        self,
        group: Group,
        state: SessionState,
        *,
        coming: int = 0,
        nonce: str | None = None,
        point: bool = True,
    ) -> discord.Message | None:
        """Post the panel again at the bottom; with `point` the old one becomes a pointer to
        it, else it is left for the tidy (see the module). Returns the new panel (None when
        someone else re-posted it meanwhile)."""
        lock = self._locks.setdefault(state.session_id, asyncio.Lock())
        async with lock:
            latest = self.bot.sessions.get(state.session_id) or state
            if not self.must_repost(latest, coming=coming):
                return None  # someone else re-posted it meanwhile
            old = await self.runner.panel_location(state.session_id)
            message = await self.runner.post_panel(group, latest, nonce=nonce)
            if old is None:
                return message
            channel = self.bot.get_channel(old[0])
            if not isinstance(channel, discord.TextChannel):
                return message
            await self.bot.storage.session_messages.add(
                state.session_id, channel.id, old[1], "pointer"
            )
            if not point:
                return message
            try:
                await channel.get_partial_message(old[1]).edit(
                    content=pointer(message.jump_url),
                    embeds=[],
                    view=None,
                    allowed_mentions=NO_PINGS,
                )
            except discord.HTTPException as error:
                log.info("session %s: old panel left as it is: %s", state.session_id, error)
            return message

    async def recount(self, session_id: int) -> None:
        """After a restart: how many messages are below the panel, from the channel itself
        (one read), or failing that from what the bot remembers posting."""
        panel = await self.runner.panel_location(session_id)
        if panel is None:
            return
        channel = self.bot.get_channel(panel[0])
        try:
            if not isinstance(channel, discord.TextChannel):
                raise LookupError("the panel's channel is gone")
            newest = [m.id async for m in channel.history(limit=IN_SIGHT)]
            below = newest.index(panel[1]) if panel[1] in newest else IN_SIGHT
        except (discord.HTTPException, LookupError) as error:
            log.info("session %s: counting from the database: %s", session_id, error)
            below = await self.bot.storage.session_messages.count_after(session_id, panel[1])
        self._below[session_id] = below
        self._by_channel[panel[0]] = session_id

    async def on_message(self, message: discord.Message) -> None:
        """Someone wrote in a channel whose session panel must stay in sight: a member, or
        the bot itself for another feature (a poll, a public answer to a command). The
        session's own posts are counted as they are sent, not here."""
        if message.guild is None or self.bot.user is None or message.flags.ephemeral:
            return
        if message.author.id == self.bot.user.id and not (
            message.poll is not None or message.interaction_metadata is not None
        ):
            return
        session_id = self._by_channel.get(message.channel.id)
        state = self.bot.sessions.get(session_id) if session_id is not None else None
        if state is None:
            return
        self._below[state.session_id] = self._below.get(state.session_id, 0) + 1
        if self.must_repost(state):
            try:
                await self.repost(await self.runner.group_of(state), state)
            except (discord.HTTPException, UserError) as error:
                log.warning(
                    "session %s: could not post the panel again: %s", state.session_id, error
                )

    # -- the tidy after the session ---------------------------------------------------------

    def session_ended(self, state: SessionState) -> None:
        self._below.pop(state.session_id, None)
        for channel_id in [c for c, s in self._by_channel.items() if s == state.session_id]:
            del self._by_channel[channel_id]
        self._locks.pop(state.session_id, None)
        ended = state.ended_at or self.bot.clock()
        self.bot.timers.schedule(TIDY_KIND, state.session_id, ended + TIDY_DELAY)

    async def rearm(self) -> None:
        """At start-up: every tidy still to do, due when it was (overdue ones run at once)."""
        for pending in await self.bot.storage.session_messages.pending_tidies(self.bot.shard_set):
            self.bot.timers.schedule(TIDY_KIND, pending.session_id, pending.ended_at + TIDY_DELAY)

    async def _on_tidy_due(self, session_id: int, now: datetime) -> None:
        try:
            await self.tidy(session_id, now)
        except Exception:
            # Whatever went wrong, the tidy is not tried forever: it is only housekeeping.
            log.exception("session %s: the tidy failed", session_id)
        await self.bot.storage.session_messages.forget(session_id)

    async def tidy(self, session_id: int, now: datetime) -> None:
        """Delete the session's announcements, warnings and pointers; never anything else."""
        by_channel = await self.bot.storage.session_messages.of_session(session_id)
        row = await self.bot.storage.sessions.get(session_id)
        if not by_channel or row is None:
            return
        settings = await self.bot.storage.guilds.settings(row.guild_id)
        if not settings.tidy_sessions:
            return
        for channel_id, ids in by_channel.items():
            channel = self.bot.get_channel(channel_id)
            if isinstance(channel, discord.TextChannel):
                await self._delete(channel, ids, now)

    async def _delete(self, channel: discord.TextChannel, ids: list[int], now: datetime) -> None:
        mine = channel.permissions_for(channel.guild.me)
        plan = plan_deletes(ids, now, can_bulk=mine.manage_messages)
        single = list(plan.single)
        for batch in plan.bulk:
            try:
                await channel.delete_messages([discord.Object(id=i) for i in batch])
            except discord.HTTPException as error:
                # Lost the permission meanwhile, or one of them is already gone.
                log.info("bulk delete in %s refused (%s); one by one instead", channel.id, error)
                single += batch
        for message_id in sorted(single):
            try:
                await channel.get_partial_message(message_id).delete()
            except discord.NotFound:
                continue
            except discord.Forbidden:
                log.info("not allowed to delete in %s; leaving the rest as it is", channel.id)
                return
