"""Feedback buttons, the details form and next-step buttons; all persistent by custom id."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from cogs.common.errors import GuardedButton, handle_interaction_error
from core.feedback import DETAIL_LABELS, DETAIL_MAX, RATING_LABELS, StepStatus

INPUT_MAX = 4000
"""The longest text Discord lets a form field hold."""

if TYPE_CHECKING:
    from cogs.feedback._cog import FeedbackCog


def _cog(interaction: discord.Interaction) -> FeedbackCog:
    """The feedback feature on the bot (set while it is loaded), not looked up by name."""
    cog = cast(Any, interaction.client).feedback
    assert cog is not None, "the feedback feature is not loaded"
    return cast("FeedbackCog", cog)


class RateButton(
    GuardedButton,
    template=r"mm:feedback:rate:(?P<session_id>\d+):(?P<rating>[1-5])",
):
    def __init__(self, session_id: int, rating: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=RATING_LABELS[rating],
                style=discord.ButtonStyle.success if rating == 5 else discord.ButtonStyle.secondary,
                custom_id=f"mm:feedback:rate:{session_id}:{rating}",
            )
        )
        self.session_id = session_id
        self.rating = rating

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RateButton:
        return cls(int(match["session_id"]), int(match["rating"]))

    async def pressed(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).rate(interaction, self.session_id, self.rating)


class DetailsButton(
    GuardedButton,
    template=r"mm:feedback:details:(?P<session_id>\d+)",
):
    def __init__(self, session_id: int, label: str = "Add details") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"mm:feedback:details:{session_id}",
            )
        )
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DetailsButton:
        return cls(int(match["session_id"]))

    async def pressed(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).open_details(interaction, self.session_id)


class DraftButton(
    GuardedButton,
    template=r"mm:feedback:draft:(?P<session_id>\d+)",
):
    """Reopens a refused details form filled in with what the person typed."""

    def __init__(self, session_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=DRAFT_LABEL,
                style=discord.ButtonStyle.primary,
                custom_id=f"mm:feedback:draft:{session_id}",
            )
        )
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DraftButton:
        return cls(int(match["session_id"]))

    async def pressed(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).open_draft(interaction, self.session_id)


DRAFT_LABEL = "Edit what I typed"


def draft_view(session_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(DraftButton(session_id))
    return view


def feedback_view(session_id: int, *, closed: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for rating in RATING_LABELS:
        button = RateButton(session_id, rating)
        button.item.disabled = closed
        view.add_item(button)
    details = DetailsButton(session_id)
    details.item.disabled = closed
    view.add_item(details)
    return view


class DetailsModal(discord.ui.Modal):
    """The feedback form; each non-empty line of next steps becomes one step."""

    def __init__(self, session_id: int, current: dict[str, str]) -> None:
        super().__init__(title="Feedback details", custom_id=f"mm:feedback:form:{session_id}")
        self.session_id = session_id
        self.fields: dict[str, discord.ui.TextInput[DetailsModal]] = {}
        placeholders = {
            "resources": "Articles, books, tools…",
            "referrals": "Who were you pointed to?",
            "next_steps": "e.g. Draft the grant aims page",
            "comments": "Anything else for the facilitators",
        }
        for name, placeholder in placeholders.items():
            default = (current.get(name) or "")[:INPUT_MAX]
            field: discord.ui.TextInput[DetailsModal] = discord.ui.TextInput(
                label=DETAIL_LABELS[name],
                custom_id=name,
                style=discord.TextStyle.paragraph,
                placeholder=placeholder,
                default=default or None,
                required=False,
                # A reopened draft longer than the limit is shown whole, to be shortened.
                max_length=max(DETAIL_MAX, len(default)),
            )
            self.fields[name] = field
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        values = {name: field.value for name, field in self.fields.items()}
        await _cog(interaction).save_details(interaction, self.session_id, values)

    async def on_error(  # type: ignore[override]  # Modal narrows View.on_error
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await handle_interaction_error(interaction, error, "feedback form")


STEP_BUTTONS = {
    "done": StepStatus.DONE,
    "partly": StepStatus.PARTLY,
    "notyet": StepStatus.NOT_YET,
}


class StepButton(
    GuardedButton,
    template=r"mm:step:(?P<status>done|partly|notyet):(?P<step_id>\d+)",
):
    def __init__(self, status: str, step_id: int, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=STEP_BUTTONS[status].label,
                row=row,
                style=discord.ButtonStyle.success
                if status == "done"
                else discord.ButtonStyle.secondary,
                custom_id=f"mm:step:{status}:{step_id}",
            )
        )
        self.status = STEP_BUTTONS[status]
        self.step_id = step_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StepButton:
        return cls(match["status"], int(match["step_id"]))

    async def pressed(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).mark_step(interaction, self.step_id, self.status)
