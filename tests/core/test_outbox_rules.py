"""The outbox's pure rules: backoff grows and is capped, old rows are given up, nonces are
stable per row and distinct between rows and parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.outbox import BACKOFF_MAX, GIVE_UP_AFTER, backoff, nonce, retry_at, voice_key

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_backoff_doubles_from_two_seconds() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]


@given(st.integers(min_value=1, max_value=10_000))
def test_backoff_never_shrinks_and_is_capped(attempts: int) -> None:
    assert backoff(attempts) <= backoff(attempts + 1)
    assert timedelta(seconds=2) <= backoff(attempts) <= timedelta(seconds=BACKOFF_MAX)


def test_a_row_older_than_a_day_is_given_up() -> None:
    assert retry_at(1, NOW, NOW) == NOW + timedelta(seconds=2)
    assert retry_at(40, NOW + GIVE_UP_AFTER, NOW) is None


@given(
    st.integers(min_value=1, max_value=10**18),
    st.integers(min_value=1, max_value=10**18),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=0, max_value=9),
)
def test_nonces_are_stable_and_distinct(a: int, b: int, pa: int, pb: int) -> None:
    assert nonce(a, pa) == nonce(a, pa)
    assert len(nonce(a, pa)) <= 25
    if (a, pa) != (b, pb):
        assert nonce(a, pa) != nonce(b, pb)


def test_voice_key_names_guild_and_member() -> None:
    assert voice_key(10, 7) == "voice:10:7"
