"""A cohort's records: who signed up with which answers, and a proposal of groups.

Pure: no Discord, no I/O. A proposal is plain data that round-trips through JSON, so the
bot can store it, show it, and create exactly what was shown.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from core.errors import UserError
from core.groups import NAME_MAX, clean_name, has_mass_mention
from core.models import CareerStage
from core.timeparse import WEEKDAYS

GROUP_SIZE_MIN, GROUP_SIZE_MAX = 4, 8
DEFAULT_GROUP_SIZE = 6
# `<cohort> 12` must still be a valid group name.
COHORT_NAME_MAX = NAME_MAX - 4

JUNIOR = frozenset({CareerStage.TRAINEE, CareerStage.EARLY_CAREER})
SENIOR = frozenset({CareerStage.MID_CAREER, CareerStage.SENIOR})
STAGE_RANK = {
    CareerStage.TRAINEE: 0,
    CareerStage.EARLY_CAREER: 1,
    CareerStage.MID_CAREER: 2,
    CareerStage.SENIOR: 3,
}


class Mix(StrEnum):
    """`mixed`: each group spans junior and senior stages; `similar`: stages close together."""

    MIXED = "mixed"
    SIMILAR = "similar"


class CohortStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    FORMED = "formed"


def check_group_size(size: int) -> int:
    if not GROUP_SIZE_MIN <= size <= GROUP_SIZE_MAX:
        raise UserError(
            f"`group_size` must be between {GROUP_SIZE_MIN} and {GROUP_SIZE_MAX} "
            f"(you asked for {size})."
        )
    return size


def clean_cohort_name(name: str) -> str:
    """A cohort name that leaves room for the group numbers `<cohort> 1`, `<cohort> 2`, …"""
    cleaned = clean_name(name)
    if len(cleaned) > COHORT_NAME_MAX:
        raise UserError(f"A cohort name can be at most {COHORT_NAME_MAX} characters.")
    if has_mass_mention(cleaned):
        raise UserError("A cohort name cannot contain @everyone, @here or a role mention.")
    return cleaned


def group_name(cohort_name: str, position: int) -> str:
    return f"{cohort_name} {position}"


def min_members(group_size: int) -> int:
    """The fewest sign-ups that can make two groups of `group_size` ± 1."""
    return 2 * (group_size - 1)


class Applicant(BaseModel):
    """One person's answers in a cohort. `hours` is the daily window in their own zone."""

    model_config = ConfigDict(frozen=True)

    user_id: int
    stage: CareerStage
    timezone: str
    hours: tuple[time, time]


class ProposedGroup(BaseModel):
    """A group and its weekly slot. `start` is the UTC instant of its first meeting; the
    schedule is `weekday`/`local_time` in `timezone`, the zone of its first member."""

    model_config = ConfigDict(frozen=True)

    members: tuple[int, ...]
    start: datetime
    timezone: str
    weekday: int
    local_time: time

    @property
    def slot_label(self) -> str:
        return f"{WEEKDAYS[self.weekday].title()} {self.local_time:%H:%M} ({self.timezone})"


class Unplaced(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: int
    reason: str


class Quality(BaseModel):
    """How good a proposal is: people placed, groups meeting the stage rule of its `mix`,
    and the total stage spread over its groups."""

    model_config = ConfigDict(frozen=True)

    placed: int
    rule_groups: int
    spread: int


class Proposal(BaseModel):
    model_config = ConfigDict(frozen=True)

    group_size: int
    duration_minutes: int
    mix: Mix
    seed: int
    groups: tuple[ProposedGroup, ...]
    unplaced: tuple[Unplaced, ...]
    solver: str
    quality: Quality

    def rank(self) -> tuple[int, int, int]:
        """Larger is better: more people placed, then more groups meeting the stage rule,
        then (for `similar` only) a smaller total stage spread."""
        spread = -self.quality.spread if self.mix is Mix.SIMILAR else 0
        return (self.quality.placed, self.quality.rule_groups, spread)


def meets_rule(stages: list[CareerStage], mix: Mix) -> bool:
    """Whether one group's stages satisfy the rule of `mix` on their own: `mixed` needs a
    junior and a senior stage; `similar` needs stages at most one step apart."""
    if mix is Mix.MIXED:
        return any(s in JUNIOR for s in stages) and any(s in SENIOR for s in stages)
    ranks = [STAGE_RANK[s] for s in stages]
    return max(ranks) - min(ranks) <= 1


def stage_spread(stages: list[CareerStage]) -> int:
    ranks = [STAGE_RANK[s] for s in stages]
    return max(ranks) - min(ranks) if ranks else 0


class Cohort(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    guild_id: int
    name: str
    group_size: int
    mix: Mix
    status: CohortStatus
    channel_id: int | None = None
    message_id: int | None = None
    created_by: int
    created_at: datetime


class CohortMember(BaseModel):
    """What someone answered in the sign-up form (each answer may be missing)."""

    model_config = ConfigDict(frozen=True)

    cohort_id: int
    user_id: int
    career_stage: CareerStage | None = None
    timezone: str | None = None
    hours: str | None = None
    institution: str | None = None
    focus: str | None = None
    joined_at: datetime
    updated_at: datetime

    def missing(self) -> list[str]:
        return [
            name
            for name in ("career_stage", "timezone", "hours", "institution", "focus")
            if not getattr(self, name)
        ]


class StoredProposal(BaseModel):
    """A proposal as shown to a moderator; `fingerprint` identifies the answers it used."""

    model_config = ConfigDict(frozen=True)

    id: int
    cohort_id: int
    fingerprint: str
    proposal: Proposal
    created_by: int
    created_at: datetime


class PlanStep(BaseModel):
    """One group of a creation plan and how far it got: created, members added, scheduled."""

    model_config = ConfigDict(frozen=True)

    position: int
    name: str
    group_id: int | None = None
    members_done: bool = False
    schedule_done: bool = False


class Plan(BaseModel):
    """What `Create groups` will do, written before the first step and resumed after a
    crash: it is finished when every step is."""

    model_config = ConfigDict(frozen=True)

    cohort_id: int
    proposal_id: int
    started_by: int
    channel_id: int | None = None
    started_at: datetime
    finished_at: datetime | None = None
    steps: tuple[PlanStep, ...]
