"""Extension points where one feature lets others take part (what `/group info` shows, what
happens before a group is archived or after a session ends).

Each entry belongs to an owner (a cog) and is removed with it. Each call is isolated: an entry
that raises is logged with its owner and skipped, so one feature's bug never stops the others
or the feature that asked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Generic, ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class Hook(Generic[P, R]):
    """The callbacks registered at one extension point, called in the order they were added."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[tuple[object, Callable[P, Awaitable[R]]]] = []

    def add(self, owner: object, callback: Callable[P, Awaitable[R]]) -> None:
        self._entries.append((owner, callback))

    def remove_owner(self, owner: object) -> None:
        self._entries = [entry for entry in self._entries if entry[0] is not owner]

    def __len__(self) -> int:
        return len(self._entries)

    async def call_each(self, *args: P.args, **kwargs: P.kwargs) -> list[R]:
        """Every entry's result, in order; an entry that raised is logged and left out."""
        results: list[R] = []
        for owner, callback in list(self._entries):
            try:
                results.append(await callback(*args, **kwargs))
            except Exception:
                log.exception("%s hook of %s failed", self.name, type(owner).__name__)
        return results


class HookRegistry:
    """Base of a set of named hooks: `remove(owner)` drops an owner's entries from all."""

    def hooks(self) -> list[Hook[..., object]]:
        return [value for value in vars(self).values() if isinstance(value, Hook)]

    def remove(self, owner: object) -> None:
        for hook in self.hooks():
            hook.remove_owner(owner)
