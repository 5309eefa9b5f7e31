"""Start-up is isolated: one feature failing to re-arm never stops another group's meeting.

The failing feature is the schedule: after a restart its re-arm cannot read a group's schedule
(the time zone it was stored with is unknown to the installed time-zone database, as after a
tzdata update that dropped a zone). Before the isolation, that one exception in the ready
hooks left every live session without timers: nobody was ever handed the floor again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from simcord import Env

from bot import Settings
from tests.e2e.helpers import reply_text, storage_of
from tests.e2e.session_helpers import bot_of, live, make_circle, restart


async def test_a_schedule_that_cannot_rearm_does_not_stop_another_groups_hand_overs(
    simcord_env: Env, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    created = await fay.slash(circle.world.lobby, "group create", name="Owls", timezone="UTC")
    assert "Owls" in reply_text(created)
    scheduled = await fay.slash(
        circle.world.lobby, "schedule set", group="Owls", weekday="Tuesday", time="09:00"
    )
    assert "Tuesday" in reply_text(scheduled)
    await fay.slash(
        circle.text,
        "session start",
        group="Circle",
        format="roundrobin",
        turn_minutes=2,
        order="joined",
    )
    assert live(env).floor_holder() == fay.id
    await storage_of(env).db.execute("UPDATE schedules SET timezone = 'Atlantis/Poseidonia'")

    with caplog.at_level(logging.ERROR, logger="core.timers"):
        await restart(env, settings)

    # Circle's meeting goes on, on time, from the restored deadlines.
    for speaker in (ana, ben, cy):
        deadline = live(env).floor_deadline()
        assert deadline is not None
        await env.advance_time((deadline - env.now()).total_seconds())
        # The newest announcement (a re-posted panel may follow it).
        last = [m for m in circle.text.history() if m.content.startswith("🎙️")][-1]
        assert last.content.startswith(f"🎙️ {speaker.mention}, it's your turn")
        assert last.created_at == deadline
    assert [record.outcome.value for record in live(env).records] == ["timeout"] * 3
    assert any("re-arming schedule timers failed" in r.getMessage() for r in caplog.records)

    # The schedule's re-arm is tried again by the timer loop; once its row can be read, the
    # group's schedule is looked after again (its next check is armed).
    bot = bot_of(env)
    owls = await storage_of(env).groups.by_name(circle.world.guild.id, "Owls")
    assert owls is not None
    assert bot.timers.pending("schedule", owls.id) is None
    await storage_of(env).db.execute("UPDATE schedules SET timezone = 'UTC'")
    await env.advance_time(300)
    assert bot.timers.pending("schedule", owls.id) is not None


async def test_an_unloaded_feature_leaves_no_hooks_or_timers_behind(simcord_env: Env) -> None:
    env = simcord_env
    bot = bot_of(env)
    before = {hook.name: len(hook) for hook in bot.hooks.hooks()}
    bot.timers.schedule("feedback_close", 1, env.now() + timedelta(days=3))
    await bot.unload_extension("cogs.feedback")
    after = {hook.name: len(hook) for hook in bot.hooks.hooks()}
    assert after["announce extra"] == before["announce extra"] - 1 == 0
    assert after["group info"] == before["group info"]
    assert bot.timers.pending("feedback_close", 1) is None, "its timers went with it"
    assert not bot.outbox.handles("session.feedback"), "and its kind of outbox row"

    await bot.load_extension("cogs.feedback")
    assert {hook.name: len(hook) for hook in bot.hooks.hooks()} == before
    assert bot.outbox.handles("session.feedback")


async def test_an_unloaded_feature_leaves_no_outbox_collapse_behind(simcord_env: Env) -> None:
    env = simcord_env
    bot = bot_of(env)
    assert bot.outbox.collapses("schedule:7") and bot.outbox.collapses("session:7")
    await bot.unload_extension("cogs.schedule")
    assert not bot.outbox.collapses("schedule:7"), "the schedule took its collapse with it"
    assert bot.outbox.collapses("session:7")
    await bot.load_extension("cogs.schedule")
    assert bot.outbox.collapses("schedule:7")

    # The session runner's own unload (the sessions cog's), without re-importing the cog.
    runner = bot.session_runner
    assert runner is not None
    runner.unload()
    assert not bot.outbox.collapses("session:7")
    assert bot.outbox.collapses("schedule:7")
    await runner.load()
    assert bot.outbox.collapses("session:7")
