"""Which guilds a process runs when the bot is split into shard processes.

Discord puts a guild on shard `(guild_id >> 22) % shard_count`. Several processes may share
one database, each connected to some of the shards: each re-arms and dispatches the work of
its own shards' guilds only, so the filter lives in SQL (`ShardSet.sql`) and reads no rows of
other shards at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def shard_of(guild_id: int, count: int) -> int:
    """The shard Discord delivers `guild_id`'s events on when the bot runs `count` shards."""
    if count < 1:
        raise ValueError("the shard count is at least 1")
    return (guild_id >> 22) % count


@dataclass(frozen=True, slots=True)
class ShardSet:
    """The shards one process runs: `ids` out of `count`."""

    count: int
    ids: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"the shard count must be at least 1, not {self.count}")
        if not self.ids:
            raise ValueError("at least one shard id is needed")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"shard ids must not repeat: {list(self.ids)}")
        outside = [i for i in self.ids if not 0 <= i < self.count]
        if outside:
            raise ValueError(
                f"shard ids {outside} are outside 0..{self.count - 1} "
                f"(the shard count is {self.count})"
            )

    @classmethod
    def of(cls, count: int, ids: Iterable[int] | None = None) -> ShardSet:
        """`ids` out of `count`; every shard when `ids` is None."""
        chosen = tuple(range(count)) if ids is None else tuple(ids)
        return cls(count, chosen)

    def owns(self, guild_id: int) -> bool:
        return shard_of(guild_id, self.count) in self.ids

    @property
    def everything(self) -> bool:
        """True when this process runs every shard (no filter is needed)."""
        return len(self.ids) == self.count

    def sql(self, column: str = "guild_id") -> tuple[str, tuple[int, ...]]:
        """A WHERE condition (and its parameters) true for rows of this process's guilds,
        `(guild_id >> 22) mod count IN (ids)`, in integer arithmetic that SQLite and
        PostgreSQL evaluate alike on 64-bit ids. The remainder is spelt `x - (x / n) * n`:
        SQLite has no MOD() everywhere, and a literal `%` is a placeholder to psycopg.
        `1 = 1` when every shard is ours."""
        if self.everything:
            return "1 = 1", ()
        marks = ", ".join("?" for _ in self.ids)
        shard = f"({column} >> 22)"
        return (
            f"({shard} - ({shard} / ?) * ? IN ({marks}))",
            (self.count, self.count, *self.ids),
        )


EVERY_SHARD = ShardSet(1, (0,))
"""One process running everything (the default)."""
