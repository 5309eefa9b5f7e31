"""The `.ics` export: parse it back and expand its RRULE the way a calendar app would."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar, Event

from core.schedule import Recurrence, calendar_ics, event_uid, occurrences


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make(weekday: int, at: time, zone: str, anchor: date, every: int = 1) -> Recurrence:
    return Recurrence(
        weekday=weekday,
        local_time=at,
        every_weeks=every,
        duration_minutes=90,
        timezone=zone,
        anchor=anchor,
    )


def parse(data: bytes) -> tuple[Calendar, Event]:
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return cal, events[0]


def expand(event: Event, count: int) -> list[datetime]:
    """What a calendar app shows: the RRULE expanded in the DTSTART's wall time, EXDATEs
    removed, each wall time then placed in the zone (fold=0, as RFC 5545 says)."""
    start = event["DTSTART"].dt
    zone = start.tzinfo
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start.replace(tzinfo=None))
    excluded: set[datetime] = set()
    if "EXDATE" in event:
        exdates = event["EXDATE"] if isinstance(event["EXDATE"], list) else [event["EXDATE"]]
        excluded = {d.dt.replace(tzinfo=None) for ex in exdates for d in ex.dts}
    out: list[datetime] = []
    for naive in rule:
        if naive in excluded:
            continue
        out.append(naive.replace(tzinfo=zone, fold=0).astimezone(UTC))
        if len(out) == count:
            break
    return out


def test_ics_fields() -> None:
    rec = make(1, time(9), "America/Toronto", date(2026, 3, 3), every=2)
    cal, event = parse(calendar_ics(rec, "Early-career PIs", "Bring one question.", "g:42"))
    assert cal["VERSION"] == "2.0"
    assert "Mastermind" in str(cal["PRODID"])
    start, end = event["DTSTART"], event["DTEND"]
    assert start.params["TZID"] == "America/Toronto"
    assert start.dt == datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("America/Toronto"))
    assert start.dt.tzinfo is not None
    assert str(start.dt.tzinfo) == "America/Toronto"
    assert start.dt.astimezone(UTC) == utc(2026, 3, 3, 14)
    assert end.params["TZID"] == "America/Toronto"
    assert end.dt - start.dt == timedelta(minutes=90)
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule["INTERVAL"] == [2]
    assert rule["BYDAY"] == ["TU"]
    assert str(event["UID"]) == event_uid("g:42")
    assert str(event["SUMMARY"]) == "Early-career PIs (Mastermind)"
    assert str(event["DESCRIPTION"]) == "Bring one question."
    assert "DTSTAMP" in event
    assert "EXDATE" not in event
    (vtimezone,) = cal.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "America/Toronto"
    assert {c.name for c in vtimezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    # The VTIMEZONE comes before the event that uses it.
    assert [c.name for c in cal.subcomponents] == ["VTIMEZONE", "VEVENT"]


def test_uid_is_stable_and_per_seed() -> None:
    rec = make(1, time(9), "UTC", date(2026, 3, 3))
    other = make(3, time(18), "UTC", date(2026, 3, 5))
    uid = str(parse(calendar_ics(rec, "A", "", "seed-1"))[1]["UID"])
    assert uid == str(parse(calendar_ics(other, "B", "x", "seed-1"))[1]["UID"])
    assert uid != str(parse(calendar_ics(rec, "A", "", "seed-2"))[1]["UID"])
    assert uid.endswith("@mastermind-bot")


def test_output_is_deterministic_and_stamp_can_be_given() -> None:
    rec = make(1, time(9), "Europe/London", date(2026, 3, 3))
    assert calendar_ics(rec, "A", "", "s") == calendar_ics(rec, "A", "", "s")
    stamped = calendar_ics(rec, "A", "", "s", stamp=utc(2026, 2, 1, 12), location="Voice")
    _, event = parse(stamped)
    assert event["DTSTAMP"].dt == utc(2026, 2, 1, 12)
    assert str(event["LOCATION"]) == "Voice"
    assert b"\r\n" in stamped


@pytest.mark.parametrize(
    ("zone", "weekday", "at", "anchor", "every"),
    [
        ("America/Toronto", 0, time(9), date(2026, 1, 5), 1),
        ("Europe/London", 6, time(1, 30), date(2026, 3, 1), 1),  # gap and overlap hours
        ("Australia/Sydney", 2, time(19), date(2026, 1, 7), 2),
        ("Asia/Kolkata", 4, time(17, 30), date(2026, 1, 2), 3),
        ("America/Toronto", 6, time(2, 30), date(2026, 1, 4), 1),  # 02:30 gap on 03-08
    ],
)
def test_rrule_from_the_file_matches_occurrences(
    zone: str, weekday: int, at: time, anchor: date, every: int
) -> None:
    rec = make(weekday, at, zone, anchor, every)
    _, event = parse(calendar_ics(rec, "G", "", "s"))
    before_first = utc(2025, 12, 1)
    assert expand(event, 110) == occurrences(rec, before_first, 110)


def test_skipped_meetings_become_exdates() -> None:
    rec = make(6, time(2, 30), "America/Toronto", date(2026, 3, 1))
    gap = utc(2026, 3, 8, 7, 30)  # 02:30 does not exist that day: the meeting is at 03:30 EDT
    normal = utc(2026, 3, 22, 6, 30)
    not_a_meeting = utc(2026, 3, 23, 6, 30)
    skipped = {gap, normal, not_a_meeting}
    _, event = parse(calendar_ics(rec, "G", "", "s", skipped=skipped))
    exdates = [d.dt for d in event["EXDATE"].dts]
    # EXDATEs name the wall time the RRULE generates, in the meeting's zone.
    assert exdates == [
        datetime(2026, 3, 8, 2, 30, tzinfo=ZoneInfo("America/Toronto")),
        datetime(2026, 3, 22, 2, 30, tzinfo=ZoneInfo("America/Toronto")),
    ]
    assert event["EXDATE"].params["TZID"] == "America/Toronto"
    expanded = expand(event, 6)
    assert expanded == occurrences(rec, utc(2026, 2, 1), 6, skipped)
    assert gap not in expanded
    assert normal not in expanded


def test_vtimezone_offsets_match_zoneinfo() -> None:
    rec = make(2, time(19), "Australia/Sydney", date(2026, 1, 7))
    cal, _ = parse(calendar_ics(rec, "G", "", "s"))
    (vtimezone,) = cal.walk("VTIMEZONE")
    offsets = {
        (c.name, c["TZOFFSETTO"].td) for c in vtimezone.subcomponents if c.name == "DAYLIGHT"
    }
    assert offsets == {("DAYLIGHT", timedelta(hours=11))}
    standard = {c["TZOFFSETTO"].td for c in vtimezone.subcomponents if c.name == "STANDARD"}
    assert standard == {timedelta(hours=10)}


def test_sequence_is_written_as_given() -> None:
    rec = make(1, time(9), "America/Toronto", date(2026, 1, 6))
    assert parse(calendar_ics(rec, "A", "", "s"))[1]["SEQUENCE"] == 0
    assert parse(calendar_ics(rec, "A", "", "s", sequence=7))[1]["SEQUENCE"] == 7
    assert b"SEQUENCE:7\r\n" in calendar_ics(rec, "A", "", "s", sequence=7)
