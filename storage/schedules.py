"""Group schedules, their skipped meetings and the reminders already sent."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time

from core.outbox import Outgoing
from core.schedule import Recurrence, Schedule
from core.shards import EVERY_SHARD, ShardSet
from storage.convert import from_db_time, require_time, to_db_time
from storage.outbox import OutboxRepository
from storage.sql import Database, Row, Tx


def _schedule(row: Row) -> Schedule:
    recurrence = Recurrence(
        weekday=row["weekday"],
        local_time=time.fromisoformat(row["local_time"]),
        every_weeks=row["every_weeks"],
        duration_minutes=row["duration_minutes"],
        timezone=row["timezone"],
        anchor=date.fromisoformat(row["anchor"]),
    )
    return Schedule(
        group_id=row["group_id"],
        guild_id=row["guild_id"],
        recurrence=recurrence,
        set_by=row["set_by"],
        set_at=require_time(row["set_at"]),
        event_id=row["event_id"],
        event_start=from_db_time(row["event_start"]),
    )


def _instant(value: datetime) -> str:
    text = to_db_time(value)
    assert text is not None
    return text


class ScheduleRepository:
    def __init__(self, db: Database, outbox: OutboxRepository | None = None) -> None:
        self.db = db
        self.outbox = outbox or OutboxRepository(db)

    async def get(self, group_id: int) -> Schedule | None:
        row = await self.db.fetch_one("SELECT * FROM schedules WHERE group_id = ?", (group_id,))
        return _schedule(row) if row else None

    async def all(self, shards: ShardSet = EVERY_SHARD) -> list[Schedule]:
        """Every schedule of `shards`' guilds (of every guild by default)."""
        where, params = shards.sql()
        rows = await self.db.fetch_all(
            f"SELECT * FROM schedules WHERE {where} ORDER BY group_id", params
        )
        return [_schedule(row) for row in rows]

    async def by_event(self, event_id: int) -> Schedule | None:
        row = await self.db.fetch_one("SELECT * FROM schedules WHERE event_id = ?", (event_id,))
        return _schedule(row) if row else None

    async def put(
        self,
        *,
        group_id: int,
        guild_id: int,
        recurrence: Recurrence,
        set_by: int,
        now: datetime,
        effects: Sequence[Outgoing] = (),
    ) -> Schedule:
        """Create the group's schedule or replace its recurrence. The Discord event, skipped
        meetings and sent reminders stay: the event is moved to the new time, and a skip or a
        reminder only matters if the new series still has a meeting at that instant."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO schedules (group_id, guild_id, weekday, local_time, every_weeks,"
                " duration_minutes, timezone, anchor, set_by, set_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (group_id) DO UPDATE SET weekday = excluded.weekday,"
                " local_time = excluded.local_time, every_weeks = excluded.every_weeks,"
                " duration_minutes = excluded.duration_minutes, timezone = excluded.timezone,"
                " anchor = excluded.anchor, set_by = excluded.set_by, set_at = excluded.set_at",
                (
                    group_id,
                    guild_id,
                    recurrence.weekday,
                    recurrence.local_time.strftime("%H:%M"),
                    recurrence.every_weeks,
                    recurrence.duration_minutes,
                    recurrence.timezone,
                    recurrence.anchor.isoformat(),
                    set_by,
                    _instant(now),
                ),
            )
            await _changed(conn, group_id)
            await self.outbox.insert(conn, effects, now)
        saved = await self.get(group_id)
        assert saved is not None
        return saved

    async def delete(
        self,
        group_id: int,
        *,
        now: datetime | None = None,
        effects: Callable[[Schedule], Sequence[Outgoing]] = lambda _: (),
    ) -> Schedule | None:
        """Remove the schedule with its skips and reminder records, writing the outbox rows
        `effects` gives for it (deleting its event) in the same transaction; returns what
        was removed."""
        async with self.db.transaction() as conn:
            found = await self.get(group_id)
            if found is not None:
                await conn.execute("DELETE FROM schedules WHERE group_id = ?", (group_id,))
                await _changed(conn, group_id)
                await _insert(self.outbox, conn, effects(found), now)
        return found

    async def set_event(
        self, group_id: int, event_id: int | None, starts_at: datetime | None
    ) -> None:
        """Record the Discord event now kept for the meeting at `starts_at` (None: no event)."""
        await self.db.execute(
            "UPDATE schedules SET event_id = ?, event_start = ? WHERE group_id = ?",
            (event_id, to_db_time(starts_at), group_id),
        )

    async def forget_event(self, event_id: int) -> Schedule | None:
        """The event was deleted on Discord: drop it from its schedule, if it was one of ours,
        and return that schedule (as it is now, without the event)."""
        found = await self.by_event(event_id)
        if found is None:
            return None
        await self.db.execute(
            "UPDATE schedules SET event_id = NULL, event_start = NULL WHERE event_id = ?",
            (event_id,),
        )
        return await self.get(found.group_id)

    async def skip(
        self,
        group_id: int,
        starts_at: datetime,
        *,
        now: datetime | None = None,
        effects: Sequence[Outgoing] = (),
    ) -> None:
        """Skip the meeting at `starts_at`, writing `effects` (the event's replacement) with it."""
        async with self.db.transaction() as conn:
            added = await conn.execute(
                "INSERT INTO schedule_skips (group_id, starts_at) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (group_id, _instant(starts_at)),
            )
            if added:
                await _changed(conn, group_id)
                await _insert(self.outbox, conn, effects, now)

    async def skipped(self, group_id: int) -> frozenset[datetime]:
        rows = await self.db.fetch_all(
            "SELECT starts_at FROM schedule_skips WHERE group_id = ?", (group_id,)
        )
        return frozenset(require_time(row["starts_at"]) for row in rows)

    async def sent_reminders(self, group_id: int, starts_at: datetime) -> frozenset[str]:
        rows = await self.db.fetch_all(
            "SELECT kind FROM schedule_reminders WHERE group_id = ? AND starts_at = ?",
            (group_id, _instant(starts_at)),
        )
        return frozenset(row["kind"] for row in rows)

    async def claim_reminders(
        self,
        group_id: int,
        starts_at: datetime,
        kinds: Iterable[str],
        now: datetime,
        *,
        post: tuple[str, Outgoing] | None = None,
    ) -> frozenset[str]:
        """Record the reminders as sent and return the kinds this call recorded (those another
        run recorded first are not returned). With `post = (kind, effect)`, the outbox row that
        posts `kind` is written in the same transaction when this call recorded it: a reminder
        is never recorded without the row that posts it, nor posted twice."""
        claimed: set[str] = set()
        async with self.db.transaction() as conn:
            for kind in kinds:
                added = await conn.execute(
                    "INSERT INTO schedule_reminders (group_id, starts_at, kind, sent_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (group_id, _instant(starts_at), kind, _instant(now)),
                )
                if added:
                    claimed.add(kind)
            if post is not None and post[0] in claimed:
                await self.outbox.insert(conn, [post[1]], now)
        return frozenset(claimed)

    async def prune_reminders(self, group_id: int, before: datetime) -> None:
        """Forget the reminder records of meetings that started before `before`."""
        await self.db.execute(
            "DELETE FROM schedule_reminders WHERE group_id = ? AND starts_at < ?",
            (group_id, _instant(before)),
        )

    async def forget_skips(self, group_id: int, instants: Iterable[datetime]) -> None:
        """Forget skips the calendar no longer needs (they are not meetings of the series)."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "DELETE FROM schedule_skips WHERE group_id = ? AND starts_at = ?",
                [(group_id, _instant(instant)) for instant in instants],
            )

    async def calendar_sequence(self, group_id: int) -> int:
        """The `.ics` SEQUENCE: how many times the group's schedule has changed."""
        row = await self.db.fetch_one(
            "SELECT sequence FROM calendar_sequences WHERE group_id = ?", (group_id,)
        )
        return int(row[0]) if row else 0


async def _insert(
    outbox: OutboxRepository,
    conn: Tx,
    effects: Sequence[Outgoing],
    now: datetime | None,
) -> None:
    if not effects:
        return
    if now is None:
        raise ValueError("outbox rows need the time they are written at")
    await outbox.insert(conn, effects, now)


async def _changed(conn: Tx, group_id: int) -> None:
    """Inside the change's own transaction: raise the calendar's SEQUENCE."""
    await conn.execute(
        "INSERT INTO calendar_sequences (group_id, sequence) VALUES (?, 1)"
        " ON CONFLICT (group_id) DO UPDATE SET sequence = calendar_sequences.sequence + 1",
        (group_id,),
    )
