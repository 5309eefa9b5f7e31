"""`/feedback poll`: a native Discord poll in the group channel, closed at its time, with the
results read from Discord's poll and stored; and every way to ask for a bad poll."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest
from simcord import Env, MemberActor, OptionError

from bot import Settings
from tests.e2e.helpers import (
    bot_of_env,
    close_storage,  # noqa: F401  (a fixture, used below)
    refused,
    reply_text,
    requests,
    restart,
)
from tests.e2e.session_helpers import Circle, make_circle

pytestmark = pytest.mark.usefixtures("close_storage")


def polls_in(circle: Circle) -> list[discord.Message]:
    return [m for m in circle.text.history() if m.poll is not None]


async def test_poll_created_voted_closed_and_results_stored(
    simcord_env: Env, settings: Settings
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben", "cy"), join_voice=False)
    fay, ana, ben, cy = circle.everyone
    asked_at = env.now()

    result = await ana.slash(
        circle.text,
        "feedback poll",
        question="Which day suits the next meeting?",
        options="Tuesday | Thursday|Saturday ",
        hours=2,
    )
    assert result.ephemeral and "Poll posted" in reply_text(result)
    [message] = polls_in(circle)
    assert message.poll is not None
    assert message.poll.question == "Which day suits the next meeting?"
    assert [a.text for a in message.poll.answers] == ["Tuesday", "Thursday", "Saturday"]
    stored = await bot_of_env(env).storage.feedback.poll(1)
    assert stored is not None
    assert (stored.message_id, stored.created_by) == (message.id, ana.id)
    assert stored.closes_at == asked_at + timedelta(hours=2)
    assert stored.closed_at is None and stored.results is None

    await fay.vote(message, answer=1)
    await ana.vote(message, answer=2)
    await ben.vote(message, answer=2)
    await cy.vote(message, answer=1)
    # The bot keeps no tally of its own: a restart in between changes nothing.
    await restart(env, settings)
    await cy.vote(message, answer=2)  # cy changes their mind

    await env.advance_time((stored.closes_at - env.now()).total_seconds() - 1)
    still_open = await bot_of_env(env).storage.feedback.poll(1)
    assert still_open is not None and still_open.closed_at is None
    await env.advance_time(1)

    closed = await bot_of_env(env).storage.feedback.poll(1)
    assert closed is not None and closed.closed_at == stored.closes_at
    assert closed.results == {"Tuesday": 1, "Thursday": 3, "Saturday": 0}
    # ... which is exactly what Discord's own poll counted.
    backend_poll = env.backend.messages[circle.text.id][message.id].poll
    assert backend_poll is not None and backend_poll.finalized
    assert {
        answer: len(backend_poll.votes.get(number, set()))
        for number, answer in enumerate(("Tuesday", "Thursday", "Saturday"), start=1)
    } == closed.results
    # The results were read back from Discord, not remembered.
    assert requests(env, "GET", f"/channels/{circle.text.id}/messages/{message.id}")


async def test_every_bad_poll_is_refused_and_nothing_is_posted(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"), join_voice=False)
    _fay, ana = circle.everyone
    outsider = circle.world.person("oz")

    async def refuse(*fragments: str, actor: MemberActor = ana, **options: object) -> None:
        fields = {"question": "Which day?", "options": "Tue | Thu", **options}
        await refused(
            env,
            actor.slash(circle.text, "feedback poll", **fields),
            *fragments,
        )

    await refuse("2 to 10 options", "you gave 1", options="Only one")
    await refuse("2 to 10 options", "you gave 11", options=" | ".join(f"o{i}" for i in range(11)))
    await refuse("option is empty", options="Tue || Thu")
    await refuse("option is empty", options="Tue | Thu |")
    await refuse("at most 55 characters", options=f"Tue | {'x' * 56}")
    await refuse("at most 300 characters", question="q" * 301)
    await refuse("needs a question", question="   ")
    await refuse("the same", options="Tue | tue")
    for hours in (0, 769):
        # Discord itself refuses a number outside the option's declared range.
        with pytest.raises(OptionError):
            await ana.slash(circle.text, "feedback poll", question="Q?", options="A|B", hours=hours)
    await refused(
        env,
        outsider.slash(
            circle.world.lobby, "feedback poll", question="Q?", options="A|B", group="Circle"
        ),
        "Only members",
    )
    await refused(
        env,
        ana.slash(circle.world.lobby, "feedback poll", question="Q?", options="A|B"),
        "Which group",
    )
    assert polls_in(circle) == []
    assert await bot_of_env(env).storage.feedback.open_polls() == []

    # The limits themselves are allowed.
    ok = await ana.slash(
        circle.text,
        "feedback poll",
        question="q" * 300,
        options=" | ".join(f"{i}" + "x" * 54 for i in range(10)),
        hours=768,
    )
    assert "Poll posted" in reply_text(ok)
    assert len(polls_in(circle)) == 1
