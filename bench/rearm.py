"""Start-up re-arm time and resident memory per live session.

Setup (not measured): a SQLite database with N groups of six and N live `standard` sessions
13 minutes in (six check-in records, the first hot seat presenting), written in bulk; the
database is closed and opened again by `storage.Storage` as at start-up.

Re-arm is what `SessionRunner.resume` does, minus Discord (its loading and adopting with the
collector paused and what they loaded frozen at the end, `core.collector.long_lived`):

- `load+adopt+arm`: `storage.sessions.live()` (one query, each state parsed from JSON),
  `SessionService.adopt` and `TimerService.schedule` for each session. Target: < 1 s at 1,000.
- `as the cog does it`: the same, plus what `SessionRunner.resume` loads before it reconciles
  with Discord: every live session's group (`storage.groups.many`) and members
  (`storage.groups.member_ids`), one query each for all sessions (it used to make two queries
  per session). Target: <= 1 s at 5,000.

Also recorded: how long one full garbage collection pauses the process with and without
the N sessions loaded (every object of every live state is traced by the collector).

Memory per live session: what stays allocated in the service and the timers after loading
N sessions, measured with `tracemalloc` (Python allocations, the rows already dropped) and as
the growth of the process's resident set (RSS, allocator slack included). Target: < 20 KB.
"""

from __future__ import annotations

import gc
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    Result,
    Size,
    Target,
    insert_groups,
    insert_sessions,
    mid_meeting_state,
    next_session_id,
    rss_bytes,
)
from core import collector
from core.session import Due
from core.session.model import SessionState
from core.session.outbox import Where
from core.session.service import SessionService
from core.timers import TimerService
from storage import Storage

KIND = "session"
SECONDS_TARGET = 1.0
TARGET_SIZE = 1_000
COG_TARGET_SIZE = 5_000
BYTES_TARGET = 20 * 1024


def now_utc() -> datetime:
    return datetime.now(UTC)


def full_gc_seconds() -> float:
    """How long a full collection stops everything now (after a first one has run)."""
    gc.collect()
    started = time.perf_counter()
    gc.collect()
    return time.perf_counter() - started


async def prepare(path: Path, count: int) -> int:
    """Fill a database with `count` live sessions; the size of one stored state in bytes."""
    storage = Storage.at(path)
    await storage.open()
    try:
        now = now_utc()
        group_ids = await insert_groups(storage.db, count, now)
        first = await next_session_id(storage.db)
        states = [(gid, mid_meeting_state(first + k, gid, now)) for k, gid in enumerate(group_ids)]
        await insert_sessions(storage.db, states)
        return len(states[0][1].model_dump_json())
    finally:
        await storage.close()


async def rearm(storage: Storage, *, like_cog: bool) -> tuple[SessionService, TimerService]:
    """As `SessionRunner.resume` loads, adopts and arms (`collector.long_lived()` included:
    the caller unfreezes what it froze, `gc.unfreeze()`, before measuring or dropping it)."""
    service = SessionService(storage.sessions)
    timers = TimerService(now_utc)
    with collector.long_lived():
        rows = await storage.sessions.live()
        if like_cog:
            group_ids = [row.group_id for row in rows]
            groups = await storage.groups.many(group_ids)
            members = await storage.groups.member_ids(group_ids)
            assert len(groups) == len(rows) and all(members.values())
        for row in rows:
            service.adopt(row.state, row.group_id)
    wheres = {row.id: Where(row.id, row.group_id, row.guild_id, None, None) for row in rows}

    async def due(session_id: int, now: datetime) -> None:
        await service.command(session_id, Due(), now, where=wheres[session_id])

    async def coming(items: list[tuple[int, datetime]], now: datetime) -> None:
        await service.prepare([(session_id, at, wheres[session_id]) for session_id, at in items])

    # Registered as the runner registers its kind: each deadline is armed with its preparation.
    timers.register(KIND, due, prepare=coming)
    for row in rows:
        timers.schedule(KIND, row.id, row.state.next_due())
    return service, timers


async def measure(count: int, folder: Path) -> dict[str, object]:
    path = folder / f"rearm-{count}.db"
    state_bytes = await prepare(path, count)
    storage = Storage.at(path)
    await storage.open()
    try:
        # Where the time goes: the query alone, then parsing the states.
        started = time.perf_counter()
        rows = await storage.db.fetch_all("SELECT * FROM sessions WHERE ended_at IS NULL")
        fetched = time.perf_counter()
        for row in rows:
            SessionState.model_validate_json(row["state"])
        parsed = time.perf_counter()
        del rows

        gc_before = full_gc_seconds()
        rss_before = rss_bytes()
        started_rearm = time.perf_counter()
        service, timers = await rearm(storage, like_cog=False)
        rearm_seconds = time.perf_counter() - started_rearm
        # The pause a full collection would take with them (the bot freezes them instead).
        gc.unfreeze()
        gc.collect()
        rss_growth = rss_bytes() - rss_before
        assert len(service.live_ids()) == count and len(timers) == count
        gc_after = full_gc_seconds()
        del service, timers

        started_cog = time.perf_counter()
        service, timers = await rearm(storage, like_cog=True)
        cog_seconds = time.perf_counter() - started_cog
        gc.unfreeze()
        del service, timers

        gc.collect()
        tracemalloc.start()
        try:
            baseline, _ = tracemalloc.get_traced_memory()
            service, timers = await rearm(storage, like_cog=False)
            gc.unfreeze()
            gc.collect()
            held, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        del service, timers
        return {
            "sessions": count,
            "stored_state_bytes": state_bytes,
            "query_s": round(fetched - started, 4),
            "parse_s": round(parsed - fetched, 4),
            "rearm_s": round(rearm_seconds, 4),
            "rearm_like_cog_s": round(cog_seconds, 4),
            "bytes_per_session_tracemalloc": round((held - baseline) / count),
            "peak_bytes_per_session_tracemalloc": round((peak - baseline) / count),
            "bytes_per_session_rss": round(rss_growth / count),
            "full_gc_pause_without_sessions_ms": round(gc_before * 1000, 2),
            "full_gc_pause_with_sessions_ms": round(gc_after * 1000, 2),
        }
    finally:
        await storage.close()


async def run(size: Size) -> Result:
    result = Result("rearm", "Start-up re-arm and memory per live session (SQLite, no Discord)")
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp:
        for count in size.rearm_sessions:
            data = await measure(count, Path(tmp))
            result.details[str(count)] = data
            seconds = data["rearm_s"]
            cog_seconds = data["rearm_like_cog_s"]
            per_session = data["bytes_per_session_tracemalloc"]
            rss = data["bytes_per_session_rss"]
            assert isinstance(seconds, float) and isinstance(cog_seconds, float)
            assert isinstance(per_session, int) and isinstance(rss, int)
            on_target = count == TARGET_SIZE
            result.add(
                f"{count}.seconds",
                f"re-arm {count:,} live sessions (load+adopt+arm)",
                seconds * 1000,
                "ms",
                Target("<", SECONDS_TARGET * 1000) if on_target else None,
            )
            result.add(
                f"{count}.seconds_like_cog",
                f"re-arm {count:,}, with the cog's group and member queries",
                cog_seconds * 1000,
                "ms",
                Target("<=", SECONDS_TARGET * 1000)
                if on_target or count == COG_TARGET_SIZE
                else None,
            )
            result.add(
                f"{count}.kb_per_session",
                f"memory per live session, {count:,} live",
                round(per_session / 1024, 2),
                "KB",
                Target("<", BYTES_TARGET / 1024),
                f"tracemalloc; RSS growth {rss / 1024:.1f} KB",
            )
            pause = data["full_gc_pause_with_sessions_ms"]
            bare = data["full_gc_pause_without_sessions_ms"]
            assert isinstance(pause, float) and isinstance(bare, float)
            result.add(
                f"{count}.gc_pause_ms",
                f"one full GC pause, {count:,} live",
                pause,
                "ms",
                note=f"{bare:.1f} ms without them",
            )
    return result
