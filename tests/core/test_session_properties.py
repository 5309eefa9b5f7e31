"""Property tests: invariants that must hold after any sequence of commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from core.errors import UserError
from core.session import (
    STALE_WARNING_SECONDS,
    WARN_BEFORE_SECONDS,
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
    Outcome,
    PanelChanged,
    Pause,
    Phase,
    RaiseHand,
    Resume,
    SessionState,
    Skip,
    Stick,
    Unmute,
    Warn,
    apply,
    build_agenda,
    default_config,
    split_hot_seat,
    start,
)
from core.session.codec import state_json

T0 = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)
PEOPLE = st.integers(min_value=1, max_value=7)  # 1..4 start present, the rest may join later


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def check_state(state: SessionState) -> None:
    """Every invariant of a session state, at the time of its last transition."""
    now = state.updated_at
    # The state round-trips exactly through its persisted form.
    text = state.model_dump_json()
    again = SessionState.model_validate_json(text)
    assert again == state
    assert again.model_dump_json() == text
    # The store writes it with the faster encoder: the same text, also once read back.
    assert state_json(state) == text and state_json(again) == text

    # At most one floor holder: exactly one while running, none once ended.
    if state.is_ended():
        assert state.floor_holder() is None and state.running is None
        assert state.pending == [] and state.response is None and state.hands == []
        assert state.grace is None and state.bot_mutes == [] and not state.is_paused()
        assert state.next_due() is None
    else:
        assert state.running is not None and state.floor_holder() is not None

    # Every planned segment (late joiners' included) is recorded at most once, and is either
    # recorded, pending or running.
    planned = [r.segment_id for r in state.records if r.phase != Phase.RESPONSE]
    assert len(planned) == len(set(planned))
    pending = [s.id for s in state.pending]
    running = [] if state.running is None else [state.running.segment.id]
    everything = planned + pending + running
    assert sorted(everything) == list(range(1, state.next_id))

    # Actual times are never negative; segments that never started took no time.
    for record in state.records:
        assert record.actual_seconds >= 0
        if record.started_at is None or record.outcome == Outcome.ABSENT:
            assert record.actual_seconds == 0
        if record.phase == Phase.RESPONSE:
            advice = [r for r in state.records if r.segment_id == record.segment_id]
            assert all(r.phase in (Phase.ADVICE, Phase.RESPONSE) for r in advice)

    # Time accounting: floor time of the planned segments plus the running one's elapsed time
    # is the wall time since the start minus the paused time.
    until = state.ended_at if state.ended_at is not None else now
    spoken = sum(r.actual_seconds for r in state.records if r.phase != Phase.RESPONSE)
    wall = (until - state.started_at).total_seconds() - state.total_paused(until)
    assert spoken + state.current_elapsed(until) == wall

    # Floor time (the one rule the summary and the reports share) hands out exactly the time
    # spoken: a response is taken off its hot seat once that advice segment is recorded, and
    # nobody's floor time is negative.
    floor = state.floor_seconds()
    trailing = 0
    for record in state.records:
        if record.phase == Phase.RESPONSE:
            trailing += record.actual_seconds
        elif record.phase == Phase.ADVICE and record.actual_seconds > 0:
            trailing = 0
    assert sum(floor.values()) == sum(r.actual_seconds for r in state.records) - (
        sum(r.actual_seconds for r in state.records if r.phase == Phase.RESPONSE) - trailing
    )
    assert all(seconds >= 0 for seconds in floor.values())

    # Pausing is all or nothing, and remaining time is never negative.
    run = state.running
    if run is not None:
        assert (run.deadline is None) == state.is_paused()
        assert (run.remaining is not None) == state.is_paused()
        assert run.remaining is None or run.remaining >= 0
        assert (state.time_left(now) or 0) >= 0
        assert run.extended_seconds <= 15 * 60
    slot = state.response
    if slot is not None:
        assert run is not None and run.segment.phase == Phase.ADVICE
        assert (slot.deadline is None) == state.is_paused()
        assert slot.remaining is None or slot.remaining >= 0
        assert state.is_present(slot.member_id)

    # Hands: a queue of distinct present members, only while someone responds.
    assert len(state.hands) == len(set(state.hands))
    if state.hands:
        assert slot is not None and run is not None
        assert run.segment.speaker_id not in state.hands
        assert slot.member_id not in state.hands
        assert all(state.is_present(m) for m in state.hands)

    # The floor waits (grace) exactly when the speaker is out of the voice channel.
    if run is not None:
        speaker = run.segment.speaker_id
        assert (state.grace is not None) == (not state.is_present(speaker))
        if state.grace is not None:
            assert state.grace.member_id == speaker and state.grace.unit == run.segment.unit

    # Talking stick: the bot never mutes the floor holder or someone muted by others.
    assert len(state.bot_mutes) == len(set(state.bot_mutes))
    assert not set(state.bot_mutes) & set(state.hands_off)
    if not state.stick:
        assert state.bot_mutes == []
    assert state.floor_holder() not in state.bot_mutes
    # Nobody the bot knows to be out of the voice channel stays muted by it.
    assert not any(m in state.presence and not state.is_present(m) for m in state.bot_mutes)

    # The roster and presence agree; pending rounds are in order.
    assert len(state.roster) == len(set(state.roster)) == len(state.presence)
    assert set(state.roster) == set(state.presence)
    ranks = [state.rounds.index(s.round) for s in state.pending]
    assert ranks == sorted(ranks)


def check_effects(old: SessionState | None, new: SessionState, effects: list[Effect]) -> None:
    """What any single transition may emit."""
    kinds = [type(e) for e in effects]
    assert kinds.count(Announce) <= 1
    assert kinds.count(PanelChanged) <= 1
    assert kinds.count(Ended) <= 1
    old_holder = None if old is None else old.floor_holder()
    for effect in effects:
        if isinstance(effect, Announce):
            assert effect.member_id == new.floor_holder()
            assert effect.deadline == new.floor_deadline()
        if isinstance(effect, Warn):
            assert old is not None and new.running is not None
            warn_at = effect.deadline - timedelta(seconds=WARN_BEFORE_SECONDS)
            lateness = (new.updated_at - warn_at).total_seconds()
            assert 0 <= lateness <= STALE_WARNING_SECONDS
    new_holder = new.floor_holder()
    if new_holder is not None and new_holder != old_holder:
        assert Announce in kinds and PanelChanged in kinds
    assert (Ended in kinds) == (new.is_ended() and (old is None or not old.is_ended()))

    # Mutes: unmute only what the bot muted, and the effects explain the change exactly.
    before = set() if old is None else set(old.bot_mutes)
    unmuted = {e.member_id for e in effects if isinstance(e, Unmute)}
    muted = {e.member_id for e in effects if isinstance(e, Mute)}
    assert unmuted <= before
    assert not muted & before
    # Someone else's mute is never touched: a bot mute that became theirs is dropped silently.
    theirs = set(new.hands_off)
    assert not (unmuted | muted) & theirs
    assert (before - unmuted - theirs) | muted == set(new.bot_mutes)
    if old is not None and not new.is_ended():
        assert set(old.hands_off) <= theirs  # whose mute is whose holds for the session


class SessionMachine(RuleBasedStateMachine):
    """Random sessions driven by random commands at increasing whole-second times.

    Rules fire on ended sessions too: every command must then be refused. A few rules aim
    at the states random commands rarely reach (advice phases, a speaker walking out)."""

    state: SessionState
    t: int
    extended: dict[int, int]

    @initialize(
        fmt=st.sampled_from(Format),
        size=st.integers(min_value=1, max_value=4),
        minutes=st.integers(min_value=1, max_value=10),
        seats=st.integers(min_value=1, max_value=3),
        order=st.sampled_from(Order),
        seed=st.integers(min_value=0, max_value=2**32),
    )
    def begin(
        self, fmt: Format, size: int, minutes: int, seats: int, order: Order, seed: int
    ) -> None:
        config = default_config(fmt, minutes, seats, order)
        present = [(m, T0 - timedelta(seconds=m)) for m in range(1, size + 1)]
        last = {m: T0 - timedelta(days=m % 3) for m in range(1, size + 1)}
        self.t = 0
        self.extended = {}
        self.state, effects = start(1, config, present, last, seed, T0)
        check_effects(None, self.state, effects)

    def act(self, command: Command, dt: int) -> list[Effect] | None:
        """Apply; a refusal (always, once ended) must leave the state exactly as it was."""
        self.t += dt
        old = self.state
        before = old.model_dump_json()
        try:
            new, effects = apply(old, command, at(self.t))
        except UserError:
            assert old.model_dump_json() == before
            event(f"{type(command).__name__} refused")
            return None
        assert not old.is_ended()
        assert old.model_dump_json() == before  # the input was not mutated
        assert new.updated_at == at(self.t)
        check_effects(old, new, effects)
        before, after = old.running, new.running
        if before is not None and after is not None and before.segment.unit == after.segment.unit:
            # A hot seat is one segment: its phases never get a fresh allowance.
            assert after.extended_seconds >= before.extended_seconds
        event(f"{type(command).__name__} applied")
        for record in new.records[len(old.records) :]:
            event(f"recorded {record.phase} {record.outcome}")
        self.state = new
        return effects

    def phase(self) -> Phase | None:
        current = self.state.current()
        return None if current is None else current.phase

    @rule(dt=st.integers(min_value=0, max_value=400))
    def due(self, dt: int) -> None:
        old = self.state
        frozen = old.is_paused() and old.grace is None
        effects = self.act(Due(), dt)
        if effects is None:
            return
        new = self.state
        due = new.next_due()
        assert due is None or due > new.updated_at  # nothing due is left behind
        if frozen:
            # While paused, time stands still: nothing happens and no time is counted.
            assert effects == []
            assert new.records == old.records and new.running == old.running
            assert new.current_elapsed(new.updated_at) == old.current_elapsed(old.updated_at)

    @rule(dt=st.integers(min_value=400, max_value=5000))
    def long_downtime(self, dt: int) -> None:
        effects = self.act(Due(), dt)
        if effects is not None:
            assert sum(isinstance(e, Announce) for e in effects) <= 1

    @rule(dt=st.integers(0, 90), actor=PEOPLE, facilitator=st.booleans())
    def next(self, dt: int, actor: int, facilitator: bool) -> None:
        self.act(Next(actor, facilitator), dt)

    @rule(dt=st.integers(0, 90))
    def next_by_holder(self, dt: int) -> None:
        old = self.state
        if self.act(Next(old.floor_holder() or 0, False), dt) is not None:
            assert len(self.state.records) > len(old.records)  # the holder's slot was closed

    @precondition(lambda self: self.phase() in (Phase.PRESENT, Phase.QUESTIONS))
    @rule(dt=st.integers(0, 30))
    def on_to_advice(self, dt: int) -> None:
        self.act(Next(0, True), dt)

    @rule(
        dt=st.integers(0, 90), actor=PEOPLE, facilitator=st.booleans(), seconds=st.integers(1, 600)
    )
    def extend(self, dt: int, actor: int, facilitator: bool, seconds: int) -> None:
        old = self.state
        if self.act(Extend(actor, facilitator, seconds), dt) is None:
            return
        new = self.state
        assert old.running is not None and new.running is not None
        slot = old.response
        if slot is not None and actor == slot.member_id and not facilitator:
            # The responder's own extension: the phase keeps its end, the response stays in it.
            assert new.running.deadline == old.running.deadline
            assert new.running.remaining == old.running.remaining
            assert new.response is not None
            assert new.response.extended_seconds > slot.extended_seconds
            left = new.time_left(new.updated_at) or 0.0
            slot_left = (
                new.response.remaining
                if new.response.deadline is None
                else (new.response.deadline - new.updated_at).total_seconds()
            )
            assert slot_left is not None and slot_left <= left + 1e-6
        else:
            assert new.running.extended_seconds == old.running.extended_seconds + seconds
            unit = new.running.segment.unit
            self.extended[unit] = self.extended.get(unit, 0) + seconds
            assert self.extended[unit] <= 15 * 60  # per segment, a hot seat's phases together

    @precondition(lambda self: self.state.response is not None)
    @rule(dt=st.integers(0, 30), seconds=st.integers(1, 600))
    def responder_extends(self, dt: int, seconds: int) -> None:
        slot = self.state.response
        assert slot is not None
        self.extend(dt, slot.member_id, False, seconds)

    @rule(dt=st.integers(0, 90), actor=PEOPLE, facilitator=st.booleans())
    def pause(self, dt: int, actor: int, facilitator: bool) -> None:
        self.act(Pause(actor, facilitator), dt)

    @rule(dt=st.integers(0, 900))
    def resume(self, dt: int) -> None:
        self.act(Resume(0, True), dt)

    @rule(dt=st.integers(0, 90), member=PEOPLE)
    def skip(self, dt: int, member: int) -> None:
        self.act(Skip(member), dt)

    @rule(dt=st.integers(0, 90), member=PEOPLE, position=st.integers(0, 6))
    def move(self, dt: int, member: int, position: int) -> None:
        before = sorted(s.id for s in self.state.pending)
        if self.act(Move(member, position), dt) is not None:
            assert sorted(s.id for s in self.state.pending) == before  # a pure reordering

    @rule(dt=st.integers(0, 30), data=st.data())
    def move_in_round(self, dt: int, data: st.DataObject) -> None:
        current = self.state.current()
        if current is None:
            return
        waiting = [
            s.speaker_id
            for s in self.state.pending
            if s.round == current.round and s.unit != current.unit
        ]
        if waiting:
            member = data.draw(st.sampled_from(waiting))
            position = data.draw(st.integers(1, len(set(waiting))))
            assert self.act(Move(member, position), dt) is not None
            upcoming = self.state.upcoming_speakers(len(set(waiting)) + 1)
            assert member in upcoming

    @rule(dt=st.integers(0, 60), member=PEOPLE)
    def raise_hand(self, dt: int, member: int) -> None:
        self.act(RaiseHand(member), dt)

    @precondition(lambda self: self.phase() == Phase.ADVICE)
    @rule(dt=st.integers(0, 40), data=st.data())
    def raise_hand_in_advice(self, dt: int, data: st.DataObject) -> None:
        speaker = self.state.floor_holder()
        others = [m for m in self.state.roster if m != speaker]
        if others:
            self.act(RaiseHand(data.draw(st.sampled_from(others))), dt)

    @rule(dt=st.integers(0, 60), member=PEOPLE)
    def lower_hand(self, dt: int, member: int) -> None:
        self.act(LowerHand(member), dt)

    @rule(dt=st.integers(0, 90), member=PEOPLE)
    def joined(self, dt: int, member: int) -> None:
        if self.act(Joined(member), dt) is not None:
            assert self.state.is_present(member)

    @rule(dt=st.integers(0, 90), member=PEOPLE)
    def left(self, dt: int, member: int) -> None:
        if self.act(Left(member), dt) is not None:
            assert not self.state.is_present(member)

    @rule(dt=st.integers(0, 30))
    def speaker_leaves(self, dt: int) -> None:
        current = self.state.current()
        if self.act(Left(0 if current is None else current.speaker_id), dt) is not None:
            assert self.state.grace is not None

    @rule(
        dt=st.integers(0, 90),
        enabled=st.booleans(),
        voice=st.lists(st.integers(1, 9), unique=True),
        others=st.lists(st.integers(1, 9), unique=True, max_size=2),
    )
    def stick(self, dt: int, enabled: bool, voice: list[int], others: list[int]) -> None:
        self.act(Stick(enabled, voice, others), dt)

    @rule(dt=st.integers(0, 90), member=st.integers(1, 9))
    def someone_else_changes_a_mute(self, dt: int, member: int) -> None:
        if self.act(HandsOff(member), dt) is not None:
            assert member in self.state.hands_off and member not in self.state.bot_mutes

    @rule(dt=st.integers(0, 90), member=PEOPLE)
    def joined_muted_by_others(self, dt: int, member: int) -> None:
        # Arriving muted, and not by the bot: that mute is someone else's, never the bot's.
        fresh = not self.state.is_present(member) and member not in self.state.bot_mutes
        if self.act(Joined(member, muted=True), dt) is not None and fresh:
            assert member not in self.state.bot_mutes and member in self.state.hands_off

    @precondition(lambda self: self.t > 900)
    @rule(dt=st.integers(0, 90))
    def end(self, dt: int) -> None:
        effects = self.act(End(), dt)
        if effects is not None:
            assert Ended("ended") in effects and self.state.is_ended()

    @invariant()
    def consistent(self) -> None:
        check_state(self.state)


SessionMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestSessionMachine = SessionMachine.TestCase


# -- direct properties --------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    fmt=st.sampled_from(Format),
    size=st.integers(1, 6),
    minutes=st.integers(1, 60),
    seed=st.integers(0, 1000),
    times=st.lists(st.integers(1, 20_000), min_size=1, max_size=12),
)
def test_the_schedule_is_absolute_however_often_the_timer_fires(
    fmt: Format, size: int, minutes: int, seed: int, times: list[int]
) -> None:
    """Firing Due at many instants or once at the last one closes the same segments at the
    same instants; the single late Due announces at most once and sends no stale warning."""
    config = default_config(fmt, minutes, None, Order.RANDOM)
    present = [(m, T0) for m in range(1, size + 1)]
    first, _ = start(1, config, present, {}, seed, T0)
    often = first
    for t in sorted(times):
        if often.is_ended():
            break
        often, _ = apply(often, Due(), at(t))
    once, effects = apply(first, Due(), at(max(times)))
    assert once.records == often.records
    assert once.running == often.running
    assert sum(isinstance(e, Announce) for e in effects) <= 1
    assert sum(isinstance(e, Warn) for e in effects) <= 1
    for record in once.records:
        assert record.outcome == Outcome.TIMEOUT
        assert record.actual_seconds == record.planned_seconds


@settings(max_examples=60, deadline=None)
@given(
    fmt=st.sampled_from(Format),
    members=st.lists(st.integers(1, 10**18), min_size=1, max_size=8, unique=True),
    minutes=st.integers(1, 60),
    seats=st.integers(1, 8),
)
def test_agenda_shape(fmt: Format, members: list[int], minutes: int, seats: int) -> None:
    config = default_config(fmt, minutes, seats, Order.JOINED)
    agenda = build_agenda(config, members)
    turn = minutes * 60
    hot_seats = {
        Format.STANDARD: min(seats, len(members)),
        Format.ROUNDROBIN: 0,
        Format.HOTSEAT: len(members),
    }[fmt]
    assert sum(s.phase == Phase.ADVICE for s in agenda) == hot_seats
    expected_total = hot_seats * turn
    if fmt == Format.STANDARD:
        expected_total += len(members) * (120 + 60)
    if fmt == Format.ROUNDROBIN:
        expected_total += len(members) * turn
    assert sum(s.planned_seconds for s in agenda) == expected_total
    assert [s.id for s in agenda] == list(range(1, len(agenda) + 1))
    assert sum(split_hot_seat(turn)) == turn
    # Each hot seat is one unit of three consecutive phases of the same member.
    for seg in agenda:
        unit = [s for s in agenda if s.unit == seg.unit]
        assert len({s.speaker_id for s in unit}) == 1
        assert [s.phase for s in unit] in (
            [seg.phase],
            [Phase.PRESENT, Phase.QUESTIONS, Phase.ADVICE],
        )
