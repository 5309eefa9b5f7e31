"""What a transition asks the outside world to do; the cog renders these, the core never acts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.session.model import Phase


@dataclass(frozen=True, slots=True)
class Announce:
    """The floor changed hands: post a message that mentions `member_id` (and only them)."""

    member_id: int
    phase: Phase
    round: str
    deadline: datetime | None


@dataclass(frozen=True, slots=True)
class Warn:
    """One minute left for `member_id`'s segment, which ends at `deadline`."""

    member_id: int
    deadline: datetime


@dataclass(frozen=True, slots=True)
class PanelChanged:
    """Re-render the session panel (at most one per transition)."""


@dataclass(frozen=True, slots=True)
class Mute:
    """Server-mute `member_id` (talking stick)."""

    member_id: int


@dataclass(frozen=True, slots=True)
class Unmute:
    """Undo a server-mute the bot made; never emitted for anyone else."""

    member_id: int


@dataclass(frozen=True, slots=True)
class Ended:
    """The session is over: `reason` is "completed" (agenda ran out) or "ended" (command)."""

    reason: str


Effect = Announce | Warn | PanelChanged | Mute | Unmute | Ended
