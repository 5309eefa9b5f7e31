"""A moderator running another group's session acts as a moderator: every such action is
written to the audit table and the log channel, like archive and schedule changes."""

from __future__ import annotations

import discord
from simcord import Env

from tests.e2e.helpers import message_payloads, reply_text, storage_of
from tests.e2e.session_helpers import is_live, live, make_circle


async def test_a_moderator_ending_skipping_or_reordering_a_session_is_logged(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    world = circle.world
    fay, ana, ben, cy = circle.everyone
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[managers])
    moderators = world.guild.create_role("Moderators")
    mod = world.person("mod", roles=[moderators])
    log = world.guild.create_text_channel("mod-log")
    await boss.slash(world.lobby, "mastermind setup", moderator_role=moderators, log_channel=log)
    await fay.slash(
        circle.text, "session start", group="Circle", format="roundrobin", order="joined"
    )
    await fay.slash(circle.text, "session next")  # the facilitator's own group: not logged
    assert live(env).floor_holder() == ana.id

    result = await mod.slash(world.lobby, "session skip", member=ben, group="Circle")
    assert reply_text(result) == f"Skipped {ben.mention}."
    await mod.slash(world.lobby, "session move", member=cy, position=1, group="Circle")
    await mod.slash(world.lobby, "session extend", minutes=3, group="Circle")
    await mod.slash(world.lobby, "session talkingstick", enabled=True, group="Circle")
    await mod.slash(world.lobby, "session end", group="Circle")
    assert not is_live(env)

    entries = await storage_of(env).guilds.audit_entries(world.guild.id)
    assert [(e.action, e.actor_id, e.detail) for e in entries[1:]] == [
        ("session.skip", mod.id, f"Circle: {ben.mention}"),
        ("session.move", mod.id, f"Circle: {cy.mention} to position 1"),
        ("session.extend", mod.id, "Circle: added 3 min"),
        ("session.talkingstick", mod.id, "Circle: on"),
        ("session.end", mod.id, "Circle"),
    ]
    logged = [m.content for m in log.history()][1:]
    assert logged == [
        f"`session.skip` by {mod.mention}: Circle: {ben.mention}",
        f"`session.move` by {mod.mention}: Circle: {cy.mention} to position 1",
        f"`session.extend` by {mod.mention}: Circle: added 3 min",
        f"`session.talkingstick` by {mod.mention}: Circle: on",
        f"`session.end` by {mod.mention}: Circle",
    ]
    sent = [p for p in message_payloads(env) if str(p.get("content", "")).startswith("`session.")]
    assert len(sent) == 5 and all(p["allowed_mentions"] == {"parse": []} for p in sent)


async def test_a_moderator_pressing_the_panel_buttons_of_another_group_is_logged(
    simcord_env: Env,
) -> None:
    env = simcord_env
    circle = await make_circle(env)
    world = circle.world
    fay = circle.facilitator
    managers = world.guild.create_role(
        "Managers", permissions=discord.Permissions(manage_guild=True)
    )
    boss = world.person("boss", roles=[managers])
    moderators = world.guild.create_role("Moderators")
    mod = world.person("mod", roles=[moderators])
    log = world.guild.create_text_channel("mod-log")
    await boss.slash(world.lobby, "mastermind setup", moderator_role=moderators, log_channel=log)
    await fay.slash(
        circle.text, "session start", group="Circle", format="roundrobin", order="joined"
    )
    await fay.click(circle.panel(), label="+2 min")  # fay's own floor: not logged

    await mod.click(circle.panel(), label="Pause")
    await mod.click(circle.panel(), label="End session")

    entries = await storage_of(env).guilds.audit_entries(world.guild.id)
    assert [(e.action, e.actor_id, e.detail) for e in entries[1:]] == [
        ("session.pause", mod.id, "Circle: paused"),
        ("session.end", mod.id, "Circle"),
    ]
