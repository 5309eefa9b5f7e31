"""Whom the bot pings: in the group channel, only ever the one person who gets the floor."""

from __future__ import annotations

import re

from simcord import Env

from tests.e2e.session_helpers import is_live, make_circle

MENTION = re.compile(r"<@!?(\d+)>")


async def test_every_message_pings_at_most_the_floor_holder(simcord_env: Env) -> None:
    env = simcord_env
    circle = await make_circle(env)
    fay, ana, ben, cy = circle.everyone
    role = circle.world.guild.roles["Circle"]
    cursor = len(env.http_requests)

    await fay.slash(
        circle.text, "session start", group="Circle", turn_minutes=4, hotseats=1, order="joined"
    )
    await fay.slash(circle.text, "session talkingstick", enabled=True)
    # Notes whose text tries to ping everyone, a role and another member.
    await ana.slash(
        circle.text,
        "session note",
        kind="insight",
        text=f"@everyone @here {role.mention} {ben.mention} look at this",
    )
    await env.advance_time(4 * 120)  # check-ins, with their warnings
    await env.advance_time(60 + 60)  # fay's hot seat: present, questions
    await ben.click(circle.panel(), label="Raise hand")
    await cy.click(circle.panel(), label="Raise hand")
    await env.advance_time(120)  # ben's response ends, cy's starts
    await ben.slash(circle.text, "session status")
    await fay.slash(circle.text, "session extend", minutes=1)
    await env.advance_time(600)  # the rest: advice, commitments
    assert not is_live(env)

    posts = [
        r
        for r in env.http_requests[cursor:]
        if r.path.startswith(f"/channels/{circle.text.id}/messages")
        and r.method in ("POST", "PATCH")
        and not r.path.endswith("/bulk-delete")  # the tidy after the session sends no text
    ]
    assert len(posts) > 20
    pinged: list[int] = []
    for request in posts:
        body = request.json or {}
        allowed = body.get("allowed_mentions")
        assert allowed is not None, f"{request.method} {request.path} has no allowed_mentions"
        assert allowed.get("parse", []) == [], allowed
        assert not allowed.get("roles"), allowed
        users = [int(u) for u in allowed.get("users", [])]
        assert len(users) <= 1, body
        if users:
            # The one allowed ping is the person the message is about, mentioned first.
            first = MENTION.search(body.get("content") or "")
            assert first is not None and int(first.group(1)) == users[0], body
            pinged.append(users[0])
    # Every hand-over pinged its new floor holder (and warnings their speaker), no one else.
    assert set(pinged) == {fay.id, ana.id, ben.id, cy.id}
    assert pinged.count(ben.id) >= 3  # check-in, response, commitments
