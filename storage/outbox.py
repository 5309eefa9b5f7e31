"""The outbox table: side effects written with the change they follow, delivered later.

Every method is one statement or one transaction. `insert` runs on the connection of a
transaction the caller already holds (`Database.transaction()`), so a state change and its
effects commit together; `add` is the same on its own.

Several processes may deliver from one database: each reads only its own shards' rows (the
`shards` filters), and claims a row in the database before delivering it, for a lease, so a
row is delivered by one process at a time; a claim of a process that died runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import msgspec

from core.outbox import OutboxRow, Outgoing
from core.shards import EVERY_SHARD, ShardSet
from storage.convert import from_db_time, require_time, to_db_time
from storage.sql import Database, Row, SyncTx, Tx

STATES = ("pending", "waiting", "done", "failed", "dropped")


_encode_payload = msgspec.json.Encoder(order="sorted").encode
"""A payload as stored: compact JSON, keys sorted. msgspec, because a burst of hand-overs
writes thousands of rows and it encodes a payload several times faster than `json`."""

OUTBOX_COLUMNS = (
    "INSERT INTO outbox (guild_id, scope, kind, payload, state, next_attempt_at, wait_for,"
    " created_at) VALUES "
)
_ROW_PLACES = "(?, ?, ?, ?, ?, ?, ?, ?)"
OUTBOX_INSERT = OUTBOX_COLUMNS + _ROW_PLACES
OUTBOX_CHUNK = 250
"""Rows per multi-row INSERT (8 parameters each: far below either backend's limit)."""


def outbox_values(item: Outgoing, stamp: str | None) -> tuple[object, ...]:
    """The parameters of `OUTBOX_INSERT` for one row, created at `stamp` (a time as
    `to_db_time` writes it, computed once for all the rows of a transition)."""
    return (
        item.guild_id,
        item.scope,
        item.kind,
        _encode_payload(item.payload).decode(),
        "waiting" if item.wait_for else "pending",
        stamp,
        item.wait_for,
        stamp,
    )


def insert_outbox_rows(tx: SyncTx, rows: Sequence[tuple[object, ...]]) -> None:
    """`rows` (from `outbox_values`) on a run unit's transaction, as one multi-row INSERT per
    OUTBOX_CHUNK: on SQLite, a statement of many rows costs about half what the same rows cost
    one execution each."""
    for start in range(0, len(rows), OUTBOX_CHUNK):
        chunk = rows[start : start + OUTBOX_CHUNK]
        tx.write(_multi_row_insert(len(chunk)), [value for row in chunk for value in row])


@lru_cache(maxsize=8)
def _multi_row_insert(count: int) -> str:
    return OUTBOX_COLUMNS + ", ".join([_ROW_PLACES] * count)


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writing ----------------------------------------------------------------------------

    async def insert(self, conn: Tx, items: Sequence[Outgoing], now: datetime) -> None:
        """Write `items`, in order, on the connection of an open transaction: one trip to the
        database thread however many there are (a hand-over writes two to four)."""
        if items:
            stamp = to_db_time(now)
            await conn.executemany(OUTBOX_INSERT, [outbox_values(item, stamp) for item in items])

    async def add(self, items: Sequence[Outgoing], now: datetime) -> list[int]:
        """Write `items` in a transaction of their own (or a savepoint of the caller's);
        returns their ids in order."""
        ids: list[int] = []
        if not items:
            return ids
        stamp = to_db_time(now)
        async with self.db.transaction() as conn:
            for item in items:
                ids.append(
                    await conn.insert(OUTBOX_INSERT + " RETURNING id", outbox_values(item, stamp))
                )
        return ids

    # -- reading ----------------------------------------------------------------------------

    async def get(self, row_id: int) -> OutboxRow | None:
        row = await self.db.fetch_one("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return _row(row) if row else None

    async def next_in(self, scope: str) -> OutboxRow | None:
        """The scope's first pending row: rows of one scope are delivered in order."""
        row = await self.db.fetch_one(
            "SELECT * FROM outbox WHERE scope = ? AND state = 'pending' ORDER BY id LIMIT 1",
            (scope,),
        )
        return _row(row) if row else None

    async def pending(self, scope: str) -> list[OutboxRow]:
        rows = await self.db.fetch_all(
            "SELECT * FROM outbox WHERE scope = ? AND state = 'pending' ORDER BY id", (scope,)
        )
        return [_row(row) for row in rows]

    async def pending_scopes(self, shards: ShardSet = EVERY_SHARD) -> list[str]:
        """Scopes of `shards`' guilds with something to deliver, oldest first."""
        where, params = shards.sql()
        rows = await self.db.fetch_all(
            "SELECT scope, MIN(id) AS first FROM outbox WHERE state = 'pending' AND "
            + where
            + " GROUP BY scope ORDER BY first",
            params,
        )
        return [str(row["scope"]) for row in rows]

    async def waiting(self, wait_for: str) -> list[OutboxRow]:
        rows = await self.db.fetch_all(
            "SELECT * FROM outbox WHERE wait_for = ? AND state = 'waiting' ORDER BY id",
            (wait_for,),
        )
        return [_row(row) for row in rows]

    async def of_scope(self, scope: str) -> list[OutboxRow]:
        """Every row of a scope, whatever its state, in order (for tests and diagnostics)."""
        rows = await self.db.fetch_all("SELECT * FROM outbox WHERE scope = ? ORDER BY id", (scope,))
        return [_row(row) for row in rows]

    async def latest(self, scope: str, kind: str) -> OutboxRow | None:
        row = await self.db.fetch_one(
            "SELECT * FROM outbox WHERE scope = ? AND kind = ? ORDER BY id DESC LIMIT 1",
            (scope, kind),
        )
        return None if row is None else _row(row)

    # -- delivery ---------------------------------------------------------------------------

    async def claim(self, row_id: int, owner: str, now: datetime, lease: timedelta) -> int | None:
        """Claim a pending row for `owner` until `now + lease` and count an attempt, before it
        is made (committed first: after a crash the row is known to have been tried, and its
        create is retried with the same nonce). Returns the attempt count, or None when the
        row is no longer pending or another process holds an unexpired claim on it.

        One conditional UPDATE, a unit of the next group commit (claims of a burst of
        deliveries share commits with each other and with the writes around them). On
        PostgreSQL the row is locked first (`FOR UPDATE SKIP LOCKED`, in the same statement),
        so two processes claiming at once never both see it free; SQLite has one writer, and
        its conditional UPDATE is the same decision."""
        stamp, until = to_db_time(now), to_db_time(now + lease)
        free = (
            "state = 'pending' AND (claimed_by IS NULL OR claimed_by = ? OR lease_until IS NULL"
            " OR lease_until <= ?)"
        )
        which = "id = ?"
        params: tuple[object, ...] = (owner, until, row_id, owner, stamp)
        if self.db.dialect == "postgresql":
            which = f"id = (SELECT id FROM outbox WHERE id = ? AND {free} FOR UPDATE SKIP LOCKED)"
            params = (owner, until, row_id, owner, stamp, owner, stamp)
        sql = (
            "UPDATE outbox SET attempts = attempts + 1, claimed_by = ?, lease_until = ?"
            f" WHERE {which} AND {free} RETURNING attempts"
        )
        # fetch_all: a RETURNING statement read to its end, so nothing stays in progress.
        rows = await self.db.run(lambda tx: tx.fetch_all(sql, params))
        return int(rows[0][0]) if rows else None

    async def release_claims(self, owner: str | None) -> int:
        """Give back what `owner` still holds (it is stopping), or every claim (None: a
        process alone with its database starts, so whatever a killed run held is free):
        nobody need wait for the leases to run out. What was being delivered goes again
        with the same nonce."""
        if owner is None:
            return await self.db.execute(
                "UPDATE outbox SET claimed_by = NULL, lease_until = NULL"
                " WHERE claimed_by IS NOT NULL"
            )
        return await self.db.execute(
            "UPDATE outbox SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?",
            (owner,),
        )

    async def done(self, row_id: int, message_id: int | None, now: datetime) -> None:
        await self._write(
            "UPDATE outbox SET state = 'done', message_id = ?, error = NULL, finished_at = ?,"
            " claimed_by = NULL, lease_until = NULL WHERE id = ?",
            (message_id, to_db_time(now), row_id),
        )

    async def retry(self, row_id: int, at: datetime, error: str) -> None:
        await self._write(
            "UPDATE outbox SET next_attempt_at = ?, error = ?, claimed_by = NULL,"
            " lease_until = NULL WHERE id = ? AND state = 'pending'",
            (to_db_time(at), error[:500], row_id),
        )

    async def failed(self, row_id: int, error: str, now: datetime) -> None:
        await self._write(
            "UPDATE outbox SET state = 'failed', error = ?, finished_at = ?, claimed_by = NULL,"
            " lease_until = NULL WHERE id = ?",
            (error[:500], to_db_time(now), row_id),
        )

    async def _write(self, sql: str, params: tuple[object, ...]) -> None:
        """One statement whose outcome nobody reads (after a delivery, a row is marked in
        a burst thousands of times): on PostgreSQL it waits for no round trip of its own."""
        await self.db.run(lambda tx: tx.write(sql, params), single=True)

    async def drop(self, row_ids: Sequence[int], reason: str, now: datetime) -> None:
        """Collapsed away: superseded by a later row of the same scope."""
        if not row_ids:
            return
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE outbox SET state = 'dropped', error = ?, finished_at = ?"
                " WHERE id = ? AND state IN ('pending', 'waiting')",
                [(reason[:500], to_db_time(now), row_id) for row_id in row_ids],
            )

    async def wait(self, row_id: int, wait_for: str) -> None:
        """Put a row aside until `wait_for` is released; later rows of its scope go on."""
        await self.db.execute(
            "UPDATE outbox SET state = 'waiting', wait_for = ?, claimed_by = NULL,"
            " lease_until = NULL WHERE id = ?",
            (wait_for, row_id),
        )

    async def release(self, wait_for: str, now: datetime) -> list[str]:
        """What was waiting for `wait_for` is pending again; returns the scopes to deliver."""
        async with self.db.transaction() as conn:
            rows = await conn.fetch_all(
                "SELECT DISTINCT scope FROM outbox WHERE wait_for = ? AND state = 'waiting'",
                (wait_for,),
            )
            if rows:
                await conn.execute(
                    "UPDATE outbox SET state = 'pending', next_attempt_at = ?"
                    " WHERE wait_for = ? AND state = 'waiting'",
                    (to_db_time(now), wait_for),
                )
        return [str(row[0]) for row in rows]

    async def waiting_keys(self, prefix: str, shards: ShardSet = EVERY_SHARD) -> list[str]:
        """What rows of `shards`' guilds wait for, among keys starting with `prefix`."""
        where, params = shards.sql()
        rows = await self.db.fetch_all(
            "SELECT DISTINCT wait_for FROM outbox WHERE state = 'waiting' AND wait_for LIKE ?"
            f" AND {where} ORDER BY wait_for",
            (prefix + "%", *params),
        )
        return [str(row[0]) for row in rows]

    async def prune(self, before: datetime) -> int:
        """Forget rows finished before `before` (their message ids are kept elsewhere)."""
        return await self.db.execute(
            "DELETE FROM outbox WHERE finished_at IS NOT NULL AND finished_at < ?",
            (to_db_time(before),),
        )

    # -- permission notices -----------------------------------------------------------------

    async def notice_once(self, channel_id: int, permission: str, now: datetime) -> bool:
        """True the first time a missing permission in a channel is to be reported."""
        added = await self.db.execute(
            "INSERT INTO outbox_notices (channel_id, permission, reported_at)"
            " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (channel_id, permission, to_db_time(now)),
        )
        return added > 0

    async def clear_notices(self, channel_id: int, permission: str) -> None:
        """A delivery needing `permission` in the channel worked: a later refusal is news."""
        await self.db.execute(
            "DELETE FROM outbox_notices WHERE channel_id = ? AND permission = ?",
            (channel_id, permission),
        )

    async def noticed_channels(self) -> list[int]:
        rows = await self.db.fetch_all("SELECT DISTINCT channel_id FROM outbox_notices")
        return [int(row[0]) for row in rows]


def _decode_payload(text: str) -> dict[str, Any]:
    payload = msgspec.json.decode(text)
    assert isinstance(payload, dict), "a payload is a JSON object"
    return payload


def _row(row: Row) -> OutboxRow:
    return OutboxRow(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        scope=str(row["scope"]),
        kind=str(row["kind"]),
        payload=_decode_payload(row["payload"]),
        state=str(row["state"]),
        attempts=int(row["attempts"]),
        next_attempt_at=require_time(row["next_attempt_at"]),
        wait_for=row["wait_for"],
        message_id=row["message_id"],
        error=row["error"],
        created_at=require_time(row["created_at"]),
        claimed_by=row["claimed_by"],
        lease_until=from_db_time(row["lease_until"]),
    )
