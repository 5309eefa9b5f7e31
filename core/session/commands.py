"""The commands `apply` understands; each is a plain value so it can be logged or replayed.

`is_facilitator` is decided by the caller (it knows the roles); the core only checks who
holds the floor. Skip, Move, Stick, HandsOff and End carry no actor: only facilitators reach them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Due:
    """Process every timed event (warning, response end, grace, deadline) up to now."""


@dataclass(frozen=True, slots=True)
class Next:
    """End the current segment, or during a response slot only the response, early."""

    actor_id: int
    is_facilitator: bool


@dataclass(frozen=True, slots=True)
class Extend:
    actor_id: int
    is_facilitator: bool
    seconds: int


@dataclass(frozen=True, slots=True)
class Pause:
    actor_id: int
    is_facilitator: bool


@dataclass(frozen=True, slots=True)
class Resume:
    actor_id: int
    is_facilitator: bool


@dataclass(frozen=True, slots=True)
class Skip:
    member_id: int


@dataclass(frozen=True, slots=True)
class Move:
    """Put `member_id`'s pending turn at 1-based `position` among the current round's pending."""

    member_id: int
    position: int


@dataclass(frozen=True, slots=True)
class RaiseHand:
    member_id: int


@dataclass(frozen=True, slots=True)
class LowerHand:
    member_id: int


@dataclass(frozen=True, slots=True)
class Joined:
    """`member_id` (a group member) joined the voice channel. `muted`: they arrived
    server-muted and not by the bot, so the talking stick must leave that mute alone."""

    member_id: int
    muted: bool = False


@dataclass(frozen=True, slots=True)
class Left:
    """`member_id` left the voice channel."""

    member_id: int


@dataclass(frozen=True, slots=True)
class Stick:
    """Switch the talking stick. `voice_members` is everyone in the channel now and
    `muted_by_others` those already server-muted by someone else (the bot leaves them be)."""

    enabled: bool
    voice_members: list[int] = field(default_factory=list)
    muted_by_others: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HandsOff:
    """Someone other than the bot muted or unmuted `member_id`: that mute is theirs now, and
    the bot leaves it alone for the rest of the session (it is no longer the bot's to undo)."""

    member_id: int


@dataclass(frozen=True, slots=True)
class End:
    """End the session now: the current segment is done, everything pending is skipped."""


Command = (
    Due
    | Next
    | Extend
    | Pause
    | Resume
    | Skip
    | Move
    | RaiseHand
    | LowerHand
    | Joined
    | Left
    | Stick
    | HandsOff
    | End
)
