"""Forming a cohort into groups: time to a proposal, and its quality against two baselines.

Setup (not measured): generated cohorts of N people (40, 120, 200) spread over eleven time
zones of both hemispheres, with a realistic mix of usual hours (mostly daytime, some early,
some evening-only) and the four career stages; the week examined starts on 5 March 2026,
so North America's clock change (8 March) falls inside it.

Measured: `core.cohorts.form_groups` (group size 6, 90 minutes, `mixed`), wall-clock time
from the answers to the proposal. Target: at most 10 s for 200 people.

Quality, on the same cohorts, for three ways of splitting them:
- this bot's formation;
- random: people shuffled and cut into groups of 6;
- greedy by zone, then stage: people sorted by UTC offset, then career stage, and cut into
  groups of 6.
Figures: the share of people placed in a group that has a common 90-minute slot inside every
member's hours (checked here independently, on the concrete dates), and the share of groups
meeting the `mixed` rule (a trainee/early-career and a mid-career/senior member).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from bench.common import Result, Size, Target
from core.cohorts import Applicant, Mix, form_groups, meets_rule, slot_starts
from core.models import CareerStage
from core.schedule.findtime import fits_hours

REFERENCE = datetime(2026, 3, 4, tzinfo=UTC)
GROUP_SIZE = 6
DURATION = 90
# Zone, weight: where a health-professions education programme's people might be.
ZONES = (
    ("America/Toronto", 5),
    ("America/Los_Angeles", 3),
    ("America/Sao_Paulo", 2),
    ("Europe/London", 4),
    ("Europe/Berlin", 3),
    ("Africa/Nairobi", 2),
    ("Asia/Kolkata", 3),
    ("Asia/Singapore", 2),
    ("Australia/Sydney", 2),
    ("Pacific/Auckland", 1),
    ("America/Santiago", 1),
)


def generate(count: int, seed: int) -> list[Applicant]:
    rng = random.Random(seed)
    zones = [zone for zone, weight in ZONES for _ in range(weight)]
    people = []
    for user_id in range(1, count + 1):
        kind = rng.random()
        if kind < 0.7:  # a working day
            start, length = rng.choice((7, 8, 9, 10)), rng.choice((8, 9, 10, 11, 12))
        elif kind < 0.85:  # early mornings
            start, length = rng.choice((5, 6)), rng.choice((4, 5, 6))
        else:  # evenings only
            start, length = rng.choice((17, 18, 19)), rng.choice((3, 4, 5))
        people.append(
            Applicant(
                user_id=user_id,
                stage=rng.choice(list(CareerStage)),
                timezone=rng.choice(zones),
                hours=(clock(start), clock((start + length) % 24)),
            )
        )
    return people


def has_common_slot(members: list[Applicant], starts: list[datetime]) -> bool:
    duration = timedelta(minutes=DURATION)
    for start in starts:
        if all(
            fits_hours(
                m.hours,
                start.astimezone(ZoneInfo(m.timezone)).replace(tzinfo=None),
                (start + duration).astimezone(ZoneInfo(m.timezone)).replace(tzinfo=None),
            )
            for m in members
        ):
            return True
    return False


def cut(people: list[Applicant]) -> list[list[Applicant]]:
    """Consecutive groups of about GROUP_SIZE (sizes differ by at most one)."""
    groups = max(1, round(len(people) / GROUP_SIZE))
    out: list[list[Applicant]] = []
    at = 0
    for k in range(groups):
        size = len(people) // groups + (1 if k < len(people) % groups else 0)
        out.append(people[at : at + size])
        at += size
    return out


def scores(
    groups: list[list[Applicant]], total: int, starts: list[datetime]
) -> tuple[float, float]:
    placed = sum(len(g) for g in groups if has_common_slot(g, starts))
    rule = sum(1 for g in groups if meets_rule([m.stage for m in g], Mix.MIXED))
    return placed / total, rule / len(groups) if groups else 0.0


def offset_hours(person: Applicant) -> float:
    offset = REFERENCE.astimezone(ZoneInfo(person.timezone)).utcoffset()
    return offset.total_seconds() / 3600 if offset else 0.0


async def run(size: Size) -> Result:
    result = Result("cohorts", "Cohort formation: time to a proposal and quality vs baselines")
    starts = slot_starts(REFERENCE)
    for count in size.cohort_sizes:
        people = generate(count, seed=count)
        began = time.perf_counter()
        proposal = form_groups(
            people,
            group_size=GROUP_SIZE,
            duration_minutes=DURATION,
            mix=Mix.MIXED,
            reference=REFERENCE,
        )
        seconds = time.perf_counter() - began
        by_id = {p.user_id: p for p in people}
        ours = [[by_id[u] for u in g.members] for g in proposal.groups]
        ours_placed, ours_rule = scores(ours, count, starts)
        shuffled = people[:]
        random.Random(count).shuffle(shuffled)
        random_placed, random_rule = scores(cut(shuffled), count, starts)
        by_zone = sorted(
            people, key=lambda p: (offset_hours(p), p.timezone, p.stage.value, p.user_id)
        )
        greedy_placed, greedy_rule = scores(cut(by_zone), count, starts)
        result.details[str(count)] = {
            "seconds": round(seconds, 3),
            "solver": proposal.solver,
            "groups": len(proposal.groups),
            "unplaced": len(proposal.unplaced),
        }
        target = Target("<=", 10.0) if count >= 200 else None
        result.add(
            f"{count}.seconds",
            f"time to a proposal, {count} people",
            round(seconds, 2),
            "s",
            target=target,
            note=f"{proposal.solver}, {len(proposal.groups)} groups",
        )
        result.add(
            f"{count}.placed_pct",
            f"placed in a group with a common slot, {count} people: bot / random / by zone",
            round(100 * ours_placed, 1),
            "%",
            note=f"random {100 * random_placed:.1f} %, by zone {100 * greedy_placed:.1f} %",
        )
        result.add(
            f"{count}.rule_pct",
            f"groups meeting the mixed stage rule, {count} people: bot / random / by zone",
            round(100 * ours_rule, 1),
            "%",
            note=f"random {100 * random_rule:.1f} %, by zone {100 * greedy_rule:.1f} %",
        )
    return result
