"""The real bot in SimCord, outside pytest: a guild, a group of four sitting in its voice
channel, and the session panel. Used by the benchmarks that need Discord."""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import simcord
from simcord import ChannelHandle, Env, MemberActor

from bot import MastermindBot, Settings, create_bot
from cogs.sessions._cog import SessionsCog

GROUP = "Circle"
NAMES = ("fay", "ana", "ben", "cy")


class TimedLog(list[Any]):
    """SimCord's list of REST requests, also noting when each was recorded (perf_counter)."""

    def __init__(self, entries: list[Any]) -> None:
        super().__init__(entries)
        self.times: list[float] = [0.0] * len(entries)

    def append(self, entry: Any) -> None:
        self.times.append(time.perf_counter())
        super().append(entry)


@dataclass
class Circle:
    env: Env
    bot: MastermindBot
    people: list[MemberActor]
    text: ChannelHandle
    voice: ChannelHandle

    @property
    def facilitator(self) -> MemberActor:
        return self.people[0]

    @property
    def cog(self) -> SessionsCog:
        cog = self.bot.get_cog("SessionsCog")
        assert isinstance(cog, SessionsCog)
        return cog

    def panel(self) -> discord.Message:
        """The latest session panel posted in the group channel."""
        for message in reversed(self.text.history()):
            title = message.embeds[0].title if message.embeds else None
            if title and title.startswith(f"{GROUP} · session") and "summary" not in title:
                return message
        raise AssertionError("no session panel was posted")


@asynccontextmanager
async def running_bot() -> AsyncIterator[tuple[Env, MastermindBot]]:
    """The real bot (`create_bot`) on a temporary database, attached to SimCord."""
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp:
        bot = create_bot(Settings(discord_token="test", database_path=Path(tmp) / "mm.db"))
        try:
            async with simcord.run(bot) as env:
                yield env, bot
        finally:
            # SimCord detaches the bot without closing it: stop what `MastermindBot.close`
            # would, or the database thread keeps the interpreter alive.
            await bot.timers.stop()
            await bot.storage.close()


async def make_circle(env: Env, bot: MastermindBot) -> Circle:
    """A guild where `fay` created the group and three others joined; all four are in its
    voice channel, joined a second apart."""
    guild = env.create_guild("Clinician Educators")
    lobby = guild.create_text_channel("lobby")
    people = [guild.add_member(env.create_user(name)) for name in NAMES]
    await people[0].slash(lobby, "group create", name=GROUP, capacity=8)
    for person in people[1:]:
        await person.slash(lobby, "group join", group=GROUP)
    text, voice = guild.channels[GROUP.lower()], guild.channels[GROUP]
    for person in people:
        await person.join_voice(voice)
        await env.advance_time(1)
    return Circle(env, bot, people, text, voice)
