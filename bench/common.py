"""What every benchmark shares: sizes, figures and targets, the machine description, and
fixtures that fill a database with many groups and live sessions quickly.

Fixtures write rows in bulk (one transaction, `executemany`) with the same columns the
repositories write; only what a benchmark measures goes through the bot's own code paths.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import resource
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.groups import name_key
from core.session import Due, SessionState, default_config, machine
from core.session.codec import state_json
from storage.convert import to_db_time
from storage.sql import Database

# -- sizes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """How big each benchmark runs. `full()` is the measurement; `quick()` is a smoke run."""

    quick: bool
    handover_sessions: tuple[int, ...]
    handover_window: float
    """Seconds over which the first deadlines of the sessions are spread."""
    handover_lead: float
    """Seconds from the timers' start to the first deadline: the loop is idle when it comes."""
    handover_burst: int
    """Sessions whose deadlines all fall at the same instant (informational)."""
    interaction_others: tuple[int, ...]
    interaction_clicks: int
    interaction_warmup: int
    rearm_sessions: tuple[int, ...]
    feedback_submissions: int
    cohort_sizes: tuple[int, ...]
    postgres_sessions: int
    """Live sessions of the hand-over lateness run on each backend (`bench.postgres`)."""
    postgres_burst: int
    """Deadlines on one instant in the bot-process runs of `bench.postgres`."""
    postgres_lead: float
    """Seconds from the sessions' insertion to that instant: the processes adopt and arm
    them meanwhile."""

    @classmethod
    def full(cls) -> Size:
        return cls(
            quick=False,
            handover_sessions=(100, 1_000, 5_000),
            handover_window=10.0,
            handover_lead=1.0,
            handover_burst=1_000,
            interaction_others=(0, 1_000),
            interaction_clicks=200,
            interaction_warmup=3,
            rearm_sessions=(1_000, 5_000),
            feedback_submissions=2_000,
            cohort_sizes=(40, 120, 200),
            postgres_sessions=1_000,
            postgres_burst=1_000,
            postgres_lead=2.5,
        )

    @classmethod
    def quick_run(cls) -> Size:
        return cls(
            quick=True,
            handover_sessions=(20,),
            handover_window=0.3,
            handover_lead=0.2,
            handover_burst=10,
            interaction_others=(0, 20),
            interaction_clicks=4,
            interaction_warmup=1,
            rearm_sessions=(50,),
            feedback_submissions=40,
            cohort_sizes=(24,),
            postgres_sessions=20,
            postgres_burst=10,
            postgres_lead=0.6,
        )


# -- figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A threshold a figure must meet: `value <op> limit`."""

    op: str
    limit: float

    def met(self, value: float) -> bool:
        if self.op == "<":
            return value < self.limit
        if self.op == "<=":
            return value <= self.limit
        if self.op == ">":
            return value > self.limit
        if self.op == ">=":
            return value >= self.limit
        raise ValueError(f"unknown operator {self.op!r}")

    def text(self, unit: str) -> str:
        symbol = {"<=": "≤", ">=": "≥"}.get(self.op, self.op)
        return f"{symbol} {_number(self.limit)}{(' ' + unit) if unit else ''}"


@dataclass(frozen=True)
class Figure:
    key: str
    """Stable identifier, e.g. `handover.1000.p99_ms`."""
    label: str
    value: float | None
    unit: str = ""
    target: Target | None = None
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.target.met(self.value)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "target": None
            if self.target is None
            else {"op": self.target.op, "limit": self.target.limit},
            "pass": self.ok,
            "note": self.note,
        }


@dataclass
class Result:
    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    seconds: float = 0.0
    load_after: list[float] = field(default_factory=list)

    def add(
        self,
        key: str,
        label: str,
        value: float | None,
        unit: str = "",
        target: Target | None = None,
        note: str = "",
    ) -> None:
        self.figures.append(Figure(f"{self.name}.{key}", label, value, unit, target, note))

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "seconds": round(self.seconds, 3),
            "load_average_after": self.load_after,
            "skipped": self.skipped,
            "figures": [f.as_json() for f in self.figures],
            "details": self.details,
        }


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{_number(value)}{(' ' + unit) if unit else ''}"


# -- statistics --------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean of durations given in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 99) * 1000, 3),
        "max_ms": round(max(seconds) * 1000, 3),
        "mean_ms": round(sum(seconds) / len(seconds) * 1000, 3),
    }


# -- machine -----------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import aiosqlite
    import discord
    import pydantic

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "discord.py": discord.__version__,
        "aiosqlite": getattr(aiosqlite, "__version__", "unknown"),
        "pydantic": pydantic.VERSION,
        "load_average_at_start": load_average(),
    }


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages: other work on the machine skews every timing."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def rss_bytes() -> int:
    """Resident memory of this process now (Linux), else the peak."""
    try:
        with open("/proc/self/statm", encoding="utf-8") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class GcPauses:
    """Every garbage collection while measuring: a full one stops the loop for a while."""

    def __init__(self) -> None:
        self.started = 0.0
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self.started)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)

    @staticmethod
    def describe(summary: object, where: str) -> str:
        assert isinstance(summary, dict)
        full = summary["gen2"]
        return f"{full['count']} full GC {where}, longest {full['max_ms']} ms"

    def summary(self) -> dict[str, object]:
        return {
            f"gen{gen}": {
                "count": len(times),
                "max_ms": round(max(times, default=0.0) * 1000, 2),
                "total_ms": round(sum(times) * 1000, 2),
            }
            for gen, times in self.pauses.items()
        }


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.start


# -- fixtures ----------------------------------------------------------------------------

MEMBERS_PER_GROUP = 6
BENCH_GUILD = 900_000_000_000_000_000
"""Guild id of the groups fixtures create: no Discord guild has it, so nothing renders."""


def member_ids(group_id: int, count: int = MEMBERS_PER_GROUP) -> list[int]:
    return [800_000_000_000_000_000 + group_id * 16 + k for k in range(count)]


async def insert_groups(
    db: Database, count: int, now: datetime, *, members: int = MEMBERS_PER_GROUP
) -> list[int]:
    """`count` groups with `members` members each (the first is facilitator); their ids."""
    row = await db.fetch_one("SELECT COALESCE(MAX(id), 0) FROM groups")
    first = int(row[0]) + 1 if row else 1
    ids = list(range(first, first + count))
    at = to_db_time(now)
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO groups (id, guild_id, name, name_key, description, capacity, timezone,"
            " created_by, created_at) VALUES (?, ?, ?, ?, '', 12, 'UTC', ?, ?)",
            [
                (gid, BENCH_GUILD, f"Bench {gid}", name_key(f"Bench {gid}"), member_ids(gid)[0], at)
                for gid in ids
            ],
        )
        await conn.executemany(
            "INSERT INTO memberships (group_id, user_id, is_facilitator, joined_at)"
            " VALUES (?, ?, ?, ?)",
            [
                (gid, uid, int(k == 0), at)
                for gid in ids
                for k, uid in enumerate(member_ids(gid, members))
            ],
        )
    return ids


async def insert_sessions(db: Database, states: Sequence[tuple[int, SessionState]]) -> None:
    """Live sessions `(group_id, state)` with the columns `SessionRepository.create` writes;
    each state's `session_id` is its row id."""
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO sessions (id, group_id, guild_id, format, started_by, started_at,"
            " state, next_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    state.session_id,
                    group_id,
                    BENCH_GUILD,
                    state.config.format.value,
                    state.roster[0],
                    to_db_time(state.started_at),
                    state_json(state),
                    to_db_time(state.next_due()),
                )
                for group_id, state in states
            ],
        )


async def next_session_id(db: Database) -> int:
    row = await db.fetch_one("SELECT COALESCE(MAX(id), 0) FROM sessions")
    return int(row[0]) + 1 if row else 1


def mid_meeting_state(session_id: int, group_id: int, now: datetime) -> SessionState:
    """A `standard` session of six members, 13 minutes in: the check-in round is over (six
    records) and the first hot seat is presenting, its warning 3 min and deadline 4 min after
    `now`. A typical live session, as the store and the timers hold it."""
    members = member_ids(group_id)
    started = now - timedelta(minutes=13)
    config = default_config("standard", order="joined")
    present = [(m, started + timedelta(seconds=k)) for k, m in enumerate(members)]
    state, _ = machine.start(session_id, config, present, {}, session_id, started)
    state, _ = machine.apply(state, Due(), now)
    return state


def short_turns_state(
    session_id: int, group_id: int, deadline: datetime, turn_minutes: int = 1
) -> SessionState:
    """A `roundrobin` session of four whose first turn ends at `deadline`; the next deadline
    is a whole turn later. Turns of one minute get no warning, so every due is a hand-over."""
    members = member_ids(group_id, 4)
    started = deadline - timedelta(minutes=turn_minutes)
    config = default_config("roundrobin", turn_minutes, order="joined")
    present = [(m, started) for m in members]
    state, _ = machine.start(session_id, config, present, {}, session_id, started)
    return state
