"""`SessionService.command_many` on a real database: deadlines applied together give what
each command would have given on its own, and one session's trouble stays its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from core.errors import StaleSession, UserError
from core.outbox import Outgoing
from core.session import Due, End, Next, SessionState, apply, default_config
from core.session.outbox import Where
from core.session.service import SessionService, Transition
from storage import Storage
from storage.sessions import SessionRepository
from tests.storage.test_sessions_repo import make_group

NOW = datetime(2026, 1, 1, 18, tzinfo=UTC)
LEAD, ONE, TWO = 201, 202, 203


async def live_sessions(
    storage: Storage, count: int, store: SessionRepository | None = None
) -> tuple[SessionService, list[Where]]:
    """`count` groups, each with a live roundrobin session started at NOW, run by a service
    over `store` (the storage's own sessions repository by default)."""
    service = SessionService(store or storage.sessions)
    wheres = []
    config = default_config("roundrobin", turn_minutes=2, order="joined")
    for index in range(count):
        group_id = await make_group(storage, name=f"Group {index}")
        present = [(LEAD, NOW), (ONE, NOW), (TWO, NOW)]
        transition = await service.start(
            where=lambda session_id, group_id=group_id: Where(session_id, group_id, 10, 55, 56),
            group_id=group_id,
            guild_id=10,
            started_by=LEAD,
            config=config,
            present=present,
            last_hotseat={},
            seed=1,
            now=NOW,
        )
        wheres.append(Where(transition.state.session_id, group_id, 10, 55, 56))
    return service, wheres


def due_at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


async def test_together_gives_what_each_command_gives_alone(storage: Storage) -> None:
    service, wheres = await live_sessions(storage, 4)
    before = {w.session_id: service.get(w.session_id) for w in wheres}
    commits = storage.db.commits

    outcomes = await service.command_many([(w.session_id, Due(), w) for w in wheres], due_at(2))

    assert storage.db.commits == commits + 1
    for where, outcome in zip(wheres, outcomes, strict=True):
        assert isinstance(outcome, Transition)
        state = before[where.session_id]
        assert state is not None
        expected, effects = apply(state, Due(), due_at(2))
        assert outcome.state == expected and outcome.effects == effects
        assert service.get(where.session_id) == expected
        row = await storage.sessions.get(where.session_id)
        assert row is not None and row.state == expected
        kinds = [r.kind for r in await storage.outbox.pending(where.scope())]
        assert kinds[-2:] == ["session.announce", "session.panel"]


async def test_a_refused_an_ended_and_a_stale_session_each_get_their_own_outcome(
    storage: Storage,
) -> None:
    service, (done, ending, stale, fine) = await live_sessions(storage, 4)
    other = Storage.for_database(storage.db)
    adopted = await other.sessions.reload(stale.session_id)
    assert adopted is not None
    moved, _ = apply(adopted.state, Next(LEAD, is_facilitator=True), due_at(1))
    await other.sessions.save_state(moved)
    # One session ended a moment ago on its own.
    await service.command(done.session_id, End(), due_at(1), where=done)

    outcomes = await service.command_many(
        [
            (done.session_id, Due(), done),
            (ending.session_id, End(), ending),
            (stale.session_id, Due(), stale),
            (fine.session_id, Due(), fine),
        ],
        due_at(2),
    )

    refused, ended, lost, applied = outcomes
    assert isinstance(refused, UserError)
    assert isinstance(ended, Transition) and ended.state.is_ended()
    assert await storage.feedback.request(ending.session_id) is not None
    assert service.get(ending.session_id) is None
    assert isinstance(lost, StaleSession) and lost.session_id == stale.session_id
    row = await storage.sessions.get(stale.session_id)
    assert row is not None and row.state == moved, "the other process's state stands"
    assert isinstance(applied, Transition) and service.get(fine.session_id) == applied.state
    assert [s.id for s in await storage.sessions.live()] == [stale.session_id, fine.session_id]


async def test_a_session_busy_with_a_click_waits_for_it_and_the_rest_do_not(
    storage: Storage,
) -> None:
    service, (busy, free) = await live_sessions(storage, 2)
    free_before = service.get(free.session_id)
    assert free_before is not None
    # A click on the busy session is being applied: its lock is held until it commits.
    click = asyncio.create_task(
        service.command(busy.session_id, Next(LEAD, is_facilitator=True), due_at(2), where=busy)
    )
    await asyncio.sleep(0)
    together = asyncio.create_task(
        service.command_many(
            [(busy.session_id, Due(), busy), (free.session_id, Due(), free)], due_at(2)
        )
    )
    clicked = await click
    outcomes = await together

    busy_outcome, free_outcome = outcomes
    assert isinstance(free_outcome, Transition)
    assert free_outcome.state == apply(free_before, Due(), due_at(2))[0]
    # The click went first; the deadline was applied after it, to the state it left.
    assert isinstance(busy_outcome, Transition)
    assert busy_outcome.state == apply(clicked.state, Due(), due_at(2))[0]
    assert service.get(busy.session_id) == busy_outcome.state
    row = await storage.sessions.get(busy.session_id)
    assert row is not None and row.state == busy_outcome.state and row.version == 3


class FailingOnce(SessionRepository):
    """The real repository, whose first many-save fails as a whole (a lost connection)."""

    failed = False

    async def save_states(
        self, saves: Sequence[tuple[SessionState, Sequence[Outgoing]]]
    ) -> set[int]:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the connection dropped")
        return await super().save_states(saves)


async def test_a_unit_failing_as_a_whole_is_retried_session_by_session(
    storage: Storage,
) -> None:
    repository = FailingOnce(storage.db, storage.outbox)
    service, wheres = await live_sessions(storage, 3, repository)

    before = [service.get(w.session_id) for w in wheres]
    outcomes = await service.command_many([(w.session_id, Due(), w) for w in wheres], due_at(2))

    assert repository.failed
    for where, state, outcome in zip(wheres, before, outcomes, strict=True):
        assert state is not None and isinstance(outcome, Transition)
        assert outcome.state == apply(state, Due(), due_at(2))[0]
        row = await storage.sessions.get(where.session_id)
        assert row is not None and row.state == outcome.state and row.version == 2
        kinds = [r.kind for r in await storage.outbox.pending(where.scope())]
        assert kinds[-2:] == ["session.announce", "session.panel"]
