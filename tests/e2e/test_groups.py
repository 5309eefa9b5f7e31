"""Groups end to end: channels, permissions, membership, refusals, repair."""

from __future__ import annotations

import discord
import pytest
from simcord import BackendError, Env, SetupError

from tests.e2e.helpers import (
    World,
    channel_by_id,
    channel_exists,
    close_storage,  # noqa: F401  (autouse below)
    delete_channel_by_hand,
    delete_role_by_hand,
    group_named,
    make_world,
    message_payloads,
    refused,
    reply_embed,
    reply_text,
    role_ids_of,
    set_bot_permissions,
    storage_of,
)

pytestmark = pytest.mark.usefixtures("close_storage")


def names_of(embed: discord.Embed) -> dict[str, str]:
    return {field.name or "": field.value or "" for field in embed.fields}


async def night_owls(world: World, *, capacity: int = 4) -> None:
    ana = world.people["ana"]
    result = await ana.slash(
        world.lobby,
        "group create",
        name="Night Owls",
        capacity=capacity,
        timezone="America/Toronto",
    )
    assert "Created **Night Owls**" in reply_text(result)


async def test_create_makes_private_role_and_channels(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]

    result = await ana.slash(
        world.lobby, "group create", name="Night Owls", capacity=4, timezone="America/Toronto"
    )

    assert not result.ephemeral, "the creation is announced where it was asked"
    group = await group_named(env, world.guild, "night owls")
    assert (group.name, group.capacity, group.timezone) == ("Night Owls", 4, "America/Toronto")
    assert world.guild.roles["Night Owls"].id == group.role_id
    category = channel_by_id(world, group.category_id)
    text = channel_by_id(world, group.text_channel_id)
    voice = channel_by_id(world, group.voice_channel_id)
    assert (category.name, text.name, voice.name) == ("Night Owls", "night-owls", "Night Owls")
    assert text.mention in reply_text(result) and voice.mention in reply_text(result)
    cached_text = env.bot.get_channel(text.id)
    cached_voice = env.bot.get_channel(voice.id)
    assert isinstance(cached_text, discord.TextChannel)
    assert isinstance(cached_voice, discord.VoiceChannel)
    assert cached_text.category_id == category.id and cached_voice.category_id == category.id

    # Every channel carries its own overwrites: hidden from @everyone, open to the role and
    # to the bot itself.
    me = world.guild.me
    assert me is not None
    for handle in (category, text, voice):
        channel = env.bot.get_channel(handle.id)
        assert isinstance(channel, discord.abc.GuildChannel)
        overwrites = channel.overwrites
        everyone = overwrites[channel.guild.default_role]
        assert everyone.view_channel is False and everyone.connect is False
        role = channel.guild.get_role(group.role_id or 0)
        assert role is not None and overwrites[role].view_channel is True
        assert me in overwrites and overwrites[me].view_channel is True
        assert overwrites[me].send_messages is True

    # The creator is facilitator and member, with the role.
    assert group.role_id in role_ids_of(ana)
    membership = await storage_of(env).groups.membership(group.id, ana.id)
    assert membership is not None and membership.is_facilitator

    # A member reads and writes; someone outside neither reads the history nor posts.
    await ana.send(text, "hello group")
    assert [m.content for m in text.history(viewer=ana)] == ["hello group"]
    with pytest.raises(SetupError):
        text.history(viewer=ben)
    with pytest.raises(BackendError):
        await ben.send(text, "can I see this?")
    with pytest.raises(BackendError):
        await ben.join_voice(voice)
    await ana.join_voice(voice)
    assert world.guild.voice_states()[ana.id].channel_id == voice.id

    # The bot itself can post in the private channel.
    assert isinstance(cached_text, discord.TextChannel)
    with env.time_context():
        posted = await cached_text.send("the bot can post here")
    assert text.history(viewer=ana)[-1].id == posted.id

    # Joining opens the channel.
    await ben.slash(world.lobby, "group join", group="night owls")
    await ben.send(text, "now I can")
    assert [m.content for m in text.history(viewer=ben)][-1] == "now I can"


async def test_join_leave_capacity_and_membership_refusals(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben", "cy")
    ana, ben, cy = world.people["ana"], world.people["ben"], world.people["cy"]
    await night_owls(world, capacity=2)
    group = await group_named(env, world.guild, "Night Owls")
    text = channel_by_id(world, group.text_channel_id)

    result = await ben.slash(world.lobby, "group join", group="NIGHT OWLS")
    assert "Welcome to **Night Owls**" in reply_text(result) and result.ephemeral
    assert text.mention in reply_text(result)
    assert group.role_id in role_ids_of(ben)

    await refused(env, ben.slash(world.lobby, "group join", group="Night Owls"), "already in")
    await refused(env, cy.slash(world.lobby, "group join", group="Night Owls"), "is full", "2")
    assert group.role_id not in role_ids_of(cy)
    await refused(env, cy.slash(world.lobby, "group leave", group="Night Owls"), "not a member")
    await refused(
        env, cy.slash(world.lobby, "group join", group="Day Larks"), "no group", "Day Larks"
    )
    await refused(env, cy.slash(world.lobby, "group leave", group="Day Larks"), "no group")
    await refused(env, cy.slash(world.lobby, "group info", group="Day Larks"), "no group")

    result = await ben.slash(world.lobby, "group leave", group="night owls")
    assert "You left **Night Owls**" in reply_text(result)
    assert group.role_id not in role_ids_of(ben)
    with pytest.raises(SetupError):
        text.history(viewer=ben)
    with pytest.raises(BackendError):
        await ben.send(text, "still here?")

    # The seat ben left is free again.
    await cy.slash(world.lobby, "group join", group="Night Owls")
    assert group.role_id in role_ids_of(cy)
    members = await storage_of(env).groups.members(group.id)
    assert {m.user_id for m in members} == {ana.id, cy.id}


async def test_create_refusals_change_nothing(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ben = world.people["ben"]
    await night_owls(world)
    roles_before = set(world.guild.roles)
    channels_before = set(env.backend.get_guild(world.guild.id).channel_ids)
    staff = world.guild.create_role("Staff")

    async def create(*expected: str, **options: object) -> None:
        await refused(env, ben.slash(world.lobby, "group create", **options), *expected)

    await create("already a group", name="night  OWLS")
    await create("between 2 and 12", "1", name="Tiny", capacity=1)
    await create("between 2 and 12", "13", name="Huge", capacity=13)
    await create("not a time zone", name="Martians", timezone="Mars/Olympus_Mons")
    await create("@everyone", name="Hello @everyone")
    await create("@here", name="@here we go")
    await create("role mention", name=f"Fans of {staff.mention}")
    await create("at most 50", name="x" * 51)

    assert set(world.guild.roles) == roles_before | {"Staff"}
    assert set(env.backend.get_guild(world.guild.id).channel_ids) == channels_before
    groups = await storage_of(env).groups.list_for_guild(world.guild.id)
    assert [g.name for g in groups] == ["Night Owls"]
    assert (await group_named(env, world.guild, "Night Owls")).capacity == 4


async def test_description_with_everyone_is_kept_but_never_pings(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    staff = world.guild.create_role("Staff", mentionable=True)
    description = f"@everyone @here {staff.mention} welcome to late-night case reviews"

    await ana.slash(world.lobby, "group create", name="Night Owls", description=description)
    group = await group_named(env, world.guild, "Night Owls")
    assert group.description == description
    await ben.slash(world.lobby, "group join", group="Night Owls")
    info = await ben.slash(world.lobby, "group info", group="Night Owls")
    assert reply_embed(info).description == description
    await ben.slash(world.lobby, "group list")

    payloads = message_payloads(env)
    assert payloads, "the bot sent messages"
    for payload in payloads:
        assert payload.get("allowed_mentions") == {"parse": []}, payload
    for message in world.lobby.history():
        assert not message.mention_everyone
        assert not message.role_mentions


async def test_facilitators_add_remove_and_promote(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben", "cy", "dee")
    ana, ben, cy, dee = (world.people[n] for n in ("ana", "ben", "cy", "dee"))
    await night_owls(world)
    group = await group_named(env, world.guild, "Night Owls")
    await ben.slash(world.lobby, "group join", group="Night Owls")

    # A plain member may not manage the group.
    await refused(
        env,
        ben.slash(world.lobby, "group add", group="Night Owls", member=cy),
        "Only a facilitator",
    )
    await refused(
        env,
        ben.slash(world.lobby, "group remove", group="Night Owls", member=ana),
        "Only a facilitator",
    )
    await refused(
        env,
        ben.slash(world.lobby, "group facilitator", group="Night Owls", member=ben),
        "Only a facilitator",
    )
    assert group.role_id not in role_ids_of(cy)

    result = await ana.slash(world.lobby, "group add", group="Night Owls", member=cy)
    assert "Added" in reply_text(result) and cy.mention in reply_text(result)
    assert group.role_id in role_ids_of(cy)
    await refused(
        env, ana.slash(world.lobby, "group add", group="Night Owls", member=cy), "already in"
    )
    await refused(
        env,
        ana.slash(world.lobby, "group facilitator", group="Night Owls", member=dee),
        "not a member",
    )

    # The only facilitator cannot leave (or be removed) while others remain.
    await refused(
        env, ana.slash(world.lobby, "group leave", group="Night Owls"), "last facilitator"
    )
    await refused(
        env,
        ana.slash(world.lobby, "group remove", group="Night Owls", member=ana),
        "last facilitator",
    )
    assert group.role_id in role_ids_of(ana)

    result = await ana.slash(world.lobby, "group facilitator", group="Night Owls", member=cy)
    assert "now a facilitator" in reply_text(result)
    await refused(
        env,
        ana.slash(world.lobby, "group facilitator", group="Night Owls", member=cy),
        "already a facilitator",
    )

    # The new facilitator removes a member; the former one may now leave.
    result = await cy.slash(world.lobby, "group remove", group="Night Owls", member=ben)
    assert "Removed" in reply_text(result)
    assert group.role_id not in role_ids_of(ben)
    await refused(
        env,
        cy.slash(world.lobby, "group remove", group="Night Owls", member=ben),
        "not a member",
    )
    await ana.slash(world.lobby, "group leave", group="Night Owls")
    assert group.role_id not in role_ids_of(ana)

    info = await dee.slash(world.lobby, "group info", group="Night Owls")
    fields = names_of(reply_embed(info))
    assert fields["Facilitators"] == cy.mention
    assert fields["Members (1/4)"].startswith(f"{cy.mention} (facilitator)")

    entries = await storage_of(env).guilds.audit_entries(world.guild.id)
    assert [(e.action, e.actor_id) for e in entries] == [
        ("group.add", ana.id),
        ("group.facilitator", ana.id),
        ("group.remove", cy.id),
    ]


async def test_archive_is_for_moderators_and_leaves_channels_read_only(
    simcord_env: Env,
) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben", "cy")
    ana, ben = world.people["ana"], world.people["ben"]
    admins = world.guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    mod = world.person("mod", roles=[admins])
    await night_owls(world)
    await ben.slash(world.lobby, "group join", group="Night Owls")
    group = await group_named(env, world.guild, "Night Owls")
    text = channel_by_id(world, group.text_channel_id)
    await ben.send(text, "before the archive")

    await refused(
        env, ana.slash(world.lobby, "group archive", group="Night Owls"), "Only moderators"
    )
    await refused(env, ben.slash(world.lobby, "group archive", group="Night Owls"), "moderator")
    assert not (await group_named(env, world.guild, "Night Owls")).archived

    # A moderator sees the group's channel even without being a member.
    assert [m.content for m in text.history(viewer=mod)] == ["before the archive"]
    result = await mod.slash(world.lobby, "group archive", group="night owls")
    assert "Archived **Night Owls**" in reply_text(result)
    assert (await group_named(env, world.guild, "Night Owls")).archived

    # Members still read, nobody posts; data is kept and refusals say why.
    assert [m.content for m in text.history(viewer=ben)] == ["before the archive"]
    with pytest.raises(BackendError):
        await ben.send(text, "after the archive")
    with pytest.raises(BackendError):
        await ana.send(text, "me neither")
    await refused(
        env, world.people["cy"].slash(world.lobby, "group join", group="Night Owls"), "archived"
    )
    await refused(env, mod.slash(world.lobby, "group archive", group="Night Owls"), "archived")
    info = await ben.slash(world.lobby, "group info", group="Night Owls")
    embed = reply_embed(info)
    assert embed.title == "Night Owls (archived)"
    assert "Members (2/4)" in names_of(embed)
    listing = await ben.slash(world.lobby, "group list")
    assert "**Night Owls** · 2/4 · archived" in (reply_embed(listing).description or "")

    entries = await storage_of(env).guilds.audit_entries(world.guild.id)
    assert [(e.action, e.actor_id, e.detail) for e in entries] == [
        ("group.archive", mod.id, "Night Owls")
    ]


async def test_info_and_list_show_members_stage_and_local_time(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben", "cy")
    ana, ben, cy = world.people["ana"], world.people["ben"], world.people["cy"]
    await ana.slash(
        world.lobby,
        "profile set",
        career_stage="senior",
        institution="McMaster",
        timezone="America/Toronto",
    )
    await ben.slash(world.lobby, "profile set", career_stage="trainee", timezone="Asia/Kolkata")
    await night_owls(world, capacity=3)
    await ben.slash(world.lobby, "group join", group="Night Owls")
    await ana.slash(world.lobby, "group create", name="Day Larks", description="Mornings")

    info = await cy.slash(world.lobby, "group info", group="night owls")
    assert info.ephemeral
    embed = reply_embed(info)
    fields = names_of(embed)
    # The virtual clock reads Thursday 2026-01-01 00:00 UTC.
    assert fields["Members (2/3)"].splitlines() == [
        f"{ana.mention} (facilitator): senior, McMaster · Wed 19:00",
        f"{ben.mention}: trainee · Thu 05:30",
    ]
    assert fields["Facilitators"] == ana.mention
    assert fields["Time zone"] == "America/Toronto"
    assert "Needs repair" not in fields
    assert not info.response or not info.response.components, "nothing to repair, no button"

    await cy.slash(world.lobby, "group join", group="Night Owls")
    listing = await cy.slash(world.lobby, "group list")
    assert (reply_embed(listing).description or "").splitlines() == [
        "**Day Larks** · 1/6 · 5 seats free",
        "**Night Owls** · 3/3 · full",
    ]


async def test_list_with_no_groups_says_how_to_start(simcord_env: Env) -> None:
    world = make_world(simcord_env, "ana")
    result = await world.people["ana"].slash(world.lobby, "group list")
    assert "no groups yet" in reply_text(result) and "/group create" in reply_text(result)


async def test_bot_without_manage_roles_or_channels_says_which(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    channels_before = set(env.backend.get_guild(world.guild.id).channel_ids)

    await set_bot_permissions(env, world.guild, manage_roles=False)
    await refused(
        env, ana.slash(world.lobby, "group create", name="Night Owls"), "Manage Roles permission"
    )
    await set_bot_permissions(env, world.guild, manage_roles=True, manage_channels=False)
    text = await refused(
        env, ana.slash(world.lobby, "group create", name="Night Owls"), "Manage Channels"
    )
    assert "Manage Roles" not in text
    assert set(world.guild.roles) == {"@everyone", "TestBot"}
    assert set(env.backend.get_guild(world.guild.id).channel_ids) == channels_before

    await set_bot_permissions(env, world.guild, manage_channels=True)
    await night_owls(world)
    await set_bot_permissions(env, world.guild, manage_roles=False)
    await refused(env, ben.slash(world.lobby, "group join", group="Night Owls"), "Manage Roles")
    group = await group_named(env, world.guild, "Night Owls")
    assert await storage_of(env).groups.membership(group.id, ben.id) is None
    # Leaving needs the role taken away: refused before anything changes.
    await refused(
        env,
        ana.slash(world.lobby, "group remove", group="Night Owls", member=ana),
        "Manage Roles",
    )
    assert await storage_of(env).groups.membership(group.id, ana.id) is not None


async def test_autocomplete_of_groups_and_time_zones(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    await night_owls(world)
    await ana.slash(world.lobby, "group create", name="Owl Watchers")
    await ana.slash(world.lobby, "group create", name="Day Larks")

    choices = await ben.autocomplete(world.lobby, "group join", "group", "nig")
    assert choices == [{"name": "Night Owls", "value": "Night Owls"}]
    choices = await ben.autocomplete(world.lobby, "group info", "group", "OWL")
    assert [c["value"] for c in choices] == ["Owl Watchers", "Night Owls"], "prefix first"
    choices = await ben.autocomplete(world.lobby, "group leave", "group", "")
    assert [c["value"] for c in choices] == ["Day Larks", "Night Owls", "Owl Watchers"]
    assert await ben.autocomplete(world.lobby, "group join", "group", "%") == []

    zones = await ben.autocomplete(world.lobby, "group create", "timezone", "toronto")
    assert zones[0] == {"name": "America/Toronto", "value": "America/Toronto"}
    zones = await ben.autocomplete(world.lobby, "profile set", "timezone", "new york")
    assert zones[0]["value"] == "America/New_York"
    assert len(await ben.autocomplete(world.lobby, "profile set", "timezone", "")) == 25


async def test_deleted_role_and_channel_are_named_and_recreated(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben", "cy")
    ana, ben, cy = world.people["ana"], world.people["ben"], world.people["cy"]
    await night_owls(world)
    await ben.slash(world.lobby, "group join", group="Night Owls")
    old = await group_named(env, world.guild, "Night Owls")

    await delete_channel_by_hand(env, old.text_channel_id)
    await delete_role_by_hand(env, world.guild, old.role_id)

    await refused(
        env,
        cy.slash(world.lobby, "group join", group="Night Owls"),
        "role and text channel of **Night Owls** were deleted",
        "/group info",
    )
    # A member sees what is broken but gets no button; the facilitator does.
    info = await ben.slash(world.lobby, "group info", group="Night Owls")
    assert names_of(reply_embed(info))["Needs repair"] == "Deleted by hand: role, text channel."
    assert info.response is not None and not info.response.components
    info = await ana.slash(world.lobby, "group info", group="Night Owls")
    assert info.response is not None and info.response.components

    clicked = await ana.click(info.response, label="Recreate role and channels")
    assert "Recreated the role, text channel of **Night Owls**" in reply_text(clicked)
    new = await group_named(env, world.guild, "Night Owls")
    assert new.role_id not in (None, old.role_id)
    assert new.text_channel_id not in (None, old.text_channel_id)
    assert (new.category_id, new.voice_channel_id) == (old.category_id, old.voice_channel_id)
    assert channel_exists(world, new.text_channel_id)
    assert world.guild.roles["Night Owls"].id == new.role_id

    # Members have the new role again and use the new channel; outsiders still cannot.
    assert new.role_id in role_ids_of(ana) and new.role_id in role_ids_of(ben)
    text = channel_by_id(world, new.text_channel_id)
    voice = channel_by_id(world, new.voice_channel_id)
    await ben.send(text, "we are back")
    await ben.join_voice(voice)
    with pytest.raises(SetupError):
        text.history(viewer=cy)
    with pytest.raises(BackendError):
        await cy.join_voice(voice)

    await cy.slash(world.lobby, "group join", group="Night Owls")
    assert new.role_id in role_ids_of(cy)
    entries = await storage_of(env).guilds.audit_entries(world.guild.id)
    assert [(e.action, e.actor_id) for e in entries] == [("group.recreate", ana.id)]

    # A second click finds nothing left to repair.
    again = await ana.click(info.response, label="Recreate role and channels")
    assert "Nothing of **Night Owls** is missing" in reply_text(again)


async def test_deleted_category_is_recreated_and_channels_moved_back(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    await night_owls(world)
    old = await group_named(env, world.guild, "Night Owls")
    await delete_channel_by_hand(env, old.category_id)

    await refused(env, ben.slash(world.lobby, "group join", group="Night Owls"), "category")
    info = await ana.slash(world.lobby, "group info", group="Night Owls")
    assert info.response is not None
    await ana.click(info.response, label="Recreate role and channels")
    new = await group_named(env, world.guild, "Night Owls")
    assert new.category_id != old.category_id and channel_exists(world, new.category_id)
    for channel_id in (new.text_channel_id, new.voice_channel_id):
        channel = env.bot.get_channel(channel_id or 0)
        assert isinstance(channel, discord.abc.GuildChannel)
        assert channel.category_id == new.category_id


async def test_recreate_button_checks_the_clicker_is_still_a_facilitator(
    simcord_env: Env,
) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    await night_owls(world)
    await ben.slash(world.lobby, "group join", group="Night Owls")
    await ana.slash(world.lobby, "group facilitator", group="Night Owls", member=ben)
    group = await group_named(env, world.guild, "Night Owls")
    await delete_channel_by_hand(env, group.voice_channel_id)
    info = await ana.slash(world.lobby, "group info", group="Night Owls")
    assert info.response is not None
    button = info.response.components[0]["components"][0]
    assert button["custom_id"] == f"mm:group:recreate:{group.id}"

    # Ana leaves the group; the button she still sees no longer works for her.
    await ana.slash(world.lobby, "group leave", group="Night Owls")
    await refused(
        env, ana.click(info.response, label="Recreate role and channels"), "Only a facilitator"
    )
    assert not channel_exists(world, group.voice_channel_id)
    assert (await group_named(env, world.guild, "Night Owls")).voice_channel_id == (
        group.voice_channel_id
    )
    info = await ben.slash(world.lobby, "group info", group="Night Owls")
    assert info.response is not None
    await ben.click(info.response, label="Recreate role and channels")
    assert channel_exists(
        world, (await group_named(env, world.guild, "Night Owls")).voice_channel_id
    )


async def test_info_of_a_full_group_with_long_profiles_fits_discord_limits(
    simcord_env: Env,
) -> None:
    env = simcord_env
    names = [f"member{i:02d}" for i in range(12)]
    world = make_world(env, *names)
    people = [world.people[n] for n in names]
    await people[0].slash(world.lobby, "group create", name="Big Circle", capacity=12)
    for index, person in enumerate(people):
        await person.slash(
            world.lobby,
            "profile set",
            career_stage="early-career",
            institution=f"{index:02d} " + "Faculty of Medicine and Health Sciences " * 2,
            timezone="Pacific/Chatham",
        )
        if index:
            await person.slash(world.lobby, "group join", group="Big Circle")

    info = await people[5].slash(world.lobby, "group info", group="Big Circle")
    embed = reply_embed(info)
    member_text = "\n".join(
        f.value or "" for f in embed.fields if f.name in ("Members (12/12)", "\u200b")
    )
    assert all(len(f.value or "") <= 1024 for f in embed.fields)
    lines = member_text.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"{people[0].mention} (facilitator)",
        *(p.mention for p in people[1:]),
    ]
    assert all(line.endswith("· Thu 13:45") for line in lines)


async def test_leaving_the_server_frees_the_seat_and_keeps_the_group_led(
    simcord_env: Env,
) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben", "cy")
    ana, ben, cy = world.people["ana"], world.people["ben"], world.people["cy"]
    await night_owls(world, capacity=2)
    await ben.slash(world.lobby, "group join", group="Night Owls")
    await refused(env, cy.slash(world.lobby, "group join", group="Night Owls"), "is full")
    group = await group_named(env, world.guild, "Night Owls")

    # The facilitator leaves the server: the seat is free and ben leads now.
    world.guild.remove_member(ana)
    await env.settle()
    ben_membership = await storage_of(env).groups.membership(group.id, ben.id)
    assert ben_membership is not None and ben_membership.is_facilitator
    text = channel_by_id(world, group.text_channel_id)
    note = text.history(viewer=ben)[-1]
    assert note.content == (
        f"{ana.mention} left the server, so {ben.mention} is now a facilitator of **Night Owls**."
    )
    await cy.slash(world.lobby, "group join", group="Night Owls")
    members = await storage_of(env).groups.members(group.id)
    assert {m.user_id for m in members} == {ben.id, cy.id}


async def test_whoever_joins_a_group_without_facilitator_leads_it(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    await night_owls(world)
    await ana.slash(world.lobby, "group leave", group="Night Owls")  # the last one out
    group = await group_named(env, world.guild, "Night Owls")
    assert await storage_of(env).groups.members(group.id) == []

    result = await ben.slash(world.lobby, "group join", group="Night Owls")
    assert "you are it now" in reply_text(result)
    membership = await storage_of(env).groups.membership(group.id, ben.id)
    assert membership is not None and membership.is_facilitator
    result = await ben.slash(world.lobby, "group add", group="Night Owls", member=ana)
    assert "Added" in reply_text(result) and "facilitator" not in reply_text(result)


async def test_long_member_lists_are_split_into_fields(simcord_env: Env) -> None:
    from cogs.groups._cog import chunk_lines

    lines = [f"line {i:02d} " + "x" * 90 for i in range(30)]
    chunks = chunk_lines(lines, 1024)
    assert all(len(chunk) <= 1024 for chunk in chunks)
    assert "\n".join(chunks).splitlines() == lines
    assert chunk_lines(["y" * 2000], 1024) == ["y" * 1023 + "…"]
    assert chunk_lines([], 1024) == []
