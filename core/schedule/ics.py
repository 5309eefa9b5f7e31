"""The `.ics` file of a group's recurring meeting, for `/schedule calendar`.

One VEVENT whose DTSTART/DTEND carry the meeting's `TZID`, a weekly RRULE, an EXDATE per
skipped meeting (past ones too), a SEQUENCE raised on every schedule change, and the VTIMEZONE
of the zone (built from zoneinfo with icalendar's `Timezone.from_tzinfo`) so that apps that do
not know IANA names (Outlook) still get the daylight-saving rules right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event, Timezone, vRecur

from core.schedule.recurrence import (
    Recurrence,
    local_start,
    require_aware,
    series_after,
    utc_instants,
)

PRODID = "-//Mastermind//Mastermind Discord bot//EN"
ICAL_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# The VTIMEZONE lists the zone's transitions from the year before the first meeting to this
# many years after it; calendar apps that know the IANA name use their own rules anyway.
TIMEZONE_YEARS = 20


def event_uid(uid_seed: str) -> str:
    """A UID that depends only on `uid_seed`, so re-exporting the same group's calendar
    updates the event already imported instead of adding a second one."""
    digest = hashlib.sha256(uid_seed.encode()).hexdigest()[:32]
    return f"{digest}@mastermind-bot"


def _exdates(rec: Recurrence, skipped: Iterable[datetime]) -> list[datetime]:
    """Skipped instants as the wall times the RRULE generates (in the meeting's zone).

    In a DST gap the generated wall time (02:30) is not what a clock showed (03:30), so the
    instants are matched against the expanded series rather than converted directly.
    """
    wanted = utc_instants(skipped)
    if not wanted:
        return []
    last = max(wanted)
    found: list[datetime] = []
    zone = rec.zone
    before_first = local_start(rec, rec.anchor).astimezone(UTC) - timedelta(seconds=1)
    for naive, instant in series_after(rec, before_first):
        if instant > last:
            break
        if instant in wanted:
            found.append(naive.replace(tzinfo=zone, fold=0))
    return found


def calendar_ics(
    rec: Recurrence,
    group_name: str,
    description: str,
    uid_seed: str,
    *,
    skipped: Iterable[datetime] = frozenset(),
    stamp: datetime | None = None,
    location: str = "",
    sequence: int = 0,
) -> bytes:
    """An iCalendar file with the recurring meeting.

    `uid_seed` should identify the group (e.g. `f"{guild_id}:{group_id}"`) so the UID is
    stable. `skipped` instants that are meetings of the series become EXDATEs; others are
    ignored. `stamp` is the DTSTAMP (when the file was made); it defaults to the start of the
    first meeting so the output is deterministic. `sequence` is the SEQUENCE (RFC 5545,
    3.8.7.4), raised on every change of the schedule so calendar apps replace their copy.
    """
    first = local_start(rec, rec.anchor)
    if stamp is None:
        stamp = first.astimezone(UTC)
    require_aware(stamp, "stamp")

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(
        Timezone.from_tzinfo(
            rec.zone,
            tzid=rec.timezone,
            first_date=date(max(rec.anchor.year - 1, 1970), 1, 1),
            last_date=date(rec.anchor.year + TIMEZONE_YEARS, 1, 1),
        )
    )

    event = Event()
    event.add("uid", event_uid(uid_seed))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("summary", f"{group_name} (Mastermind)")
    if description.strip():
        event.add("description", description.strip())
    if location.strip():
        event.add("location", location.strip())
    event.add("dtstart", first)
    # Add the duration in real time, then show the end in the meeting's zone.
    event.add("dtend", (first.astimezone(UTC) + rec.duration).astimezone(rec.zone))
    event.add(
        "rrule",
        vRecur(
            {
                "FREQ": "WEEKLY",
                "INTERVAL": rec.every_weeks,
                "BYDAY": ICAL_WEEKDAYS[rec.weekday],
            }
        ),
    )
    exdates = _exdates(rec, skipped)
    if exdates:
        event.add("exdate", exdates)
    cal.add_component(event)
    result: bytes = cal.to_ical()
    return result
