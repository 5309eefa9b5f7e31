"""What the tests ask of a database's catalogue, on either backend."""

from __future__ import annotations

from storage.sql import Database


async def table_names(db: Database) -> list[str]:
    """The bot's own tables (not the driver's bookkeeping), by name."""
    if db.dialect == "sqlite":
        listing = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        listing = (
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return sorted(str(row[0]) for row in await db.fetch_all(listing))
