"""Who a session's state names, and putting one member's id in another's place.

Erasure replaces a person's id by an anonymous one in an ended session's state; it works
through the state's own fields, so it cannot miss an id or touch a number that only looks
like one (a seed, a segment id, a longer id that contains it)."""

from __future__ import annotations

from dataclasses import replace

from core.session.model import Segment, SessionState


def member_ids(state: SessionState) -> frozenset[int]:
    """Every member id the state holds, in any field."""
    ids: set[int] = set(state.roster)
    ids.update(segment.speaker_id for segment in state.pending)
    if state.running is not None:
        ids.add(state.running.segment.speaker_id)
    if state.response is not None:
        ids.add(state.response.member_id)
    if state.grace is not None:
        ids.add(state.grace.member_id)
    ids.update(state.hands)
    ids.update(state.presence)
    ids.update(state.bot_mutes)
    ids.update(state.hands_off)
    ids.update(record.speaker_id for record in state.records)
    return frozenset(ids)


def replace_member(state: SessionState, old: int, new: int) -> SessionState:
    """The same state with `new` wherever it named `old`. `new` must not be in the state
    already (two members would become one)."""
    if old == new:
        return state
    if new in member_ids(state):
        raise ValueError(f"{new} is already in session {state.session_id}")

    def swap(member: int) -> int:
        return new if member == old else member

    def segment(planned: Segment) -> Segment:
        return replace(planned, speaker_id=new) if planned.speaker_id == old else planned

    running = state.running
    if running is not None and running.segment.speaker_id == old:
        running = replace(running, segment=segment(running.segment))
    response = state.response
    if response is not None and response.member_id == old:
        response = replace(response, member_id=new)
    grace = state.grace
    if grace is not None and grace.member_id == old:
        grace = replace(grace, member_id=new)
    return state.model_copy(
        update={
            "roster": [swap(member) for member in state.roster],
            "pending": [segment(planned) for planned in state.pending],
            "running": running,
            "response": response,
            "grace": grace,
            "hands": [swap(member) for member in state.hands],
            "presence": {swap(member): seen for member, seen in state.presence.items()},
            "bot_mutes": [swap(member) for member in state.bot_mutes],
            "hands_off": [swap(member) for member in state.hands_off],
            "records": [
                replace(record, speaker_id=new) if record.speaker_id == old else record
                for record in state.records
            ],
        }
    )
