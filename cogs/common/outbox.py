"""Delivers the outbox: every Discord side effect that follows a state change, exactly once.

How a feature uses it (the API):

1. Register a kind once, at `cog_load`::

       bot.outbox.register("reminder.post", self._deliver_reminder, permission="Send Messages")

   `permission` is what a 403 means for this kind; it is named to the group's facilitators.

2. Write rows *in the transaction of the change they follow*, from storage::

       async with db.transaction() as conn:
           ...  # the change
           ids = await storage.outbox.insert(conn, [Outgoing(kind, scope, guild_id, payload)], now)

   (or `storage.outbox.add(items, now)` when there is no other change). `scope` orders
   delivery: rows of one scope are delivered one after another in `id` order, a row that is
   being retried holds back the rest of its scope; different scopes are independent. Use
   `"session:<id>"`, `"group:<id>"`, `"schedule:<id>"`. Put `"group_id"` (and, when there is
   one, `"channel_id"`) in the payload, so a refusal can be reported to the right people.

3. After the commit, `bot.outbox.kick(scope)` starts delivery (start-up delivers whatever is
   left over by itself). A worker reads its scope's pending rows once a round and goes
   round again only for a kick: a row written without one waits for the next kick.

4. The handler gets a `Delivery` and returns the id of the message it created (or None). A
   message create passes `nonce=delivery.nonce()` (`delivery.nonce(n)` for its n-th message),
   which discord.py 2.7.1 sends with `enforce_nonce: true`, so Discord drops the create when a
   previous attempt of the same row did land. It raises `Wait(key)` to put the row aside
   until `bot.outbox.release(key)` (e.g. an unmute waiting until the member is in voice), or
   anything else to fail:

   - 429, 5xx, a timeout or a dropped connection: retried with backoff (2 s doubling up to
     5 min, on the bot's clock, so virtual time drives it), for up to 24 h;
   - 403 or 404: given up, and the group's facilitators are told once per channel and
     permission (in the group's channel, or by DM when the bot cannot post there);
   - anything else (a bug): given up and logged, never retried in a loop.

A row is delivered by one process at a time: one worker per scope in a process, and each
attempt is a claim in the database first (the attempt counted, the row leased to this
process for `CLAIM_LEASE`), so a second process sharing the database (the other half of a
rolling restart) waits for the lease instead of delivering it too. A process delivers only
its own shards' rows. After a crash a row that was being delivered is taken over when its
lease runs out and delivered again, with the same nonce. Rows finished more than
`RETENTION` ago are pruned every `PRUNE_EVERY`. `register_collapse(prefix, collapse)` lets a feature
drop rows that a later row supersedes before a backlog is delivered (at start-up and after
an outage); `collapse(scope, rows)` returns the ids to drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
import discord

from core.outbox import (
    CLAIM_LEASE,
    CLAIM_RACE_RECHECK,
    PRUNE_EVERY,
    RETENTION,
    OutboxRow,
    nonce,
    retry_at,
)

if TYPE_CHECKING:
    from bot import MastermindBot

log = logging.getLogger(__name__)

TIMER_KIND = "outbox"
PRUNE_KIND = "outbox.prune"


class Wait(Exception):
    """Raised by a handler: put the row aside until `key` is released."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True, slots=True)
class Delivery:
    row: OutboxRow
    attempt: int
    """1 for the first attempt; more after retries or a restart."""

    def nonce(self, part: int = 0) -> str:
        return nonce(self.row.id, part)


Handler = Callable[[Delivery], Awaitable[int | None]]
Collapse = Callable[[str, list[OutboxRow]], Awaitable[list[int]]]


@dataclass(frozen=True, slots=True)
class Kind:
    handler: Handler
    permission: str
    what: str


class Outbox:
    def __init__(self, bot: MastermindBot) -> None:
        self.bot = bot
        self._kinds: dict[str, Kind] = {}
        self._collapse: dict[str, Collapse] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._eager: set[str] = set()
        self._noticed: set[int] | None = None
        self._started = False
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        """Who this process is in the claims it makes (unique to this run)."""
        bot.timers.register(TIMER_KIND, self._on_retry_due)
        bot.timers.register(PRUNE_KIND, self._on_prune_due)
        self.delivered = 0
        """Rows delivered since start-up (the benchmarks read it)."""

    # -- registration -----------------------------------------------------------------------

    def register(
        self, kind: str, handler: Handler, *, permission: str = "Send Messages", what: str = ""
    ) -> None:
        """`handler` delivers rows of `kind`; `what` names the effect in a report."""
        self._kinds[kind] = Kind(handler, permission, what or kind.replace(".", " "))

    def unregister(self, kind: str) -> None:
        self._kinds.pop(kind, None)

    def handles(self, kind: str) -> bool:
        return kind in self._kinds

    def register_collapse(self, prefix: str, collapse: Collapse) -> None:
        """`collapse` decides which rows of scopes starting with `prefix` a backlog drops."""
        self._collapse[prefix] = collapse

    def unregister_collapse(self, prefix: str) -> None:
        """Forget `prefix`'s collapse (its feature is unloaded): a backlog of its scopes is
        then delivered as it is, and a reload registers it afresh."""
        self._collapse.pop(prefix, None)

    def collapses(self, scope: str) -> bool:
        """Whether a backlog of `scope` is collapsed before it is delivered."""
        return any(scope.startswith(prefix) for prefix in self._collapse)

    # -- running ----------------------------------------------------------------------------

    async def start(self) -> None:
        """At start-up: deliver what was left over, each scope's backlog collapsed first."""
        self._started = True
        if not self.bot.database.shared:
            # No other process can be delivering: a killed run's claims need not expire.
            await self.bot.storage.outbox.release_claims(None)
        self.bot.timers.schedule(PRUNE_KIND, 0, self.bot.clock())
        for scope in await self.bot.storage.outbox.pending_scopes(self.bot.shard_set):
            await self._collapse_scope(scope)
            self.kick(scope)

    def kick(self, scope: str) -> None:
        """Deliver `scope`'s pending rows, after those already on their way."""
        if not self._started:
            return  # start() delivers everything once the bot is ready
        self._dirty.add(scope)
        self._eager.add(scope)
        if scope in self._workers:
            return
        task = asyncio.get_running_loop().create_task(self._work(scope), name=f"outbox {scope}")
        self._workers[scope] = task

    async def release(self, key: str) -> None:
        """What waited for `key` (see `Wait`) is delivered now."""
        for scope in await self.bot.storage.outbox.release(key, self.bot.clock()):
            self.kick(scope)

    async def settled(self, scope: str) -> None:
        """Wait until `scope` has delivered what it can now (a row waiting for its retry
        counts as settled): a command that wants to show what its effect produced."""
        while (task := self._workers.get(scope)) is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until every worker has finished (tests, benchmarks and shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Stop delivering and give back the claims still held, so that the process taking
        over (a rolling restart) need not wait for their leases."""
        for task in list(self._workers.values()):
            task.cancel()
        for task in list(self._workers.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._started:
            self._started = False
            try:
                await self.bot.storage.outbox.release_claims(self.owner)
            except Exception:
                log.exception("could not release this process's outbox claims")

    async def prune(self, now: datetime) -> int:
        """Forget rows finished more than RETENTION ago."""
        pruned = await self.bot.storage.outbox.prune(now - RETENTION)
        if pruned:
            log.info("outbox: pruned %d finished rows", pruned)
        return pruned

    async def _on_prune_due(self, _: int, now: datetime) -> None:
        self.bot.timers.schedule(PRUNE_KIND, 0, now + PRUNE_EVERY)
        await self.prune(now)

    async def _on_retry_due(self, row_id: int, now: datetime) -> None:
        row = await self.bot.storage.outbox.get(row_id)
        if row is not None and row.state == "pending":
            self.kick(row.scope)

    async def _collapse_scope(self, scope: str) -> None:
        for prefix, collapse in self._collapse.items():
            if not scope.startswith(prefix):
                continue
            rows = await self.bot.storage.outbox.pending(scope)
            if not rows:
                return
            try:
                drop = await collapse(scope, rows)
            except Exception:
                log.exception("outbox %s: collapsing failed; delivering everything", scope)
                return
            await self.bot.storage.outbox.drop(drop, "superseded", self.bot.clock())
            return

    async def _work(self, scope: str) -> None:
        """Deliver the scope's pending rows in order. They are read together, once per
        round: a hand-over's two rows cost one read, not one each and one more to find
        nothing left. A row done or dropped meanwhile is refused at its claim and passed
        over; rows written meanwhile come with a kick, which makes another round."""
        collapsed = False
        try:
            while True:
                self._dirty.discard(scope)
                rows = await self.bot.storage.outbox.pending(scope)
                if not rows:
                    if scope in self._dirty:
                        continue
                    return
                if rows[0].attempts and not collapsed:
                    # A backlog behind a failed attempt: what later rows supersede goes first.
                    collapsed = True
                    await self._collapse_scope(scope)
                    continue
                for row in rows:
                    now = self.bot.clock()
                    if row.next_attempt_at > now and scope not in self._eager:
                        self.bot.timers.schedule(TIMER_KIND, row.id, row.next_attempt_at)
                        return
                    # New rows behind a row that waits for its retry: try it now rather than
                    # hold the new ones back for the rest of the backoff.
                    self._eager.discard(scope)
                    if not await self._deliver(row, now):
                        return
                if scope not in self._dirty:
                    return
        finally:
            self._eager.discard(scope)
            if self._workers.get(scope) is asyncio.current_task():
                del self._workers[scope]

    async def _deliver(self, row: OutboxRow, now: datetime) -> bool:
        """One attempt at one row. False when the scope must wait (the row is retried)."""
        store = self.bot.storage.outbox
        kind = self._kinds.get(row.kind)
        if kind is None:
            log.error("outbox row %s: no handler for kind %s", row.id, row.kind)
            await store.failed(row.id, f"no handler for {row.kind}", now)
            return True
        attempt = await store.claim(row.id, self.owner, now, CLAIM_LEASE)
        if attempt is None:
            return await self._claimed_elsewhere(row.id, now)
        try:
            message_id = await kind.handler(Delivery(row, attempt))
        except Wait as waiting:
            await store.wait(row.id, waiting.key)
            return True
        except (discord.Forbidden, discord.NotFound) as error:
            log.warning("outbox row %s (%s) refused: %s", row.id, row.kind, error)
            await store.failed(row.id, f"{error.status}: {error.text}", self.bot.clock())
            await self._report(row, kind, error)
            return True
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as error:
            if isinstance(error, discord.HTTPException) and not _transient(error.status):
                status = error.status
                log.error("outbox row %s (%s) rejected: %s", row.id, row.kind, error)
                await store.failed(row.id, f"{status}: {error.text}", self.bot.clock())
                return True
            later = retry_at(attempt, self.bot.clock(), row.created_at)
            if later is None:
                log.warning("outbox row %s (%s): giving up, too old", row.id, row.kind)
                await store.failed(row.id, f"too old: {error}", self.bot.clock())
                return True
            log.info("outbox row %s (%s): %s; again at %s", row.id, row.kind, error, later)
            await store.retry(row.id, later, str(error) or type(error).__name__)
            self.bot.timers.schedule(TIMER_KIND, row.id, later)
            return False
        except Exception:
            log.exception("outbox row %s (%s): delivery failed", row.id, row.kind)
            await store.failed(row.id, "unexpected error", self.bot.clock())
            return True
        await store.done(row.id, message_id, self.bot.clock())
        self.delivered += 1
        await self._worked_in(row)
        return True

    async def _claimed_elsewhere(self, row_id: int, now: datetime) -> bool:
        """The claim failed. Done meanwhile (by another process): go on with the scope. Held
        by another process: the scope waits, and is looked at again when the lease ends.
        Still reading as free: another process's claim is not committed yet; look again
        shortly, when it will be done or held."""
        row = await self.bot.storage.outbox.get(row_id)
        if row is None or row.state != "pending":
            return True
        if row.lease_until is not None and row.held_by_other(self.owner, now):
            log.info("outbox row %s is being delivered by %s", row.id, row.claimed_by)
            self.bot.timers.schedule(TIMER_KIND, row.id, row.lease_until)
            return False
        self.bot.timers.schedule(TIMER_KIND, row.id, now + CLAIM_RACE_RECHECK)
        return False

    # -- reporting a refusal ----------------------------------------------------------------

    async def _worked_in(self, row: OutboxRow) -> None:
        """A delivery in a channel worked: a refusal of the permission it needs, reported
        there before, is news again."""
        channel_id = row.payload.get("channel_id")
        kind = self._kinds.get(row.kind)
        if not isinstance(channel_id, int) or kind is None:
            return
        if self._noticed is None:
            self._noticed = set(await self.bot.storage.outbox.noticed_channels())
        if channel_id in self._noticed:
            await self.bot.storage.outbox.clear_notices(channel_id, kind.permission)
            self._noticed = set(await self.bot.storage.outbox.noticed_channels())

    async def _report(self, row: OutboxRow, kind: Kind, error: discord.HTTPException) -> None:
        """Tell the group's facilitators, once per channel and permission, what the bot could
        not do and why: in the group's channel, or by DM when the bot cannot post there."""
        group_id = row.payload.get("group_id")
        group = await self.bot.storage.groups.get(group_id) if isinstance(group_id, int) else None
        if group is None:
            return
        channel_id = row.payload.get("channel_id") or group.text_channel_id or group.id
        gone = isinstance(error, discord.NotFound)
        problem = "gone" if gone else kind.permission
        if not await self.bot.storage.outbox.notice_once(channel_id, problem, self.bot.clock()):
            return
        if self._noticed is not None:
            self._noticed.add(channel_id)
        where = f"<#{channel_id}>" if row.payload.get("channel_id") else f"**{group.name}**"
        if gone:
            text = (
                f"⚠️ I could not {kind.what} in {where}: the channel or message is gone. "
                "`/group info` can recreate the group's channels."
            )
        else:
            text = (
                f"⚠️ I could not {kind.what} in {where}: I am missing the "
                f"**{kind.permission}** permission there. Please give it back to my role "
                "(or re-invite me with `python bot.py invite`)."
            )
        guild = self.bot.get_guild(group.guild_id)
        channel = guild.get_channel(group.text_channel_id or 0) if guild else None
        if isinstance(channel, discord.TextChannel) and not (
            kind.permission == "Send Messages" and channel.id == channel_id and not gone
        ):
            try:
                await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
                return
            except discord.HTTPException as failed:
                log.info("group %s: could not report in its channel: %s", group.id, failed)
        for membership in await self.bot.storage.groups.members(group.id):
            if not membership.is_facilitator:
                continue
            try:
                user = self.bot.get_user(membership.user_id) or await self.bot.fetch_user(
                    membership.user_id
                )
                await user.send(f"{group.name}: {text}")
            except discord.HTTPException as failed:
                log.info("could not tell facilitator %s: %s", membership.user_id, failed)


def _transient(status: int) -> bool:
    """Rate limited or a server error: worth trying again."""
    return status == 429 or status >= 500
