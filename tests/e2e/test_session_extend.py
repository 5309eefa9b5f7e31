"""Extensions: a hot seat's three phases share one 15-minute allowance, and whoever holds the
floor for a raised-hand response may extend that response within the phase."""

from __future__ import annotations

from datetime import timedelta

from simcord import Env

from core.session import Phase
from tests.e2e.helpers import refused, reply_text
from tests.e2e.session_helpers import Circle, floor_line, live, make_circle, unix


async def hot_seats(env: Env, circle: Circle, minutes: int = 20) -> None:
    await circle.facilitator.slash(
        circle.text,
        "session start",
        group="Circle",
        format="hotseat",
        turn_minutes=minutes,
        order="joined",
    )


async def test_a_hot_seat_can_be_extended_by_fifteen_minutes_over_its_three_phases(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay = circle.facilitator
    await hot_seats(env, circle, minutes=4)  # present 1 min, questions 1 min, advice 2 min

    result = await fay.slash(circle.text, "session extend", minutes=10)
    assert reply_text(result) == "Added 10 min."
    await env.advance_time(11 * 60)  # the presentation runs out; the questions begin
    floor = live(env).floor()
    assert floor is not None and floor.phase == Phase.QUESTIONS
    await fay.slash(circle.text, "session extend", minutes=5)

    await refused(
        env,
        fay.slash(circle.text, "session extend", minutes=1),
        "over its three phases, can be extended by 15 minutes at most",
        "0 min of extension left",
    )
    await fay.click(circle.panel(), label="Next")  # on to the advice: still nothing left
    await refused(env, fay.click(circle.panel(), label="+2 min"), "15 minutes at most", "0 min")


async def test_the_member_holding_the_floor_for_a_response_extends_it(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, _ = circle.everyone
    await hot_seats(env, circle)
    await env.advance_time(10 * 60)  # presentation and questions: fay's advice begins
    advice_end = live(env).floor_deadline()
    assert advice_end is not None

    await ben.click(circle.panel(), label="Raise hand")
    assert circle.messages()[-1].startswith(f"✋ {ben.mention}, you have the floor")
    response_end = env.now() + timedelta(minutes=2)

    result = await ben.click(circle.panel(), label="+2 min")
    assert not result.ephemeral  # the panel itself shows the new time
    assert f"ends <t:{unix(response_end + timedelta(minutes=2))}:R>" in floor_line(circle.panel())
    phase = live(env).current()
    assert phase is not None and phase.deadline == advice_end  # the phase keeps its end

    # Someone who neither holds the floor nor sits in the hot seat still may not.
    await refused(
        env,
        ana.click(circle.panel(), label="+2 min"),
        "Only the speaker or a facilitator can extend this turn",
    )
    await env.advance_time(4 * 60 - 1)
    assert live(env).floor_holder() == ben.id
    await env.advance_time(1)
    assert live(env).floor_holder() == fay.id
    assert circle.messages()[-1].startswith(f"💡 Advice for {fay.mention}")
