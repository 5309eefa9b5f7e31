"""The panel's buttons and the note form; persistent across restarts by their custom ids."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from cogs.common.errors import GuardedButton, handle_interaction_error
from cogs.sessions._panel import BUTTON_LABELS
from core.session import SessionState

if TYPE_CHECKING:
    from cogs.sessions._runner import SessionRunner

ACTIONS = ("next", "extend", "pause", "hand", "note", "end")
_STYLES = {
    "next": discord.ButtonStyle.primary,
    "extend": discord.ButtonStyle.secondary,
    "pause": discord.ButtonStyle.secondary,
    "hand": discord.ButtonStyle.success,
    "note": discord.ButtonStyle.secondary,
    "end": discord.ButtonStyle.danger,
}


def _runner(interaction: discord.Interaction) -> SessionRunner:
    runner = cast(Any, interaction.client).session_runner
    assert runner is not None, "the sessions feature is not loaded"
    return cast("SessionRunner", runner)


class PanelButton(
    GuardedButton,
    template=r"mm:session:(?P<action>next|extend|pause|hand|note|end):(?P<session_id>\d+)",
):
    def __init__(self, action: str, session_id: int, *, paused: bool = False) -> None:
        label = BUTTON_LABELS["resume" if action == "pause" and paused else action]
        super().__init__(
            discord.ui.Button(
                label=label,
                style=_STYLES[action],
                custom_id=f"mm:session:{action}:{session_id}",
            )
        )
        self.action = action
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PanelButton:
        return cls(match["action"], int(match["session_id"]))

    async def pressed(self, interaction: discord.Interaction) -> None:
        await _runner(interaction).on_panel_button(interaction, self.action, self.session_id)


def panel_view(state: SessionState) -> discord.ui.View | None:
    if state.is_ended():
        return None
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        view.add_item(PanelButton(action, state.session_id, paused=state.is_paused()))
    return view


class NoteModal(discord.ui.Modal):
    """`Add note` on the panel: a resource, referral or insight for whoever holds the floor."""

    kind: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
        label="Kind: resource, referral or insight",
        custom_id="kind",
        placeholder="resource",
        default="resource",
        max_length=10,
    )
    text: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
        label="Note",
        custom_id="text",
        style=discord.TextStyle.paragraph,
        max_length=1000,
    )

    def __init__(self, session_id: int) -> None:
        super().__init__(title="Add a note", custom_id=f"mm:session:notemodal:{session_id}")
        self.session_id = session_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await _runner(interaction).add_note_from_form(
            interaction, self.session_id, self.kind.value, self.text.value
        )

    async def on_error(  # type: ignore[override]  # Modal narrows View.on_error
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await handle_interaction_error(interaction, error, "note form")
