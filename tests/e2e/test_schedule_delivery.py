"""Schedule reminders and events through the outbox, in virtual time: a failing POST is
retried and the reminder still lands once before the meeting; a crash between the commit and
the post loses nothing and doubles nothing; a reminder held up past the next one is dropped
for it; an event create that fails is retried and exactly one event exists, also across a
crash; a refusal (403) is reported once to the facilitators."""

from __future__ import annotations

from datetime import timedelta

from simcord import Env

from bot import Settings
from cogs.schedule._keeper import REMINDER_KIND, RETRY_REFUSED, scope_of
from tests.e2e.test_schedule import (
    FIRST,
    LONG_ADVANCES,
    WEEK,
    Owls,
    bot_of,
    close_database,  # noqa: F401  (an autouse fixture: closes the last bot's database)
    owls,
    restart,
    start_of,
)

pytestmark = LONG_ADVANCES

DAY_BEFORE = FIRST - timedelta(hours=24)
QUARTER_BEFORE = FIRST - timedelta(minutes=15)


async def crash(env: Env) -> None:
    """The process stops: nothing of the old bot runs any more (SimCord leaves it attached)."""
    old = bot_of(env)
    await old.timers.stop()
    await old.outbox.stop()


def reminder_posts(group: Owls) -> list[dict[str, object]]:
    """Every attempt (failed ones too) to post a reminder in the group channel."""
    return [
        r.json or {}
        for r in group.env.http_requests
        if r.method == "POST"
        and r.path == f"/channels/{group.text.id}/messages"
        and str((r.json or {}).get("content", "")).startswith(
            ("Reminder: **Night Owls**", "**Night Owls** starts")
        )
    ]


async def reminder_rows(group: Owls) -> list[tuple[str, str]]:
    rows = await bot_of(group.env).storage.outbox.of_scope(scope_of(1))
    return [(str(r.payload["kind"]), r.state) for r in rows if r.kind == REMINDER_KIND]


async def test_a_reminder_whose_post_fails_is_posted_once_shortly_after(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    await group.set()
    await group.advance_to(DAY_BEFORE - timedelta(seconds=1))
    simcord_env.inject_error("POST", f"/channels/{group.text.id}/messages", status=500)

    await simcord_env.advance_time(1)
    assert group.reminders() == []
    await simcord_env.advance_time(3)

    assert [(k, at) for k, at, _ in group.reminders()] == [("24h", FIRST)]
    ((_, _, posted),) = group.reminders()
    assert posted - DAY_BEFORE <= timedelta(seconds=3)
    attempts = reminder_posts(group)
    assert len(attempts) == 2, "the failed attempt and the retry"
    assert attempts[0]["nonce"] == attempts[1]["nonce"], "a retry carries the same nonce"
    assert await reminder_rows(group) == [("24h", "done")]


async def test_posts_failing_for_minutes_still_remind_once_before_the_meeting(
    simcord_env: Env,
) -> None:
    group = await owls(simcord_env)
    await group.set()
    await group.advance_to(QUARTER_BEFORE - timedelta(minutes=1))
    assert [kind for kind, *_ in group.reminders()] == ["24h"]
    simcord_env.inject_error("POST", f"/channels/{group.text.id}/messages", status=503, times=None)

    await group.advance_to(QUARTER_BEFORE + timedelta(minutes=6))
    simcord_env.backend.faults.clear()
    await group.advance_to(FIRST + timedelta(hours=1))

    quarter = [(at, posted) for kind, at, posted in group.reminders() if kind == "15m"]
    assert len(quarter) == 1
    assert quarter[0][1] < FIRST, "posted before the meeting starts"
    assert len({str(p["nonce"]) for p in reminder_posts(group)[1:]}) == 1


async def test_a_crash_between_the_commit_and_the_post_still_posts_once(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    await group.set()
    await group.advance_to(DAY_BEFORE - timedelta(seconds=1))
    simcord_env.inject_error("POST", f"/channels/{group.text.id}/messages", status=500, times=None)
    await simcord_env.advance_time(1)
    # Recorded as sent, with its outbox row still to deliver, when the process goes away.
    assert await bot_of(simcord_env).storage.schedules.sent_reminders(1, FIRST) == {"24h"}
    assert await reminder_rows(group) == [("24h", "pending")]

    await crash(simcord_env)
    simcord_env.backend.faults.clear()
    await restart(simcord_env, settings)
    await simcord_env.advance_time(10)  # the retry falls due a few seconds after the failure

    assert [(k, at) for k, at, _ in group.reminders()] == [("24h", FIRST)]
    await group.advance_to(FIRST + timedelta(hours=2))
    assert [kind for kind, *_ in group.reminders()] == ["24h", "15m"]
    day_before = [p for p in reminder_posts(group) if str(p["content"]).startswith("Reminder:")]
    assert len(day_before) >= 2 and len({str(p["nonce"]) for p in day_before}) == 1


async def test_a_reminder_held_up_past_the_next_one_is_dropped_for_it(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    await group.set()
    await group.advance_to(DAY_BEFORE - timedelta(seconds=1))
    simcord_env.inject_error("POST", f"/channels/{group.text.id}/messages", status=500, times=None)
    await group.advance_to(QUARTER_BEFORE + timedelta(seconds=30))
    assert group.reminders() == []

    # Discord answers again, and the bot restarts: one reminder, the latest, once.
    await crash(simcord_env)
    simcord_env.backend.faults.clear()
    await restart(simcord_env, settings)
    await simcord_env.advance_time(60)

    assert [(k, at) for k, at, _ in group.reminders()] == [("15m", FIRST)]
    assert await reminder_rows(group) == [("24h", "dropped"), ("15m", "done")]
    await group.advance_to(FIRST + timedelta(hours=1))
    assert len(group.reminders()) == 1


async def test_a_reminder_due_while_the_bot_was_down_is_posted_once_at_start_up(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    await group.set()
    await bot_of(simcord_env).timers.stop()
    await group.advance_to(DAY_BEFORE + timedelta(hours=2))

    await restart(simcord_env, settings)
    await simcord_env.advance_time(1)
    await restart(simcord_env, settings)
    await simcord_env.advance_time(1)

    assert [(k, at) for k, at, _ in group.reminders()] == [("24h", FIRST)]
    assert await reminder_rows(group) == [("24h", "done")]


async def test_a_refused_reminder_is_reported_once_to_the_facilitators(
    simcord_env: Env,
) -> None:
    group = await owls(simcord_env)
    await group.set()
    simcord_env.inject_error(
        "POST",
        f"/channels/{group.text.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
        times=None,
    )
    await group.advance_to(FIRST + timedelta(minutes=1))

    assert group.reminders() == []
    assert await reminder_rows(group) == [("24h", "failed"), ("15m", "failed")]
    # The facilitator (fay) hears it once, by DM since the channel refuses posts; ben not.
    told = [m.content for m in group.fay.user.dm_channel.history()]
    assert len(told) == 1
    assert "meeting reminder" in told[0] and "Send Messages" in told[0]
    assert group.ben.user.dm_channel.history() == []


EVENTS = "/guilds/*/scheduled-events"


async def test_an_event_create_that_fails_is_retried_and_exactly_one_exists(
    simcord_env: Env,
) -> None:
    group = await owls(simcord_env)
    simcord_env.inject_error("POST", EVENTS, status=500)

    text = await group.set()

    assert "I could not create the Discord event yet; I will keep trying." in text
    await simcord_env.advance_time(3)
    event = group.event()  # exactly one
    creates = [r for r in simcord_env.http_requests if r.method == "POST" and "scheduled" in r.path]
    assert len(creates) == 2, "the failed create and its retry"
    schedule = await bot_of(simcord_env).storage.schedules.get(1)
    assert schedule is not None and schedule.event_id == event.id  # type: ignore[attr-defined]
    await group.advance_to(FIRST - timedelta(minutes=15))
    assert [e.id for e in group.events()] == [event.id]  # type: ignore[attr-defined]


async def test_an_event_made_but_not_recorded_before_a_crash_is_reused(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    await group.set()
    made = group.event()
    # The process stopped after Discord made the event and before the id was committed.
    await crash(simcord_env)
    await bot_of(simcord_env).storage.schedules.set_event(1, None, None)

    await restart(simcord_env, settings)
    await simcord_env.advance_time(1)

    assert [e.id for e in group.events()] == [made.id]  # type: ignore[attr-defined]
    schedule = await bot_of(simcord_env).storage.schedules.get(1)
    assert schedule is not None and schedule.event_id == made.id  # type: ignore[attr-defined]


async def test_event_posts_failing_across_a_restart_still_make_one_event(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    simcord_env.inject_error("POST", EVENTS, status=503, times=None)
    await group.set()
    await simcord_env.advance_time(120)
    assert group.events() == []

    await crash(simcord_env)
    simcord_env.backend.faults.clear()
    await restart(simcord_env, settings)
    await simcord_env.advance_time(600)

    assert start_of(group.event()) == FIRST


async def test_a_skip_whose_delete_fails_still_leaves_one_event(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    await group.set()
    old = group.event()
    simcord_env.inject_error("DELETE", f"{EVENTS}/*", status=500)

    result = await group.fay.slash(group.world.lobby, "schedule skip", group="Night Owls")
    assert result.ephemeral
    await simcord_env.advance_time(5)

    deletes = [
        r for r in simcord_env.http_requests if r.method == "DELETE" and "scheduled" in r.path
    ]
    assert len(deletes) == 2, "the failed delete and its retry"
    (kept,) = group.events()
    assert kept.id != old.id and start_of(kept) == FIRST + WEEK  # type: ignore[attr-defined]


async def test_a_lost_manage_events_permission_is_reported_once(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    simcord_env.inject_error(
        "POST", EVENTS, status=403, code=50013, message="Missing Permissions", times=None
    )
    await group.set()
    set_at = simcord_env.now()
    await group.advance_to(FIRST - timedelta(hours=30))

    assert group.events() == []
    creates = [r for r in simcord_env.http_requests if r.method == "POST" and "scheduled" in r.path]
    assert len(creates) > 2, "tried again later, told only once"
    # ...but not every quarter of an hour: a refusal is not fixed in minutes.
    assert len(creates) <= (simcord_env.now() - set_at) / RETRY_REFUSED + 2
    told = [m.content for m in group.text.history() if "Manage Events" in m.content]
    assert len(told) == 1 and "Discord event" in told[0]


async def test_a_schedule_notice_that_fails_once_is_posted_once(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    simcord_env.inject_error("POST", f"/channels/{group.text.id}/messages", status=500)

    await group.set()
    await simcord_env.advance_time(5)

    notices = [m for m in group.text.history() if "set the meeting schedule" in m.content]
    assert len(notices) == 1
    posts = [
        r.json or {}
        for r in simcord_env.http_requests
        if r.method == "POST" and r.path == f"/channels/{group.text.id}/messages"
    ]
    assert len(posts) == 2 and posts[0]["nonce"] == posts[1]["nonce"]
    allowed = posts[1]["allowed_mentions"]
    assert isinstance(allowed, dict) and allowed.get("parse") == [] and not allowed.get("users")
