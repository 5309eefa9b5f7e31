"""After the call: feedback, polls and next steps that come back at the next meeting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.feedback._cog import FeedbackCog
from cogs.feedback._views import DetailsButton, DraftButton, RateButton, StepButton

if TYPE_CHECKING:
    from bot import MastermindBot


async def setup(bot: MastermindBot) -> None:
    bot.add_dynamic_items(RateButton, DetailsButton, StepButton, DraftButton)
    await bot.add_cog(FeedbackCog(bot))
