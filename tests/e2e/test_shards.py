"""Shard processes on one database: each runs only its own shards' sessions, and two that run
the same shard for a moment (a rolling restart) advance a session once between them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from simcord import Env

from bot import MastermindBot, Settings, create_bot
from cogs.sessions._runner import TIMER_KIND, SessionRunner
from core.errors import UserError
from core.shards import shard_of
from tests.e2e.helpers import World, replace_bot
from tests.e2e.session_helpers import Circle, bot_of, cog_of, is_live, live


async def circle_on_shard(env: Env, shard_id: int, prefix: str) -> Circle:
    """A group in a guild Discord puts on `shard_id`, its members in its voice channel."""
    guild = env.create_guild(f"Guild {prefix}", shard_id=shard_id)
    world = World(env=env, guild=guild, lobby=guild.create_text_channel("lobby"))
    names = tuple(f"{prefix}{n}" for n in ("fay", "ana", "ben"))
    for name in names:
        world.person(name)
    facilitator, *members = (world.people[name] for name in names)
    await facilitator.slash(world.lobby, "group create", name="Circle", capacity=8)
    for member in members:
        await member.slash(world.lobby, "group join", group="Circle")
    circle = Circle(world, facilitator, members, world.channel("circle"), world.channel("Circle"))
    for person in circle.everyone:
        await person.join_voice(circle.voice)
        await env.advance_time(1)
    return circle


async def start_hot_seat(circle: Circle) -> None:
    await circle.facilitator.slash(
        circle.text, "session start", group="Circle", format="hotseat", turn_minutes=4
    )


def questions(circle: Circle) -> list[str]:
    return [m for m in circle.messages() if m.startswith("❓ Clarifying questions")]


async def stored(bot: MastermindBot, session_id: int) -> tuple[int, int]:
    """(version, outbox rows) of a session in the database."""
    row = await bot.storage.sessions.get(session_id)
    assert row is not None
    return row.version, len(await bot.storage.outbox.of_scope(f"session:{session_id}"))


async def switch(env: Env, settings: Settings, **shards: object) -> MastermindBot:
    """Restart on the same database as a process running other shards."""
    return await replace_bot(env, create_bot(settings.model_copy(update=shards)))


class TestShards:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"shard_count": 2, "shard_ids": [0, 1]})

    async def test_a_process_runs_only_its_own_shards_sessions(
        self, simcord_env: Env, settings: Settings
    ) -> None:
        env = simcord_env
        ours = await circle_on_shard(env, 0, "a")
        theirs = await circle_on_shard(env, 1, "b")
        assert shard_of(ours.world.guild.id, 2) == 0 and shard_of(theirs.world.guild.id, 2) == 1
        await start_hot_seat(ours)
        ours_at = env.now()
        await env.advance_time(30)
        await start_hot_seat(theirs)
        theirs_at = env.now()
        await env.advance_time(5)
        before = await stored(bot_of(env), 2)
        seen = theirs.messages()
        holder = live(env, 2).floor_holder()

        # A process for shard 0 alone: it adopts and advances shard 0's session only.
        bot = await switch(env, settings, shard_ids=[0])
        assert bot.shard_set.ids == (0,) and bot.shard_count == 2
        assert is_live(env, 1) and not is_live(env, 2)
        assert bot.timers.pending(TIMER_KIND, 2) is None
        await env.advance_time(30)
        assert len(questions(ours)) == 1
        assert ours.text.history()[-1].created_at == ours_at + timedelta(seconds=60)
        assert await stored(bot, 2) == before
        assert theirs.messages() == seen

        # Both shards again: shard 1's session resumes with the time it had left.
        await switch(env, settings, shard_ids=[0, 1])
        assert live(env, 2).floor_holder() == holder
        deadline = theirs_at + timedelta(seconds=60)
        await env.advance_time((deadline - env.now()).total_seconds() - 1)
        assert questions(theirs) == []
        await env.advance_time(1)
        assert len(questions(theirs)) == 1
        assert theirs.text.history()[-1].created_at == deadline
        assert len(questions(ours)) == 1


async def second_process(
    settings: Settings, clock_ahead: float = 0.0, *, env: Env
) -> SessionRunner:
    """Another process on the same database and shard, with no gateway of its own here: its
    runner adopts the live sessions as at start-up and is driven directly."""
    skew = timedelta(seconds=clock_ahead)

    def clock() -> datetime:
        return env.now() + skew

    other = create_bot(settings, clock=clock)
    await other.storage.open()
    runner = SessionRunner(other)
    await runner.load()
    await runner.resume()
    return runner


async def test_two_processes_woken_for_one_deadline_make_one_transition(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await circle_on_shard(env, 0, "a")
    await start_hot_seat(circle)
    bot = bot_of(env)
    other = await second_process(settings, env=env)
    try:
        assert other.service.get(1) == live(env)
        version, rows = await stored(bot, 1)

        # The gateway process's timer goes first; the other wakes at the same instant.
        await env.advance_time(60)
        await other._on_due(1, env.now())
        assert len(questions(circle)) == 1
        after, after_rows = await stored(bot, 1)
        assert after == version + 1 and after_rows > rows
        # The loser wrote and announced nothing, and carries on from the stored state.
        assert other.service.get(1) == live(env)
        assert other.bot.timers.pending(TIMER_KIND, 1) == live(env).next_due()
        await env.settle()
        assert len(questions(circle)) == 1
    finally:
        await other.bot.storage.close()


async def test_the_process_that_loses_the_race_announces_nothing(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await circle_on_shard(env, 0, "a")
    await start_hot_seat(circle)
    bot = bot_of(env)
    # The other machine's clock runs a little ahead: it takes the deadline first.
    other = await second_process(settings, clock_ahead=0.5, env=env)
    try:
        version, rows = await stored(bot, 1)
        await env.advance_time(59.7)
        await other._on_due(1, other.bot.clock())
        won = other.service.get(1)
        assert won is not None and won != live(env)
        after, after_rows = await stored(bot, 1)
        assert after == version + 1 and after_rows > rows

        # The gateway process's timer falls due now: its save is stale, so it reloads.
        await env.advance_time(0.3)
        assert await stored(bot, 1) == (after, after_rows)
        assert live(env) == won
        assert questions(circle) == []
        # The winner's rows are delivered once (here by this process's dispatcher, which
        # stands in for the other's: that one has no connection to this Discord).
        bot.outbox.kick("session:1")
        await bot.outbox.settled("session:1")
        assert len(questions(circle)) == 1
        assert bot.timers.pending(TIMER_KIND, 1) == won.next_due()
        assert cog_of(env).service.get(1) == won
    finally:
        await other.bot.storage.close()


async def test_a_group_gets_one_live_session_whichever_process_starts_it(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await circle_on_shard(env, 0, "a")
    other = await second_process(settings, env=env)  # up before the session starts
    try:
        await start_hot_seat(circle)
        group = await other.bot.storage.groups.get(cog_of(env).service.group_of(1) or 0)
        assert group is not None and other.service.session_for_group(group.id) is None
        config = live(env).config
        with pytest.raises(UserError, match="already has a live session"):
            await other.start(
                group,
                started_by=circle.facilitator.id,
                config=config,
                present=[(circle.facilitator.id, env.now())],
                seed=1,
            )
        rows = await other.bot.storage.db.fetch_all("SELECT id FROM sessions")
        assert [row["id"] for row in rows] == [1]
    finally:
        await other.bot.storage.close()
