"""The persisted session state, its parts, and the read-only questions the cog asks of it.

Every nested model is frozen so a transition can share unchanged parts with the previous
state instead of deep-copying it; only `SessionState` itself is mutable, and the machine
mutates nothing but its own fresh shallow copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from core.stats import floor_of_records

WARN_BEFORE_SECONDS = 60
"""The warning comes this long before a segment's deadline..."""
WARN_MIN_PLANNED_SECONDS = 90
"""...but only for segments planned longer than this (a 1-minute turn needs no warning)."""
_WARN_BEFORE = timedelta(seconds=WARN_BEFORE_SECONDS)
GRACE_SECONDS = 60
"""How long the floor waits for a speaker who left the voice channel."""
RESPONSE_SECONDS = 120
"""The longest a raised hand holds the floor."""
MAX_EXTENSION_SECONDS = 15 * 60
"""The most one segment (a hot seat: its three phases together) can be extended in total."""


class Format(StrEnum):
    STANDARD = "standard"
    ROUNDROBIN = "roundrobin"
    HOTSEAT = "hotseat"


class Order(StrEnum):
    FAIR = "fair"
    RANDOM = "random"
    JOINED = "joined"


class Phase(StrEnum):
    CHECKIN = "checkin"
    PRESENT = "present"
    QUESTIONS = "questions"
    ADVICE = "advice"
    COMMITMENTS = "commitments"
    TURN = "turn"
    RESPONSE = "response"


class Outcome(StrEnum):
    DONE = "done"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"
    LEFT = "left"
    ABSENT = "absent"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# The many small records of a state are slotted dataclasses rather than models: a thousand
# live sessions hold tens of thousands of them, and a model instance costs several times the
# memory (its __dict__ and fields-set) and lengthens every garbage collection.
_RECORD_CONFIG = ConfigDict(extra="forbid")


class SessionConfig(_Frozen):
    """What the facilitator chose at `/session start`; build it with `default_config`."""

    format: Format
    turn_minutes: int = Field(ge=1, le=60)
    hotseats: int = Field(ge=1, le=8)
    order: Order


@pydantic_dataclass(frozen=True, slots=True, config=_RECORD_CONFIG)
class Segment:
    """One planned slot of the agenda. The phases of one hot seat share a `unit`, which is
    what skip and move act on; any other segment is a unit of its own."""

    id: int
    unit: int
    speaker_id: int
    round: str
    phase: Phase
    planned_seconds: int


@pydantic_dataclass(frozen=True, slots=True, config=_RECORD_CONFIG)
class Running:
    """The segment in progress. While paused the deadline is None and `remaining` holds the
    seconds left; `paused_seconds` counts finished pauses so actual time excludes them.
    `extended_seconds` is the extension used by the segment's whole unit so far: a hot seat's
    three phases are one segment and share one allowance."""

    segment: Segment
    started_at: AwareDatetime
    deadline: AwareDatetime | None
    remaining: float | None = None
    extended_seconds: int = 0
    warned: bool = False
    paused_seconds: float = 0.0


@pydantic_dataclass(frozen=True, slots=True, config=_RECORD_CONFIG)
class ResponseSlot:
    """A raised hand holding the floor inside an advice segment. `deadline` is the slot's own
    limit; the advice segment's deadline caps it too (see `SessionState.floor_deadline`)."""

    member_id: int
    started_at: AwareDatetime
    planned_seconds: int
    deadline: AwareDatetime | None
    remaining: float | None = None
    paused_seconds: float = 0.0
    extended_seconds: int = 0
    """What the responder added to their own slot (never past the advice phase's end)."""


@pydantic_dataclass(frozen=True, slots=True, config=_RECORD_CONFIG)
class Grace:
    """The floor is waiting for its speaker, who left voice, until `until`."""

    member_id: int
    unit: int
    until: AwareDatetime


@pydantic_dataclass(frozen=True, slots=True, config=_RECORD_CONFIG)
class Presence:
    """Voice presence of one agenda member during the session (for absence and attendance)."""

    first_joined: AwareDatetime
    present_since: AwareDatetime | None
    absent_since: AwareDatetime | None = None
    seconds: float = 0.0
    """Presence already completed (closed by a leave); the open stretch is added on read."""


@pydantic_dataclass(frozen=True, slots=True, config=_RECORD_CONFIG)
class SegmentRecord:
    """A finished segment. `segment_id` is the planned segment it closes; for a RESPONSE it is
    the advice segment the response took place in (responses are not planned segments)."""

    segment_id: int
    speaker_id: int
    round: str
    phase: Phase
    planned_seconds: int
    actual_seconds: int
    outcome: Outcome
    started_at: AwareDatetime | None
    ended_at: AwareDatetime


_Record = TypeVar("_Record", Running, ResponseSlot, Grace, Presence, SegmentRecord)
_new = object.__new__
_set = object.__setattr__


def evolve(record: _Record, **changes: Any) -> _Record:
    """`dataclasses.replace` without validating again: for the state machine, whose values
    come from parts already validated (validating a record costs several times copying it,
    and a hand-over makes several). The caller passes values of the fields' own types."""
    cls = type(record)
    names = cls.__slots__
    if not changes.keys() <= set(names):
        raise TypeError(f"{cls.__name__} has no field {sorted(set(changes) - set(names))}")
    copy = _new(cls)
    for name in names:
        _set(copy, name, changes[name] if name in changes else getattr(record, name))
    return copy


def running(
    segment: Segment,
    started_at: datetime,
    deadline: datetime | None,
    remaining: float | None,
    extended_seconds: int,
) -> Running:
    """A `Running` built without validation (see `evolve`), as the machine starts a segment."""
    run = _new(Running)
    _set(run, "segment", segment)
    _set(run, "started_at", started_at)
    _set(run, "deadline", deadline)
    _set(run, "remaining", remaining)
    _set(run, "extended_seconds", extended_seconds)
    _set(run, "warned", False)
    _set(run, "paused_seconds", 0.0)
    return run


def segment_record(
    seg: Segment,
    actual_seconds: int,
    outcome: Outcome,
    started_at: datetime | None,
    ended_at: datetime,
) -> SegmentRecord:
    """The record of a planned segment, built without validation (see `evolve`)."""
    record = _new(SegmentRecord)
    _set(record, "segment_id", seg.id)
    _set(record, "speaker_id", seg.speaker_id)
    _set(record, "round", seg.round)
    _set(record, "phase", seg.phase)
    _set(record, "planned_seconds", seg.planned_seconds)
    _set(record, "actual_seconds", actual_seconds)
    _set(record, "outcome", outcome)
    _set(record, "started_at", started_at)
    _set(record, "ended_at", ended_at)
    return record


@dataclass(frozen=True, slots=True)
class SegmentView:
    """What the panel shows about a segment; deadline is None while paused or not started."""

    segment_id: int
    unit: int
    speaker_id: int
    phase: Phase
    round: str
    planned_seconds: int
    started_at: datetime | None = None
    deadline: datetime | None = None
    remaining_seconds: int | None = None
    extended_seconds: int = 0


# Kinds of timed events, in the order they are handled when they fall on the same instant.
EVENT_WARNING = 0
EVENT_RESPONSE_END = 1
EVENT_GRACE = 2
EVENT_DEADLINE = 3


class SessionState(BaseModel):
    """Everything needed to resume a session after a restart; persisted after each transition."""

    model_config = ConfigDict(extra="forbid")

    session_id: int
    config: SessionConfig
    seed: int
    """The seed that decided the order at start; kept so the order can be reproduced."""
    started_at: AwareDatetime
    updated_at: AwareDatetime
    """Time of the last transition: a command dated earlier is treated as happening now."""
    rounds: list[str]
    roster: list[int]
    """Everyone who has been on the agenda, in order; late joiners are appended."""
    pending: list[Segment] = Field(default_factory=list)
    running: Running | None = None
    response: ResponseSlot | None = None
    hands: list[int] = Field(default_factory=list)
    """Raised hands waiting for the floor, first come first served (not the responder)."""
    presence: dict[int, Presence] = Field(default_factory=dict)
    grace: Grace | None = None
    paused_at: AwareDatetime | None = None
    paused_seconds: float = 0.0
    """Finished session pauses, in seconds."""
    stick: bool = False
    bot_mutes: list[int] = Field(default_factory=list)
    """Members the bot server-muted; the only ones it may ever unmute."""
    hands_off: list[int] = Field(
        default_factory=list, validation_alias=AliasChoices("hands_off", "muted_by_others")
    )
    """Members whose server mute is someone else's: muted when the stick or they arrived, or
    muted or unmuted during the session by anyone but the bot. The bot never touches it."""
    records: list[SegmentRecord] = Field(default_factory=list)
    next_id: int = 1
    ended_at: AwareDatetime | None = None
    end_reason: str | None = None

    # -- status -------------------------------------------------------------------------

    def is_paused(self) -> bool:
        return self.paused_at is not None

    def is_ended(self) -> bool:
        return self.ended_at is not None

    def is_present(self, member_id: int) -> bool:
        presence = self.presence.get(member_id)
        return presence is not None and presence.present_since is not None

    def floor_holder(self) -> int | None:
        """Who may speak now: the responder during a response slot, else the speaker."""
        if self.response is not None:
            return self.response.member_id
        if self.running is not None:
            return self.running.segment.speaker_id
        return None

    def floor_deadline(self) -> datetime | None:
        """When the floor moves on by itself (None while paused or ended)."""
        run = self.running
        if run is None or run.deadline is None:
            return None
        if self.response is not None and self.response.deadline is not None:
            return min(self.response.deadline, run.deadline)
        return run.deadline

    # -- views --------------------------------------------------------------------------

    def current(self) -> SegmentView | None:
        """The planned segment in progress (during a response, the advice segment)."""
        run = self.running
        if run is None:
            return None
        seg = run.segment
        return SegmentView(
            segment_id=seg.id,
            unit=seg.unit,
            speaker_id=seg.speaker_id,
            phase=seg.phase,
            round=seg.round,
            planned_seconds=seg.planned_seconds,
            started_at=run.started_at,
            deadline=run.deadline,
            remaining_seconds=None if run.remaining is None else round(run.remaining),
            extended_seconds=run.extended_seconds,
        )

    def floor(self) -> SegmentView | None:
        """Who holds the floor and until when: the response slot if one is active."""
        view = self.current()
        slot = self.response
        if view is None or slot is None:
            return view
        remaining = None
        if slot.remaining is not None and self.running is not None:
            remaining = round(min(slot.remaining, self.running.remaining or 0.0))
        return SegmentView(
            segment_id=view.segment_id,
            unit=view.unit,
            speaker_id=slot.member_id,
            phase=Phase.RESPONSE,
            round=view.round,
            planned_seconds=slot.planned_seconds,
            started_at=slot.started_at,
            deadline=self.floor_deadline(),
            remaining_seconds=remaining,
        )

    def upcoming(self, n: int) -> list[SegmentView]:
        """The next `n` pending segments (each hot-seat phase counts as one)."""
        return [
            SegmentView(
                segment_id=seg.id,
                unit=seg.unit,
                speaker_id=seg.speaker_id,
                phase=seg.phase,
                round=seg.round,
                planned_seconds=seg.planned_seconds,
            )
            for seg in self.pending[: max(n, 0)]
        ]

    def upcoming_speakers(self, n: int) -> list[int]:
        """The next `n` people to get the floor, ignoring the current speaker's later phases."""
        current = self.running.segment.unit if self.running is not None else None
        speakers: list[int] = []
        last_unit = current
        for seg in self.pending:
            if len(speakers) >= n:
                break
            if seg.unit != last_unit:
                speakers.append(seg.speaker_id)
                last_unit = seg.unit
        return speakers

    # -- time ---------------------------------------------------------------------------

    def next_event(self) -> tuple[datetime, int] | None:
        """The earliest timed event `(when, kind)`; the timer service needs only its time."""
        if self.ended_at is not None or self.running is None:
            return None
        best: tuple[datetime, int] | None = None
        if self.grace is not None:
            best = (self.grace.until, EVENT_GRACE)
        run = self.running
        deadline = run.deadline
        if deadline is not None:
            # Called several times a hand-over (the machine, the store, the timer): no lists.
            candidate = (deadline, EVENT_DEADLINE)
            if best is None or candidate < best:
                best = candidate
            if not run.warned and run.segment.planned_seconds > WARN_MIN_PLANNED_SECONDS:
                candidate = (deadline - _WARN_BEFORE, EVENT_WARNING)
                if candidate < best:
                    best = candidate
            slot = self.response
            if slot is not None and slot.deadline is not None and slot.deadline < deadline:
                candidate = (slot.deadline, EVENT_RESPONSE_END)
                if candidate < best:
                    best = candidate
        return best

    def next_due(self) -> datetime | None:
        """When the timer service must apply `Due` next (None: nothing is scheduled)."""
        event = self.next_event()
        return None if event is None else event[0]

    def current_elapsed(self, now: datetime) -> float:
        """Seconds the current segment has run, paused time excluded."""
        run = self.running
        if run is None:
            return 0.0
        ongoing = 0.0
        if self.paused_at is not None:
            ongoing = max(0.0, (now - max(self.paused_at, run.started_at)).total_seconds())
        return (now - run.started_at).total_seconds() - run.paused_seconds - ongoing

    def total_paused(self, now: datetime) -> float:
        """Seconds the session has spent paused up to `now`."""
        ongoing = 0.0
        if self.paused_at is not None:
            ongoing = max(0.0, (now - self.paused_at).total_seconds())
        return self.paused_seconds + ongoing

    def time_left(self, now: datetime) -> float | None:
        """Seconds left in the current segment at `now` (None when ended)."""
        run = self.running
        if run is None:
            return None
        if run.deadline is None:
            return run.remaining
        return max(0.0, (run.deadline - now).total_seconds())

    # -- summaries ----------------------------------------------------------------------

    def attendance_seconds(self, now: datetime) -> dict[int, int]:
        """Seconds each agenda member spent in voice during the session, up to `now`."""
        until = now if self.ended_at is None else min(now, self.ended_at)
        result: dict[int, int] = {}
        for member_id, presence in self.presence.items():
            seconds = presence.seconds
            if presence.present_since is not None:
                seconds += max(0.0, (until - presence.present_since).total_seconds())
            result[member_id] = round(seconds)
        return result

    def floor_seconds(self) -> dict[int, int]:
        """Seconds each member held the floor in finished segments, by the one rule of the
        reports (`core.stats.floor_of_records`)."""
        return floor_of_records(self.records)
