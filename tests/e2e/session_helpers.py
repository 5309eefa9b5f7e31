"""A group with members sitting in its voice channel, ready for a session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import discord
from simcord import ChannelHandle, Env, MemberActor
from simcord.backend.models import Overwrite
from simcord.enums import OverwriteType

from bot import MastermindBot, Settings, create_bot
from cogs.sessions import SessionsCog
from core.session import SessionState
from tests.e2e.helpers import World, make_world, replace_bot


@dataclass
class Circle:
    world: World
    facilitator: MemberActor
    members: list[MemberActor]
    text: ChannelHandle
    voice: ChannelHandle

    @property
    def everyone(self) -> list[MemberActor]:
        return [self.facilitator, *self.members]

    def panel(self) -> discord.Message:
        """The latest session panel posted in the group channel."""
        panels = [
            m
            for m in self.text.history()
            if m.embeds
            and m.embeds[0].title
            and m.embeds[0].title.startswith("Circle · session")
            and "summary" not in m.embeds[0].title
        ]
        assert panels, "no session panel was posted"
        return panels[-1]

    def messages(self) -> list[str]:
        return [m.content for m in self.text.history() if m.content]

    def pings(self) -> list[list[int]]:
        """For each message the bot posted in the group channel: whom it was allowed to ping."""
        found = []
        for request in self.world.env.http_requests:
            if request.method == "POST" and request.path == f"/channels/{self.text.id}/messages":
                allowed = (request.json or {}).get("allowed_mentions") or {}
                found.append([int(u) for u in allowed.get("users", [])])
        return found


async def make_circle(
    env: Env, names: tuple[str, ...] = ("fay", "ana", "ben", "cy"), *, join_voice: bool = True
) -> Circle:
    world = make_world(env, *names)
    facilitator, *members = (world.people[name] for name in names)
    await facilitator.slash(world.lobby, "group create", name="Circle", capacity=8)
    for member in members:
        await member.slash(world.lobby, "group join", group="Circle")
    text, voice = world.channel("circle"), world.channel("Circle")
    circle = Circle(world, facilitator, members, text, voice)
    if join_voice:
        for person in circle.everyone:
            await person.join_voice(voice)
            await env.advance_time(1)
    return circle


# -- shared by the session tests --------------------------------------------------------------


def bot_of(env: Env) -> MastermindBot:
    bot = env.bot
    assert isinstance(bot, MastermindBot)
    return bot


def cog_of(env: Env) -> SessionsCog:
    cog = bot_of(env).get_cog("SessionsCog")
    assert isinstance(cog, SessionsCog)
    return cog


def live(env: Env, session_id: int = 1) -> SessionState:
    """The live state of a session as the bot holds it."""
    state = cog_of(env).service.get(session_id)
    assert state is not None, f"session {session_id} is not live"
    return state


def is_live(env: Env, session_id: int = 1) -> bool:
    return cog_of(env).service.get(session_id) is not None


async def segments(env: Env, session_id: int = 1) -> list[dict[str, object]]:
    return await bot_of(env).storage.sessions.segment_rows(session_id)


def labels(message: discord.Message) -> list[str]:
    return [c.label or "" for row in message.components for c in row.children]  # type: ignore[attr-defined]


def named(actor: MemberActor) -> str:
    """How the panel names a member: "@" and their display name, as plain text."""
    member = actor.member
    assert member is not None, f"{actor.name} is not in the bot's member cache"
    return f"@{member.display_name}"


def floor_line(message: discord.Message) -> str:
    """The panel's "Floor" field."""
    embed = message.embeds[0]
    return next(f.value or "" for f in embed.fields if f.name == "Floor")


def field(message: discord.Message, name: str) -> str:
    embed = message.embeds[0]
    return next((f.value or "" for f in embed.fields if f.name.startswith(name)), "")


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def allow(
    env: Env,
    channel: ChannelHandle,
    target_id: int,
    *,
    allow: discord.Permissions | None = None,
    deny: discord.Permissions | None = None,
) -> None:
    """Set a member overwrite on a channel the way a server admin would, merging with any
    overwrite already there (a denied bit is taken out of the allowed ones)."""
    backend = env.backend
    stored = backend.get_channel(channel.id)
    old = next((o for o in stored.overwrites if o.target_id == target_id), None)
    allowed = (old.allow if old else 0) | (allow.value if allow else 0)
    denied = (old.deny if old else 0) | (deny.value if deny else 0)
    allowed &= ~(deny.value if deny else 0)
    backend.set_overwrite(
        channel.id,
        Overwrite(target_id=target_id, type=OverwriteType.MEMBER, allow=allowed, deny=denied),
    )


def bot_member_id(env: Env) -> int:
    return env.backend.bot_user.id


def in_voice(actor: MemberActor) -> bool:
    return actor.id in actor.guild.voice_states()


def muted(actor: MemberActor) -> bool:
    """Whether Discord (not the bot's cache) has `actor` server-muted in voice."""
    state = actor.guild.voice_states().get(actor.id)
    assert state is not None, f"{actor.name} is not in voice"
    return bool(state.mute)


def mute_edits(env: Env, actor: MemberActor, since: int = 0) -> list[bool]:
    """Every server-mute change the bot asked for on `actor`, in order."""
    found = []
    for request in env.http_requests[since:]:
        if request.method == "PATCH" and request.path.endswith(f"/members/{actor.id}"):
            body = request.json or {}
            if "mute" in body:
                found.append(bool(body["mute"]))
    return found


def summary_of(circle: Circle) -> discord.Message:
    """The session summary posted in the group channel (the latest one)."""
    found = [
        m
        for m in circle.text.history()
        if m.embeds and m.embeds[0].title == "Circle · session summary"
    ]
    assert found, "no session summary was posted"
    return found[-1]


async def restart(
    env: Env, settings: Settings, *, during_downtime: Callable[[], None] | None = None
) -> MastermindBot:
    """Restart on the same database with a NEW bot and close the old bot's database (SimCord
    detaches it without closing it). `during_downtime` runs while no bot is connected: after
    the old bot is detached and before the new one receives the guild, so the new bot learns
    of it only from the guild snapshot, as after a real outage."""
    new = create_bot(settings)
    if during_downtime is not None:
        original = new.setup_hook
        change = during_downtime

        async def setup_hook() -> None:
            change()
            await original()

        new.setup_hook = setup_hook  # type: ignore[method-assign]
    return await replace_bot(env, new)
