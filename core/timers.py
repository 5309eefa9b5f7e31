"""One dispatch loop for every timed thing the bot does.

Features keep their deadlines as absolute UTC times in the database and tell this service the
earliest one per key; at start-up each kind re-arms from the database (`register(...,
rearm=...)`). The loop starts first and each re-arm runs on its own: one failing is logged and
tried again later, so one feature can never leave the others without timers. Work
that fell due while the bot was down runs once, as soon as the loop starts. The clock is
injected, so virtual-time tests and production share the code.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

TimerKey = tuple[str, int]
Handler = Callable[[int, datetime], Awaitable[None]]
ManyHandler = Callable[[list[int], datetime], Awaitable[None]]
Prepare = Callable[[list[tuple[int, datetime]], datetime], Awaitable[None]]
Rearm = Callable[[], Awaitable[None]]
Clock = Callable[[], datetime]

# How long an idle loop sleeps before looking again (any new deadline wakes it sooner).
IDLE = 3600.0
REARM_RETRY = timedelta(seconds=30)
"""First wait before a failed re-arm is tried again; it doubles up to REARM_RETRY_MAX."""
REARM_RETRY_MAX = timedelta(minutes=10)
_REARM = "timers:rearm"
PREPARE_LEAD = timedelta(seconds=1)
"""How long before its deadlines a kind that prepares (`register(..., prepare=...)`) is told
of them."""
_AHEAD = ":ahead"


class TimerService:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[tuple[datetime, int, TimerKey]] = []
        self._due: dict[TimerKey, datetime] = {}
        self._handlers: dict[str, Handler] = {}
        self._counter = 0
        self._sleeping_until: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        # Set when the loop was started again and has not run since: a burst of deadlines
        # pushed meanwhile must not restart it once each.
        self._restarted = False
        self._running: set[asyncio.Task[None]] = set()
        self._busy: set[TimerKey] = set()
        self._rearms: dict[str, Rearm] = {}
        self._rearm_order: list[str] = []
        self._rearm_waits: dict[str, timedelta] = {}
        self._together: dict[str, ManyHandler] = {}
        self._leads: dict[str, tuple[timedelta, str]] = {}
        """The kinds that prepare: how far ahead of each deadline, and their preparations'
        own kind."""
        self._handlers[_REARM] = self._retry_rearm

    def register(
        self,
        kind: str,
        handler: Handler,
        *,
        rearm: Rearm | None = None,
        together: ManyHandler | None = None,
        prepare: Prepare | None = None,
        lead: timedelta = PREPARE_LEAD,
    ) -> None:
        """`handler(ident, now)` runs when a timer of this kind falls due; `rearm()` schedules
        this kind's pending timers from the database at start-up. `together(idents, now)`,
        if given, runs instead for the timers of this kind that fall due at once (a burst of
        same-instant deadlines, or what fell due while the bot was down): one call for all of
        them rather than a task each.

        `prepare(items, now)`, if given, is told `lead` ahead of each deadline which
        `(ident, deadline)` are coming (those falling in one pass together), so the work of
        the deadline can be done before it and only committed at it. A deadline already
        past is not prepared, and a deadline moved is prepared at its new time."""
        self._handlers[kind] = handler
        if together is not None:
            self._together[kind] = together
        else:
            self._together.pop(kind, None)
        ahead = kind + _AHEAD
        if prepare is not None:
            self._leads[kind] = (lead, ahead)
            many = self._many_ahead(kind, prepare)
            self._together[ahead] = many

            async def one(ident: int, now: datetime) -> None:
                await many([ident], now)

            self._handlers[ahead] = one
        elif kind in self._leads:
            self._forget_ahead(kind)
        if rearm is not None:
            self._rearms[kind] = rearm
            if kind not in self._rearm_order:
                self._rearm_order.append(kind)

    def unregister(self, kind: str) -> None:
        """Forget a kind (its feature is unloaded): its pending timers are dropped."""
        self._handlers.pop(kind, None)
        self._together.pop(kind, None)
        self._rearms.pop(kind, None)
        self._forget_ahead(kind)
        for key in [key for key in self._due if key[0] == kind]:
            del self._due[key]

    def _forget_ahead(self, kind: str) -> None:
        ahead = kind + _AHEAD
        self._leads.pop(kind, None)
        self._handlers.pop(ahead, None)
        self._together.pop(ahead, None)
        for key in [key for key in self._due if key[0] == ahead]:
            del self._due[key]

    def _coming(self, kind: str, idents: list[int], now: datetime) -> list[tuple[int, datetime]]:
        """The deadlines still ahead of the `idents` whose preparation time came."""
        coming: list[tuple[int, datetime]] = []
        for ident in idents:
            due = self._due.get((kind, ident))
            if due is not None and due > now:
                coming.append((ident, due))
        return coming

    def _many_ahead(self, kind: str, prepare: Prepare) -> ManyHandler:
        async def many(idents: list[int], now: datetime) -> None:
            coming = self._coming(kind, idents, now)
            if coming:
                await prepare(coming, now)

        return many

    async def start_and_rearm(self) -> list[str]:
        """Start the loop, then re-arm every kind, each on its own. The loop runs first so
        that nothing a re-arm does (a failure, a slow call to Discord) can hold back another
        kind's timers. A kind whose re-arm fails is logged and tried again from the loop after
        REARM_RETRY, then twice as long each time. Returns the kinds that failed."""
        self.start()
        failed: list[str] = []
        for kind in list(self._rearm_order):
            if not await self._rearm(kind):
                failed.append(kind)
        return failed

    async def _rearm(self, kind: str) -> bool:
        rearm = self._rearms.get(kind)
        if rearm is None:
            return True
        try:
            await rearm()
        except Exception:
            wait = self._rearm_waits.get(kind, REARM_RETRY)
            log.exception("re-arming %s timers failed; trying again in %s", kind, wait)
            self._rearm_waits[kind] = min(wait * 2, REARM_RETRY_MAX)
            self.schedule(_REARM, self._rearm_order.index(kind), self._clock() + wait)
            return False
        self._rearm_waits.pop(kind, None)
        return True

    async def _retry_rearm(self, index: int, now: datetime) -> None:
        if index < len(self._rearm_order):
            await self._rearm(self._rearm_order[index])

    def schedule(self, kind: str, ident: int, due: datetime | None) -> None:
        """Set (or with None, clear) the one pending deadline of `(kind, ident)`."""
        key = (kind, ident)
        prepared = self._leads.get(kind)
        if due is None:
            self._due.pop(key, None)
            if prepared is not None:
                self._due.pop((prepared[1], ident), None)
            return
        if self._due.get(key) == due:
            return
        self._due[key] = due
        if prepared is not None:
            lead, ahead_kind = prepared
            # Pushed first: of the two falling in one pass, the preparation is launched first.
            ahead = (ahead_kind, ident)
            self._due[ahead] = due - lead
            self._push(ahead, due - lead)
        self._push(key, due)

    def _push(self, key: TimerKey, due: datetime) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (due, self._counter, key))
        if self._task is None or self._restarted:
            # Not started yet, or started again and not yet looked at the heap: when it
            # does, it sees this deadline too.
            return
        if self._sleeping_until is None or due < self._sleeping_until:
            # The loop sleeps past this deadline: start it again so it sleeps less.
            self._task.cancel()
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="timers")
            self._restarted = True

    def pending(self, kind: str, ident: int) -> datetime | None:
        return self._due.get((kind, ident))

    def __len__(self) -> int:
        """Pending deadlines (their preparations not counted)."""
        return sum(1 for kind, _ in self._due if not kind.endswith(_AHEAD))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="timers")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for running in list(self._running):
            running.cancel()
        for running in list(self._running):
            with contextlib.suppress(asyncio.CancelledError):
                await running

    async def _loop(self) -> None:
        """Sleep until the earliest deadline; `_push` restarts it when an earlier one arrives.

        A plain sleep (not an event wait) keeps the loop a timed wait that virtual clocks drive.
        """
        while True:
            self._restarted = False
            self._launch_due(self._pop_due())
            delay = self._seconds_to_next()
            if delay is None:
                self._sleeping_until = None
                await asyncio.sleep(IDLE)
            else:
                self._sleeping_until = self._clock() + timedelta(seconds=delay)
                await asyncio.sleep(delay)

    def _seconds_to_next(self) -> float | None:
        while self._heap:
            due, _, key = self._heap[0]
            if self._due.get(key) != due:
                heapq.heappop(self._heap)
                continue
            return max(0.0, (due - self._clock()).total_seconds())
        return None

    def _pop_due(self) -> list[TimerKey]:
        now = self._clock()
        ready: list[TimerKey] = []
        while self._heap and self._heap[0][0] <= now:
            due, _, key = heapq.heappop(self._heap)
            if self._due.get(key) != due:
                continue
            if key in self._busy:
                # The previous run of this key is still going; it re-arms when it finishes.
                continue
            del self._due[key]
            ready.append(key)
        return ready

    def _launch_due(self, ready: list[TimerKey]) -> None:
        by_kind: dict[str, list[int]] = {}
        for kind, ident in ready:
            by_kind.setdefault(kind, []).append(ident)
        for kind, idents in by_kind.items():
            together = self._together.get(kind)
            if together is not None and len(idents) > 1:
                self._launch_together(kind, idents, together)
            else:
                for ident in idents:
                    self._launch((kind, ident))

    def _launch_together(self, kind: str, idents: list[int], together: ManyHandler) -> None:
        keys = [(kind, ident) for ident in idents]
        self._busy.update(keys)
        task = asyncio.get_running_loop().create_task(self._run_together(keys, together))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run_together(self, keys: list[TimerKey], together: ManyHandler) -> None:
        try:
            await together([ident for _, ident in keys], self._clock())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%d timers of %s failed together", len(keys), keys[0][0])
        finally:
            for key in keys:
                self._busy.discard(key)
                if key in self._due:
                    self._push(key, self._due[key])

    def _launch(self, key: TimerKey) -> None:
        handler = self._handlers.get(key[0])
        if handler is None:
            log.error("no handler for timer kind %s", key[0])
            return
        self._busy.add(key)
        task = asyncio.get_running_loop().create_task(self._run(key, handler))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, key: TimerKey, handler: Handler) -> None:
        try:
            await handler(key[1], self._clock())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("timer %s:%s failed", *key)
        finally:
            self._busy.discard(key)
            if key in self._due:
                self._push(key, self._due[key])
