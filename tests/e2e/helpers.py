"""Helpers for end-to-end tests: a guild with the bot, people, and refusals."""

from __future__ import annotations

import fnmatch
import weakref
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord
import pytest
from discord import app_commands
from simcord import ChannelHandle, Env, GuildHandle, HttpLogEntry, MemberActor

from core.errors import UserError
from core.models import Group

if TYPE_CHECKING:
    from bot import MastermindBot, Settings
    from storage import Storage


@dataclass
class World:
    env: Env
    guild: GuildHandle
    lobby: ChannelHandle
    people: dict[str, MemberActor] = field(default_factory=dict)

    def person(self, name: str, **kwargs: Any) -> MemberActor:
        actor = self.guild.add_member(self.env.create_user(name), **kwargs)
        self.people[name] = actor
        return actor

    def channel(self, name: str) -> ChannelHandle:
        return self.guild.channels[name]


def make_world(env: Env, *names: str) -> World:
    guild = env.create_guild("Clinician Educators")
    lobby = guild.create_text_channel("lobby")
    world = World(env=env, guild=guild, lobby=lobby)
    for name in names:
        world.person(name)
    return world


def _unwrap(error: BaseException) -> BaseException:
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


# How far each environment's errors have been accounted for by `refused`.
_ACCOUNTED: weakref.WeakKeyDictionary[Env, int] = weakref.WeakKeyDictionary()


async def refused(env: Env, action: Awaitable[Any], *expected_text: str) -> str:
    """Run an action that must be refused: the only errors it raises are user refusals, and the
    person gets one ephemeral reply containing every expected fragment. Returns the reply.

    Errors the bot raised earlier that no refusal accounted for fail the test here."""
    # Errors SimCord counts as acknowledged (read through `env.errors`) are accounted for too.
    accounted = max(_ACCOUNTED.get(env, 0), getattr(env, "_errors_acknowledged", 0))
    earlier = env.errors_since(accounted)
    if earlier:
        raise ExceptionGroup("the bot raised errors before this refusal", list(earlier))
    cursor = env.error_cursor
    result = await action
    raised = [_unwrap(e) for e in env.errors_since(cursor)]
    unexpected = [e for e in raised if not isinstance(e, UserError | app_commands.CheckFailure)]
    assert not unexpected, f"unexpected errors: {unexpected!r}"
    _acknowledge(env)
    assert result.ephemeral, "a refusal must be ephemeral"
    text = reply_text(result)
    for fragment in expected_text:
        assert fragment.lower() in text.lower(), f"{fragment!r} not in {text!r}"
    return text


def _acknowledge(env: Env) -> None:
    _ = env.errors
    _ACCOUNTED[env] = env.error_cursor


def reply_text(result: Any) -> str:
    """What the person read: the last follow-up, or the (possibly deferred) response."""
    message = result.followups[-1] if result.followups else result.response
    assert message is not None, "the bot did not answer"
    return message.content or ""


def reply_embed(result: Any) -> discord.Embed:
    message = result.followups[-1] if result.followups else result.response
    assert message is not None and message.embeds, "the bot answered without an embed"
    return message.embeds[0]


# ---------------------------------------------------------------- groups and their channels


def bot_of_env(env: Env) -> MastermindBot:
    return env.bot  # type: ignore[return-value]


def storage_of(env: Env) -> Storage:
    """The running bot's storage, to check what it saved."""
    return bot_of_env(env).storage


async def group_named(env: Env, guild: GuildHandle, name: str) -> Group:
    """The group as the bot stored it."""
    group = await bot_of_env(env).storage.groups.by_name(guild.id, name)
    assert group is not None, f"no group {name!r} stored"
    return group


def channel_by_id(world: World, channel_id: int | None) -> ChannelHandle:
    """A handle for a channel by id (category and voice channel share the group's name, so
    `world.channel(name)` cannot tell them apart)."""
    assert channel_id is not None
    return ChannelHandle(world.env, world.guild, world.env.backend.get_channel(channel_id))


def channel_exists(world: World, channel_id: int | None) -> bool:
    return channel_id is not None and channel_id in world.env.backend.channels


def role_ids_of(actor: MemberActor) -> set[int]:
    member = actor.member
    assert member is not None
    return {role.id for role in member.roles}


# --------------------------------------------------------------------- the bot's permissions


async def set_bot_permissions(env: Env, guild: GuildHandle, **changes: bool) -> None:
    """Edit the bot's own (managed integration) role, as a server admin would."""
    model = env.backend.get_guild(guild.id)
    role = next(r for r in model.roles.values() if r.managed)
    permissions = discord.Permissions(role.permissions)
    permissions.update(**changes)
    env.backend.edit_role(guild.id, role.id, {"permissions": permissions.value})
    await env.settle()


async def delete_channel_by_hand(env: Env, channel_id: int | None) -> None:
    """Someone deletes the channel in Discord's own settings."""
    assert channel_id is not None
    env.backend.delete_channel(channel_id)
    await env.settle()


async def delete_role_by_hand(env: Env, guild: GuildHandle, role_id: int | None) -> None:
    assert role_id is not None
    env.backend.delete_role(guild.id, role_id)
    await env.settle()


# ------------------------------------------------------------------------- REST diagnostics


def requests(env: Env, method: str, path: str) -> list[HttpLogEntry]:
    """REST calls the bot made whose method matches and path matches the fnmatch pattern."""
    return [
        r for r in env.http_requests if r.method == method and fnmatch.fnmatchcase(r.path, path)
    ]


def command_syncs(env: Env) -> int:
    """How many times the bot replaced its command set (PUT .../commands)."""
    return len(requests(env, "PUT", "/applications/*/commands")) + len(
        requests(env, "PUT", "/applications/*/guilds/*/commands")
    )


def message_payloads(env: Env) -> list[dict[str, Any]]:
    """The body of every message the bot sent or edited: channel messages, interaction
    responses and follow-ups."""
    found: list[dict[str, Any]] = []
    for entry in env.http_requests:
        body = entry.json
        if not isinstance(body, dict):
            continue
        if fnmatch.fnmatchcase(entry.path, "/interactions/*/callback"):
            data = body.get("data")
            if body.get("type") in (4, 7) and isinstance(data, dict):
                found.append(data)
        elif entry.method in ("POST", "PATCH") and (
            fnmatch.fnmatchcase(entry.path, "/channels/*/messages*")
            or fnmatch.fnmatchcase(entry.path, "/webhooks/*")
        ):
            found.append(body)
    return found


# -------------------------------------------------------------------------------- restarts


async def replace_bot(env: Env, new: MastermindBot) -> MastermindBot:
    """Put `new` in the old bot's place on the same database, as after a crash or a deploy.
    SimCord detaches the old bot without closing it: its timers and deliveries are stopped
    and its database closed here, so it neither acts after the restart nor keeps the test
    process alive."""
    old = bot_of_env(env)
    await env.restart_bot(new)
    await old.stop_work()
    await old.storage.close()
    return new


async def restart(env: Env, settings: Settings) -> MastermindBot:
    """Restart on the same database with a fresh bot."""
    from bot import create_bot

    return await replace_bot(env, create_bot(settings))


@pytest.fixture
async def close_storage(simcord_env: Env) -> AsyncIterator[None]:
    """Close the bot's database after the test: SimCord never calls `bot.close()`, and an open
    aiosqlite thread keeps the test process alive after a failure."""
    yield
    bot = bot_of_env(simcord_env)
    await bot.stop_work()
    await bot.storage.close()
