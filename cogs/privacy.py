"""`/mastermind privacy export|delete`: a person's own data, as a file or erased.

The two slash commands are declared in cogs/admin.py (they belong to `/mastermind`) and call
`export_data` and `ask_delete` here. Deleting asks for a confirmation with two buttons; their
custom ids carry the person and an expiry, so they also work after a restart, only for that
person, and only for `CONFIRM_MINUTES`.
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord

from cogs.common.access import bot_of, guild_member
from cogs.common.errors import GuardedButton
from cogs.common.replies import NO_PINGS, defer, reply
from core.errors import UserError
from core.privacy import Erasure, InLiveSession

if TYPE_CHECKING:
    from bot import MastermindBot

log = logging.getLogger(__name__)

CONFIRM_MINUTES = 10
EXPORT_FILENAME = "mastermind-my-data.json"

DELETE_PROMPT = """\
**Delete your Mastermind data?** In every server where you use Mastermind, this:
• removes your profile and your group memberships (you leave your groups and their channels);
• keeps your feedback only as anonymous ratings: what you wrote in it and your next steps are \
removed;
• removes your name from the notes you wrote, and from attendance and floor-time records.
The groups' report figures stay correct; nothing in them points to you any more. Messages \
already posted in channels are not changed. This cannot be undone; \
`/mastermind privacy export` gives you a copy first.
The button works for {minutes} minutes."""


async def export_data(interaction: discord.Interaction) -> None:
    """Everything stored about the caller, as a JSON file only they can see."""
    member = guild_member(interaction)
    bot = bot_of(interaction)
    await defer(interaction)
    data = await bot.storage.privacy.export(member.id)
    document = {
        "about": (
            "Everything the Mastermind bot stores about you, in every server where it runs. "
            "Times are UTC (ISO 8601); seconds are seconds."
        ),
        "exported_at": bot.clock().isoformat(),
        **data,
    }
    payload = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    items = sum(len(value) for value in data.values() if isinstance(value, list))
    items += 1 if data.get("profile") else 0
    await interaction.followup.send(
        f"Here is everything Mastermind stores about you ({items} records).",
        file=discord.File(io.BytesIO(payload), filename=EXPORT_FILENAME),
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )


async def _refuse_if_live(bot: MastermindBot, user_id: int) -> None:
    groups = await bot.storage.privacy.live_groups_with(user_id)
    if groups:
        await _live_refusal(bot, groups)


async def _live_refusal(bot: MastermindBot, group_ids: list[int]) -> None:
    names = []
    for group_id in group_ids:
        group = await bot.storage.groups.get(group_id)
        names.append(f"**{group.name}**" if group else "a group")
    raise UserError(
        f"You are part of a session of {', '.join(names)} that is still running. "
        "Delete your data after it ends."
    )


async def ask_delete(interaction: discord.Interaction) -> None:
    """Explain what deletion does and ask for a confirmation (ephemeral)."""
    member = guild_member(interaction)
    bot = bot_of(interaction)
    await _refuse_if_live(bot, member.id)
    if not await bot.storage.privacy.has_data(member.id):
        raise UserError("Mastermind stores nothing about you, so there is nothing to delete.")
    expires = int((bot.clock() + timedelta(minutes=CONFIRM_MINUTES)).timestamp())
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmDeleteButton(member.id, expires))
    view.add_item(CancelDeleteButton(member.id))
    await reply(interaction, DELETE_PROMPT.format(minutes=CONFIRM_MINUTES), view=view)


async def confirm_delete(interaction: discord.Interaction, user_id: int, expires: int) -> None:
    bot = bot_of(interaction)
    if interaction.user.id != user_id:
        raise UserError("Only the person who asked can confirm this.")
    if bot.clock().timestamp() > expires:
        raise UserError(
            "This confirmation has expired; nothing was deleted. "
            "Run `/mastermind privacy delete` again."
        )
    try:
        erasure = await bot.storage.privacy.erase(user_id, bot.clock())
    except InLiveSession as live:
        await _live_refusal(bot, live.group_ids)
        return
    if erasure is None:
        await interaction.response.edit_message(
            content="Mastermind stores nothing about you any more, so there was nothing left "
            "to delete.",
            view=None,
        )
        return
    problems = await _after_erasure(bot, user_id, erasure)
    text = (
        "Done: your profile and memberships are removed, your feedback is kept only as "
        "anonymous ratings, and your name is gone from notes and records."
    )
    if problems:
        text += " " + " ".join(problems)
    await interaction.response.edit_message(content=text, view=None)


async def _after_erasure(bot: MastermindBot, user_id: int, erasure: Erasure) -> list[str]:
    """Discord's side: take away the roles of the groups left, and tell a group that got a
    new facilitator. Best effort: the data is already gone."""
    problems: list[str] = []
    for left in erasure.left:
        guild = bot.get_guild(left.guild_id)
        if guild is None:
            continue
        member = guild.get_member(user_id)
        role = guild.get_role(left.role_id) if left.role_id else None
        if member is not None and role is not None and role in member.roles:
            try:
                await member.remove_roles(role, reason="member deleted their Mastermind data")
            except discord.HTTPException:
                problems.append(
                    f"I could not take away the role of **{left.name}**; a server admin can."
                )
        promoted = erasure.promoted.get(left.group_id)
        channel = guild.get_channel(left.text_channel_id or 0)
        if promoted is not None and isinstance(channel, discord.TextChannel):
            try:
                await channel.send(
                    f"A member left **{left.name}**, so <@{promoted}> is now its facilitator.",
                    allowed_mentions=NO_PINGS,
                )
            except discord.HTTPException:
                log.warning("could not tell group %s about its new facilitator", left.group_id)
    return problems


async def cancel_delete(interaction: discord.Interaction, user_id: int) -> None:
    if interaction.user.id != user_id:
        raise UserError("Only the person who asked can cancel this.")
    await interaction.response.edit_message(content="Cancelled: nothing was deleted.", view=None)


class ConfirmDeleteButton(
    GuardedButton,
    template=r"mm:privacy:delete:(?P<user_id>\d+):(?P<expires>\d+)",
):
    def __init__(self, user_id: int, expires: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Delete my data",
                style=discord.ButtonStyle.danger,
                custom_id=f"mm:privacy:delete:{user_id}:{expires}",
            )
        )
        self.user_id = user_id
        self.expires = expires

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConfirmDeleteButton:
        return cls(int(match["user_id"]), int(match["expires"]))

    async def pressed(self, interaction: discord.Interaction) -> None:
        await confirm_delete(interaction, self.user_id, self.expires)


class CancelDeleteButton(
    GuardedButton,
    template=r"mm:privacy:cancel:(?P<user_id>\d+)",
):
    def __init__(self, user_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Cancel",
                style=discord.ButtonStyle.secondary,
                custom_id=f"mm:privacy:cancel:{user_id}",
            )
        )
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CancelDeleteButton:
        return cls(int(match["user_id"]))

    async def pressed(self, interaction: discord.Interaction) -> None:
        await cancel_delete(interaction, self.user_id)


PRIVACY_BUTTONS = (ConfirmDeleteButton, CancelDeleteButton)
