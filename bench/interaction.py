"""Time to answer a panel button press, with 0 and 1,000 other live sessions.

The real bot runs in SimCord. A group of four starts a `standard` session; the facilitator
presses the panel's `Pause` button over and over (it toggles Pause/Resume, and every press
goes the way `+2 min` and `Next` go: `SessionsCog.on_panel_button` → `_run` → the service
applies and persists the command → `_answer` edits the panel in the interaction response).
The other live sessions are written straight into the bot's database (N groups of six and N
`standard` sessions 13 minutes in), adopted into the cog's `SessionService` and armed in the
bot's `TimerService`, as `_resume_live_sessions` would; virtual time stands still, so none
of them fires during the presses.

Measured with `time.perf_counter` (wall time, not virtual):

- `answer`: from the start of `member.click(...)` until SimCord records the interaction's
  callback request (`POST /interactions/{id}/{token}/callback`), which is when Discord would
  show the answer. SimCord's own work before the bot sees the click (building and
  dispatching the interaction) is included, so this overstates the bot's part.
- `click`: the whole `member.click(...)`, until SimCord has settled all work.
- `baseline`: the same for an empty button (a persistent view the driver adds with
  `bot.add_view`, whose callback only edits its message back): SimCord plus discord.py.
- `bot_part`: answer minus the baseline's median answer — the bot's own work.

Target: answer p99 < 50 ms with 1,000 other live sessions.
"""

from __future__ import annotations

import time
from typing import Any, cast

import discord

from bench.common import (
    GcPauses,
    Result,
    Size,
    Target,
    insert_groups,
    insert_sessions,
    mid_meeting_state,
    next_session_id,
    percentile,
    summary_ms,
)
from bench.simworld import GROUP, Circle, TimedLog, make_circle, running_bot
from cogs.sessions._cog import TIMER_KIND
from storage.sqlite import Database as SqliteDatabase

P99_TARGET_MS = 50.0
TARGET_OTHERS = 1_000
BASELINE_CLICKS = 50
"""SimCord settles an empty press only after its 50 ms idle wait: fewer of them keep it short."""
BASELINE_ID = "bench:baseline"


class Baseline(discord.ui.View):
    """An empty button: answers by editing its own message, like a panel press does."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Baseline", custom_id=BASELINE_ID)
    async def press(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(view=self)


async def add_live_sessions(circle: Circle, count: int) -> None:
    """`count` more live sessions, stored, adopted and armed as at start-up (no Discord)."""
    bot, cog = circle.bot, circle.cog
    now = bot.clock()
    group_ids = await insert_groups(bot.database, count, now)
    first = await next_session_id(bot.database)
    states = [(gid, mid_meeting_state(first + k, gid, now)) for k, gid in enumerate(group_ids)]
    await insert_sessions(bot.database, states)
    wanted = {state.session_id for _, state in states}
    for row in await bot.storage.sessions.live():
        if row.id in wanted:
            cog.service.adopt(row.state, row.group_id)
            bot.timers.schedule(TIMER_KIND, row.id, row.state.next_due())


async def clicks(
    circle: Circle, message: discord.Message, custom_id: str, count: int, warmup: int
) -> tuple[list[float], list[float], float]:
    """Press a button `count` times (after a warm-up): the answer and whole-click durations,
    and the SQL statements the bot ran per press (SQLite's trace callback)."""
    log = circle.env.http_requests
    assert isinstance(log, TimedLog)
    who = circle.facilitator
    answers: list[float] = []
    totals: list[float] = []
    statements: list[str] = []
    for index in range(warmup + count):
        if index == warmup:
            # Both connections: the writer, and the read-only one that answers reads.
            for conn in _sqlite_connections(circle):
                await conn.set_trace_callback(statements.append)
        mark = len(log)
        started = time.perf_counter()
        result = await who.click(message, custom_id=custom_id)
        ended = time.perf_counter()
        answered = next(
            (
                log.times[i]
                for i in range(mark, len(log))
                if log[i].method == "POST" and str(log[i].path).endswith("/callback")
            ),
            None,
        )
        if answered is None or result.ephemeral:
            raise RuntimeError(f"the press of {custom_id} was not answered on the message")
        if index >= warmup:
            answers.append(answered - started)
            totals.append(ended - started)
    for conn in _sqlite_connections(circle):
        await conn.set_trace_callback(cast(Any, None))
    return answers, totals, len(statements) / max(count, 1)


async def run(size: Size) -> Result:
    result = Result("interaction", "Answer time of a panel button press (SimCord, wall time)")
    async with running_bot() as (env, bot):
        circle = await make_circle(env, bot)
        env.backend.http_requests = TimedLog(env.backend.http_requests)
        await circle.facilitator.slash(circle.text, "session start", group=GROUP, order="joined")
        (session_id,) = circle.cog.service.live_ids()
        panel = circle.panel()
        pause = f"mm:session:pause:{session_id}"

        bot.add_view(Baseline())
        channel = bot.get_channel(circle.text.id)
        assert isinstance(channel, discord.TextChannel)
        empty = await channel.send("baseline", view=Baseline())

        live_others = 0
        for others in size.interaction_others:
            if others > live_others:
                await add_live_sessions(circle, others - live_others)
                live_others = others
            with GcPauses() as pauses:
                answers, totals, sql = await clicks(
                    circle, panel, pause, size.interaction_clicks, size.interaction_warmup
                )
            base_answers, base_totals, _ = await clicks(
                circle,
                empty,
                BASELINE_ID,
                min(size.interaction_clicks, BASELINE_CLICKS),
                size.interaction_warmup,
            )
            base = percentile(base_answers, 50)
            bot_part = [max(0.0, a - base) for a in answers]
            answer = summary_ms(answers)
            result.details[str(others)] = {
                "other_live_sessions": others,
                "live_in_service": len(circle.cog.service.live_ids()),
                "armed_timers": len(bot.timers),
                "sql_statements_per_press": round(sql, 1),
                "answer": answer,
                "click": summary_ms(totals),
                "baseline_answer": summary_ms(base_answers),
                "baseline_click": summary_ms(base_totals),
                "bot_part": summary_ms(bot_part),
                "gc_pauses_during_presses": pauses.summary(),
            }
            target = Target("<", P99_TARGET_MS) if others == TARGET_OTHERS else None
            label = f"button answer, {others:,} other live"
            note = "click → response recorded, SimCord included"
            result.add(f"{others}.p50_ms", f"{label}, p50", answer.get("p50_ms"), "ms", note=note)
            result.add(
                f"{others}.p99_ms",
                f"{label}, p99",
                answer.get("p99_ms"),
                "ms",
                target,
                GcPauses.describe(pauses.summary(), "during the presses"),
            )
            parts = summary_ms(bot_part)
            result.add(
                f"{others}.bot_p99_ms",
                f"{label}, bot's part p99",
                parts.get("p99_ms"),
                "ms",
                note=f"minus empty-click median {base * 1000:.2f} ms",
            )
        result.details["presses"] = "Pause/Resume toggles by the facilitator"
    return result


def _sqlite_connections(circle: Any) -> tuple[Any, ...]:
    """Both SQLite connections (the writer, and the read-only one that answers reads), whose
    statements the figure counts."""
    db = circle.bot.database
    if not isinstance(db, SqliteDatabase):
        raise RuntimeError("the statement count is measured on SQLite")
    return (db.conn, db.reader)
