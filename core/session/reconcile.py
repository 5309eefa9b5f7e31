"""After a restart: the commands that bring a session's state in line with who is really in
its voice channel. Pure: the shell reads the voice states and the audit log."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from core.session.commands import Command, HandsOff, Joined, Left
from core.session.model import SessionState


def reconcile_commands(
    state: SessionState,
    in_voice: Mapping[int, bool],
    members: Collection[int],
    theirs: Collection[int],
) -> list[Command]:
    """`in_voice` maps whoever is in the voice channel now to whether they are server-muted;
    `members` are the group's members; `theirs` are members whose mute someone else changed
    while the bot was away. Returns, in order: hands off those mutes, everyone the state
    thinks present who is gone (and anyone the bot muted who is gone) leaves, and every
    member in voice the state does not know as present joins."""
    commands: list[Command] = [
        HandsOff(member_id) for member_id in sorted(theirs) if member_id not in state.hands_off
    ]
    commands += [
        Left(member_id)
        for member_id in state.presence
        if state.is_present(member_id) and member_id not in in_voice
    ]
    commands += [
        Left(member_id)
        for member_id in state.bot_mutes
        if member_id not in state.presence and member_id not in in_voice
    ]
    commands += [
        Joined(member_id, muted=in_voice[member_id])
        for member_id in sorted(set(in_voice) & set(members))
        if not state.is_present(member_id)
    ]
    return commands
