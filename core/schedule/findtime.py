"""`/schedule findtime`: weekly meeting slots that fall inside as many members' hours as
possible, for a group spread across time zones."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import UserError
from core.schedule.recurrence import check_duration, require_aware
from core.timeparse import DEFAULT_HOURS, WEEKDAYS, parse_hours, parse_timezone

GRID = timedelta(minutes=15)
WEEK = timedelta(days=7)
MIN_SEPARATION = timedelta(hours=2)
_GRID_POINTS = WEEK // GRID  # 672


@dataclass(frozen=True)
class MemberHours:
    """A member's zone and usual hours as stored in their profile; either may be unset."""

    member_id: int
    timezone: str | None = None
    hours: tuple[time, time] | None = None


@dataclass(frozen=True)
class MemberLocalTime:
    """When a slot falls for one member, and whether the whole meeting is inside their hours.

    `timezone_defaulted` / `hours_defaulted` say that the member set no zone (or an unknown
    one) and the group's zone was used, or set no hours and 08:00-20:00 was used.
    """

    member_id: int
    timezone: str
    weekday: int
    time: time
    fits: bool
    timezone_defaulted: bool
    hours_defaulted: bool

    @property
    def label(self) -> str:
        """`Tue 09:00`."""
        return f"{WEEKDAYS[self.weekday][:3].title()} {self.time:%H:%M}"


@dataclass(frozen=True)
class Slot:
    """A weekly slot: `weekday` and `time` in the group's `timezone` (what `/schedule set`
    takes), `start` the UTC instant of its occurrence in the week that was examined, `fits`
    the ids of the members whose hours hold the whole meeting, and `members` the slot in
    every member's local time, in the order the members were given."""

    weekday: int
    time: time
    timezone: str
    start: datetime
    fits: tuple[int, ...]
    members: tuple[MemberLocalTime, ...]

    @property
    def fit_count(self) -> int:
        return len(self.fits)

    @property
    def defaulted(self) -> tuple[int, ...]:
        """Ids of members for whom a default zone or default hours was assumed."""
        return tuple(m.member_id for m in self.members if m.timezone_defaulted or m.hours_defaulted)

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday][:3].title()} {self.time:%H:%M}"


@dataclass(frozen=True)
class _Resolved:
    member_id: int
    zone: ZoneInfo
    hours: tuple[time, time]
    timezone_defaulted: bool
    hours_defaulted: bool


def _resolve(member: MemberHours, group_zone: ZoneInfo) -> _Resolved:
    zone, zone_defaulted = group_zone, True
    if member.timezone:
        # A zone that no longer exists falls back to the group's, and the slot says so.
        with suppress(ZoneInfoNotFoundError, ValueError):
            zone, zone_defaulted = ZoneInfo(member.timezone), False
    if member.hours is None:
        return _Resolved(member.member_id, zone, parse_hours(DEFAULT_HOURS), zone_defaulted, True)
    return _Resolved(member.member_id, zone, member.hours, zone_defaulted, False)


def fits_hours(hours: tuple[time, time], start: datetime, end: datetime) -> bool:
    """Whether the meeting from wall time `start` to `end` (naive, local) lies inside the
    daily `hours`. An end at or before the start wraps past midnight (`22:00-02:00` is the
    evening of one day and the small hours of the next); equal ends mean the whole day."""
    h_start, h_end = hours
    for day in (start.date() - timedelta(days=1), start.date()):
        window_start = datetime.combine(day, h_start)
        end_day = day if h_end > h_start else day + timedelta(days=1)
        if window_start <= start and end <= datetime.combine(end_day, h_end):
            return True
    return False


def _grid_start(reference: datetime) -> datetime:
    """`reference` in UTC, rounded up to the next quarter hour."""
    ref = reference.astimezone(UTC)
    floor = ref.replace(minute=ref.minute - ref.minute % 15, second=0, microsecond=0)
    return floor if floor == ref else floor + GRID


def _is_near(a: datetime, b: datetime) -> bool:
    """Starts less than MIN_SEPARATION apart, measured around the week."""
    gap = abs(a - b) % WEEK
    return min(gap, WEEK - gap) < MIN_SEPARATION


def find_slots(
    members: list[MemberHours],
    group_tz: str,
    duration_minutes: int,
    reference: datetime,
    limit: int = 3,
) -> list[Slot]:
    """Up to `limit` weekly slots ranked by how many members' hours hold the whole meeting.

    The week examined is the 7 days from `reference` (rounded up to the quarter hour), on a
    15-minute grid, with each member's real UTC offsets for those dates, so a week in which
    one member's clocks change is handled as it will happen. A member without a zone is taken
    to be in `group_tz`; without hours, in `08:00-20:00`; each slot reports who was defaulted.

    Choosing: slots are ranked by the number of members they fit (most first, at least one),
    then earlier in the group's week (Monday 00:00 first). Picks are made one at a time; a
    candidate whose start is less than 2 hours from a slot already picked (around the week,
    so Sunday 23:30 and Monday 00:30 are near) is a near-duplicate and never offered. Among
    candidates fitting the same number of members, one fitting a set of members not offered
    yet is preferred, then one on a weekday not offered yet, so the answer shows real
    alternatives instead of three starts of the same window. The result is sorted by members
    fitted (most first), then by time in the group's week.
    """
    require_aware(reference, "reference")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    unique = list({m.member_id: m for m in reversed(members)}.values())[::-1]
    if len(unique) < 2:
        raise UserError("Finding a time needs a group with at least two members.")
    group_zone = parse_timezone(group_tz)
    duration = timedelta(minutes=check_duration(duration_minutes))
    resolved = [_resolve(m, group_zone) for m in unique]

    candidates: list[Slot] = []
    seen: set[tuple[int, time]] = set()
    first = _grid_start(reference)
    for step in range(_GRID_POINTS):
        start = first + step * GRID
        group_local = start.astimezone(group_zone)
        key = (group_local.weekday(), group_local.time())
        if key in seen:  # the repeated hour when the group's clocks fall back
            continue
        seen.add(key)
        end = start + duration
        local_times = []
        for r in resolved:
            local_start = start.astimezone(r.zone).replace(tzinfo=None)
            local_end = end.astimezone(r.zone).replace(tzinfo=None)
            local_times.append(
                MemberLocalTime(
                    member_id=r.member_id,
                    timezone=r.zone.key,
                    weekday=local_start.weekday(),
                    time=local_start.time(),
                    fits=fits_hours(r.hours, local_start, local_end),
                    timezone_defaulted=r.timezone_defaulted,
                    hours_defaulted=r.hours_defaulted,
                )
            )
        fits = tuple(m.member_id for m in local_times if m.fits)
        if fits:
            candidates.append(Slot(key[0], key[1], group_zone.key, start, fits, tuple(local_times)))

    candidates.sort(key=lambda s: (s.weekday, s.time))
    chosen: list[Slot] = []
    while len(chosen) < limit:
        offered_sets = {frozenset(s.fits) for s in chosen}
        offered_days = {s.weekday for s in chosen}
        best: Slot | None = None
        best_rank: tuple[int, bool, bool] | None = None
        for slot in candidates:
            if any(_is_near(slot.start, c.start) for c in chosen):
                continue
            rank = (
                -slot.fit_count,
                frozenset(slot.fits) in offered_sets,
                slot.weekday in offered_days,
            )
            if best_rank is None or rank < best_rank:
                best, best_rank = slot, rank
        if best is None:
            break
        chosen.append(best)
    chosen.sort(key=lambda s: (-s.fit_count, s.weekday, s.time))
    return chosen
