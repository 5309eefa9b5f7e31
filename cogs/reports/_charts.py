"""PNG charts of the reports, drawn with matplotlib's Agg backend (no display needed).

Figures are built with the object API (`Figure`, not pyplot's global state), so nothing is
kept between reports and nothing needs closing; each chart is rendered to bytes.
Colours are the Okabe-Ito palette, which people with colour-vision deficiencies can tell apart.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from core.feedback import RATING_LABELS

BLUE, ORANGE, GREEN, PINK, SKY, YELLOW, VERMILION, GREY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#D55E00",
    "#999999",
)
PALETTE = (BLUE, ORANGE, GREEN, PINK, SKY, VERMILION, YELLOW, GREY)
RATING_COLOURS = (VERMILION, ORANGE, GREY, SKY, BLUE)
DPI = 110
MAX_BARS = 20
MAX_LABELLED = 12
"""Beyond this many sessions, values are no longer written on every point and axis labels
are thinned, so a long history stays legible."""


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=13, fontweight="bold", loc="left")
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(labelsize=10)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    figure.clear()
    return buffer.getvalue()


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def _hbars(ax: Axes, items: Sequence[tuple[str, float]], colour: str, label: str) -> None:
    """Horizontal bars, largest first at the top, each with its value written beside it."""
    shown = list(items)[:MAX_BARS]
    names = [name for name, _ in shown][::-1]
    values = [value for _, value in shown][::-1]
    bars = ax.barh(names, values, color=colour)
    ax.bar_label(bars, labels=[label.format(v) for v in values], padding=3, fontsize=10)
    ax.set_xlim(0, max([*values, 1]) * 1.25)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def session_chart(
    title: str,
    distribution: dict[int, int],
    rating_mean: float | None,
    floor: Sequence[tuple[str, int]],
) -> bytes:
    """Left: how many people gave each rating. Right: time on the floor per attendee."""
    figure = Figure(figsize=(11, 4.8), layout="constrained")
    figure.suptitle(title, fontsize=15)
    ratings, floor_ax = figure.subplots(1, 2, width_ratios=(1.1, 1))
    given = sum(distribution.values())
    summary = f"mean {rating_mean:.2f}, " if rating_mean is not None else ""
    _style(ratings, f"How valuable was it? ({summary}{given} rated)")
    labels = [RATING_LABELS[value].replace(" ", "\n") for value in sorted(RATING_LABELS)]
    counts = [distribution.get(value, 0) for value in sorted(RATING_LABELS)]
    bars = ratings.bar(labels, counts, color=RATING_COLOURS)
    ratings.bar_label(bars, padding=2, fontsize=11)
    ratings.set_ylabel("people")
    ratings.set_ylim(0, max([*counts, 1]) * 1.2)
    ratings.yaxis.set_major_locator(MaxNLocator(integer=True))
    _style(floor_ax, "Time on the floor (minutes)")
    if any(seconds for _, seconds in floor):
        shown = list(floor)[:MAX_BARS]
        names = [name for name, _ in shown][::-1]
        minutes = [seconds / 60 for _, seconds in shown][::-1]
        bars = floor_ax.barh(names, minutes, color=BLUE)
        floor_ax.bar_label(
            bars, labels=[_minutes(s) for _, s in shown][::-1], padding=3, fontsize=10
        )
        floor_ax.set_xlim(0, max([*minutes, 1]) * 1.2)
        floor_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        _empty(floor_ax, "Nobody held the floor")
    return _png(figure)


@dataclass(frozen=True)
class TrendPoint:
    label: str
    """The session, as shown under the axis (e.g. `#3\n01-08`)."""
    attendees: int
    responses: int
    rating_mean: float | None
    done_pct: float | None


def group_chart(
    title: str, points: Sequence[TrendPoint], turns: Sequence[tuple[str, int]]
) -> bytes:
    """Attendance and responses per session, mean rating per session, and hot-seat turns."""
    figure = Figure(figsize=(12, 8.5), layout="constrained")
    figure.suptitle(title, fontsize=15)
    grid = figure.add_gridspec(2, 2, height_ratios=(1, 1))
    attendance = figure.add_subplot(grid[0, 0])
    rating = figure.add_subplot(grid[0, 1])
    steps = figure.add_subplot(grid[1, 0])
    seats = figure.add_subplot(grid[1, 1])
    labels = [p.label for p in points]
    positions = list(range(len(points)))

    _style(attendance, "Attendance and feedback")
    width = 0.4
    came = attendance.bar(
        [x - width / 2 for x in positions],
        [p.attendees for p in points],
        width,
        color=BLUE,
        label="attended",
    )
    answered = attendance.bar(
        [x + width / 2 for x in positions],
        [p.responses for p in points],
        width,
        color=ORANGE,
        label="gave feedback",
    )
    if len(points) <= MAX_LABELLED:
        attendance.bar_label(came, padding=2, fontsize=9)
        attendance.bar_label(answered, padding=2, fontsize=9)
    _ticks(attendance, positions, labels)
    attendance.set_ylabel("people")
    attendance.set_ylim(0, max([p.attendees for p in points] + [1]) * 1.25)
    attendance.yaxis.set_major_locator(MaxNLocator(integer=True))
    attendance.legend(loc="upper left", frameon=False, ncols=2, fontsize=9)

    _line(
        rating,
        "Mean rating (1 = Not valuable, 5 = Very valuable)",
        positions,
        labels,
        [p.rating_mean for p in points],
        GREEN,
        (1, 5.4),
        "{:.2f}",
    )
    _line(
        steps,
        "Next steps done (%)",
        positions,
        labels,
        [p.done_pct for p in points],
        PINK,
        (0, 110),
        "{:.0f}%",
    )

    _style(seats, "Hot-seat turns per member")
    if any(count for _, count in turns):
        _hbars(seats, turns, VERMILION, "{:.0f}")
    else:
        _empty(seats, "No hot seats yet")
    return _png(figure)


def _ticks(ax: Axes, positions: list[int], labels: list[str]) -> None:
    step = -(-len(positions) // MAX_LABELLED)
    ax.set_xticks(positions[::step], labels[::step])


def _line(
    ax: Axes,
    title: str,
    positions: list[int],
    labels: list[str],
    values: Sequence[float | None],
    colour: str,
    limits: tuple[float, float],
    label: str,
) -> None:
    _style(ax, title)
    known = [(x, v) for x, v in zip(positions, values, strict=True) if v is not None]
    _ticks(ax, positions, labels)
    ax.set_ylim(*limits)
    ax.set_xlim(-0.5, max(len(positions) - 0.5, 0.5))
    ax.grid(axis="y", alpha=0.3)
    if not known:
        ax.text(0.5, 0.5, "no data yet", transform=ax.transAxes, ha="center", color=GREY)
        return
    xs, ys = zip(*known, strict=True)
    ax.plot(xs, ys, marker="o", markersize=8, linewidth=2.5, color=colour)
    if len(positions) > MAX_LABELLED:
        return
    for x, y in known:
        ax.annotate(
            label.format(y),
            (x, y),
            textcoords="offset points",
            xytext=(0, 9),
            ha="center",
            fontsize=10,
        )


@dataclass(frozen=True)
class GroupSeries:
    name: str
    dates: Sequence[str]
    """Session dates, YYYY-MM-DD, oldest first."""
    rating_means: Sequence[float | None]
    response_pct: float | None
    done_pct: float | None
    very_valuable_pct: float | None


def program_chart(title: str, groups: Sequence[GroupSeries]) -> bytes:
    """Mean rating of each group's sessions over time, and each group's pooled figures."""
    figure = Figure(figsize=(12, 5.5), layout="constrained")
    figure.suptitle(title, fontsize=15)
    trend, compare = figure.subplots(1, 2, width_ratios=(1.2, 1))
    _style(trend, "Mean rating per session")
    dates = sorted({d for g in groups for d in g.dates})
    where = {d: i for i, d in enumerate(dates)}
    drawn = 0
    for index, group in enumerate(groups):
        colour = PALETTE[index % len(PALETTE)]
        known = [
            (where[d], v)
            for d, v in zip(group.dates, group.rating_means, strict=True)
            if v is not None
        ]
        if known:
            xs, ys = zip(*known, strict=True)
            trend.plot(xs, ys, marker="o", linewidth=2, color=colour, label=group.name)
            drawn += 1
    step = max(1, len(dates) // 8)
    trend.set_xticks(range(0, len(dates), step), [d[5:] for d in dates][::step])
    trend.set_ylim(1, 5.4)
    trend.set_ylabel("1 = Not valuable … 5 = Very valuable")
    trend.grid(axis="y", alpha=0.3)
    if drawn:
        trend.legend(loc="lower left", frameon=False, fontsize=9, ncols=2)
    else:
        _empty(trend, "No ratings yet")

    _style(compare, "Per group (%)")
    names = [g.name for g in groups]
    series = (
        ("gave feedback", [g.response_pct for g in groups], ORANGE),
        ("rated Very valuable", [g.very_valuable_pct for g in groups], BLUE),
        ("next steps done", [g.done_pct for g in groups], PINK),
    )
    width = 0.8 / len(series)
    for offset, (label, values, colour) in enumerate(series):
        where_x = [i + (offset - 1) * width for i in range(len(names))]
        bars = compare.bar(where_x, [v or 0 for v in values], width, color=colour, label=label)
        compare.bar_label(
            bars,
            labels=["–" if v is None else f"{v:.0f}" for v in values],
            fontsize=8,
            padding=2,
        )
    compare.set_xticks(range(len(names)), names)
    compare.set_ylim(0, 125)
    compare.legend(loc="upper left", frameon=False, fontsize=9, ncols=3)
    return _png(figure)
