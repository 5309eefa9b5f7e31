"""What people see of a session: the panel embed and buttons, announcements, the summary."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import discord
from discord.utils import escape_markdown, escape_mentions

from cogs.common.format import clock, fit, fitted, timestamp
from cogs.common.replies import NO_PINGS
from core.models import Note
from core.session import Phase, SessionState
from core.session.progress import next_up, progress

PHASE_LABELS = {
    Phase.CHECKIN: "Check-in",
    Phase.PRESENT: "Hot seat · presenting",
    Phase.QUESTIONS: "Hot seat · clarifying questions",
    Phase.ADVICE: "Hot seat · advice",
    Phase.RESPONSE: "Response",
    Phase.COMMITMENTS: "Commitments",
    Phase.TURN: "Turn",
}
ROUND_LABELS = {
    "checkin": "Check-in",
    "hotseats": "Hot seats",
    "commitments": "Commitments",
    "turns": "Turns",
}
BUTTON_LABELS = {
    "next": "Next",
    "extend": "+2 min",
    "pause": "Pause",
    "resume": "Resume",
    "hand": "Raise hand",
    "note": "Add note",
    "end": "End session",
}


def _agenda_lines(state: SessionState) -> list[str]:
    pending_rounds = {seg.round for seg in state.pending}
    current_round = state.running.segment.round if state.running else None
    lines = []
    for name in state.rounds:
        label = ROUND_LABELS.get(name, name.title())
        speakers = [
            r.speaker_id for r in state.records if r.round == name and r.phase != Phase.RESPONSE
        ]
        if state.running is not None and state.running.segment.round == name:
            speakers.append(state.running.segment.speaker_id)
        speakers += [s.speaker_id for s in state.pending if s.round == name]
        total = len(dict.fromkeys(speakers))
        if name == current_round:
            lines.append(f"▶ **{label}** ({total})")
        elif name in pending_rounds:
            lines.append(f"· {label} ({total})")
        else:
            lines.append(f"✓ ~~{label}~~")
    return lines


Namer = Callable[[int], str]
"""How the panel names a member (it never pings: nothing in an embed does)."""


def mention(member_id: int) -> str:
    return f"<@{member_id}>"


def namer(guild: discord.Guild | None) -> Namer:
    """Plain "@Name" text: a mention inside an embed shows as a raw `<@id>` on clients that
    have not loaded that member (phones, often), and the panel must read well everywhere.
    Someone the bot cannot see any more is still named by a mention."""

    def name(member_id: int) -> str:
        member = guild.get_member(member_id) if guild is not None else None
        if member is None:
            return mention(member_id)
        return "@" + escape_mentions(escape_markdown(member.display_name))

    return name


def panel_embed(state: SessionState, group_name: str, name: Namer = mention) -> discord.Embed:
    """Who holds the floor, who is next and for what, and how far along the meeting is."""
    ended = state.is_ended()
    embed = discord.Embed(
        title=f"{group_name} · session" + (" (ended)" if ended else ""),
        colour=discord.Colour.dark_grey() if ended else discord.Colour.green(),
    )
    embed.add_field(name="Agenda", value="\n".join(_agenda_lines(state)) or "—", inline=False)
    floor = state.floor()
    if ended or floor is None:
        embed.add_field(name="Floor", value="Session ended. Thank you!", inline=False)
        return embed
    phase = PHASE_LABELS.get(floor.phase, floor.phase.value)
    if state.is_paused():
        left = floor.remaining_seconds if floor.remaining_seconds is not None else 0
        when = f"paused · {clock(left)} left"
    else:
        deadline = state.floor_deadline()
        when = f"ends {timestamp(deadline)}" if deadline else ""
    embed.add_field(name="Floor", value=f"{name(floor.speaker_id)} · {phase}\n{when}", inline=False)
    if state.response is not None and state.running is not None:
        embed.add_field(
            name="Hot seat", value=f"{name(state.running.segment.speaker_id)} receives advice"
        )
    upcoming = next_up(state, 3)
    embed.add_field(
        name="Next",
        value=" · ".join(f"{name(turn.speaker_id)} ({turn.what})" for turn in upcoming)
        or "nobody: this is the last turn",
        inline=False,
    )
    if state.hands:
        embed.add_field(name="Hands raised", value=" ".join(name(member) for member in state.hands))
    embed.add_field(name="Progress", value=progress_line(state), inline=False)
    if state.stick:
        embed.set_footer(text="Talking stick on: only the floor holder is unmuted.")
    return embed


def progress_line(state: SessionState) -> str:
    """ "segment 7 of 15 · ends about 10:52", in each reader's own time."""
    where = progress(state)
    line = f"segment {where.position} of {where.total}"
    if where.ends_about is not None:
        line += f" · ends about {timestamp(where.ends_about, 't')}"
    elif state.is_paused():
        line += " · paused"
    return line


def pointer(jump_url: str) -> str:
    """What an older panel says once a newer one is posted below it."""
    return f"↪️ The session panel moved down to stay in sight: {jump_url}"


def announcement(member_id: int, phase: Phase, deadline: datetime | None) -> str:
    mention = f"<@{member_id}>"
    until = f" Ends {timestamp(deadline)}." if deadline else " (Paused.)"
    texts = {
        Phase.CHECKIN: f"🎙️ {mention}, your check-in: wins since last time.{until}",
        Phase.PRESENT: f"🔥 {mention} is in the hot seat: present your challenge.{until}",
        Phase.QUESTIONS: f"❓ Clarifying questions for {mention}.{until}",
        Phase.ADVICE: f"💡 Advice for {mention}: press **Raise hand** to respond.{until}",
        Phase.RESPONSE: f"✋ {mention}, you have the floor to respond.{until}",
        Phase.COMMITMENTS: f"📝 {mention}, your commitments: what will you do next?{until}",
        Phase.TURN: f"🎙️ {mention}, it's your turn.{until}",
    }
    return texts.get(phase, f"🎙️ {mention} has the floor.{until}")


def warning(member_id: int, deadline: datetime) -> str:
    return f"⏳ <@{member_id}>, one minute left (ends {timestamp(deadline)})."


def summary_embed(
    state: SessionState, group_name: str, notes: list[Note], now: datetime, name: Namer = mention
) -> discord.Embed:
    embed = discord.Embed(title=f"{group_name} · session summary", colour=discord.Colour.blue())
    attendance = state.attendance_seconds(now)
    lines = [
        f"{name(member)} · {round(seconds / 60)} min" for member, seconds in attendance.items()
    ]
    embed.add_field(name=f"Attendance ({len(attendance)})", value=fit(lines), inline=False)
    floor = state.floor_seconds()
    floor_lines = [
        f"{name(member)} · {clock(seconds)}"
        for member, seconds in sorted(floor.items(), key=lambda item: -item[1])
        if seconds > 0
    ]
    embed.add_field(name="Time on the floor", value=fit(floor_lines), inline=False)
    shown, _ = fitted(_note_lines(notes, name), more=NOTES_MORE)
    embed.add_field(name=f"Notes ({len(notes)})", value=shown, inline=False)
    if state.started_at and state.ended_at:
        minutes = round((state.ended_at - state.started_at).total_seconds() / 60)
        embed.set_footer(text=f"{minutes} minutes · {state.end_reason or 'ended'}")
    return embed


NOTES_FILE = "notes.txt"
NOTES_MORE = "…and {} more in " + NOTES_FILE


def _note_lines(notes: list[Note], name: Namer) -> list[str]:
    return [
        f"**{note.kind}**"
        + (f" for {name(note.for_member_id)}" if note.for_member_id else "")
        + f": {note.text}"
        for note in notes
    ]


def summary_notes_file(
    group_name: str, notes: list[Note], names: dict[int, str], name: Namer = mention
) -> discord.File | None:
    """Every note, as `notes.txt`, when the summary's field cannot hold them all: nothing a
    member typed is lost to the embed's length limit. `names` are display names by id."""
    if fitted(_note_lines(notes, name), more=NOTES_MORE)[1] == len(notes):
        return None
    blocks = [f"{group_name} · session notes ({len(notes)})"]
    for note in notes:
        people = ""
        if note.for_member_id:
            people += f" for {names.get(note.for_member_id, 'a member')}"
        if note.author_id:
            people += f", by {names.get(note.author_id, 'a member')}"
        stamp = note.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        blocks.append(f"[{note.kind}]{people} · {stamp}\n{note.text}")
    data = ("\n\n".join(blocks) + "\n").encode()
    return discord.File(io.BytesIO(data), filename=NOTES_FILE)


def summary_message(
    state: SessionState, group_name: str, notes: list[Note], now: datetime, guild: discord.Guild
) -> dict[str, Any]:
    """What `TextChannel.send` takes for the summary: the embed, `notes.txt` when the notes do
    not all fit in it, and no pings."""
    people = {n.for_member_id for n in notes} | {n.author_id for n in notes}
    names = {
        member.id: member.display_name
        for member in map(guild.get_member, filter(None, people))
        if member is not None
    }
    name = namer(guild)
    message: dict[str, Any] = {
        "embed": summary_embed(state, group_name, notes, now, name),
        "allowed_mentions": NO_PINGS,
    }
    notes_file = summary_notes_file(group_name, notes, names, name)
    if notes_file is not None:
        message["file"] = notes_file
    return message
