"""Small text helpers every feature's messages share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

FIELD_LIMIT = 1024


def timestamp(moment: datetime, style: str = "R") -> str:
    """`<t:UNIX:style>`: Discord shows it in each reader's own time zone (`R`: "in 3 minutes")."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def percent(share: float | None) -> str:
    """A share 0-1 as people read it everywhere (`66.7 %`); a dash when it is undefined."""
    return "—" if share is None else f"{100 * share:.1f} %"


def clock(seconds: float) -> str:
    """Minutes and seconds, `m:ss`."""
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def fit(lines: Sequence[str], limit: int = FIELD_LIMIT) -> str:
    """Lines joined into one embed field, saying how many did not fit."""
    if not lines:
        return "—"
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        more = f"…and {len(lines) - index} more"
        if used + len(line) + 1 + len(more) > limit:
            out.append(more)
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def local_clock(now: datetime, zone: str | None) -> str | None:
    """The weekday and time in a member's zone (`Tue 09:30`), or None without a zone."""
    if not zone:
        return None
    return now.astimezone(ZoneInfo(zone)).strftime("%a %H:%M")
