"""What an erasure did, and why one can be refused: the storage erases in one transaction,
the cog tells the person and cleans up on Discord."""

from __future__ import annotations

from dataclasses import dataclass, field


class InLiveSession(Exception):
    """The person is part of a session that is still running; erase after it ends."""

    def __init__(self, group_ids: list[int]) -> None:
        super().__init__(f"in the live sessions of groups {group_ids}")
        self.group_ids = group_ids


@dataclass(frozen=True)
class LeftGroup:
    guild_id: int
    group_id: int
    name: str
    role_id: int | None
    text_channel_id: int | None


@dataclass
class Erasure:
    anon_id: int
    changed: dict[str, int] = field(default_factory=dict)
    """Rows changed or deleted per table."""
    left: list[LeftGroup] = field(default_factory=list)
    promoted: dict[int, int] = field(default_factory=dict)
    """Group id -> the member who became its facilitator."""
