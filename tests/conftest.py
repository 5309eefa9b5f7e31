"""Shared fixtures: the real bot on a temporary database, driven by SimCord."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import Settings, create_bot  # noqa: E402


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(discord_token="test", database_path=tmp_path / "mm.db")


@pytest.fixture
async def simcord_bot(settings: Settings, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The bot under test. SimCord detaches bots without closing them, so the database
    thread is closed here; otherwise a failing test would leave pytest hanging at exit."""
    bot = create_bot(settings)
    yield bot
    env = request.node.funcargs.get("simcord_env")
    for built in {bot, getattr(env, "bot", bot)}:
        await built.storage.close()
