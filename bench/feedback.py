"""Feedback submissions committed to SQLite per second.

Setup (not measured): a SQLite database with groups of six and one session each. Then every
member of every session submits at once, as when a whole program's meetings end together:

- `ratings`: M calls of `storage.feedback.rate(session, member, rating, now)` started
  together (one task each, as M button clicks would be); each commits its own transaction.
- `forms`: M calls of `storage.feedback.save_details(...)` with three next steps each.

The database commits with `synchronous = FULL` (each COMMIT fsynced) and group commit:
submissions that arrive together share a transaction and its fsync, each acknowledged only
after it. Figures: the p99 time from a click to its rating being committed (target <= 250 ms
for 2,000 at once), the same for forms, and submissions committed per second (M ÷ time until
the last one committed). Also recorded: how many commits (fsyncs) the burst took.

The feedback feature is written in parallel; if `storage.feedback` is missing or its API
differs from what is used here, the benchmark reports itself skipped with the reason.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    MEMBERS_PER_GROUP,
    Result,
    Size,
    Target,
    insert_groups,
    insert_sessions,
    member_ids,
    mid_meeting_state,
    next_session_id,
    summary_ms,
)
from storage import Storage

RATINGS_P99_TARGET_MS = 250.0
TARGET_SIZE = 2_000


def now_utc() -> datetime:
    return datetime.now(UTC)


async def burst(calls: list[Callable[[], Awaitable[object]]]) -> tuple[float, list[float]]:
    """Start every call at once; total seconds and each call's own duration."""
    waits: list[float] = []

    async def one(call: Callable[[], Awaitable[object]]) -> None:
        started = time.perf_counter()
        await call()
        waits.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(call) for call in calls))
    return time.perf_counter() - started, waits


class Skipped(Exception):
    """The feedback feature is missing, or its API is not what this benchmark calls."""


async def measure(storage: Storage, count: int) -> dict[str, Any]:
    """`count` rating clicks, then `count` forms, at once, on an opened `storage` (either
    backend); the details the figures are made of. Raises `Skipped` with the reason."""
    try:
        from core import feedback as core_feedback
    except ImportError as error:
        raise Skipped(f"no feedback feature yet ({error})") from None
    repo: Any = getattr(storage, "feedback", None)
    if repo is None:
        raise Skipped("storage has no feedback repository yet")
    groups = max(1, -(-count // MEMBERS_PER_GROUP))
    now = now_utc()
    group_ids = await insert_groups(storage.db, groups, now)
    first = await next_session_id(storage.db)
    sessions = [(gid, mid_meeting_state(first + k, gid, now)) for k, gid in enumerate(group_ids)]
    await insert_sessions(storage.db, sessions)
    people = [(state.session_id, gid, uid) for gid, state in sessions for uid in member_ids(gid)][
        :count
    ]
    details = core_feedback.FeedbackDetails(
        resources="A book",
        referrals="",
        next_steps="Write the abstract\nAsk a mentor\nBook the room",
        comments="Useful.",
    )

    def rate(sid: int, uid: int) -> Callable[[], Awaitable[object]]:
        return lambda: repo.rate(sid, uid, 1 + uid % 5, now_utc())

    def form(sid: int, gid: int, uid: int) -> Callable[[], Awaitable[object]]:
        return lambda: repo.save_details(
            session_id=sid, group_id=gid, user_id=uid, details=details, now=now_utc()
        )

    try:
        commits = storage.db.commits
        rating_seconds, rating_waits = await burst([rate(s, u) for s, _, u in people])
        rating_commits = storage.db.commits - commits
        commits = storage.db.commits
        form_seconds, form_waits = await burst([form(s, g, u) for s, g, u in people])
        form_commits = storage.db.commits - commits
    except (AttributeError, TypeError) as error:
        raise Skipped(f"the feedback repository's API changed: {error}") from None
    stored = await storage.db.fetch_one("SELECT COUNT(*) FROM feedback")
    steps = await storage.db.fetch_one("SELECT COUNT(*) FROM next_steps")
    return {
        "submissions": count,
        "stored_responses": int(stored[0]) if stored else 0,
        "stored_next_steps": int(steps[0]) if steps else 0,
        "synchronous": "FULL" if storage.db.dialect == "sqlite" else "on",
        "ratings": {
            "seconds": round(rating_seconds, 4),
            "per_s": round(count / rating_seconds),
            "commits": rating_commits,
            **summary_ms(rating_waits),
        },
        "forms": {
            "seconds": round(form_seconds, 4),
            "per_s": round(count / form_seconds),
            "commits": form_commits,
            **summary_ms(form_waits),
        },
    }


async def run(size: Size) -> Result:
    result = Result("feedback", "Feedback submissions committed to SQLite per second")
    count = size.feedback_submissions
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp:
        storage = Storage.at(Path(tmp) / "feedback.db")
        await storage.open()
        try:
            result.details = await measure(storage, count)
        except Skipped as why:
            result.skipped = str(why)
            return result
        finally:
            await storage.close()
    ratings, forms = result.details["ratings"], result.details["forms"]
    rating_commits, form_commits = ratings["commits"], forms["commits"]
    result.add(
        "ratings_p99_ms",
        f"{count:,} rating clicks at once: p99 click to committed",
        ratings.get("p99_ms"),
        "ms",
        Target("<=", RATINGS_P99_TARGET_MS) if count == TARGET_SIZE else None,
        note=f"synchronous=FULL, {rating_commits} commits (fsyncs)",
    )
    result.add(
        "forms_p99_ms",
        f"{count:,} forms (3 next steps) at once: p99 to committed",
        forms.get("p99_ms"),
        "ms",
        note=f"{form_commits} commits (fsyncs)",
    )
    result.add(
        "ratings_per_s",
        "feedback ratings committed per second",
        ratings["per_s"],
        "/s",
        note=f"{count:,} clicks at once",
    )
    result.add(
        "forms_per_s",
        "feedback forms (3 next steps) committed per second",
        forms["per_s"],
        "/s",
    )
    return result
