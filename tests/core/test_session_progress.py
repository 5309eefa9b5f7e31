"""What the panel says of the rest of the meeting, and how the tidy plans its deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.session import Due, Extend, Format, Next, Order, Pause, SessionState, apply, start
from core.session.agenda import default_config
from core.session.progress import NextUp, next_up, progress, will_warn
from core.session.tidy import BULK_MAX, BULK_MAX_AGE, DISCORD_EPOCH_MS, created_at, plan_deletes

T0 = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)
FACILITATOR = 1000


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def begin(
    fmt: Format = Format.STANDARD, members: tuple[int, ...] = (1, 2, 3, 4), hotseats: int = 2
) -> SessionState:
    config = default_config(fmt, None, hotseats, Order.JOINED)
    present = [(m, T0 - timedelta(minutes=10, seconds=-i)) for i, m in enumerate(members)]
    state, _ = start(1, config, present, {}, 0, T0)
    return state


def until_segment(state: SessionState, segment_id: int) -> SessionState:
    """Let the timer run until segment `segment_id` holds the floor."""
    while state.running is not None and state.running.segment.id != segment_id:
        due = state.next_due()
        assert due is not None
        state, _ = apply(state, Due(), due)
    return state


def test_next_names_each_turn_once_with_what_it_is_for() -> None:
    state = begin()
    assert next_up(state) == [NextUp(2, "check-in"), NextUp(3, "check-in"), NextUp(4, "check-in")]
    # During the last check-in: the hot seats, then the commitments (a hot seat's three
    # phases are one turn).
    state = until_segment(state, 4)
    assert next_up(state) == [
        NextUp(1, "hot seat"),
        NextUp(2, "hot seat"),
        NextUp(1, "commitments"),
    ]
    # In someone's hot seat, their own questions and advice phases are not "next".
    state = until_segment(state, 5)
    assert next_up(state, 2) == [NextUp(2, "hot seat"), NextUp(1, "commitments")]
    rr = begin(Format.ROUNDROBIN, (7, 8))
    assert next_up(rr) == [NextUp(8, "turn")]


def test_progress_counts_planned_segments_and_adds_up_the_time_left() -> None:
    state = begin()  # 4 × 2 min, 2 × (5 + 5 + 10 min), 4 × 1 min = 52 min, 14 segments
    assert progress(state).position == 1 and progress(state).total == 14
    assert progress(state).ends_about == at(52 * 60)
    state = until_segment(state, 7)
    assert progress(state).position == 7
    assert progress(state).ends_about == at(52 * 60)
    # Ending a turn early brings the end forward; extending pushes it back.
    state, _ = apply(state, Next(FACILITATOR, True), at(state_elapsed(state) + 60))
    assert progress(state).position == 8
    early = progress(state).ends_about
    assert early is not None and early < at(52 * 60)
    state, _ = apply(state, Extend(FACILITATOR, True, 120), state.updated_at)
    assert progress(state).ends_about == early + timedelta(seconds=120)
    # Paused, nobody knows when it ends.
    state, _ = apply(state, Pause(FACILITATOR, True), state.updated_at)
    assert progress(state).ends_about is None


def state_elapsed(state: SessionState) -> float:
    return (state.updated_at - T0).total_seconds()


def test_warnings_to_come_are_known_for_long_segments_only() -> None:
    state = begin()
    assert will_warn(state)  # a 2-minute check-in
    due = state.next_due()
    assert due is not None
    state, _ = apply(state, Due(), due)  # the warning
    assert not will_warn(state)
    state = until_segment(state, 11)  # a 1-minute commitment
    assert not will_warn(state)


@settings(max_examples=60, deadline=None)
@given(
    members=st.lists(st.integers(1, 9), min_size=1, max_size=6, unique=True),
    hotseats=st.integers(1, 3),
    steps=st.integers(0, 40),
)
def test_progress_never_runs_backwards_and_the_end_is_the_sum_of_the_plan(
    members: list[int], hotseats: int, steps: int
) -> None:
    state = begin(Format.STANDARD, tuple(members), hotseats)
    last = progress(state)
    for _ in range(steps):
        due = state.next_due()
        if due is None:
            break
        state, _ = apply(state, Due(), due)
        now = progress(state)
        assert last.position <= now.position <= now.total == last.total
        if now.ends_about is not None:
            # Nobody extended or ended anything early: the plan holds to the second.
            planned = sum(seg.planned_seconds for seg in begin_plan(members, hotseats))
            assert now.ends_about == at(planned)
        last = now
    upcoming = next_up(state, 3)
    assert len(upcoming) <= 3
    assert all(turn.what in {"check-in", "hot seat", "commitments"} for turn in upcoming)


def begin_plan(members: list[int], hotseats: int) -> list[object]:
    state = begin(Format.STANDARD, tuple(members), hotseats)
    assert state.running is not None
    return [state.running.segment, *state.pending]


def snowflake(moment: datetime, n: int = 0) -> int:
    return ((int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + n


def test_a_snowflake_says_when_it_was_made() -> None:
    assert created_at(snowflake(T0, 5)) == T0


def test_young_messages_go_in_bulk_old_and_lone_ones_one_by_one() -> None:
    now = T0 + timedelta(days=20)
    old = [snowflake(T0, n) for n in range(3)]
    young = [snowflake(now - timedelta(hours=2), n) for n in range(150)]
    plan = plan_deletes(young + old, now, can_bulk=True)
    assert plan.bulk == [young[:100], young[100:]]
    assert plan.single == old
    assert plan.calls() == 5
    lone = plan_deletes([young[0]], now, can_bulk=True)
    assert lone.bulk == [] and lone.single == [young[0]]
    assert plan_deletes(young[:3], now, can_bulk=False).single == young[:3]


@given(
    ages=st.lists(st.integers(0, 30 * 24 * 3600), max_size=250),
    can_bulk=st.booleans(),
)
def test_every_message_is_deleted_exactly_once_within_discord_s_rules(
    ages: list[int], can_bulk: bool
) -> None:
    now = T0 + timedelta(days=60)
    ids = [snowflake(now - timedelta(seconds=age), n) for n, age in enumerate(ages)]
    plan = plan_deletes(ids, now, can_bulk=can_bulk)
    flat = [i for batch in plan.bulk for i in batch] + plan.single
    assert sorted(flat) == sorted(set(ids))
    for batch in plan.bulk:
        assert can_bulk and 2 <= len(batch) <= BULK_MAX
        assert all(now - created_at(i) < BULK_MAX_AGE for i in batch)
