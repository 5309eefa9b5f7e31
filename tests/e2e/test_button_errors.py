"""Every persistent button shares one error path (`GuardedButton`): a refusal is explained,
anything unexpected is logged with its context and the person gets an apology with an id."""

from __future__ import annotations

import logging
import re

import pytest
from simcord import Env

from cogs.common.errors import GuardedButton
from cogs.feedback._views import DetailsButton, DraftButton, RateButton, StepButton
from cogs.groups._views import RecreateButton
from cogs.privacy import PRIVACY_BUTTONS
from cogs.sessions._views import PanelButton
from tests.e2e.helpers import (
    close_storage,  # noqa: F401  (a fixture, used below)
    delete_role_by_hand,
    group_named,
    make_world,
    reply_text,
)
from tests.e2e.test_groups import night_owls

pytestmark = pytest.mark.usefixtures("close_storage")


def test_every_persistent_button_has_the_one_base_class() -> None:
    buttons = (
        RateButton,
        DetailsButton,
        StepButton,
        DraftButton,
        RecreateButton,
        PanelButton,
        *PRIVACY_BUTTONS,
    )
    assert all(issubclass(button, GuardedButton) for button in buttons)
    assert all("callback" not in vars(button) for button in buttons)


async def test_an_unexpected_error_in_a_button_gets_an_apology_with_an_id(
    simcord_env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env = simcord_env
    world = make_world(env, "ana")
    ana = world.people["ana"]
    await night_owls(world)
    group = await group_named(env, world.guild, "Night Owls")
    await delete_role_by_hand(env, world.guild, group.role_id)
    info = await ana.slash(world.lobby, "group info", group="Night Owls")

    # Discord fails every attempt to make the role again (not a permission problem).
    env.inject_error("POST", "/guilds/*/roles", status=500, times=None)
    with caplog.at_level(logging.ERROR, logger="cogs.common.errors"):
        clicked = await ana.click(info.response, label="Recreate role and channels")
    text = reply_text(clicked)
    match = re.fullmatch(r"Sorry, something went wrong on my side \(error id `(\w{8})`\)\.", text)
    assert clicked.ephemeral and match is not None
    logged = [r for r in caplog.records if match[1] in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert f"button mm:group:recreate:{group.id}" in logged[0].getMessage()
    assert f"user {ana.id}" in logged[0].getMessage()
