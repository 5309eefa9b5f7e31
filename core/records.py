"""What the storage returns that is not a domain model of its own: facts read back for
reports, tidying and the like. Every backend returns these same types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.session import SessionState


@dataclass(frozen=True)
class EndedSession:
    id: int
    guild_id: int
    group_id: int
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True)
class FeedbackRecord:
    """One respondent's feedback as stored, with the session it belongs to."""

    session_id: int
    group: str
    timezone: str | None
    session_started_at: datetime
    user_id: int
    rating: int | None
    resources: str
    referrals: str
    next_steps: str
    comments: str
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class PendingTidy:
    """An ended session whose transient messages are still to be tidied."""

    session_id: int
    guild_id: int
    ended_at: datetime


@dataclass(frozen=True)
class SessionRow:
    """A session as stored: its Discord places and its persisted state."""

    id: int
    group_id: int
    guild_id: int
    started_by: int
    started_at: datetime
    ended_at: datetime | None
    panel_channel_id: int | None
    panel_message_id: int | None
    state: SessionState
    version: int = 1
    """Counts the saves of `state`: each save goes over the version it was read at."""
