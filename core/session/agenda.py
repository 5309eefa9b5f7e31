"""Building the agenda: defaults, the speaking order, and the segments of each round."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import datetime

from core.errors import UserError
from core.session.model import Format, Order, Phase, Segment, SessionConfig

CHECKIN_SECONDS = 120
COMMITMENT_SECONDS = 60
DEFAULT_TURN_MINUTES = {Format.STANDARD: 20, Format.ROUNDROBIN: 5, Format.HOTSEAT: 15}
DEFAULT_HOTSEATS = 2

CHECKIN, HOTSEATS, COMMITMENTS, TURNS = "checkin", "hotseats", "commitments", "turns"
ROUNDS: dict[Format, tuple[str, ...]] = {
    Format.STANDARD: (CHECKIN, HOTSEATS, COMMITMENTS),
    Format.ROUNDROBIN: (TURNS,),
    Format.HOTSEAT: (HOTSEATS,),
}


def default_config(
    format: Format | str = Format.STANDARD,
    turn_minutes: int | None = None,
    hotseats: int | None = None,
    order: Order | str = Order.FAIR,
) -> SessionConfig:
    """The facilitator's options with the format's defaults filled in; bad values are refused
    with a sentence the facilitator can act on."""
    try:
        fmt = Format(format)
    except ValueError:
        names = ", ".join(f.value for f in Format)
        raise UserError(f"`{format}` is not a session format: use one of {names}.") from None
    try:
        how = Order(order)
    except ValueError:
        names = ", ".join(o.value for o in Order)
        raise UserError(f"`{order}` is not a speaking order: use one of {names}.") from None
    minutes = DEFAULT_TURN_MINUTES[fmt] if turn_minutes is None else turn_minutes
    if not 1 <= minutes <= 60:
        raise UserError("Turns must last between 1 and 60 minutes.")
    seats = DEFAULT_HOTSEATS if hotseats is None else hotseats
    if not 1 <= seats <= 8:
        raise UserError("A session can have between 1 and 8 hot seats.")
    return SessionConfig(format=fmt, turn_minutes=minutes, hotseats=seats, order=how)


def split_hot_seat(total_seconds: int) -> tuple[int, int, int]:
    """Present 25 %, questions 25 %, advice the rest, so the three add up exactly."""
    quarter = total_seconds // 4
    return quarter, quarter, total_seconds - 2 * quarter


def order_members(
    present: Iterable[tuple[int, datetime]],
    last_hotseat: Mapping[int, datetime | None],
    order: Order,
    seed: int,
) -> list[int]:
    """The speaking order. A seeded shuffle comes first so that every tie (same last hot seat,
    same join time) is broken at random but reproducibly; the sort after it is stable."""
    joined: dict[int, datetime] = {}
    for member_id, at in present:
        if member_id not in joined or at < joined[member_id]:
            joined[member_id] = at
    members = list(joined)
    random.Random(seed).shuffle(members)
    if order == Order.FAIR:
        # Never had a hot seat sorts first, then the longest ago.
        members.sort(key=lambda m: _hotseat_key(last_hotseat.get(m)))
    elif order == Order.JOINED:
        members.sort(key=joined.__getitem__)
    return members


def _hotseat_key(last: datetime | None) -> tuple[int, float]:
    return (0, 0.0) if last is None else (1, last.timestamp())


_LATER_PHASES = (Phase.QUESTIONS, Phase.ADVICE)
"""Phases that continue the hot seat of the segment before them (same unit)."""


def round_segments(
    config: SessionConfig, round_name: str, members: Iterable[int], first_id: int
) -> list[Segment]:
    """The segments of one round for `members`, in that order, numbered from `first_id`."""
    segments: list[Segment] = []
    next_id = first_id
    for member_id in members:
        for phase, seconds in _slots(config, round_name):
            segments.append(
                Segment(
                    id=next_id,
                    unit=segments[-1].unit if phase in _LATER_PHASES else next_id,
                    speaker_id=member_id,
                    round=round_name,
                    phase=phase,
                    planned_seconds=seconds,
                )
            )
            next_id += 1
    return segments


def _slots(config: SessionConfig, round_name: str) -> list[tuple[Phase, int]]:
    turn = config.turn_minutes * 60
    if round_name == CHECKIN:
        return [(Phase.CHECKIN, CHECKIN_SECONDS)]
    if round_name == COMMITMENTS:
        return [(Phase.COMMITMENTS, COMMITMENT_SECONDS)]
    if round_name == TURNS:
        return [(Phase.TURN, turn)]
    if round_name == HOTSEATS:
        present, questions, advice = split_hot_seat(turn)
        return [(Phase.PRESENT, present), (Phase.QUESTIONS, questions), (Phase.ADVICE, advice)]
    raise ValueError(f"unknown round {round_name!r}")


def round_members(config: SessionConfig, round_name: str, order: list[int]) -> list[int]:
    """Who gets a segment in a round: everyone, except the standard format's hot seats,
    which go to the first `hotseats` members in the order."""
    if config.format == Format.STANDARD and round_name == HOTSEATS:
        return order[: config.hotseats]
    return list(order)


def accepts_late_joiners(config: SessionConfig, round_name: str) -> bool:
    """The standard format's hot seats are chosen at the start; every other round grows."""
    return not (config.format == Format.STANDARD and round_name == HOTSEATS)


def build_agenda(config: SessionConfig, order: list[int], first_id: int = 1) -> list[Segment]:
    """Every segment of the session, round after round."""
    segments: list[Segment] = []
    for round_name in ROUNDS[config.format]:
        members = round_members(config, round_name, order)
        segments += round_segments(config, round_name, members, first_id + len(segments))
    return segments
