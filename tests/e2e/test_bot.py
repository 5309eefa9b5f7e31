"""The bot as a whole: restarts on the same database, command sync, and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import discord
import pytest
from discord import app_commands
from simcord import Env

import bot as bot_module
from bot import REQUIRED_PERMISSIONS, Settings, create_bot
from tests.e2e.helpers import (
    channel_by_id,
    close_storage,  # noqa: F401  (used below)
    command_syncs,
    group_named,
    make_world,
    replace_bot,
    reply_embed,
    reply_text,
    restart,
    role_ids_of,
)

with_closed_storage = pytest.mark.usefixtures("close_storage")

ROOT = Path(__file__).resolve().parents[2]


@with_closed_storage
async def test_restart_keeps_groups_and_does_not_resync_commands(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben", "cy")
    ana, ben, cy = world.people["ana"], world.people["ben"], world.people["cy"]
    assert command_syncs(env) == 1, "the first start syncs the command tree"
    await ana.slash(world.lobby, "group create", name="Night Owls", capacity=3)
    await ana.slash(world.lobby, "group create", name="Day Larks", timezone="Europe/Paris")
    await ben.slash(world.lobby, "group join", group="Night Owls")
    await ben.slash(world.lobby, "profile set", career_stage="trainee")
    before = [await group_named(env, world.guild, n) for n in ("Day Larks", "Night Owls")]

    await restart(env, settings)

    assert command_syncs(env) == 1, "an unchanged command set is not synced again"
    after = [await group_named(env, world.guild, n) for n in ("Day Larks", "Night Owls")]
    assert after == before
    listing = await cy.slash(world.lobby, "group list")
    assert (reply_embed(listing).description or "").splitlines() == [
        "**Day Larks** · 1/6 · 5 seats free",
        "**Night Owls** · 2/3 · 1 seats free",
    ]
    info = await cy.slash(world.lobby, "group info", group="Night Owls")
    members = {f.name: f.value for f in reply_embed(info).fields}["Members (2/3)"]
    assert f"{ben.mention}: trainee" in members

    # Commands still work, against the same roles and channels.
    await cy.slash(world.lobby, "group join", group="night owls")
    night_owls = after[1]
    assert night_owls.role_id in role_ids_of(cy)
    await cy.send(channel_by_id(world, night_owls.text_channel_id), "joined after a restart")
    await ana.slash(world.lobby, "group create", name="Morning Rounds")
    assert "Morning Rounds" in world.guild.roles

    # A second restart is just as quiet.
    await restart(env, settings)
    assert command_syncs(env) == 1


@with_closed_storage
async def test_changed_command_set_is_synced_at_start(simcord_env: Env, settings: Settings) -> None:
    env = simcord_env
    world = make_world(env, "ana")
    assert command_syncs(env) == 1

    changed = create_bot(settings)

    @app_commands.command(name="ping", description="Is the bot alive?")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    changed.tree.add_command(ping)
    await replace_bot(env, changed)

    assert command_syncs(env) == 2
    result = await world.people["ana"].slash(world.lobby, "ping")
    assert reply_text(result) == "pong"

    # Back to the usual command set: that is a change again, so it is synced once more.
    await restart(env, settings)
    assert command_syncs(env) == 3
    assert "ping" not in world.people["ana"].available_commands(world.lobby)


async def test_the_bot_asks_for_what_it_needs() -> None:
    wanted = discord.Permissions(REQUIRED_PERMISSIONS.value)
    assert not wanted.administrator
    for name in (
        "manage_roles",
        "manage_channels",
        "send_messages",
        "mute_members",
        "view_audit_log",
    ):
        assert getattr(wanted, name), name
    intents = bot_module.intents()
    assert intents.members and intents.voice_states and intents.guilds
    assert intents.moderation  # audit-log entries: whose mute is it
    assert not intents.message_content


def _clean_env(**extra: str) -> dict[str, str]:
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MASTERMIND_") and k != "DISCORD_TOKEN"
    }
    return {**kept, **extra}


def test_running_without_a_token_exits_2_with_help(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        cwd=tmp_path,  # no .env here
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "No Discord bot token is set" in done.stderr
    assert "https://discord.com/developers/applications" in done.stderr
    assert "DISCORD_TOKEN=" in done.stderr
    assert done.stdout == ""


def test_invite_prints_a_url_with_exactly_the_required_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MASTERMIND_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.setenv("MASTERMIND_APPLICATION_ID", "123456789012345678")

    assert bot_module.main(["invite"]) == 0

    url = urlparse(capsys.readouterr().out.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == ["123456789012345678"]
    assert int(query["permissions"][0]) == REQUIRED_PERMISSIONS.value
    granted = discord.Permissions(int(query["permissions"][0]))
    # The audit log names who changed a server mute: the talking stick needs both.
    assert granted.view_audit_log and granted.mute_members
    assert not granted.administrator and not granted.manage_guild
    assert set(query["scope"][0].split()) == {"bot", "applications.commands"}


def test_invite_without_an_application_id_says_where_to_find_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MASTERMIND_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    assert bot_module.main(["invite"]) == 2
    assert "MASTERMIND_APPLICATION_ID" in capsys.readouterr().err


@with_closed_storage
async def test_recreate_button_still_works_after_a_restart(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    world = make_world(env, "ana", "ben")
    ana, ben = world.people["ana"], world.people["ben"]
    await ana.slash(world.lobby, "group create", name="Night Owls")
    await ben.slash(world.lobby, "group join", group="Night Owls")
    old = await group_named(env, world.guild, "Night Owls")
    env.backend.delete_channel(old.text_channel_id or 0)
    await env.settle()
    info = await ana.slash(world.lobby, "group info", group="Night Owls")
    assert info.response is not None

    await restart(env, settings)

    clicked = await ana.click(info.response, label="Recreate role and channels")
    assert "Recreated the text channel of **Night Owls**" in reply_text(clicked)
    new = await group_named(env, world.guild, "Night Owls")
    assert new.text_channel_id != old.text_channel_id
    await ben.send(channel_by_id(world, new.text_channel_id), "back again")


def test_overwrites_only_name_permissions_the_bot_is_invited_with() -> None:
    from cogs.groups._channels import BOT_ACCESS, HIDDEN, MEMBER_ACCESS, READ_ONLY

    for overwrite in (BOT_ACCESS, HIDDEN, MEMBER_ACCESS, READ_ONLY):
        allow, deny = overwrite.pair()
        named = allow.value | deny.value
        assert named & ~REQUIRED_PERMISSIONS.value == 0, overwrite
