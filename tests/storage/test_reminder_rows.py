"""Reminders recorded together with the outbox rows that post them, on a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.outbox import Outgoing
from core.schedule import Recurrence
from storage import Storage
from storage.sql import IntegrityViolation
from tests.storage.test_feedback_repo import (
    ANA,
    BEN,
    NOW,
    held_session,
    make_group,
    open_request,
)

START = datetime(2026, 1, 6, 14, tzinfo=UTC)


def reminder(group_id: int, kind: str) -> Outgoing:
    return Outgoing("schedule.reminder", f"schedule:{group_id}", 10, {"kind": kind})


async def test_a_schedule_reminder_is_recorded_with_its_row_or_not_at_all(
    storage: Storage,
) -> None:
    group = await make_group(storage)
    rec = Recurrence(
        weekday=1,
        local_time=time(14),
        every_weeks=1,
        duration_minutes=90,
        timezone="UTC",
        anchor=date(2026, 1, 6),
    )
    await storage.schedules.put(group_id=group, guild_id=10, recurrence=rec, set_by=1, now=NOW)
    at = START - timedelta(minutes=10)
    post = ("15m", reminder(group, "15m"))

    claimed = await storage.schedules.claim_reminders(group, START, ("24h", "15m"), at, post=post)
    assert claimed == {"24h", "15m"}
    assert [r.payload["kind"] for r in await storage.outbox.pending(f"schedule:{group}")] == ["15m"]
    # Claimed again (a second timer run): nothing recorded, no second row.
    assert await storage.schedules.claim_reminders(group, START, ("15m",), at, post=post) == set()
    assert len(await storage.outbox.pending(f"schedule:{group}")) == 1

    # A failure inside the transaction leaves neither the record nor the row.
    broken = ("24h", Outgoing("schedule.reminder", "schedule:x", 10, {"bad": object()}))
    later = START + timedelta(weeks=1)
    with pytest.raises(TypeError):
        await storage.schedules.claim_reminders(group, later, ("24h",), at, post=broken)
    assert await storage.schedules.sent_reminders(group, later) == frozenset()
    assert await storage.outbox.pending("schedule:x") == []


async def test_the_feedback_reminder_is_claimed_once_with_its_rows(
    storage: Storage,
) -> None:
    group = await make_group(storage)
    session = await held_session(storage, group)
    ended = NOW + timedelta(minutes=30)
    await open_request(storage, session, group, ended)
    rows = [
        Outgoing("feedback.remind_dm", f"feedback:{session}", 10, {"member_id": member})
        for member in (ANA, BEN)
    ]
    at = ended + timedelta(hours=24)

    assert await storage.feedback.claim_reminder(session, at, rows) is True
    assert await storage.feedback.claim_reminder(session, at, rows) is False
    pending = await storage.outbox.pending(f"feedback:{session}")
    assert [r.payload["member_id"] for r in pending] == [ANA, BEN]
    request = await storage.feedback.request(session)
    assert request is not None and request.reminded_at == at

    await storage.feedback.reminder_missed(session, BEN)
    await storage.feedback.reminder_missed(session, BEN)
    await storage.feedback.reminder_missed(session, ANA)
    assert await storage.feedback.reminder_misses(session) == sorted([BEN, ANA])
    with pytest.raises(IntegrityViolation):
        await storage.feedback.reminder_missed(session + 99, ANA)
