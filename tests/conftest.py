"""Shared fixtures: the real bot on a temporary database, driven by SimCord."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import Settings, create_bot  # noqa: E402
from tests import pg  # noqa: E402

BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="the database the tests run on: every storage and end-to-end test runs once on "
        "each chosen backend (default: both)",
    )


def backends(config: pytest.Config) -> list[str]:
    """The backends the tests run on."""
    chosen = str(config.getoption("--backend"))
    return list(BACKENDS) if chosen == "both" else [chosen]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that needs a database (through `backend`, `settings` or the bot) runs on each
    chosen backend, as Red's storage drivers are tested."""
    if "backend" in metafunc.fixturenames:
        chosen = backends(metafunc.config)
        if metafunc.definition.get_closest_marker("one_backend") is not None:
            chosen = chosen[:1]
        metafunc.parametrize("backend", chosen)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    server = pg.started()
    if server is not None:
        terminalreporter.write_line(f"PostgreSQL test server started in {server.started_in:.2f} s")


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database at the latest schema, dropped afterwards."""
    if str(request.config.getoption("--backend")) == "sqlite":
        pytest.skip("PostgreSQL is not among the chosen backends (--backend=sqlite)")
    server = pg.server()
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    if backend == "postgresql":
        url = request.getfixturevalue("database_url")
        return Settings(discord_token="test", database_path=tmp_path / "mm.db", database_url=url)
    return Settings(discord_token="test", database_path=tmp_path / "mm.db")


@pytest.fixture
async def simcord_bot(settings: Settings, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The bot under test. SimCord detaches bots without closing them, so its timers and
    deliveries are stopped and the database closed here; otherwise a failing test would leave
    pytest hanging at exit, or a delivery would run into the closed database."""
    bot = create_bot(settings)
    yield bot
    env = request.node.funcargs.get("simcord_env")
    for built in {bot, getattr(env, "bot", bot)}:
        await built.stop_work()
        await built.storage.close()
