"""Rules for groups that do not depend on Discord: names, capacity, who may do what."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from core.errors import UserError

NAME_MAX = 50
DESCRIPTION_MAX = 500
CAPACITY_MIN, CAPACITY_MAX = 2, 12
DEFAULT_CAPACITY = 6

_MASS_MENTION = re.compile(r"@(everyone|here)|<@&\d+>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def name_key(name: str) -> str:
    """The key that makes names unique per guild regardless of case."""
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise UserError("A group needs a name.")
    if len(cleaned) > NAME_MAX:
        raise UserError(f"A group name can be at most {NAME_MAX} characters.")
    if _CONTROL.search(cleaned):
        raise UserError("A group name cannot contain control characters.")
    return cleaned


def clean_description(description: str | None) -> str:
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise UserError(f"A description can be at most {DESCRIPTION_MAX} characters.")
    return text


def check_capacity(capacity: int) -> int:
    if not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
        raise UserError(
            f"Capacity must be between {CAPACITY_MIN} and {CAPACITY_MAX} members "
            f"(you asked for {capacity})."
        )
    return capacity


def has_mass_mention(text: str) -> bool:
    """True for text that would ping @everyone, @here or a role if it were ever allowed to."""
    return bool(_MASS_MENTION.search(text))


def channel_slug(name: str) -> str:
    """A Discord text-channel name for a group: lowercase words (any script) joined by hyphens."""
    slug = re.sub(r"[\W_]+", "-", name.lower())[:90].strip("-")
    return slug or "group"


def next_leader(members: Iterable[tuple[int, bool, datetime]]) -> int | None:
    """Who leads a group whose last facilitator left: nobody while a facilitator remains or
    the group is empty; otherwise its longest-standing member (the lower id on a tie).
    `members` are (user id, is facilitator, joined at)."""
    listed = list(members)
    if not listed or any(is_facilitator for _, is_facilitator, _ in listed):
        return None
    return min(listed, key=lambda member: (member[2], member[0]))[0]
