"""Groups: creation with a private role and channels, membership, facilitators, archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.groups._cog import GroupsCog
from cogs.groups._views import RecreateButton

if TYPE_CHECKING:
    from bot import MastermindBot


async def setup(bot: MastermindBot) -> None:
    bot.add_dynamic_items(RecreateButton)
    await bot.add_cog(GroupsCog(bot))
