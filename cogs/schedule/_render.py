"""The text `/schedule` shows: recurrence, meetings with Discord timestamps, found slots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.schedule import Slot, discord_timestamp, format_recurrence
from core.schedule.model import Schedule
from core.schedule.reminders import escape_markdown


def when(instant: datetime) -> str:
    """`<t:…:F> (<t:…:R>)`: every reader sees it in their own time zone."""
    return f"{discord_timestamp(instant, 'F')} ({discord_timestamp(instant, 'R')})"


def event_url(guild_id: int, event_id: int) -> str:
    return f"https://discord.com/events/{guild_id}/{event_id}"


def schedule_text(
    group_name: str,
    schedule: Schedule,
    upcoming: Sequence[datetime],
    skipped: Sequence[datetime],
) -> str:
    lines = [f"**{escape_markdown(group_name)}** · {format_recurrence(schedule.recurrence)}."]
    if upcoming:
        lines.append("Next meetings:")
        lines.extend(f"• {when(start)}" for start in upcoming)
    if skipped:
        lines.append("Skipped: " + ", ".join(discord_timestamp(s, "F") for s in skipped))
    if schedule.event_id is not None:
        lines.append(f"Discord event: {event_url(schedule.guild_id, schedule.event_id)}")
    lines.append("Reminders are posted in the group's channel 24 h and 15 min before.")
    return "\n".join(lines)


def slots_text(
    group_name: str,
    group_tz: str,
    duration: int,
    slots: Sequence[Slot],
    members: int,
    defaults: Sequence[str],
) -> str:
    """The slots found, each with every member's local time (✓ inside their hours)."""
    name = escape_markdown(group_name)
    if not slots:
        lines = [
            f"No weekly {duration}-minute slot falls inside anyone's hours in **{name}**. "
            "Members can widen theirs with `/profile set hours`."
        ]
    else:
        lines = [
            f"**Weekly times for {name}** ({duration} min), in the group's zone {group_tz} "
            "(what `/schedule set` takes), best first:"
        ]
        for number, slot in enumerate(slots, start=1):
            lines.append(
                f"**{number}. {slot.label}** · inside the hours of {slot.fit_count} of "
                f"{members} · next {discord_timestamp(slot.start, 'F')}"
            )
            lines.append(
                " · ".join(
                    f"<@{m.member_id}> {m.label} {'✓' if m.fits else '✗'}" for m in slot.members
                )
            )
    lines.extend(defaults)
    return "\n".join(lines)
