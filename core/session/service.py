"""Runs live sessions: one lock per session, apply a command, persist, return the effects.

The state of every live session is kept in memory and written through to the store after
each transition, in one transaction together with the outbox rows of its effects (see
`core.session.outbox`): a crash never loses a transition that Discord has seen, never loses
an effect of a transition that committed, and a restart resumes from exactly the stored
state. The end of a session is one transaction too: the final state, its records, the
feedback request, and the rows of the summary and the feedback message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.errors import StaleSession, UserError
from core.outbox import Outgoing
from core.session import machine
from core.session.commands import Command, Due
from core.session.effects import Effect
from core.session.model import SessionConfig, SessionState
from core.session.outbox import Where, rows


class SessionStore(Protocol):
    async def create(
        self,
        *,
        group_id: int,
        guild_id: int,
        started_by: int,
        now: datetime,
        build: Callable[[int], tuple[SessionState, list[Outgoing]]],
    ) -> SessionState: ...

    async def save_state(self, state: SessionState, outgoing: list[Outgoing]) -> None: ...

    def encode_ahead(self, state: SessionState, outgoing: Sequence[Outgoing]) -> None: ...

    async def save_states(
        self, saves: Sequence[tuple[SessionState, Sequence[Outgoing]]]
    ) -> set[int]: ...

    async def finish(
        self,
        state: SessionState,
        group_id: int,
        attendance: dict[int, int],
        now: datetime,
        outgoing: list[Outgoing],
    ) -> None: ...


_Applied = tuple[int, SessionState, list[Effect], list[Outgoing], Where]
"""One command of a `command_many` applied and waiting to be saved: its index among the
commands, the new state, its effects, their outbox rows and where they go."""


PREPARED_FOR = timedelta(seconds=2)
"""A hand-over prepared for a deadline is used if the deadline's timer fires at most this
late; later (the loop was held up, the process slept) it is worked out again at the real time."""
PREPARE_CHUNK = 100
"""Hand-overs prepared between two yields to the event loop."""


@dataclass(frozen=True, slots=True)
class _Prepared:
    """`Due` applied ahead of time, at the deadline `at`, to the state `base`."""

    base: SessionState
    at: datetime
    where: Where
    state: SessionState
    effects: list[Effect]
    outgoing: list[Outgoing]

    def fits(self, state: SessionState, where: Where, now: datetime) -> bool:
        """Whether `Due` applied to `state` at `now` is this: nothing changed the session
        since (it is the very state prepared from), the rows go where they would now, and no
        later event fell due between the deadline and now."""
        if self.base is not state or self.where != where:
            return False
        if not self.at <= now < self.at + PREPARED_FOR:
            return False
        after = self.state.next_due()
        return after is None or after > now


class Transition:
    """The outcome of one command: the new state, its effects and their outbox scope."""

    __slots__ = ("effects", "scope", "state")

    def __init__(self, state: SessionState, effects: list[Effect], scope: str) -> None:
        self.state = state
        self.effects = effects
        self.scope = scope


class SessionService:
    def __init__(self, store: SessionStore) -> None:
        self._store = store
        self._live: dict[int, SessionState] = {}
        self._groups: dict[int, int] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._prepared: dict[int, _Prepared] = {}
        self.prepared_used = 0
        """Hand-overs whose transition was prepared before their deadline (for the benchmarks
        and tests: the outcome is the same either way)."""

    def adopt(self, state: SessionState, group_id: int) -> None:
        """Take over a live session loaded from the store (at start-up)."""
        self._live[state.session_id] = state
        self._groups[state.session_id] = group_id
        # Made now rather than at its first command: after a restart that is often a burst
        # of deadlines, each of which would otherwise make its lock in the burst.
        if state.session_id not in self._locks:
            self._locks[state.session_id] = asyncio.Lock()

    def forget(self, session_id: int) -> None:
        """Let go of a session that ended, here or elsewhere (another process ended it)."""
        self._live.pop(session_id, None)
        self._groups.pop(session_id, None)
        self._locks.pop(session_id, None)
        self._prepared.pop(session_id, None)

    def get(self, session_id: int) -> SessionState | None:
        return self._live.get(session_id)

    def live_ids(self) -> list[int]:
        return list(self._live)

    def group_of(self, session_id: int) -> int | None:
        return self._groups.get(session_id)

    def session_for_group(self, group_id: int) -> SessionState | None:
        for session_id, owner in self._groups.items():
            if owner == group_id:
                return self._live.get(session_id)
        return None

    async def start(
        self,
        *,
        where: Callable[[int], Where],
        group_id: int,
        guild_id: int,
        started_by: int,
        config: SessionConfig,
        present: list[tuple[int, datetime]],
        last_hotseat: dict[int, datetime | None],
        seed: int,
        now: datetime,
    ) -> Transition:
        if not present:
            raise UserError("Nobody from the group is in the voice channel yet.")
        if self.session_for_group(group_id) is not None:
            raise UserError("This group already has a live session; `/session end` ends it.")
        effects: list[Effect] = []

        def build(session_id: int) -> tuple[SessionState, list[Outgoing]]:
            state, first = machine.start(session_id, config, present, last_hotseat, seed, now)
            effects.extend(first)
            return state, rows(where(session_id), first, panel_first=True)

        state = await self._store.create(
            group_id=group_id, guild_id=guild_id, started_by=started_by, now=now, build=build
        )
        self.adopt(state, group_id)
        return Transition(state, effects, where(state.session_id).scope())

    async def command(
        self, session_id: int, command: Command, now: datetime, *, where: Where
    ) -> Transition:
        """Apply one command under the session's lock and persist the result, with the outbox
        rows of its effects (`where` says where they go), before returning.

        A refused command raises UserError and changes nothing."""
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        async with lock:
            state = self._live.get(session_id)
            if state is None:
                raise UserError("That session has ended.")
            new_state, effects, outgoing = self._transition(state, command, now, where)
            if new_state.is_ended():
                await self._finish(new_state, outgoing, now)
            else:
                await self._store.save_state(new_state, outgoing)
                self._live[session_id] = new_state
            return Transition(new_state, effects, where.scope())

    async def command_many(
        self, commands: Sequence[tuple[int, Command, Where]], now: datetime
    ) -> list[Transition | Exception]:
        """Apply one command to each of many sessions and persist them together: the
        hand-overs of deadlines that fell in the same instant share one unit of work rather
        than queueing a thousand. Each outcome, in order, is what `command` would have given:
        the Transition, or the UserError or StaleSession it would have raised. A session
        whose lock is taken (a click being applied) waits for it on its own; a session that
        ends is finished in its own transaction, beside the others."""
        outcomes: list[Transition | Exception | None] = [None] * len(commands)
        busy: list[int] = []
        held: list[asyncio.Lock] = []
        try:
            batch: list[_Applied] = []
            for index, (session_id, command, where) in enumerate(commands):
                lock = self._locks.get(session_id)
                if lock is None:
                    lock = self._locks[session_id] = asyncio.Lock()
                if lock.locked():
                    busy.append(index)
                    continue
                # Free and unawaited: taken at once, without yielding to the loop.
                await lock.acquire()
                held.append(lock)
                state = self._live.get(session_id)
                if state is None:
                    outcomes[index] = UserError("That session has ended.")
                    continue
                try:
                    new_state, effects, outgoing = self._transition(state, command, now, where)
                except UserError as refused:
                    outcomes[index] = refused
                    continue
                batch.append((index, new_state, effects, outgoing, where))
            await self._persist_many(batch, outcomes, now)
        finally:
            for lock in held:
                lock.release()
        if busy:
            waited = await asyncio.gather(*(self._one(*commands[index], now) for index in busy))
            for index, outcome in zip(busy, waited, strict=True):
                outcomes[index] = outcome
        done = [outcome for outcome in outcomes if outcome is not None]
        assert len(done) == len(commands), "every command has its outcome"
        return done

    async def prepare(self, coming: Sequence[tuple[int, datetime, Where]]) -> int:
        """Work out ahead of time the hand-overs of deadlines about to fall: `Due` applied to
        each session at its own deadline `at`, with its outbox rows. When the deadline's timer
        fires, `command` or `command_many` only has the save left to do (for a thousand
        deadlines at one instant, most of the work). Anything that changes a session first (a
        click, a join) leaves its prepared hand-over unused, and the deadline works it out
        from the new state. Returns how many were prepared."""
        count = 0
        for index, (session_id, at, where) in enumerate(coming):
            if index and index % PREPARE_CHUNK == 0:
                # A thousand at once would hold up the loop (and every click) for a while.
                await asyncio.sleep(0)
            state = self._live.get(session_id)
            lock = self._locks.get(session_id)
            if state is None or (lock is not None and lock.locked()):
                continue
            try:
                new_state, effects = machine.apply(state, Due(), at)
            except UserError:
                continue
            outgoing = rows(where, effects)
            if not new_state.is_ended():
                self._store.encode_ahead(new_state, outgoing)
            self._prepared[session_id] = _Prepared(state, at, where, new_state, effects, outgoing)
            count += 1
        return count

    def _transition(
        self, state: SessionState, command: Command, now: datetime, where: Where
    ) -> tuple[SessionState, list[Effect], list[Outgoing]]:
        """`command` applied to `state` at `now`, with its outbox rows: the prepared hand-over
        if there is one that fits, else worked out now. A refusal raises UserError."""
        prepared = self._prepared.pop(state.session_id, None)
        if prepared is not None and isinstance(command, Due) and prepared.fits(state, where, now):
            self.prepared_used += 1
            return prepared.state, prepared.effects, prepared.outgoing
        new_state, effects = machine.apply(state, command, now)
        return new_state, effects, rows(where, effects)

    async def _persist_many(
        self,
        batch: list[_Applied],
        outcomes: list[Transition | Exception | None],
        now: datetime,
    ) -> None:
        ending = [item for item in batch if item[1].is_ended()]
        going = [item for item in batch if not item[1].is_ended()]
        saves = [(state, outgoing) for _, state, _, outgoing, _ in going]

        async def save_all() -> set[int]:
            try:
                return await self._store.save_states(saves) if saves else set()
            except Exception:
                # Whatever failed the unit as a whole, each save on its own fails only itself.
                return await self._save_each(going, outcomes)

        stale, *ends = await asyncio.gather(
            save_all(),
            *(self._finish(state, outgoing, now) for _, state, _, outgoing, _ in ending),
            return_exceptions=True,
        )
        if isinstance(stale, BaseException):
            raise stale
        assert isinstance(stale, set)
        for index, state, effects, _, where in going:
            if outcomes[index] is not None:
                continue
            if state.session_id in stale:
                outcomes[index] = StaleSession(state.session_id)
            else:
                self._live[state.session_id] = state
                outcomes[index] = Transition(state, effects, where.scope())
        for (index, state, effects, _, where), ended in zip(ending, ends, strict=True):
            if isinstance(ended, Exception):
                outcomes[index] = ended
            elif isinstance(ended, BaseException):
                raise ended
            else:
                outcomes[index] = Transition(state, effects, where.scope())

    async def _save_each(
        self,
        going: list[_Applied],
        outcomes: list[Transition | Exception | None],
    ) -> set[int]:
        results = await asyncio.gather(
            *(self._store.save_state(state, outgoing) for _, state, _, outgoing, _ in going),
            return_exceptions=True,
        )
        stale: set[int] = set()
        for (index, state, _, _, _), result in zip(going, results, strict=True):
            if isinstance(result, StaleSession):
                stale.add(state.session_id)
            elif isinstance(result, Exception):
                outcomes[index] = result
            elif isinstance(result, BaseException):
                raise result
        return stale

    async def _finish(self, state: SessionState, outgoing: list[Outgoing], now: datetime) -> None:
        session_id = state.session_id
        group_id = self._groups[session_id]
        await self._store.finish(state, group_id, state.attendance_seconds(now), now, outgoing)
        self.forget(session_id)

    async def _one(
        self, session_id: int, command: Command, where: Where, now: datetime
    ) -> Transition | Exception:
        try:
            return await self.command(session_id, command, now, where=where)
        except Exception as error:
            return error
