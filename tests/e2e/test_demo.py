"""`python bot.py demo`: a whole simulated meeting, printed as a transcript, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    """The demo run the way a person runs it, with no token and no .env in sight."""
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "bot.py", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_the_demo_runs_a_meeting_quietly_and_exits(
    demo: subprocess.CompletedProcess[str],
) -> None:
    # It exits by itself (the database thread is closed), cleanly, with nothing on stderr:
    # no traceback, no log lines.
    assert demo.returncode == 0, demo.stderr
    assert demo.stderr == ""
    out = demo.stdout
    assert "Traceback" not in out
    # Everything is rendered for a reader: no raw mentions, timestamps or Markdown marks.
    for raw in ("<@", "<t:", "<#", "**", "~~"):
        assert raw not in out, f"{raw!r} left in the transcript"


def test_the_transcript_tells_the_meeting_in_order(
    demo: subprocess.CompletedProcess[str],
) -> None:
    out = demo.stdout
    story = [
        # the start and the panel, with its buttons
        "Fay › /session start group:Circle format:standard turn_minutes:4 hotseats:2",
        "Started a standard session with 5 people.",
        "┌─ the session panel: Circle · session",
        "Floor   @Fay · Check-in · ends at 00:02:00",
        "[Next] [+2 min] [Pause] [Raise hand] [Add note] [End session]",
        # check-in: a warning a minute before the end, then the hand-over, on the clock
        "[00:00:00] 🎙️ @Fay, your check-in: wins since last time. Ends at 00:02:00.",
        "[00:01:00] ⏳ @Fay, one minute left (ends at 00:02:00).",
        "[00:02:00] 🎙️ @Ana, your check-in",
        "panel › Floor: @Ana · Check-in · ends at 00:04:00",
        "[00:08:00] 🎙️ @Dee, your check-in",
        # the first hot seat, its three phases, a note, a raised hand and a queued one
        "[00:10:00] 🔥 @Fay is in the hot seat: present your challenge.",
        "[00:11:00] ❓ Clarifying questions for @Fay.",
        "[00:12:00] 💡 Advice for @Fay: press Raise hand to respond.",
        "Ana › presses “Add note”",
        "Saved your resource for @Fay.",
        "Ben › presses “Raise hand”",
        "[00:12:10] ✋ @Ben, you have the floor to respond.",
        "Hot seat: @Fay receives advice",
        "Cy › presses “Raise hand”",
        "panel › Hands raised: @Cy",
        "Ben › presses “Next”",
        "[00:12:50] ✋ @Cy, you have the floor to respond.",
        "[00:14:00] 🔥 @Ana is in the hot seat",
        # commitments, then the end by itself: panel, summary, feedback
        "[00:18:00] 📝 @Fay, your commitments: what will you do next?",
        "[Record next steps]",
        "[00:22:00] 📝 @Dee, your commitments",
        "[00:23:00] ┌─ Circle · session summary",
        "resource for @Fay: Kern's six steps",
        "23 minutes · completed",
        "How valuable was today's session?",
        "[Not valuable] [Slightly] [Moderately] [Valuable] [Very valuable] [Add details]",
        "panel › ended, buttons removed",
        # four ratings and one form with next steps
        "Fay › presses “Very valuable”",
        "Thank you! You rated the session Very valuable.",
        "Cy › presses “Moderately”",
        "feedback message now reads: “4 responses so far.”",
        "Ana › presses “Add details”",
        "Saved your feedback details. Next steps recorded: #1, #2.",
        # the report's figures
        "Fay › /report session group:Circle",
        "┌─ Circle · session #1 report",
        "23 min · 5 attended",
        "Ratings (4)",
        "Very valuable · 2",
        "Mean 4.25 / 5",
        "Very valuable 50.0 %",
        "Response rate 80.0 % (4 of 5)",
        "Next steps 2 (0.0 % done)",
        "📎 session-1.png (a PNG chart",
        "📎 feedback.csv (4 rows",
    ]
    position = 0
    for line in story:
        found = out.find(line, position)
        assert found >= 0, f"{line!r} missing (or out of order) after:\n{out[position - 300 :]}"
        position = found + len(line)
    # Floor time in the summary: Fay's advice phase minus the two responses in it.
    summary = out[out.index("Circle · session summary") :]
    assert "@Fay · 5:10" in summary and "@Ben · 3:40" in summary and "@Cy · 4:10" in summary
    # Exactly one announcement per hand-over, and one warning per segment over 90 s.
    assert out.count("your check-in") == 5 and out.count("your commitments") == 5
    assert out.count("one minute left") == 5 + 2


def test_without_simcord_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from demo import run_demo

    monkeypatch.setitem(sys.modules, "simcord", None)  # `import simcord` fails
    assert run_demo() == 2
    captured = capsys.readouterr()
    assert "pip install '.[test]'" in captured.err and "make demo" in captured.err
    assert captured.out == ""
