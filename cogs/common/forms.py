"""Forms (modals) that still work when the bot restarted while someone was filling them in.

discord.py delivers a submitted form to the `Modal` object that opened it; after a restart
that object is gone and the submission would be dropped, losing what the person typed. Each
feature therefore also listens for raw submissions of its namespaced form ids and handles
those whose `Modal` this process does not hold.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from cogs.common.errors import handle_interaction_error

_MAX_OPEN = 10_000


class OpenForms:
    """The forms this process opened and still holds a `Modal` for."""

    def __init__(self) -> None:
        self._open: set[tuple[int, str]] = set()

    def opened(self, user_id: int, custom_id: str) -> None:
        if len(self._open) >= _MAX_OPEN:
            self._open.clear()
        self._open.add((user_id, custom_id))

    def held(self, user_id: int, custom_id: str) -> bool:
        return (user_id, custom_id) in self._open


def submitted_form(interaction: discord.Interaction) -> tuple[str, dict[str, str]] | None:
    """The form id and its text values, for a form submission; None for anything else."""
    if interaction.type != discord.InteractionType.modal_submit or interaction.data is None:
        return None
    data: Any = interaction.data
    values: dict[str, str] = {}
    _collect(data.get("components", []), values)
    return str(data.get("custom_id", "")), values


async def resume_orphan_form(
    interaction: discord.Interaction,
    open_forms: OpenForms,
    form_id: re.Pattern[str],
    save: Callable[[re.Match[str], dict[str, str]], Awaitable[None]],
    context: str,
) -> None:
    """Hand a submitted form of `form_id` that no `Modal` of this process holds (it was opened
    before a restart) to `save`; its errors go to the one handler."""
    submitted = submitted_form(interaction)
    if submitted is None:
        return
    custom_id, values = submitted
    match = form_id.fullmatch(custom_id)
    if match is None or open_forms.held(interaction.user.id, custom_id):
        return
    try:
        await save(match, values)
    except Exception as error:
        await handle_interaction_error(interaction, error, context)


def _collect(components: list[Any], into: dict[str, str]) -> None:
    for component in components:
        if "value" in component and "custom_id" in component:
            into[str(component["custom_id"])] = str(component["value"] or "")
        if "components" in component:
            _collect(component["components"], into)
        if "component" in component:
            _collect([component["component"]], into)
