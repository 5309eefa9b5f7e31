"""The talking stick's rule: whom the bot mutes, and whose mute is whose.

The bot server-mutes everyone it knows in the group's voice channel except whoever holds the
floor, and it only ever undoes its own mutes. A mute or unmute made by anyone else during the
session (a moderator, an admin) makes that member's mute theirs: the bot leaves it alone from
then on, whatever it is. To tell its own changes from others', the bot keeps the edits it
asked for (`MuteRequests`): a change nobody of its own asked for is someone else's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

REQUEST_TTL_SECONDS = 60
"""How long an edit the bot asked for waits for Discord to confirm it. Discord confirms within
a second or two; an unconfirmed request (an edit that changed nothing) expires after this."""


def stick_mutes(
    *,
    on: bool,
    current: Sequence[int],
    in_voice: Iterable[int],
    holder: int | None,
    hands_off: Collection[int],
) -> list[int]:
    """Whom the bot should have muted now. With the stick off nobody; with it on everyone in
    the voice channel but the floor holder and those whose mute is someone else's. The bot's
    existing mutes keep their order and newcomers follow, so each change is one edit."""
    if not on:
        return []
    present = list(dict.fromkeys(in_voice))
    here = set(present)
    wanted = [m for m in current if m in here and m != holder and m not in hands_off]
    kept = set(wanted)
    wanted += [m for m in present if m not in kept and m != holder and m not in hands_off]
    return wanted


@dataclass(frozen=True, slots=True)
class MuteRequest:
    """The bot asked Discord to set a member's server mute to `mute` at `at`."""

    mute: bool
    at: datetime


def attribute(
    requests: Sequence[MuteRequest], observed: bool, now: datetime
) -> tuple[bool, tuple[MuteRequest, ...]]:
    """Was a member's server mute changing to `observed` the bot's own doing?

    Yes when an unexpired request of the bot's asked for exactly that: Discord reports the
    bot's edits in the order they were made, so that request and any before it are settled.
    Otherwise someone else made the change, and the bot's requests still wait. Returns the
    answer and the requests still outstanding."""
    fresh = tuple(r for r in requests if now - r.at <= timedelta(seconds=REQUEST_TTL_SECONDS))
    for index, request in enumerate(fresh):
        if request.mute == observed:
            return True, fresh[index + 1 :]
    return False, fresh
