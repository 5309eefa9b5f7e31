"""What the transactional outbox stores and the pure rules of its delivery.

An `Outgoing` is one side effect to deliver after the transaction that wrote it commits. The
shell's dispatcher (`cogs.common.outbox`) delivers rows in order per `scope`; these rules say
when a failed attempt is tried again and which nonce a message create carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

BACKOFF_FIRST = 2.0
"""Seconds before the first retry; each further retry waits twice as long..."""
BACKOFF_MAX = 300.0
"""...up to five minutes."""
GIVE_UP_AFTER = timedelta(hours=24)
"""A row still undelivered this long after it was written is given up: what it says is stale."""
NONCE_PREFIX = "mm"
CLAIM_LEASE = timedelta(seconds=60)
"""How long a process's claim on a row it is delivering holds. Far longer than a delivery
takes; a row claimed by a process that died is taken over once it runs out."""
CLAIM_RACE_RECHECK = timedelta(seconds=2)
"""A claim can fail on a row that still reads as free: another process has claimed it in a
commit not yet made (PostgreSQL skips the locked row). Look again this much later rather
than at once, over and over, while that commit is on its way."""
RETENTION = timedelta(days=7)
"""Finished rows (delivered, failed, dropped) are kept this long, for diagnostics..."""
PRUNE_EVERY = timedelta(hours=6)
"""...and the dispatcher forgets older ones this often."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One effect to write into the outbox. `payload` is JSON-serialisable; `wait_for`, when
    set, makes the row wait (state 'waiting') until something releases that key."""

    kind: str
    scope: str
    guild_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    wait_for: str | None = None


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt (1 = the first)."""
    seconds = BACKOFF_FIRST * 2 ** max(0, min(attempts - 1, 16))
    return timedelta(seconds=min(seconds, BACKOFF_MAX))


def retry_at(attempts: int, now: datetime, created_at: datetime) -> datetime | None:
    """When to try again, or None when the row is too old to be worth delivering."""
    at = now + backoff(attempts)
    return None if at - created_at > GIVE_UP_AFTER else at


def nonce(row_id: int, part: int = 0) -> str:
    """The nonce of a row's message create (`part` for a row that posts several messages).

    The same row always gives the same nonce, so a create retried after a crash or a 5xx is
    dropped by Discord (`enforce_nonce`) when the first attempt did land. At most 25 chars."""
    text = f"{NONCE_PREFIX}{row_id}" if part == 0 else f"{NONCE_PREFIX}{row_id}.{part}"
    if len(text) > 25:
        raise ValueError("an outbox nonce is at most 25 characters")
    return text


def voice_key(guild_id: int, member_id: int) -> str:
    """The `wait_for` of a row that waits until a member is in voice (an owed unmute)."""
    return f"voice:{guild_id}:{member_id}"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One effect as stored, with where its delivery stands."""

    id: int
    guild_id: int
    scope: str
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    wait_for: str | None
    message_id: int | None
    error: str | None
    created_at: datetime
    claimed_by: str | None = None
    """The process delivering it now, until `lease_until`."""
    lease_until: datetime | None = None

    def held_by_other(self, owner: str, now: datetime) -> bool:
        """Another process claimed this row and its lease has not run out."""
        return (
            self.claimed_by is not None
            and self.claimed_by != owner
            and self.lease_until is not None
            and self.lease_until > now
        )
