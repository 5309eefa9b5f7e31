"""Rules for groups: names, descriptions, capacity, mentions, channel names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import groups as rules
from core.errors import UserError
from core.groups import next_leader


def test_name_key_ignores_case_and_spacing() -> None:
    assert rules.name_key("Night Owls") == rules.name_key("  night   OWLS ")
    assert rules.name_key("Straße") == rules.name_key("STRASSE")
    assert rules.name_key("Night Owls") != rules.name_key("Night Owl")


@given(st.text(min_size=1, max_size=60))
def test_name_key_is_stable(name: str) -> None:
    key = rules.name_key(name)
    assert rules.name_key(key) == key
    assert rules.name_key(name.upper()) == rules.name_key(name.lower()) or not name.isascii()


def test_clean_name_collapses_whitespace_and_checks_length() -> None:
    assert rules.clean_name("  Night \t Owls ") == "Night Owls"
    assert rules.clean_name("x" * rules.NAME_MAX) == "x" * rules.NAME_MAX
    with pytest.raises(UserError, match="needs a name"):
        rules.clean_name("   ")
    with pytest.raises(UserError, match="at most 50"):
        rules.clean_name("x" * (rules.NAME_MAX + 1))
    with pytest.raises(UserError, match="control characters"):
        rules.clean_name("Night\x00Owls")


def test_clean_description() -> None:
    assert rules.clean_description(None) == ""
    assert rules.clean_description("  late cases \n") == "late cases"
    assert rules.clean_description("@everyone welcome") == "@everyone welcome"
    with pytest.raises(UserError, match="at most 500"):
        rules.clean_description("x" * (rules.DESCRIPTION_MAX + 1))


@pytest.mark.parametrize("capacity", [2, 6, 12])
def test_capacity_in_range(capacity: int) -> None:
    assert rules.check_capacity(capacity) == capacity


@pytest.mark.parametrize("capacity", [-1, 0, 1, 13, 100])
def test_capacity_out_of_range(capacity: int) -> None:
    with pytest.raises(UserError) as raised:
        rules.check_capacity(capacity)
    assert "between 2 and 12" in raised.value.message
    assert str(capacity) in raised.value.message


@pytest.mark.parametrize(
    ("text", "mass"),
    [
        ("@everyone", True),
        ("hi @here", True),
        ("<@&1234567890>", True),
        ("Fans of <@&42>!", True),
        ("Night Owls", False),
        ("<@1234>", False),
        ("email me at a@b.org", False),
        ("everyone here", False),
    ],
)
def test_mass_mentions(text: str, mass: bool) -> None:
    assert rules.has_mass_mention(text) is mass


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Night Owls", "night-owls"),
        ("  Night -- Owls!! ", "night-owls"),
        ("Médecine Générale", "médecine-générale"),
        ("医学教育", "医学教育"),
        ("a_b c", "a-b-c"),
        ("@@@", "group"),
        ("", "group"),
    ],
)
def test_channel_slug(name: str, slug: str) -> None:
    assert rules.channel_slug(name) == slug


@given(st.text(max_size=200))
def test_channel_slug_is_always_a_valid_channel_name(name: str) -> None:
    slug = rules.channel_slug(name)
    assert 1 <= len(slug) <= 90
    assert " " not in slug and slug == slug.lower()
    assert not slug.startswith("-") and not slug.endswith("-")


def test_a_long_slug_is_cut_without_a_trailing_hyphen() -> None:
    assert rules.channel_slug("a" * 89 + " b") == "a" * 89
    assert len(rules.channel_slug("word " * 40)) <= 90


def _at(minute: int) -> datetime:
    return datetime(2026, 3, 1, 12, minute, tzinfo=UTC)


def test_next_leader_is_nobody_while_a_facilitator_remains_or_nobody_is_left() -> None:
    assert next_leader([]) is None
    assert next_leader([(1, False, _at(0)), (2, True, _at(5))]) is None


def test_next_leader_is_the_longest_standing_member_lower_id_on_a_tie() -> None:
    assert next_leader([(9, False, _at(3)), (4, False, _at(1)), (7, False, _at(2))]) == 4
    assert next_leader([(9, False, _at(1)), (4, False, _at(1))]) == 4


@given(
    st.lists(
        st.tuples(st.integers(1, 10**6), st.booleans(), st.integers(0, 59)),
        unique_by=lambda member: member[0],
    )
)
def test_next_leader_is_a_member_who_joined_first(raw: list[tuple[int, bool, int]]) -> None:
    members = [(user_id, lead, _at(minute)) for user_id, lead, minute in raw]
    chosen = next_leader(members)
    if not members or any(lead for _, lead, _ in members):
        assert chosen is None
        return
    first = min(joined for _, _, joined in members)
    assert chosen in {user_id for user_id, _, joined in members if joined == first}
