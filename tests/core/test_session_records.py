"""The machine's unvalidated record builders give exactly what validation would."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from core.session.model import (
    Grace,
    Outcome,
    Phase,
    Presence,
    Running,
    Segment,
    SegmentRecord,
    evolve,
    running,
    segment_record,
)

T0 = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)
SEG = Segment(
    id=3, unit=2, speaker_id=11, round="hotseats", phase=Phase.ADVICE, planned_seconds=600
)


def same(built: object, validated: object) -> None:
    adapter: TypeAdapter[object] = TypeAdapter(type(validated))
    assert built == validated
    assert adapter.dump_json(built) == adapter.dump_json(validated)
    assert adapter.validate_json(adapter.dump_json(built)) == validated


def test_running_is_the_validated_running() -> None:
    deadline = T0 + timedelta(seconds=600)
    same(
        running(SEG, T0, deadline, None, 120),
        Running(segment=SEG, started_at=T0, deadline=deadline, extended_seconds=120),
    )
    same(
        running(SEG, T0, None, 600.0, 0),
        Running(segment=SEG, started_at=T0, deadline=None, remaining=600.0),
    )


def test_segment_record_is_the_validated_record() -> None:
    later = T0 + timedelta(seconds=590)
    same(
        segment_record(SEG, 590, Outcome.DONE, T0, later),
        SegmentRecord(
            segment_id=3,
            speaker_id=11,
            round="hotseats",
            phase=Phase.ADVICE,
            planned_seconds=600,
            actual_seconds=590,
            outcome=Outcome.DONE,
            started_at=T0,
            ended_at=later,
        ),
    )


def test_evolve_is_replace_without_validation() -> None:
    run = Running(segment=SEG, started_at=T0, deadline=T0 + timedelta(seconds=600))
    same(
        evolve(run, warned=True, paused_seconds=4.5),
        dataclasses.replace(run, warned=True, paused_seconds=4.5),
    )
    presence = Presence(first_joined=T0, present_since=T0)
    moved = evolve(presence, present_since=None, absent_since=T0, seconds=30.0)
    same(moved, dataclasses.replace(presence, present_since=None, absent_since=T0, seconds=30.0))
    assert presence.present_since == T0, "the original is untouched"
    grace = Grace(member_id=11, unit=2, until=T0)
    assert evolve(grace) == grace and evolve(grace) is not grace


def test_evolve_refuses_a_field_the_record_does_not_have() -> None:
    run = Running(segment=SEG, started_at=T0, deadline=None, remaining=1.0)
    with pytest.raises(TypeError, match="no field"):
        evolve(run, warn=True)
