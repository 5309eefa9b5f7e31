"""The outbox's dispatcher killed with SIGKILL at random points, 50 times, on one database.

A worker subprocess (`outbox_worker.py`) runs session transitions and delivers their effects
through the real outbox to a Discord stand-in that lives here, in the test process: every
delivery is a request over the worker's stdout, answered on its stdin. The stand-in dedupes
creates by nonce, as Discord does with `enforce_nonce`. The test kills the worker after a
seeded number of lines, sometimes while a request is in flight (the stand-in has it, the
worker never hears back). The next worker continues from the database and delivers what is
left. After a last worker drains the outbox: every committed row was delivered exactly once
(counting the dedupe), in order within its session, with the message id the stand-in gave;
nothing that was not committed was delivered.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from collections import deque
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.outbox import nonce
from tests.fault.test_sigkill import AHEAD, Worker

WORKER = Path(__file__).with_name("outbox_worker.py")
KILLS = 50
SEED = 20260102

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


@dataclass
class StandIn:
    """Discord, as far as creates go: one message per nonce, whatever the retries."""

    messages: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    """nonce -> (message id, row id, kind) of the message it created."""
    order: list[str] = field(default_factory=list)
    requests: int = 0
    deduped: int = 0
    in_flight_kills: int = 0

    def post(self, line: str) -> int:
        _, sent_nonce, row_id, kind = line.split()
        self.requests += 1
        if sent_nonce in self.messages:
            self.deduped += 1
            return self.messages[sent_nonce][0]
        message_id = 10_000 + len(self.messages)
        self.messages[sent_nonce] = (message_id, int(row_id), kind)
        self.order.append(sent_nonce)
        return message_id


class OutboxWorker(Worker):
    def __init__(self, database: Path, run: int, seed: int, *, drain: bool = False) -> None:
        super().__init__(database, run, seed, script=WORKER, args=("drain",) if drain else ())

    def answer(self, message_id: int) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"MSG {message_id}\n")
        self.process.stdin.flush()

    def serve(self, stand_in: StandIn, lines: int | None) -> bool:
        """Answer requests for `lines` lines (or until DRAINED); True when killed in flight."""
        seen = 0
        while lines is None or seen < lines:
            line = self.line().strip()
            seen += 1
            if line == "DRAINED":
                return False
            if line.startswith("POST"):
                message_id = stand_in.post(line)
                if lines is not None and seen == lines:
                    return True  # Discord has it; the worker never hears back
                self.answer(message_id)
        return False


def check(path: Path, stand_in: StandIn) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = {r["id"]: r for r in conn.execute("SELECT * FROM outbox")}
    assert rows, "no effect was ever committed"
    # Drained: every committed row was delivered (nothing was given up or dropped here).
    assert {r["state"] for r in rows.values()} == {"done"}
    for row_id, row in rows.items():
        delivered = stand_in.messages.get(nonce(row_id))
        assert delivered is not None, f"row {row_id} ({row['kind']}) was never delivered"
        message_id, sent_row, kind = delivered
        assert (sent_row, kind) == (row_id, row["kind"]), f"row {row_id} is not what was sent"
        assert row["message_id"] == message_id, f"row {row_id} kept another message id"
    # Nothing uncommitted: every message the stand-in created is a committed row's.
    assert {sent for _, sent, _ in stand_in.messages.values()} == set(rows)
    # In order within each session.
    by_scope: dict[str, list[int]] = {}
    for sent_nonce in stand_in.order:
        row_id = stand_in.messages[sent_nonce][1]
        by_scope.setdefault(rows[row_id]["scope"], []).append(row_id)
    for scope, ids in by_scope.items():
        assert ids == sorted(ids), f"{scope} delivered out of order"
    return {"rows": len(rows), "scopes": len(by_scope)}


def test_sigkill_delivers_every_committed_effect_exactly_once(tmp_path: Path) -> None:
    database = tmp_path / "mm.db"
    rng = random.Random(SEED)
    stand_in = StandIn()
    started = time.monotonic()
    ready = deque(OutboxWorker(database, run, rng.randrange(2**32)) for run in range(AHEAD))
    try:
        for kill in range(1, KILLS + 1):
            worker = ready.popleft()
            worker.go()
            if kill + AHEAD <= KILLS:
                ready.append(OutboxWorker(database, kill + AHEAD - 1, rng.randrange(2**32)))
            in_flight = worker.serve(stand_in, rng.randint(2, 40))
            stand_in.in_flight_kills += in_flight
            worker.kill()
            worker.dismiss()
        last = OutboxWorker(database, KILLS, rng.randrange(2**32), drain=True)
        try:
            last.go()
            last.serve(stand_in, None)
        finally:
            last.dismiss()
    finally:
        for worker in ready:
            worker.dismiss()
    figures = check(database, stand_in)
    # The runs did real work: many effects, kills with a request in flight, and Discord's
    # dedupe dropped the retries of creates that had landed.
    assert figures["rows"] >= KILLS * 2 and figures["scopes"] >= 5
    assert stand_in.in_flight_kills >= KILLS // 10
    assert stand_in.deduped >= 1
    print(
        f"{KILLS} kills, {figures['rows']} rows in {figures['scopes']} sessions, "
        f"{stand_in.requests} requests, {stand_in.deduped} deduped by nonce, "
        f"{stand_in.in_flight_kills} kills in flight, {time.monotonic() - started:.1f}s"
    )
