"""Agenda building: defaults and validation, the 25/25/50 split, rounds and speaking order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import UserError
from core.session import (
    Format,
    Order,
    Phase,
    SessionState,
    build_agenda,
    default_config,
    order_members,
    split_hot_seat,
    start,
)

T0 = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)


def days_ago(days: int) -> datetime:
    return T0 - timedelta(days=days)


# -- defaults and validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "minutes"),
    [(Format.STANDARD, 20), (Format.ROUNDROBIN, 5), (Format.HOTSEAT, 15)],
)
def test_default_turn_length_depends_on_format(fmt: Format, minutes: int) -> None:
    config = default_config(fmt, None, None, Order.FAIR)
    assert config.turn_minutes == minutes
    assert config.hotseats == 2
    assert config.format == fmt
    assert config.order == Order.FAIR


def test_explicit_options_are_kept_and_strings_accepted() -> None:
    config = default_config("roundrobin", 7, 3, "joined")
    assert (config.format, config.turn_minutes, config.hotseats, config.order) == (
        Format.ROUNDROBIN,
        7,
        3,
        Order.JOINED,
    )


@pytest.mark.parametrize("minutes", [1, 60])
def test_turn_minutes_bounds_are_inclusive(minutes: int) -> None:
    assert default_config(Format.STANDARD, minutes, None, Order.FAIR).turn_minutes == minutes


@pytest.mark.parametrize("minutes", [0, -5, 61])
def test_turn_minutes_out_of_range_is_refused(minutes: int) -> None:
    with pytest.raises(UserError, match="between 1 and 60 minutes"):
        default_config(Format.STANDARD, minutes, None, Order.FAIR)


@pytest.mark.parametrize("seats", [0, 9])
def test_hotseats_out_of_range_is_refused(seats: int) -> None:
    with pytest.raises(UserError, match="between 1 and 8 hot seats"):
        default_config(Format.STANDARD, None, seats, Order.FAIR)


def test_unknown_format_or_order_is_refused_with_the_choices() -> None:
    with pytest.raises(UserError, match="standard, roundrobin, hotseat"):
        default_config("fishbowl", None, None, Order.FAIR)
    with pytest.raises(UserError, match="fair, random, joined"):
        default_config(Format.STANDARD, None, None, "alphabetical")


# -- the hot-seat split -------------------------------------------------------------------


@pytest.mark.parametrize("minutes", range(1, 61))
def test_hot_seat_split_is_25_25_50_and_sums_exactly(minutes: int) -> None:
    total = minutes * 60
    present, questions, advice = split_hot_seat(total)
    assert present + questions + advice == total
    assert present == questions == total // 4
    assert advice == total // 2


@pytest.mark.parametrize("total", [1, 2, 3, 7, 301, 999])
def test_hot_seat_split_of_odd_totals_still_sums_exactly(total: int) -> None:
    parts = split_hot_seat(total)
    assert sum(parts) == total
    assert min(parts) >= 0
    assert parts[0] == parts[1] <= parts[2]


# -- the agenda of each format ------------------------------------------------------------


def test_standard_agenda_has_checkin_two_hot_seats_and_commitments() -> None:
    config = default_config(Format.STANDARD, None, None, Order.JOINED)
    agenda = build_agenda(config, [11, 12, 13, 14])
    shape = [(s.round, s.speaker_id, s.phase, s.planned_seconds) for s in agenda]
    assert shape == [
        ("checkin", 11, Phase.CHECKIN, 120),
        ("checkin", 12, Phase.CHECKIN, 120),
        ("checkin", 13, Phase.CHECKIN, 120),
        ("checkin", 14, Phase.CHECKIN, 120),
        ("hotseats", 11, Phase.PRESENT, 300),
        ("hotseats", 11, Phase.QUESTIONS, 300),
        ("hotseats", 11, Phase.ADVICE, 600),
        ("hotseats", 12, Phase.PRESENT, 300),
        ("hotseats", 12, Phase.QUESTIONS, 300),
        ("hotseats", 12, Phase.ADVICE, 600),
        ("commitments", 11, Phase.COMMITMENTS, 60),
        ("commitments", 12, Phase.COMMITMENTS, 60),
        ("commitments", 13, Phase.COMMITMENTS, 60),
        ("commitments", 14, Phase.COMMITMENTS, 60),
    ]
    assert [s.id for s in agenda] == list(range(1, 15))
    # The three phases of a hot seat form one unit; every other segment is its own unit.
    assert [s.unit for s in agenda[4:10]] == [5, 5, 5, 8, 8, 8]
    assert [s.unit for s in agenda[:4]] == [1, 2, 3, 4]


def test_standard_agenda_with_fewer_members_than_hot_seats() -> None:
    config = default_config(Format.STANDARD, 10, 3, Order.JOINED)
    agenda = build_agenda(config, [5, 6])
    hot = [s for s in agenda if s.round == "hotseats"]
    assert [(s.speaker_id, s.phase) for s in hot] == [
        (5, Phase.PRESENT),
        (5, Phase.QUESTIONS),
        (5, Phase.ADVICE),
        (6, Phase.PRESENT),
        (6, Phase.QUESTIONS),
        (6, Phase.ADVICE),
    ]
    assert [s.planned_seconds for s in hot[:3]] == [150, 150, 300]


def test_roundrobin_agenda_is_one_turn_each() -> None:
    config = default_config(Format.ROUNDROBIN, None, None, Order.JOINED)
    agenda = build_agenda(config, [3, 1, 2])
    assert [(s.round, s.speaker_id, s.phase, s.planned_seconds) for s in agenda] == [
        ("turns", 3, Phase.TURN, 300),
        ("turns", 1, Phase.TURN, 300),
        ("turns", 2, Phase.TURN, 300),
    ]


def test_hotseat_agenda_gives_everyone_a_three_phase_hot_seat() -> None:
    config = default_config(Format.HOTSEAT, None, 1, Order.JOINED)
    agenda = build_agenda(config, [7, 8, 9])
    assert len(agenda) == 9  # `hotseats` does not limit this format
    assert [s.speaker_id for s in agenda] == [7, 7, 7, 8, 8, 8, 9, 9, 9]
    assert [s.planned_seconds for s in agenda[:3]] == [225, 225, 450]
    assert sum(s.planned_seconds for s in agenda) == 3 * 15 * 60


# -- speaking order -----------------------------------------------------------------------


def test_fair_order_puts_never_and_longest_ago_first() -> None:
    present = [(1, T0), (2, T0), (3, T0), (4, T0), (5, T0)]
    last = {1: days_ago(7), 2: None, 3: days_ago(30), 4: days_ago(14)}  # 5 is missing: never
    order = order_members(present, last, Order.FAIR, seed=1)
    assert set(order[:2]) == {2, 5}
    assert order[2:] == [3, 4, 1]


def test_fair_ties_are_random_but_reproducible() -> None:
    present = [(m, T0) for m in range(1, 9)]
    orders = {tuple(order_members(present, {}, Order.FAIR, seed)) for seed in range(20)}
    assert len(orders) > 1  # ties really are broken at random...
    again = order_members(present, {}, Order.FAIR, 5)
    assert again == order_members(present, {}, Order.FAIR, 5)  # ...but the seed decides


def test_random_order_is_a_seeded_permutation() -> None:
    present = [(m, T0) for m in range(1, 9)]
    first = order_members(present, {}, Order.RANDOM, 123)
    assert sorted(first) == list(range(1, 9))
    assert first == order_members(present, {}, Order.RANDOM, 123)
    assert any(order_members(present, {}, Order.RANDOM, s) != first for s in range(5))


def test_random_order_ignores_last_hot_seat() -> None:
    present = [(m, T0) for m in range(1, 9)]
    last = {m: days_ago(m) for m in range(1, 9)}
    assert order_members(present, last, Order.RANDOM, 9) == order_members(
        present, {}, Order.RANDOM, 9
    )


def test_joined_order_follows_voice_join_time() -> None:
    present = [(1, T0 + timedelta(seconds=30)), (2, T0), (3, T0 - timedelta(minutes=5))]
    assert order_members(present, {}, Order.JOINED, seed=99) == [3, 2, 1]


def test_duplicate_presence_counts_once_with_the_earliest_join() -> None:
    present = [(1, T0), (2, T0 + timedelta(seconds=5)), (1, T0 + timedelta(seconds=9))]
    assert order_members(present, {}, Order.JOINED, seed=0) == [1, 2]


def test_start_uses_the_order_for_every_round_and_stores_the_seed() -> None:
    config = default_config(Format.STANDARD, None, 1, Order.FAIR)
    present = [(1, T0), (2, T0), (3, T0)]
    last = {1: days_ago(3), 2: days_ago(10), 3: None}
    state, _ = start(7, config, present, last, 4242, T0)
    assert state.roster == [3, 2, 1]
    assert state.seed == 4242
    current = state.current()
    assert current is not None and current.speaker_id == 3
    assert state.records == []
    assert [s.speaker_id for s in state.pending if s.round == "checkin"] == [2, 1]
    assert [s.speaker_id for s in state.pending if s.round == "hotseats"] == [3, 3, 3]
    assert [s.speaker_id for s in state.pending if s.round == "commitments"] == [3, 2, 1]
    # The stored state reproduces itself after a reload.
    assert SessionState.model_validate_json(state.model_dump_json()) == state


def test_start_with_nobody_present_is_refused() -> None:
    config = default_config(Format.STANDARD, None, None, Order.FAIR)
    with pytest.raises(UserError, match="Nobody"):
        start(1, config, [], {}, 0, T0)
