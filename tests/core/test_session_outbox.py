"""The session's outbox rules, pure: which rows a transition writes, and how a backlog of
undelivered rows collapses after downtime (property tests over real runs of the machine);
the reconcile diff after a restart; note validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import UserError
from core.session import (
    Announce,
    Command,
    Due,
    End,
    Ended,
    HandsOff,
    Joined,
    Left,
    Mute,
    Next,
    PanelChanged,
    Phase,
    SessionState,
    Stick,
    Unmute,
    Warn,
    apply,
    default_config,
    start,
)
from core.session.notes import NOTE_MAX, clean_note
from core.session.outbox import (
    ANNOUNCE,
    FEEDBACK,
    KINDS,
    MUTE,
    PANEL,
    SUMMARY,
    UNMUTE,
    WARN,
    Pending,
    Where,
    collapse,
    rows,
    scope,
    session_of,
)
from core.session.reconcile import reconcile_commands

T0 = datetime(2026, 1, 1, 18, tzinfo=UTC)
WHERE = Where(session_id=7, group_id=3, guild_id=10, text_channel_id=55, voice_channel_id=56)
PEOPLE = [1, 2, 3, 4]


def test_rows_of_a_hand_over_and_of_the_end() -> None:
    deadline = T0 + timedelta(minutes=2)
    out = rows(
        WHERE,
        [Announce(2, Phase.TURN, "turns", deadline), PanelChanged(), Mute(1), Unmute(2)],
    )
    assert [r.kind for r in out] == [ANNOUNCE, PANEL, MUTE, UNMUTE]
    assert {r.scope for r in out} == {scope(7)} and {r.guild_id for r in out} == {10}
    assert out[0].payload == {
        "session_id": 7,
        "group_id": 3,
        "channel_id": 55,
        "member_id": 2,
        "phase": "turn",
        "round": "turns",
        "deadline": deadline.isoformat(),
    }
    assert out[2].payload["channel_id"] == 56  # a mute is reported against the voice channel
    end = rows(WHERE, [PanelChanged(), Ended("ended")])
    assert [r.kind for r in end] == [PANEL, SUMMARY, FEEDBACK]
    first = rows(
        WHERE, [Announce(1, Phase.TURN, "turns", deadline), PanelChanged()], panel_first=True
    )
    assert [r.kind for r in first] == [PANEL, ANNOUNCE]
    assert session_of(scope(7)) == 7 and session_of("group:7") is None


OPS = st.lists(
    st.tuples(
        st.sampled_from(["due", "next", "stick_on", "stick_off", "left", "joined", "end"]),
        st.sampled_from(PEOPLE),
        st.integers(min_value=0, max_value=200),
    ),
    max_size=30,
)


def run(ops: list[tuple[str, int, int]]) -> tuple[SessionState, list[Pending], datetime]:
    """A real session driven by `ops`, every effect written as a row and none delivered."""
    config = default_config("roundrobin", 2, None, "joined")
    state, effects = start(7, config, [(p, T0) for p in PEOPLE], {}, 1, T0)
    pending: list[Pending] = []

    def write(effects: list) -> None:  # type: ignore[type-arg]
        for row in rows(WHERE, effects):
            pending.append(Pending(len(pending) + 1, row.kind, row.payload))

    write(effects)
    now = T0
    for op, person, seconds in ops:
        if state.is_ended():
            break
        now = now + timedelta(seconds=seconds)
        command: Command
        if op == "due":
            due = state.next_due()
            if due is None:
                continue
            now = max(now, due)
            command = Due()
        elif op == "next":
            command = Next(PEOPLE[0], True)
        elif op == "stick_on":
            present = [p for p in PEOPLE if state.is_present(p)]
            command = Stick(True, present, [])
        elif op == "stick_off":
            command = Stick(False)
        elif op == "left":
            command = Left(person)
        elif op == "joined":
            command = Joined(person)
        else:
            command = End()
        try:
            state, effects = apply(state, command, now)
        except UserError:
            continue
        write(effects)
    return state, pending, now + timedelta(seconds=5)


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_a_backlog_collapses_to_what_the_session_needs_now(
    ops: list[tuple[str, int, int]],
) -> None:
    state, pending, now = run(ops)
    drop = collapse(pending, state, now)
    ids = {row.id for row in pending}
    assert drop == sorted(set(drop)) and set(drop) <= ids
    kept = [row for row in pending if row.id not in set(drop)]

    announces = [row for row in kept if row.kind == ANNOUNCE]
    assert len(announces) <= 1
    floor = state.floor()
    for row in announces:
        assert floor is not None and not state.is_ended()
        assert (row.payload["member_id"], row.payload["phase"]) == (
            floor.speaker_id,
            floor.phase.value,
        )
    last = next((row for row in reversed(pending) if row.kind == ANNOUNCE), None)
    if (
        last is not None
        and floor is not None
        and (last.payload["member_id"], last.payload["phase"])
        == (floor.speaker_id, floor.phase.value)
    ):
        assert announces == [last]  # the current floor's announcement is never lost

    current = state.current()
    for row in kept:
        if row.kind == WARN:
            assert current is not None and row.payload["member_id"] == current.speaker_id
            assert datetime.fromisoformat(row.payload["deadline"]) > now

    panels = [row for row in pending if row.kind == PANEL]
    assert [row for row in kept if row.kind == PANEL] == panels[-1:]

    wanted = set(state.bot_mutes) if not state.is_ended() else set()
    by_member: dict[int, list[str]] = {}
    for row in kept:
        if row.kind in (MUTE, UNMUTE):
            by_member.setdefault(row.payload["member_id"], []).append(row.kind)
    for member, kinds in by_member.items():
        assert len(kinds) == 1
        assert (kinds[0] == MUTE) == (member in wanted)

    for row in pending:
        if row.kind in (SUMMARY, FEEDBACK):
            assert row in kept
    assert collapse(kept, state, now) == []  # collapsing twice changes nothing more


@given(OPS)
def test_nothing_of_a_session_that_is_gone_is_announced(ops: list[tuple[str, int, int]]) -> None:
    _, pending, now = run(ops)
    drop = set(collapse(pending, None, now))
    kept = [row for row in pending if row.id not in drop]
    assert {row.kind for row in kept} <= {PANEL, UNMUTE, SUMMARY, FEEDBACK}
    assert all(kind in KINDS for kind in {row.kind for row in pending})


VOICE = st.dictionaries(st.sampled_from([*PEOPLE, 5, 6]), st.booleans(), max_size=6)


@given(OPS, VOICE, st.sets(st.sampled_from([*PEOPLE, 5, 6])))
def test_reconcile_brings_presence_in_line_with_the_voice_channel(
    ops: list[tuple[str, int, int]], in_voice: dict[int, bool], theirs: set[int]
) -> None:
    state, _, now = run(ops)
    if state.is_ended():
        return
    members = [*PEOPLE, 6]
    commands = reconcile_commands(state, in_voice, members, theirs)
    for command in commands:
        try:
            state, _ = apply(state, command, now)
        except UserError:
            continue
    for member in members:
        if member in in_voice:
            assert state.is_present(member), member
        else:
            assert not state.is_present(member), member
    assert not (set(theirs) - set(state.hands_off))
    assert all(m in in_voice for m in state.bot_mutes)
    assert reconcile_commands(state, in_voice, members, theirs) == []


def test_reconcile_orders_hands_off_then_leaves_then_joins() -> None:
    config = default_config("roundrobin", 2, None, "joined")
    state, _ = start(7, config, [(1, T0), (2, T0)], {}, 1, T0)
    found = reconcile_commands(state, {1: False, 3: True}, [1, 2, 3], {3})
    assert found == [HandsOff(3), Left(2), Joined(3, muted=True)]


@given(st.sampled_from(["resource", " Referral ", "INSIGHT"]), st.text(min_size=1, max_size=50))
def test_a_valid_note_is_kept_trimmed(kind: str, text: str) -> None:
    if not text.strip():
        with pytest.raises(UserError):
            clean_note(kind, text)
        return
    note = clean_note(kind, text)
    assert note.kind == kind.strip().lower() and note.text == text.strip()


@pytest.mark.parametrize(
    ("kind", "text", "why"),
    [
        ("link", "x", "kind"),
        ("resource", "   ", "empty"),
        ("resource", "x" * (NOTE_MAX + 1), "at most"),
    ],
)
def test_a_bad_note_says_why(kind: str, text: str, why: str) -> None:
    with pytest.raises(UserError, match=why):
        clean_note(kind, text)


def test_a_warning_row_carries_its_deadline() -> None:
    (row,) = rows(WHERE, [Warn(3, T0)])
    assert row.kind == WARN and row.payload["deadline"] == T0.isoformat()
