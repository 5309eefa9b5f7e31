"""Repositories for groups, profiles and guild settings on a real temporary database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import DuplicateName
from core.models import CareerStage
from storage import Storage
from storage.sql import IntegrityViolation

NOW = datetime(2026, 1, 1, tzinfo=UTC)
GUILD = 10


async def make_group(storage: Storage, name: str = "Night Owls", *, capacity: int = 3) -> int:
    group = await storage.groups.create(
        guild_id=GUILD,
        name=name,
        description="late cases",
        capacity=capacity,
        timezone="America/Toronto",
        role_id=1,
        category_id=2,
        text_channel_id=3,
        voice_channel_id=4,
        created_by=100,
        now=NOW,
    )
    return group.id


async def test_create_stores_the_group_and_its_facilitator(storage: Storage) -> None:
    group_id = await make_group(storage)
    group = await storage.groups.get(group_id)
    assert group is not None
    assert (group.name, group.capacity, group.timezone, group.created_at) == (
        "Night Owls",
        3,
        "America/Toronto",
        NOW,
    )
    assert not group.archived
    members = await storage.groups.members(group_id)
    assert [(m.user_id, m.is_facilitator, m.joined_at) for m in members] == [(100, True, NOW)]
    assert await storage.groups.by_name(GUILD, "  night   OWLS ") == group
    assert await storage.groups.by_name(GUILD + 1, "Night Owls") is None
    assert await storage.groups.by_channel(3) == group
    assert await storage.groups.by_channel(4) == group
    assert await storage.groups.by_channel(2) is None


async def test_names_are_unique_per_guild_regardless_of_case(storage: Storage) -> None:
    await make_group(storage, "Night Owls")
    with pytest.raises(DuplicateName):
        await make_group(storage, "NIGHT owls")
    other = await storage.groups.create(
        guild_id=GUILD + 1,
        name="Night Owls",
        description="",
        capacity=6,
        timezone=None,
        role_id=None,
        category_id=None,
        text_channel_id=None,
        voice_channel_id=None,
        created_by=1,
        now=NOW,
    )
    assert other.guild_id == GUILD + 1
    assert len(await storage.groups.list_for_guild(GUILD)) == 1


async def test_capacity_is_checked_by_the_database_too(storage: Storage) -> None:
    for capacity in (1, 13):
        with pytest.raises(IntegrityViolation):
            await make_group(storage, f"Size {capacity}", capacity=capacity)


async def test_add_member_respects_capacity(storage: Storage) -> None:
    group_id = await make_group(storage, capacity=3)
    assert await storage.groups.add_member(group_id, 201, NOW, capacity=3)
    assert await storage.groups.add_member(group_id, 202, NOW + timedelta(minutes=1), capacity=3)
    assert not await storage.groups.add_member(group_id, 203, NOW, capacity=3)
    members = await storage.groups.members(group_id)
    assert [m.user_id for m in members] == [100, 201, 202]


async def test_concurrent_joins_cannot_overfill_a_group(storage: Storage) -> None:
    group_id = await make_group(storage, capacity=3)
    results = await asyncio.gather(
        *(storage.groups.add_member(group_id, 300 + i, NOW, capacity=3) for i in range(6))
    )
    assert sum(results) == 2
    assert len(await storage.groups.members(group_id)) == 3


async def test_remove_restore_facilitator_and_archive(storage: Storage) -> None:
    group_id = await make_group(storage)
    await storage.groups.add_member(group_id, 201, NOW, capacity=3)
    await storage.groups.set_facilitator(group_id, 201, True)
    membership = await storage.groups.membership(group_id, 201)
    assert membership is not None and membership.is_facilitator

    await storage.groups.remove_member(group_id, 201)
    assert await storage.groups.membership(group_id, 201) is None
    await storage.groups.restore_member(membership)
    assert await storage.groups.membership(group_id, 201) == membership

    await storage.groups.archive(group_id, NOW + timedelta(days=1))
    group = await storage.groups.get(group_id)
    assert group is not None and group.archived_at == NOW + timedelta(days=1)
    assert await storage.groups.list_for_guild(GUILD, include_archived=False) == []
    assert [g.id for g in await storage.groups.list_for_guild(GUILD)] == [group_id]


async def test_groups_of_user_and_discord_ids(storage: Storage) -> None:
    owls = await make_group(storage, "Night Owls")
    larks = await make_group(storage, "Day Larks")
    await storage.groups.add_member(owls, 201, NOW, capacity=3)
    assert [g.name for g in await storage.groups.groups_of_user(GUILD, 100)] == [
        "Day Larks",
        "Night Owls",
    ]
    assert [g.name for g in await storage.groups.groups_of_user(GUILD, 201)] == ["Night Owls"]

    await storage.groups.set_discord_ids(
        larks, role_id=11, category_id=12, text_channel_id=13, voice_channel_id=14
    )
    group = await storage.groups.get(larks)
    assert group is not None
    assert (group.role_id, group.category_id, group.text_channel_id, group.voice_channel_id) == (
        11,
        12,
        13,
        14,
    )


async def test_search_matches_any_case_prefixes_first_and_literal_wildcards(
    storage: Storage,
) -> None:
    for name in ("Night Owls", "Owl Watchers", "Day Larks", "100% Owls", "a_b"):
        await make_group(storage, name)
    archived = await make_group(storage, "Owls Emeritus")
    await storage.groups.archive(archived, NOW)

    assert [g.name for g in await storage.groups.search(GUILD, "OWL")] == [
        "Owl Watchers",
        "Owls Emeritus",
        "100% Owls",
        "Night Owls",
    ]
    assert [g.name for g in await storage.groups.search(GUILD, "%")] == ["100% Owls"]
    assert [g.name for g in await storage.groups.search(GUILD, "_")] == ["a_b"]
    assert len(await storage.groups.search(GUILD, "", limit=3)) == 3
    assert await storage.groups.search(GUILD + 1, "owl") == []


async def test_deleting_a_group_deletes_its_memberships(storage: Storage) -> None:
    group_id = await make_group(storage)
    await storage.groups.add_member(group_id, 201, NOW, capacity=3)
    await storage.db.execute("DELETE FROM groups WHERE id = ?", (group_id,))
    rows = await storage.db.fetch_all("SELECT * FROM memberships")
    assert rows == []


async def test_profiles_update_only_given_fields(storage: Storage) -> None:
    assert await storage.profiles.get(1) is None
    first = await storage.profiles.update(
        1, {"career_stage": "senior", "timezone": "Europe/London"}, NOW
    )
    assert first.career_stage is CareerStage.SENIOR and first.hours is None
    later = NOW + timedelta(hours=1)
    second = await storage.profiles.update(1, {"hours": "09:00-17:00"}, later)
    assert (second.career_stage, second.timezone, second.hours) == (
        CareerStage.SENIOR,
        "Europe/London",
        "09:00-17:00",
    )
    assert second.updated_at == later
    await storage.profiles.update(2, {"institution": "McGill"}, NOW)
    found = await storage.profiles.many([1, 2, 3])
    assert set(found) == {1, 2} and found[2].institution == "McGill"
    assert await storage.profiles.many([]) == {}
    with pytest.raises(ValueError, match="unknown profile fields"):
        await storage.profiles.update(1, {"user_id": "5"}, NOW)


async def test_guild_settings_and_audit(storage: Storage) -> None:
    defaults = await storage.guilds.settings(GUILD)
    assert (defaults.feedback_days, defaults.identified_exports, defaults.moderator_role_id) == (
        7,
        False,
        None,
    )
    updated = await storage.guilds.update_settings(
        GUILD, {"moderator_role_id": 5, "identified_exports": True}
    )
    assert (updated.moderator_role_id, updated.identified_exports) == (5, True)
    again = await storage.guilds.update_settings(GUILD, {"turn_minutes": 9})
    assert (again.moderator_role_id, again.turn_minutes) == (5, 9)
    assert (await storage.guilds.settings(GUILD + 1)).moderator_role_id is None
    with pytest.raises(ValueError, match="unknown settings"):
        await storage.guilds.update_settings(GUILD, {"guild_id": 3})

    await storage.guilds.audit(GUILD, 100, "group.archive", "Night Owls", NOW)
    await storage.guilds.audit(GUILD + 1, 100, "group.archive", "Elsewhere", NOW)
    entries = await storage.guilds.audit_entries(GUILD)
    assert [(e.actor_id, e.action, e.detail, e.created_at) for e in entries] == [
        (100, "group.archive", "Night Owls", NOW)
    ]


async def test_naive_datetimes_are_refused(storage: Storage) -> None:
    with pytest.raises(ValueError, match="naive"):
        await storage.guilds.audit(GUILD, 1, "x", "", datetime(2026, 1, 1))
