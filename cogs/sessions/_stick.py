"""The talking stick's Discord side: the bot's own server-mute edits, told apart from others'.

The rule (whom to mute, whose mute is whose) is `core.session.stick`; this module keeps the
record it needs of what the bot asked Discord for, makes every mute edit through it, and
reads the audit log, which names who made a change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import discord

from core.session.stick import MuteRequest, attribute

log = logging.getLogger(__name__)


class MuteLedger:
    """The server-mute edits the bot asked for and Discord has not confirmed yet, per member.

    Only in memory: Discord confirms an edit within moments, and after a restart the audit
    log tells the bot's changes from others' (`foreign_mute_changes`)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._asked: dict[tuple[int, int], tuple[MuteRequest, ...]] = {}

    def asked(self, guild_id: int, member_id: int, mute: bool) -> MuteRequest:
        request = MuteRequest(mute, self._clock())
        key = (guild_id, member_id)
        self._asked[key] = (*self._asked.get(key, ()), request)
        return request

    def withdraw(self, guild_id: int, member_id: int, request: MuteRequest) -> None:
        """An edit Discord refused changes nothing, so nothing will confirm it."""
        key = (guild_id, member_id)
        left = tuple(r for r in self._asked.get(key, ()) if r is not request)
        self._set(key, left)

    def is_own(self, guild_id: int, member_id: int, mute: bool) -> bool:
        """Did the bot ask for this member's server mute to become `mute`?"""
        key = (guild_id, member_id)
        ours, left = attribute(self._asked.get(key, ()), mute, self._clock())
        self._set(key, left)
        return ours

    def _set(self, key: tuple[int, int], requests: tuple[MuteRequest, ...]) -> None:
        if requests:
            self._asked[key] = requests
        else:
            self._asked.pop(key, None)


async def edit_mute(ledger: MuteLedger, member: discord.Member, mute: bool, reason: str) -> None:
    """The one way the bot server-mutes or unmutes: recorded first, so that the voice-state
    update Discord sends back is recognised as the bot's own."""
    request = ledger.asked(member.guild.id, member.id, mute)
    try:
        await member.edit(mute=mute, reason=reason)
    except discord.HTTPException:
        ledger.withdraw(member.guild.id, member.id, request)
        raise


def foreign_mute_change(entry: discord.AuditLogEntry, bot_id: int) -> int | None:
    """The member whose server mute someone other than the bot changed, if `entry` says so."""
    if entry.action != discord.AuditLogAction.member_update:
        return None
    if entry.user_id is None or entry.user_id == bot_id:
        return None
    if getattr(entry.after, "mute", None) is None:
        return None
    target = getattr(entry.target, "id", None)
    return target if isinstance(target, int) else None


async def foreign_mute_changes(guild: discord.Guild, since: datetime) -> set[int] | None:
    """Members whose server mute someone other than the bot changed after `since`, from the
    audit log; None when the bot may not read it (View Audit Log)."""
    if not guild.me.guild_permissions.view_audit_log:
        return None
    found: set[int] = set()
    try:
        async for entry in guild.audit_logs(
            limit=100,
            after=discord.Object(id=discord.utils.time_snowflake(since)),
            action=discord.AuditLogAction.member_update,
        ):
            target = foreign_mute_change(entry, guild.me.id)
            if target is not None:
                found.add(target)
    except discord.HTTPException as error:
        log.warning("could not read the audit log of guild %s: %s", guild.id, error)
        return None
    return found
