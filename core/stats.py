"""The figures of the reports, as pure functions over plain facts (no Discord, no database).

Definitions (every report, embed and CSV uses exactly these):

- **attendees** of a session: the group members who were in its voice channel at any time
  during it (one `attendance` row each).
- **respondent**: an attendee who left feedback on the session, a rating or the details form
  or both (one `feedback` row each). **responses** counts respondents who are attendees.
- **response rate** = respondents who are attendees / attendees; undefined (empty) without
  attendees. Across several sessions it is pooled: Σ responses / Σ attendees.
- **ratings** are the 1-5 ratings given (`Not valuable` = 1 … `Very valuable` = 5); a respondent
  who only filled in the form gave none. **distribution** counts ratings per value 1-5.
- **rating mean** = Σ ratings / number of ratings given; undefined without ratings. Across
  sessions it is pooled over every rating, not a mean of means.
- **share Very valuable** = ratings equal to 5 / ratings given (shown as a percentage).
- **resources** (and likewise **referrals**) of a session = notes of kind `resource` taken during
  the session with `/session note` or the panel, plus the non-empty lines of every respondent's
  `resources` field (a line holding only a list marker `-`, `*` or `•` is empty). Insights are
  not counted.
- **next steps** of a session = the next steps recorded from it (one per non-empty line of a
  respondent's `next_steps` field). **next-step completion** = steps marked `Done` / all of them
  (`Partly` and `Not yet` do not count as done); undefined without steps. It is measured when the
  report is made, so an older session's steps have had time to be marked.
- **floor time** of a member = seconds they held the floor in finished segments. A raised-hand
  response counts for the responder and is taken off the hot-seat member whose advice phase it
  interrupted (the same rule as the session summary).
- **floor-time fairness** = Jain's index (Σx)² / (n·Σx²) over the floor seconds x of the n
  people (every attendee, including those who never held the floor): 1.00 when everyone held
  the floor equally long, 1/n when one person held it all; undefined when nobody held it.
- **hot-seat turns** of a member = the sessions in which they held the floor (more than 0 s) in
  a hot seat of their own (its present, questions or advice phase; answering someone else's
  hot seat is a response, not a turn).
- **duration** = from start to end of the session, pauses included, in minutes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

RATINGS = (1, 2, 3, 4, 5)
VERY_VALUABLE = 5
HOTSEAT_ROUND = "hotseats"
RESPONSE_PHASE = "response"
ADVICE_PHASE = "advice"
DONE = "done"
LIST_MARKERS = "-*•"


# -- the figures --------------------------------------------------------------------------


def count_lines(text: str) -> int:
    """Non-empty lines of a free-text field; a line with only a list marker is empty."""
    return sum(1 for line in text.splitlines() if line.strip().lstrip(LIST_MARKERS).strip())


def distribution(ratings: Iterable[int | None]) -> dict[int, int]:
    """How many ratings of each value 1-5 (every value present, missing ratings ignored)."""
    counts = dict.fromkeys(RATINGS, 0)
    for rating in ratings:
        if rating is None:
            continue
        if rating not in counts:
            raise ValueError(f"a rating is 1-5, not {rating}")
        counts[rating] += 1
    return counts


def mean(values: Iterable[float | None]) -> float | None:
    """The arithmetic mean of the values given (None values are not given); None if none."""
    given = [value for value in values if value is not None]
    return sum(given) / len(given) if given else None


def share_very_valuable(ratings: Iterable[int | None]) -> float | None:
    """Share (0-1) of the ratings given that are `Very valuable` (5); None without ratings."""
    given = [rating for rating in ratings if rating is not None]
    if not given:
        return None
    return sum(1 for rating in given if rating == VERY_VALUABLE) / len(given)


def response_rate(attendees: Collection[int], respondents: Collection[int]) -> float | None:
    """Respondents who are attendees / attendees (0-1); None without attendees."""
    present = set(attendees)
    if not present:
        return None
    return len(present & set(respondents)) / len(present)


def not_answered(attendees: Sequence[int], respondents: Collection[int]) -> list[int]:
    """The attendees who left no feedback yet, in the order given (who gets a reminder, and
    whom `/feedback status` lists)."""
    answered = set(respondents)
    return [member for member in dict.fromkeys(attendees) if member not in answered]


def pooled_rate(parts: Iterable[tuple[int, int]]) -> float | None:
    """Σ numerators / Σ denominators of (numerator, denominator) pairs; None if Σ is 0."""
    top = bottom = 0
    for numerator, denominator in parts:
        top += numerator
        bottom += denominator
    return top / bottom if bottom else None


def next_step_completion(statuses: Iterable[str]) -> float | None:
    """Share (0-1) of next steps whose status is `done`; None without steps."""
    every = list(statuses)
    if not every:
        return None
    return sum(1 for status in every if status == DONE) / len(every)


@dataclass(frozen=True)
class SegmentFact:
    """One finished segment as stored: `seq` orders the segments of a session."""

    session_id: int
    seq: int
    speaker_id: int
    round: str
    phase: str
    actual_seconds: int


class FloorRecord(Protocol):
    """What the floor rule needs of a finished segment (stored `SegmentFact`s and the live
    state's records both have it)."""

    @property
    def speaker_id(self) -> int: ...
    @property
    def phase(self) -> str: ...
    @property
    def actual_seconds(self) -> int: ...


def floor_of_records(records: Iterable[FloorRecord]) -> dict[int, int]:
    """Seconds each member held the floor in one session's finished segments, in the order
    they finished. A response is recorded before the advice segment it interrupted ends, so
    its seconds are taken off the speaker of the next advice segment that was held: pending
    segments skipped meanwhile are recorded with no time and were not interrupted."""
    result: dict[int, int] = {}
    waiting: list[FloorRecord] = []
    for record in records:
        result[record.speaker_id] = result.get(record.speaker_id, 0) + record.actual_seconds
        if record.phase == RESPONSE_PHASE:
            waiting.append(record)
        elif record.phase == ADVICE_PHASE and record.actual_seconds > 0:
            for response in waiting:
                result[record.speaker_id] -= response.actual_seconds
            waiting = []
    return result


def floor_seconds(segments: Iterable[SegmentFact]) -> dict[int, int]:
    """Seconds each member held the floor, per the definition above, over any sessions."""
    result: dict[int, int] = {}
    by_session: dict[int, list[SegmentFact]] = {}
    for segment in segments:
        by_session.setdefault(segment.session_id, []).append(segment)
    for records in by_session.values():
        records.sort(key=lambda s: s.seq)
        for member, seconds in floor_of_records(records).items():
            result[member] = result.get(member, 0) + seconds
    return result


def is_hotseat_turn(round_name: str, phase: str, actual_seconds: int) -> bool:
    """Whether a finished segment is (part of) its speaker's own hot seat: a phase of the
    hot-seat round that they actually spoke in. A raised-hand response inside someone else's
    hot seat is not one. The one definition every count and the hot-seat history use."""
    return round_name == HOTSEAT_ROUND and phase != RESPONSE_PHASE and actual_seconds > 0


def hotseat_turns(segments: Iterable[SegmentFact], members: Iterable[int] = ()) -> dict[int, int]:
    """Hot-seat turns per member; the `members` given appear even with no turn (0)."""
    turns: dict[int, set[int]] = {member: set() for member in members}
    for segment in segments:
        if is_hotseat_turn(segment.round, segment.phase, segment.actual_seconds):
            turns.setdefault(segment.speaker_id, set()).add(segment.session_id)
    return {member: len(sessions) for member, sessions in turns.items()}


def floor_fairness(seconds: Iterable[float]) -> float | None:
    """Jain's fairness index of the floor seconds (one value per person); None if all are 0."""
    values = list(seconds)
    total = sum(values)
    squares = sum(value * value for value in values)
    if not values or squares == 0:
        return None
    return total * total / (len(values) * squares)


# -- one session, several sessions --------------------------------------------------------


@dataclass(frozen=True)
class ResponseFact:
    """One respondent's feedback on a session: the rating (if any) and the counted lines."""

    user_id: int
    rating: int | None
    resources: int
    referrals: int


@dataclass(frozen=True)
class SessionFacts:
    """Everything stored about one ended session that the figures need."""

    session_id: int
    group_id: int
    group: str
    timezone: str | None
    started_at: datetime
    ended_at: datetime
    attendance: Mapping[int, int]
    """Attendee -> seconds in voice during the session."""
    responses: Sequence[ResponseFact] = ()
    notes: Mapping[str, int] = field(default_factory=dict)
    """Notes taken during the session, counted per kind (`resource`, `referral`, `insight`)."""
    step_statuses: Sequence[str] = ()
    segments: Sequence[SegmentFact] = ()


@dataclass(frozen=True)
class SessionFigures:
    session_id: int
    group_id: int
    group: str
    session_date: date
    started_at: datetime
    duration_min: float
    attendees: int
    responses: int
    response_rate: float | None
    ratings: tuple[int, ...]
    distribution: dict[int, int]
    rating_mean: float | None
    very_valuable: float | None
    """Share 0-1 of ratings that are Very valuable."""
    resources: int
    referrals: int
    next_steps: int
    next_steps_done: int
    next_steps_done_share: float | None
    attendance: dict[int, int]
    floor: dict[int, int]
    """Floor seconds per attendee (0 for those who never held it)."""
    floor_fairness: float | None
    hotseat_turns: dict[int, int]

    @property
    def very_valuable_pct(self) -> float | None:
        return None if self.very_valuable is None else 100 * self.very_valuable

    @property
    def next_steps_done_pct(self) -> float | None:
        share = self.next_steps_done_share
        return None if share is None else 100 * share


def session_date(started_at: datetime, timezone: str | None) -> date:
    """The calendar date of the session where the group meets (UTC without a time zone)."""
    return started_at.astimezone(ZoneInfo(timezone or "UTC")).date()


def session_figures(facts: SessionFacts) -> SessionFigures:
    attendees = set(facts.attendance)
    answered = [r for r in facts.responses if r.user_id in attendees]
    ratings = tuple(r.rating for r in facts.responses if r.rating is not None)
    floor = dict.fromkeys(sorted(attendees), 0)
    floor.update(floor_seconds(facts.segments))
    statuses = list(facts.step_statuses)
    done = sum(1 for status in statuses if status == DONE)
    return SessionFigures(
        session_id=facts.session_id,
        group_id=facts.group_id,
        group=facts.group,
        session_date=session_date(facts.started_at, facts.timezone),
        started_at=facts.started_at,
        duration_min=(facts.ended_at - facts.started_at).total_seconds() / 60,
        attendees=len(attendees),
        responses=len(answered),
        response_rate=response_rate(attendees, [r.user_id for r in facts.responses]),
        ratings=ratings,
        distribution=distribution(ratings),
        rating_mean=mean(ratings),
        very_valuable=share_very_valuable(ratings),
        resources=facts.notes.get("resource", 0) + sum(r.resources for r in facts.responses),
        referrals=facts.notes.get("referral", 0) + sum(r.referrals for r in facts.responses),
        next_steps=len(statuses),
        next_steps_done=done,
        next_steps_done_share=next_step_completion(statuses),
        attendance=dict(facts.attendance),
        floor=floor,
        floor_fairness=floor_fairness(floor.values()),
        hotseat_turns=hotseat_turns(facts.segments),
    )


@dataclass(frozen=True)
class TrendFigures:
    """Several sessions (of one group, or of every group) taken together."""

    sessions: int
    attendance: tuple[int, ...]
    """Attendees per session, oldest first."""
    mean_attendance: float | None
    responses: int
    response_rate: float | None
    ratings: int
    rating_mean: float | None
    very_valuable: float | None
    distribution: dict[int, int]
    next_steps: int
    next_steps_done: int
    next_steps_done_share: float | None
    resources: int
    referrals: int
    hotseat_turns: dict[int, int]
    floor: dict[int, int]
    floor_fairness: float | None


def trend_figures(sessions: Sequence[SessionFigures], members: Iterable[int] = ()) -> TrendFigures:
    """Pooled figures over the sessions. `members` (the group's current members) appear in the
    hot-seat turns and the floor time even when they never held the floor; fairness is over
    them and everyone who attended."""
    ordered = sorted(sessions, key=lambda s: (s.started_at, s.session_id))
    ratings = [rating for s in ordered for rating in s.ratings]
    people = list(dict.fromkeys(members))
    turns = dict.fromkeys(people, 0)
    floor = dict.fromkeys(people, 0)
    for s in ordered:
        for member, count in s.hotseat_turns.items():
            turns[member] = turns.get(member, 0) + count
        for member, seconds in s.floor.items():
            floor[member] = floor.get(member, 0) + seconds
    for member in floor:
        turns.setdefault(member, 0)
    attendance = tuple(s.attendees for s in ordered)
    return TrendFigures(
        sessions=len(ordered),
        attendance=attendance,
        mean_attendance=mean(attendance),
        responses=sum(s.responses for s in ordered),
        response_rate=pooled_rate((s.responses, s.attendees) for s in ordered),
        ratings=len(ratings),
        rating_mean=mean(ratings),
        very_valuable=share_very_valuable(ratings),
        distribution=distribution(ratings),
        next_steps=sum(s.next_steps for s in ordered),
        next_steps_done=sum(s.next_steps_done for s in ordered),
        next_steps_done_share=pooled_rate((s.next_steps_done, s.next_steps) for s in ordered),
        resources=sum(s.resources for s in ordered),
        referrals=sum(s.referrals for s in ordered),
        hotseat_turns=turns,
        floor=floor,
        floor_fairness=floor_fairness(floor.values()),
    )
