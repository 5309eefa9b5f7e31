"""A short full meeting run again and again in one SimCord world, and what it leaves behind
(segments, attendance, the messages of the group channel), in a form two runs can be compared
in: every time is counted from the run's own start."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import discord
from simcord import Env

from bot import MastermindBot
from tests.e2e.session_helpers import Circle


@dataclass(frozen=True)
class Plan:
    """A meeting of the three people of the circle and the instants things happen in it."""

    options: dict[str, Any]
    duration: int
    boundaries: tuple[int, ...]
    """Every instant the floor changes hands (the start and the end included)."""
    warnings: tuple[int, ...] = ()

    @property
    def steps(self) -> tuple[int, ...]:
        """Every instant the bot posts or edits something in the group channel."""
        return tuple(sorted(self.boundaries + self.warnings))


# Check-in 3 × 120 s (a warning 60 s before each end), one hot seat of 2 min (30 + 30 + 60 s,
# too short for warnings), commitments 3 × 60 s: 660 s in all.
STANDARD = Plan(
    options={
        "format": "standard",
        "turn_minutes": 2,
        "hotseats": 1,
        "order": "joined",
    },
    duration=660,
    boundaries=(0, 120, 240, 360, 390, 420, 480, 540, 600, 660),
    warnings=(60, 180, 300),
)
# Three turns of one minute (no warnings).
ROUNDROBIN = Plan(
    options={"format": "roundrobin", "turn_minutes": 1, "order": "joined"},
    duration=180,
    boundaries=(0, 60, 120, 180),
)
GAP = 300
"""Virtual seconds between two runs, so one run's messages never mix with the next one's."""

_TIMESTAMP = re.compile(r"<t:(\d+):([a-zA-Z])>")
_JUMP = re.compile(r"https://discord\.com/channels/\d+/\d+/\d+")


def bot_of(env: Env) -> MastermindBot:
    bot = env.bot
    assert isinstance(bot, MastermindBot)
    return bot


def offset(moment: datetime | str | None, start: datetime) -> float | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return (moment - start).total_seconds()


def relative(text: str, start: datetime) -> str:
    """Discord timestamps in `text` as seconds from `start`, links to messages as `<link>`."""

    def repl(match: re.Match[str]) -> str:
        return f"<t:+{int(match[1]) - int(start.timestamp())}:{match[2]}>"

    return _JUMP.sub("<link>", _TIMESTAMP.sub(repl, text))


def _earlier_panel(message: discord.Message) -> bool:
    """A panel the bot posted again further down: left as it was, or made a pointer."""
    if message.content.startswith("↪️ The session panel moved down"):
        return True
    title = message.embeds[0].title if message.embeds else None
    return bool(title) and " · session" in str(title) and "summary" not in str(title)


async def keep_session_messages(circle: Circle) -> None:
    """These runs compare what a meeting posts, so the server keeps it instead of tidying it
    away after each session (`/mastermind setup tidy_sessions:false`)."""
    world = circle.world
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[managers])
    await boss.slash(world.lobby, "mastermind setup", tidy_sessions=False)


@dataclass(frozen=True)
class Outcome:
    """What one run left, every time relative to its start."""

    session_id: int
    segments: list[tuple[Any, ...]]
    attendance: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]
    """(offset, content, embed titles) of everything posted in the run but the panel (and the
    earlier panels it was posted again in place of)."""
    ended_after: float | None
    end_reason: str | None
    panel_title: str | None
    feedback_message_id: int | None


async def outcome(
    env: Env, circle: Circle, plan: Plan, session_id: int, start: datetime
) -> Outcome:
    bot = bot_of(env)
    row = await bot.storage.sessions.get(session_id)
    assert row is not None, f"session {session_id} was not stored"
    assert row.started_at == start
    segments = [
        (
            r["seq"],
            r["speaker_id"],
            r["round"],
            r["phase"],
            r["planned_seconds"],
            r["actual_seconds"],
            r["outcome"],
            offset(r["started_at"], start),
            offset(r["ended_at"], start),
        )
        for r in await bot.storage.sessions.segment_rows(session_id)
    ]
    attendance = [
        (r["user_id"], r["seconds"], offset(r["first_joined_at"], start))
        for r in await bot.storage.db.fetch_all(
            "SELECT * FROM attendance WHERE session_id = ? ORDER BY user_id", (session_id,)
        )
    ]
    until = start + timedelta(seconds=plan.duration + GAP // 2)
    messages = [
        (
            offset(m.created_at, start),
            relative(m.content, start),
            tuple(e.title for e in m.embeds),
        )
        for m in circle.text.history()
        if start <= m.created_at < until and m.id != row.panel_message_id and not _earlier_panel(m)
    ]
    panel_title = None
    if row.panel_message_id is not None:
        panel = next(m for m in circle.text.history() if m.id == row.panel_message_id)
        panel_title = panel.embeds[0].title if panel.embeds else None
    request = await bot.storage.feedback.request(session_id)
    return Outcome(
        session_id=session_id,
        segments=segments,
        attendance=attendance,
        messages=messages,
        ended_after=offset(row.ended_at, start),
        end_reason=row.state.end_reason,
        panel_title=panel_title,
        feedback_message_id=request.message_id if request else None,
    )


async def start_meeting(
    circle: Circle, plan: Plan, *, rejoin: bool = False
) -> tuple[int, datetime]:
    """`/session start` by the facilitator; the new session's id and start time. With
    `rejoin`, everyone first leaves the voice channel and joins it again, a second apart."""
    env = circle.world.env
    if rejoin:
        for person in circle.everyone:
            await person.leave_voice()
        for person in circle.everyone:
            await person.join_voice(circle.voice)
            await env.advance_time(1)
    await circle.facilitator.slash(circle.text, "session start", group="Circle", **plan.options)
    cog: Any = bot_of(env).get_cog("SessionsCog")
    state = cog.service.session_for_group(1)
    assert state is not None, "the session did not start"
    return state.session_id, state.started_at


async def advance_to(env: Env, start: datetime, at: float) -> None:
    """Advance the virtual clock to `at` seconds after `start` (never backwards)."""
    seconds = (start + timedelta(seconds=at) - env.now()).total_seconds()
    assert seconds >= 0, f"already past +{at}s"
    if seconds:
        await env.advance_time(seconds)
