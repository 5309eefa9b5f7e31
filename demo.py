"""`python bot.py demo`: a complete Mastermind meeting, offline, as a readable transcript.

The real bot (`create_bot`) runs against SimCord, an in-memory Discord with a virtual clock:
five members meet in the `standard` format (check-in, two hot seats, commitments), one raises
a hand to respond and another queues behind, a note is taken, the session ends by itself,
four members rate it, one adds details with next steps, and the facilitator opens the session
report. The meeting's 23 minutes pass in virtual time, so it all takes a few seconds. No
token, no network; the database is a temporary file.

SimCord is a test dependency: `pip install '.[test]'` (or `make demo`) installs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import discord
    from simcord import ChannelHandle, Env, MemberActor
    from simcord.results import InteractionResult

    from bot import MastermindBot

INSTALL_HINT = """\
The demo runs the bot against SimCord, an in-memory Discord, which is not installed.
Install the test extras and run it again:
    pip install '.[test]'
    python bot.py demo
or simply run `make demo`, which sets everything up in .venv first."""

GROUP = "Circle"
PEOPLE = (("fay", "Fay"), ("ana", "Ana"), ("ben", "Ben"), ("cy", "Cy"), ("dee", "Dee"))
"""(username, display name); Fay creates the group and facilitates."""
OPTIONS: dict[str, Any] = {
    "group": GROUP,
    "format": "standard",
    "turn_minutes": 4,
    "hotseats": 2,
    "order": "joined",
}
# With 5 people and 4-minute hot seats: check-in 5 × 2 min, two hot seats of 1 + 1 + 2 min
# (present, questions, advice), commitments 5 × 1 min.
FIRST_ADVICE = 5 * 120 + 60 + 60
MEETING = 5 * 120 + 2 * 240 + 5 * 60

INDENT = " " * 10
"""Under the clock column (`[00:00:00]`); every line adds one space after it."""
_MENTION = re.compile(r"<@!?(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_MARKUP = re.compile(r"\*\*|~~|__|`")


def run_demo() -> int:
    """Run the simulated meeting and print its transcript; 2 if SimCord is missing."""
    try:
        import simcord  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    _quiet_logging()
    _tolerant_stdout()
    began = time.perf_counter()
    try:
        asyncio.run(_run())
        print(f"\n(The demo took {time.perf_counter() - began:.1f} s of real time.)")
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped reading (`python bot.py demo | head`): not an error. Whatever
        # is still buffered goes nowhere, so the interpreter's last flush cannot fail too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


def _quiet_logging() -> None:
    """Only real problems reach the terminal: the transcript is the output."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("discord", "simcord", "matplotlib", "PIL"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _tolerant_stdout() -> None:
    """A terminal that cannot show an emoji gets a placeholder instead of a crash."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


async def _run() -> None:
    async with simulated() as (env, bot):
        await Demo(env, bot).run()


@contextlib.asynccontextmanager
async def simulated() -> AsyncIterator[tuple[Env, MastermindBot]]:
    """The real bot against SimCord, on a temporary database, closed cleanly afterwards."""
    import simcord

    from bot import Settings, create_bot

    with tempfile.TemporaryDirectory(prefix="mastermind-demo-") as folder:
        settings = Settings(
            _env_file=None,  # no .env: the demo needs nothing from the environment
            discord_token="demo",
            database_path=Path(folder) / "demo.db",
            dev_guild=None,
            application_id=None,
        )
        bot = create_bot(settings)
        try:
            async with simcord.run(bot) as env:
                yield env, bot
        finally:
            # SimCord detaches the bot without closing it; the database thread must stop
            # or the process would not exit.
            await bot.timers.stop()
            await bot.storage.close()


class Demo:
    def __init__(self, env: Env, bot: MastermindBot) -> None:
        self.env = env
        self.bot = bot
        self.names: dict[int, str] = {}
        self.people: dict[str, MemberActor] = {}
        self.channels: dict[int, str] = {}
        self.start: datetime | None = None
        self.session_id: int | None = None
        self.seen: set[int] = set()
        self.gone: set[int] = set()
        self.panel: dict[str, str] = {}
        self.panel_id: int | None = None
        self.feedback_content: str | None = None

    # -- the story --------------------------------------------------------------------------

    async def run(self) -> None:
        text = await self.setup()
        print()
        print("The meeting (the clock is the session's own; it runs in virtual time)")
        print("─" * 78)
        facilitator = self.people["fay"]
        result = await facilitator.slash(text, "session start", **OPTIONS)
        self.start = self.env.now()
        self.action("Fay", "/session start " + " ".join(f"{k}:{v}" for k, v in OPTIONS.items()))
        self.reply("Fay", result)
        cog: Any = self.bot.get_cog("SessionsCog")
        state = cog.service.session_for_group(1)
        assert state is not None, "the session did not start"
        self.session_id = state.session_id
        self.show_new(text)

        script: list[tuple[int, Callable[[], Awaitable[None]]]] = [
            (FIRST_ADVICE + 5, lambda: self.add_note(text)),
            (FIRST_ADVICE + 10, lambda: self.press("ben", text, "Raise hand")),
            (FIRST_ADVICE + 25, lambda: self.press("cy", text, "Raise hand")),
            (FIRST_ADVICE + 50, lambda: self.press("ben", text, "Next")),
        ]
        await self.play(text, script)
        print()
        print("After the meeting")
        print("─" * 78)
        after: list[tuple[int, Callable[[], Awaitable[None]]]] = [
            (MEETING + 60, lambda: self.rate("fay", text, "Very valuable")),
            (MEETING + 75, lambda: self.rate("ana", text, "Valuable")),
            (MEETING + 90, lambda: self.rate("ben", text, "Very valuable")),
            (MEETING + 120, lambda: self.rate("cy", text, "Moderately")),
            (MEETING + 180, lambda: self.details(text)),
            (MEETING + 240, lambda: self.report(text)),
        ]
        await self.play(text, after)
        print()
        print(
            f"Done: one {OPTIONS['format']} session of {MEETING // 60} minutes, run by the real "
            "bot against a simulated Discord."
        )

    async def setup(self) -> ChannelHandle:
        env = self.env
        print("Mastermind demo · a simulated meeting (SimCord: no token, no network)")
        print("─" * 78)
        guild = env.create_guild("Clinician Educators")
        lobby = guild.create_text_channel("lobby")
        for username, display in PEOPLE:
            actor = guild.add_member(env.create_user(username, global_name=display))
            self.people[username] = actor
            self.names[actor.id] = display
        fay = self.people["fay"]
        await fay.slash(lobby, "group create", name=GROUP, capacity=8)
        for username, _ in PEOPLE[1:]:
            await self.people[username].slash(lobby, "group join", group=GROUP)
        text, voice = guild.channels[GROUP.lower()], guild.channels[GROUP]
        self.channels = {text.id: text.name or "", voice.id: voice.name or ""}
        names = ", ".join(display for _, display in PEOPLE[1:])
        print(f"Fay creates the group {GROUP} with /group create; {names} join it.")
        print(f"The bot makes a private category with #{text.name} and the voice channel {GROUP}.")
        for username, _ in PEOPLE:
            await self.people[username].join_voice(voice)
            await env.advance_time(1)
        print(f"All five join the voice channel, a second apart: the order is {names_in(PEOPLE)}.")
        print(
            f"Format: {OPTIONS['format']} · {OPTIONS['hotseats']} hot seats of "
            f"{OPTIONS['turn_minutes']} min (present 25 %, questions 25 %, advice 50 %) · "
            "check-in 2 min and commitments 1 min each."
        )
        self.seen = {m.id for m in text.history()}
        return text

    async def play(
        self, text: ChannelHandle, script: list[tuple[int, Callable[[], Awaitable[None]]]]
    ) -> None:
        """Advance from one event to the next (the bot's own deadlines and the script's
        actions), printing what appears in the group channel as it appears."""
        assert self.start is not None
        pending = sorted(script, key=lambda item: item[0])
        while True:
            candidates: list[datetime] = []
            due = self.next_due()
            if due is not None:
                candidates.append(due)
            if pending:
                candidates.append(self.start + timedelta(seconds=pending[0][0]))
            if not candidates:
                return
            moment = min(candidates)
            wait = (moment - self.env.now()).total_seconds()
            acting = bool(pending) and moment == self.start + timedelta(seconds=pending[0][0])
            if wait > 0 or not acting:
                # At least a moment: a deadline already due is the bot's to process.
                await self.env.advance_time(max(wait, 1.0))
            if self.env.now() > self.start + timedelta(seconds=MEETING + 3600):
                raise RuntimeError("the simulated meeting did not end on time")
            self.show_new(text)
            while pending and self.start + timedelta(seconds=pending[0][0]) <= self.env.now():
                _, act = pending.pop(0)
                await act()
                self.show_new(text)

    def next_due(self) -> datetime | None:
        cog: Any = self.bot.get_cog("SessionsCog")
        state = cog.service.get(self.session_id) if self.session_id is not None else None
        return None if state is None else state.next_due()

    # -- the members' actions -----------------------------------------------------------

    async def press(self, who: str, text: ChannelHandle, label: str) -> None:
        panel = self.panel_message(text)
        self.action(self.display(who), f"presses “{label}” on the panel")
        result = await self.people[who].click(panel, label=label)
        self.reply(self.display(who), result)

    async def add_note(self, text: ChannelHandle) -> None:
        ana = self.people["ana"]
        self.action("Ana", "presses “Add note” on the panel, and fills in the form")
        shown = await ana.click(self.panel_message(text), label="Add note")
        note = "Kern's six steps for curriculum development (Thomas et al.)"
        saved = await ana.submit_modal(shown, {"kind": "resource", "text": note})
        print(f"{INDENT}   kind: resource · note: {note}")
        self.reply("Ana", saved)

    async def rate(self, who: str, text: ChannelHandle, label: str) -> None:
        message = self.feedback_message(text)
        self.action(self.display(who), f"presses “{label}”")
        result = await self.people[who].click(message, label=label)
        self.reply(self.display(who), result, first_sentence=True)

    async def details(self, text: ChannelHandle) -> None:
        ana = self.people["ana"]
        self.action("Ana", "presses “Add details” and fills in the form")
        shown = await ana.click(self.feedback_message(text), label="Add details")
        values = {
            "resources": "Kern's six steps\nAMEE Guide 83 on faculty development",
            "referrals": "Dr. Osei (simulation centre) for the pilot",
            "next_steps": "Draft the aims page of the grant\nBook two hours with Dr. Osei",
            "comments": "The hot seat on my curriculum redesign was very useful.",
        }
        for key, value in values.items():
            print(f"{INDENT}   {key}: {value.replace(chr(10), ' / ')}")
        saved = await ana.submit_modal(shown, values)
        self.reply("Ana", saved)

    async def report(self, text: ChannelHandle) -> None:
        self.action("Fay", f"/report session group:{GROUP}")
        result = await self.people["fay"].slash(text, "report session", group=GROUP)
        message = result.followups[-1] if result.followups else result.response
        assert message is not None and message.embeds, "the report did not come"
        print(f"{INDENT} ↳ (only Fay sees) the session report, with two files:")
        self.print_embed(message.embeds[0])
        for attachment in message.attachments:
            data = await attachment.read()
            if data.startswith(b"\x89PNG"):
                what = "a PNG chart"
            else:
                rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
                what = f"{len(rows) - 1} rows; columns {', '.join(rows[0][:4])}, …"
            print(f"{INDENT}   📎 {attachment.filename} ({what}, {len(data):,} bytes)")

    # -- what the channel shows -----------------------------------------------------------

    def show_new(self, text: ChannelHandle) -> None:
        """New messages in the group channel, then what changed on the panel."""
        history = text.history()
        gone = self.seen - {m.id for m in history} - self.gone
        if gone:
            self.gone |= gone
            print(
                f"{self.clock()} (the bot tidies the channel: the meeting's {len(gone)} "
                "announcements, warnings and earlier panels are deleted; the panel, the summary "
                "and the feedback message stay)"
            )
        for message in history:
            if message.id in self.seen:
                continue
            self.seen.add(message.id)
            if message.id == self.panel_id or self.is_panel(message):
                again = self.panel_id is not None
                self.panel_id = message.id
                if again:
                    # Posted again at the bottom to stay in sight; the old one points to it.
                    print(f"{INDENT} panel › posted again below, to stay in sight")
                self.show_panel(message, first=not again)
                continue
            self.show_message(message)
        panel = next((m for m in history if m.id == self.panel_id), None)
        if panel is not None:
            self.show_panel(panel, first=False)
        feedback = next((m for m in history if m.content.startswith("How valuable")), None)
        if feedback is not None and feedback.content != self.feedback_content:
            if self.feedback_content is not None:
                counts = feedback.content.splitlines()[-1]
                print(f"{self.clock()} (feedback message now reads: “{counts}”)")
            self.feedback_content = feedback.content

    def show_message(self, message: discord.Message) -> None:
        stamp = self.clock(message.created_at)
        lines = self.render(message.content).splitlines() if message.content else []
        for index, line in enumerate(lines):
            print(f"{stamp if index == 0 else INDENT} {line}")
        for embed in message.embeds:
            self.print_embed(embed, lead=INDENT if lines else stamp)
            lines.append(embed.title or "")
        buttons = labels(message)
        if buttons:
            print(f"{INDENT} " + " ".join(f"[{b}]" for b in buttons))

    def show_panel(self, message: discord.Message, *, first: bool) -> None:
        if not message.embeds:
            return
        embed = message.embeds[0]
        fields = {
            f.name or "": self.render(f.value or "", join="  " if f.name == "Agenda" else " · ")
            for f in embed.fields
        }
        title = embed.title or ""
        if first:
            print(f"{self.clock()} ┌─ the session panel: {title}")
            for name, value in fields.items():
                print(f"{INDENT} │ {name:<7} {value}")
            print(f"{INDENT} └─ " + " ".join(f"[{b}]" for b in labels(message)))
        elif fields != self.panel:
            changed = [f"{k}: {v}" for k, v in fields.items() if self.panel.get(k) != v]
            changed += [f"{k}: —" for k in self.panel if k not in fields]
            if title.endswith("(ended)"):
                changed.insert(0, "ended, buttons removed")
            print(f"{INDENT} panel › " + " | ".join(changed))
        self.panel = fields

    def print_embed(self, embed: discord.Embed, *, lead: str = INDENT) -> None:
        print(f"{lead} ┌─ {embed.title or ''}")
        if embed.description:
            print(f"{INDENT} │ {self.render(embed.description)}")
        for field in embed.fields:
            print(f"{INDENT} │ {field.name}")
            for line in self.render(field.value or "").splitlines():
                print(f"{INDENT} │   {line}")
        footer = embed.footer.text if embed.footer else None
        print(f"{INDENT} └─ {self.render(footer or '')}".rstrip())

    def action(self, who: str, what: str) -> None:
        print(f"{self.clock()} {who} › {what}")

    def reply(self, who: str, result: InteractionResult, *, first_sentence: bool = False) -> None:
        if result.modal is not None:
            print(f"{INDENT} ↳ a form opens: {result.modal.get('title', '')}")
            return
        message = result.followups[-1] if result.followups else result.response
        if not result.ephemeral or message is None or not message.content:
            return
        content = self.render(message.content)
        if first_sentence:
            content = content.split(". ")[0].rstrip(".") + "."
        lines = content.splitlines()
        print(f"{INDENT} ↳ (only {who} sees) {lines[0]}")
        for line in lines[1:]:
            print(f"{INDENT}   {line}")

    # -- rendering ----------------------------------------------------------------------

    def render(self, text: str, *, join: str | None = None) -> str:
        """Mentions as names, Discord timestamps as times, without Markdown marks."""
        text = _ROLE.sub("@role", text)
        text = _MENTION.sub(lambda m: "@" + self.names.get(int(m[1]), "someone"), text)
        text = _CHANNEL.sub(lambda m: "#" + self.channels.get(int(m[1]), "channel"), text)
        text = _TIMESTAMP.sub(lambda m: self.moment(int(m[1]), m[2] or "f"), text)
        text = _MARKUP.sub("", text)
        if join is not None:
            text = join.join(line.strip() for line in text.splitlines() if line.strip())
        return text

    def moment(self, unix: int, style: str) -> str:
        when = datetime.fromtimestamp(unix, UTC)
        now = self.env.now()
        near = self.start is not None and abs(when - now) <= timedelta(hours=2)
        if style in ("t", "T") and near:
            return self.clock(when).strip("[]")
        if style == "R" and near:
            return "at " + self.clock(when).strip("[]")
        if style == "R":
            return relative(when - now)
        return when.strftime("%a %d %b %Y, %H:%M UTC")

    def clock(self, moment: datetime | None = None) -> str:
        if self.start is None:
            return "[setup]".ljust(10)
        seconds = round(((moment or self.env.now()) - self.start).total_seconds())
        sign = "-" if seconds < 0 else ""
        seconds = abs(seconds)
        return f"[{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}]"

    def display(self, username: str) -> str:
        return self.names[self.people[username].id]

    def is_panel(self, message: discord.Message) -> bool:
        title = message.embeds[0].title if message.embeds else None
        return bool(title) and title == f"{GROUP} · session"

    def panel_message(self, text: ChannelHandle) -> discord.Message:
        return next(m for m in text.history() if m.id == self.panel_id)

    def feedback_message(self, text: ChannelHandle) -> discord.Message:
        return next(m for m in text.history() if m.content.startswith("How valuable"))


def labels(message: discord.Message) -> list[str]:
    found: list[str] = []
    for row in message.components:
        for item in getattr(row, "children", []):
            label = getattr(item, "label", None)
            if label:
                found.append(str(label))
    return found


def relative(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    size = abs(seconds)
    if size >= 2 * 86400:
        amount = f"{round(size / 86400)} days"
    elif size >= 2 * 3600:
        amount = f"{round(size / 3600)} hours"
    else:
        amount = f"{round(size / 60)} minutes"
    return f"in {amount}" if seconds >= 0 else f"{amount} ago"


def names_in(people: tuple[tuple[str, str], ...]) -> str:
    return " → ".join(display for _, display in people)


if __name__ == "__main__":
    raise SystemExit(run_demo())
