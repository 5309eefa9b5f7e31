"""`python bot.py demo --browser`: the demo meeting in a browser, where you take part.

The same simulated meeting as `python bot.py demo` (the real bot against SimCord, five members,
the `standard` format), but nothing happens by itself: SimCord's local preview serves the
group channel as Discord shows it on a loopback address, you act as one of the members (raise
a hand, add a note, rate the session; the page can switch to another member), and you step
the virtual clock from the terminal. No token, no network beyond 127.0.0.1.

Terminal commands: Enter or `advance` (one minute), `advance 5 minutes`, `advance 30 seconds`,
`next` (to the next hand-over or warning), `quit`. Closing the preview from the page
("End preview session"), Ctrl-C or SIGTERM stop it too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cogs.sessions._panel import PHASE_LABELS
from demo import INSTALL_HINT, OPTIONS, PEOPLE, Demo, _quiet_logging, _tolerant_stdout, simulated

if TYPE_CHECKING:
    from simcord import Env

    from bot import MastermindBot

HELP = """\
Type a command and press Enter:
  Enter / advance          one minute of meeting time passes
  advance 5 minutes        (or seconds)
  next                     straight to the next hand-over or warning
  quit                     stop the demo"""
_ADVANCE = re.compile(r"^(?:advance|a)?\s*(\d+)?\s*(s|sec|secs|seconds?|m|min|mins|minutes?)?$")
MAX_STEP = 6 * 3600
"""The most one command advances (a typo must not run the clock for days)."""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python bot.py demo --browser", description=__doc__)
    parser.add_argument("--browser", action="store_true", help="serve the demo in a browser")
    parser.add_argument(
        "--port", type=int, default=0, help="loopback port for the preview (default: any free)"
    )
    names = [username for username, _ in PEOPLE if username != "fay"]
    parser.add_argument(
        "--as",
        dest="member",
        choices=names,
        default="ana",
        help="the member you act as (Fay facilitates; default: ana)",
    )
    args = parser.parse_args(argv)
    try:
        import simcord  # noqa: F401
        from simcord.preview import _require_preview_runtime

        _require_preview_runtime()
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    except Exception as error:  # SimCord's SetupError: the preview extra is missing
        print(f"{error}\n{INSTALL_HINT}", file=sys.stderr)
        return 2
    _quiet_logging()
    _tolerant_stdout()
    asyncio.run(_serve(args.port, args.member))
    return 0


def parse_step(line: str) -> int | None:
    """Seconds to advance for a terminal command (None: not an advance command)."""
    found = _ADVANCE.fullmatch(line.strip().lower())
    if found is None:
        return None
    amount = int(found[1]) if found[1] else 1
    unit = found[2] or "m"
    seconds = amount if unit.startswith("s") else amount * 60
    return min(seconds, MAX_STEP)


async def _serve(port: int, member: str) -> None:
    async with simulated() as (env, bot):
        await BrowserDemo(env, bot, member).run(port)


class BrowserDemo:
    def __init__(self, env: Env, bot: MastermindBot, member: str) -> None:
        self.env = env
        self.bot = bot
        self.member = member
        self.demo = Demo(env, bot)
        self.stop = asyncio.Event()
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()

    async def run(self, port: int) -> None:
        text = await self.demo.setup()
        people = self.demo.people
        await people["fay"].slash(text, "session start", **OPTIONS)
        self.demo.start = self.env.now()
        cog: Any = self.bot.get_cog("SessionsCog")
        live = cog.service.session_for_group(1)
        assert live is not None, "the session did not start"
        self.demo.session_id = live.session_id
        viewers = [people[self.member]] + [
            people[username] for username, _ in PEOPLE if username != self.member
        ]
        you = self.demo.display(self.member)
        async with self.env.preview(text, viewers=viewers, layout="channel", port=port) as page:
            print()
            print("Fay started the meeting. Open this address in your browser (it is local):")
            print(f"  {page.url}")
            print(
                f"You are {you}: press Raise hand in an advice phase, Add note at any time, and "
                "rate the session when it ends. The page can switch to another member."
            )
            print(HELP)
            self.status()
            self._listen()
            closed = asyncio.ensure_future(page.wait_closed())
            while not self.stop.is_set():
                line = asyncio.ensure_future(self.lines.get())
                done, _ = await asyncio.wait({line, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    line.cancel()
                    print("The preview was closed.")
                    break
                command = line.result()
                if command is None or command.strip().lower() in ("q", "quit", "exit"):
                    break
                await self.handle(command)
                await page.refresh()
            closed.cancel()
        print("Demo stopped.")
        sys.stdout.flush()

    def _listen(self) -> None:
        """Terminal lines and stop signals arrive as queue items. The reader is a daemon
        thread, so a blocked read never keeps the process from exiting."""
        loop = asyncio.get_running_loop()

        def read() -> None:
            for raw in sys.stdin:
                loop.call_soon_threadsafe(self.lines.put_nowait, raw)
            loop.call_soon_threadsafe(self.lines.put_nowait, None)

        threading.Thread(target=read, name="demo-stdin", daemon=True).start()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.lines.put_nowait, None)

    async def handle(self, command: str) -> None:
        if command.strip().lower() == "next":
            due = self.demo.next_due()
            if due is None:
                print("Nothing is due: the meeting has ended. `advance` lets time pass anyway.")
                return
            seconds = max(1.0, (due - self.env.now()).total_seconds())
        else:
            step = parse_step(command)
            if step is None:
                print(f"Unknown command {command.strip()!r}.\n{HELP}")
                return
            seconds = float(step)
        await self.env.advance_time(seconds)
        self.status()

    def status(self) -> None:
        """Where the meeting is, on the session's own clock."""
        cog: Any = self.bot.get_cog("SessionsCog")
        state = cog.service.get(self.demo.session_id)
        clock = self.demo.clock()
        if state is None:
            print(f"{clock} The meeting has ended: the feedback message waits for your rating.")
        else:
            floor = state.floor()
            who = self.demo.names.get(floor.speaker_id, "someone") if floor else "nobody"
            phase = PHASE_LABELS.get(floor.phase, floor.phase.value) if floor else ""
            due = state.next_due()
            then = f"; next event at {self._at(due)}" if due else " (paused)"
            print(f"{clock} {who} has the floor · {phase}{then}.")
        sys.stdout.flush()

    def _at(self, moment: datetime) -> str:
        start = self.demo.start or moment
        seconds = round((moment - start) / timedelta(seconds=1))
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
