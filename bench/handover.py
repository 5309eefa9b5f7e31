"""Hand-over lateness at deadlines, on the real clock, with N live sessions in one process.

Setup (not measured): a temporary SQLite database opened by `storage.Storage` (WAL, one writer
connection, migrations); N groups; N `roundrobin` sessions of four with one-minute turns,
built by `core.session.machine.start` at staggered start times so that their first deadlines
are spread evenly over a window of `Size.handover_window` seconds that opens shortly after the
timers start. All N are adopted into one `SessionService` and armed in one `TimerService`
whose clock is the real `datetime.now(UTC)`.

Each hand-over runs what the bot runs at a deadline (`SessionRunner._on_due`, or
`_on_due_together` for the deadlines the timers hand out at once) minus Discord, prepared a
second before as the runner prepares it (`_prepare_due`: `SessionService.prepare` works out
`Due` at the deadline with its rows, and the store encodes the save; `prepared_used` in the
details counts those used): apply
`Due()` through the service (per-session lock, pure transition, state persisted and
committed with its outbox rows, in a group commit with whatever else arrives together, with
`synchronous = FULL`; deadlines due together are saved as one unit), re-arm the timer, and,
for the `PanelChanged` effect, read the session row as the panel's delivery does before its
edit. The REST calls themselves are not made (they are counted by `bench.rest_calls`).

Lateness = (time the hand-over was rendered − its deadline), for each session's first
deadline. Also recorded: lateness when the handler started ("fired") and when the new state
was committed ("persisted"), the group commits (fsyncs) the window took, and every garbage
collection during it (`gc.callbacks`): a full collection stops the loop for a time that
grows with the number of live objects, so one falling in the window shows in the tail.
Target: p99 < 10 ms at 1,000 sessions.

A last run puts `Size.handover_burst` deadlines on the same instant (say every group of a
program meets at 18:00 with the same agenda). Target: every one of the 1,000 hand-overs
committed within 100 ms of its deadline (the max of "persisted"); how late the last is
rendered shows the sustained hand-over rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import (
    GcPauses,
    Result,
    Size,
    Stopwatch,
    Target,
    insert_groups,
    insert_sessions,
    next_session_id,
    short_turns_state,
    summary_ms,
)
from core.errors import UserError
from core.models import Group
from core.session import Due, PanelChanged
from core.session.outbox import Where
from core.session.service import SessionService, Transition
from core.timers import TimerService
from storage import Storage

KIND = "session"
P99_TARGET_MS = 10.0
TARGET_SIZE = 1_000
BURST_COMMITTED_TARGET_MS = 100.0
SETUP_PER_SESSION = 250e-6
"""Lead time added per session for what is built after the deadlines are fixed (states,
rows, adoption, timers): on a slow machine 5,000 sessions otherwise start overdue."""

StorageFactory = Callable[[str], Storage]
"""A fresh, unopened `Storage` for one measurement, given a name for it."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def sqlite_in(folder: Path) -> StorageFactory:
    """SQLite files in `folder`, one per measurement."""
    return lambda name: Storage.at(folder / f"{name}.db")


async def measure(
    count: int, window: float, lead: float, make: StorageFactory
) -> dict[str, object]:
    storage = make(f"handover-{count}")
    await storage.open()
    timers = TimerService(now_utc)
    service = SessionService(storage.sessions)
    deadlines: dict[int, datetime] = {}
    fired: dict[int, float] = {}
    persisted: dict[int, float] = {}
    rendered: dict[int, float] = {}
    errors: list[str] = []
    done = asyncio.Event()

    def settle() -> None:
        if len(rendered) + len(errors) >= count:
            done.set()

    try:
        setup = Stopwatch()
        group_ids = await insert_groups(storage.db, count, now_utc(), members=4)
        first_id = await next_session_id(storage.db)
        # Deadlines are fixed only now, so slow setup above cannot eat into the lead time.
        build = Stopwatch()
        opens = now_utc() + timedelta(seconds=lead + count * SETUP_PER_SESSION)
        step = window / max(count - 1, 1)
        states = []
        for index, group_id in enumerate(group_ids):
            deadline = opens + timedelta(seconds=index * step)
            state = short_turns_state(first_id + index, group_id, deadline)
            states.append((group_id, state))
            deadlines[state.session_id] = deadline
        await insert_sessions(storage.db, states)
        # Loaded as start-up loads them, so the store holds each session's version.
        await storage.sessions.live()
        for group_id, state in states:
            service.adopt(state, group_id)
        # The runner keeps each live session's group from start-up on, as here.
        groups = await storage.groups.many(sorted({group_id for group_id, _ in states}))
        first_dues = [(state.session_id, state.next_due()) for _, state in states]
        del states

        async def on_due(session_id: int, now: datetime) -> None:
            started = now_utc()
            due = deadlines[session_id]
            if session_id not in fired:
                fired[session_id] = (started - due).total_seconds()
            group_id = service.group_of(session_id)
            assert group_id is not None
            try:
                transition = await service.command(
                    session_id, Due(), now_utc(), where=where_of(groups[group_id], session_id)
                )
            except UserError as error:
                errors.append(f"{session_id}: {error}")
                settle()
                return
            timers.schedule(KIND, session_id, transition.state.next_due())
            if session_id not in persisted:
                persisted[session_id] = (now_utc() - due).total_seconds()
            if any(isinstance(e, PanelChanged) for e in transition.effects):
                await storage.sessions.get(session_id)
            if session_id not in rendered:
                rendered[session_id] = (now_utc() - due).total_seconds()
                settle()

        async def on_due_together(session_ids: list[int], now: datetime) -> None:
            started = now_utc()
            for session_id in session_ids:
                if session_id not in fired:
                    fired[session_id] = (started - deadlines[session_id]).total_seconds()
            commands = []
            for session_id in session_ids:
                group_id = service.group_of(session_id)
                assert group_id is not None
                commands.append((session_id, Due(), where_of(groups[group_id], session_id)))
            outcomes = await service.command_many(commands, now_utc())
            committed = now_utc()
            panels = []
            for session_id, outcome in zip(session_ids, outcomes, strict=True):
                if not isinstance(outcome, Transition):
                    errors.append(f"{session_id}: {outcome}")
                    continue
                timers.schedule(KIND, session_id, outcome.state.next_due())
                if session_id not in persisted:
                    persisted[session_id] = (committed - deadlines[session_id]).total_seconds()
                if any(isinstance(e, PanelChanged) for e in outcome.effects):
                    panels.append(storage.sessions.get(session_id))
            await asyncio.gather(*panels)
            finished = now_utc()
            for session_id in session_ids:
                if session_id not in rendered and session_id in persisted:
                    rendered[session_id] = (finished - deadlines[session_id]).total_seconds()
            settle()

        async def prepare(coming: list[tuple[int, datetime]], now: datetime) -> None:
            items = []
            for session_id, at in coming:
                group_id = service.group_of(session_id)
                if group_id is not None:
                    items.append((session_id, at, where_of(groups[group_id], session_id)))
            await service.prepare(items)

        timers.register(KIND, on_due, together=on_due_together, prepare=prepare)
        for session_id, due in first_dues:
            timers.schedule(KIND, session_id, due)
        del first_dues
        setup_seconds = setup()
        build_seconds = build()
        pauses = GcPauses()
        # Not the previous size's garbage: collections in the window are this size's own.
        # Then, as the bot does once it has re-armed at start-up (`on_ready`), what is loaded
        # is moved out of the collector's generations.
        gc.collect()
        gc.freeze()
        first_deadline = min(deadlines.values())
        head_start = (first_deadline - now_utc()).total_seconds()
        commits_before = storage.db.commits
        timers.start()
        gc.callbacks.append(pauses)
        # Every first deadline handled, or give up 10 s after the last one.
        give_up = (max(deadlines.values()) - now_utc()).total_seconds() + 10
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=give_up)
        gc.callbacks.remove(pauses)
        await timers.stop()
        commits = storage.db.commits - commits_before
        lateness = list(rendered.values())
        return {
            "sessions": count,
            "window_s": window,
            "handovers_per_s": round(count / window, 1) if window else None,
            "setup_s": round(setup_seconds, 3),
            "build_and_arm_s": round(build_seconds, 3),
            "head_start_s": round(head_start, 3),
            "setup_overran_lead": head_start <= 0,
            "handled": len(rendered),
            "missed": count - len(rendered),
            "errors": errors[:5],
            "rendered": summary_ms(lateness),
            "persisted": summary_ms(list(persisted.values())),
            "fired": summary_ms(list(fired.values())),
            "gc_pauses": pauses.summary(),
            "commits": commits,
            "prepared_used": service.prepared_used,
        }
    finally:
        gc.unfreeze()
        await timers.stop()
        await storage.close()


async def run(size: Size) -> Result:
    result = Result(
        "handover",
        "Hand-over lateness at deadlines (real clock, SQLite, no Discord)",
    )
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp:
        for count in size.handover_sessions:
            data = await measure(
                count, size.handover_window, size.handover_lead, sqlite_in(Path(tmp))
            )
            result.details[str(count)] = data
            rendered = data["rendered"]
            assert isinstance(rendered, dict)
            target = Target("<", P99_TARGET_MS) if count == TARGET_SIZE else None
            rate = f"{data['handovers_per_s']}/s, {data['missed']} missed"
            result.add(
                f"{count}.p50_ms",
                f"hand-over lateness p50, {count:,} live",
                rendered.get("p50_ms"),
                "ms",
                note=rate,
            )
            result.add(
                f"{count}.p99_ms",
                f"hand-over lateness p99, {count:,} live",
                rendered.get("p99_ms"),
                "ms",
                target,
            )
            result.add(
                f"{count}.max_ms",
                f"hand-over lateness max, {count:,} live",
                rendered.get("max_ms"),
                "ms",
                note=GcPauses.describe(data["gc_pauses"], "in the window"),
            )
        count = size.handover_burst
        data = await measure(count, 0.0, size.handover_lead, sqlite_in(Path(tmp)))
        result.details[f"burst-{count}"] = data
        rendered = data["rendered"]
        assert isinstance(rendered, dict)
        committed = data["persisted"]
        assert isinstance(committed, dict)
        result.add(
            f"burst{count}.committed_max_ms",
            f"{count:,} deadlines at one instant, last committed after",
            committed.get("max_ms"),
            "ms",
            Target("<=", BURST_COMMITTED_TARGET_MS) if count == TARGET_SIZE else None,
            note=f"p50 {committed.get('p50_ms')} ms; {data['commits']} commits; synchronous=FULL",
        )
        max_ms = rendered.get("max_ms")
        burst_rate = (
            round(count / (max_ms / 1000)) if isinstance(max_ms, float) and max_ms else None
        )
        result.add(
            f"burst{count}.p50_ms",
            f"{count:,} deadlines at one instant, lateness p50",
            rendered.get("p50_ms"),
            "ms",
        )
        result.add(
            f"burst{count}.max_ms",
            f"{count:,} deadlines at one instant, last rendered after",
            max_ms,
            "ms",
            note=(f"≈ {burst_rate:,} hand-overs/s; " if burst_rate else "")
            + GcPauses.describe(data["gc_pauses"], "in the window"),
        )
    return result


def where_of(group: Group, session_id: int) -> Where:
    """Where a session's outbox rows go, as the runner says it."""
    return Where(
        session_id, group.id, group.guild_id, group.text_channel_id, group.voice_channel_id
    )
