"""`/mastermind setup` and `/mastermind help`; moderator actions in the audit table and log."""

from __future__ import annotations

import discord
import pytest
from simcord import Env, OptionError, SetupError

from tests.e2e.helpers import (
    channel_by_id,
    close_storage,  # noqa: F401  (used below)
    group_named,
    make_world,
    message_payloads,
    refused,
    reply_embed,
    reply_text,
    storage_of,
)

pytestmark = pytest.mark.usefixtures("close_storage")


def fields(embed: discord.Embed) -> dict[str, str]:
    return {field.name or "": field.value or "" for field in embed.fields}


async def test_setup_stores_validated_settings_for_server_managers_only(
    simcord_env: Env,
) -> None:
    env = simcord_env
    world = make_world(env, "ana")
    ana = world.people["ana"]
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[managers])
    moderators = world.guild.create_role("Moderators")
    log = world.guild.create_text_channel("mod-log")

    await refused(env, ana.slash(world.lobby, "mastermind setup"), "Manage Server")
    await refused(
        env,
        ana.slash(world.lobby, "mastermind setup", moderator_role=moderators),
        "Manage Server",
    )

    result = await boss.slash(world.lobby, "mastermind setup")
    assert reply_text(result).startswith("Current settings")
    assert fields(reply_embed(result)) == {
        "Moderator role": "none",
        "Log channel": "none",
        "Default turn": "format default",
        "Feedback open": "7 days",
        "Exports": "pseudonymous",
        "After a session": "announcements tidied away",
    }

    result = await boss.slash(
        world.lobby,
        "mastermind setup",
        moderator_role=moderators,
        log_channel=log,
        turn_minutes=12,
        feedback_days=10,
        identified_exports=True,
        tidy_sessions=False,
    )
    assert result.ephemeral and reply_text(result).startswith("Saved.")
    assert fields(reply_embed(result)) == {
        "Moderator role": moderators.mention,
        "Log channel": log.mention,
        "Default turn": "12 min",
        "Feedback open": "10 days",
        "Exports": "identified",
        "After a session": "everything kept",
    }
    stored = await storage_of(env).guilds.settings(world.guild.id)
    assert (stored.moderator_role_id, stored.log_channel_id) == (moderators.id, log.id)
    assert (stored.turn_minutes, stored.feedback_days, stored.identified_exports) == (12, 10, True)
    assert stored.tidy_sessions is False

    # A partial change keeps the rest.
    await boss.slash(world.lobby, "mastermind setup", identified_exports=False)
    stored = await storage_of(env).guilds.settings(world.guild.id)
    assert (stored.turn_minutes, stored.identified_exports) == (12, False)
    assert stored.tidy_sessions is False

    # Out-of-range numbers never reach the bot: Discord refuses them from the declared range.
    for options in ({"turn_minutes": 0}, {"turn_minutes": 61}, {"feedback_days": 31}):
        with pytest.raises(OptionError):
            await boss.slash(world.lobby, "mastermind setup", **options)

    # @everyone and the bot's own role cannot be the moderator role.
    await refused(
        env,
        boss.slash(world.lobby, "mastermind setup", moderator_role=world.guild.default_role),
        "cannot be the moderator role",
    )
    await refused(
        env,
        boss.slash(world.lobby, "mastermind setup", moderator_role=world.guild.roles["TestBot"]),
        "cannot be the moderator role",
    )

    # The set-up itself is recorded and logged, without pinging the role it names.
    entries = await storage_of(env).guilds.audit_entries(world.guild.id)
    assert [(e.action, e.actor_id) for e in entries] == [
        ("mastermind.setup", boss.id),
        ("mastermind.setup", boss.id),
    ]
    logged = [m.content for m in log.history()]
    assert logged[0].startswith(f"`mastermind.setup` by {boss.mention}")
    assert moderators.mention in logged[0]
    assert all(p.get("allowed_mentions") == {"parse": []} for p in message_payloads(env))


async def test_log_channel_the_bot_cannot_write_to_is_refused(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env)
    owner_role = world.guild.create_role(
        "Owners", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[owner_role])
    me = world.guild.me
    assert me is not None
    silent = world.guild.create_text_channel(
        "announcements", overwrites={me: discord.PermissionOverwrite(send_messages=False)}
    )
    hidden = world.guild.create_text_channel(
        "staff-only", overwrites={me: discord.PermissionOverwrite(view_channel=False)}
    )

    for channel in (silent, hidden):
        text = await refused(
            env,
            boss.slash(world.lobby, "mastermind setup", log_channel=channel),
            "I cannot post in",
            "Send Messages",
        )
        assert channel.mention in text
    stored = await storage_of(env).guilds.settings(world.guild.id)
    assert stored.log_channel_id is None
    assert await storage_of(env).guilds.audit_entries(world.guild.id) == []


async def test_moderator_role_can_archive_and_the_action_is_logged(simcord_env: Env) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[managers])
    moderators = world.guild.create_role("Moderators")
    mod = world.person("mod", roles=[moderators])
    log = world.guild.create_text_channel("mod-log")

    await ana.slash(world.lobby, "group create", name="Night Owls")
    await ben.slash(world.lobby, "group join", group="Night Owls")
    group = await group_named(env, world.guild, "Night Owls")
    text = channel_by_id(world, group.text_channel_id)
    await ben.send(text, "hello")

    # Before the set-up, the role means nothing: no archive, no view of the channel.
    await refused(env, mod.slash(world.lobby, "group archive", group="Night Owls"), "moderators")
    with pytest.raises(SetupError):
        text.history(viewer=mod)

    await boss.slash(world.lobby, "mastermind setup", moderator_role=moderators, log_channel=log)

    # Existing groups now let moderators in, and moderators may archive.
    assert [m.content for m in text.history(viewer=mod)] == ["hello"]
    result = await mod.slash(world.lobby, "group archive", group="Night Owls")
    assert "Archived **Night Owls**" in reply_text(result)
    assert (await group_named(env, world.guild, "Night Owls")).archived

    entries = await storage_of(env).guilds.audit_entries(world.guild.id)
    assert [(e.action, e.actor_id, e.detail) for e in entries][-1] == (
        "group.archive",
        mod.id,
        "Night Owls",
    )
    assert entries[-1].created_at == env.now()
    last = log.history()[-1]
    assert last.content == f"`group.archive` by {mod.mention}: Night Owls"
    assert not last.mention_everyone
    logged = [p for p in message_payloads(env) if str(p.get("content", "")).startswith("`group.")]
    assert logged and all(p["allowed_mentions"] == {"parse": []} for p in logged)

    # A group created after the set-up includes the moderator role from the start.
    await ana.slash(world.lobby, "group create", name="Day Larks")
    larks = await group_named(env, world.guild, "Day Larks")
    assert channel_by_id(world, larks.text_channel_id).history(viewer=mod) == []

    # Facilitator actions are logged too.
    await ana.slash(world.lobby, "group add", group="Day Larks", member=ben)
    assert log.history()[-1].content == f"`group.add` by {ana.mention}: Day Larks: {ben.mention}"


async def test_a_log_channel_that_breaks_later_does_not_break_the_action(
    simcord_env: Env,
) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[managers])
    log = world.guild.create_text_channel("mod-log")
    await boss.slash(world.lobby, "mastermind setup", log_channel=log)
    await ana.slash(world.lobby, "group create", name="Night Owls")

    env.inject_error("POST", f"/channels/{log.id}/messages", status=500)
    result = await ana.slash(world.lobby, "group add", group="Night Owls", member=ben)
    assert "Added" in reply_text(result)
    entries = await storage_of(env).guilds.audit_entries(world.guild.id)
    assert entries[-1].action == "group.add"
    assert [m.content for m in log.history()] == [
        f"`mastermind.setup` by {boss.mention}: log channel {log.mention}"
    ]


async def test_help_explains_the_basics(simcord_env: Env) -> None:
    world = make_world(simcord_env, "ana")
    result = await world.people["ana"].slash(world.lobby, "mastermind help")
    text = reply_text(result)
    assert result.ephemeral
    for command in ("/group join", "/group create", "/profile set", "/mastermind setup"):
        assert command in text
