"""Groups: creation with a private role and channels, membership, facilitators, archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.groups._cog import GroupsCog
from cogs.groups._service import NewGroup, add_member, check_new_group, create_group
from cogs.groups._views import RecreateButton

if TYPE_CHECKING:
    from bot import MastermindBot

__all__ = ["NewGroup", "add_member", "check_new_group", "create_group"]


async def setup(bot: MastermindBot) -> None:
    bot.add_dynamic_items(RecreateButton)
    await bot.add_cog(GroupsCog(bot))
