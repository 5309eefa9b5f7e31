"""`python bot.py` with a database it cannot use, and `python bot.py migrate-db`, run as
real processes against a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg

from bot import Settings, check_database
from storage.sqlite import Database as SqliteDatabase
from tests import pg

LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO) ")
ROOT = Path(__file__).resolve().parent.parent
BIG = 1_234_567_890_123_456_789  # a Discord id past 2**53 and 2**32
T = "2026-01-05T14:00:00+00:00"


def bot(tmp_path: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("MASTERMIND_") and key != "DISCORD_TOKEN"
    }
    env.update(DISCORD_TOKEN="test", MASTERMIND_DATABASE_PATH=str(tmp_path / "mm.db"))
    if url is not None:
        env["MASTERMIND_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    # Log records (a migration being applied) may come before it; the refusal is one line.
    lines = [line for line in result.stderr.strip().splitlines() if not LOG_RECORD.match(line)]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_a_refused_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = bot(tmp_path, url="postgresql://mm:secret@127.0.0.1:9/mm?connect_timeout=5")
    assert_refused(result, "cannot use the database", "127.0.0.1")
    assert "secret" not in result.stderr


def test_a_malformed_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert_refused(bot(tmp_path, url="postgresql://nonsense:::"), "cannot use the database")
    assert_refused(bot(tmp_path, url="mysql://db/mm"), "postgresql://")


def test_a_wrong_password_is_one_line_and_exit_2(tmp_path: Path, database_url: str) -> None:
    server = pg.server()
    server.create_role("mm_guarded", password="right")
    url = server.url("postgres", user="mm_guarded").replace("mm_guarded:", "mm_guarded:wrong", 1)
    result = bot(tmp_path, url=url)
    assert_refused(result, "password authentication failed")
    assert "wrong" not in result.stderr


def test_a_role_without_create_rights_is_one_line_and_exit_2(
    tmp_path: Path, database_url: str
) -> None:
    server = pg.server()
    server.create_role("mm_reader")
    empty = server.create_database(migrated=False)
    try:
        name = psycopg.conninfo.conninfo_to_dict(empty)["dbname"]
        result = bot(tmp_path, url=server.url(str(name), user="mm_reader"))
        assert_refused(result, "permission denied for schema public")
    finally:
        server.drop_database(empty)


# -- migrate-db ---------------------------------------------------------------------------

ROWS = [
    "INSERT INTO guild_settings (guild_id, moderator_role_id, log_channel_id, turn_minutes,"
    f" feedback_days, identified_exports, tidy_sessions) VALUES ({BIG}, 2, 3, 20, 7, 1, 0)",
    "INSERT INTO groups (id, guild_id, name, name_key, description, capacity, timezone, role_id,"
    " category_id, text_channel_id, voice_channel_id, created_by, created_at) VALUES"
    f" (1, {BIG}, 'Owls', 'owls', 'It''s 100% night', 8, 'UTC', 11, 12, 13, 14, 5, '{T}'),"
    f" (2, {BIG}, 'Larks', 'larks', '', 4, NULL, NULL, NULL, NULL, NULL, 5, '{T}')",
    f"INSERT INTO memberships VALUES (1, {BIG}, 1, '{T}'), (1, 6, 0, '{T}'), (2, 6, 0, '{T}')",
    f"INSERT INTO profiles VALUES ({BIG}, 'resident', 'Uni', 'UTC', 'assessment', '9-5', '{T}')",
    f"INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at)"
    f" VALUES ({BIG}, 5, 'group.create', 'Owls', '{T}'), ({BIG}, 5, 'group.join', '', '{T}')",
    "INSERT INTO bot_meta VALUES ('command_fingerprint', 'abc'), ('ü', '✓')",
    "INSERT INTO sessions (id, group_id, guild_id, format, started_by, started_at, ended_at,"
    " end_reason, state, next_due, panel_channel_id, panel_message_id) VALUES"
    f" (7, 1, {BIG}, 'standard', 5, '{T}', '{T}', 'finished', '{{}}', NULL, 13, {BIG}),"
    f" (8, 1, {BIG}, 'hotseat', 5, '{T}', NULL, NULL, '{{\"x\": 1}}', '{T}', NULL, NULL)",
    f"INSERT INTO segments VALUES (7, 0, {BIG}, 'checkin', 'talk', 120, 118, 'done', '{T}', '{T}')",
    f"INSERT INTO attendance VALUES (7, {BIG}, '{T}', 3600), (7, 6, '{T}', 1800)",
    f"INSERT INTO notes (session_id, author_id, for_member_id, kind, text, created_at)"
    f" VALUES (7, 6, {BIG}, 'resource', 'A book', '{T}')",
    f"INSERT INTO hotseat_history VALUES (1, {BIG}, '{T}')",
    f"INSERT INTO schedules VALUES (1, {BIG}, 1, '14:00', 2, 90, 'UTC', '2026-01-06', 5, '{T}',"
    f" {BIG}, '{T}')",
    f"INSERT INTO schedule_skips VALUES (1, '{T}')",
    f"INSERT INTO schedule_reminders VALUES (1, '{T}', '15m', '{T}')",
    f"INSERT INTO feedback_requests VALUES (7, 1, 13, 99, '{T}', '{T}', '{T}', NULL, NULL)",
    f"INSERT INTO feedback VALUES (7, {BIG}, 5, 'r', 'f', 'n', 'c', '{T}', '{T}', 2, NULL)",
    "INSERT INTO next_steps (id, session_id, group_id, owner_id, text, status, created_at)"
    f" VALUES (1, 7, 1, {BIG}, 'Write', 'done', '{T}'), (2, 7, 1, 6, 'Call', 'open', '{T}'),"
    f" (3, 7, 1, 6, 'Removed', 'open', '{T}')",
    "DELETE FROM next_steps WHERE id = 3",
    f"INSERT INTO polls VALUES (4, {BIG}, 1, 13, 98, 'When?', '[\"a\",\"b\"]', 5, '{T}', '{T}',"
    " NULL, NULL)",
    f"INSERT INTO guild_secrets VALUES ({BIG}, X'00FF10203040', '{T}')",
    f"INSERT INTO erasures VALUES (-{BIG}, '{T}')",
    f"INSERT INTO voice_joins VALUES ({BIG}, 6, 14, '{T}')",
    "INSERT INTO calendar_sequences VALUES (1, 3)",
    f"INSERT INTO feedback_drafts VALUES (7, 6, 'a', 'b', 'c', 'd', '{T}')",
    "INSERT INTO cohorts (id, guild_id, name, name_key, group_size, mix, status, created_by,"
    f" created_at) VALUES (3, {BIG}, 'Spring', 'spring', 6, 'mixed', 'formed', 5, '{T}')",
    f"INSERT INTO cohort_members VALUES (3, 6, 'resident', 'UTC', NULL, NULL, NULL, '{T}', '{T}')",
    f"INSERT INTO cohort_proposals VALUES (9, 3, 'fp', '{{}}', 5, '{T}')",
    f"INSERT INTO cohort_plans VALUES (3, 9, 5, 13, '{T}', NULL)",
    "INSERT INTO cohort_plan_groups VALUES (3, 0, 'Spring 1', 2, 1, 0)",
    f"INSERT INTO session_messages VALUES (7, 13, {BIG}, 'announcement')",
    "INSERT INTO outbox (guild_id, scope, kind, payload, state, attempts, next_attempt_at,"
    f" created_at) VALUES ({BIG}, 'session:7', 'post', '{{\"a\": \"50%\"}}', 'done', 1, '{T}',"
    f" '{T}')",
    f"INSERT INTO outbox_notices VALUES (13, 'send_messages', '{T}')",
    f"INSERT INTO feedback_reminder_misses VALUES (7, {BIG})",
]


def sqlite_with_rows(path: Path) -> None:
    async def create() -> None:
        db = SqliteDatabase(path)
        await db.open()
        await db.close()

    asyncio.run(create())
    with sqlite3.connect(path) as conn:
        for statement in ROWS:
            conn.execute(statement)


def table_rows(path: Path, url: str) -> dict[str, tuple[list[tuple[object, ...]], ...]]:
    with sqlite3.connect(path) as lite, psycopg.connect(url) as conn:
        names = [
            row[0]
            for row in lite.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        found = {}
        for name in names:
            columns = ", ".join(f'"{row[1]}"' for row in lite.execute(f"PRAGMA table_info({name})"))
            query = f'SELECT {columns} FROM "{name}"'
            theirs = [tuple(row) for row in conn.execute(query)]
            found[name] = (
                sorted(lite.execute(query).fetchall(), key=repr),
                sorted(theirs, key=repr),
            )
        return found


def test_migrate_db_copies_every_row_of_every_table(tmp_path: Path, database_url: str) -> None:
    sqlite_with_rows(tmp_path / "mm.db")
    target = pg.server().create_database(migrated=False)
    try:
        result = bot(tmp_path, "migrate-db", target)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        assert lines[-1].startswith("verified: ")
        assert "groups: 2 rows" in lines and "next_steps: 2 rows" in lines
        found = table_rows(tmp_path / "mm.db", target)
        assert len(found) == len(lines) - 1
        for name, (theirs, ours) in found.items():
            assert ours == theirs, name
        assert all(theirs for theirs, _ in found.values()), "every table had rows to copy"
        with psycopg.connect(target) as conn:
            # Identities go on after what was copied; AUTOINCREMENT's removed #3 stays unused.
            new_step = conn.execute(
                "INSERT INTO next_steps (session_id, group_id, owner_id, text, created_at)"
                " VALUES (7, 1, 6, 'New', 't') RETURNING id"
            ).fetchone()
            new_group = conn.execute(
                "INSERT INTO groups (guild_id, name, name_key, capacity, created_by, created_at)"
                " VALUES (1, 'New', 'new', 4, 5, 't') RETURNING id"
            ).fetchone()
        assert new_step is not None and new_step[0] == 4
        assert new_group is not None and new_group[0] == 3

        again = bot(tmp_path, "migrate-db", target)
        assert_refused(again, "not empty")
    finally:
        pg.server().drop_database(target)


def test_migrate_db_refuses_a_missing_source_and_a_bad_argument(
    tmp_path: Path, database_url: str
) -> None:
    assert_refused(bot(tmp_path, "migrate-db", database_url), "no SQLite database")
    assert_refused(bot(tmp_path, "migrate-db"), "usage")
    assert_refused(bot(tmp_path, "migrate-db", "sqlite:///x.db"), "usage")


def test_a_usable_database_passes_the_check_and_is_migrated(
    tmp_path: Path, database_url: str
) -> None:
    empty = pg.server().create_database(migrated=False)
    try:
        assert check_database(Settings(database_url=empty)) is None
        with psycopg.connect(empty) as conn:
            assert conn.execute("SELECT to_regclass('groups')").fetchone() == ("groups",)
    finally:
        pg.server().drop_database(empty)
    assert check_database(Settings(database_path=tmp_path / "mm.db")) is None
