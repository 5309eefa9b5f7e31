"""How the bot's own messages of a session are deleted once it has ended: as few calls as
Discord allows. Pure: the cog supplies the ids, the time and whether it may bulk-delete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DISCORD_EPOCH_MS = 1_420_070_400_000
BULK_MAX = 100
"""Discord bulk-deletes 2 to 100 messages per call..."""
BULK_MAX_AGE = timedelta(days=14) - timedelta(hours=1)
"""...and only messages younger than 14 days (with an hour's margin for clock skew)."""


@dataclass(frozen=True, slots=True)
class DeletePlan:
    bulk: list[list[int]] = field(default_factory=list)
    """Batches of 2-100 ids, one bulk-delete call each."""
    single: list[int] = field(default_factory=list)
    """Ids deleted one call each (old ones, a lone one, or all without Manage Messages)."""

    def calls(self) -> int:
        return len(self.bulk) + len(self.single)


def created_at(message_id: int) -> datetime:
    """When a message was created, from its snowflake id."""
    return datetime.fromtimestamp(((message_id >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def plan_deletes(message_ids: list[int], now: datetime, *, can_bulk: bool) -> DeletePlan:
    """Every id exactly once, oldest first, in bulk where the rules allow it."""
    ids = sorted(set(message_ids))
    if not can_bulk:
        return DeletePlan(single=ids)
    young = [i for i in ids if now - created_at(i) < BULK_MAX_AGE]
    old = [i for i in ids if now - created_at(i) >= BULK_MAX_AGE]
    batches = [young[start : start + BULK_MAX] for start in range(0, len(young), BULK_MAX)]
    bulk = [batch for batch in batches if len(batch) > 1]
    single = old + [batch[0] for batch in batches if len(batch) == 1]
    return DeletePlan(bulk=bulk, single=sorted(single))
