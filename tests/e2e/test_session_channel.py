"""A group channel that stays readable: the live panel within the last 8 messages, what the
panel says comes next, and the tidy after the session."""

from __future__ import annotations

from datetime import timedelta

import discord
from simcord import Env

from bot import Settings
from cogs.sessions._channel import IN_SIGHT, TIDY_DELAY
from tests.e2e.helpers import reply_text, requests
from tests.e2e.session_helpers import (
    Circle,
    allow,
    bot_member_id,
    bot_of,
    field,
    is_live,
    live,
    make_circle,
    named,
    restart,
    segments,
    summary_of,
    unix,
)
from tests.e2e.test_feedback import feedback_message

BULK = "/bulk-delete"


def public(circle: Circle) -> list[discord.Message]:
    """What everyone sees in the group channel, oldest first."""
    return [m for m in circle.text.history() if not m.flags.ephemeral]


def is_panel(message: discord.Message) -> bool:
    title = message.embeds[0].title if message.embeds else None
    return bool(title) and title.startswith("Circle · session") and "summary" not in title


def assert_panel_in_sight(circle: Circle, where: str) -> discord.Message:
    last = public(circle)[-IN_SIGHT:]
    panels = [m for m in last if is_panel(m)]
    assert panels, f"{where}: no panel among the last {IN_SIGHT} messages"
    return panels[-1]


def bot_posts(circle: Circle, since: set[int]) -> list[discord.Message]:
    bot_id = bot_member_id(circle.world.env)
    return [m for m in public(circle) if m.author.id == bot_id and m.id not in since]


def bulk_deletes(env: Env, circle: Circle) -> list[list[int]]:
    path = f"/channels/{circle.text.id}/messages{BULK}"
    return [[int(i) for i in (r.json or {})["messages"]] for r in requests(env, "POST", path)]


def segment_id(env: Env) -> int:
    running = live(env).running
    assert running is not None
    return running.segment.id


async def run_to_the_end(env: Env) -> int:
    """Let the session run by itself from one timed event to the next; returns how many
    events passed."""
    events = 0
    while is_live(env):
        due = live(env).next_due()
        assert due is not None
        await env.advance_time((due - env.now()).total_seconds())
        events += 1
        assert events < 200, "the session did not end by itself"
    return events


async def test_a_standard_session_keeps_its_panel_in_sight_and_tidies_up_after(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, _ben, cy = circle.everyone
    hello = await ana.send(circle.text, "Hello all, joining from the ward")
    before = {m.id for m in public(circle)}

    await fay.slash(circle.text, "session start", group="Circle")
    first = assert_panel_in_sight(circle, "at the start")
    said: list[discord.Message] = [hello]
    handovers = 0
    segment = segment_id(env)
    while is_live(env):
        due = live(env).next_due()
        assert due is not None
        await env.advance_time((due - env.now()).total_seconds())
        if not is_live(env):
            break
        if segment_id(env) != segment:
            segment = segment_id(env)
            holder = live(env).floor_holder()
            handovers += 1
            panel = assert_panel_in_sight(circle, f"after hand-over {handovers}")
            speaker = next(p for p in circle.everyone if p.id == holder)
            assert named(speaker) in field(panel, "Floor")
            if handovers in (5, 6):
                # Members talk in the channel too: the panel stays in sight all the same.
                for n in range(3):
                    said.append(await cy.send(circle.text, f"a thought on the hot seat ({n})"))
                    assert_panel_in_sight(circle, f"after a member's message at {handovers}")
    assert handovers == 13  # 14 segments: 4 check-ins, 2 hot seats of 3 phases, 4 commitments

    # The panel was posted again further down, each time in place of a hand-over's edit; the
    # older panels were left as they were (no call spent on them), above the announcements
    # that say who has the floor since, and none was turned into a pointer.
    panels = [m for m in public(circle) if is_panel(m)]
    assert len(panels) == 4 and panels[0].id == first.id
    assert not [m for m in public(circle) if m.content.startswith("↪️")]
    assert all(m.embeds and m.components for m in panels[:-1])

    # Right after the end, everything is still there; a minute later the bot's
    # announcements, warnings and old panels are gone, in one bulk delete.
    posted = bot_posts(circle, before)
    assert len(posted) > 20
    await env.advance_time(TIDY_DELAY.total_seconds())
    remaining = bot_posts(circle, before)
    panel = next(m for m in remaining if is_panel(m))
    assert [m.id for m in remaining] == [
        panel.id,
        summary_of(circle).id,
        feedback_message(circle).id,
    ]
    assert panel.embeds[0].title == "Circle · session (ended)"
    deleted = bulk_deletes(env, circle)
    assert len(deleted) == 1
    assert set(deleted[0]) == {m.id for m in posted} - {m.id for m in remaining}
    # Nothing a member wrote was touched.
    members = [m for m in public(circle) if m.author.id != bot_member_id(env)]
    assert [(m.id, m.content) for m in members] == [(m.id, m.content) for m in said]
    # The records are the meeting's, whatever was deleted.
    assert len(await segments(env)) == 14
    # Nothing more is deleted later.
    await env.advance_time(3600)
    assert len(bulk_deletes(env, circle)) == 1


async def test_the_panel_says_who_is_next_for_what_and_when_the_meeting_ends(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    await fay.slash(circle.text, "session start", group="Circle", order="joined", hotseats=1)
    start = env.now()
    # check-in 4 × 2 min, one hot seat of 20 min (5 + 5 + 10), commitments 4 × 1 min
    panel = assert_panel_in_sight(circle, "start")
    assert field(panel, "Next") == (
        f"{named(ana)} (check-in) · {named(ben)} (check-in) · {named(cy)} (check-in)"
    )
    end = start + timedelta(minutes=8 + 20 + 4)
    assert field(panel, "Progress") == f"segment 1 of 11 · ends about <t:{unix(end)}:t>"

    await env.advance_time(3 * 120)  # cy's check-in
    panel = assert_panel_in_sight(circle, "cy's check-in")
    assert field(panel, "Next") == (
        f"{named(fay)} (hot seat) · {named(fay)} (commitments) · {named(ana)} (commitments)"
    )
    assert field(panel, "Progress").startswith("segment 4 of 11 · ends about")

    # Extending moves the expected end; pausing says so.
    await cy.click(panel, label="+2 min")
    panel = assert_panel_in_sight(circle, "extended")
    later = end + timedelta(minutes=2)
    assert field(panel, "Progress") == f"segment 4 of 11 · ends about <t:{unix(later)}:t>"
    await cy.click(panel, label="Pause")
    assert field(assert_panel_in_sight(circle, "paused"), "Progress") == "segment 4 of 11 · paused"


async def test_old_panels_point_to_the_live_one_when_members_talk_a_lot(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, *_ = circle.everyone
    await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    first = assert_panel_in_sight(circle, "start")
    for n in range(IN_SIGHT + 1):
        await ana.send(circle.text, f"message {n}")
    panel = assert_panel_in_sight(circle, "after the chatter")
    assert panel.id != first.id
    pointer = next(m for m in public(circle) if m.id == first.id)
    assert pointer.content.startswith("↪️ The session panel moved down")
    assert str(panel.id) in pointer.content
    # The live panel works as ever.
    result = await fay.click(panel, label="Next")
    assert result.acknowledged
    holder = next(p for p in circle.everyone if p.id == live(env).floor_holder())
    assert named(holder) in field(assert_panel_in_sight(circle, "next"), "Floor")


async def test_a_press_on_a_panel_left_above_turns_it_into_a_pointer(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, *_ = circle.everyone
    await fay.slash(circle.text, "session start", group="Circle")
    first = assert_panel_in_sight(circle, "at the start")
    while assert_panel_in_sight(circle, "waiting for a re-post").id == first.id:
        due = live(env).next_due()
        assert due is not None
        await env.advance_time((due - env.now()).total_seconds())
    live_panel = assert_panel_in_sight(circle, "re-posted")
    old = next(m for m in public(circle) if m.id == first.id)
    assert old.embeds and old.components, "left as it was by the hand-over's re-post"
    holder = live(env).floor_holder()

    result = await fay.click(old, label="Next")

    assert result.acknowledged
    assert live(env).floor_holder() != holder, "the press acted on the live session"
    old = next(m for m in public(circle) if m.id == first.id)
    assert old.content.startswith("↪️ The session panel moved down")
    assert str(live_panel.id) in old.content
    assert not old.embeds and not old.components
    now = assert_panel_in_sight(circle, "after the press")
    assert now.id == live_panel.id
    speaker = next(p for p in circle.everyone if p.id == live(env).floor_holder())
    assert named(speaker) in field(now, "Floor")


async def test_tidy_sessions_false_keeps_everything(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    fay, _ = circle.everyone
    managers = circle.world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = circle.world.person("boss", roles=[managers])
    result = await boss.slash(circle.world.lobby, "mastermind setup", tidy_sessions=False)
    assert reply_text(result).startswith("Saved.")
    before = {m.id for m in public(circle)}
    await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    await run_to_the_end(env)
    posted = [m.id for m in bot_posts(circle, before)]
    await env.advance_time(TIDY_DELAY.total_seconds() + 3600)
    assert [m.id for m in bot_posts(circle, before)] == posted
    assert not bulk_deletes(env, circle)
    assert not [r for r in env.http_requests if r.method == "DELETE"]


async def test_without_manage_messages_it_deletes_one_by_one(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    fay, _ = circle.everyone
    allow(env, circle.text, bot_member_id(env), deny=discord.Permissions(manage_messages=True))
    await env.settle()
    before = {m.id for m in public(circle)}
    await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    await run_to_the_end(env)
    posted = bot_posts(circle, before)
    await env.advance_time(TIDY_DELAY.total_seconds())
    remaining = bot_posts(circle, before)
    assert [m.id for m in remaining] == [
        next(m.id for m in remaining if is_panel(m)),
        summary_of(circle).id,
        feedback_message(circle).id,
    ]
    assert not bulk_deletes(env, circle)
    singles = [
        r.path.rsplit("/", 1)[1]
        for r in env.http_requests
        if r.method == "DELETE" and r.path.startswith(f"/channels/{circle.text.id}/messages/")
    ]
    assert sorted(int(i) for i in singles) == sorted(
        {m.id for m in posted} - {m.id for m in remaining}
    )
    outcomes = [row["outcome"] for row in await segments(env)]
    assert outcomes == ["timeout", "timeout"]


async def test_a_tidy_it_may_not_do_is_skipped_cleanly(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    fay, ana = circle.everyone
    before = {m.id for m in public(circle)}
    await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    await run_to_the_end(env)
    posted = [m.id for m in bot_posts(circle, before)]
    # Every delete is refused (as if the bot had lost access to the channel meanwhile).
    env.inject_error("POST", f"/channels/{circle.text.id}/messages{BULK}", status=403, times=None)
    env.inject_error("DELETE", f"/channels/{circle.text.id}/messages/*", status=403, times=None)
    await env.advance_time(TIDY_DELAY.total_seconds())
    env.backend.faults.clear()
    assert [m.id for m in bot_posts(circle, before)] == posted
    # It tried once, and stopped at the first refusal instead of trying each message.
    deletes = [r for r in env.http_requests if r.method == "DELETE"]
    assert len(deletes) == 1
    await env.advance_time(3600)
    assert len([r for r in env.http_requests if r.method == "DELETE"]) == 1
    # The meeting's records and feedback are untouched.
    assert len(await segments(env)) == 2
    rated = await ana.click(feedback_message(circle), label="Valuable")
    assert rated.ephemeral and "Valuable" in reply_text(rated)


async def test_a_restart_between_the_end_and_the_tidy_still_tidies_once(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    fay, _ = circle.everyone
    before = {m.id for m in public(circle)}
    await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    await run_to_the_end(env)
    posted = bot_posts(circle, before)
    await env.advance_time(TIDY_DELAY.total_seconds() / 2)
    await restart(env, settings)
    assert len(bot_posts(circle, before)) == len(posted)
    await env.advance_time(TIDY_DELAY.total_seconds())
    assert len(bot_posts(circle, before)) == 3
    assert len(bulk_deletes(env, circle)) == 1
    await restart(env, settings)
    await env.advance_time(3600)
    assert len(bulk_deletes(env, circle)) == 1
    assert not await bot_of(env).storage.session_messages.pending_tidies()


async def test_ending_by_hand_or_by_archiving_tidies_too(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    fay, _ = circle.everyone
    managers = circle.world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = circle.world.person("boss", roles=[managers])
    before = {m.id for m in public(circle)}

    await fay.slash(circle.text, "session start", group="Circle")
    await env.advance_time(200)
    await fay.slash(circle.text, "session end", group="Circle")
    await env.advance_time(TIDY_DELAY.total_seconds())
    assert len(bot_posts(circle, before)) == 3
    before = {m.id for m in public(circle)}

    await fay.slash(circle.text, "session start", group="Circle")
    await env.advance_time(200)
    await boss.slash(circle.world.lobby, "group archive", group="Circle")
    await env.advance_time(TIDY_DELAY.total_seconds())
    assert len(bot_posts(circle, before)) == 3
    assert len(bulk_deletes(env, circle)) == 2


async def test_after_a_restart_the_panel_still_stays_in_sight(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, *_ = circle.everyone
    await fay.slash(circle.text, "session start", group="Circle", order="joined")
    await env.advance_time(3 * 120 - 30)  # six messages below the panel, the seventh to come
    await ana.send(circle.text, "back in a second")
    await restart(env, settings)
    # The new bot reads where its panel is, and keeps it in sight from there.
    segment = segment_id(env)
    while is_live(env):
        due = live(env).next_due()
        assert due is not None
        await env.advance_time((due - env.now()).total_seconds())
        if is_live(env) and segment_id(env) != segment:
            segment = segment_id(env)
            assert_panel_in_sight(circle, f"segment {segment} after the restart")
    assert [m.content for m in public(circle) if m.author.id == ana.id] == ["back in a second"]


async def test_a_poll_during_the_session_counts_too(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, *_ = circle.everyone
    await fay.slash(circle.text, "session start", group="Circle", format="roundrobin")
    for n in range(IN_SIGHT - 2):
        await ana.send(circle.text, f"message {n}")
    result = await ana.slash(circle.text, "feedback poll", question="Next time?", options="A | B")
    assert result.acknowledged
    assert_panel_in_sight(circle, "after the poll")
    await ana.send(circle.text, "one more")
    assert_panel_in_sight(circle, "after one more message")
