"""What the panel says about the rest of the meeting: who is next and for what, how far along
it is, and when it should end. Pure functions of the state, so they are tested on their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.session.agenda import CHECKIN, COMMITMENTS, HOTSEATS, TURNS
from core.session.model import WARN_MIN_PLANNED_SECONDS, Phase, SessionState

ROUND_NOUNS = {
    CHECKIN: "check-in",
    HOTSEATS: "hot seat",
    COMMITMENTS: "commitments",
    TURNS: "turn",
}
"""How "Next" names what someone is next for: "Ana (hot seat)"."""


@dataclass(frozen=True, slots=True)
class NextUp:
    speaker_id: int
    what: str


@dataclass(frozen=True, slots=True)
class Progress:
    """`position` of `total` planned segments (each hot-seat phase counts as one); `ends_about`
    is None while paused or once ended."""

    position: int
    total: int
    ends_about: datetime | None


def next_up(state: SessionState, n: int = 3) -> list[NextUp]:
    """The next `n` turns, one per person and turn: a hot seat's later phases are one turn,
    and the phases still to come of the hot seat in progress are not "next"."""
    current = state.running.segment.unit if state.running is not None else None
    found: list[NextUp] = []
    last_unit = current
    for seg in state.pending:
        if len(found) >= n:
            break
        if seg.unit != last_unit:
            found.append(NextUp(seg.speaker_id, ROUND_NOUNS.get(seg.round, seg.round)))
            last_unit = seg.unit
    return found


def progress(state: SessionState) -> Progress:
    """How far along the agenda is, and when it ends if nobody extends, skips or pauses."""
    done = sum(1 for record in state.records if record.phase != Phase.RESPONSE)
    running = 1 if state.running is not None else 0
    total = done + running + len(state.pending)
    run = state.running
    if state.is_ended() or run is None or run.deadline is None:
        return Progress(done + running, total, None)
    rest = sum(seg.planned_seconds for seg in state.pending)
    return Progress(done + running, total, run.deadline + timedelta(seconds=rest))


def will_warn(state: SessionState) -> bool:
    """Whether the segment in progress still has its one-minute warning to come."""
    run = state.running
    return (
        run is not None
        and not state.is_ended()
        and not run.warned
        and run.segment.planned_seconds > WARN_MIN_PLANNED_SECONDS
    )
