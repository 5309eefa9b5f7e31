"""Member ids in a session's state: found through its fields, and replaced through them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.session import SessionState
from core.session.members import member_ids, replace_member
from tests.core.test_session_outbox import OPS, PEOPLE, run

ANON = -77


@settings(max_examples=200, deadline=None)
@given(OPS, st.sampled_from([*PEOPLE, 99]))
def test_replacing_a_member_changes_that_id_and_nothing_else(
    ops: list[tuple[str, int, int]], old: int
) -> None:
    state, _, _ = run(ops)
    before = member_ids(state)
    replaced = replace_member(state, old, ANON)

    expected = (before - {old}) | ({ANON} if old in before else set())
    assert member_ids(replaced) == expected
    # Still a valid state, and the way back gives the original exactly.
    reloaded = SessionState.model_validate_json(replaced.model_dump_json())
    assert reloaded == replaced
    assert replace_member(replaced, ANON, old) == state if old in before else replaced == state
    # Numbers that are not members (the seed, segment ids) are never touched.
    assert replaced.seed == state.seed
    assert [s.id for s in replaced.pending] == [s.id for s in state.pending]
    assert [r.segment_id for r in replaced.records] == [r.segment_id for r in state.records]


@settings(max_examples=50, deadline=None)
@given(OPS)
def test_everyone_on_the_roster_is_a_member(ops: list[tuple[str, int, int]]) -> None:
    state, _, _ = run(ops)
    assert set(state.roster) <= member_ids(state)
    assert member_ids(state) <= set(PEOPLE)


def test_a_replacement_never_merges_two_members() -> None:
    state, _, _ = run([])
    with pytest.raises(ValueError, match="already"):
        replace_member(state, PEOPLE[0], PEOPLE[1])
    assert replace_member(state, PEOPLE[0], PEOPLE[0]) is state
