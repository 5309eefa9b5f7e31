"""The storage layer killed with SIGKILL at random points, 50 times, on one database.

A worker subprocess (`kill_worker.py`) runs session transitions and feedback submissions
through the real repositories and `SessionService`, printing `DO ...` before and `ACK ...`
after each committed operation. The test kills it after a seeded number of acknowledgements
(half the time once the next operation has begun, or a moment later), reads everything it had
printed, and checks the database: intact, every acknowledged operation in it, nothing in it
that was never attempted. The next worker continues from that database, so every run
after the first also recovers from a kill (WAL replay, live sessions adopted again).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from core.feedback import next_step_lines
from core.session import SessionState

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("kill_worker.py")
KILLS = 50
AHEAD = 3
WATCHDOG = 30.0
SEED = 20260101

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


@dataclass
class Expected:
    """What the workers acknowledged so far, and the operation each was doing when killed."""

    groups: dict[int, list[int]] = field(default_factory=dict)
    sessions: set[int] = field(default_factory=set)
    # session -> (updated_at, records, ended) of the latest acknowledged state
    states: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    # What a rating or form may be now: the latest acknowledged value, or a value a worker
    # announced afterwards and was killed writing (it may or may not have been committed).
    ratings: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    details: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    acked_ratings: set[tuple[int, int]] = field(default_factory=set)
    acked_details: set[tuple[int, int]] = field(default_factory=set)
    acks: int = 0
    resumed: int = 0
    kills_mid_operation: int = 0

    def read(self, lines: list[str]) -> None:
        """Take in one run's complete lines (a last line cut by the kill is not among them)."""
        announced: list[str] | None = None
        for line in lines:
            word, *rest = line.split()
            if word == "RESUME":
                self.resumed += 1
            elif word == "DO":
                announced = rest
            elif word == "ACK":
                self.acks += 1
                self._ack(rest)
                announced = None
        if announced is not None:
            self.kills_mid_operation += 1
            kind, *args = announced
            if kind == "rate":
                key = (int(args[0]), int(args[1]))
                self.ratings.setdefault(key, set()).add(int(args[2]))
            elif kind == "details":
                key = (int(args[0]), int(args[1]))
                self.details.setdefault(key, {})[args[2]] = int(args[3])

    def _ack(self, fields: list[str]) -> None:
        kind, *args = fields
        if kind == "group":
            self.groups[int(args[0])] = [int(a) for a in args[1:]]
        elif kind == "start":
            self.sessions.add(int(args[0]))
        elif kind == "state":
            session, updated, records, ended = (int(a) for a in args)
            self.states[session] = (updated, records, ended)
        elif kind == "rate":
            self.acked_ratings.add((int(args[0]), int(args[1])))
            self.ratings[(int(args[0]), int(args[1]))] = {int(args[2])}
        elif kind == "details":
            self.acked_details.add((int(args[0]), int(args[1])))
            self.details[(int(args[0]), int(args[1]))] = {args[2]: int(args[3])}
        else:
            raise AssertionError(f"unknown acknowledgement {fields!r}")


class Worker:
    """One worker process: started ahead of time, it imports and waits for `go`."""

    def __init__(
        self,
        database: Path,
        run: int,
        seed: int,
        *,
        script: Path = WORKER,
        args: tuple[str, ...] = (),
    ) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(database), str(run), str(seed), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.watchdog: threading.Timer | None = None

    @property
    def stdout(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def go(self) -> None:
        assert self.process.stdin is not None
        assert self.stdout.readline().strip() == "WAITING", self.failure()
        # A worker stuck for good (a lock never released) is killed, so reading its output
        # ends and the test fails instead of hanging.
        self.watchdog = threading.Timer(WATCHDOG, self.process.kill)
        self.watchdog.start()
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def line(self) -> str:
        line = self.stdout.readline()
        if not line:
            raise AssertionError(f"the worker died on its own: {self.failure()}")
        return line

    def read_acks(self, count: int) -> list[str]:
        """Lines as they come, up to the `count`-th acknowledgement."""
        lines: list[str] = []
        while count:
            lines.append(self.line())
            count -= lines[-1].startswith("ACK")
        return lines

    def read_until(self, word: str) -> list[str]:
        lines = [self.line()]
        while not lines[-1].startswith(word):
            lines.append(self.line())
        return lines

    def kill(self) -> list[str]:
        """SIGKILL, then everything it printed that was not read yet (complete lines only)."""
        self.process.send_signal(signal.SIGKILL)
        rest = self.stdout.read()
        self.process.wait(timeout=10)
        assert self.process.returncode == -signal.SIGKILL
        lines = rest.split("\n")
        return [line for line in lines[:-1] if line]  # the last piece is cut or empty

    def dismiss(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def failure(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()[-3000:]


def check_database(path: Path, expected: Expected, kill: int) -> None:
    where = f"after kill {kill}"
    # Read-only: the WAL the kill left behind is not checkpointed away here, so the next worker
    # opens the database exactly as the killed one left it.
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", where
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], where

        for group_id, members in expected.groups.items():
            stored = {
                r[0]
                for r in conn.execute(
                    "SELECT user_id FROM memberships WHERE group_id = ?", (group_id,)
                )
            }
            assert stored == set(members), f"{where}: members of group {group_id}"

        sessions = {r["id"]: r for r in conn.execute("SELECT * FROM sessions")}
        assert expected.sessions <= set(sessions), f"{where}: an acknowledged session is lost"
        live_groups = [r["group_id"] for r in sessions.values() if r["ended_at"] is None]
        assert len(live_groups) == len(set(live_groups)), f"{where}: two live sessions"
        for session_id, row in sessions.items():
            state = SessionState.model_validate_json(row["state"])
            segments = conn.execute(
                "SELECT COUNT(*) FROM segments WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            if row["ended_at"] is None:
                assert not state.is_ended() and segments == 0, f"{where}: session {session_id}"
            else:
                # The end is one transaction: final state, every segment, the attendance.
                assert state.is_ended(), f"{where}: session {session_id}"
                assert segments == len(state.records), f"{where}: segments of {session_id}"
                attendance = conn.execute(
                    "SELECT COUNT(*) FROM attendance WHERE session_id = ?", (session_id,)
                ).fetchone()[0]
                assert attendance == len(state.presence), f"{where}: attendance of {session_id}"
            acked = expected.states.get(session_id)
            if acked is not None:
                updated, records, ended = acked
                assert int(state.updated_at.timestamp()) >= updated, (
                    f"{where}: session {session_id} lost an acknowledged transition"
                )
                assert len(state.records) >= records, f"{where}: records of {session_id}"
                assert state.is_ended() or not ended, f"{where}: session {session_id} un-ended"

        feedback = {
            (r["session_id"], r["user_id"]): r for r in conn.execute("SELECT * FROM feedback")
        }
        for key, row in feedback.items():
            # Nothing that was never attempted: a rating or form without a DO line is invented.
            if row["rating"] is not None:
                assert key in expected.ratings, f"{where}: rating {key} never attempted"
            if row["comments"]:
                assert key in expected.details, f"{where}: details {key} never attempted"
        for key, ratings in expected.ratings.items():
            rating = feedback[key]["rating"] if key in feedback else None
            if key not in expected.acked_ratings:
                ratings = ratings | {None}  # its only write was cut by the kill
            assert rating in ratings, f"{where}: rating {key} is {rating}, not one of {ratings}"
        for key, tokens in expected.details.items():
            row = feedback.get(key)
            if row is None or not row["comments"]:
                assert key not in expected.acked_details, f"{where}: details {key} lost"
                continue
            assert row["comments"] in tokens, f"{where}: details {key}"
            # The form and its next steps are written together: the steps are the form's lines.
            steps = sorted(
                r[0]
                for r in conn.execute(
                    "SELECT text FROM next_steps WHERE session_id = ? AND owner_id = ?", key
                )
            )
            assert steps == sorted(next_step_lines(row["next_steps"])), f"{where}: steps {key}"
            assert len(steps) == tokens[row["comments"]], f"{where}: step count {key}"


def test_sigkill_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    database = tmp_path / "mm.db"
    rng = random.Random(SEED)
    expected = Expected()
    started = time.monotonic()
    # Workers are started ahead of their turn, so their imports overlap the runs before them.
    ready = deque(Worker(database, run, rng.randrange(2**32)) for run in range(AHEAD))
    wal_left = 0
    try:
        for kill in range(1, KILLS + 1):
            worker = ready.popleft()
            worker.go()
            if kill + AHEAD <= KILLS:
                ready.append(Worker(database, kill + AHEAD - 1, rng.randrange(2**32)))
            lines = worker.read_acks(rng.randint(1, 6))
            if rng.random() < 0.5:
                lines += worker.read_until("DO")  # kill it once the next operation has begun
            lines += worker.kill()
            worker.dismiss()
            expected.read([line.strip() for line in lines])
            wal = database.with_name(database.name + "-wal")
            wal_left += wal.exists() and wal.stat().st_size > 0
            check_database(database, expected, kill)
    finally:
        for worker in ready:
            worker.dismiss()

    elapsed = time.monotonic() - started
    # The runs did real work: sessions were started, resumed after kills and ended, feedback
    # was given, and the next worker had a WAL left by a killed one to recover.
    assert expected.acks >= KILLS * 2
    assert expected.resumed >= KILLS // 2
    assert len(expected.sessions) >= 5
    assert sum(ended for _, _, ended in expected.states.values()) >= 3
    assert expected.acked_ratings and expected.acked_details
    assert expected.kills_mid_operation >= KILLS // 5
    assert wal_left >= KILLS // 2
    print(
        f"{KILLS} kills, {expected.acks} acknowledged writes, {len(expected.sessions)} sessions "
        f"({sum(e for _, _, e in expected.states.values())} ended), {expected.resumed} resumed, "
        f"{len(expected.acked_ratings)} ratings, {len(expected.acked_details)} forms, "
        f"{expected.kills_mid_operation} kills mid-operation, {wal_left} WALs left, "
        f"{elapsed:.1f}s"
    )
