"""`SyncTx.write`, on both backends: a statement whose outcome the unit does not read."""

from __future__ import annotations

import asyncio

from storage import Storage
from storage.sql import SyncTx, UniqueViolation

KEYS = ("after", "mine", "taken")


async def values(storage: Storage) -> list[tuple[str, str]]:
    rows = await storage.db.fetch_all("SELECT key, value FROM bot_meta ORDER BY key")
    return [(row["key"], row["value"]) for row in rows if row["key"] in KEYS]


async def test_a_write_is_seen_by_its_unit_and_a_failing_one_fails_only_its_unit(
    storage: Storage,
) -> None:
    """On PostgreSQL a write travels with the next statement that is waited for (in the
    group's pipelined first run), so its failure surfaces later, in another unit's call; the
    group then runs again unit by unit, and only the unit that wrote it fails."""
    db = storage.db
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('taken', '0')")

    def reads_its_write(tx: SyncTx) -> str:
        tx.write("INSERT INTO bot_meta (key, value) VALUES ('mine', 'written')")
        row = tx.fetch_one("SELECT value FROM bot_meta WHERE key = 'mine'")
        assert row is not None
        return str(row[0])

    def duplicate(tx: SyncTx) -> None:
        tx.write("INSERT INTO bot_meta (key, value) VALUES ('taken', '1')")

    def after(tx: SyncTx) -> None:
        tx.write("INSERT INTO bot_meta (key, value) VALUES ('after', '1')")

    commits = db.commits
    results = await asyncio.gather(
        db.run(reads_its_write), db.run(duplicate), db.run(after), return_exceptions=True
    )

    assert results[0] == "written"
    assert isinstance(results[1], UniqueViolation) and results[2] is None
    assert await values(storage) == [("after", "1"), ("mine", "written"), ("taken", "0")]
    assert db.commits == commits + 1, "one group commit for the three units"


async def test_a_write_read_back_with_returning_raises_the_neutral_error(
    storage: Storage,
) -> None:
    """A unit may read a write's RETURNING rows (`fetch_all`); a constraint it breaks is the
    backends' neutral error, as from `execute` or `insert`, and undoes only that unit."""
    db = storage.db
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('taken', '0')")

    def insert_both(tx: SyncTx) -> list[str]:
        rows = tx.fetch_all(
            "INSERT INTO bot_meta (key, value) VALUES ('mine', '1'), ('taken', '1') RETURNING key"
        )
        return [str(row[0]) for row in rows]

    def after(tx: SyncTx) -> list[str]:
        rows = tx.fetch_all("INSERT INTO bot_meta (key, value) VALUES ('after', '1') RETURNING key")
        return [str(row[0]) for row in rows]

    results = await asyncio.gather(db.run(insert_both), db.run(after), return_exceptions=True)

    assert isinstance(results[0], UniqueViolation)
    assert results[1] == ["after"]
    assert await values(storage) == [("after", "1"), ("taken", "0")]
