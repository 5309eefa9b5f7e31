"""`/schedule` end to end in virtual time: the Discord event, reminders, skips, restarts,
daylight saving time, the calendar file, finding a time, and every refusal.

SimCord's clock starts on Thursday 2026-01-01 00:00Z (Wednesday 19:00 in Toronto, UTC-5).
A weekly Tuesday 09:00 America/Toronto meeting is first on 2026-01-06 at 14:00Z.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import discord
import icalendar
import pytest
from simcord import ChannelHandle, Env, MemberActor

from bot import MastermindBot, Settings, create_bot
from tests.e2e.helpers import World, make_world, refused, replace_bot, reply_embed, reply_text

START = datetime(2026, 1, 1, tzinfo=UTC)
FIRST = datetime(2026, 1, 6, 14, tzinfo=UTC)  # Tuesday 09:00 EST
WEEK = timedelta(weeks=1)

# An advance over weeks of a schedule runs hundreds of timer steps, each with database work in
# real time; SimCord's default of 5 s of real time for one call is too short for that on
# PostgreSQL on a busy machine. A bot that really hangs still fails, after 30 s.
LONG_ADVANCES = pytest.mark.simcord(settle_timeout=30)
pytestmark = LONG_ADVANCES


def ts(instant: datetime) -> int:
    return int(instant.timestamp())


def full(instant: datetime) -> str:
    return f"<t:{ts(instant)}:F>"


def relative(instant: datetime) -> str:
    return f"<t:{ts(instant)}:R>"


def bot_of(env: Env) -> MastermindBot:
    bot = env.bot
    assert isinstance(bot, MastermindBot)
    return bot


@pytest.fixture(autouse=True)
async def close_database(simcord_env: Env) -> AsyncIterator[None]:
    """SimCord never calls `bot.close()`: close the last bot's database after the test."""
    yield
    bot = bot_of(simcord_env)
    await bot.stop_work()
    await bot.storage.close()


async def restart(env: Env, settings: Settings) -> None:
    """A new bot on the same database, as after a crash or a deploy; the old one's database
    connection is closed (SimCord detaches the old bot without closing it)."""
    await replace_bot(env, create_bot(settings))


@dataclass
class Owls:
    env: Env
    world: World
    fay: MemberActor  # the facilitator
    ben: MemberActor  # a member
    text: ChannelHandle
    voice: ChannelHandle

    async def set(self, **options: object) -> str:
        options = {"group": "Night Owls", "weekday": "Tuesday", "time": "09:00", **options}
        result = await self.fay.slash(self.world.lobby, "schedule set", **options)
        assert result.ephemeral
        return reply_text(result)

    def events(self, *, status: int | None = 1) -> list[object]:
        """The guild's scheduled events on Discord (by default only those still to start)."""
        found = self.env.backend.get_guild(self.world.guild.id).scheduled_events.values()
        return [e for e in found if status is None or e.status == status]

    def event(self) -> object:
        (only,) = self.events()
        return only

    def reminders(self) -> list[tuple[str, datetime, datetime]]:
        """(kind, meeting start, when it was posted) of every reminder in the group channel."""
        found = []
        for message in self.text.history():
            content = message.content
            if content.startswith("Reminder: **Night Owls** meets <t:"):
                kind = "24h"
            elif content.startswith("**Night Owls** starts <t:"):
                kind = "15m"
            else:
                continue
            unix = int(content.split("<t:", 1)[1].split(":", 1)[0])
            found.append((kind, datetime.fromtimestamp(unix, UTC), message.created_at))
        return found

    async def advance_to(self, instant: datetime) -> None:
        seconds = (instant - self.env.now()).total_seconds()
        assert seconds >= 0
        await self.env.advance_time(seconds)


def start_of(event: object) -> datetime:
    return datetime.fromisoformat(event.scheduled_start_time)  # type: ignore[attr-defined]


def end_of(event: object) -> datetime:
    return datetime.fromisoformat(event.scheduled_end_time)  # type: ignore[attr-defined]


async def owls(env: Env, timezone: str | None = "America/Toronto") -> Owls:
    world = make_world(env, "fay", "ben", "cy")
    fay, ben = world.people["fay"], world.people["ben"]
    options: dict[str, object] = {"name": "Night Owls", "capacity": 6}
    if timezone:
        options["timezone"] = timezone
    await fay.slash(world.lobby, "group create", **options)
    await ben.slash(world.lobby, "group join", group="Night Owls")
    return Owls(env, world, fay, ben, world.channel("night-owls"), world.channel("Night Owls"))


async def test_set_creates_the_event_at_the_right_instant(simcord_env: Env) -> None:
    group = await owls(simcord_env)

    text = await group.set()

    assert "Every week on Tuesday at 09:00 (America/Toronto), 90 min" in text
    assert f"Next meeting: {full(FIRST)} ({relative(FIRST)})" in text
    event = group.event()
    assert start_of(event) == FIRST  # 09:00 in Toronto is 14:00Z in January
    assert end_of(event) == FIRST + timedelta(minutes=90)
    assert event.entity_type == 2  # type: ignore[attr-defined]  # voice
    assert event.channel_id == group.voice.id  # type: ignore[attr-defined]
    assert event.name == "Night Owls · Mastermind meeting"  # type: ignore[attr-defined]
    assert f"/events/{group.world.guild.id}/{event.id}" in text  # type: ignore[attr-defined]
    # The group is told in its own channel, without pinging anyone.
    notice = group.text.history()[-1].content
    assert "set the meeting schedule" in notice and full(FIRST) in notice

    shown = await group.ben.slash(group.world.lobby, "schedule show", group="night owls")
    lines = reply_text(shown).splitlines()
    assert lines[0] == "**Night Owls** · Every week on Tuesday at 09:00 (America/Toronto), 90 min."
    assert lines[1:4] == [
        "Next meetings:",
        f"• {full(FIRST)} ({relative(FIRST)})",
        f"• {full(FIRST + WEEK)} ({relative(FIRST + WEEK)})",
    ]
    assert lines[4] == f"• {full(FIRST + 2 * WEEK)} ({relative(FIRST + 2 * WEEK)})"

    info = await group.ben.slash(group.world.lobby, "group info", group="Night Owls")
    fields = {f.name: f.value for f in reply_embed(info).fields}
    assert fields["Next meeting"] == full(FIRST)


async def test_reminders_come_on_time_once_and_the_next_event_follows(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    await group.set()

    await group.advance_to(FIRST - timedelta(hours=24, seconds=1))
    assert group.reminders() == []
    await simcord_env.advance_time(1)
    assert group.reminders() == [("24h", FIRST, FIRST - timedelta(hours=24))]
    message = group.text.history()[-1].content
    assert message == f"Reminder: **Night Owls** meets {full(FIRST)} ({relative(FIRST)})."

    await group.advance_to(FIRST - timedelta(minutes=15))
    assert group.reminders()[-1] == ("15m", FIRST, FIRST - timedelta(minutes=15))
    assert full(FIRST) in group.text.history()[-1].content

    # During the meeting the event is live and no new one exists yet.
    await group.advance_to(FIRST + timedelta(minutes=89))
    assert [start_of(e) for e in group.events(status=None)] == [FIRST]
    # Once it is over (start + 90 min), the event for next week is created.
    await group.advance_to(FIRST + timedelta(minutes=90))
    assert start_of(group.event()) == FIRST + WEEK

    await group.advance_to(FIRST + WEEK + timedelta(hours=2))
    assert group.reminders() == [
        ("24h", FIRST, FIRST - timedelta(hours=24)),
        ("15m", FIRST, FIRST - timedelta(minutes=15)),
        ("24h", FIRST + WEEK, FIRST + WEEK - timedelta(hours=24)),
        ("15m", FIRST + WEEK, FIRST + WEEK - timedelta(minutes=15)),
    ]
    assert start_of(group.event()) == FIRST + 2 * WEEK
    # Reminders ping nobody: every bot post in the channel allows no mentions.
    posts = [
        r.json
        for r in simcord_env.http_requests
        if r.method == "POST" and r.path == f"/channels/{group.text.id}/messages"
    ]
    assert len(posts) == 5  # the schedule notice and four reminders
    for post in posts:
        allowed = (post or {}).get("allowed_mentions") or {}
        assert allowed.get("parse") == [] and not allowed.get("users")


async def test_reminders_are_sent_once_across_restarts(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    await group.set()
    await group.advance_to(FIRST - timedelta(hours=20))
    assert [kind for kind, *_ in group.reminders()] == ["24h"]

    await restart(simcord_env, settings)
    await simcord_env.advance_time(60)
    assert [kind for kind, *_ in group.reminders()] == ["24h"]  # not sent again
    assert len(group.events()) == 1  # the start-up check made no second event

    await group.advance_to(FIRST - timedelta(minutes=15))
    assert [kind for kind, *_ in group.reminders()] == ["24h", "15m"]
    await restart(simcord_env, settings)
    await group.advance_to(FIRST + timedelta(hours=2))
    assert group.reminders() == [
        ("24h", FIRST, FIRST - timedelta(hours=24)),
        ("15m", FIRST, FIRST - timedelta(minutes=15)),
    ]
    assert start_of(group.event()) == FIRST + WEEK


async def test_down_past_both_reminders_posts_only_a_late_15_minute_one(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    await group.set()
    # The bot's timers stop (it is down) from two days before until 10 min before the meeting.
    await bot_of(simcord_env).timers.stop()
    await group.advance_to(FIRST - timedelta(minutes=10))
    assert group.reminders() == []

    await restart(simcord_env, settings)
    await simcord_env.advance_time(1)

    assert group.reminders() == [("15m", FIRST, FIRST - timedelta(minutes=10))]
    await group.advance_to(FIRST + timedelta(hours=1))
    assert len(group.reminders()) == 1


async def test_down_until_the_meeting_started_posts_no_reminder(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    await group.set()
    await bot_of(simcord_env).timers.stop()
    await group.advance_to(FIRST + timedelta(hours=2))

    await restart(simcord_env, settings)
    await simcord_env.advance_time(1)

    assert group.reminders() == []
    # The start-up check moved on to next week's meeting.
    assert start_of(group.event()) == FIRST + WEEK
    await group.advance_to(FIRST + WEEK - timedelta(minutes=15))
    assert [kind for kind, *_ in group.reminders()] == ["24h", "15m"]


async def test_setting_again_replaces_the_schedule_and_moves_the_event(
    simcord_env: Env,
) -> None:
    group = await owls(simcord_env)
    await group.set()
    first_event = group.event()

    # It is Wednesday 19:00 in Toronto; Thursday 18:30 is tomorrow, 23:30Z.
    text = await group.set(weekday="thu", time="18:30", every_weeks=2, duration=60)

    thursday = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)
    assert text.startswith("Changed the schedule of **Night Owls**")
    assert "Every 2 weeks on Thursday at 18:30 (America/Toronto), 60 min" in text
    event = group.event()
    assert event.id == first_event.id  # type: ignore[attr-defined]  # the same event, moved
    assert (start_of(event), end_of(event)) == (thursday, thursday + timedelta(minutes=60))
    # The 24 h reminder's time was already past when the schedule was set: not posted late.
    await group.advance_to(thursday + timedelta(hours=1))
    assert group.reminders() == [("15m", thursday, thursday - timedelta(minutes=15))]
    assert start_of(group.event()) == thursday + 2 * WEEK
    assert FIRST not in [start for _, start, _ in group.reminders()]


async def test_skip_moves_the_event_and_silences_the_skipped_meeting(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    await group.set()
    skipped_event = group.event()

    result = await group.fay.slash(group.world.lobby, "schedule skip", group="Night Owls")

    assert result.ephemeral
    assert f"Skipped the meeting of {full(FIRST)}" in reply_text(result)
    assert f"The next one is {full(FIRST + WEEK)}" in reply_text(result)
    # The skipped meeting's event is deleted; one for the following meeting replaces it.
    assert [e.id for e in group.events(status=None)] != [skipped_event.id]  # type: ignore[attr-defined]
    assert start_of(group.event()) == FIRST + WEEK
    assert len(group.events(status=None)) == 1
    assert "skipped the meeting of" in group.text.history()[-1].content
    shown = reply_text(
        await group.ben.slash(group.world.lobby, "schedule show", group="Night Owls")
    )
    assert f"• {full(FIRST)}" not in shown
    assert f"• {full(FIRST + WEEK)}" in shown and f"• {full(FIRST + 3 * WEEK)}" in shown
    assert f"Skipped: {full(FIRST)}" in shown
    info = await group.ben.slash(group.world.lobby, "group info", group="Night Owls")
    assert {f.name: f.value for f in reply_embed(info).fields}["Next meeting"] == full(FIRST + WEEK)

    await group.advance_to(FIRST + WEEK + timedelta(hours=2))
    assert group.reminders() == [
        ("24h", FIRST + WEEK, FIRST + WEEK - timedelta(hours=24)),
        ("15m", FIRST + WEEK, FIRST + WEEK - timedelta(minutes=15)),
    ]
    assert start_of(group.event()) == FIRST + 2 * WEEK


async def test_clear_deletes_the_event_and_stops_reminders(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    await group.set()
    assert len(group.events()) == 1

    result = await group.fay.slash(group.world.lobby, "schedule clear", group="Night Owls")

    assert result.ephemeral and "Cleared the schedule" in reply_text(result)
    assert group.events(status=None) == []
    await group.advance_to(FIRST + 2 * WEEK)
    assert group.reminders() == []
    assert group.events(status=None) == []
    await refused(
        simcord_env,
        group.ben.slash(group.world.lobby, "schedule show", group="Night Owls"),
        "no meeting schedule",
    )
    info = await group.ben.slash(group.world.lobby, "group info", group="Night Owls")
    assert "Next meeting" not in {f.name for f in reply_embed(info).fields}


async def test_an_event_deleted_by_hand_is_recreated_once(
    simcord_env: Env, settings: Settings
) -> None:
    group = await owls(simcord_env)
    await group.set()
    original = group.event()

    simcord_env.backend.delete_scheduled_event(group.world.guild.id, original.id)  # type: ignore[attr-defined]
    await simcord_env.settle()

    recreated = group.event()  # exactly one
    assert recreated.id != original.id  # type: ignore[attr-defined]
    assert start_of(recreated) == FIRST and recreated.channel_id == group.voice.id  # type: ignore[attr-defined]
    # Neither a restart (the start-up check) nor the next timer adds a second one.
    await restart(simcord_env, settings)
    await simcord_env.advance_time(60)
    assert [e.id for e in group.events()] == [recreated.id]  # type: ignore[attr-defined]
    await group.advance_to(FIRST - timedelta(minutes=15))
    assert [e.id for e in group.events()] == [recreated.id]  # type: ignore[attr-defined]
    assert [kind for kind, *_ in group.reminders()] == ["24h", "15m"]

    # Deleted while the bot was not listening (no gateway event reached it): the start-up
    # check finds it missing and makes it again, once.
    await group.advance_to(FIRST + timedelta(hours=2))
    missed = group.event()
    assert start_of(missed) == FIRST + WEEK
    del simcord_env.backend.get_guild(group.world.guild.id).scheduled_events[missed.id]  # type: ignore[attr-defined]
    await restart(simcord_env, settings)
    await simcord_env.advance_time(1)
    again = group.event()
    assert again.id != missed.id and start_of(again) == FIRST + WEEK  # type: ignore[attr-defined]


async def test_an_event_cancelled_by_hand_is_made_again(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    await group.set()
    original = group.event()

    # Cancelling in Discord's app sets the status to 4 (cancelled).
    simcord_env.backend.edit_scheduled_event(
        group.world.guild.id,
        original.id,  # type: ignore[attr-defined]
        {"status": 4},
    )
    await simcord_env.settle()

    remade = group.event()
    assert remade.id != original.id and start_of(remade) == FIRST  # type: ignore[attr-defined]


async def test_a_toronto_meeting_keeps_its_wall_time_across_dst(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    # Wednesday 2026-02-25; Toronto moves to daylight time on Sunday 2026-03-08.
    await group.advance_to(datetime(2026, 2, 25, 12, tzinfo=UTC))
    march_3 = datetime(2026, 3, 3, 14, tzinfo=UTC)  # 09:00 EST (UTC-5)
    march_10 = datetime(2026, 3, 10, 13, tzinfo=UTC)  # 09:00 EDT (UTC-4)

    await group.set()

    assert start_of(group.event()) == march_3
    shown = reply_text(
        await group.fay.slash(group.world.lobby, "schedule show", group="Night Owls")
    )
    assert [line for line in shown.splitlines() if line.startswith("• ")] == [
        f"• {full(march_3)} ({relative(march_3)})",
        f"• {full(march_10)} ({relative(march_10)})",
        f"• {full(march_10 + WEEK)} ({relative(march_10 + WEEK)})",
    ]
    await group.advance_to(march_3 + timedelta(minutes=90))
    event = group.event()
    assert (start_of(event), end_of(event)) == (march_10, march_10 + timedelta(minutes=90))
    await group.advance_to(march_10)
    assert group.reminders()[-2:] == [
        ("24h", march_10, march_10 - timedelta(hours=24)),
        ("15m", march_10, march_10 - timedelta(minutes=15)),
    ]


async def test_calendar_file_holds_the_recurring_meeting(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    await group.set(weekday="Tuesday", time="09:00", every_weeks=2, duration=60)
    await group.fay.slash(group.world.lobby, "schedule skip", group="Night Owls")

    result = await group.ben.slash(group.world.lobby, "schedule calendar", group="Night Owls")

    assert result.ephemeral
    message = result.followups[-1] if result.followups else result.response
    assert message is not None
    (attachment,) = message.attachments
    assert attachment.filename == "night-owls.ics"
    calendar = icalendar.Calendar.from_ical(await attachment.read())
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert (start.isoformat(), str(start.tzinfo)) == (
        "2026-01-06T09:00:00-05:00",
        "America/Toronto",
    )
    assert event.decoded("dtend") - start == timedelta(minutes=60)
    rule = event["rrule"]
    assert (rule["FREQ"], rule["INTERVAL"], rule["BYDAY"]) == (["WEEKLY"], [2], ["TU"])
    assert event["summary"] == "Night Owls (Mastermind)"
    exdates = [d.dt for d in event["exdate"].dts]
    assert [d.astimezone(UTC) for d in exdates] == [FIRST]
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["tzid"] == "America/Toronto"


async def calendar_event(group: Owls) -> icalendar.Event:
    result = await group.ben.slash(group.world.lobby, "schedule calendar", group="Night Owls")
    message = result.followups[-1] if result.followups else result.response
    assert message is not None
    (event,) = icalendar.Calendar.from_ical(await message.attachments[0].read()).walk("VEVENT")
    return event


def exdates_of(event: icalendar.Event) -> list[datetime]:
    if "exdate" not in event:
        return []
    found = event["exdate"]
    lists = found if isinstance(found, list) else [found]
    return [d.dt.astimezone(UTC) for item in lists for d in item.dts]


async def test_a_skipped_meeting_stays_excluded_and_every_change_raises_the_sequence(
    simcord_env: Env,
) -> None:
    group = await owls(simcord_env)
    await group.set()
    assert (await calendar_event(group))["sequence"] == 1
    await group.fay.slash(group.world.lobby, "schedule skip", group="Night Owls")
    event = await calendar_event(group)
    assert (event["sequence"], exdates_of(event)) == (2, [FIRST])

    # Days after the skipped meeting would have been, the file still leaves it out (a file
    # re-imported without it would bring it back); looking again changes nothing.
    await group.advance_to(FIRST + timedelta(days=3))
    event = await calendar_event(group)
    assert (event["sequence"], exdates_of(event)) == (2, [FIRST])
    # ...also after a restart-free week of the bot keeping the schedule.
    await group.advance_to(FIRST + timedelta(days=15))
    assert exdates_of(await calendar_event(group)) == [FIRST]

    # A new time is a change; the old series' skip is no meeting of the new one.
    await group.set(time="10:00")
    event = await calendar_event(group)
    assert (event["sequence"], exdates_of(event)) == (3, [])
    # Clearing and setting again are changes too: the file still supersedes the old one.
    await group.fay.slash(group.world.lobby, "schedule clear", group="Night Owls")
    await group.set(time="11:00")
    assert (await calendar_event(group))["sequence"] == 5


async def test_findtime_ranks_slots_across_three_continents(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    cy = group.world.people["cy"]
    dee = group.world.person("dee")
    for person in (cy, dee):
        await person.slash(group.world.lobby, "group join", group="Night Owls")
    # fay (the facilitator) has no profile: 08:00-20:00 in the group's zone, Toronto.
    await group.ben.slash(group.world.lobby, "profile set", timezone="America/Los_Angeles")
    await cy.slash(group.world.lobby, "profile set", timezone="Europe/Paris", hours="07:00-22:00")
    await dee.slash(group.world.lobby, "profile set", timezone="Australia/Brisbane")

    result = await group.fay.slash(group.world.lobby, "schedule findtime", group="Night Owls")

    assert result.ephemeral
    text = reply_text(result)
    lines = text.splitlines()
    assert lines[0] == (
        "**Weekly times for Night Owls** (90 min), in the group's zone America/Toronto "
        "(what `/schedule set` takes), best first:"
    )
    slots = [line for line in lines if line.startswith("**") and ". " in line[:6]]
    assert len(slots) == 3
    # In UTC: Toronto 13:00-01:00, LA 16:00-04:00, Paris 06:00-21:00, Brisbane 22:00-10:00.
    # No 90 minutes suit all four; the best slots suit three, each shown in local time.
    assert all("inside the hours of 3 of 4" in line for line in slots)
    fay, ben = group.fay, group.ben
    monday = datetime(2026, 1, 5, 16, tzinfo=UTC)  # 11:00 Toronto
    tuesday = datetime(2026, 1, 6, 22, tzinfo=UTC)  # 17:00 Toronto
    assert slots[0] == f"**1. Mon 11:00** · inside the hours of 3 of 4 · next {full(monday)}"
    assert lines[lines.index(slots[0]) + 1] == (
        f"<@{fay.id}> Mon 11:00 ✓ · <@{ben.id}> Mon 08:00 ✓ · <@{cy.id}> Mon 17:00 ✓ · "
        f"<@{dee.id}> Tue 02:00 ✗"
    )
    # Another set of three: Paris is past its 22:00, Brisbane is at breakfast.
    assert slots[1] == f"**2. Tue 17:00** · inside the hours of 3 of 4 · next {full(tuesday)}"
    assert lines[lines.index(slots[1]) + 1] == (
        f"<@{fay.id}> Tue 17:00 ✓ · <@{ben.id}> Tue 14:00 ✓ · <@{cy.id}> Tue 23:00 ✗ · "
        f"<@{dee.id}> Wed 08:00 ✓"
    )
    assert f"No profile yet for <@{fay.id}>: counted as 08:00-20:00 in America/Toronto." in text
    assert f"No hours set by <@{ben.id}>, <@{dee.id}>: counted as 08:00-20:00." in text


async def test_archiving_the_group_clears_its_schedule_and_event(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    mods = group.world.guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    mo = group.world.person("mo", roles=[mods])
    await group.set()
    assert len(group.events()) == 1

    await mo.slash(group.world.lobby, "group archive", group="Night Owls")

    assert group.events(status=None) == []
    await group.advance_to(FIRST + WEEK)
    assert group.reminders() == []
    await refused(
        simcord_env,
        mo.slash(group.world.lobby, "schedule show", group="Night Owls"),
        "no meeting schedule",
    )


async def test_bad_input_is_refused_and_changes_nothing(simcord_env: Env) -> None:
    group = await owls(simcord_env)
    fay, ben, lobby = group.fay, group.ben, group.world.lobby

    def set_by(actor: MemberActor, **options: object) -> object:
        options = {"group": "Night Owls", "weekday": "Tuesday", "time": "09:00", **options}
        return actor.slash(lobby, "schedule set", **options)

    await refused(simcord_env, set_by(fay, weekday="Funday"), "`Funday` is not a weekday")
    await refused(simcord_env, set_by(fay, timezone="Mars/Olympus"), "not a time zone")
    await refused(simcord_env, set_by(fay, time="25:00"), "`25:00` is not a time", "HH:MM")
    await refused(simcord_env, set_by(fay, time="9am"), "`9am` is not a time")
    await refused(simcord_env, set_by(fay, duration=20), "between 30 and 240 minutes")
    await refused(simcord_env, set_by(fay, duration=241), "between 30 and 240 minutes")
    await refused(simcord_env, set_by(fay, every_weeks=0), "every 1 to 4 weeks")
    await refused(simcord_env, set_by(fay, every_weeks=5), "every 1 to 4 weeks")
    await refused(simcord_env, set_by(ben), "Only a facilitator of **Night Owls**")
    await refused(simcord_env, set_by(fay, group="Nobody"), "no group called **Nobody**")
    for command in ("schedule skip", "schedule calendar", "schedule show", "schedule clear"):
        await refused(
            simcord_env,
            fay.slash(lobby, command, group="Night Owls"),
            "**Night Owls** has no meeting schedule",
        )
    await refused(
        simcord_env,
        ben.slash(lobby, "schedule skip", group="Night Owls"),
        "Only a facilitator",
    )
    await refused(
        simcord_env,
        fay.slash(lobby, "schedule findtime", group="Night Owls", duration=300),
        "between 30 and 240",
    )

    # Nothing was stored, no event made, nothing posted in the group channel.
    assert await bot_of(simcord_env).storage.schedules.all() == []
    assert group.events(status=None) == []
    assert group.reminders() == []
    assert not any("schedule" in m.content for m in group.text.history())


async def test_refusals_that_depend_on_the_group(simcord_env: Env) -> None:
    world = make_world(simcord_env, "fay", "ben")
    fay, ben = world.people["fay"], world.people["ben"]
    await fay.slash(world.lobby, "group create", name="Solo")  # no time zone, one member

    await refused(
        simcord_env,
        fay.slash(world.lobby, "schedule set", group="Solo", weekday="Monday", time="10:00"),
        "**Solo** has no time zone",
        "timezone",
    )
    await refused(
        simcord_env,
        fay.slash(world.lobby, "schedule findtime", group="Solo"),
        "**Solo** has 1 member",
        "at least two",
    )
    await refused(
        simcord_env,
        ben.slash(world.lobby, "schedule findtime", group="Solo"),
        "Only members of **Solo**",
    )
    assert await bot_of(simcord_env).storage.schedules.all() == []

    # With a zone given, the same group can be scheduled.
    result = await fay.slash(
        world.lobby,
        "schedule set",
        group="Solo",
        weekday="Monday",
        time="10:00",
        timezone="Europe/Paris",
    )
    assert "Every week on Monday at 10:00 (Europe/Paris), 90 min" in reply_text(result)
    monday = datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert f"Next meeting: {full(monday)}" in reply_text(result)
