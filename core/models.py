"""The domain's records: groups, memberships, profiles and guild settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from core.timeparse import DEFAULT_HOURS, parse_hours


class CareerStage(StrEnum):
    TRAINEE = "trainee"
    EARLY_CAREER = "early-career"
    MID_CAREER = "mid-career"
    SENIOR = "senior"


class GuildSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    guild_id: int
    moderator_role_id: int | None = None
    log_channel_id: int | None = None
    turn_minutes: int | None = None
    feedback_days: int = 7
    identified_exports: bool = False
    tidy_sessions: bool = True
    """Delete the bot's announcements and warnings of a session once it has ended."""


class Group(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    guild_id: int
    name: str
    description: str = ""
    capacity: int
    timezone: str | None = None
    role_id: int | None = None
    category_id: int | None = None
    text_channel_id: int | None = None
    voice_channel_id: int | None = None
    created_by: int
    created_at: datetime
    archived_at: datetime | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")


class Membership(BaseModel):
    model_config = ConfigDict(frozen=True)

    group_id: int
    user_id: int
    is_facilitator: bool
    joined_at: datetime


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: int
    career_stage: CareerStage | None = None
    institution: str | None = None
    timezone: str | None = None
    focus: str | None = None
    hours: str | None = None
    updated_at: datetime

    def hours_range(self) -> tuple[time, time]:
        return parse_hours(self.hours or DEFAULT_HOURS)


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    guild_id: int
    actor_id: int
    action: str
    detail: str
    created_at: datetime


@dataclass(frozen=True)
class Note:
    """A resource, referral or insight recorded during a session, for the member it was for."""

    id: int
    session_id: int
    author_id: int | None
    for_member_id: int | None
    kind: str
    text: str
    created_at: datetime
