"""The CSV files byte for byte, and the pseudonyms of respondents."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from datetime import UTC, date, datetime, timedelta

from core.exports import (
    FEEDBACK_COLUMNS,
    NOTES_COLUMNS,
    SESSIONS_COLUMNS,
    FeedbackRow,
    NoteRow,
    feedback_csv,
    is_anonymized,
    notes_csv,
    pseudonym,
    safe_text,
    sessions_csv,
)
from core.stats import ResponseFact, SessionFacts, session_figures

KEY = bytes(range(32))
START = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


def test_the_columns_are_exactly_the_documented_ones() -> None:
    assert ",".join(FEEDBACK_COLUMNS) == (
        "session_id,group,session_date,respondent,rating,rating_label,resources,referrals,"
        "next_steps,comments,submitted_at"
    )
    assert ",".join(SESSIONS_COLUMNS) == (
        "session_id,group,session_date,duration_min,attendees,responses,response_rate,"
        "rating_mean,very_valuable_pct,resources,referrals,next_steps,next_steps_done_pct"
    )


def test_pseudonym_is_a_truncated_keyed_hash() -> None:
    expected = hmac.new(KEY, b"1456074443980800014", hashlib.sha256).hexdigest()[:8]
    assert pseudonym(KEY, 1456074443980800014) == f"r-{expected}"
    # Stable for one key, different across keys and people, and without the id in it.
    assert pseudonym(KEY, 42) == pseudonym(KEY, 42)
    assert pseudonym(KEY, 42) != pseudonym(bytes(32), 42)
    assert pseudonym(KEY, 42) != pseudonym(KEY, 43)
    assert len({pseudonym(KEY, n) for n in range(1000)}) == 1000
    name = pseudonym(KEY, 42)
    assert len(name) == 10 and name.startswith("r-") and int(name[2:], 16) >= 0


def test_anonymized_ids_are_the_negative_ones() -> None:
    assert is_anonymized(-5) and not is_anonymized(1456074443980800014)


def test_feedback_csv() -> None:
    rows = [
        FeedbackRow(
            session_id=3,
            group="Circle, West",
            session_date=date(2026, 1, 5),
            respondent="r-0011aabb",
            rating=4,
            resources="Kern's six steps\nBEME guide",
            referrals="",
            next_steps='Draft "aims" page',
            comments="=HYPERLINK(1)",
            submitted_at=datetime(2026, 1, 5, 19, 30, 5, tzinfo=UTC),
        ),
        FeedbackRow(
            session_id=3,
            group="Circle, West",
            session_date=date(2026, 1, 5),
            respondent="anonymous",
            rating=None,
            resources="",
            referrals="Dr. Osei",
            next_steps="",
            comments="Très utile",
            submitted_at=datetime(2026, 1, 5, 14, 30, tzinfo=UTC) + timedelta(hours=5),
        ),
    ]
    data = feedback_csv(rows)
    assert data.decode("utf-8") == (
        "session_id,group,session_date,respondent,rating,rating_label,resources,referrals,"
        "next_steps,comments,submitted_at\r\n"
        '3,"Circle, West",2026-01-05,r-0011aabb,4,Valuable,"Kern\'s six steps\nBEME guide",,'
        '"Draft ""aims"" page",\'=HYPERLINK(1),2026-01-05T19:30:05Z\r\n'
        '3,"Circle, West",2026-01-05,anonymous,,,,Dr. Osei,,Très utile,2026-01-05T19:30:00Z\r\n'
    )
    assert not data.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert parsed[0]["resources"] == "Kern's six steps\nBEME guide"
    assert parsed[1]["comments"] == "Très utile"


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_defused() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_text(text) == "'" + text
    for text in ("Plain", "", "1-2", "a=b"):
        assert safe_text(text) == text


def test_sessions_csv() -> None:
    figures = session_figures(
        SessionFacts(
            session_id=12,
            group="Circle",
            group_id=1,
            timezone="America/Toronto",
            started_at=START,
            ended_at=START + timedelta(minutes=95, seconds=20),
            attendance={1: 60, 2: 60, 3: 60},
            responses=(
                ResponseFact(1, 5, resources=2, referrals=0),
                ResponseFact(2, 4, resources=0, referrals=1),
                ResponseFact(3, 4, resources=0, referrals=0),
            ),
            notes={"resource": 1},
            step_statuses=("done", "open", "open"),
        )
    )
    empty = session_figures(
        SessionFacts(
            session_id=13,
            group="Circle",
            group_id=1,
            timezone=None,
            started_at=START,
            ended_at=START + timedelta(minutes=1),
            attendance={1: 60},
        )
    )
    assert sessions_csv([figures, empty]).decode("utf-8") == (
        ",".join(SESSIONS_COLUMNS) + "\r\n"
        "12,Circle,2026-01-05,95.3,3,3,1.000,4.33,33.3,3,1,3,33.3\r\n"
        "13,Circle,2026-01-05,1.0,1,0,0.000,,,0,0,0,\r\n"
    )


def test_notes_csv_byte_for_byte() -> None:
    assert ",".join(NOTES_COLUMNS) == "session_id,group,kind,for_member,author,text,created_at"
    rows = [
        NoteRow(7, "Circle", "resource", "r-0a1b2c3d", "r-99887766", "AMEE guide, 83", START),
        NoteRow(7, "Circle", "insight", "", "", "=HYPERLINK(1)\nsecond line", START),
    ]
    assert notes_csv(rows) == (
        b"session_id,group,kind,for_member,author,text,created_at\r\n"
        b'7,Circle,resource,r-0a1b2c3d,r-99887766,"AMEE guide, 83",2026-01-05T18:00:00Z\r\n'
        b'7,Circle,insight,,,"\'=HYPERLINK(1)\nsecond line",2026-01-05T18:00:00Z\r\n'
    )
    assert notes_csv([]) == b"session_id,group,kind,for_member,author,text,created_at\r\n"
