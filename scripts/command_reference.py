"""The command reference in README.md, generated from the bot's own command tree.

    python scripts/command_reference.py          # print the reference
    python scripts/command_reference.py --write  # replace it in README.md
    python scripts/command_reference.py --check  # exit 1 when README.md is out of date

The reference sits in README.md between the markers `<!-- commands:start -->` and
`<!-- commands:end -->`; everything outside them is left alone. The tree is built by loading
every cog of `bot.COGS` into a bot that never connects nor opens its database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START = "<!-- commands:start -->"
END = "<!-- commands:end -->"
NOTE = (
    "<!-- Generated from the bot's command tree by `python scripts/command_reference.py "
    "--write`; edit the commands, not this table. -->"
)
NO_DESCRIPTION = "…"  # what discord.py puts where a command or option has no description


async def command_tree() -> list[Any]:
    """The top-level app commands and groups, as the bot registers them."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bot import COGS, Settings, create_bot

    with tempfile.TemporaryDirectory() as folder:
        bot = create_bot(Settings(discord_token="unused", database_path=Path(folder) / "x.db"))
        for name in COGS:
            await bot.load_extension(name)
        return list(bot.tree.get_commands())


def _leaves(node: Any) -> Iterator[Any]:
    from discord import app_commands

    if isinstance(node, app_commands.Group):
        for child in node.commands:
            yield from _leaves(child)
    elif isinstance(node, app_commands.Command):
        yield node


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _usage(command: Any) -> str:
    parts = [f"/{command.qualified_name}"]
    for param in command.parameters:
        default = param.default
        shown = param.name
        if not param.required and default is not None and default is not ...:
            shown += f"={getattr(default, 'value', default)}"
        if param.min_value is not None and param.max_value is not None:
            shown += f" ({param.min_value}–{param.max_value})"
        parts.append(f"<{shown}>" if param.required else f"[{shown}]")
    return " ".join(parts)


def _options(command: Any) -> str:
    described = []
    for param in command.parameters:
        text = "" if param.description == NO_DESCRIPTION else param.description
        extras = []
        values = [str(choice.value) for choice in param.choices]
        if values and not all(value in text for value in values):
            extras.append("one of " + ", ".join(f"`{value}`" for value in values))
        detail = "; ".join(part for part in (text, *extras) if part)
        if detail:
            described.append(f"`{param.name}`: {detail}")
    return "<br>".join(_cell(line) for line in described)


def render(commands: list[Any]) -> str:
    """The Markdown between the markers: one table per top-level command."""
    lines = [NOTE, ""]
    for top in commands:
        lines.append(f"#### `/{top.name}`: {top.description}")
        lines.append("")
        lines.append("| command | what it does | options |")
        lines.append("|---|---|---|")
        for command in _leaves(top):
            lines.append(
                f"| `{_cell(_usage(command))}` | {_cell(command.description)} "
                f"| {_options(command)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def splice(readme: str, block: str) -> str:
    """README text with the block between the markers replaced."""
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md has no {START} … {END} markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="update README.md")
    action.add_argument("--check", action="store_true", help="fail if README.md is stale")
    args = parser.parse_args(argv)
    block = render(asyncio.run(command_tree()))
    if not (args.write or args.check):
        print(block, end="")
        return 0
    readme = README.read_text("utf-8")
    updated = splice(readme, block)
    if args.check:
        if updated != readme:
            print(
                "README.md's command reference is out of date; run "
                "`python scripts/command_reference.py --write`.",
                file=sys.stderr,
            )
            return 1
        return 0
    README.write_text(updated, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
