"""`/nextsteps list`: whose steps a caller may see, and every open step, oldest first."""

from __future__ import annotations

import discord
import pytest
from simcord import Env, MemberActor

from tests.e2e.helpers import (
    World,
    close_storage,  # noqa: F401  (a fixture, used below)
    refused,
    reply_text,
)
from tests.e2e.session_helpers import make_circle
from tests.e2e.test_feedback import feedback_message, run_short_session

pytestmark = pytest.mark.usefixtures("close_storage")


async def record_steps(
    env: Env, person: MemberActor, channel_messages: discord.Message, text: str
) -> str:
    form = await person.click(channel_messages, label="Add details")
    saved = await person.submit_modal(form, {"next_steps": text})
    return reply_text(saved)


async def owls_session(
    env: Env, world: World, facilitator: MemberActor, member: MemberActor
) -> discord.Message:
    """A second group, Owls, meets once; returns its feedback message."""
    await facilitator.slash(world.lobby, "group create", name="Owls")
    await member.slash(world.lobby, "group join", group="Owls")
    text, voice = world.channel("owls"), world.channel("Owls")
    for person in (facilitator, member):
        await person.join_voice(voice)
        await env.advance_time(1)
    await facilitator.slash(
        text, "session start", group="Owls", format="roundrobin", turn_minutes=1, order="joined"
    )
    await env.advance_time(120)
    found = [m for m in text.history() if m.content.startswith("How valuable")]
    assert found
    return found[-1]


async def test_only_steps_of_shared_or_facilitated_groups_are_shown(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana", "ben"))
    fay, ana, ben = circle.everyone
    world = circle.world
    oz = world.person("oz")
    outsider = world.person("out")
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[managers])
    await run_short_session(env, circle)
    await record_steps(env, ana, feedback_message(circle), "Circle step")
    for person in circle.everyone:
        await person.leave_voice()
    owls_feedback = await owls_session(env, world, oz, ana)
    await record_steps(env, ana, owls_feedback, "Owls secret step")

    # Ben shares Circle with ana, not Owls: he sees her Circle step only, from anywhere.
    for where in (world.lobby, circle.text):
        text = reply_text(await ben.slash(where, "nextsteps list", member=ana))
        assert "Circle step" in text and "Owls" not in text
    await refused(
        env,
        ben.slash(world.lobby, "nextsteps list", member=ana, group="Owls"),
        "in **Owls** only if you are in it with them",
    )
    # Oz facilitates Owls and is not in Circle: he sees her Owls step only.
    text = reply_text(await oz.slash(world.lobby, "nextsteps list", member=ana))
    assert "Owls secret step" in text and "Circle step" not in text
    # Someone in no group with her sees nothing.
    await refused(env, outsider.slash(world.lobby, "nextsteps list", member=ana), "share a group")
    await refused(
        env,
        outsider.slash(world.lobby, "nextsteps list", member=ana, group="Owls"),
        "share a group",
    )
    # A moderator sees all of them; ana sees all of her own; `group:` narrows both.
    for viewer in (boss, ana):
        text = reply_text(await viewer.slash(world.lobby, "nextsteps list", member=ana))
        assert "Circle step" in text and "Owls secret step" in text
        text = reply_text(
            await viewer.slash(world.lobby, "nextsteps list", member=ana, group="Owls")
        )
        assert "Owls secret step" in text and "Circle step" not in text
    # The facilitator of Circle sees ana's Circle step, still not Owls.
    text = reply_text(await fay.slash(world.lobby, "nextsteps list", member=ana))
    assert "Circle step" in text and "Owls" not in text


async def test_every_open_step_is_listed_oldest_first_with_the_rest_attached(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env, ("fay", "ana"))
    _fay, ana = circle.everyone
    # Three sessions of ten long steps each: 30 steps, more than one message holds.
    for session in range(3):
        await run_short_session(env, circle)
        lines = [f"S{session} step {n} " + "w" * 80 for n in range(10)]
        await record_steps(env, ana, feedback_message(circle), "\n".join(lines))
    for step_id in (2, 3, 4, 5, 6):
        await ana.slash(circle.text, "nextsteps done", step=step_id)

    listed = await ana.slash(circle.text, "nextsteps list")
    text = reply_text(listed)
    assert len(text) <= 2000
    body = text.splitlines()[1:]
    shown, more = body[:-1], body[-1]
    # The oldest open steps lead (they are the most overdue), in order.
    assert [line.split()[0] for line in shown[:3]] == ["`#1`", "`#7`", "`#8`"]
    # The count of what is not shown is right: 25 open and 5 done steps in all.
    assert more == f"…and {30 - len(shown)} more: every step is in the attached file."
    message = listed.followups[-1] if listed.followups else listed.response
    assert message is not None and [a.filename for a in message.attachments] == ["next-steps.txt"]
    every = (await message.attachments[0].read()).decode().splitlines()[2:]
    open_ids = [1, *range(7, 31)]
    assert [line.split()[0] for line in every] == [
        *(f"#{n}" for n in open_ids),
        *(f"#{n}" for n in (6, 5, 4, 3, 2)),
    ]
    assert every[0].startswith("#1 [Circle] S0 step 0 ")
    assert every[-1].endswith("(Done)")
