"""The talking stick's rule: whom the bot mutes, whose mute is whose, and which observed mute
changes are the bot's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.session import (
    End,
    Format,
    HandsOff,
    Joined,
    Left,
    Mute,
    Next,
    Order,
    SessionState,
    Stick,
    Unmute,
    apply,
    default_config,
    start,
)
from core.session.effects import Effect
from core.session.stick import REQUEST_TTL_SECONDS, MuteRequest, attribute, stick_mutes

T0 = datetime(2026, 1, 1, tzinfo=UTC)
IDS = st.integers(1, 12)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# -- who should be muted now ----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    on=st.booleans(),
    current=st.lists(IDS, unique=True),
    in_voice=st.lists(IDS),
    holder=st.none() | IDS,
    hands_off=st.sets(IDS),
)
def test_the_stick_mutes_exactly_everyone_in_voice_but_the_floor_and_others_mutes(
    on: bool, current: list[int], in_voice: list[int], holder: int | None, hands_off: set[int]
) -> None:
    wanted = stick_mutes(
        on=on, current=current, in_voice=in_voice, holder=holder, hands_off=hands_off
    )
    assert len(wanted) == len(set(wanted))
    if not on:
        assert wanted == []
        return
    assert set(wanted) == set(in_voice) - {holder} - hands_off
    # The mutes that stand keep their order (one edit per change, nothing reshuffled).
    kept = [m for m in current if m in set(wanted)]
    assert wanted[: len(kept)] == kept
    # Applying the rule again changes nothing.
    again = stick_mutes(
        on=on, current=wanted, in_voice=in_voice, holder=holder, hands_off=hands_off
    )
    assert again == wanted


# -- whose change is it ---------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    start_muted=st.booleans(),
    actions=st.lists(st.tuples(st.sampled_from(["bot", "other"]), st.booleans()), max_size=30),
)
def test_the_first_change_someone_else_makes_is_never_taken_for_the_bots(
    start_muted: bool, actions: list[tuple[str, bool]]
) -> None:
    """Discord reports each real change, in order; an edit that changes nothing is not
    reported. Every change the bot made is recognised as its own, and the first change anyone
    else makes is theirs (from then on the member is left alone, so that is what matters)."""
    value = start_muted
    requests: tuple[MuteRequest, ...] = ()
    for who, wanted in actions:
        if who == "bot":
            requests += (MuteRequest(wanted, T0),)
        if wanted == value:
            continue  # nothing changed, nothing is reported
        value = wanted
        ours, requests = attribute(requests, wanted, T0)
        if who == "bot":
            assert ours
        else:
            assert not ours
            return


def test_a_confirmed_request_settles_it_and_the_ones_before_it() -> None:
    requests = (MuteRequest(True, at(0)), MuteRequest(False, at(1)), MuteRequest(True, at(2)))
    ours, left = attribute(requests, False, at(3))
    assert ours and left == (MuteRequest(True, at(2)),)
    ours, left = attribute(left, False, at(4))  # nobody asked for that: someone else's
    assert not ours and left == (MuteRequest(True, at(2)),)


def test_a_request_nobody_confirmed_expires() -> None:
    requests = (MuteRequest(True, at(0)),)
    assert attribute(requests, True, at(REQUEST_TTL_SECONDS))[0]
    assert attribute(requests, True, at(REQUEST_TTL_SECONDS + 1)) == (False, ())


# -- the session machine follows the rule ----------------------------------------------------


def roundrobin(members: tuple[int, ...] = (1, 2, 3, 4)) -> SessionState:
    config = default_config(Format.ROUNDROBIN, 2, None, Order.JOINED)
    present = [(m, T0 - timedelta(seconds=10 - i)) for i, m in enumerate(members)]
    state, _ = start(1, config, present, {}, 0, T0)
    state, _ = apply(state, Stick(True, list(members), []), at(1))
    return state


def edits(effects: list[Effect]) -> list[Mute | Unmute]:
    return [e for e in effects if isinstance(e, Mute | Unmute)]


def test_a_floor_holder_muted_by_a_moderator_stays_muted_at_the_hand_over_and_the_end() -> None:
    state = roundrobin()
    assert state.bot_mutes == [2, 3, 4]
    state, effects = apply(state, HandsOff(1), at(5))  # a moderator mutes 1, who holds the floor
    assert edits(effects) == []
    state, effects = apply(state, Next(1, False), at(10))  # 1 -> 2
    assert edits(effects) == [Unmute(2)]  # 1 is not the bot's to mute, nor to unmute later
    state, effects = apply(state, End(), at(20))
    assert edits(effects) == [Unmute(3), Unmute(4)]
    assert 1 not in state.bot_mutes


def test_a_bot_mute_a_moderator_lifted_and_set_again_is_theirs_to_undo() -> None:
    state = roundrobin()
    state, effects = apply(state, HandsOff(3), at(5))  # a moderator unmutes 3...
    assert edits(effects) == [] and state.bot_mutes == [2, 4]
    state, effects = apply(state, HandsOff(3), at(6))  # ...and mutes 3 again
    assert edits(effects) == [] and state.hands_off == [3]
    state, effects = apply(state, End(), at(20))
    assert edits(effects) == [Unmute(2), Unmute(4)]


def test_someone_whose_moderator_mute_is_lifted_is_left_alone() -> None:
    config = default_config(Format.ROUNDROBIN, 2, None, Order.JOINED)
    state, _ = start(1, config, [(1, T0), (2, T0), (3, T0)], {}, 0, T0)
    state, _ = apply(state, Stick(True, [1, 2, 3], [3]), at(1))  # 3 muted by a moderator
    assert state.bot_mutes == [2] and state.hands_off == [3]
    state, effects = apply(state, HandsOff(3), at(5))  # the moderator lifts it
    assert edits(effects) == []
    for t in (10, 20):  # hand-overs and a stick switched off and on never take 3 over
        state, effects = apply(state, Next(state.floor_holder() or 0, True), at(t))
        assert not any(e.member_id == 3 for e in edits(effects))
    state, _ = apply(state, Stick(False, [], []), at(30))
    state, effects = apply(state, Stick(True, [1, 2, 3], []), at(31))
    assert 3 not in state.bot_mutes and 3 in state.hands_off


def test_leaving_or_moving_away_releases_the_stick_at_once() -> None:
    state = roundrobin()
    state, effects = apply(state, Left(3), at(5))
    assert edits(effects) == [Unmute(3)]
    state, effects = apply(state, Joined(3), at(6))  # back in the group's channel: muted again
    assert edits(effects) == [Mute(3)]


def test_a_mute_made_before_the_session_knew_of_it_stays_theirs_across_a_return() -> None:
    state = roundrobin((1, 2))
    state, effects = apply(state, Joined(5, muted=True), at(5))
    assert edits(effects) == [] and state.hands_off == [5]
    state, _ = apply(state, Left(5), at(6))
    state, effects = apply(state, Joined(5, muted=False), at(7))
    assert edits(effects) == [] and 5 not in state.bot_mutes


def test_states_saved_before_the_rename_still_load() -> None:
    state = roundrobin()
    data = state.model_dump(mode="json")
    data["muted_by_others"] = data.pop("hands_off")
    data["muted_by_others"] = [4]
    data["bot_mutes"] = [2, 3]
    assert SessionState.model_validate(data).hands_off == [4]
