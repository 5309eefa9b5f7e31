"""Pictures of what members see, for the README, rendered as Discord shows them.

    python scripts/screenshots.py            # writes docs/*.png
    python scripts/screenshots.py --out DIR  # somewhere else

The demo meeting (`python bot.py demo`: the real bot against SimCord, in virtual time) runs
to the moments worth showing; at each, SimCord's local preview focuses the message and
headless Chromium (Debian's `chromium` package, or `--chromium PATH`) photographs the page
as a member sees it:

- `docs/panel-advice.png`: the session panel during a hot seat's advice phase, someone
  responding and a hand raised;
- `docs/checkin-steps.png`: a check-in at the next meeting, with last time's next steps and
  their `Done` / `Partly` / `Not yet` buttons;
- `docs/feedback.png`: the feedback message after the meeting;
- `docs/channel-after.png`: the group channel once the meeting is over and tidied;
- `docs/report-chart.png`: the chart `/report session` attaches (the PNG the bot sends, saved
  as it is: the preview shows it shrunk into the report).

Regenerate them whenever the look of these messages changes. Nothing here runs in the tests:
they must not need a browser.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demo import FIRST_ADVICE, MEETING, OPTIONS, Demo, _quiet_logging, simulated  # noqa: E402

WIDTH = 760
"""Wide enough for the panel's five buttons in a row, as on a laptop."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--chromium", default=None, help="the Chromium binary (default: found)")
    args = parser.parse_args(argv)
    browser = args.chromium or next(
        (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))),
        None,
    )
    if browser is None:
        print("Chromium is needed: apt-get install chromium (or pass --chromium).", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    _quiet_logging()
    written = asyncio.run(_shoot(browser, args.out))
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


async def _shoot(browser: str, out: Path) -> list[Path]:
    written: list[Path] = []
    async with simulated() as (env, bot):
        demo = Demo(env, bot)
        _silence(demo)
        text = await demo.setup()
        people = demo.people
        fay = people["fay"]
        await fay.slash(text, "session start", **OPTIONS)
        demo.start = env.now()
        cog: Any = bot.get_cog("SessionsCog")
        demo.session_id = cog.service.session_for_group(1).session_id
        members = [people[name] for name in ("ana", "ben", "cy", "dee", "fay")]

        async def until(seconds: int) -> None:
            assert demo.start is not None
            moment = demo.start + timedelta(seconds=seconds)
            await env.advance_time(max(0.0, (moment - env.now()).total_seconds()))

        async def shot(
            name: str,
            target: Any,
            height: int,
            viewer: Any = None,
            layout: str = "message",
        ) -> None:
            """One preview per picture, seen by `viewer` (an ephemeral reply is theirs)."""
            first = viewer or people["ana"]
            viewers = [first, *(m for m in members if m is not first)]
            async with env.preview(
                text,
                viewers=viewers,
                layout="channel" if layout == "channel" else "message",
                display="fixed",
                width=WIDTH,
                height=height,
            ) as preview:
                await preview.show(target)
                path = out / name
                await _chromium(browser, preview.url, path, height)
                written.append(path)

        # The first hot seat's advice phase: Ben responds, Cy's hand is up, a note taken.
        await until(FIRST_ADVICE + 5)
        note = await people["ana"].click(_latest(text, demo.is_panel), label="Add note")
        await people["ana"].submit_modal(
            note, {"kind": "resource", "text": "Kern's six steps for curriculum development"}
        )
        await until(FIRST_ADVICE + 10)
        await people["ben"].click(_latest(text, demo.is_panel), label="Raise hand")
        await until(FIRST_ADVICE + 25)
        await people["cy"].click(_latest(text, demo.is_panel), label="Raise hand")
        await until(FIRST_ADVICE + 40)
        demo.show_new(text)
        await shot("panel-advice.png", _latest(text, demo.is_panel), 720)

        # After the meeting: three ratings and a form with next steps.
        await until(MEETING + 30)
        demo.show_new(text)
        for who, label in (("fay", "Very valuable"), ("ben", "Valuable"), ("cy", "Moderately")):
            await people[who].click(demo.feedback_message(text), label=label)
        form = await people["ana"].click(demo.feedback_message(text), label="Add details")
        await people["ana"].submit_modal(
            form,
            {
                "resources": "Kern's six steps",
                "next_steps": "Draft the aims page of the grant\nBook two hours with Dr. Osei",
            },
        )
        await shot("feedback.png", demo.feedback_message(text), 280)

        # A minute after the end the channel is tidied: the panel, summary and feedback stay.
        await until(MEETING + 120)
        await shot("channel-after.png", demo.feedback_message(text), 900, layout="channel")

        report = await fay.slash(text, "report session", group="Circle")
        # The chart is the PNG the bot attaches, saved as it is: in the preview it is shown
        # shrunk into the report, too small to read on a page.
        message = report.followups[-1] if report.followups else report.response
        chart = next(a for a in message.attachments if a.filename.endswith(".png"))
        path = out / "report-chart.png"
        await asyncio.to_thread(path.write_bytes, await chart.read())
        written.append(path)

        # The next meeting: Ana's check-in brings back the steps she recorded.
        await until(MEETING + 3600)
        await fay.slash(text, "session start", **OPTIONS)
        await env.advance_time(120)
        checkin = _latest(text, lambda m: m.content.startswith("🎙️") and bool(m.components))
        await shot("checkin-steps.png", checkin, 330)
    return written


def _latest(text: Any, wanted: Callable[[Any], bool]) -> Any:
    found = [m for m in text.history() if wanted(m)]
    assert found, "the message to photograph was not posted"
    return found[-1]


def _silence(demo: Demo) -> None:
    """The demo's transcript printing is not wanted here; its bookkeeping is."""
    for name in ("show_panel", "show_message", "print_embed"):
        setattr(demo, name, lambda *args, **kwargs: None)


async def _chromium(browser: str, url: str, path: Path, height: int) -> None:
    """Photograph the preview page. Chromium runs as a separate process while this one keeps
    serving the page; virtual time lets the page's scripts finish before the picture."""
    process = await asyncio.create_subprocess_exec(
        browser,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={WIDTH},{height}",
        "--virtual-time-budget=8000",
        f"--screenshot={path}",
        url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with asyncio.timeout(120):
        await process.wait()
    if process.returncode != 0 or not await asyncio.to_thread(path.exists):
        raise RuntimeError(f"chromium could not photograph {path.name}")


if __name__ == "__main__":
    raise SystemExit(main())
