"""A group's recurring meeting: a weekday and a wall-clock time in one time zone.

The meeting is defined in local time, so 09:00 in `America/Toronto` stays 09:00 on the wall
clock all year and its UTC instant moves when daylight saving time starts or ends.

Two days a year the local time may be odd, and both cases follow zoneinfo's standard
behaviour for `fold=0` (the same choice RFC 5545 makes for a `DTSTART` with a `TZID`):

* **Gap** (clocks spring forward, e.g. 02:30 on 2026-03-08 in Toronto does not exist): the
  time is read with the offset in force *before* the change, so the meeting starts at the
  instant 07:30Z, which the wall clock shows as 03:30, one hour later than usual.
* **Ambiguous** (clocks fall back, e.g. 01:30 on 2026-11-01 in Toronto happens twice): the
  first of the two instants is used (05:30Z, still daylight time).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule, weekday
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from core.errors import UserError
from core.timeparse import WEEKDAYS, parse_hhmm, parse_timezone, parse_weekday

MIN_EVERY_WEEKS = 1
MAX_EVERY_WEEKS = 4
MIN_DURATION_MINUTES = 30
MAX_DURATION_MINUTES = 240
DEFAULT_DURATION_MINUTES = 90


def require_aware(value: datetime, name: str) -> None:
    """Programming guard: every instant the schedule handles carries its time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def check_duration(minutes: int) -> int:
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise UserError(
            f"A meeting lasts between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES} "
            f"minutes; {minutes} is outside that range."
        )
    return minutes


class Recurrence(BaseModel):
    """Every `every_weeks` weeks on `weekday` at `local_time` in `timezone`, starting on
    `anchor` (the local date of the first meeting, which falls on `weekday`).

    Out-of-range values raise `UserError`, so the model can be built straight from what a
    person typed or from storage.
    """

    model_config = ConfigDict(frozen=True)

    weekday: int
    local_time: time
    every_weeks: int = 1
    duration_minutes: int = DEFAULT_DURATION_MINUTES
    timezone: str
    anchor: date

    @field_validator("weekday")
    @classmethod
    def _check_weekday(cls, value: int) -> int:
        if not 0 <= value <= 6:
            raise UserError(f"The weekday must be between 0 (Monday) and 6 (Sunday), not {value}.")
        return value

    @field_validator("local_time")
    @classmethod
    def _check_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise UserError("The meeting time is a wall-clock time; give its zone separately.")
        if value.second or value.microsecond:
            raise UserError("The meeting time is given to the minute, as `HH:MM`.")
        return value

    @field_validator("every_weeks")
    @classmethod
    def _check_every_weeks(cls, value: int) -> int:
        if not MIN_EVERY_WEEKS <= value <= MAX_EVERY_WEEKS:
            raise UserError(
                f"A meeting repeats every {MIN_EVERY_WEEKS} to {MAX_EVERY_WEEKS} weeks; "
                f"{value} is outside that range."
            )
        return value

    @field_validator("duration_minutes")
    @classmethod
    def _check_duration(cls, value: int) -> int:
        return check_duration(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return parse_timezone(value).key

    @model_validator(mode="after")
    def _check_anchor(self) -> Recurrence:
        if self.anchor.weekday() != self.weekday:
            raise UserError(
                f"The first meeting, {self.anchor.isoformat()}, is a "
                f"{WEEKDAYS[self.anchor.weekday()].title()}, not a "
                f"{WEEKDAYS[self.weekday].title()}."
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


def local_start(rec: Recurrence, day: date) -> datetime:
    """The meeting on local date `day` as an aware datetime in the meeting's zone (`fold=0`)."""
    return datetime.combine(day, rec.local_time, tzinfo=rec.zone)


def _instant(naive_local: datetime, zone: ZoneInfo) -> datetime:
    return naive_local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def make_recurrence(
    weekday: str | int,
    hhmm: str,
    every_weeks: int,
    duration: int,
    tz_name: str,
    now: datetime,
) -> Recurrence:
    """Build a recurrence from what was typed; the first meeting is the next one after `now`.

    The anchor is the first date falling on `weekday` (in the meeting's zone) whose meeting is
    strictly later than `now`: on a Tuesday at 08:00 a Tuesday 09:00 meeting starts today, at
    09:00 or later it starts next week.
    """
    require_aware(now, "now")
    day = parse_weekday(weekday) if isinstance(weekday, str) else weekday
    at = parse_hhmm(hhmm)
    zone = parse_timezone(tz_name)
    today = now.astimezone(zone).date()
    # An out-of-range weekday index still gives some date here; validation refuses it below.
    anchor = today + timedelta(days=(day - today.weekday()) % 7)
    if _instant(datetime.combine(anchor, at), zone) <= now.astimezone(UTC):
        anchor += timedelta(days=7)
    return Recurrence.model_validate(
        {
            "weekday": day,
            "local_time": at,
            "every_weeks": every_weeks,
            "duration_minutes": duration,
            "timezone": zone.key,
            "anchor": anchor,
        }
    )


def _series(rec: Recurrence, after: datetime) -> Iterator[tuple[datetime, datetime]]:
    """(naive local wall time, UTC instant) of every meeting strictly after `after`.

    The rule is expanded by dateutil in naive local time, starting from the last series date
    a week or more before `after` (dates of the series are `anchor + k * every_weeks` weeks),
    so the cost does not grow with the age of the series.
    """
    zone = rec.zone
    period = 7 * rec.every_weeks
    after_day = after.astimezone(zone).date()
    periods_before = (after_day - rec.anchor).days // period - 1
    start_day = rec.anchor + timedelta(days=period * max(0, periods_before))
    rule = rrule(
        WEEKLY,
        interval=rec.every_weeks,
        byweekday=weekday(rec.weekday),
        dtstart=datetime.combine(start_day, rec.local_time),
    )
    after_utc = after.astimezone(UTC)
    for naive in rule:
        try:
            instant = _instant(naive, zone)
        except OverflowError:  # the last days of year 9999
            return
        if instant > after_utc:
            yield naive, instant


def utc_instants(instants: Iterable[datetime]) -> frozenset[datetime]:
    """Aware instants normalised to UTC, so they compare and hash reliably."""
    out = set()
    for instant in instants:
        require_aware(instant, "a skipped occurrence")
        out.add(instant.astimezone(UTC))
    return frozenset(out)


def series_after(
    rec: Recurrence, after: datetime, skipped: Iterable[datetime] = frozenset()
) -> Iterator[tuple[datetime, datetime]]:
    """(naive local wall time as the rule generates it, UTC instant) of each meeting after
    `after`, passing over `skipped`. The wall time is what an `.ics` EXDATE names."""
    require_aware(after, "after")
    skip = utc_instants(skipped)
    for naive, instant in _series(rec, after):
        if instant not in skip:
            yield naive, instant


def occurrences(
    rec: Recurrence,
    after: datetime,
    count: int,
    skipped: Iterable[datetime] = frozenset(),
) -> list[datetime]:
    """The UTC starts of the next `count` meetings strictly after `after`, without `skipped`."""
    if count < 0:
        raise ValueError("count must not be negative")
    out: list[datetime] = []
    if count == 0:
        return out
    for _, instant in series_after(rec, after, skipped):
        out.append(instant)
        if len(out) == count:
            break
    return out


def next_occurrence(
    rec: Recurrence, after: datetime, skipped: Iterable[datetime] = frozenset()
) -> datetime | None:
    """The UTC start of the first meeting strictly after `after` that is not skipped.

    A weekly series never ends, so this is `None` only past the end of the calendar (year
    9999); callers should still handle it.
    """
    found = occurrences(rec, after, 1, skipped)
    return found[0] if found else None


def is_occurrence(rec: Recurrence, instant: datetime) -> bool:
    """Whether `instant` is the start of one of the series' meetings (skipped or not)."""
    require_aware(instant, "instant")
    found = occurrences(rec, instant - timedelta(seconds=1), 1)
    return bool(found) and found[0] == instant


def skips_to_keep(rec: Recurrence, skipped: Iterable[datetime]) -> frozenset[datetime]:
    """The skipped instants (in UTC) that are meetings of the series, past ones included: each
    is an EXDATE the calendar file needs for as long as the series lasts, or a re-imported file
    would bring the meeting back. Skips of another series (the schedule changed) can go."""
    return frozenset(s for s in utc_instants(skipped) if is_occurrence(rec, s))


def format_recurrence(rec: Recurrence) -> str:
    """`Every 2 weeks on Tuesday at 09:00 (America/Toronto), 90 min`."""
    every = "Every week" if rec.every_weeks == 1 else f"Every {rec.every_weeks} weeks"
    return (
        f"{every} on {WEEKDAYS[rec.weekday].title()} at {rec.local_time:%H:%M} "
        f"({rec.timezone}), {rec.duration_minutes} min"
    )
