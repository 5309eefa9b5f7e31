"""Helpers for end-to-end tests: a guild with the bot, people, and refusals."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands
from simcord import ChannelHandle, Env, GuildHandle, MemberActor

from core.errors import UserError


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


async def refused(env: Env, action: Awaitable[Any], *expected_text: str) -> str:
    """Run an action that must be refused: the only errors it raises are user refusals, and the
    person gets one ephemeral reply containing every expected fragment. Returns the reply."""
    env.raise_errors()
    cursor = env.error_cursor
    result = await action
    raised = [_unwrap(e) for e in env.errors_since(cursor)]
    unexpected = [
        e for e in raised if not isinstance(e, UserError | app_commands.CheckFailure)
    ]
    assert not unexpected, f"unexpected errors: {unexpected!r}"
    _acknowledge(env)
    assert result.ephemeral, "a refusal must be ephemeral"
    text = reply_text(result)
    for fragment in expected_text:
        assert fragment.lower() in text.lower(), f"{fragment!r} not in {text!r}"
    return text


def _acknowledge(env: Env) -> None:
    _ = env.errors


def reply_text(result: Any) -> str:
    """What the person read: the last follow-up, or the (possibly deferred) response."""
    message = result.followups[-1] if result.followups else result.response
    assert message is not None, "the bot did not answer"
    return message.content or ""


def reply_embed(result: Any) -> discord.Embed:
    message = result.followups[-1] if result.followups else result.response
    assert message is not None and message.embeds, "the bot answered without an embed"
    return message.embeds[0]
