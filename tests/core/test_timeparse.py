"""Parsing the times people type."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import UserError
from core.timeparse import (
    DEFAULT_HOURS,
    all_timezones,
    format_hours,
    parse_hhmm,
    parse_hours,
    parse_timezone,
    parse_weekday,
    timezone_choices,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:30", time(9, 30)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        (" 07:05 ", time(7, 5)),
    ],
)
def test_parse_hhmm_accepts_24_hour_times(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize(
    "text", ["9:30", "24:00", "25:00", "12:60", "9am", "0930", "", "09:30:00", "-1:00", "09.30"]
)
def test_parse_hhmm_refuses_anything_else(text: str) -> None:
    with pytest.raises(UserError, match="HH:MM"):
        parse_hhmm(text)


@given(st.integers(0, 23), st.integers(0, 59))
def test_parse_hhmm_round_trips(hour: int, minute: int) -> None:
    assert parse_hhmm(f"{hour:02d}:{minute:02d}") == time(hour, minute)


def test_parse_hours_ranges_including_past_midnight() -> None:
    assert parse_hours("08:00-20:00") == (time(8), time(20))
    assert parse_hours(" 07:30 - 16:00 ") == (time(7, 30), time(16))
    assert parse_hours("22:00-06:00") == (time(22), time(6))
    assert parse_hours(DEFAULT_HOURS) == (time(8), time(20))
    assert format_hours(parse_hours("22:00-06:30")) == "22:00-06:30"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("9-5", "`9` is not a time"),
        ("25:00-26:00", "`25:00` is not a time"),
        ("09:00", "not a range"),
        ("08:00-12:00-13:00", "not a range"),
        ("09:00-09:00", "the same"),
        ("", "not a range"),
    ],
)
def test_parse_hours_refusals_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_hours(text)
    assert says in raised.value.message


@pytest.mark.parametrize(
    ("text", "day"),
    [("Monday", 0), ("tue", 1), ("WEDNES", 2), ("thu", 3), ("fri", 4), ("sat", 5), (" sun ", 6)],
)
def test_parse_weekday_names_and_prefixes(text: str, day: int) -> None:
    assert parse_weekday(text) == day


@pytest.mark.parametrize("text", ["t", "th", "tu", "funday", "", "mondays", "7"])
def test_parse_weekday_refuses_ambiguous_or_unknown(text: str) -> None:
    with pytest.raises(UserError, match="not a weekday"):
        parse_weekday(text)


def test_parse_timezone_takes_iana_names_in_any_case() -> None:
    assert parse_timezone("America/Toronto").key == "America/Toronto"
    assert parse_timezone(" america/toronto ").key == "America/Toronto"
    assert parse_timezone("America/New York").key == "America/New_York"
    assert parse_timezone("UTC").key == "UTC"
    for bad in ("Mars/Olympus_Mons", "Toronto", "EST5", "", "../etc/passwd"):
        with pytest.raises(UserError, match="not a time zone"):
            parse_timezone(bad)


def test_timezone_choices_put_cities_first() -> None:
    assert timezone_choices("toronto")[0] == "America/Toronto"
    assert timezone_choices("TORONTO")[0] == "America/Toronto"
    assert timezone_choices("new york")[0] == "America/New_York"
    assert timezone_choices("london")[0] == "Europe/London"
    # A city match beats a region match: "lon" is a city prefix of London and Longyearbyen.
    lon = timezone_choices("lon")
    assert {"Europe/London", "Arctic/Longyearbyen"} <= set(lon)
    assert all(name.rsplit("/", 1)[-1].lower().startswith("lon") for name in lon[:2])
    # Anywhere in the name also matches, after the cities.
    europe = timezone_choices("europe/")
    assert europe and all(name.startswith("Europe/") for name in europe)
    assert timezone_choices("zzzz") == []


def test_timezone_choices_respect_the_limit() -> None:
    assert len(timezone_choices("")) == 25
    assert timezone_choices("", limit=3) == list(all_timezones()[:3])
    assert len(timezone_choices("a", limit=7)) == 7
    assert all(name in all_timezones() for name in timezone_choices("america"))
