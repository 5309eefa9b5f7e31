"""`migrate-db` as an operator uses it: a SQLite deployment with sessions, ratings, forms,
next steps, notes and a schedule is copied into PostgreSQL, and every report figure is the
same there as it was on SQLite."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from core.feedback import FeedbackDetails, StepStatus
from core.stats import session_figures, trend_figures
from storage import Storage
from tests.storage.test_reports_repo import ANA, BEN, CY, NOW, make_group, run_session
from tests.storage.test_schedules import toronto_tuesday

ROOT = Path(__file__).resolve().parent.parent


async def populate(storage: Storage) -> list[int]:
    circle = await make_group(storage, "Circle", tz="Asia/Tokyo")
    other = await make_group(storage, "Evening")
    await run_session(storage, circle, NOW, response_by=BEN)
    await run_session(storage, circle, NOW + timedelta(days=7), people=(ANA, BEN))
    await run_session(storage, other, NOW + timedelta(days=1), people=(BEN, CY))
    later = NOW + timedelta(minutes=20)
    feedback = storage.feedback
    await feedback.rate(1, ANA, 5, later)
    await feedback.rate(1, BEN, 3, later)
    await feedback.rate(2, ANA, 4, later + timedelta(days=7))
    await feedback.rate(3, CY, 5, later + timedelta(days=1))
    await feedback.save_details(
        session_id=1,
        group_id=circle,
        user_id=ANA,
        details=FeedbackDetails(resources="Kern\nBEME 12", referrals="Dr. Osei", next_steps="A\nB"),
        now=later,
    )
    await feedback.save_details(
        session_id=3,
        group_id=other,
        user_id=CY,
        details=FeedbackDetails(referrals="Dr. Lee\nDr. Kim", next_steps="Retreat"),
        now=later,
    )
    await feedback.set_step_status(1, StepStatus.DONE, ANA, later)
    await feedback.set_step_status(3, StepStatus.PARTLY, CY, later)
    await storage.sessions.add_note(1, BEN, ANA, "resource", "AMEE 83", later)
    await storage.sessions.add_note(3, BEN, CY, "referral", "Dr. Who", later)
    await storage.schedules.put(
        group_id=circle, guild_id=10, recurrence=toronto_tuesday(), set_by=ANA, now=NOW
    )
    return [circle, other]


async def figures(storage: Storage, group_ids: list[int]) -> object:
    sessions = await storage.reports.ended_sessions(group_ids)
    facts = await storage.reports.session_facts([s.id for s in sessions])
    per_session = [session_figures(f) for f in facts]
    members = await storage.groups.member_ids(group_ids)
    return (
        per_session,
        trend_figures(per_session, members=set().union(*members.values())),
        await storage.reports.feedback_records([s.id for s in sessions]),
        await storage.schedules.get(group_ids[0]),
        [await storage.feedback.steps_of(10, owner, None) for owner in (ANA, CY)],
    )


async def test_the_reports_give_the_same_figures_after_migrate_db(
    tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "mm.db"
    source = Storage.at(path)
    await source.open()
    try:
        group_ids = await populate(source)
        before = await figures(source, group_ids)
    finally:
        await source.close()

    copied = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "bot.py", "migrate-db", database_url],
        cwd=ROOT,
        env={"MASTERMIND_DATABASE_PATH": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert copied.returncode == 0, copied.stderr
    assert "verified" in copied.stdout

    target = Storage.from_settings(database_url, tmp_path / "unused.db")
    await target.open()
    try:
        after = await figures(target, group_ids)
    finally:
        await target.close()
    assert after == before
    per_session = before[0]  # type: ignore[index]
    assert len(per_session) == 3 and any(f.ratings for f in per_session)
