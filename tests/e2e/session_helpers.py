"""A group with members sitting in its voice channel, ready for a session."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from simcord import ChannelHandle, Env, MemberActor

from tests.e2e.helpers import World, make_world


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
