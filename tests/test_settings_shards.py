"""Shard settings: read from the environment, checked, and turned into the bot's shards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest
from pydantic import ValidationError

from bot import MastermindBot, Settings, create_bot

ROOT = Path(__file__).resolve().parent.parent


def test_shard_ids_come_from_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MASTERMIND_SHARD_COUNT", "4")
    monkeypatch.setenv("MASTERMIND_SHARD_IDS", "0, 2")
    settings = Settings()
    assert settings.shard_count == 4 and settings.shard_ids == [0, 2]
    assert settings.shard_set().ids == (0, 2)
    monkeypatch.setenv("MASTERMIND_SHARD_IDS", "3")
    assert Settings().shard_ids == [3]
    monkeypatch.delenv("MASTERMIND_SHARD_IDS")
    assert Settings().shard_ids is None and Settings().shard_set().ids == (0, 1, 2, 3)


def test_no_shard_settings_is_one_process_for_everything(tmp_path: Path) -> None:
    bot = create_bot(Settings(discord_token="t", database_path=tmp_path / "mm.db"))
    assert isinstance(bot, discord.AutoShardedClient)
    assert bot.shard_count == 1 and bot.shard_ids == [0]
    assert bot.shard_set.everything


def test_a_shard_process_connects_only_its_shards(tmp_path: Path) -> None:
    settings = Settings(
        discord_token="t", database_path=tmp_path / "mm.db", shard_count=3, shard_ids=[2]
    )
    bot = create_bot(settings)
    assert isinstance(bot, MastermindBot) and isinstance(bot, discord.AutoShardedClient)
    assert bot.shard_count == 3 and bot.shard_ids == [2]
    assert bot.shard_set.owns(2 << 22) and not bot.shard_set.owns(1 << 22)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"shard_ids": [0]}, "needs MASTERMIND_SHARD_COUNT"),
        ({"shard_count": 2, "shard_ids": [2]}, "outside 0..1"),
        ({"shard_count": 2, "shard_ids": [0, 0]}, "must not repeat"),
        ({"shard_count": 0}, "at least 1"),
        ({"shard_count": 2, "shard_ids": "0,x"}, "valid integer"),
    ],
)
def test_bad_shard_settings_are_refused(values: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Settings(discord_token="t", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"MASTERMIND_SHARD_IDS": "0,1"}, "MASTERMIND_SHARD_IDS needs MASTERMIND_SHARD_COUNT"),
        (
            {"MASTERMIND_SHARD_COUNT": "2", "MASTERMIND_SHARD_IDS": "1,2"},
            "shard ids [2] are outside 0..1",
        ),
    ],
)
def test_python_bot_py_explains_bad_shard_settings_on_one_line(
    tmp_path: Path, env: dict[str, str], problem: str
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MASTERMIND_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        cwd=tmp_path,
        env={**clean, "DISCORD_TOKEN": "not-a-real-token", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("invalid settings: ") and problem in lines[0]
    assert done.stdout == ""
