"""The hook registry: entries belong to owners, each call is isolated and logged."""

from __future__ import annotations

import logging

import pytest

from core.hooks import Hook, HookRegistry


class Owner:
    pass


class Registry(HookRegistry):
    def __init__(self) -> None:
        self.info: Hook[[int], str] = Hook("info")
        self.end: Hook[[int], None] = Hook("end")


async def test_results_come_in_order_and_a_failing_entry_is_logged_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook: Hook[[int], str] = Hook("info")
    first, broken, last = Owner(), Owner(), Owner()

    async def one(n: int) -> str:
        return f"one {n}"

    async def fails(n: int) -> str:
        raise RuntimeError("a bug in another feature")

    async def three(n: int) -> str:
        return f"three {n}"

    hook.add(first, one)
    hook.add(broken, fails)
    hook.add(last, three)
    with caplog.at_level(logging.ERROR, logger="core.hooks"):
        assert await hook.call_each(5) == ["one 5", "three 5"]
    assert any("info hook of Owner failed" in r.getMessage() for r in caplog.records)


async def test_removing_an_owner_drops_its_entries_from_every_hook() -> None:
    registry = Registry()
    leaving, staying = Owner(), Owner()
    calls: list[str] = []

    async def info(n: int) -> str:
        return "leaving"

    async def kept(n: int) -> str:
        return "staying"

    async def end(n: int) -> None:
        calls.append("end")

    registry.info.add(leaving, info)
    registry.info.add(staying, kept)
    registry.end.add(leaving, end)
    registry.remove(leaving)
    assert await registry.info.call_each(1) == ["staying"]
    assert await registry.end.call_each(1) == []
    assert calls == [] and len(registry.end) == 0 and len(registry.hooks()) == 2
