"""Feedback, next steps and polls: the rules, without Discord."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.errors import UserError

RATING_LABELS = {
    1: "Not valuable",
    2: "Slightly",
    3: "Moderately",
    4: "Valuable",
    5: "Very valuable",
}
FEEDBACK_QUESTION = "How valuable was today's session?"
DETAIL_FIELDS = ("resources", "referrals", "next_steps", "comments")
DETAIL_MAX = 1000
STEP_MAX = 300
STEPS_MAX = 10
REMINDER_AFTER = timedelta(hours=24)

POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 55
POLL_OPTIONS_MIN, POLL_OPTIONS_MAX = 2, 10
POLL_HOURS_MIN, POLL_HOURS_MAX = 1, 768


class StepStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    PARTLY = "partly"
    NOT_YET = "not_yet"

    @property
    def label(self) -> str:
        return STEP_LABELS[self]


STEP_LABELS = {
    StepStatus.OPEN: "open",
    StepStatus.DONE: "Done",
    StepStatus.PARTLY: "Partly",
    StepStatus.NOT_YET: "Not yet",
}


@dataclass(frozen=True)
class FeedbackDetails:
    resources: str = ""
    referrals: str = ""
    next_steps: str = ""
    comments: str = ""


def rating_label(rating: int) -> str:
    if rating not in RATING_LABELS:
        raise UserError("A rating is from 1 (Not valuable) to 5 (Very valuable).")
    return RATING_LABELS[rating]


DETAIL_LABELS = {
    "resources": "Resources you were given",
    "referrals": "Referrals / people to contact",
    "next_steps": "Your next steps, one per line",
    "comments": "Other comments",
}
"""The form's field labels, which is how a refusal names the field that is over a limit."""


class DetailsRefused(UserError):
    """A details form over a limit: every problem, each naming its field. Nothing was saved;
    what the person typed is kept as a draft so the form can be reopened with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "Nothing was saved yet:\n" + "\n".join(f"- {problem}" for problem in problems)
        )
        self.problems = problems


def details_problems(values: Mapping[str, str]) -> list[str]:
    """What in a details form is over a limit, one sentence per problem, naming the field."""
    problems: list[str] = []
    for name in DETAIL_FIELDS:
        text = (values.get(name) or "").strip()
        if len(text) > DETAIL_MAX:
            problems.append(
                f"**{DETAIL_LABELS[name]}** has {len(text)} characters; it can be at most "
                f"{DETAIL_MAX}."
            )
    label = DETAIL_LABELS["next_steps"]
    steps = detail_items(values.get("next_steps") or "")
    for number, step in enumerate(steps, start=1):
        if len(step) > STEP_MAX:
            problems.append(
                f"**{label}**: step {number} (`{step[:40]}…`) has {len(step)} characters; a "
                f"next step can be at most {STEP_MAX} characters."
            )
    distinct = len({step_key(step) for step in steps})
    if distinct > STEPS_MAX:
        problems.append(
            f"**{label}** lists {distinct} steps; record at most {STEPS_MAX} next steps per "
            "session (pick the ones that matter most)."
        )
    return problems


def clean_details(values: Mapping[str, str]) -> FeedbackDetails:
    """Trim each field; refuse the form, naming every field over its limit (Discord enforces
    the length too, but a form can come from elsewhere)."""
    problems = details_problems(values)
    if problems:
        raise DetailsRefused(problems)
    return FeedbackDetails(**{name: (values.get(name) or "").strip() for name in DETAIL_FIELDS})


def detail_items(text: str) -> list[str]:
    """The separate items of a free-text field: each non-empty line, list markers dropped."""
    items = []
    for line in text.splitlines():
        item = line.strip().lstrip("-*•").strip()
        if item:
            items.append(item)
    return items


def next_step_lines(text: str) -> list[str]:
    """Each non-empty line is one next step; list markers are dropped, repeats kept once."""
    steps: list[str] = []
    seen: set[str] = set()
    for step in detail_items(text):
        if len(step) > STEP_MAX:
            raise UserError(
                f"A next step can be at most {STEP_MAX} characters; this one has {len(step)}: "
                f"`{step[:40]}…`"
            )
        key = step_key(step)
        if key not in seen:
            seen.add(key)
            steps.append(step)
    if len(steps) > STEPS_MAX:
        raise UserError(
            f"Record at most {STEPS_MAX} next steps per session (you wrote {len(steps)}); "
            "pick the ones that matter most."
        )
    return steps


def step_key(text: str) -> str:
    """Two steps are the same step when they differ only in case and spacing."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class StepChanges:
    """How a resubmitted form changes a member's steps of one session."""

    delete: list[int]
    add: list[str]


def plan_step_changes(
    existing: Sequence[tuple[int, str, StepStatus]], lines: Sequence[str]
) -> StepChanges:
    """Keep every step the form still lists (with its id and status), drop the open ones it
    no longer lists, and add the new lines. A step someone already marked (done, partly,
    not yet) is history and stays even when the line is gone."""
    wanted = {step_key(line) for line in lines}
    kept = set()
    delete = []
    for step_id, text, status in existing:
        key = step_key(text)
        if key in wanted and key not in kept:
            kept.add(key)
        elif status == StepStatus.OPEN:
            delete.append(step_id)
    add = [line for line in lines if step_key(line) not in kept]
    return StepChanges(delete=delete, add=add)


STEPS_PER_CHECKIN_MESSAGE = 5
"""Discord allows five rows of buttons a message; each step gets a row (Done, Partly, Not yet)."""
RECENT_DONE_LISTED = 10
"""`/nextsteps list` shows every open step and this many of the latest done ones."""


def visible_step_groups(
    caller_groups: Mapping[int, bool], target_groups: Collection[int]
) -> frozenset[int]:
    """The groups whose next steps of someone else a caller may see: the groups they share
    with that person, and every group the caller facilitates. `caller_groups` maps each of the
    caller's groups to whether they facilitate it. (Moderators, and people looking at their own
    steps, see every group: the caller decides that before asking.)"""
    shared = {group for group in caller_groups if group in set(target_groups)}
    facilitated = {group for group, facilitates in caller_groups.items() if facilitates}
    return frozenset(shared | facilitated)


def feedback_closes_at(ended_at: datetime, feedback_days: int) -> datetime:
    return ended_at + timedelta(days=feedback_days)


def poll_duration(hours: int) -> timedelta:
    """Discord keeps a poll open from 1 hour to 32 days."""
    if not POLL_HOURS_MIN <= hours <= POLL_HOURS_MAX:
        raise UserError(
            f"A poll stays open {POLL_HOURS_MIN} to {POLL_HOURS_MAX} hours (32 days); "
            f"you asked for {hours}."
        )
    return timedelta(hours=hours)


def parse_poll(question: str, options: str) -> tuple[str, list[str]]:
    text = question.strip()
    if not text:
        raise UserError("A poll needs a question.")
    if len(text) > POLL_QUESTION_MAX:
        raise UserError(f"A poll question can be at most {POLL_QUESTION_MAX} characters.")
    answers = [part.strip() for part in options.split("|")]
    if any(not answer for answer in answers):
        raise UserError("A poll option is empty; separate options with `|`, e.g. `Yes | No`.")
    if not POLL_OPTIONS_MIN <= len(answers) <= POLL_OPTIONS_MAX:
        raise UserError(
            f"A poll needs {POLL_OPTIONS_MIN} to {POLL_OPTIONS_MAX} options separated by `|` "
            f"(you gave {len(answers)})."
        )
    too_long = [answer for answer in answers if len(answer) > POLL_OPTION_MAX]
    if too_long:
        raise UserError(
            f"Poll options can be at most {POLL_OPTION_MAX} characters: `{too_long[0][:60]}`."
        )
    if len({answer.casefold() for answer in answers}) != len(answers):
        raise UserError("Two poll options are the same.")
    return text, answers


# What the feedback repository returns.


@dataclass(frozen=True)
class FeedbackRequest:
    session_id: int
    group_id: int
    channel_id: int | None
    message_id: int | None
    opened_at: datetime
    closes_at: datetime
    remind_at: datetime
    reminded_at: datetime | None
    closed_at: datetime | None

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.closes_at


@dataclass(frozen=True)
class FeedbackResponse:
    session_id: int
    user_id: int
    rating: int | None
    details: FeedbackDetails
    submitted_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NextStep:
    id: int
    session_id: int
    group_id: int
    owner_id: int
    text: str
    status: StepStatus
    created_at: datetime
    status_at: datetime | None


@dataclass(frozen=True)
class Poll:
    id: int
    guild_id: int
    group_id: int
    channel_id: int
    message_id: int
    question: str
    options: list[str]
    created_by: int
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    results: dict[str, int] | None
