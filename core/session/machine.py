"""The session state machine: `(state, command, now) -> (new state, effects)`.

Pure: the time is always passed in, nothing is read or written outside the returned values.
A transition works on a shallow copy of the state whose lists are copied and whose nested
models are frozen, so the input state is never mutated and no deep copy is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from core.errors import UserError
from core.session.agenda import (
    ROUNDS,
    accepts_late_joiners,
    build_agenda,
    order_members,
    round_segments,
)
from core.session.commands import (
    Command,
    Due,
    End,
    Extend,
    HandsOff,
    Joined,
    Left,
    LowerHand,
    Move,
    Next,
    Pause,
    RaiseHand,
    Resume,
    Skip,
    Stick,
)
from core.session.effects import Announce, Effect, Ended, Mute, PanelChanged, Unmute, Warn
from core.session.model import (
    EVENT_DEADLINE,
    EVENT_GRACE,
    EVENT_RESPONSE_END,
    EVENT_WARNING,
    GRACE_SECONDS,
    MAX_EXTENSION_SECONDS,
    RESPONSE_SECONDS,
    WARN_BEFORE_SECONDS,
    Grace,
    Outcome,
    Phase,
    Presence,
    ResponseSlot,
    Running,
    Segment,
    SegmentRecord,
    SessionConfig,
    SessionState,
    evolve,
    running,
    segment_record,
)
from core.session.stick import stick_mutes

STALE_WARNING_SECONDS = 10
"""A warning found due later than this (the bot was down or busy) is dropped, not sent late."""

COMPLETED = "completed"
ENDED = "ended"


def start(
    session_id: int,
    config: SessionConfig,
    present: list[tuple[int, datetime]],
    last_hotseat: Mapping[int, datetime | None],
    seed: int,
    now: datetime,
) -> tuple[SessionState, list[Effect]]:
    """A new session whose agenda is built from the members `present` in voice (with the
    time each joined it), and the first speaker already holding the floor."""
    _require_aware(now)
    order = order_members(present, last_hotseat, config.order, seed)
    if not order:
        raise UserError(
            "Nobody from the group is in the voice channel yet, so there is no one to start with."
        )
    pending = build_agenda(config, order)
    state = SessionState(
        session_id=session_id,
        config=config,
        seed=seed,
        started_at=now,
        updated_at=now,
        rounds=list(ROUNDS[config.format]),
        roster=order,
        pending=pending,
        presence={m: Presence(first_joined=now, present_since=now) for m in order},
        next_id=len(pending) + 1,
    )
    tx = _Transition(state, now)
    tx.start_next(now)
    return tx.finish()


def apply(
    state: SessionState, command: Command, now: datetime
) -> tuple[SessionState, list[Effect]]:
    """Apply one command at `now`. A refusal raises `UserError` and changes nothing."""
    _require_aware(now)
    if state.ended_at is not None or state.running is None:
        raise UserError("This session has already ended.")
    tx = _Transition(state, now)
    match command:
        case Due():
            tx.due()
        case Next(actor_id=actor, is_facilitator=facilitator):
            tx.next(actor, facilitator)
        case Extend(actor_id=actor, is_facilitator=facilitator, seconds=seconds):
            tx.extend(actor, facilitator, seconds)
        case Pause(actor_id=actor, is_facilitator=facilitator):
            tx.pause(actor, facilitator)
        case Resume(actor_id=actor, is_facilitator=facilitator):
            tx.resume(actor, facilitator)
        case Skip(member_id=member):
            tx.skip(member)
        case Move(member_id=member, position=position):
            tx.move(member, position)
        case RaiseHand(member_id=member):
            tx.raise_hand(member)
        case LowerHand(member_id=member):
            tx.lower_hand(member)
        case Joined(member_id=member, muted=muted):
            tx.joined(member, muted)
        case Left(member_id=member):
            tx.left(member)
        case Stick(enabled=enabled, voice_members=voice, muted_by_others=others):
            tx.stick(enabled, voice, others)
        case HandsOff(member_id=member):
            tx.hands_off(member)
        case End():
            tx.end()
        case _:
            raise TypeError(f"not a session command: {command!r}")
    return tx.finish()


def _require_aware(now: datetime) -> None:
    if now.utcoffset() is None:
        raise ValueError("session times must be timezone-aware (UTC)")


def _seconds(delta: timedelta) -> float:
    return delta.total_seconds()


class _Transition:
    """One transition in progress: a private copy of the state plus the effects it collects.

    Floor changes only set flags; `finish` turns them into at most one Announce (for whoever
    holds the floor at the end) and one PanelChanged, and derives Mute/Unmute from the
    talking stick's rule applied to the final state, so a burst of events (after downtime)
    gives no burst of pings and no flurry of mutes."""

    def __init__(self, state: SessionState, now: datetime) -> None:
        self.before_holder = state.floor_holder() if state.ended_at is None else None
        self.before_mutes = frozenset(state.bot_mutes)
        self.since = state.updated_at
        self.now = max(now, state.updated_at)
        self.s = state.model_copy(
            update={
                "updated_at": self.now,
                "roster": list(state.roster),
                "pending": list(state.pending),
                "hands": list(state.hands),
                "presence": dict(state.presence),
                "bot_mutes": list(state.bot_mutes),
                "hands_off": list(state.hands_off),
                "records": list(state.records),
            }
        )
        self.announce = False
        self.panel = False
        self.warnings: list[Warn] = []
        self.in_voice: list[int] = []
        """Who is in the voice channel besides the agenda's members (given by `Stick`)."""
        self.closed: tuple[int, int] | None = None
        """(unit, extension used) of the segment closed last: the next phase of the same hot
        seat inherits what its earlier phases used of the allowance."""

    @property
    def run(self) -> Running:
        run = self.s.running
        assert run is not None, "no segment is running"
        return run

    # -- finishing ----------------------------------------------------------------------

    def finish(self) -> tuple[SessionState, list[Effect]]:
        s = self.s
        effects: list[Effect] = []
        if s.stick and s.ended_at is None:
            # The bot's mutes still standing are in voice unless someone left (and was taken
            # out).
            in_voice = [*s.bot_mutes, *(m for m in s.roster if s.is_present(m)), *self.in_voice]
            s.bot_mutes = stick_mutes(
                on=True,
                current=s.bot_mutes,
                in_voice=in_voice,
                holder=s.floor_holder(),
                hands_off=s.hands_off,
            )
        elif s.bot_mutes:
            s.bot_mutes = []
        if self.before_mutes or s.bot_mutes:
            after = set(s.bot_mutes)
            # A mute that became someone else's is no longer the bot's to undo.
            released = self.before_mutes - after - set(s.hands_off)
            effects += [Unmute(m) for m in sorted(released)]
            effects += [Mute(m) for m in sorted(after - self.before_mutes)]
        if s.ended_at is None:
            if self.announce:
                holder = s.floor_holder()
                assert holder is not None
                phase = Phase.RESPONSE if s.response is not None else self.run.segment.phase
                effects.append(Announce(holder, phase, self.run.segment.round, s.floor_deadline()))
            effects += self.warnings
        if self.panel:
            effects.append(PanelChanged())
        if s.ended_at is not None and s.end_reason is not None:
            effects.append(Ended(s.end_reason))
        return s, effects

    # -- building blocks ----------------------------------------------------------------

    def start_next(self, at: datetime) -> None:
        """Give the floor to the next pending segment at `at`, passing over absent speakers;
        with nothing left the session is complete."""
        s = self.s
        self.panel = True
        while s.pending:
            seg = s.pending.pop(0)
            grace = s.grace
            if grace is not None and (grace.member_id, grace.unit) != (seg.speaker_id, seg.unit):
                s.grace = grace = None
            if grace is None and not s.is_present(seg.speaker_id):
                s.records.append(_record(seg, 0, Outcome.ABSENT, at, at))
                continue
            paused = s.paused_at is not None
            closed = self.closed
            s.running = running(
                seg,
                at,
                None if paused else at + timedelta(seconds=seg.planned_seconds),
                float(seg.planned_seconds) if paused else None,
                closed[1] if closed is not None and closed[0] == seg.unit else 0,
            )
            self.announce = True
            return
        s.running = None
        self.finish_session(at, COMPLETED)

    def close_current(self, at: datetime, outcome: Outcome) -> Segment:
        """Record the running segment as finished at `at`; a response inside it ends too."""
        s = self.s
        run = self.run
        if s.response is not None:
            slot_outcome = Outcome.TIMEOUT if outcome == Outcome.TIMEOUT else Outcome.DONE
            self.close_response(at, slot_outcome, hand_on=False)
        s.hands = []
        actual = self.active_seconds(run.started_at, run.paused_seconds, at)
        s.records.append(_record(run.segment, actual, outcome, run.started_at, at))
        s.running = None
        self.closed = (run.segment.unit, run.extended_seconds)
        self.panel = True
        return run.segment

    def close_unit(self, unit: int, at: datetime, outcome: Outcome) -> None:
        """Record the pending phases of hot seat `unit` (or a single segment) as not held."""
        s = self.s
        rest = [seg for seg in s.pending if seg.unit == unit]
        if rest:
            s.pending = [seg for seg in s.pending if seg.unit != unit]
            s.records += [_record(seg, 0, outcome, None, at) for seg in rest]
            self.panel = True

    def active_seconds(self, started_at: datetime, paused_seconds: float, at: datetime) -> float:
        """Seconds from `started_at` to `at`, minus finished and ongoing pauses."""
        ongoing = 0.0
        if self.s.paused_at is not None:
            ongoing = max(0.0, _seconds(at - max(self.s.paused_at, started_at)))
        return _seconds(at - started_at) - paused_seconds - ongoing

    def advice_left(self, at: datetime) -> float:
        run = self.run
        if run.deadline is None:
            return run.remaining or 0.0
        return _seconds(run.deadline - at)

    def open_response(self, member_id: int, at: datetime) -> None:
        paused = self.s.paused_at is not None
        self.s.response = ResponseSlot(
            member_id=member_id,
            started_at=at,
            planned_seconds=round(max(0.0, min(RESPONSE_SECONDS, self.advice_left(at)))),
            deadline=None if paused else at + timedelta(seconds=RESPONSE_SECONDS),
            remaining=float(RESPONSE_SECONDS) if paused else None,
        )
        self.announce = True
        self.panel = True

    def close_response(self, at: datetime, outcome: Outcome, *, hand_on: bool) -> None:
        """End the response slot; with `hand_on` the next raised hand gets the floor, or it
        goes back to the hot-seat member."""
        s = self.s
        slot = s.response
        assert slot is not None
        seg = self.run.segment
        actual = self.active_seconds(slot.started_at, slot.paused_seconds, at)
        s.records.append(
            SegmentRecord(
                segment_id=seg.id,
                speaker_id=slot.member_id,
                round=seg.round,
                phase=Phase.RESPONSE,
                planned_seconds=slot.planned_seconds,
                actual_seconds=round(actual),
                outcome=outcome,
                started_at=slot.started_at,
                ended_at=at,
            )
        )
        s.response = None
        self.announce = True
        self.panel = True
        if hand_on and s.hands:
            self.open_response(s.hands.pop(0), at)

    def finish_session(self, at: datetime, reason: str) -> None:
        s = self.s
        if s.paused_at is not None:
            s.paused_seconds += max(0.0, _seconds(at - s.paused_at))
            s.paused_at = None
        s.running = None
        s.response = None
        s.hands = []
        s.grace = None
        s.stick = False
        s.ended_at = at
        s.end_reason = reason
        self.panel = True

    def require_speaker(self, actor: int, facilitator: bool, doing: str) -> None:
        if not facilitator and actor != self.run.segment.speaker_id:
            raise UserError(f"Only the speaker or a facilitator can {doing}.")

    def set_deadline(self, run: Running, deadline: datetime) -> Running:
        """A new deadline re-arms the warning if its time is still ahead."""
        warned = run.warned and deadline - timedelta(seconds=WARN_BEFORE_SECONDS) <= self.now
        return evolve(run, deadline=deadline, remaining=None, warned=warned)

    # -- commands -----------------------------------------------------------------------

    def due(self) -> None:
        """Handle every timed event up to now in time order; each at its own instant, so the
        schedule stays absolute however late the timer fires."""
        s = self.s
        while True:
            event = s.next_event()
            if event is None or event[0] > self.now:
                return
            fell_due, kind = event
            run = self.run
            # Never before the previous transition: if a command was applied after this event
            # fell due but before the timer fired, the event happens after that command.
            at = max(fell_due, self.since)
            if kind == EVENT_WARNING:
                s.running = evolve(run, warned=True)
                fresh = _seconds(self.now - fell_due) <= STALE_WARNING_SECONDS
                if fresh and run.deadline is not None:
                    self.warnings.append(Warn(run.segment.speaker_id, run.deadline))
            elif kind == EVENT_RESPONSE_END:
                self.close_response(at, Outcome.TIMEOUT, hand_on=True)
            elif kind == EVENT_GRACE:
                unit = self.close_current(at, Outcome.LEFT).unit
                self.close_unit(unit, at, Outcome.LEFT)
                s.grace = None
                self.start_next(at)
            elif kind == EVENT_DEADLINE:
                self.close_current(at, Outcome.TIMEOUT)
                self.start_next(at)
            if s.ended_at is not None:
                return

    def next(self, actor: int, facilitator: bool) -> None:
        if not facilitator and actor != self.s.floor_holder():
            raise UserError("Only the person holding the floor or a facilitator can move on.")
        if self.s.response is not None:
            self.close_response(self.now, Outcome.DONE, hand_on=True)
        else:
            self.close_current(self.now, Outcome.DONE)
            self.start_next(self.now)

    def extend(self, actor: int, facilitator: bool, seconds: int) -> None:
        if seconds <= 0:
            raise UserError("An extension must add at least one second.")
        slot = self.s.response
        if slot is not None and actor == slot.member_id and not facilitator:
            self.extend_response(slot, seconds)
            return
        self.require_speaker(actor, facilitator, "extend this turn")
        run = self.run
        total = run.extended_seconds + seconds
        if total > MAX_EXTENSION_SECONDS:
            left = (MAX_EXTENSION_SECONDS - run.extended_seconds) // 60
            what = "A hot seat, over its three phases," if _is_hot_seat(run.segment) else "A turn"
            raise UserError(
                f"{what} can be extended by 15 minutes at most in total; "
                f"this one has {left} min of extension left."
            )
        if run.deadline is None:
            run = evolve(run, remaining=(run.remaining or 0.0) + seconds)
        else:
            run = self.set_deadline(run, run.deadline + timedelta(seconds=seconds))
        self.s.running = evolve(run, extended_seconds=total)
        self.panel = True

    def extend_response(self, slot: ResponseSlot, seconds: int) -> None:
        """The responder's own extension: more time for their response, never past the end of
        the advice phase (that is the hot seat's time, which only its speaker or a facilitator
        can extend)."""
        if slot.deadline is None:
            slot_left = slot.remaining or 0.0
            room = self.advice_left(self.now) - slot_left
        else:
            slot_left = _seconds(slot.deadline - self.now)
            room = self.advice_left(self.now) - slot_left
        if room < 1:
            raise UserError(
                "Your response already runs to the end of the advice phase; only the person "
                "in the hot seat or a facilitator can extend the phase."
            )
        added = min(seconds, int(room))
        if slot.deadline is None:
            slot = evolve(slot, remaining=slot_left + added)
        else:
            slot = evolve(slot, deadline=slot.deadline + timedelta(seconds=added))
        self.s.response = evolve(slot, extended_seconds=slot.extended_seconds + added)
        self.panel = True

    def pause(self, actor: int, facilitator: bool) -> None:
        self.require_speaker(actor, facilitator, "pause the session")
        s = self.s
        if s.paused_at is not None:
            raise UserError("The session is already paused.")
        run = self.run
        assert run.deadline is not None
        s.running = evolve(
            run, deadline=None, remaining=max(0.0, _seconds(run.deadline - self.now))
        )
        slot = s.response
        if slot is not None and slot.deadline is not None:
            remaining = max(0.0, _seconds(slot.deadline - self.now))
            s.response = evolve(slot, deadline=None, remaining=remaining)
        s.paused_at = self.now
        self.panel = True

    def resume(self, actor: int, facilitator: bool) -> None:
        self.require_speaker(actor, facilitator, "resume the session")
        s = self.s
        paused_at = s.paused_at
        if paused_at is None:
            raise UserError("The session is not paused.")
        now = self.now
        run = self.run
        run = self.set_deadline(run, now + timedelta(seconds=run.remaining or 0.0))
        paused = max(0.0, _seconds(now - max(paused_at, run.started_at)))
        s.running = evolve(run, paused_seconds=run.paused_seconds + paused)
        slot = s.response
        if slot is not None:
            paused = max(0.0, _seconds(now - max(paused_at, slot.started_at)))
            s.response = evolve(
                slot,
                deadline=now + timedelta(seconds=slot.remaining or 0.0),
                remaining=None,
                paused_seconds=slot.paused_seconds + paused,
            )
        s.paused_seconds += max(0.0, _seconds(now - paused_at))
        s.paused_at = None
        self.panel = True

    def skip(self, member: int) -> None:
        s = self.s
        if self.run.segment.speaker_id == member:
            unit = self.close_current(self.now, Outcome.SKIPPED).unit
            self.close_unit(unit, self.now, Outcome.SKIPPED)
            self.start_next(self.now)
            return
        seg = next((seg for seg in s.pending if seg.speaker_id == member), None)
        if seg is None:
            raise UserError("That member has no turn left in this session to skip.")
        self.close_unit(seg.unit, self.now, Outcome.SKIPPED)

    def move(self, member: int, position: int) -> None:
        s = self.s
        round_name = self.run.segment.round
        current_unit = self.run.segment.unit
        in_round = [seg for seg in s.pending if seg.round == round_name]
        # The rest of the hot seat in progress stays first; the other turns can be reordered.
        head = [seg for seg in in_round if seg.unit == current_unit]
        units: dict[int, list[Segment]] = {}
        for seg in in_round:
            if seg.unit != current_unit:
                units.setdefault(seg.unit, []).append(seg)
        unit = next((u for u, segs in units.items() if segs[0].speaker_id == member), None)
        if unit is None:
            raise UserError("That member has no turn waiting in the current round.")
        if not 1 <= position <= len(units):
            raise UserError(f"The position must be between 1 and {len(units)}.")
        order = [u for u in units if u != unit]
        order.insert(position - 1, unit)
        # The current round's pending segments are the head of `pending` (rounds run in order).
        moved = [seg for u in order for seg in units[u]]
        s.pending = head + moved + s.pending[len(in_round) :]
        self.panel = True

    def raise_hand(self, member: int) -> None:
        s = self.s
        run = self.run
        if run.segment.phase != Phase.ADVICE:
            raise UserError("Hands can be raised only during the advice phase of a hot seat.")
        if member == run.segment.speaker_id:
            raise UserError("You are in the hot seat: the others raise hands to respond to you.")
        if not s.is_present(member):
            raise UserError("Join the group's voice channel to raise your hand.")
        if s.response is not None and s.response.member_id == member:
            raise UserError("You already have the floor.")
        if member in s.hands:
            raise UserError("Your hand is already raised.")
        if self.advice_left(self.now) <= 0:
            raise UserError("The advice phase has just ended.")
        if s.response is None:
            self.open_response(member, self.now)
        else:
            s.hands.append(member)
            self.panel = True

    def lower_hand(self, member: int) -> None:
        s = self.s
        if member in s.hands:
            s.hands.remove(member)
            self.panel = True
        elif s.response is not None and s.response.member_id == member:
            self.close_response(self.now, Outcome.DONE, hand_on=True)
        else:
            raise UserError("Your hand is not raised.")

    def joined(self, member: int, muted: bool = False) -> None:
        s = self.s
        presence = s.presence.get(member)
        if presence is not None and presence.present_since is not None:
            return
        if presence is None:
            s.presence[member] = Presence(first_joined=self.now, present_since=self.now)
        else:
            s.presence[member] = evolve(presence, present_since=self.now, absent_since=None)
        if member not in s.roster:
            s.roster.append(member)
            self.add_late_joiner(member)
        if s.grace is not None and s.grace.member_id == member:
            s.grace = None
            self.panel = True
        if muted and member not in s.bot_mutes:
            # They arrive muted by someone else: the bot never takes that mute over.
            self.hands_off(member)

    def add_late_joiner(self, member: int) -> None:
        """Append `member` to every round not finished yet (the current one included)."""
        s = self.s
        rank = {name: i for i, name in enumerate(s.rounds)}
        current = rank[self.run.segment.round]
        for name in s.rounds[current:]:
            if not accepts_late_joiners(s.config, name):
                continue
            segments = round_segments(s.config, name, [member], s.next_id)
            s.next_id += len(segments)
            at = next(
                (i for i, seg in enumerate(s.pending) if rank[seg.round] > rank[name]),
                len(s.pending),
            )
            s.pending[at:at] = segments
        self.panel = True

    def left(self, member: int) -> None:
        s = self.s
        if member in s.bot_mutes:
            # The stick applies only inside the group's voice channel: released at once.
            s.bot_mutes.remove(member)
        presence = s.presence.get(member)
        if presence is None or presence.present_since is None:
            return
        s.presence[member] = evolve(
            presence,
            present_since=None,
            absent_since=self.now,
            seconds=presence.seconds + _seconds(self.now - presence.present_since),
        )
        if member in s.hands:
            s.hands.remove(member)
            self.panel = True
        if s.response is not None and s.response.member_id == member:
            self.close_response(self.now, Outcome.LEFT, hand_on=True)
        run = self.run
        if run.segment.speaker_id == member and s.grace is None:
            s.grace = Grace(
                member_id=member,
                unit=run.segment.unit,
                until=self.now + timedelta(seconds=GRACE_SECONDS),
            )
            self.panel = True

    def stick(self, enabled: bool, voice: list[int], others: list[int]) -> None:
        """On: everyone in `voice` but the floor holder is muted, except those muted by someone
        else already (`others`). Off: the bot undoes its mutes. Whose mute is whose stays
        known for the rest of the session either way."""
        s = self.s
        s.stick = enabled
        if enabled:
            # A mute the bot made is the bot's, even if it now shows up as someone's mute.
            for member in others:
                if member not in s.bot_mutes:
                    self.hands_off(member)
            # The agenda's members count by their presence; `voice` adds whoever else is there.
            self.in_voice = [m for m in voice if m not in s.presence]
        self.panel = True

    def hands_off(self, member: int) -> None:
        """`member`'s mute is someone else's from now on; if the bot had muted them, that
        mute is no longer its to undo (`finish` emits no Unmute for it)."""
        s = self.s
        if member not in s.hands_off:
            s.hands_off.append(member)
        if member in s.bot_mutes:
            s.bot_mutes.remove(member)

    def end(self) -> None:
        s = self.s
        self.close_current(self.now, Outcome.DONE)
        s.records += [_record(seg, 0, Outcome.SKIPPED, None, self.now) for seg in s.pending]
        s.pending = []
        self.finish_session(self.now, ENDED)


def _is_hot_seat(seg: Segment) -> bool:
    return seg.phase in (Phase.PRESENT, Phase.QUESTIONS, Phase.ADVICE)


def _record(
    seg: Segment, actual: float, outcome: Outcome, started_at: datetime | None, ended_at: datetime
) -> SegmentRecord:
    return segment_record(seg, round(actual), outcome, started_at, ended_at)
