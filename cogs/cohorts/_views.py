"""The cohort's buttons and sign-up form; every id is namespaced and works after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from cogs.common.errors import handle_interaction_error

if TYPE_CHECKING:
    from cogs.cohorts._cog import CohortsCog

FORM_ID = re.compile(r"mm:cohort:form:(?P<cohort_id>\d+)")
FIELDS = ("career_stage", "timezone", "hours", "institution", "focus")
TEXT_LIMIT = 100


def _cog(interaction: discord.Interaction) -> CohortsCog:
    cog = cast(Any, interaction.client).get_cog("CohortsCog")
    assert cog is not None, "the cohorts cog is not loaded"
    return cast("CohortsCog", cog)


class _Button(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"mm:cohort:(?P<action>[a-z]+):(?P<target>\d+)",
):
    """A button that names its target (a cohort or a proposal) in its id and hands the
    click to the cog. Only the subclasses are registered, each with its own template."""

    action = ""

    def __init__(self, target: int, label: str, style: discord.ButtonStyle) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"mm:cohort:{self.action}:{target}"
            )
        )
        self.target = target

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(_cog(interaction), interaction)
        except Exception as error:
            await handle_interaction_error(interaction, error, f"button {self.custom_id}")

    async def run(self, cog: CohortsCog, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class JoinButton(_Button, template=r"mm:cohort:join:(?P<target>\d+)"):
    action = "join"

    def __init__(self, cohort_id: int) -> None:
        super().__init__(cohort_id, "Join cohort", discord.ButtonStyle.primary)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> JoinButton:
        return cls(int(match["target"]))

    async def run(self, cog: CohortsCog, interaction: discord.Interaction) -> None:
        await cog.open_form(interaction, self.target, retry=False)


class RetryButton(_Button, template=r"mm:cohort:retry:(?P<target>\d+)"):
    """Reopens the form with what the person typed, after a refused answer."""

    action = "retry"

    def __init__(self, cohort_id: int) -> None:
        super().__init__(cohort_id, "Fix my answers", discord.ButtonStyle.primary)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RetryButton:
        return cls(int(match["target"]))

    async def run(self, cog: CohortsCog, interaction: discord.Interaction) -> None:
        await cog.open_form(interaction, self.target, retry=True)


class CreateButton(_Button, template=r"mm:cohort:create:(?P<target>\d+)"):
    action = "create"

    def __init__(self, proposal_id: int) -> None:
        super().__init__(proposal_id, "Create groups", discord.ButtonStyle.success)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CreateButton:
        return cls(int(match["target"]))

    async def run(self, cog: CohortsCog, interaction: discord.Interaction) -> None:
        await cog.create_groups(interaction, self.target)


class ReshuffleButton(_Button, template=r"mm:cohort:reshuffle:(?P<target>\d+)"):
    action = "reshuffle"

    def __init__(self, proposal_id: int) -> None:
        super().__init__(proposal_id, "Reshuffle", discord.ButtonStyle.secondary)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReshuffleButton:
        return cls(int(match["target"]))

    async def run(self, cog: CohortsCog, interaction: discord.Interaction) -> None:
        await cog.reshuffle(interaction, self.target)


def signup_view(cohort_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(JoinButton(cohort_id))
    return view


def retry_view(cohort_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RetryButton(cohort_id))
    return view


def proposal_view(
    proposal_id: int, *, created: bool = False, retired: bool = False
) -> discord.ui.View:
    """The proposal's buttons. Once its groups are created only `Create groups` stays (it
    then lists them); a proposal replaced by a reshuffle keeps neither."""
    view = discord.ui.View(timeout=None)
    create, reshuffle = CreateButton(proposal_id), ReshuffleButton(proposal_id)
    create.item.disabled = retired
    reshuffle.item.disabled = retired or created
    view.add_item(create)
    view.add_item(reshuffle)
    return view


class SignupModal(discord.ui.Modal):
    """The sign-up form: prefilled from the profile (or earlier answers)."""

    def __init__(self, cohort_id: int, title: str, current: dict[str, str | None]) -> None:
        super().__init__(title=title[:45], custom_id=f"mm:cohort:form:{cohort_id}")
        self.cohort_id = cohort_id
        specs = {
            "career_stage": ("Career stage", "trainee, early-career, mid-career or senior", True),
            "timezone": ("Time zone (IANA name)", "e.g. America/Toronto, Europe/London", True),
            "hours": ("Usual hours, your local time", "HH:MM-HH:MM, e.g. 08:00-20:00", True),
            "institution": ("Institution", "Where you work or study", False),
            "focus": ("Focus", "What you are working on", False),
        }
        self.inputs: dict[str, discord.ui.TextInput[SignupModal]] = {}
        for name, (label, placeholder, required) in specs.items():
            field: discord.ui.TextInput[SignupModal] = discord.ui.TextInput(
                label=label,
                custom_id=name,
                placeholder=placeholder,
                default=current.get(name) or None,
                required=required,
                max_length=TEXT_LIMIT,
            )
            self.inputs[name] = field
            self.add_item(field)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        values = {name: field.value for name, field in self.inputs.items()}
        await _cog(interaction).save_form(interaction, self.cohort_id, values)

    async def on_error(  # type: ignore[override]  # Modal narrows View.on_error
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await handle_interaction_error(interaction, error, "cohort form")
