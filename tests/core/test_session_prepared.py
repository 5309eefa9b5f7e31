"""The pure rules of the state's persisted form and of when a prepared hand-over still fits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.session import Due, SessionState, apply, default_config, start
from core.session.codec import state_json
from core.session.model import evolve
from core.session.outbox import Where
from core.session.service import PREPARED_FOR, _Prepared

T0 = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
WHERE = Where(1, 2, 3, 4, 5)


def live() -> SessionState:
    config = default_config("hotseat", turn_minutes=5, order="joined")
    state, _ = start(1, config, [(11, T0), (12, T0), (13, T0)], {}, 7, T0)
    return state


def test_the_encoded_state_is_pydantics_text_and_reads_back_equal() -> None:
    state = live()
    assert state_json(state) == state.model_dump_json()
    loaded = SessionState.model_validate_json(state_json(state))
    assert loaded == state and state_json(loaded) == state.model_dump_json()


def test_a_float_past_positional_notation_differs_only_in_its_exponent_sign() -> None:
    state = live()
    run = state.running
    assert run is not None
    huge = state.model_copy(update={"running": evolve(run, remaining=1e20)})
    assert '"remaining":1e20' in state_json(huge)
    assert '"remaining":1e+20' in huge.model_dump_json()
    assert SessionState.model_validate_json(state_json(huge)) == huge


def test_the_encoder_refuses_what_it_does_not_know() -> None:
    state = live().model_copy(update={"roster": [object()]})
    with pytest.raises(NotImplementedError):
        state_json(state)


def prepared_at(base: SessionState, at: datetime) -> _Prepared:
    after, effects = apply(base, Due(), at)
    return _Prepared(base, at, WHERE, after, effects, [])


def test_a_prepared_hand_over_fits_only_its_own_state_channels_and_moment() -> None:
    base = live()
    deadline = base.next_due()
    assert deadline is not None
    prepared = prepared_at(base, deadline)
    soon = deadline + timedelta(milliseconds=300)
    assert prepared.fits(base, WHERE, deadline) and prepared.fits(base, WHERE, soon)
    assert not prepared.fits(base.model_copy(), WHERE, soon), "an equal copy is another state"
    assert not prepared.fits(base, Where(1, 2, 3, 9, 5), soon)
    assert not prepared.fits(base, WHERE, deadline - timedelta(milliseconds=1))
    assert not prepared.fits(base, WHERE, deadline + PREPARED_FOR)


def test_a_prepared_hand_over_does_not_fit_once_a_later_event_fell_due() -> None:
    base = live()
    deadline = base.next_due()
    assert deadline is not None
    after, effects = apply(base, Due(), deadline)
    run = after.running
    assert run is not None
    # Its next deadline a second after this one (a shortened segment, say).
    close = after.model_copy(
        update={"running": evolve(run, deadline=deadline + timedelta(seconds=1))}
    )
    prepared = _Prepared(base, deadline, WHERE, close, effects, [])
    assert prepared.fits(base, WHERE, deadline + timedelta(milliseconds=900))
    assert not prepared.fits(base, WHERE, deadline + timedelta(seconds=1))
