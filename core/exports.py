"""The CSV exports of the reports and the pseudonyms of respondents; pure.

Every file is UTF-8 without a byte-order mark, written by the `csv` module (RFC 4180 quoting,
CRLF line ends) with exactly one header row.

`feedback.csv`, one row per respondent per session, oldest session first:

- `session_id`, `group`, `session_date` (YYYY-MM-DD where the group meets);
- `respondent`: a pseudonym `r-` + the first 8 hex digits of HMAC-SHA256(guild key, user id).
  The key is 32 random bytes kept per guild in the database and never shown, so the file does
  not reveal who answered, yet one person has the same pseudonym in every export of the guild.
  With identified exports turned on (`/mastermind setup identified_exports:true`) it is the
  person's name and Discord id instead. Someone who deleted their data is `anonymous`;
- `rating` (1-5, empty for a respondent who only filled in the form) and `rating_label`;
- `resources`, `referrals`, `next_steps`, `comments`: the text of the form;
- `submitted_at`: the first answer, ISO 8601 UTC (`2026-01-01T00:17:00Z`).

`sessions.csv`, one row per ended session, oldest first; figures as defined in `core.stats`:

- `duration_min` with one decimal; `attendees`, `responses`, `resources`, `referrals`,
  `next_steps` are counts;
- `response_rate` is a fraction with three decimals (`0.750`); `rating_mean` has two decimals;
  `very_valuable_pct` and `next_steps_done_pct` are percentages with one decimal (`66.7`);
- a figure that is undefined (no ratings, no next steps) is an empty cell.

`notes.csv`, every note taken during one session (`/session note` or the panel), in the order
they were taken: `session_id`, `group`, `kind` (`resource`, `referral`, `insight`),
`for_member` and `author` (labelled like `respondent`; empty when nobody), `text`, `created_at`.

Text a spreadsheet would run as a formula (a cell starting with `=`, `+`, `-`, `@`, tab or
carriage return) is prefixed with `'`.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.feedback import RATING_LABELS
from core.stats import SessionFigures

FEEDBACK_COLUMNS = (
    "session_id",
    "group",
    "session_date",
    "respondent",
    "rating",
    "rating_label",
    "resources",
    "referrals",
    "next_steps",
    "comments",
    "submitted_at",
)
SESSIONS_COLUMNS = (
    "session_id",
    "group",
    "session_date",
    "duration_min",
    "attendees",
    "responses",
    "response_rate",
    "rating_mean",
    "very_valuable_pct",
    "resources",
    "referrals",
    "next_steps",
    "next_steps_done_pct",
)
NOTES_COLUMNS = (
    "session_id",
    "group",
    "kind",
    "for_member",
    "author",
    "text",
    "created_at",
)
ANONYMOUS = "anonymous"
PSEUDONYM_HEX_DIGITS = 8
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def pseudonym(key: bytes, user_id: int) -> str:
    """A stable pseudonym for a respondent: not reversible without the guild's key."""
    digest = hmac.new(key, str(user_id).encode("ascii"), hashlib.sha256).hexdigest()
    return f"r-{digest[:PSEUDONYM_HEX_DIGITS]}"


def is_anonymized(user_id: int) -> bool:
    """Discord ids are positive; a person who deleted their data is a negative id."""
    return user_id < 0


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def safe_text(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def fixed(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


@dataclass(frozen=True)
class FeedbackRow:
    session_id: int
    group: str
    session_date: date
    respondent: str
    rating: int | None
    resources: str
    referrals: str
    next_steps: str
    comments: str
    submitted_at: datetime


@dataclass(frozen=True)
class NoteRow:
    """One session note as exported: `for_member` and `author` already labelled like
    `respondent` (pseudonym, name, `anonymous`, or empty when nobody)."""

    session_id: int
    group: str
    kind: str
    for_member: str
    author: str
    text: str
    created_at: datetime


def _write(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def feedback_csv(rows: Iterable[FeedbackRow]) -> bytes:
    return _write(
        FEEDBACK_COLUMNS,
        (
            (
                row.session_id,
                safe_text(row.group),
                row.session_date.isoformat(),
                safe_text(row.respondent),
                "" if row.rating is None else row.rating,
                "" if row.rating is None else RATING_LABELS[row.rating],
                safe_text(row.resources),
                safe_text(row.referrals),
                safe_text(row.next_steps),
                safe_text(row.comments),
                utc_stamp(row.submitted_at),
            )
            for row in rows
        ),
    )


def sessions_csv(sessions: Iterable[SessionFigures]) -> bytes:
    return _write(
        SESSIONS_COLUMNS,
        (
            (
                s.session_id,
                safe_text(s.group),
                s.session_date.isoformat(),
                fixed(s.duration_min, 1),
                s.attendees,
                s.responses,
                fixed(s.response_rate, 3),
                fixed(s.rating_mean, 2),
                fixed(s.very_valuable_pct, 1),
                s.resources,
                s.referrals,
                s.next_steps,
                fixed(s.next_steps_done_pct, 1),
            )
            for s in sessions
        ),
    )


def notes_csv(rows: Iterable[NoteRow]) -> bytes:
    return _write(
        NOTES_COLUMNS,
        (
            (
                row.session_id,
                safe_text(row.group),
                row.kind,
                safe_text(row.for_member),
                safe_text(row.author),
                safe_text(row.text),
                utc_stamp(row.created_at),
            )
            for row in rows
        ),
    )
