"""REST calls per segment and per hour of meeting, and a naive countdown design beside it.

A full `standard` session of four (check-in 4 × 2 min, two 20-minute hot seats in three
phases, commitments 4 × 1 min: 14 segments, 52 minutes) runs through the real bot in SimCord
in virtual time, with nobody pressing anything. The driver advances the clock 5 s at a time;
every REST request the bot makes during a step (`env.http_requests`) is a timer-driven call
and is attributed to the segment running after the step: the announcement and panel edit of
a hand-over go to the segment that starts, a warning to the segment it warns. Calls made by
`/session start` (the command's answer, the panel, the first announcement) and by the end of
the session (panel, summary, end hooks) are counted apart.

The bot keeps its panel within the channel's last 8 messages: when a hand-over's announcement
and the warning to come would push it out, the panel is posted again below instead of edited,
and the old one is left as it was until the tidy (only a re-post that members' messages force
turns it into a pointer, and members do not talk here). Those re-posts, and the tidy a minute
after the end (the bulk delete of the meeting's announcements, warnings and old panels), are
counted like everything else: re-posts in the segment whose hand-over made them, the tidy
with the end of the session.

In the same run, the naive design is simulated for real: a countdown message that the
driver edits through the bot's HTTP client every 5 s of virtual time while the session is
live. Naive calls per hour = (its edits + the same announcements and warnings the bot
posted) / meeting hours; the bot's calls per hour count everything it sent from
`/session start` to the end of the session. Targets: ≤ 3 calls per segment, ≤ 2.69 on
average (the figure before the panel was kept in sight).
"""

from __future__ import annotations

import itertools
from typing import Any

import discord

from bench.common import Result, Size, Target
from bench.simworld import GROUP, make_circle, running_bot
from cogs.sessions._channel import TIDY_DELAY

STEP_SECONDS = 5
"""Both the driver's clock step and the naive design's countdown period."""
PER_SEGMENT_TARGET = 3
MEAN_PER_SEGMENT_TARGET = 2.69
MAX_STEPS = 3 * 3600 // STEP_SECONDS


def _panel(entry: Any) -> bool:
    """A post or edit that carries the session panel."""
    embeds = (entry.json or {}).get("embeds") or []
    title = str(embeds[0].get("title", "")) if embeds else ""
    return "· session" in title and "summary" not in title


def _pointer(entry: Any) -> bool:
    return str((entry.json or {}).get("content") or "").startswith("↪️")


def _describe(entry: Any, names: dict[str, str]) -> str:
    path = str(entry.path)
    for ident, name in names.items():
        path = path.replace(ident, name)
    return f"{entry.method} {path}"


async def run(size: Size) -> Result:
    result = Result("rest", "REST calls of a full standard session (SimCord, virtual time)")
    async with running_bot() as (env, bot):
        circle = await make_circle(env, bot)
        log = env.http_requests
        people = {p.id: p.name for p in circle.people}

        mark = len(log)
        await circle.facilitator.slash(circle.text, "session start", group=GROUP, order="joined")
        start_entries = list(log[mark:])
        service = circle.cog.service
        (session_id,) = service.live_ids()
        panel = circle.panel()
        names = {str(circle.text.id): "{text}", str(panel.id): "{panel}"}

        # The naive design's countdown message, edited every STEP_SECONDS below.
        channel = bot.get_channel(circle.text.id)
        assert isinstance(channel, discord.TextChannel)
        mark = len(log)
        countdown = await channel.send("⏱ countdown")
        naive_calls = len(log) - mark
        names[str(countdown.id)] = "{countdown}"

        segments: dict[int, dict[str, Any]] = {}
        end_entries: list[Any] = []
        handover_calls: list[int] = []
        current = 1
        for _ in range(MAX_STEPS):
            mark = len(log)
            await env.advance_time(STEP_SECONDS)
            new = list(log[mark:])
            state = service.get(session_id)
            if state is None or state.running is None:
                end_entries += new
                break
            seg = state.running.segment
            if seg.id != current:
                handover_calls.append(len(new))
                current = seg.id
            entry = segments.setdefault(
                seg.id,
                {
                    "segment": seg.id,
                    "round": seg.round,
                    "phase": seg.phase.value,
                    "speaker": people.get(seg.speaker_id, str(seg.speaker_id)),
                    "planned_s": seg.planned_seconds,
                    "calls": [],
                },
            )
            entry["calls"] += new
            left = state.time_left(bot.clock()) or 0.0
            mark = len(log)
            await countdown.edit(content=f"⏱ {int(left) // 60}:{int(left) % 60:02d} left")
            naive_calls += len(log) - mark
        else:
            raise RuntimeError("the session did not end by itself")
        # Work the end of the session started may still be settling, and the tidy comes a
        # minute after the end: quiet steps until it is done.
        for _ in range(int(TIDY_DELAY.total_seconds()) // STEP_SECONDS + 1):
            mark = len(log)
            await env.advance_time(STEP_SECONDS)
            end_entries += list(log[mark:])

        text_path = f"/channels/{circle.text.id}/messages"
        panel_edits = [
            e.json
            for e in log
            if e.method == "PATCH" and e.path.startswith(text_path) and _panel(e)
        ]
        repeated = sum(1 for a, b in itertools.pairwise(panel_edits) if a == b)
        reposts = [e for e in log if e.method == "POST" and e.path == text_path and _panel(e)]
        pointers = [e for e in log if e.method == "PATCH" and _pointer(e)]
        tidy = [e for e in end_entries if e.method == "DELETE" or e.path.endswith("bulk-delete")]
        row = await bot.storage.sessions.get(session_id)
        assert row is not None and row.ended_at is not None
        hours = (row.ended_at - row.started_at).total_seconds() / 3600

    per_segment = [len(s["calls"]) for s in segments.values()]
    # Segment 1 was started by the command; its hand-over calls are in `start_entries`.
    timer_started = [len(s["calls"]) for s in segments.values() if s["segment"] != 1]
    timer_calls = sum(per_segment) + len(end_entries)
    bot_calls = len(start_entries) + timer_calls
    # The naive design posts the same announcements and warnings (not the panels).
    posts = [
        e
        for e in [*start_entries, *[x for s in segments.values() for x in s["calls"]]]
        if _describe(e, names) == "POST /channels/{text}/messages" and not _panel(e)
    ]
    for s in segments.values():
        s["calls"] = [_describe(e, names) for e in s["calls"]]
    naive_total = naive_calls + len(posts)
    result.details = {
        "meeting_minutes": round(hours * 60, 2),
        "segments": list(segments.values()),
        "start_command_calls": [_describe(e, names) for e in start_entries],
        "end_of_session_calls": [_describe(e, names) for e in end_entries],
        "timer_driven_calls": timer_calls,
        "panel_edits": len(panel_edits),
        "panel_edits_identical_to_previous": repeated,
        "panel_reposts": len(reposts) - 1,
        "pointer_edits": len(pointers),
        "tidy_calls": len(tidy),
        "tidy_deleted": sum(len((e.json or {}).get("messages") or [1]) for e in tidy),
        "handover_calls": handover_calls,
        "bot_calls_total": bot_calls,
        "naive_countdown_edits": naive_calls,
        "naive_announcements": len(posts),
        "naive_calls_total": naive_total,
        "step_seconds": STEP_SECONDS,
    }
    result.add(
        "per_segment.max",
        "REST calls per segment (timer-driven), max",
        max(per_segment),
        "",
        Target("<=", PER_SEGMENT_TARGET),
        f"{len(per_segment)} segments",
    )
    result.add(
        "per_segment.mean",
        "REST calls per segment (timer-driven), mean",
        round(sum(timer_started) / len(timer_started), 2),
        "",
        Target("<=", MEAN_PER_SEGMENT_TARGET),
        "segments 2..n (started by a timer)",
    )
    result.add(
        "per_handover.max",
        "REST calls per timer-driven hand-over, max",
        max(handover_calls),
        "",
        Target("<=", PER_SEGMENT_TARGET),
        "announcement, and a panel edit or re-post",
    )
    result.add(
        "reposts",
        "panel posted again to stay in the last 8",
        len(reposts) - 1,
        "",
        note=f"{len(pointers)} old panels turned into pointers",
    )
    result.add(
        "end_of_session",
        "REST calls at the session's own end",
        len(end_entries),
        note=f"{len(tidy)} of them the tidy, deleting "
        f"{sum(len((e.json or {}).get('messages') or [1]) for e in tidy)} messages",
    )
    result.add(
        "per_hour",
        "REST calls per hour of meeting (this bot)",
        round(bot_calls / hours, 1),
        "/h",
        note=f"{bot_calls} calls in {hours * 60:.0f} min",
    )
    result.add(
        "naive_per_hour",
        "REST calls per hour, naive 5-s countdown",
        round(naive_total / hours, 1),
        "/h",
        note=f"{naive_total} calls in {hours * 60:.0f} min",
    )
    result.add(
        "naive_ratio", "naive ÷ this bot (calls per hour)", round(naive_total / bot_calls, 1), "×"
    )
    return result
