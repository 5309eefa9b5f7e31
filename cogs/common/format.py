"""Small text helpers every feature's messages share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from core.text import lines_that_fit

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


FIT_MORE = "…and {} more"


def fitted(lines: Sequence[str], limit: int = FIELD_LIMIT, more: str = FIT_MORE) -> tuple[str, int]:
    """Lines joined into one embed field, saying how many did not fit; and how many did."""
    if not lines:
        return "—", 0
    # No header: the first line's newline is not written, hence one character more.
    shown = lines_that_fit("", lines, limit + 1, more)
    out = list(lines[:shown])
    if shown < len(lines):
        out.append(more.format(len(lines) - shown))
    return "\n".join(out), shown


def fit(lines: Sequence[str], limit: int = FIELD_LIMIT) -> str:
    """Lines joined into one embed field, saying how many did not fit."""
    return fitted(lines, limit)[0]


def local_clock(now: datetime, zone: str | None) -> str | None:
    """The weekday and time in a member's zone (`Tue 09:30`), or None without a zone."""
    if not zone:
        return None
    return now.astimezone(ZoneInfo(zone)).strftime("%a %H:%M")
