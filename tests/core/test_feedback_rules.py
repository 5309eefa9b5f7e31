"""Rules for feedback, next steps and polls (`core.feedback`), without Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import feedback as rules
from core.errors import UserError
from core.feedback import StepStatus


def test_ratings_have_the_five_labels_in_order() -> None:
    assert [rules.rating_label(n) for n in range(1, 6)] == [
        "Not valuable",
        "Slightly",
        "Moderately",
        "Valuable",
        "Very valuable",
    ]
    for bad in (0, 6, -1):
        with pytest.raises(UserError, match="1 \\(Not valuable\\) to 5"):
            rules.rating_label(bad)


def test_clean_details_trims_and_fills_missing_fields() -> None:
    details = rules.clean_details({"resources": "  Kern  ", "comments": "\n ok \n"})
    assert details == rules.FeedbackDetails(resources="Kern", comments="ok")


@pytest.mark.parametrize("field", ["resources", "referrals", "comments"])
def test_clean_details_refuses_a_field_over_its_limit(field: str) -> None:
    at_limit = "x" * rules.DETAIL_MAX
    # Surrounding whitespace does not count against the limit.
    assert getattr(rules.clean_details({field: f"  {at_limit}\n"}), field) == at_limit
    label = rules.DETAIL_LABELS[field]
    with pytest.raises(rules.DetailsRefused) as refused:
        rules.clean_details({field: at_limit + "x"})
    assert refused.value.problems[0] == (
        f"**{label}** has 1001 characters; it can be at most 1000."
    )


def test_the_next_steps_field_has_the_same_limit() -> None:
    lines = [f"{n}" + "s" * 98 for n in range(10)]  # ten steps of 99 characters: 999 in all
    details = rules.clean_details({"next_steps": "\n".join(lines)})
    assert len(details.next_steps) == 999
    assert rules.next_step_lines(details.next_steps) == lines
    with pytest.raises(UserError, match="one per line\\*\\* has 1001 characters"):
        rules.clean_details({"next_steps": "\n".join(lines) + "ss"})


def test_clean_details_checks_the_next_steps_too() -> None:
    with pytest.raises(UserError, match="at most 300 characters"):
        rules.clean_details({"next_steps": "ok\n" + "s" * 301})
    with pytest.raises(UserError, match="at most 10 next steps"):
        rules.clean_details({"next_steps": "\n".join(f"step {n}" for n in range(11))})


def test_a_refused_form_names_every_field_over_its_limit() -> None:
    values = {
        "resources": "r" * 1200,
        "next_steps": "\n".join([*(f"step {n}" for n in range(11)), "s" * 301]),
        "comments": "fine",
    }
    problems = rules.details_problems(values)
    assert problems == [
        "**Resources you were given** has 1200 characters; it can be at most 1000.",
        "**Your next steps, one per line**: step 12 (`" + "s" * 40 + "…`) has 301 characters; "
        "a next step can be at most 300 characters.",
        "**Your next steps, one per line** lists 12 steps; record at most 10 next steps per "
        "session (pick the ones that matter most).",
    ]
    with pytest.raises(rules.DetailsRefused) as refused:
        rules.clean_details(values)
    assert refused.value.problems == problems
    assert refused.value.message.startswith("Nothing was saved yet:\n- **Resources")
    # Repeated steps count once, as they are stored.
    assert rules.details_problems({"next_steps": "\n".join(["Same"] * 12)}) == []


@given(st.dictionaries(st.sampled_from(rules.DETAIL_FIELDS), st.text(max_size=1300)))
def test_a_form_is_refused_exactly_when_it_has_problems(values: dict[str, str]) -> None:
    problems = rules.details_problems(values)
    try:
        details = rules.clean_details(values)
    except rules.DetailsRefused as refused:
        assert refused.problems == problems != []
    else:
        assert problems == []
        assert len(rules.next_step_lines(details.next_steps)) <= rules.STEPS_MAX


def test_each_non_empty_line_is_one_step_without_list_markers() -> None:
    text = "Draft aims page\n\n- Email the dean\n  * Book a retreat  \n• Call Lee\n   \n"
    assert rules.next_step_lines(text) == [
        "Draft aims page",
        "Email the dean",
        "Book a retreat",
        "Call Lee",
    ]
    assert rules.next_step_lines("") == []
    assert rules.next_step_lines(" \n - \n") == []


def test_a_repeated_step_counts_once() -> None:
    assert rules.next_step_lines("Email the dean\nemail  THE dean\nCall Lee") == [
        "Email the dean",
        "Call Lee",
    ]


def test_step_limits() -> None:
    assert rules.next_step_lines("s" * rules.STEP_MAX) == ["s" * rules.STEP_MAX]
    with pytest.raises(UserError, match="this one has 301"):
        rules.next_step_lines("s" * (rules.STEP_MAX + 1))
    ten = "\n".join(f"step {n}" for n in range(rules.STEPS_MAX))
    assert len(rules.next_step_lines(ten)) == rules.STEPS_MAX
    with pytest.raises(UserError, match="you wrote 11"):
        rules.next_step_lines(ten + "\none more")


def test_detail_items_splits_free_text_like_steps_but_without_limits() -> None:
    assert rules.detail_items("- Kern\n\n* " + "x" * 500) == ["Kern", "x" * 500]


def test_step_key_ignores_case_and_spacing() -> None:
    assert rules.step_key("  Email   the DEAN ") == rules.step_key("email the dean")
    assert rules.step_key("Email the dean") != rules.step_key("Email the deans")


def test_resubmitting_the_same_steps_changes_nothing() -> None:
    existing = [(1, "Draft", StepStatus.OPEN), (2, "Email", StepStatus.DONE)]
    assert rules.plan_step_changes(existing, ["Draft", "email"]) == rules.StepChanges([], [])


def test_new_lines_are_added_and_open_steps_no_longer_listed_are_dropped() -> None:
    existing = [
        (1, "Draft", StepStatus.OPEN),
        (2, "Email", StepStatus.OPEN),
        (3, "Retreat", StepStatus.PARTLY),
        (4, "Call", StepStatus.NOT_YET),
    ]
    changes = rules.plan_step_changes(existing, ["Draft", "Read Kern"])
    # Marked steps are history: they stay even though the form no longer lists them.
    assert changes == rules.StepChanges(delete=[2], add=["Read Kern"])


def test_a_duplicate_stored_step_is_dropped_when_open() -> None:
    existing = [(1, "Draft", StepStatus.OPEN), (2, "draft", StepStatus.OPEN)]
    assert rules.plan_step_changes(existing, ["Draft"]) == rules.StepChanges([2], [])


step_texts = st.sampled_from(["Draft", "Email", "Retreat", "Call", "Read", "draft", "EMAIL"])


@given(
    existing=st.lists(st.tuples(step_texts, st.sampled_from(list(StepStatus))), max_size=6),
    lines=st.lists(step_texts, max_size=6),
)
def test_after_the_changes_every_line_has_exactly_one_step(
    existing: list[tuple[str, StepStatus]], lines: list[str]
) -> None:
    rows = [(n, text, status) for n, (text, status) in enumerate(existing, start=1)]
    wanted = rules.next_step_lines("\n".join(lines))
    changes = rules.plan_step_changes(rows, wanted)
    remaining = [(text, status) for n, text, status in rows if n not in changes.delete]
    remaining += [(text, StepStatus.OPEN) for text in changes.add]
    for line in wanted:
        assert sum(rules.step_key(text) == rules.step_key(line) for text, _ in remaining) >= 1
    # Nothing anyone marked is ever deleted; nothing is added that was already there.
    assert all(status == StepStatus.OPEN for n, _, status in rows if n in changes.delete)
    kept_keys = {rules.step_key(text) for n, text, _ in rows if n not in changes.delete}
    assert not any(rules.step_key(text) in kept_keys for text in changes.add)
    # Open steps that remain are all still wanted, each once.
    open_keys = [
        rules.step_key(text)
        for n, text, status in rows
        if n not in changes.delete and status == StepStatus.OPEN
    ]
    assert len(open_keys) == len(set(open_keys))
    assert set(open_keys) <= {rules.step_key(line) for line in wanted}


def test_feedback_closes_after_the_guilds_days() -> None:
    ended = datetime(2026, 1, 1, 18, 30, tzinfo=UTC)
    assert rules.feedback_closes_at(ended, 7) == ended + timedelta(days=7)
    assert rules.feedback_closes_at(ended, 1) == datetime(2026, 1, 2, 18, 30, tzinfo=UTC)
    assert timedelta(hours=24) == rules.REMINDER_AFTER


def test_poll_duration_bounds() -> None:
    assert rules.poll_duration(1) == timedelta(hours=1)
    assert rules.poll_duration(768) == timedelta(days=32)
    for hours in (0, -3, 769):
        with pytest.raises(UserError, match="1 to 768 hours"):
            rules.poll_duration(hours)


def test_parse_poll_trims_question_and_options() -> None:
    assert rules.parse_poll("  Which day? ", " Tue |Thu|  Sat ") == (
        "Which day?",
        ["Tue", "Thu", "Sat"],
    )


@pytest.mark.parametrize(
    ("question", "options", "message"),
    [
        ("Which day?", "Tue", "you gave 1"),
        ("Which day?", "|".join(f"o{n}" for n in range(11)), "you gave 11"),
        ("Which day?", "Tue||Thu", "option is empty"),
        ("Which day?", "Tue|Thu| ", "option is empty"),
        ("Which day?", "", "option is empty"),
        ("Which day?", "Tue|" + "x" * 56, "at most 55 characters"),
        ("q" * 301, "Tue|Thu", "at most 300 characters"),
        ("   ", "Tue|Thu", "needs a question"),
        ("Which day?", "Tue|TUE", "the same"),
    ],
)
def test_parse_poll_refusals(question: str, options: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        rules.parse_poll(question, options)


def test_parse_poll_accepts_the_limits() -> None:
    options = [f"{n}" + "x" * 54 for n in range(10)]
    question, answers = rules.parse_poll("q" * 300, "|".join(options))
    assert (len(question), answers) == (300, options)


answer = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="|"
    ),
    min_size=1,
    max_size=55,
)


@given(st.lists(answer, min_size=2, max_size=10, unique_by=lambda a: a.casefold()))
def test_parse_poll_round_trips_valid_answers(answers: list[str]) -> None:
    assert rules.parse_poll("Q?", " | ".join(answers)) == ("Q?", answers)


def test_visible_step_groups_are_shared_or_facilitated() -> None:
    caller = {1: False, 2: True, 3: False}
    assert rules.visible_step_groups(caller, {1, 4}) == {1, 2}
    assert rules.visible_step_groups(caller, set()) == {2}
    assert rules.visible_step_groups({1: False}, {4}) == frozenset()
    assert rules.visible_step_groups({}, {1}) == frozenset()
