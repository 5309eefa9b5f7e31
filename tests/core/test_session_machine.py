"""Example-based tests of every floor rule, with explicit instants (seconds after T0)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import UserError
from core.session import (
    Announce,
    Command,
    Due,
    Effect,
    End,
    Ended,
    Extend,
    Format,
    Joined,
    Left,
    LowerHand,
    Move,
    Mute,
    Next,
    Order,
    Outcome,
    PanelChanged,
    Pause,
    Phase,
    RaiseHand,
    Resume,
    SegmentView,
    SessionState,
    Skip,
    Stick,
    Unmute,
    Warn,
    apply,
    default_config,
    start,
)

T0 = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)
FACILITATOR = 1000  # not on the agenda; acts with is_facilitator=True


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def secs(moment: datetime | None) -> float:
    assert moment is not None
    return (moment - T0).total_seconds()


def begin(
    fmt: Format = Format.STANDARD,
    members: tuple[int, ...] = (1, 2, 3, 4),
    turn_minutes: int | None = None,
    hotseats: int | None = None,
) -> tuple[SessionState, list[Effect]]:
    """A session whose order is the order of `members` (they joined voice in that order)."""
    config = default_config(fmt, turn_minutes, hotseats, Order.JOINED)
    present = [
        (m, T0 - timedelta(minutes=10) + timedelta(seconds=i)) for i, m in enumerate(members)
    ]
    return start(1, config, present, {}, 0, T0)


def step(
    state: SessionState, command: Command, seconds: float
) -> tuple[SessionState, list[Effect]]:
    """Apply and check the two things every transition promises: the input is untouched and
    the new state survives a save and reload."""
    before = state.model_dump_json()
    new, effects = apply(state, command, at(seconds))
    assert state.model_dump_json() == before
    assert SessionState.model_validate_json(new.model_dump_json()) == new
    return new, effects


def refused(state: SessionState, command: Command, seconds: float, match: str) -> None:
    before = state.model_dump_json()
    with pytest.raises(UserError, match=match):
        apply(state, command, at(seconds))
    assert state.model_dump_json() == before


def now_on(state: SessionState) -> SegmentView:
    """The current segment, which a live session always has."""
    view = state.current()
    assert view is not None
    return view


def announces(effects: list[Effect]) -> list[Announce]:
    return [e for e in effects if isinstance(e, Announce)]


def holder_phase(state: SessionState) -> tuple[int | None, Phase | None]:
    floor = state.floor()
    return state.floor_holder(), None if floor is None else floor.phase


def outcomes(state: SessionState) -> list[tuple[int, Phase, Outcome, int]]:
    return [(r.speaker_id, r.phase, r.outcome, r.actual_seconds) for r in state.records]


def run_due_until_end(state: SessionState) -> list[tuple[float, list[Effect]]]:
    """Fire the timer exactly at each `next_due()` until the session ends."""
    log: list[tuple[float, list[Effect]]] = []
    while not state.is_ended():
        due = state.next_due()
        assert due is not None
        state, effects = apply(state, Due(), due)
        log.append((secs(due), effects))
    return log


def to_hot_seat_advice(state: SessionState, seconds: float) -> SessionState:
    """In the `hotseat` format: move member 1 from present through questions to advice."""
    state, _ = step(state, Next(1, False), seconds)
    state, _ = step(state, Next(1, False), seconds)
    current = state.current()
    assert current is not None and current.phase == Phase.ADVICE
    return state


# -- a whole standard session ---------------------------------------------------------------


def test_four_member_standard_session_from_start_to_end() -> None:
    state, effects = begin()
    assert effects == [Announce(1, Phase.CHECKIN, "checkin", at(120)), PanelChanged()]
    assert state.next_due() == at(60)  # the first warning

    log = run_due_until_end(state)
    timeline = [(t, e) for t, effects in log for e in effects if not isinstance(e, PanelChanged)]
    expected: list[tuple[float, Effect]] = []
    t = 0
    for member in (1, 2, 3, 4):  # check-in: 2 min each, warned after 1 min
        if member > 1:
            expected.append((t, Announce(member, Phase.CHECKIN, "checkin", at(t + 120))))
        expected.append((t + 60, Warn(member, at(t + 120))))
        t += 120
    for member in (1, 2):  # hot seats: 5 + 5 + 10 minutes
        for phase, length in ((Phase.PRESENT, 300), (Phase.QUESTIONS, 300), (Phase.ADVICE, 600)):
            expected.append((t, Announce(member, phase, "hotseats", at(t + length))))
            expected.append((t + length - 60, Warn(member, at(t + length))))
            t += length
    for member in (1, 2, 3, 4):  # commitments: 1 min each, too short for a warning
        expected.append((t, Announce(member, Phase.COMMITMENTS, "commitments", at(t + 60))))
        t += 60
    expected.append((t, Ended("completed")))
    assert timeline == expected
    assert t == 52 * 60

    final = log[-1][1]
    assert final == [PanelChanged(), Ended("completed")]


def test_finished_session_records_every_segment_once_on_schedule() -> None:
    state, _ = begin()
    while not state.is_ended():
        state, _ = apply(state, Due(), state.next_due() or T0)
    assert len(state.records) == 4 + 6 + 4
    assert all(r.outcome == Outcome.TIMEOUT for r in state.records)
    assert all(r.actual_seconds == r.planned_seconds for r in state.records)
    # Each segment starts the instant the previous one ended.
    for previous, record in zip(state.records, state.records[1:], strict=False):
        assert record.started_at == previous.ended_at
    assert state.ended_at == at(52 * 60)
    assert state.end_reason == "completed"
    assert state.floor_holder() is None and state.current() is None
    assert state.next_due() is None
    refused(state, Due(), 99999, "already ended")
    refused(state, Joined(9), 99999, "already ended")


def test_next_ends_the_turn_early_and_the_next_starts_now() -> None:
    state, _ = begin(Format.ROUNDROBIN)
    state, effects = step(state, Next(1, False), 100)
    assert effects == [Announce(2, Phase.TURN, "turns", at(400)), PanelChanged()]
    assert outcomes(state) == [(1, Phase.TURN, Outcome.DONE, 100)]
    current = state.current()
    assert current is not None and current.started_at == at(100)


def test_next_by_someone_without_the_floor_is_refused_but_a_facilitator_may() -> None:
    state, _ = begin(Format.ROUNDROBIN)
    refused(state, Next(2, False), 10, "holding the floor or a facilitator")
    state, _ = step(state, Next(FACILITATOR, True), 10)
    assert state.floor_holder() == 2


def test_hot_seat_phases_each_announce_the_same_member() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2), turn_minutes=4)
    state, effects = step(state, Next(1, False), 30)
    assert announces(effects) == [Announce(1, Phase.QUESTIONS, "hotseats", at(90))]
    state, effects = step(state, Due(), 90)
    assert announces(effects) == [Announce(1, Phase.ADVICE, "hotseats", at(210))]
    # Advice lasts 120 s (> 90 s) so it gets a warning; present and questions (60 s) do not.
    state, effects = step(state, Due(), 150)
    assert effects == [Warn(1, at(210))]


# -- raised hands ---------------------------------------------------------------------------


def test_raised_hands_take_the_floor_in_turn_and_it_returns_to_the_hot_seat() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2, 3, 4), turn_minutes=20)  # advice 600 s
    state = to_hot_seat_advice(state, 0)
    assert state.next_due() == at(540)

    state, effects = step(state, RaiseHand(2), 10)
    assert effects == [Announce(2, Phase.RESPONSE, "hotseats", at(130)), PanelChanged()]
    assert holder_phase(state) == (2, Phase.RESPONSE)
    current = state.current()
    assert current is not None and current.speaker_id == 1  # the advice segment goes on

    state, effects = step(state, RaiseHand(3), 20)
    assert effects == [PanelChanged()]  # queued behind 2
    state, _ = step(state, RaiseHand(4), 25)
    assert state.hands == [3, 4]

    state, effects = step(state, Due(), 130)  # 2's two minutes are up
    assert announces(effects) == [Announce(3, Phase.RESPONSE, "hotseats", at(250))]
    assert not any(isinstance(e, Warn) for e in effects)  # never a warning for a response
    state, effects = step(state, LowerHand(4), 140)
    assert effects == [PanelChanged()]
    state, effects = step(state, Next(3, False), 200)  # 3 is done early
    assert announces(effects) == [Announce(1, Phase.ADVICE, "hotseats", at(600))]
    assert holder_phase(state) == (1, Phase.ADVICE)

    responses = [r for r in state.records if r.phase == Phase.RESPONSE]
    assert [(r.speaker_id, r.outcome, r.actual_seconds, r.planned_seconds) for r in responses] == [
        (2, Outcome.TIMEOUT, 120, 120),
        (3, Outcome.DONE, 70, 120),
    ]
    assert all(r.segment_id == now_on(state).segment_id for r in responses)


def test_hand_rules_refusals() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2, 3), turn_minutes=8)
    refused(state, RaiseHand(2), 5, "only during the advice phase")
    state = to_hot_seat_advice(state, 5)
    refused(state, RaiseHand(1), 6, "You are in the hot seat")
    refused(state, RaiseHand(77), 6, "Join the group's voice channel")
    refused(state, LowerHand(2), 6, "not raised")
    state, _ = step(state, RaiseHand(2), 6)
    refused(state, RaiseHand(2), 7, "already have the floor")
    state, _ = step(state, RaiseHand(3), 7)
    refused(state, RaiseHand(3), 8, "already raised")
    # During a response the hot-seat member does not hold the floor, so cannot press Next.
    refused(state, Next(1, False), 8, "holding the floor")


def test_response_slot_never_outlasts_the_advice_phase() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2, 3), turn_minutes=8)  # advice 240 s
    state = to_hot_seat_advice(state, 0)
    state, effects = step(state, RaiseHand(2), 200)
    assert announces(effects) == [Announce(2, Phase.RESPONSE, "hotseats", at(240))]
    state, _ = step(state, RaiseHand(3), 210)
    state, effects = step(state, Due(), 240)
    # The advice ends: the response ends with it, the queue is cleared, member 2 of the
    # next hot seat gets the floor.
    assert announces(effects) == [Announce(2, Phase.PRESENT, "hotseats", at(360))]
    assert state.hands == [] and state.response is None
    assert outcomes(state)[-2:] == [
        (2, Phase.RESPONSE, Outcome.TIMEOUT, 40),
        (1, Phase.ADVICE, Outcome.TIMEOUT, 240),
    ]


def test_responder_leaving_passes_the_floor_to_the_next_hand() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2, 3), turn_minutes=8)
    state = to_hot_seat_advice(state, 0)
    state, _ = step(state, RaiseHand(2), 10)
    state, _ = step(state, RaiseHand(3), 11)
    state, effects = step(state, Left(2), 40)
    assert announces(effects) == [Announce(3, Phase.RESPONSE, "hotseats", at(160))]
    assert outcomes(state)[-1] == (2, Phase.RESPONSE, Outcome.LEFT, 30)
    assert state.grace is None  # a responder gets no grace: the floor moves on at once


def test_lowering_your_hand_while_responding_ends_your_response() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2), turn_minutes=8)
    state = to_hot_seat_advice(state, 0)
    state, _ = step(state, RaiseHand(2), 10)
    state, effects = step(state, LowerHand(2), 30)
    assert announces(effects) == [Announce(1, Phase.ADVICE, "hotseats", at(240))]
    assert outcomes(state)[-1] == (2, Phase.RESPONSE, Outcome.DONE, 20)


# -- late joiners -------------------------------------------------------------------------


def test_late_joiner_is_appended_to_checkin_and_commitments_not_hot_seats() -> None:
    state, _ = begin(Format.STANDARD, (1, 2, 3))
    state, effects = step(state, Joined(9), 30)
    assert effects == [PanelChanged()]
    assert state.roster == [1, 2, 3, 9]
    by_round = {
        name: [s.speaker_id for s in state.pending if s.round == name]
        for name in ("checkin", "hotseats", "commitments")
    }
    assert by_round == {
        "checkin": [2, 3, 9],
        "hotseats": [1, 1, 1, 2, 2, 2],
        "commitments": [1, 2, 3, 9],
    }


def test_late_joiner_during_hot_seats_only_gets_a_commitment() -> None:
    state, _ = begin(Format.STANDARD, (1, 2))
    state, _ = step(state, Due(), 240)  # check-in over, hot seat of 1 begins
    current = state.current()
    assert current is not None and current.round == "hotseats"
    state, _ = step(state, Joined(9), 250)
    assert [s.speaker_id for s in state.pending if s.round == "checkin"] == []
    assert [s.speaker_id for s in state.pending if s.round == "commitments"] == [1, 2, 9]


def test_late_joiner_when_the_current_round_has_nothing_pending_speaks_next() -> None:
    state, _ = begin(Format.STANDARD, (1,), hotseats=1)
    state, _ = step(state, Joined(5), 10)  # 1 is the last of check-in
    assert [(s.speaker_id, s.round) for s in state.upcoming(2)] == [
        (5, "checkin"),
        (1, "hotseats"),
    ]


def test_late_joiner_in_roundrobin_and_hotseat_formats() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2))
    state, _ = step(state, Joined(3), 5)
    assert [s.speaker_id for s in state.pending] == [2, 3]
    state, _ = begin(Format.HOTSEAT, (1, 2))
    state, _ = step(state, Joined(3), 5)
    assert [(s.speaker_id, s.phase) for s in state.pending[-3:]] == [
        (3, Phase.PRESENT),
        (3, Phase.QUESTIONS),
        (3, Phase.ADVICE),
    ]


def test_someone_already_on_the_agenda_just_comes_back() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2, 3))
    state, _ = step(state, Left(3), 10)
    pending = list(state.pending)
    state, effects = step(state, Joined(3), 20)
    assert effects == []
    assert state.pending == pending and state.roster == [1, 2, 3]
    assert state.is_present(3)
    state, effects = step(state, Joined(3), 21)  # already here: nothing happens
    assert effects == []


# -- leaving, grace and absence -----------------------------------------------------------


def test_speaker_who_comes_back_within_a_minute_keeps_the_turn() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=5)
    state, effects = step(state, Left(1), 30)
    assert effects == [PanelChanged()]
    assert state.grace is not None and state.grace.until == at(90)
    assert state.floor_holder() == 1  # the floor waits
    assert state.next_due() == at(90)
    state, effects = step(state, Joined(1), 80)
    assert effects == [PanelChanged()]
    assert state.grace is None
    assert state.next_due() == at(240)  # the turn's warning, on the original schedule
    state, _ = step(state, Due(), 300)
    assert outcomes(state) == [(1, Phase.TURN, Outcome.TIMEOUT, 300)]  # time kept running
    assert state.attendance_seconds(at(300)) == {1: 250, 2: 300}


def test_speaker_who_does_not_come_back_loses_the_turn_after_a_minute() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=5)
    state, _ = step(state, Left(1), 30)
    state, effects = step(state, Due(), 90)
    assert effects == [Announce(2, Phase.TURN, "turns", at(390)), PanelChanged()]
    assert outcomes(state) == [(1, Phase.TURN, Outcome.LEFT, 90)]


def test_hot_seat_member_who_leaves_loses_all_remaining_phases() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2), turn_minutes=20)
    state, _ = step(state, Left(1), 100)
    state, effects = step(state, Due(), 160)
    assert announces(effects) == [Announce(2, Phase.PRESENT, "hotseats", at(460))]
    assert outcomes(state) == [
        (1, Phase.PRESENT, Outcome.LEFT, 160),
        (1, Phase.QUESTIONS, Outcome.LEFT, 0),
        (1, Phase.ADVICE, Outcome.LEFT, 0),
    ]
    assert [r.started_at for r in state.records] == [T0, None, None]


def test_grace_carries_over_a_hot_seat_phase_change() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2), turn_minutes=4)  # present 60 s
    state, _ = step(state, Left(1), 40)  # grace until 100
    state, effects = step(state, Due(), 60)  # questions starts, floor still waits for 1
    assert announces(effects) == [Announce(1, Phase.QUESTIONS, "hotseats", at(120))]
    assert state.grace is not None and state.grace.until == at(100)
    state, _ = step(state, Joined(1), 95)
    assert state.grace is None
    assert outcomes(state) == [(1, Phase.PRESENT, Outcome.TIMEOUT, 60)]


def test_absent_speaker_is_passed_over_at_the_same_instant() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2, 3), turn_minutes=2)
    state, effects = step(state, Left(2), 10)
    assert effects == []  # not the speaker: nothing to wait for
    state, effects = step(state, Due(), 120)
    assert announces(effects) == [Announce(3, Phase.TURN, "turns", at(240))]
    assert outcomes(state) == [
        (1, Phase.TURN, Outcome.TIMEOUT, 120),
        (2, Phase.TURN, Outcome.ABSENT, 0),
    ]
    assert state.records[1].started_at == state.records[1].ended_at == at(120)


def test_everyone_left_ends_the_session_without_announcing_anyone() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=2)
    state, _ = step(state, Left(2), 10)
    state, effects = step(state, Due(), 120)
    assert effects == [PanelChanged(), Ended("completed")]
    assert outcomes(state)[-1] == (2, Phase.TURN, Outcome.ABSENT, 0)


# -- pause, resume, extend ------------------------------------------------------------------


def test_pause_freezes_the_turn_and_resume_restarts_the_clock() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=5)
    state, effects = step(state, Pause(1, False), 100)
    assert effects == [PanelChanged()]
    assert state.is_paused() and state.next_due() is None
    view = state.current()
    assert view is not None and view.deadline is None and view.remaining_seconds == 200
    assert state.current_elapsed(at(100)) == 100
    still, effects = step(state, Due(), 5000)
    assert effects == [] and still.records == [] and still.current_elapsed(at(5000)) == 100
    refused(state, Pause(FACILITATOR, True), 200, "already paused")
    refused(state, Resume(2, False), 700, "Only the speaker or a facilitator")

    state, effects = step(state, Resume(FACILITATOR, True), 700)
    assert effects == [PanelChanged()]
    assert now_on(state).deadline == at(900)
    assert state.next_due() == at(840)  # warning re-armed for the new schedule
    refused(state, Resume(1, False), 701, "not paused")
    state, effects = step(state, Due(), 840)
    assert effects == [Warn(1, at(900))]
    state, _ = step(state, Due(), 900)
    assert outcomes(state) == [(1, Phase.TURN, Outcome.TIMEOUT, 300)]  # paused time excluded
    assert state.total_paused(at(900)) == 600


def test_next_while_paused_keeps_the_session_paused() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=5)
    state, _ = step(state, Pause(1, False), 60)
    state, effects = step(state, Next(1, False), 90)
    assert announces(effects) == [Announce(2, Phase.TURN, "turns", None)]
    assert outcomes(state) == [(1, Phase.TURN, Outcome.DONE, 60)]
    view = state.current()
    assert view is not None and view.remaining_seconds == 300 and state.is_paused()
    state, _ = step(state, Resume(2, False), 100)
    assert state.next_due() == at(340)


def test_extend_moves_the_deadline_and_rearms_the_warning() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=5)
    state, effects = step(state, Due(), 240)
    assert effects == [Warn(1, at(300))]
    state, effects = step(state, Extend(1, False, 120), 250)
    assert effects == [PanelChanged()]
    assert state.next_due() == at(360)  # a fresh warning for the new deadline
    state, effects = step(state, Due(), 360)
    assert effects == [Warn(1, at(420))]
    state, _ = step(state, Due(), 420)
    assert outcomes(state) == [(1, Phase.TURN, Outcome.TIMEOUT, 420)]


def test_extend_while_paused_adds_to_the_remaining_time() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=5)
    state, _ = step(state, Pause(1, False), 100)
    state, _ = step(state, Extend(FACILITATOR, True, 60), 110)
    view = state.current()
    assert view is not None and view.remaining_seconds == 260 and view.extended_seconds == 60
    state, _ = step(state, Resume(1, False), 200)
    assert now_on(state).deadline == at(460)


def test_extensions_are_capped_at_fifteen_minutes_per_segment() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=5)
    state, _ = step(state, Extend(1, False, 600), 10)
    state, _ = step(state, Extend(1, False, 300), 20)  # exactly 15 min in total is allowed
    assert now_on(state).deadline == at(1200)
    refused(state, Extend(FACILITATOR, True, 1), 30, "15 minutes at most")
    refused(state, Extend(2, False, 60), 30, "Only the speaker or a facilitator")
    refused(state, Extend(1, False, 0), 30, "at least one second")
    # The cap is per segment: the next turn can be extended again.
    state, _ = step(state, Next(1, False), 40)
    state, _ = step(state, Extend(2, False, 900), 41)
    assert now_on(state).extended_seconds == 900


def test_a_hot_seat_shares_one_fifteen_minute_allowance_over_its_three_phases() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2), turn_minutes=4)  # 60 s, 60 s, 120 s
    state, _ = step(state, Extend(1, False, 600), 10)
    assert now_on(state).deadline == at(660)
    state, _ = step(state, Due(), 660)  # on to the questions, with 10 min used
    assert now_on(state).phase == Phase.QUESTIONS and now_on(state).extended_seconds == 600
    state, _ = step(state, Extend(FACILITATOR, True, 240), 670)
    refused(state, Extend(1, False, 120), 680, "over its three phases, can be extended by 15")
    state, _ = step(state, Extend(1, False, 60), 680)  # exactly 15 min over the hot seat
    state, _ = step(state, Next(1, False), 700)
    assert now_on(state).phase == Phase.ADVICE and now_on(state).extended_seconds == 900
    refused(state, Extend(FACILITATOR, True, 1), 710, "0 min of extension left")
    # The next hot seat starts with a fresh allowance.
    state, _ = step(state, Next(1, False), 720)
    assert now_on(state).speaker_id == 2 and now_on(state).extended_seconds == 0
    state, _ = step(state, Extend(2, False, 900), 721)


def test_the_responder_extends_their_own_response_within_the_advice_phase() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2, 3), turn_minutes=20)  # advice 600 s
    state = to_hot_seat_advice(state, 0)
    state, _ = step(state, RaiseHand(2), 10)
    assert state.floor_deadline() == at(130)
    state, effects = step(state, Extend(2, False, 120), 20)
    assert effects == [PanelChanged()]
    assert state.floor_deadline() == at(250) and now_on(state).deadline == at(600)
    # Someone else who neither holds the floor nor sits in the hot seat still may not.
    refused(state, Extend(3, False, 120), 30, "Only the speaker or a facilitator")
    # Never past the end of the phase: the response is stretched to it, then refused.
    state, _ = step(state, Extend(2, False, 900), 40)
    assert state.floor_deadline() == at(600) and now_on(state).deadline == at(600)
    refused(state, Extend(2, False, 60), 50, "runs to the end of the advice phase")
    state, _ = step(state, Due(), 600)
    assert outcomes(state)[-2:] == [
        (2, Phase.RESPONSE, Outcome.TIMEOUT, 590),
        (1, Phase.ADVICE, Outcome.TIMEOUT, 600),
    ]


def test_the_responder_extends_while_paused() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2), turn_minutes=20)
    state = to_hot_seat_advice(state, 0)
    state, _ = step(state, RaiseHand(2), 10)
    state, _ = step(state, Pause(FACILITATOR, True), 70)  # 60 s of the response left
    state, _ = step(state, Extend(2, False, 120), 80)
    state, _ = step(state, Resume(FACILITATOR, True), 100)
    assert state.floor_deadline() == at(280)


# -- skip, move, end ----------------------------------------------------------------------


def test_skip_the_current_hot_seat_skips_all_its_phases() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2), turn_minutes=4)
    state, effects = step(state, Skip(1), 20)
    assert announces(effects) == [Announce(2, Phase.PRESENT, "hotseats", at(80))]
    assert outcomes(state) == [
        (1, Phase.PRESENT, Outcome.SKIPPED, 20),
        (1, Phase.QUESTIONS, Outcome.SKIPPED, 0),
        (1, Phase.ADVICE, Outcome.SKIPPED, 0),
    ]


def test_skip_a_pending_member_removes_their_next_segment_only() -> None:
    state, _ = begin(Format.STANDARD, (1, 2, 3))
    state, effects = step(state, Skip(3), 10)
    assert effects == [PanelChanged()]
    assert outcomes(state) == [(3, Phase.CHECKIN, Outcome.SKIPPED, 0)]
    assert state.records[0].started_at is None
    assert [s.speaker_id for s in state.pending if s.round == "checkin"] == [2]
    assert [s.speaker_id for s in state.pending if s.round == "commitments"] == [1, 2, 3]
    state, _ = step(state, Skip(2), 11)
    state, _ = step(state, Skip(2), 12)  # now the hot seat of 2 goes, as a whole
    assert [(r.speaker_id, r.phase) for r in state.records[-3:]] == [
        (2, Phase.PRESENT),
        (2, Phase.QUESTIONS),
        (2, Phase.ADVICE),
    ]
    refused(state, Skip(42), 13, "no turn left")


def test_move_reorders_the_current_round() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2, 3, 4))
    state, effects = step(state, Move(4, 1), 10)
    assert effects == [PanelChanged()]
    assert state.upcoming_speakers(3) == [4, 2, 3]
    state, _ = step(state, Move(4, 3), 11)
    assert state.upcoming_speakers(3) == [2, 3, 4]
    refused(state, Move(4, 4), 12, "between 1 and 3")
    refused(state, Move(4, 0), 12, "between 1 and 3")
    refused(state, Move(1, 1), 12, "no turn waiting")  # 1 is speaking


def test_move_a_whole_hot_seat_within_its_round_only() -> None:
    state, _ = begin(Format.STANDARD, (1, 2, 3), hotseats=3)
    state, _ = step(state, Due(), 360)  # into the hot seats: 1 is presenting
    state, _ = step(state, Move(3, 1), 370)
    hot = [(s.speaker_id, s.phase) for s in state.pending if s.round == "hotseats"]
    assert hot == [
        (1, Phase.QUESTIONS),  # the current hot seat's own phases stay first
        (1, Phase.ADVICE),
        (3, Phase.PRESENT),
        (3, Phase.QUESTIONS),
        (3, Phase.ADVICE),
        (2, Phase.PRESENT),
        (2, Phase.QUESTIONS),
        (2, Phase.ADVICE),
    ]
    refused(state, Move(1, 1), 371, "no turn waiting")  # the hot seat in progress stays
    assert [s.speaker_id for s in state.pending if s.round == "commitments"] == [1, 2, 3]


def test_end_closes_the_current_segment_and_skips_the_rest() -> None:
    state, _ = begin(Format.STANDARD, (1, 2))
    state, effects = step(state, End(), 45)
    assert effects == [PanelChanged(), Ended("ended")]
    assert outcomes(state)[0] == (1, Phase.CHECKIN, Outcome.DONE, 45)
    assert {r.outcome for r in state.records[1:]} == {Outcome.SKIPPED}
    assert len(state.records) == 2 + 6 + 2
    assert state.is_ended() and state.pending == []
    refused(state, Next(FACILITATOR, True), 50, "already ended")


def test_end_while_paused_does_not_count_the_pause() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2))
    state, _ = step(state, Pause(1, False), 30)
    state, _ = step(state, End(), 500)
    assert outcomes(state)[0] == (1, Phase.TURN, Outcome.DONE, 30)
    assert not state.is_paused() and state.total_paused(at(500)) == 470


# -- talking stick ------------------------------------------------------------------------


def test_talking_stick_mutes_everyone_but_the_floor_and_restores_only_its_own_mutes() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2, 3, 4))
    state, effects = step(state, Stick(True, [1, 2, 3, 4, 99], [3]), 5)
    assert effects == [Mute(2), Mute(4), Mute(99), PanelChanged()]  # not 1 (floor), not 3
    assert state.bot_mutes == [2, 4, 99]

    state, effects = step(state, Next(1, False), 10)
    assert effects[:2] == [Unmute(2), Mute(1)]
    assert announces(effects) == [Announce(2, Phase.TURN, "turns", at(310))]

    state, effects = step(state, Next(2, False), 20)  # 3 was muted by someone else: untouched
    assert effects[:1] == [Mute(2)]
    assert not any(isinstance(e, Unmute) for e in effects)

    state, effects = step(state, Joined(7), 30)
    assert Mute(7) in effects

    state, effects = step(state, Stick(False, [], []), 40)
    assert effects == [Unmute(1), Unmute(2), Unmute(4), Unmute(7), Unmute(99), PanelChanged()]
    assert state.bot_mutes == []


def test_talking_stick_hands_over_to_responders() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2, 3), turn_minutes=8)
    state = to_hot_seat_advice(state, 0)
    state, _ = step(state, Stick(True, [1, 2, 3], []), 1)
    state, effects = step(state, RaiseHand(2), 2)
    assert effects[:2] == [Unmute(2), Mute(1)]
    state, effects = step(state, Next(2, False), 30)
    assert effects[:2] == [Unmute(1), Mute(2)]


def test_a_speaker_who_left_is_not_muted_when_the_floor_moves_on() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2))
    state, _ = step(state, Stick(True, [1, 2], []), 1)
    state, _ = step(state, Left(1), 5)
    state, effects = step(state, Due(), 65)
    assert effects[:1] == [Unmute(2)]
    assert not any(isinstance(e, Mute) for e in effects)
    assert state.bot_mutes == []


def test_session_end_releases_every_mute_the_bot_made() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2, 3))
    state, _ = step(state, Stick(True, [1, 2, 3], [2]), 1)
    assert state.bot_mutes == [3]
    state, effects = step(state, End(), 10)
    assert effects == [Unmute(3), PanelChanged(), Ended("ended")]
    assert state.bot_mutes == [] and not state.stick


# -- downtime: collapse ---------------------------------------------------------------------


def test_after_a_long_gap_everything_due_closes_with_one_announcement() -> None:
    state, _ = begin(Format.STANDARD, (1, 2, 3, 4))
    # The bot was down for 20 minutes: the check-in (8 min) and the first 12 min of the hot
    # seat of 1 fell due. Time keeps its absolute schedule.
    state, effects = step(state, Due(), 20 * 60)
    assert effects == [Announce(1, Phase.ADVICE, "hotseats", at(28 * 60)), PanelChanged()]
    assert [(r.speaker_id, r.phase, r.ended_at) for r in state.records] == [
        (1, Phase.CHECKIN, at(120)),
        (2, Phase.CHECKIN, at(240)),
        (3, Phase.CHECKIN, at(360)),
        (4, Phase.CHECKIN, at(480)),
        (1, Phase.PRESENT, at(780)),
        (1, Phase.QUESTIONS, at(1080)),
    ]
    assert all(r.outcome == Outcome.TIMEOUT for r in state.records)
    assert now_on(state).started_at == at(1080)
    assert state.next_due() == at(27 * 60)


def test_a_slightly_late_warning_is_still_sent_but_a_stale_one_is_dropped() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2), turn_minutes=5)
    late, effects = step(state, Due(), 245)
    assert effects == [Warn(1, at(300))]
    stale, effects = step(state, Due(), 280)
    assert effects == []
    assert stale.running is not None and stale.running.warned  # not sent later either
    assert stale.next_due() == at(300)
    assert late.next_due() == at(300)


def test_collapse_after_downtime_into_a_response_slot() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2, 3), turn_minutes=8)
    state = to_hot_seat_advice(state, 0)
    state, _ = step(state, RaiseHand(2), 10)
    state, _ = step(state, RaiseHand(3), 11)
    state, effects = step(state, Due(), 500)  # both responses and the advice fell due
    # The hot seat of 1 closed at 240; 2 presented and answered questions while the bot was
    # down, and is now in the advice phase, announced once, with no stale warnings.
    assert effects == [Announce(2, Phase.ADVICE, "hotseats", at(720)), PanelChanged()]
    assert [(r.speaker_id, r.phase, r.outcome, r.actual_seconds) for r in state.records[2:]] == [
        (2, Phase.RESPONSE, Outcome.TIMEOUT, 120),
        (3, Phase.RESPONSE, Outcome.TIMEOUT, 110),
        (1, Phase.ADVICE, Outcome.TIMEOUT, 240),
        (2, Phase.PRESENT, Outcome.TIMEOUT, 120),
        (2, Phase.QUESTIONS, Outcome.TIMEOUT, 120),
    ]


# -- bookkeeping ----------------------------------------------------------------------------


def test_attendance_and_floor_time_summaries() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2), turn_minutes=8)
    state = to_hot_seat_advice(state, 0)
    state, _ = step(state, RaiseHand(2), 100)
    state, _ = step(state, Next(2, False), 150)
    state, _ = step(state, Left(2), 160)
    state, _ = step(state, Joined(2), 190)
    state, _ = step(state, End(), 230)
    assert state.floor_seconds() == {1: 230 - 50, 2: 50}
    assert state.attendance_seconds(at(10_000)) == {1: 230, 2: 200}


def test_round_trip_of_a_busy_state() -> None:
    state, _ = begin(Format.HOTSEAT, (1, 2, 3, 4), turn_minutes=8)
    state = to_hot_seat_advice(state, 0)
    state, _ = step(state, Stick(True, [1, 2, 3, 4], [4]), 1)
    state, _ = step(state, RaiseHand(2), 2)
    state, _ = step(state, RaiseHand(3), 3)
    state, _ = step(state, Left(1), 4)
    state, _ = step(state, Pause(FACILITATOR, True), 5)
    text = state.model_dump_json()
    again = SessionState.model_validate_json(text)
    assert again == state
    assert again.model_dump_json() == text
    assert again.next_due() == state.next_due() == at(64)
    # The reloaded state behaves exactly like the original.
    assert apply(again, Resume(1, True), at(30)) == apply(state, Resume(1, True), at(30))


def test_naive_times_are_a_programming_error() -> None:
    state, _ = begin()
    with pytest.raises(ValueError, match="timezone-aware"):
        apply(state, Due(), datetime(2025, 3, 4, 17, 5))


def test_a_command_dated_before_the_last_one_is_taken_as_now() -> None:
    state, _ = begin(Format.ROUNDROBIN, (1, 2))
    state, _ = step(state, Next(1, False), 100)
    state, _ = step(state, Next(2, False), 50)  # clock skew: never negative time
    assert [r.actual_seconds for r in state.records] == [100, 0]


def test_a_transition_is_well_under_a_millisecond() -> None:
    state, _ = begin(Format.STANDARD, tuple(range(1, 9)), hotseats=4)
    state, _ = step(state, Stick(True, list(range(1, 9)), []), 1)
    commands: list[tuple[Command, float]] = [
        (Due(), 60),
        (Extend(1, False, 60), 61),
        (Joined(20), 62),
        (Next(1, False), 63),
        (Due(), 5000),
    ]
    rounds = 200
    begun = time.perf_counter()
    for _ in range(rounds):
        current = state
        for command, seconds in commands:
            current, _ = apply(current, command, at(seconds))
    per_transition = (time.perf_counter() - begun) / (rounds * len(commands))
    assert per_transition < 0.001
