"""The layers' rule: cogs and core never import a storage module or a database driver, and
core never imports discord. Checked on the source, so a stray import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "core": ("storage", "discord", "sqlite3", "aiosqlite", "psycopg", "psycopg_pool"),
    "cogs": ("storage", "sqlite3", "aiosqlite", "psycopg", "psycopg_pool"),
}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_it_must_not(layer: str) -> None:
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files, f"no sources under {layer}/"
    offending = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if module.split(".")[0] in FORBIDDEN[layer]
    ]
    assert offending == []


def test_the_check_sees_an_import() -> None:
    sample = ROOT / "storage" / "sqlite" / "db.py"
    assert "aiosqlite" in imported_modules(sample)
