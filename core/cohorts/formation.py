"""Forming a cohort into groups: each with one weekly slot inside every member's hours.

Slot-first: every quarter hour of the coming week is a candidate slot, and who can attend it
is computed for its concrete date with `zoneinfo`, so daylight saving time is exactly as it
will be at the first meeting. Slots that admit the same people (or a subset of another
slot's people) are merged. HiGHS then decides, in one integer program, how many groups meet
in each slot and who goes to which slot: as many people placed as possible, then (for
`mixed`) as few groups lacking a junior or a senior stage as possible, then sizes close to
`group_size`. Within a slot the people are dealt into groups by stage, and each group gets
the slot of that window that sits most comfortably inside its members' hours.

The solver has a time limit; without a solution in time a greedy pass does the same job, so
an answer always comes. A seed breaks ties at random: another seed gives another proposal
of the same quality when one exists.
"""

from __future__ import annotations

import random
import time as wallclock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.cohorts.model import (
    GROUP_SIZE_MAX,
    JUNIOR,
    SENIOR,
    STAGE_RANK,
    Applicant,
    Mix,
    Proposal,
    ProposedGroup,
    Quality,
    Unplaced,
    check_group_size,
    meets_rule,
    stage_spread,
)
from core.models import CareerStage
from core.schedule.findtime import GRID, fits_hours
from core.schedule.recurrence import check_duration, require_aware

WEEK_SLOTS = timedelta(days=7) // GRID  # 672
# The first candidate slot is at least this far ahead, so the first meeting gets its 24 h
# reminder and people have time to see their group.
LEAD = timedelta(days=1)
DEFAULT_TIME_LIMIT = 6.0


@dataclass(frozen=True)
class _Local:
    start: datetime  # naive local wall time
    end: datetime
    anchor_ok: bool  # the wall time names this instant unambiguously (a schedule can use it)


def first_slot(reference: datetime) -> datetime:
    """The first candidate slot: `LEAD` after `reference`, rounded up to the quarter hour."""
    require_aware(reference, "reference")
    ref = (reference + LEAD).astimezone(UTC)
    floor = ref.replace(minute=ref.minute - ref.minute % 15, second=0, microsecond=0)
    return floor if floor == ref else floor + GRID


def slot_starts(reference: datetime) -> list[datetime]:
    first = first_slot(reference)
    return [first + step * GRID for step in range(WEEK_SLOTS)]


def _locals(zone: ZoneInfo, starts: Sequence[datetime], duration: timedelta) -> list[_Local]:
    out = []
    for start in starts:
        local = start.astimezone(zone)
        naive = local.replace(tzinfo=None)
        back = naive.replace(tzinfo=zone).astimezone(UTC)
        end = (start + duration).astimezone(zone).replace(tzinfo=None)
        out.append(_Local(naive, end, back == start))
    return out


def _margin(hours: tuple[time, time], start: datetime, end: datetime) -> int:
    """Minutes between the meeting and the nearer edge of the window holding it."""
    h_start, h_end = hours
    best = -1
    for day in (start.date() - timedelta(days=1), start.date()):
        window_start = datetime.combine(day, h_start)
        end_day = day if h_end > h_start else day + timedelta(days=1)
        window_end = datetime.combine(end_day, h_end)
        if window_start <= start and end <= window_end:
            gap = min(start - window_start, window_end - end)
            best = max(best, int(gap.total_seconds() // 60))
    return best


def window_minutes(hours: tuple[time, time]) -> int:
    start = hours[0].hour * 60 + hours[0].minute
    end = hours[1].hour * 60 + hours[1].minute
    return (end - start) % 1440 or 1440


def feasible_counts(size: int, n: int) -> list[int]:
    """Numbers of groups of `size` ± 1 that `n` people fill exactly, best first (nearest to
    `size` people each)."""
    counts = [g for g in range(1, n // (size - 1) + 1) if (size - 1) * g <= n <= (size + 1) * g]
    return sorted(counts, key=lambda g: (abs(n / g - size), g))


def largest_fillable(size: int, n: int) -> int:
    """The most of `n` people that groups of `size` ± 1 can hold exactly (0 if none)."""
    for m in range(n, size - 2, -1):
        if feasible_counts(size, m):
            return m
    return 0


class _Problem:
    """The cohort on the week's grid: who fits each slot, as bit sets over people."""

    def __init__(
        self,
        people: list[Applicant],
        zones: dict[str, ZoneInfo],
        starts: list[datetime],
        duration: timedelta,
    ) -> None:
        self.people = people
        self.starts = starts
        self.locals = {key: _locals(zone, starts, duration) for key, zone in zones.items()}
        self.person_mask: list[int] = []
        by_answer: dict[tuple[str, tuple[time, time]], int] = {}
        for person in people:
            key = (person.timezone, person.hours)
            if key not in by_answer:
                mask = 0
                for index, local in enumerate(self.locals[person.timezone]):
                    if fits_hours(person.hours, local.start, local.end):
                        mask |= 1 << index
                by_answer[key] = mask
            self.person_mask.append(by_answer[key])
        self.slot_people = [0] * len(starts)
        for p, mask in enumerate(self.person_mask):
            index = 0
            while mask:
                if mask & 1:
                    self.slot_people[index] |= 1 << p
                mask >>= 1
                index += 1

    def windows(self, minimum: int) -> list[int]:
        """The distinct sets of people who share a slot, at least `minimum` strong, without
        any that is contained in another."""
        unique = {m for m in self.slot_people if m.bit_count() >= minimum}
        kept: list[int] = []
        for mask in sorted(unique, key=lambda m: (-m.bit_count(), m)):
            if not any(mask & other == mask for other in kept):
                kept.append(mask)
        return kept


def _members(mask: int) -> list[int]:
    out = []
    index = 0
    while mask:
        if mask & 1:
            out.append(index)
        mask >>= 1
        index += 1
    return out


def _solve_highs(
    problem: _Problem,
    windows: list[int],
    size: int,
    mix: Mix,
    rng: random.Random,
    seed: int,
    time_limit: float,
) -> list[tuple[int, list[int]]] | None:
    """People per window and groups per window from HiGHS, or None without a solution."""
    import highspy
    import numpy as np

    n = len(problem.people)
    # Integer weights keep the priorities exact: one more person placed outweighs every stage
    # shortfall, one shortfall outweighs every size deviation, and the random tie-break
    # (below 1 in total) outweighs nothing.
    weight_dev = 1.0
    weight_short = float(n + 2)
    weight_place = float((n + 2) * (2 * n + 3))
    costs: list[float] = []
    upper: list[float] = []
    integer: list[int] = []
    x_index: dict[tuple[int, int], int] = {}
    for w, mask in enumerate(windows):
        for p in _members(mask):
            x_index[(p, w)] = len(costs)
            integer.append(len(costs))
            costs.append(weight_place + rng.random() / (n + 1))
            upper.append(1.0)
    g_index = []
    for mask in windows:
        g_index.append(len(costs))
        integer.append(len(costs))
        costs.append(0.0)
        upper.append(float(mask.bit_count() // (size - 1)))
    dev_index = []
    for _ in windows:
        dev_index.append(len(costs))
        costs.append(-weight_dev)
        upper.append(float(n))
    short_index: list[tuple[int, int]] = []
    if mix is Mix.MIXED:
        for _ in windows:
            short_index.append((len(costs), len(costs) + 1))
            costs.extend([-weight_short, -weight_short])
            upper.extend([float(n), float(n)])

    rows_lower: list[float] = []
    rows_upper: list[float] = []
    starts: list[int] = []
    indices: list[int] = []
    values: list[float] = []
    inf = highspy.kHighsInf

    def row(lo: float, hi: float, entries: list[tuple[int, float]]) -> None:
        rows_lower.append(lo)
        rows_upper.append(hi)
        starts.append(len(indices))
        for column, value in entries:
            indices.append(column)
            values.append(value)

    per_person: dict[int, list[tuple[int, float]]] = {}
    for (p, _w), column in x_index.items():
        per_person.setdefault(p, []).append((column, 1.0))
    for entries in per_person.values():
        row(-inf, 1.0, entries)
    for w, mask in enumerate(windows):
        people = [(x_index[(p, w)], 1.0) for p in _members(mask)]
        g = g_index[w]
        row(0.0, inf, [*people, (g, -(size - 1.0))])
        row(-inf, 0.0, [*people, (g, -(size + 1.0))])
        row(-inf, 0.0, [*people, (g, -float(size)), (dev_index[w], -1.0)])
        row(0.0, inf, [*people, (g, -float(size)), (dev_index[w], 1.0)])
        if short_index:
            short_j, short_s = short_index[w]
            juniors = [(x_index[(p, w)], 1.0) for p in _members(mask) if _is(problem, p, JUNIOR)]
            seniors = [(x_index[(p, w)], 1.0) for p in _members(mask) if _is(problem, p, SENIOR)]
            row(0.0, inf, [*juniors, (g, -1.0), (short_j, 1.0)])
            row(0.0, inf, [*seniors, (g, -1.0), (short_s, 1.0)])

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", max(0.1, time_limit))
    highs.setOptionValue("random_seed", seed % 2_147_483_647)
    highs.setOptionValue("mip_abs_gap", 0.5)
    highs.setOptionValue("threads", 1)
    count = len(costs)
    highs.addCols(
        count,
        np.array(costs),
        np.zeros(count),
        np.array(upper),
        0,
        np.array([], dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([], dtype=np.float64),
    )
    highs.changeColsIntegrality(
        len(integer),
        np.array(integer, dtype=np.int32),
        np.array([highspy.HighsVarType.kInteger] * len(integer)),
    )
    highs.addRows(
        len(rows_lower),
        np.array(rows_lower),
        np.array(rows_upper),
        len(indices),
        np.array(starts, dtype=np.int32),
        np.array(indices, dtype=np.int32),
        np.array(values),
    )
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.run()
    info = highs.getInfo()
    if info.primal_solution_status != 2:  # no feasible solution (yet)
        return None
    solution = list(highs.getSolution().col_value)
    plan: list[tuple[int, list[int]]] = []
    for w, mask in enumerate(windows):
        chosen = [p for p in _members(mask) if solution[x_index[(p, w)]] > 0.5]
        groups = round(solution[g_index[w]])
        if chosen:
            plan.append((groups, chosen))
    return plan


def _is(problem: _Problem, p: int, stages: frozenset[CareerStage]) -> bool:
    return problem.people[p].stage in stages


def _solve_greedy(
    problem: _Problem, windows: list[int], size: int, rng: random.Random
) -> list[tuple[int, list[int]]]:
    """Fill the window with the most people still free, again and again; when a window holds
    more than full groups can take, keep those with the fewest other windows."""
    free = (1 << len(problem.people)) - 1
    plan: list[tuple[int, list[int]]] = []
    while True:
        best: int | None = None
        best_key: tuple[int, float] | None = None
        for mask in windows:
            key = ((mask & free).bit_count(), rng.random())
            if key[0] >= size - 1 and (best_key is None or key > best_key):
                best, best_key = mask, key
        if best is None:
            return plan
        people = _members(best & free)
        take = largest_fillable(size, len(people))
        if take == 0:
            windows = [w for w in windows if w != best]
            continue
        alternatives = {p: sum(1 for w in windows if w >> p & 1 and w & free) for p in people}
        people.sort(key=lambda p: (alternatives[p], rng.random()))
        chosen = people[:take]
        for p in chosen:
            free &= ~(1 << p)
        plan.append((feasible_counts(size, take)[0], chosen))


def _deal(
    problem: _Problem, groups: int, people: list[int], size: int, mix: Mix, rng: random.Random
) -> list[list[int]]:
    """Split one window's people into `groups` groups of `size` ± 1, by the stage rule."""
    n = len(people)
    counts = feasible_counts(size, n)
    if groups not in counts:
        groups = counts[0]
    sizes = [n // groups + (1 if k < n % groups else 0) for k in range(groups)]
    rng.shuffle(sizes)
    stage = {p: STAGE_RANK[problem.people[p].stage] for p in people}
    shuffled = people[:]
    rng.shuffle(shuffled)
    if mix is Mix.SIMILAR:
        ordered = sorted(shuffled, key=lambda p: stage[p])
        out, at = [], 0
        for k in sizes:
            out.append(ordered[at : at + k])
            at += k
        return out
    juniors = [p for p in shuffled if problem.people[p].stage in JUNIOR]
    seniors = [p for p in shuffled if problem.people[p].stage in SENIOR]
    out = [[] for _ in sizes]
    for k in range(groups):
        for pool in (juniors, seniors):
            if pool:
                out[k].append(pool.pop())
    rest = sorted(juniors + seniors, key=lambda p: (stage[p], rng.random()))
    k = 0
    for p in rest:
        while len(out[k]) >= sizes[k]:
            k = (k + 1) % groups
        out[k].append(p)
        k = (k + 1) % groups
    return out


def _common(problem: _Problem, members: list[int]) -> int:
    """The slots every one of `members` can attend, as a bit set."""
    mask = (1 << len(problem.starts)) - 1
    for p in members:
        mask &= problem.person_mask[p]
    return mask


def _score(problem: _Problem, members: list[int], mix: Mix) -> tuple[int, int]:
    stages = [problem.people[p].stage for p in members]
    spread = -stage_spread(stages) if mix is Mix.SIMILAR else 0
    return (int(meets_rule(stages, mix)), spread)


def _improve(problem: _Problem, chunks: list[list[int]], mix: Mix, rounds: int = 3) -> None:
    """Swap people between groups (of any windows) while that makes more groups meet the
    stage rule or, for `similar`, shrinks the stage spread, and both groups keep a common
    slot. Sizes and who is placed never change."""
    best = (1, 0)
    for _ in range(rounds):
        improved = False
        scores = [_score(problem, chunk, mix) for chunk in chunks]
        for a in range(len(chunks)):
            for b in range(a + 1, len(chunks)):
                if scores[a] == best and scores[b] == best:
                    continue
                if _swap_better(problem, chunks, a, b, scores, mix):
                    improved = True
        if not improved:
            return


def _swap_better(
    problem: _Problem,
    chunks: list[list[int]],
    a: int,
    b: int,
    scores: list[tuple[int, int]],
    mix: Mix,
) -> bool:
    first, second = chunks[a], chunks[b]
    base = (scores[a][0] + scores[b][0], scores[a][1] + scores[b][1])
    for i, p in enumerate(first):
        for j, q in enumerate(second):
            if problem.people[p].stage == problem.people[q].stage:
                continue
            new_first = [*first[:i], q, *first[i + 1 :]]
            new_second = [*second[:j], p, *second[j + 1 :]]
            score_first = _score(problem, new_first, mix)
            score_second = _score(problem, new_second, mix)
            total = (score_first[0] + score_second[0], score_first[1] + score_second[1])
            if total <= base:
                continue
            if not (_common(problem, new_first) and _common(problem, new_second)):
                continue
            chunks[a], chunks[b] = new_first, new_second
            scores[a], scores[b] = score_first, score_second
            return True
    return False


def _place(
    problem: _Problem, members: list[int], duration: timedelta, rng: random.Random
) -> ProposedGroup | None:
    """The slot, among those every member can attend, furthest from the edges of their
    hours; the first member (whose zone the schedule uses) is one whose wall time names the
    slot unambiguously."""
    need = 0
    for p in members:
        need |= 1 << p
    best: tuple[int, float, int, int] | None = None
    for index, attendees in enumerate(problem.slot_people):
        if attendees & need != need:
            continue
        anchors = [
            p for p in members if problem.locals[problem.people[p].timezone][index].anchor_ok
        ]
        if not anchors:
            continue
        margin = min(
            _margin(
                problem.people[p].hours,
                problem.locals[problem.people[p].timezone][index].start,
                problem.locals[problem.people[p].timezone][index].end,
            )
            for p in members
        )
        key = (margin // 15, rng.random(), index, anchors[0])
        if best is None or key > best:
            best = key
    if best is None:
        return None
    index, anchor = best[2], best[3]
    others = sorted(
        (p for p in members if p != anchor),
        key=lambda p: (STAGE_RANK[problem.people[p].stage], problem.people[p].user_id),
    )
    ordered = [anchor, *others]
    person = problem.people[anchor]
    local = problem.locals[person.timezone][index].start
    return ProposedGroup(
        members=tuple(problem.people[p].user_id for p in ordered),
        start=problem.starts[index],
        timezone=person.timezone,
        weekday=local.weekday(),
        local_time=local.time(),
    )


def quality_of(
    groups: Sequence[ProposedGroup], stages: dict[int, CareerStage], mix: Mix
) -> Quality:
    placed = sum(len(g.members) for g in groups)
    rule = 0
    spread = 0
    for group in groups:
        members_stages = [stages[u] for u in group.members]
        rule += meets_rule(members_stages, mix)
        spread += stage_spread(members_stages)
    return Quality(placed=placed, rule_groups=rule, spread=spread)


def form_groups(
    applicants: Sequence[Applicant],
    *,
    group_size: int,
    duration_minutes: int,
    mix: Mix,
    reference: datetime,
    seed: int = 0,
    time_limit: float = DEFAULT_TIME_LIMIT,
    use_solver: bool = True,
) -> Proposal:
    """A proposal of groups of `group_size` ± 1 people, each with a weekly slot of
    `duration_minutes` inside every member's hours on the date of its first meeting (within
    the week starting a day after `reference`). Everyone who can be placed is placed (up to
    the solver's time limit); the others are returned with the reason."""
    began = wallclock.monotonic()
    check_group_size(group_size)
    duration = timedelta(minutes=check_duration(duration_minutes))
    rng = random.Random(seed)
    unique = list({a.user_id: a for a in applicants}.values())
    unique.sort(key=lambda a: a.user_id)
    unplaced: list[Unplaced] = []
    zones: dict[str, ZoneInfo] = {}
    people: list[Applicant] = []
    minutes = int(duration.total_seconds() // 60)
    for person in unique:
        try:
            zones.setdefault(person.timezone, ZoneInfo(person.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            unplaced.append(Unplaced(user_id=person.user_id, reason="unknown time zone"))
            continue
        if window_minutes(person.hours) < minutes:
            unplaced.append(
                Unplaced(
                    user_id=person.user_id,
                    reason=f"their hours are shorter than a {minutes}-minute meeting",
                )
            )
            continue
        people.append(person)

    problem = _Problem(people, zones, slot_starts(reference), duration)
    windows = problem.windows(group_size - 1)
    solver = "greedy"
    plan: list[tuple[int, list[int]]] | None = None
    if use_solver and windows:
        remaining = time_limit - (wallclock.monotonic() - began)
        plan = _solve_highs(problem, windows, group_size, mix, rng, seed, remaining)
        if plan is not None:
            solver = "highs"
    if plan is None:
        plan = _solve_greedy(problem, windows, group_size, rng)

    chunks = [
        chunk
        for count, members in plan
        for chunk in _deal(problem, count, members, group_size, mix, rng)
    ]
    _improve(problem, chunks, mix)
    groups: list[ProposedGroup] = []
    for chunk in chunks:
        placed = _place(problem, chunk, duration, rng)
        if placed is not None:
            groups.append(placed)
    groups.sort(key=lambda g: (g.start, g.members))
    in_group = {u for g in groups for u in g.members}
    for p, person in enumerate(people):
        if person.user_id in in_group:
            continue
        shared = max(
            (problem.slot_people[i].bit_count() for i in _members(problem.person_mask[p])),
            default=0,
        )
        if shared < group_size - 1:
            reason = (
                f"no {minutes}-minute window shared with enough people "
                f"(a group needs at least {group_size - 1})"
            )
        else:
            reason = (
                f"the windows they share were already filled by groups of "
                f"{group_size - 1}–{min(group_size + 1, GROUP_SIZE_MAX + 1)}"
            )
        unplaced.append(Unplaced(user_id=person.user_id, reason=reason))
    unplaced.sort(key=lambda u: u.user_id)
    stages = {a.user_id: a.stage for a in unique}
    return Proposal(
        group_size=group_size,
        duration_minutes=minutes,
        mix=mix,
        seed=seed,
        groups=tuple(groups),
        unplaced=tuple(unplaced),
        solver=solver,
        quality=quality_of(groups, stages, mix),
    )
