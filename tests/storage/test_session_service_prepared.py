"""Hand-overs prepared before their deadline, on a real database: what the deadline commits is
exactly what working it out at the deadline would have committed, and anything that changed
the session in between makes the deadline work it out afresh."""

from __future__ import annotations

from datetime import timedelta

from core.session import Due, Joined, Left, apply
from core.session.codec import state_json
from core.session.outbox import Where, rows
from core.session.service import PREPARED_FOR, Transition
from storage import Storage
from tests.storage.test_session_service_together import due_at, live_sessions

LATE_JOINER = 204
DEADLINE = due_at(2)
"""Every session of `live_sessions` hands over for the first time here (two-minute turns)."""
FIRED = DEADLINE + timedelta(milliseconds=300)
"""When the deadline's timer gets to run: a little late, as on a busy loop."""


async def stored_text(storage: Storage, session_id: int) -> str:
    row = await storage.db.fetch_one("SELECT state FROM sessions WHERE id = ?", (session_id,))
    assert row is not None
    return str(row["state"])


async def test_a_prepared_hand_over_commits_what_the_deadline_would_have(
    storage: Storage,
) -> None:
    service, wheres = await live_sessions(storage, 4)
    before = {w.session_id: service.get(w.session_id) for w in wheres}
    assert await service.prepare([(w.session_id, DEADLINE, w) for w in wheres]) == 4
    for where in wheres:
        row = await storage.sessions.get(where.session_id)
        assert row is not None and row.state == before[where.session_id], "nothing saved yet"

    together, alone = wheres[:3], wheres[3]
    outcomes = await service.command_many([(w.session_id, Due(), w) for w in together], FIRED)
    single = await service.command(alone.session_id, Due(), FIRED, where=alone)

    assert service.prepared_used == 4
    for where, outcome in zip(wheres, [*outcomes, single], strict=True):
        state = before[where.session_id]
        assert state is not None and isinstance(outcome, Transition)
        expected, effects = apply(state, Due(), DEADLINE)
        assert outcome.state == expected and outcome.effects == effects
        assert outcome.state.updated_at == DEADLINE, "the hand-over happened at the deadline"
        assert service.get(where.session_id) == expected
        assert await stored_text(storage, where.session_id) == expected.model_dump_json()
        pending = await storage.outbox.pending(where.scope())
        assert [(r.kind, r.payload) for r in pending[-2:]] == [
            (item.kind, item.payload) for item in rows(where, effects)
        ]


async def test_a_change_before_the_deadline_leaves_the_preparation_unused(
    storage: Storage,
) -> None:
    service, (joined, left) = await live_sessions(storage, 2)
    await service.prepare([(w.session_id, DEADLINE, w) for w in (joined, left)])
    prepared = {w.session_id: service.get(w.session_id) for w in (joined, left)}
    # A late joiner arrives in one group; in the other, the next speaker leaves voice.
    moments = DEADLINE - timedelta(milliseconds=500)
    await service.command(joined.session_id, Joined(LATE_JOINER), moments, where=joined)
    await service.command(left.session_id, Left(202), moments, where=left)

    outcomes = await service.command_many([(w.session_id, Due(), w) for w in (joined, left)], FIRED)

    assert service.prepared_used == 0
    for where, outcome in zip((joined, left), outcomes, strict=True):
        changed = service.get(where.session_id)
        assert isinstance(outcome, Transition) and changed == outcome.state
        original = prepared[where.session_id]
        assert original is not None
        stale, _ = apply(original, Due(), DEADLINE)
        assert outcome.state != stale, "the preparation would have lost the change"
        assert await stored_text(storage, where.session_id) == outcome.state.model_dump_json()
    joined_state = service.get(joined.session_id)
    assert joined_state is not None and LATE_JOINER in joined_state.roster


async def test_a_late_timer_or_a_moved_channel_works_the_hand_over_out_afresh(
    storage: Storage,
) -> None:
    service, (late, moved) = await live_sessions(storage, 2)
    await service.prepare([(w.session_id, DEADLINE, w) for w in (late, moved)])
    late_state = service.get(late.session_id)
    assert late_state is not None
    much_later = DEADLINE + PREPARED_FOR + timedelta(seconds=1)
    elsewhere = Where(moved.session_id, moved.group_id, moved.guild_id, 77, 56)

    slow = await service.command(late.session_id, Due(), much_later, where=late)
    channel = await service.command(moved.session_id, Due(), FIRED, where=elsewhere)

    assert service.prepared_used == 0
    assert slow.state == apply(late_state, Due(), much_later)[0]
    assert slow.state.updated_at == much_later
    pending = await storage.outbox.pending(moved.scope())
    assert pending[-1].kind == "session.panel" and pending[-1].payload["channel_id"] == 77
    assert channel.state.updated_at == FIRED


async def test_the_last_deadline_prepared_still_ends_the_session_in_one_transaction(
    storage: Storage,
) -> None:
    service, (where,) = await live_sessions(storage, 1)
    # Three members, two-minute turns: the third deadline ends the session.
    for minutes in (2, 4):
        await service.command(where.session_id, Due(), due_at(minutes), where=where)
    last = due_at(6)
    await service.prepare([(where.session_id, last, where)])

    outcome = await service.command(where.session_id, Due(), last, where=where)

    assert service.prepared_used == 1
    assert outcome.state.is_ended() and service.get(where.session_id) is None
    assert await storage.feedback.request(where.session_id) is not None
    kinds = [r.kind for r in await storage.outbox.pending(where.scope())]
    assert kinds[-2:] == ["session.summary", "session.feedback"]


async def test_a_save_encoded_ahead_is_used_only_for_that_very_state_and_rows(
    storage: Storage,
) -> None:
    service, (where,) = await live_sessions(storage, 1)
    store = storage.sessions
    state = service.get(where.session_id)
    assert state is not None
    coming, effects = apply(state, Due(), DEADLINE)
    store.encode_ahead(coming, rows(where, effects))

    # Something else is saved first (a late joiner): that state is what is stored.
    other, other_effects = apply(state, Joined(LATE_JOINER), DEADLINE)
    await store.save_state(other, rows(where, other_effects))
    assert await stored_text(storage, where.session_id) == state_json(other)

    # Encoded ahead again and saved in a many-save, with rows equal but not the same list.
    then, then_effects = apply(other, Due(), DEADLINE)
    outgoing = rows(where, then_effects)
    store.encode_ahead(then, outgoing)
    assert await store.save_states([(then, list(outgoing))]) == set()
    assert await stored_text(storage, where.session_id) == then.model_dump_json()

    # And the very state and rows encoded ahead are saved as encoded.
    last, last_effects = apply(then, Due(), due_at(4))
    last_rows = rows(where, last_effects)
    store.encode_ahead(last, last_rows)
    await store.save_state(last, last_rows)
    assert await stored_text(storage, where.session_id) == last.model_dump_json()
    kinds = [r.kind for r in await storage.outbox.pending(where.scope())]
    assert kinds[-2:] == ["session.announce", "session.panel"]
