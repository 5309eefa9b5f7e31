"""Feedback, next steps and polls: the rules, without Discord."""

from __future__ import annotations

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
REMINDER_AFTER = timedelta(hours=24)

POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 55
POLL_OPTIONS_MIN, POLL_OPTIONS_MAX = 2, 10


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


def clean_details(values: dict[str, str]) -> FeedbackDetails:
    """Trim each field and refuse one over its limit (Discord enforces it too, but a form
    can come from elsewhere)."""
    cleaned: dict[str, str] = {}
    for name in DETAIL_FIELDS:
        text = (values.get(name) or "").strip()
        if len(text) > DETAIL_MAX:
            pretty = name.replace("_", " ")
            raise UserError(f"'{pretty}' can be at most {DETAIL_MAX} characters.")
        cleaned[name] = text
    return FeedbackDetails(**cleaned)


def next_step_lines(text: str) -> list[str]:
    """Each non-empty line is one next step; list markers are dropped."""
    steps = []
    for line in text.splitlines():
        step = line.strip().lstrip("-*•").strip()
        if step:
            if len(step) > STEP_MAX:
                raise UserError(f"A next step can be at most {STEP_MAX} characters.")
            steps.append(step)
    return steps


def feedback_closes_at(ended_at: datetime, feedback_days: int) -> datetime:
    return ended_at + timedelta(days=feedback_days)


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
