"""Fitting lines of text into Discord's limits (a message, an embed field), without Discord."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def lines_that_fit(header: str, lines: Sequence[str], limit: int, more: str) -> int:
    """How many of `lines` (the first ones) fit on new lines under `header` in `limit`
    characters, leaving room for the `more` line (`more.format(n)` with n the lines left out)
    whenever some are left out."""
    if len(header) + sum(1 + len(line) for line in lines) <= limit:
        return len(lines)
    used = len(header)
    best = 0
    for shown, line in enumerate(lines):
        if used + 1 + len(more.format(len(lines) - shown)) <= limit:
            best = shown
        used += 1 + len(line)
        if used > limit:
            break
    return best


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """The items in consecutive groups of at most `size` (none for no items)."""
    return [list(items[start : start + size]) for start in range(0, len(items), size)]
