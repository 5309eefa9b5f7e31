"""A session's effects as outbox rows, and how a backlog of them collapses after downtime.

Pure: the service writes `rows(...)` in the transaction of the transition; at start-up (or
when Discord answers again after an outage) `collapse(...)` says which undelivered rows a
later state supersedes: only the current floor's announcement, no warning whose segment is
over, one panel update, and mutes and unmutes netted to what the talking stick wants now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.outbox import Outgoing
from core.session.effects import Announce, Effect, Ended, Mute, PanelChanged, Unmute, Warn
from core.session.model import SessionState

ANNOUNCE = "session.announce"
WARN = "session.warn"
PANEL = "session.panel"
MUTE = "session.mute"
UNMUTE = "session.unmute"
SUMMARY = "session.summary"
FEEDBACK = "session.feedback"
TIDY = "session.tidy"
KINDS = (ANNOUNCE, WARN, PANEL, MUTE, UNMUTE, SUMMARY, FEEDBACK, TIDY)


def scope(session_id: int) -> str:
    """Every effect of one session is delivered in the order of its transitions."""
    return f"session:{session_id}"


def session_of(scope_key: str) -> int | None:
    head, _, tail = scope_key.partition(":")
    return int(tail) if head == "session" and tail.isdigit() else None


@dataclass(frozen=True, slots=True)
class Where:
    """Which session, group and channels a session's rows belong to."""

    session_id: int
    group_id: int
    guild_id: int
    text_channel_id: int | None
    voice_channel_id: int | None

    def scope(self) -> str:
        return scope(self.session_id)


def rows(where: Where, effects: Iterable[Effect], *, panel_first: bool = False) -> list[Outgoing]:
    """The outbox rows of one transition's effects, in the order they are to be delivered.

    The end of a session adds its summary and feedback message after the final panel;
    `panel_first` (the start) posts the panel before the first announcement."""
    key = scope(where.session_id)
    guild_id = where.guild_id
    base: dict[str, Any] = {"session_id": where.session_id, "group_id": where.group_id}
    text = {**base, "channel_id": where.text_channel_id} if where.text_channel_id else base
    out: list[Outgoing] = []
    ended = False
    for effect in effects:
        if isinstance(effect, Announce):
            deadline = effect.deadline
            payload = {
                **text,
                "member_id": effect.member_id,
                "phase": effect.phase.value,
                "round": effect.round,
                "deadline": deadline.isoformat() if deadline else None,
            }
            out.append(Outgoing(ANNOUNCE, key, guild_id, payload))
        elif isinstance(effect, PanelChanged):
            out.append(Outgoing(PANEL, key, guild_id, dict(text)))
        elif isinstance(effect, Warn):
            payload = {
                **text,
                "member_id": effect.member_id,
                "deadline": effect.deadline.isoformat(),
            }
            out.append(Outgoing(WARN, key, guild_id, payload))
        elif isinstance(effect, Mute | Unmute):
            kind = MUTE if isinstance(effect, Mute) else UNMUTE
            voice = (
                {**base, "channel_id": where.voice_channel_id} if where.voice_channel_id else base
            )
            out.append(Outgoing(kind, key, guild_id, {**voice, "member_id": effect.member_id}))
        elif isinstance(effect, Ended):
            ended = True
    if panel_first:
        out.sort(key=lambda row: row.kind != PANEL)
    if ended:
        out.append(Outgoing(SUMMARY, key, guild_id, dict(text)))
        out.append(Outgoing(FEEDBACK, key, guild_id, dict(text)))
    return out


@dataclass(frozen=True, slots=True)
class Pending:
    """An undelivered row, as collapse sees it."""

    id: int
    kind: str
    payload: dict[str, Any]


def collapse(pending: Sequence[Pending], state: SessionState | None, now: datetime) -> list[int]:
    """The ids of the rows a backlog drops, given the session's state now (None: it is gone).

    Kept: the last announcement if it is the current floor's; warnings of the segment in
    progress whose minute has not run out; the last panel update; per member the last mute
    or unmute, if it is what the stick wants now; everything else (summary, feedback, tidy)."""
    ended = state is None or state.is_ended()
    floor = None if ended or state is None else state.floor()
    current = None if ended or state is None else state.current()
    wanted = set(state.bot_mutes) if state is not None and not ended else set()
    drop: list[int] = []
    announces = [row for row in pending if row.kind == ANNOUNCE]
    for row in announces[:-1]:
        drop.append(row.id)
    if announces:
        last = announces[-1]
        if floor is None or (last.payload.get("member_id"), last.payload.get("phase")) != (
            floor.speaker_id,
            floor.phase.value,
        ):
            drop.append(last.id)
    for row in pending:
        if row.kind != WARN:
            continue
        deadline = _time(row.payload.get("deadline"))
        if (
            current is None
            or deadline is None
            or deadline <= now
            or row.payload.get("member_id") != current.speaker_id
            or current.deadline != deadline
        ):
            drop.append(row.id)
    panels = [row for row in pending if row.kind == PANEL]
    drop.extend(row.id for row in panels[:-1])
    last_mute: dict[object, Pending] = {}
    for row in pending:
        if row.kind in (MUTE, UNMUTE):
            member = row.payload.get("member_id")
            if member in last_mute:
                drop.append(last_mute[member].id)
            last_mute[member] = row
    for member, row in last_mute.items():
        if (row.kind == MUTE) != (member in wanted):
            drop.append(row.id)
    return sorted(set(drop))


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
