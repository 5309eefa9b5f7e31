"""Cohorts: sign-up with a form, balanced groups across time zones, creation in one press."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.cohorts._cog import CohortsCog, cohort_autocomplete
from cogs.cohorts._views import CreateButton, JoinButton, ReshuffleButton, RetryButton

if TYPE_CHECKING:
    from bot import MastermindBot

__all__ = ["CohortsCog", "cohort_autocomplete", "setup"]


async def setup(bot: MastermindBot) -> None:
    bot.add_dynamic_items(JoinButton, RetryButton, CreateButton, ReshuffleButton)
    await bot.add_cog(CohortsCog(bot))
