"""Live sessions: the timed speaker queue in the group's voice channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.sessions._cog import SessionsCog
from cogs.sessions._views import PanelButton

if TYPE_CHECKING:
    from bot import MastermindBot


async def setup(bot: MastermindBot) -> None:
    bot.add_dynamic_items(PanelButton)
    await bot.add_cog(SessionsCog(bot))
