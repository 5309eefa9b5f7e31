"""Which shard a guild is on, and which shard sets a process may run."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.shards import EVERY_SHARD, ShardSet, shard_of

SNOWFLAKES = st.integers(min_value=0, max_value=2**63 - 1)


def test_shard_of_follows_discord() -> None:
    # (id >> 22) % count: the timestamp bits of the snowflake decide, the low 22 do not.
    assert shard_of(0, 1) == 0
    assert shard_of(5 << 22, 2) == 1
    assert shard_of((5 << 22) | (2**22 - 1), 2) == 1
    assert shard_of(6 << 22, 4) == 2
    with pytest.raises(ValueError):
        shard_of(1, 0)


@given(SNOWFLAKES, st.integers(min_value=1, max_value=64))
def test_exactly_one_shard_owns_each_guild(guild_id: int, count: int) -> None:
    owners = [i for i in range(count) if ShardSet.of(count, [i]).owns(guild_id)]
    assert owners == [shard_of(guild_id, count)]


@pytest.mark.parametrize(
    ("count", "ids", "problem"),
    [
        (0, None, "at least 1"),
        (2, [], "at least one shard id"),
        (2, [2], "outside 0..1"),
        (2, [-1], "outside 0..1"),
        (3, [1, 1], "must not repeat"),
    ],
)
def test_bad_shard_sets_are_refused(count: int, ids: list[int] | None, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ShardSet.of(count, ids)


def test_the_sql_condition() -> None:
    assert EVERY_SHARD.sql() == ("1 = 1", ())
    assert ShardSet.of(4).sql() == ("1 = 1", ())
    condition, params = ShardSet.of(4, [1, 3]).sql("s.guild_id")
    assert condition == "((s.guild_id >> 22) - ((s.guild_id >> 22) / ?) * ? IN (?, ?))"
    assert params == (4, 4, 1, 3)
    # No `%` in it: a literal percent sign is a placeholder to psycopg.
    assert "%" not in condition
    assert not ShardSet.of(4, [1, 3]).everything and ShardSet.of(2, [1, 0]).everything
