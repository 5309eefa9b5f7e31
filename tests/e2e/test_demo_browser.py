"""`python bot.py demo --browser`: the demo meeting served on loopback, where you take part."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

from demo_browser import MAX_STEP, parse_step

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def line_with(process: asyncio.subprocess.Process, fragment: str) -> str:
    """The next line of the demo's output that contains `fragment` (within 60 s)."""
    assert process.stdout is not None
    async with asyncio.timeout(60):
        while True:
            raw = await process.stdout.readline()
            assert raw, f"the demo exited before printing {fragment!r}"
            if fragment in raw.decode():
                return raw.decode().strip()


async def say(process: asyncio.subprocess.Process, command: str) -> None:
    assert process.stdin is not None
    process.stdin.write(f"{command}\n".encode())
    await process.stdin.drain()


def button(page: dict[str, Any], label: str) -> tuple[str, str]:
    """(message id, control key) of the newest message's button with that label."""
    for message_id in sorted(page["messages"], key=int, reverse=True):
        for row in page["messages"][message_id]["components"]:
            for item in row.get("components", []):
                if item.get("label") == label:
                    return message_id, item["control_key"]
    raise AssertionError(f"no {label!r} button on the page")


async def test_the_browser_demo_serves_the_meeting_and_takes_a_click() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["PYTHONIOENCODING"] = "utf-8"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "bot.py",
        "demo",
        "--browser",
        "--port",
        str(port),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = await line_with(process, "http://")
        base, capability = url.split("/#", 1)
        assert base == f"http://127.0.0.1:{port}"
        await line_with(process, "[00:00:00] Fay has the floor · Check-in")
        # Twelve minutes on: Fay's hot seat is in its advice phase.
        await say(process, "advance 12 minutes")
        await line_with(process, "[00:12:00] Fay has the floor · Hot seat · advice")

        headers = {"X-Simcord-Capability": capability}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/") as index:
                assert index.status == 200
                assert "<html" in (await index.text()).lower()
            async with http.post(f"{base}/api/pages", json={}, headers=headers) as opened:
                assert opened.status == 200
                page = await opened.json()
            assert page["viewers"][0]["name"] == "Ana"  # the newcomer acts as Ana
            message_id, control = button(page, "Raise hand")
            click = {
                "protocol_version": 3,
                "sequence": 1,
                "request_id": "raise-1",
                "generation": page["context"]["generation"],
                "bot_generation": page["botGeneration"],
                "kind": "click",
                "published_revision": page["publishedRevision"],
                "target_id": message_id,
                "control_key": control,
            }
            context = {**headers, "X-Simcord-Context": page["context"]["id"]}
            async with http.post(f"{base}/api/action", json=click, headers=context) as acted:
                assert acted.status == 200
                result = await acted.json()
            # The press was taken: the bot answered by updating the panel it was made on.
            assert result["rejected"] is False and result["dispatched"] is True, result
            assert {"kind": "source_edit", "messageId": message_id} in result["outcomes"]
            async with http.get(f"{base}/api/state", headers=context) as state:
                shown = await state.json()
        # Ana now holds the floor to respond: the channel says so.
        contents = [m["content"] for m in shown["messages"].values()]
        assert any("you have the floor to respond" in c for c in contents), contents
        await say(process, "quit")
        await line_with(process, "Demo stopped.")
        async with asyncio.timeout(30):
            assert await process.wait() == 0
        assert process.stderr is not None
        assert (await process.stderr.read()).decode() == ""
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # Nothing listens on the port any more.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_terminal_commands_step_the_clock() -> None:
    assert parse_step("") == 60
    assert parse_step("advance") == 60
    assert parse_step("advance 5 minutes") == 300
    assert parse_step("advance 30 seconds") == 30
    assert parse_step("a 2 min") == 120
    assert parse_step("advance 1000 minutes") == MAX_STEP
    assert parse_step("dance") is None
