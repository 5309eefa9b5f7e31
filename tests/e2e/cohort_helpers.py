"""A guild with a moderator and people who sign up for a cohort through its button and form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import discord
from simcord import Env, MemberActor

from core.cohorts import Proposal
from tests.e2e.helpers import World, make_world, reply_text, storage_of

# Twenty people on two continents whose usual hours overlap from 13:00 to 18:00 UTC in
# January: five of each career stage.
ZONES = ("America/Toronto", "Europe/London", "America/Sao_Paulo", "Europe/Berlin")
STAGES = ("trainee", "early-career", "mid-career", "senior")


@dataclass
class Cohort:
    env: Env
    world: World
    mod: MemberActor
    people: list[MemberActor] = field(default_factory=list)

    def signup_message(self) -> discord.Message:
        for message in reversed(self.world.lobby.history()):
            if message.components and "sign-ups" in (message.content or ""):
                return message
        raise AssertionError("no sign-up message in the lobby")

    def proposal_message(self) -> discord.Message:
        for message in reversed(self.world.lobby.history()):
            if message.embeds and (message.embeds[0].title or "").startswith("Proposed groups"):
                return message
        raise AssertionError("no proposal in the lobby")

    async def open(self, name: str = "Spring", **options: Any) -> str:
        result = await self.mod.slash(self.world.lobby, "cohort open", name=name, **options)
        return reply_text(result)

    async def join(self, person: MemberActor, answers: dict[str, str]) -> Any:
        shown = await person.click(self.signup_message(), label="Join cohort")
        assert shown.modal is not None, reply_text(shown)
        return await person.submit_modal(shown, answers)

    async def latest_proposal(self) -> tuple[int, Proposal]:
        storage = storage_of(self.env)
        row = await storage.db.fetch_one("SELECT id FROM cohort_proposals ORDER BY id DESC")
        assert row is not None
        stored = await storage.cohorts.proposal(int(row[0]))
        assert stored is not None
        return stored.id, stored.proposal


def answers_for(index: int) -> dict[str, str]:
    return {
        "career_stage": STAGES[index % 4],
        "timezone": ZONES[index % 4],
        "hours": "08:00-18:00" if index % 4 in (0, 2) else "11:00-20:00",
        "institution": f"University {index}",
        "focus": "curriculum design",
    }


def make_cohort(env: Env, count: int = 0) -> Cohort:
    world = make_world(env)
    admins = world.guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    mod = world.person("mod", roles=[admins])
    cohort = Cohort(env=env, world=world, mod=mod)
    for index in range(count):
        cohort.people.append(world.person(f"p{index:02d}"))
    return cohort


async def signed_up(env: Env, count: int = 20, **options: Any) -> Cohort:
    cohort = make_cohort(env, count)
    await cohort.open(**options)
    for index, person in enumerate(cohort.people):
        await cohort.join(person, answers_for(index))
    return cohort


def form_defaults(shown: Any) -> dict[str, str]:
    """The text each field of the form that was opened starts with."""
    assert shown.modal is not None
    return {
        c["custom_id"]: c.get("value") or ""
        for row in shown.modal["components"]
        for c in row["components"]
    }
