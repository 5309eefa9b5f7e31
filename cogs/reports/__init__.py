"""Reports: figures, charts and CSV exports of sessions, groups and the whole program."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.privacy import PRIVACY_BUTTONS
from cogs.reports._cog import ReportsCog

if TYPE_CHECKING:
    from bot import MastermindBot


async def setup(bot: MastermindBot) -> None:
    # The `/mastermind privacy` commands live in cogs/admin.py; their confirmation buttons are
    # registered here, with the reports built on the same data, so they work after a restart.
    bot.add_dynamic_items(*PRIVACY_BUTTONS)
    await bot.add_cog(ReportsCog(bot))
