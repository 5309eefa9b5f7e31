"""Several groups meeting at the same minute: their deadlines fall in the same instant, and
the bot hands all of them over together (one call, one commit) and each exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import discord
from simcord import ChannelHandle, Env, MemberActor

from bot import Settings
from core.session import Command
from core.session.outbox import Where
from core.session.service import SessionService, Transition
from tests.e2e.helpers import World, make_world
from tests.e2e.session_helpers import bot_of, floor_line, named, restart

GROUPS = ("Alpha", "Beta", "Gamma")


class Meeting:
    """One group of the programme: its facilitator and two members, all in its voice."""

    def __init__(self, world: World, name: str) -> None:
        self.name = name
        self.people = [world.person(f"{name.lower()}-{n}") for n in ("lead", "one", "two")]
        self.world = world

    @property
    def text(self) -> ChannelHandle:
        return self.world.channel(self.name.lower())

    def turns(self) -> list[str]:
        return [m.content for m in self.text.history() if "it's your turn" in m.content]

    def announced(self) -> list[str]:
        """Whom each turn announcement named, in order."""
        return [turn.split(",")[0] for turn in self.turns()]

    def panel(self) -> discord.Message:
        title = f"{self.name} · session"
        return [m for m in self.text.history() if m.embeds and m.embeds[0].title == title][-1]


async def programme(env: Env) -> list[Meeting]:
    world = make_world(env)
    meetings = [Meeting(world, name) for name in GROUPS]
    for meeting in meetings:
        lead, *members = meeting.people
        await lead.slash(world.lobby, "group create", name=meeting.name, capacity=8)
        for member in members:
            await member.slash(world.lobby, "group join", group=meeting.name)
        for person in meeting.people:
            await person.join_voice(world.channel(meeting.name))
            await env.advance_time(1)
    # Every group starts at the same minute, with the same agenda: their deadlines coincide.
    for meeting in meetings:
        await meeting.people[0].slash(
            meeting.text,
            "session start",
            group=meeting.name,
            format="roundrobin",
            turn_minutes=2,
            order="joined",
        )
    return meetings


def record_batches(env: Env) -> list[list[int]]:
    """The sessions of each call that applied deadlines together (the real call runs)."""
    service = bot_of(env).sessions
    batches: list[list[int]] = []
    original = service.command_many

    async def command_many(
        commands: Sequence[tuple[int, Command, Where]], now: datetime
    ) -> list[Transition | Exception]:
        batches.append(sorted(session_id for session_id, _, _ in commands))
        return await original(commands, now)

    service.command_many = command_many  # type: ignore[method-assign]
    return batches


def holder(env: Env, service: SessionService, meeting: Meeting) -> MemberActor:
    state = next(
        s
        for s in map(service.get, service.live_ids())
        if s is not None and s.roster[0] == meeting.people[0].id
    )
    return next(p for p in meeting.people if p.id == state.floor_holder())


async def test_groups_meeting_at_the_same_minute_are_handed_over_together(
    simcord_env: Env,
) -> None:
    env = simcord_env
    meetings = await programme(env)
    bot = bot_of(env)
    dues = {bot.sessions.get(i).next_due() for i in bot.sessions.live_ids()}  # type: ignore[union-attr]
    assert len(dues) == 1 and len(bot.sessions.live_ids()) == 3, "one shared deadline"
    batches = record_batches(env)

    await env.advance_time(120)
    await env.settle()

    # The one-minute warnings, then the hand-overs: each time all three in one call.
    assert batches == [sorted(bot.sessions.live_ids())] * 2
    for meeting in meetings:
        lead, first, _ = meeting.people
        assert meeting.announced() == [
            f"🎙️ {lead.mention}",
            f"🎙️ {first.mention}",
        ]
        warnings = [m.content for m in meeting.text.history() if "one minute left" in m.content]
        assert [w.split(",")[0] for w in warnings] == [f"⏳ {lead.mention}"]
        assert holder(env, bot.sessions, meeting) == first
        assert named(first) in floor_line(meeting.panel())
    for session_id in bot.sessions.live_ids():
        rows = await bot.storage.outbox.of_scope(f"session:{session_id}")
        assert rows and all(r.state == "done" for r in rows)


async def test_deadlines_missed_while_down_are_handed_over_together_once(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    meetings = await programme(env)
    # The bot goes down a minute before the shared deadline and is back a minute after it.
    await env.advance_time(60)
    await bot_of(env).stop_work()
    await env.advance_time(120)
    bot = await restart(env, settings)
    await env.settle()

    for meeting in meetings:
        lead, first, _ = meeting.people
        assert meeting.announced() == [
            f"🎙️ {lead.mention}",
            f"🎙️ {first.mention}",
        ], "the missed hand-over is announced once, after the restart"
        assert holder(env, bot.sessions, meeting) == first


async def test_hand_overs_prepared_before_the_deadline_and_a_click_in_between(
    simcord_env: Env,
) -> None:
    env = simcord_env
    meetings = await programme(env)
    bot = bot_of(env)
    alpha, beta, gamma = meetings

    # A second before the shared deadline the bot works out the three hand-overs; just then
    # Alpha's speaker finishes early and moves on themselves. (Settling runs whatever falls
    # due in the next few virtual seconds: held to a quarter of one here, it stops short of
    # the deadline.)
    settle_timeout, env.settle_timeout = env.settle_timeout, 0.25
    await env.advance_time(119)
    prepared_before = bot.sessions.prepared_used
    lead, first, _ = alpha.people
    assert alpha.announced() == [f"🎙️ {lead.mention}"], "not yet"
    await lead.click(alpha.panel(), label="Next")
    assert alpha.announced()[-1] == f"🎙️ {first.mention}"
    env.settle_timeout = settle_timeout
    await env.advance_time(1)
    await env.settle()

    assert bot.sessions.prepared_used == prepared_before + 2, "Beta and Gamma, not Alpha"
    for meeting in (alpha, beta, gamma):
        speaker, nxt, _ = meeting.people
        assert meeting.announced() == [
            f"🎙️ {speaker.mention}",
            f"🎙️ {nxt.mention}",
        ], "each hand-over announced once: Alpha's by the click, not again at the deadline"
        assert holder(env, bot.sessions, meeting) == nxt
        assert named(nxt) in floor_line(meeting.panel())
    deadlines = {
        s.roster[0]: s.running.deadline
        for s in map(bot.sessions.get, bot.sessions.live_ids())
        if s is not None and s.running is not None
    }
    shared = deadlines[beta.people[0].id]
    assert deadlines[gamma.people[0].id] == shared
    assert deadlines[lead.id] == shared - timedelta(seconds=1), "Alpha's turn runs from the click"
