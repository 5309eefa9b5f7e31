"""Every report figure on small cases computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.stats import (
    ResponseFact,
    SegmentFact,
    SessionFacts,
    count_lines,
    distribution,
    floor_fairness,
    floor_seconds,
    hotseat_turns,
    mean,
    next_step_completion,
    not_answered,
    pooled_rate,
    response_rate,
    session_date,
    session_figures,
    share_very_valuable,
    trend_figures,
)

START = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)


def seg(session: int, seq: int, who: int, round_: str, phase: str, seconds: int) -> SegmentFact:
    return SegmentFact(session, seq, who, round_, phase, seconds)


def test_count_lines_ignores_blank_lines_and_bare_list_markers() -> None:
    assert count_lines("") == 0
    assert count_lines("one") == 1
    assert count_lines("one\n\n  \ntwo\r\nthree") == 3
    assert count_lines("- first\n-\n * \n• second\n") == 2


def test_distribution_counts_each_value_and_skips_missing_ratings() -> None:
    assert distribution([5, 4, 5, None, 1]) == {1: 1, 2: 0, 3: 0, 4: 1, 5: 2}
    assert distribution([]) == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    with pytest.raises(ValueError):
        distribution([6])


def test_mean_is_over_the_values_given() -> None:
    assert mean([5, 4, 5]) == pytest.approx(14 / 3)
    assert mean([3, None, 5]) == 4
    assert mean([None]) is None
    assert mean([]) is None


def test_share_very_valuable_is_over_ratings_given() -> None:
    assert share_very_valuable([5, 4, 5, None]) == pytest.approx(2 / 3)
    assert share_very_valuable([1, 2]) == 0
    assert share_very_valuable([None, None]) is None


def test_response_rate_counts_only_respondents_who_attended() -> None:
    assert response_rate([1, 2, 3, 4], [1, 2, 3]) == 0.75
    # 9 did not attend: not a response; duplicates count once.
    assert response_rate([1, 2], [1, 9, 1]) == 0.5
    assert response_rate([], [1]) is None


def test_pooled_rate_adds_numerators_and_denominators() -> None:
    # 4 of 4 and 1 of 3 is 5 of 7, not the mean of 100 % and 33 %.
    assert pooled_rate([(4, 4), (1, 3)]) == pytest.approx(5 / 7)
    assert pooled_rate([(0, 0)]) is None


def test_next_step_completion_counts_only_done() -> None:
    assert next_step_completion(["done", "open", "partly", "not_yet"]) == 0.25
    assert next_step_completion(["done", "done"]) == 1
    assert next_step_completion([]) is None


def test_floor_seconds_takes_responses_off_the_hot_seat_they_interrupted() -> None:
    # Session 1: ana's hot seat (present 60, questions 60, advice 120); ben answers for 40 s
    # and cy for 20 s during her advice. Session 2: cy's response then cy's own advice.
    segments = [
        seg(1, 1, 1, "hotseats", "present", 60),
        seg(1, 2, 1, "hotseats", "questions", 60),
        seg(1, 3, 2, "hotseats", "response", 40),
        seg(1, 4, 3, "hotseats", "response", 20),
        seg(1, 5, 1, "hotseats", "advice", 120),
        seg(1, 6, 2, "hotseats", "present", 30),
        seg(2, 2, 3, "hotseats", "advice", 100),
        seg(2, 1, 2, "hotseats", "response", 10),
    ]
    assert floor_seconds(segments) == {1: 180, 2: 80, 3: 110}


def test_a_skip_during_a_response_leaves_the_response_on_the_interrupted_hot_seat() -> None:
    # Member 3 responds in member 2's advice; member 1, still pending, is skipped meanwhile,
    # so member 1's empty advice record lands between the response and the advice it belongs to.
    segments = [
        seg(1, 1, 2, "hotseats", "present", 15),
        seg(1, 2, 3, "hotseats", "response", 10),
        seg(1, 3, 1, "hotseats", "advice", 0),
        seg(1, 4, 2, "hotseats", "advice", 30),
    ]
    assert floor_seconds(segments) == {2: 35, 3: 10, 1: 0}


def test_hotseat_turns_count_sessions_with_an_own_hot_seat() -> None:
    segments = [
        seg(1, 1, 1, "hotseats", "present", 60),
        seg(1, 2, 1, "hotseats", "advice", 120),  # the same hot seat: one turn
        seg(1, 3, 2, "hotseats", "response", 40),  # answering is not a turn
        seg(1, 4, 3, "checkin", "checkin", 120),  # not a hot seat
        seg(1, 5, 4, "hotseats", "present", 0),  # absent: never held the floor
        seg(2, 1, 1, "hotseats", "present", 60),
        seg(2, 2, 3, "hotseats", "turn", 60),
    ]
    assert hotseat_turns(segments, members=[1, 2, 5]) == {1: 2, 2: 0, 5: 0, 3: 1}
    assert hotseat_turns([]) == {}


def test_floor_fairness_is_jains_index() -> None:
    assert floor_fairness([240, 240, 240]) == 1
    assert floor_fairness([600, 0, 0]) == pytest.approx(1 / 3)
    # (200 + 280 + 240 + 240)² / (4 · (200² + 280² + 240² + 240²)) = 921600 / 934400
    assert floor_fairness([200, 280, 240, 240]) == pytest.approx(921600 / 934400)
    assert floor_fairness([0, 0]) is None
    assert floor_fairness([]) is None


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12))
def test_floor_fairness_is_between_one_over_n_and_one(seconds: list[int]) -> None:
    fairness = floor_fairness(seconds)
    if not any(seconds):
        assert fairness is None
    else:
        assert fairness is not None
        assert 1 / len(seconds) - 1e-9 <= fairness <= 1 + 1e-9


def test_session_date_is_where_the_group_meets() -> None:
    assert session_date(START, None) == date(2026, 1, 5)
    assert session_date(START, "Asia/Tokyo") == date(2026, 1, 6)
    assert session_date(START, "America/Toronto") == date(2026, 1, 5)


def facts(session_id: int = 1, **changes: object) -> SessionFacts:
    values: dict[str, object] = {
        "session_id": session_id,
        "group_id": 7,
        "group": "Circle",
        "timezone": None,
        "started_at": START,
        "ended_at": START + timedelta(minutes=16, seconds=30),
        "attendance": {1: 990, 2: 990, 3: 600, 4: 30},
        "responses": (
            ResponseFact(user_id=1, rating=5, resources=2, referrals=1),
            ResponseFact(user_id=2, rating=4, resources=0, referrals=0),
            ResponseFact(user_id=3, rating=None, resources=1, referrals=0),
        ),
        "notes": {"resource": 1, "referral": 2, "insight": 5},
        "step_statuses": ("done", "open", "partly"),
        "segments": (
            seg(session_id, 1, 1, "hotseats", "present", 60),
            seg(session_id, 2, 2, "hotseats", "response", 30),
            seg(session_id, 3, 1, "hotseats", "advice", 120),
            seg(session_id, 4, 2, "hotseats", "present", 90),
        ),
    }
    values.update(changes)
    return SessionFacts(**values)  # type: ignore[arg-type]


def test_session_figures() -> None:
    figures = session_figures(facts())
    assert figures.session_date == date(2026, 1, 5)
    assert figures.duration_min == 16.5
    assert (figures.attendees, figures.responses) == (4, 3)
    assert figures.response_rate == 0.75
    assert figures.ratings == (5, 4)
    assert figures.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}
    assert figures.rating_mean == 4.5
    assert figures.very_valuable == 0.5 and figures.very_valuable_pct == 50
    # Notes (1 resource, 2 referrals; insights not counted) plus the forms' lines.
    assert (figures.resources, figures.referrals) == (1 + 3, 2 + 1)
    assert (figures.next_steps, figures.next_steps_done) == (3, 1)
    assert figures.next_steps_done_pct == pytest.approx(100 / 3)
    # ana (1): 60 + 120 − 30; ben (2): 30 + 90; cy and dee never held the floor.
    assert figures.floor == {1: 150, 2: 120, 3: 0, 4: 0}
    assert figures.floor_fairness == pytest.approx(270**2 / (4 * (150**2 + 120**2)))
    assert figures.hotseat_turns == {1: 1, 2: 1}


def test_session_figures_without_feedback_or_steps_are_undefined_not_zero() -> None:
    figures = session_figures(facts(responses=(), step_statuses=(), notes={}))
    assert figures.responses == 0 and figures.response_rate == 0
    assert figures.rating_mean is None and figures.very_valuable_pct is None
    assert figures.next_steps_done_pct is None
    assert (figures.resources, figures.referrals) == (0, 0)


def test_trend_figures_pool_the_sessions() -> None:
    first = session_figures(facts(1))
    second = session_figures(
        facts(
            2,
            started_at=START + timedelta(days=7),
            ended_at=START + timedelta(days=7, minutes=10),
            attendance={1: 600, 2: 600},
            responses=(ResponseFact(user_id=1, rating=3, resources=0, referrals=0),),
            notes={},
            step_statuses=("done",),
            segments=(seg(2, 1, 1, "hotseats", "present", 300),),
        )
    )
    trend = trend_figures([second, first], members=[1, 2, 5])
    assert trend.sessions == 2
    assert trend.attendance == (4, 2)  # oldest first
    assert trend.mean_attendance == 3
    assert (trend.responses, trend.response_rate) == (4, pytest.approx(4 / 6))
    assert trend.ratings == 3 and trend.rating_mean == 4  # (5 + 4 + 3) / 3
    assert trend.very_valuable == pytest.approx(1 / 3)
    assert trend.distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert (trend.next_steps, trend.next_steps_done) == (4, 2)
    assert trend.next_steps_done_share == 0.5
    assert (trend.resources, trend.referrals) == (4, 3)
    assert trend.hotseat_turns == {1: 2, 2: 1, 5: 0, 3: 0, 4: 0}
    assert trend.floor == {1: 450, 2: 120, 5: 0, 3: 0, 4: 0}
    assert trend.floor_fairness == pytest.approx(570**2 / (5 * (450**2 + 120**2)))


def test_not_answered_keeps_the_attendance_order_and_ignores_non_attendees() -> None:
    assert not_answered([3, 1, 2], {1, 9}) == [3, 2]
    assert not_answered([3, 1, 3], set()) == [3, 1]
    assert not_answered([], {1}) == []


@given(
    attendees=st.lists(st.integers(1, 8), unique=True, max_size=8),
    respondents=st.sets(st.integers(1, 12), max_size=10),
)
def test_response_rate_and_not_answered_agree(attendees: list[int], respondents: set[int]) -> None:
    """The rate /feedback status and the reports show, and the people it lists as waiting,
    are two views of one count."""
    rate = response_rate(attendees, respondents)
    waiting = not_answered(attendees, respondents)
    if not attendees:
        assert rate is None and waiting == []
    else:
        assert rate == (len(attendees) - len(waiting)) / len(attendees)
