"""A group's stored schedule: its recurrence and the Discord event kept for the next meeting."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from core.schedule.recurrence import Recurrence


class Schedule(BaseModel):
    """`set_at` is when the schedule was last set (reminders whose time was already past then
    are never posted); `event_id` is the Discord scheduled event the bot keeps for the meeting
    starting at `event_start`."""

    model_config = ConfigDict(frozen=True)

    group_id: int
    guild_id: int
    recurrence: Recurrence
    set_by: int
    set_at: datetime
    event_id: int | None = None
    event_start: datetime | None = None
