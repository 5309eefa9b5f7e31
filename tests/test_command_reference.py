"""README.md's command reference is generated from the command tree and kept up to date."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from discord import app_commands

ROOT = Path(__file__).resolve().parent.parent


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "command_reference", ROOT / "scripts" / "command_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script()


async def test_readme_reference_matches_the_command_tree(script: ModuleType) -> None:
    block = script.render(await script.command_tree())
    readme = (ROOT / "README.md").read_text("utf-8")
    assert script.splice(readme, block) == readme, (
        "README.md's command reference is out of date: run "
        "`python scripts/command_reference.py --write`"
    )


async def test_every_command_and_option_is_in_the_reference(script: ModuleType) -> None:
    commands = await script.command_tree()
    block = script.render(commands)
    leaves = [leaf for top in commands for leaf in script._leaves(top)]
    assert len(leaves) >= 40
    for leaf in leaves:
        assert f"`/{leaf.qualified_name}" in block
        for param in leaf.parameters:
            assert param.name in block
    assert "| `/session start <group> [format=standard] [turn_minutes (1–60)]" in block
    assert "| `/report program [cohort]` |" in block


def test_splice_replaces_only_the_text_between_the_markers(script: ModuleType) -> None:
    readme = f"# Title\n\nintro\n{script.START}\nold\n{script.END}\n\n## Next\n"
    assert script.splice(readme, "new\n") == (
        f"# Title\n\nintro\n{script.START}\nnew\n{script.END}\n\n## Next\n"
    )
    with pytest.raises(SystemExit):
        script.splice("# no markers\n", "new\n")


def test_the_check_fails_on_a_stale_readme(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"x\n{script.START}\nold\n{script.END}\n", "utf-8")
    monkeypatch.setattr(script, "README", stale)
    assert script.main(["--check"]) == 1
    assert script.main(["--write"]) == 0
    assert script.main(["--check"]) == 0
    assert "`/report session <group> [session]`" in stale.read_text("utf-8")


async def test_help_names_every_kind_of_command(script: ModuleType) -> None:
    from cogs.admin import HELP_TEXT

    assert len(HELP_TEXT) <= 2000  # one Discord message
    for top in await script.command_tree():
        assert isinstance(top, app_commands.Group | app_commands.Command)
        assert f"/{top.name}" in HELP_TEXT, f"/mastermind help does not mention /{top.name}"
    for command in (
        "/session start",
        "/feedback give",
        "/nextsteps done",
        "/schedule set",
        "/report session",
        "/mastermind privacy export",
        "/mastermind privacy delete",
    ):
        assert command in HELP_TEXT
