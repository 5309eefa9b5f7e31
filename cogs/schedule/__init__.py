"""Meetings across time zones: `/schedule`, the Discord event for the next meeting, reminders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.schedule._cog import ScheduleCog

if TYPE_CHECKING:
    from bot import MastermindBot

__all__ = ["ScheduleCog", "setup"]


async def setup(bot: MastermindBot) -> None:
    await bot.add_cog(ScheduleCog(bot))
