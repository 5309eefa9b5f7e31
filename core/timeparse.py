"""Parsing and formatting of the times people type: `HH:MM`, `HH:MM-HH:MM`, weekdays, zones."""

from __future__ import annotations

import re
import zoneinfo
from datetime import time
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.errors import UserError

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_HOURS = "08:00-20:00"


def parse_hhmm(text: str) -> time:
    """A 24-hour `HH:MM`; `9am`, `25:00` and `9:00` are refused so nobody is an hour off."""
    match = _HHMM.match(text.strip())
    if not match:
        raise UserError(f"`{text}` is not a time: use 24-hour `HH:MM`, for example `09:30`.")
    return time(int(match.group(1)), int(match.group(2)))


def parse_hours(text: str) -> tuple[time, time]:
    """Usual availability `HH:MM-HH:MM`; an end before the start wraps past midnight."""
    parts = text.replace(" ", "").split("-")
    if len(parts) != 2:
        raise UserError(f"`{text}` is not a range of hours: use `HH:MM-HH:MM`, e.g. `08:00-20:00`.")
    start, end = parse_hhmm(parts[0]), parse_hhmm(parts[1])
    if start == end:
        raise UserError("The start and end of your hours are the same; give a real range.")
    return start, end


def format_hours(hours: tuple[time, time]) -> str:
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


def parse_weekday(text: str) -> int:
    """Monday is 0. Accepts full names and unambiguous prefixes of three letters or more."""
    needle = text.strip().lower()
    if len(needle) >= 3:
        matches = [i for i, name in enumerate(WEEKDAYS) if name.startswith(needle)]
        if len(matches) == 1:
            return matches[0]
    raise UserError(f"`{text}` is not a weekday: use a name such as `Tuesday`.")


@lru_cache(maxsize=1)
def all_timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


@lru_cache(maxsize=1)
def _zones_by_key() -> dict[str, str]:
    return {name.casefold(): name for name in all_timezones()}


def parse_timezone(text: str) -> ZoneInfo:
    """An IANA zone name, in any case (`america/toronto` is `America/Toronto`)."""
    name = _zones_by_key().get(text.strip().replace(" ", "_").casefold())
    if name is None:
        raise UserError(
            f"`{text}` is not a time zone I know: use an IANA name such as `America/Toronto` "
            "(start typing a city and pick from the list)."
        )
    return ZoneInfo(name)


def timezone_choices(query: str, limit: int = 25) -> list[str]:
    """Zones whose name or city matches what was typed, cities first: `toronto` finds
    `America/Toronto`, `new york` finds `America/New_York`."""
    needle = query.strip().lower().replace(" ", "_")
    if not needle:
        return list(all_timezones()[:limit])
    city_hits: list[str] = []
    other_hits: list[str] = []
    for name in all_timezones():
        lowered = name.lower()
        city = lowered.rsplit("/", 1)[-1]
        if city.startswith(needle):
            city_hits.append(name)
        elif needle in lowered:
            other_hits.append(name)
    return (city_hits + other_hits)[:limit]
