"""Schedules on a real temporary database: create, replace, clear, skips, sent reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from core.schedule import Recurrence, make_recurrence
from storage import Storage
from tests.storage.conftest import StorageFactory

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TUESDAY = datetime(2026, 1, 6, 14, tzinfo=UTC)  # 09:00 in Toronto


async def make_group(storage: Storage, name: str = "Night Owls") -> int:
    group = await storage.groups.create(
        guild_id=10,
        name=name,
        description="",
        capacity=6,
        timezone="America/Toronto",
        role_id=None,
        category_id=None,
        text_channel_id=None,
        voice_channel_id=None,
        created_by=1,
        now=NOW,
    )
    return group.id


def toronto_tuesday() -> Recurrence:
    return make_recurrence("Tuesday", "09:00", 1, 90, "America/Toronto", NOW)


async def test_create_read_back_and_list(storage: Storage) -> None:
    group_id = await make_group(storage)
    assert await storage.schedules.get(group_id) is None

    saved = await storage.schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )

    assert saved.recurrence == Recurrence(
        weekday=1,
        local_time=time(9),
        every_weeks=1,
        duration_minutes=90,
        timezone="America/Toronto",
        anchor=date(2026, 1, 6),
    )
    assert (saved.group_id, saved.guild_id, saved.set_by, saved.set_at) == (group_id, 10, 1, NOW)
    assert (saved.event_id, saved.event_start) == (None, None)
    assert await storage.schedules.get(group_id) == saved
    assert [s.group_id for s in await storage.schedules.all()] == [group_id]


async def test_replace_keeps_event_skips_and_reminders(storage: Storage) -> None:
    group_id = await make_group(storage)
    await storage.schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )
    await storage.schedules.set_event(group_id, 555, TUESDAY)
    await storage.schedules.skip(group_id, TUESDAY + timedelta(weeks=1))
    await storage.schedules.claim_reminders(group_id, TUESDAY, ["24h"], NOW)

    later = NOW + timedelta(hours=1)
    friday = make_recurrence("fri", "17:30", 2, 60, "Europe/Paris", later)
    replaced = await storage.schedules.put(
        group_id=group_id, guild_id=10, recurrence=friday, set_by=2, now=later
    )

    assert replaced.recurrence == friday
    assert (replaced.set_by, replaced.set_at) == (2, later)
    assert (replaced.event_id, replaced.event_start) == (555, TUESDAY)
    assert await storage.schedules.skipped(group_id) == {TUESDAY + timedelta(weeks=1)}
    assert await storage.schedules.sent_reminders(group_id, TUESDAY) == {"24h"}
    assert len(await storage.schedules.all()) == 1


async def test_clear_removes_schedule_skips_and_reminder_records(storage: Storage) -> None:
    group_id = await make_group(storage)
    other = await make_group(storage, "Early Birds")
    for gid in (group_id, other):
        await storage.schedules.put(
            group_id=gid, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
        )
        await storage.schedules.skip(gid, TUESDAY)
        await storage.schedules.claim_reminders(gid, TUESDAY, ["24h", "15m"], NOW)

    removed = await storage.schedules.delete(group_id)

    assert removed is not None and removed.group_id == group_id
    assert await storage.schedules.get(group_id) is None
    assert await storage.schedules.skipped(group_id) == frozenset()
    assert await storage.schedules.sent_reminders(group_id, TUESDAY) == frozenset()
    assert await storage.schedules.delete(group_id) is None
    # The other group's schedule is untouched.
    assert await storage.schedules.skipped(other) == {TUESDAY}
    assert await storage.schedules.sent_reminders(other, TUESDAY) == {"24h", "15m"}
    # Set again after clearing: a fresh schedule, nothing remembered.
    again = await storage.schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )
    assert again.event_id is None


async def test_reminders_are_claimed_once(storage: Storage) -> None:
    group_id = await make_group(storage)
    await storage.schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )

    first = await storage.schedules.claim_reminders(group_id, TUESDAY, ["24h"], NOW)
    second = await storage.schedules.claim_reminders(group_id, TUESDAY, ["24h", "15m"], NOW)
    third = await storage.schedules.claim_reminders(group_id, TUESDAY, ["24h", "15m"], NOW)

    assert first == {"24h"}
    assert second == {"15m"}
    assert third == frozenset()
    assert await storage.schedules.sent_reminders(group_id, TUESDAY) == {"24h", "15m"}
    # Another meeting of the same group has its own records.
    assert await storage.schedules.sent_reminders(group_id, TUESDAY + timedelta(weeks=1)) == (
        frozenset()
    )


async def test_claims_survive_reopening_the_database(storage_factory: StorageFactory) -> None:
    store = storage_factory()
    await store.open()
    group_id = await make_group(store)
    await store.schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )
    await store.schedules.claim_reminders(group_id, TUESDAY, ["15m"], NOW)
    await store.close()

    reopened = storage_factory()
    await reopened.open()
    try:
        assert await reopened.schedules.claim_reminders(group_id, TUESDAY, ["15m"], NOW) == (
            frozenset()
        )
        assert await reopened.schedules.sent_reminders(group_id, TUESDAY) == {"15m"}
    finally:
        await reopened.close()


async def test_skips_are_kept_once_and_reminders_pruned_when_past(storage: Storage) -> None:
    group_id = await make_group(storage)
    await storage.schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )
    next_week = TUESDAY + timedelta(weeks=1)
    await storage.schedules.skip(group_id, TUESDAY)
    await storage.schedules.skip(group_id, TUESDAY)  # twice is once
    await storage.schedules.skip(group_id, next_week)
    await storage.schedules.claim_reminders(group_id, TUESDAY, ["24h"], NOW)
    await storage.schedules.claim_reminders(group_id, next_week, ["24h"], NOW)
    assert await storage.schedules.skipped(group_id) == {TUESDAY, next_week}

    await storage.schedules.prune_reminders(group_id, TUESDAY + timedelta(days=1))

    # A past skip stays: the calendar file still needs its EXDATE.
    assert await storage.schedules.skipped(group_id) == {TUESDAY, next_week}
    assert await storage.schedules.sent_reminders(group_id, TUESDAY) == frozenset()
    assert await storage.schedules.sent_reminders(group_id, next_week) == {"24h"}
    await storage.schedules.forget_skips(group_id, [TUESDAY])
    assert await storage.schedules.skipped(group_id) == {next_week}


async def test_every_change_raises_the_calendar_sequence_and_survives_a_clear(
    storage: Storage,
) -> None:
    group_id = await make_group(storage)
    schedules = storage.schedules
    assert await schedules.calendar_sequence(group_id) == 0
    await schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )
    assert await schedules.calendar_sequence(group_id) == 1
    await schedules.skip(group_id, TUESDAY)
    await schedules.skip(group_id, TUESDAY)  # the same skip again changes nothing
    assert await schedules.calendar_sequence(group_id) == 2
    await schedules.delete(group_id)
    assert await schedules.calendar_sequence(group_id) == 3
    await schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )
    assert await schedules.calendar_sequence(group_id) == 4
    # Forgetting skips and reminders is housekeeping, not a change.
    await schedules.prune_reminders(group_id, TUESDAY)
    await schedules.forget_skips(group_id, [TUESDAY])
    assert await schedules.calendar_sequence(group_id) == 4
    await storage.db.execute("DELETE FROM groups WHERE id = ?", (group_id,))
    assert await schedules.calendar_sequence(group_id) == 0


async def test_event_lookup_and_forgetting_it(storage: Storage) -> None:
    group_id = await make_group(storage)
    await storage.schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )
    await storage.schedules.set_event(group_id, 777, TUESDAY)

    found = await storage.schedules.by_event(777)
    assert found is not None and found.group_id == group_id and found.event_start == TUESDAY
    assert await storage.schedules.by_event(778) is None

    forgotten = await storage.schedules.forget_event(777)
    assert forgotten is not None and (forgotten.event_id, forgotten.event_start) == (None, None)
    assert await storage.schedules.by_event(777) is None
    # An event no schedule keeps (already replaced) is ignored.
    assert await storage.schedules.forget_event(777) is None


async def test_deleting_the_group_deletes_its_schedule(storage: Storage) -> None:
    group_id = await make_group(storage)
    await storage.schedules.put(
        group_id=group_id, guild_id=10, recurrence=toronto_tuesday(), set_by=1, now=NOW
    )
    await storage.schedules.skip(group_id, TUESDAY)
    await storage.db.execute("DELETE FROM groups WHERE id = ?", (group_id,))
    assert await storage.schedules.get(group_id) is None
    assert await storage.schedules.skipped(group_id) == frozenset()
