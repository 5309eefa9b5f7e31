"""The one error handler for app commands and buttons.

A person's mistake becomes an ephemeral sentence they can act on; anything unexpected is
logged with its context and the person gets a short apology with an id to quote.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands

from cogs.common.replies import reply
from core.errors import UserError

log = logging.getLogger(__name__)


def user_message(error: BaseException) -> str | None:
    """The text to show for an expected refusal, or None when the error is a bug."""
    original = error
    if isinstance(original, app_commands.CommandInvokeError):
        original = original.original
    if isinstance(original, UserError):
        return original.message
    if isinstance(original, app_commands.NoPrivateMessage):
        return "This command only works inside a server."
    if isinstance(original, app_commands.MissingPermissions):
        missing = ", ".join(p.replace("_", " ").title() for p in original.missing_permissions)
        return f"You need the {missing} permission for this."
    if isinstance(original, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ").title() for p in original.missing_permissions)
        return f"I am missing the {missing} permission; ask a server admin to grant it."
    if isinstance(original, app_commands.CheckFailure):
        return str(original) or "You cannot use this command here."
    if isinstance(original, app_commands.TransformerError):
        return f"`{original.value}` is not a valid value for this option."
    if isinstance(original, discord.Forbidden):
        return (
            "Discord refused me the permission to do that "
            f"({original.text or 'missing access'}); ask a server admin to check my role."
        )
    return None


async def handle_interaction_error(
    interaction: discord.Interaction, error: BaseException, where: str
) -> None:
    message = user_message(error)
    if message is None:
        error_id = secrets.token_hex(4)
        log.error(
            "unexpected error %s in %s (user %s, guild %s, channel %s)",
            error_id,
            where,
            interaction.user.id,
            interaction.guild_id,
            interaction.channel_id,
            exc_info=error,
        )
        message = f"Sorry, something went wrong on my side (error id `{error_id}`)."
    try:
        await reply(interaction, message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell user %s about an error in %s", interaction.user.id, where)


class MastermindTree(app_commands.CommandTree[discord.Client]):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "unknown command"
        await handle_interaction_error(interaction, error, f"/{command}")


class GuardedButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """A persistent button whose errors go through the same handler as commands.

    Subclasses give their own `template` and implement `pressed`; this base is never
    registered itself (its template matches nothing)."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.pressed(interaction)
        except Exception as error:
            await handle_interaction_error(interaction, error, f"button {self.custom_id}")

    async def pressed(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError
