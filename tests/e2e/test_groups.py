"""Groups end to end: channels, permissions, membership, refusals, restart."""

from __future__ import annotations

import discord
import pytest
from simcord import Env
from simcord import BackendError

from bot import Settings, create_bot
from tests.e2e.helpers import make_world, refused, reply_text


async def test_create_makes_private_role_and_channels(simcord_env: Env) -> None:
    world = make_world(simcord_env, "ana", "ben", "cy")
    ana, ben = world.people["ana"], world.people["ben"]

    result = await ana.slash(
        world.lobby, "group create", name="Night Owls", capacity=4, timezone="America/Toronto"
    )

    assert "Created **Night Owls**" in reply_text(result)
    assert "Night Owls" in world.guild.roles
    text = world.channel("night-owls")
    voice = world.channel("Night Owls")
    assert text is not None and voice is not None
    member = ana.member
    assert member is not None and any(r.name == "Night Owls" for r in member.roles)
    await ana.send(text, "hello group")
    assert text.last_message is not None and text.last_message.content == "hello group"
    with pytest.raises(BackendError):
        await ben.send(text, "can I see this?")
    await ben.slash(world.lobby, "group join", group="night owls")
    await ben.send(text, "now I can")
    assert [m.content for m in text.history(viewer=ben)][-1] == "now I can"
