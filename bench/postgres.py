"""PostgreSQL beside SQLite, in one run, on a durable server (`bench.pgserver`: fsync on).

1. Hand-over lateness at `Size.postgres_sessions` live sessions, deadlines spread over
   `Size.handover_window` seconds: `bench.handover.measure` as it is, once on a SQLite file
   and once on a fresh PostgreSQL database. Target on PostgreSQL: p99 < 50 ms at 1,000.

2. `Size.postgres_burst` deadlines on the same instant, in real bot processes
   (`bench.shard_worker`: `create_bot`, the session runner's `resume` and its timer
   hand-overs, the outbox dispatcher and its claims), with Discord replaced by a recording
   stand-in in this process, reached over a Unix socket, that accepts each nonce once (a
   repeat is dropped and counted, as Discord's `enforce_nonce` does):
   - SQLite, one process (the file belongs to one process);
   - PostgreSQL, one process running every shard;
   - PostgreSQL, two processes, `shard_count=2`, ids [0] and [1], half the groups each;
   - PostgreSQL, two processes both running every shard (a rolling restart's overlap):
     the compare-and-set on `sessions.version` lets one advance each session, and the loser
     kicks the session's outbox scope at once (`--sweep`), so both race for the claims.
   Figures: when the last hand-over was committed after the instant (target ≤ 250 ms with
   two shard processes), hand-overs committed per second (count ÷ that time), when the last
   effect reached the stand-in, and the check that every hand-over was committed exactly once
   (every session's version moved by one, the outbox holds exactly the rows those
   transitions write) and every outbox row reached the stand-in exactly once.

3. `Size.feedback_submissions` rating clicks at once (`bench.feedback.measure`), on each
   backend: ratings committed per second and the p99 from click to commit.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import feedback, handover
from bench.common import (
    BENCH_GUILD,
    Result,
    Size,
    Target,
    insert_groups,
    insert_sessions,
    next_session_id,
    short_turns_state,
    summary_ms,
)
from bench.pgserver import BenchServer
from core.session import Due, machine
from core.session.outbox import Where, rows
from core.shards import shard_of
from storage import Storage

ROOT = Path(__file__).resolve().parent.parent
HANDOVER_P99_TARGET_MS = 50.0
BURST_COMMITTED_TARGET_MS = 250.0
TARGET_SIZE = 1_000
SHARD_STEP = 1 << 22
"""Adding this to a guild id moves it to the next shard (Discord's `guild_id >> 22`)."""
WAIT = 60.0
"""Seconds any one step of a process run may take before the run is given up."""

BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Plan:
    """One burst run: the processes (`shard_count`, shard ids) and whether losers sweep."""

    key: str
    label: str
    backend: str
    processes: tuple[tuple[int, str], ...]
    sweep: bool = False


PLANS = (
    Plan("sqlite_1proc", "SQLite, 1 process", "sqlite", ((1, "0"),)),
    Plan("pg_1proc", "PostgreSQL, 1 process", "postgresql", ((1, "0"),)),
    Plan("pg_2shards", "PostgreSQL, 2 shard processes", "postgresql", ((2, "0"), (2, "1"))),
    Plan(
        "pg_same_shard",
        "PostgreSQL, 2 processes on the same shards",
        "postgresql",
        ((1, "0"), (1, "0")),
        sweep=True,
    ),
)


@dataclass
class StandIn:
    """Discord as the workers reach it: one message per nonce, repeats dropped and counted."""

    at: datetime
    messages: dict[str, int] = field(default_factory=dict)
    accepted: Counter[int] = field(default_factory=Counter)
    """Per outbox row, the deliveries that made a message (exactly one each is the aim)."""
    by_worker: Counter[str] = field(default_factory=Counter)
    dropped: int = 0
    """Deliveries whose nonce had been seen: a repeat Discord would drop."""
    arrived: list[float] = field(default_factory=list)

    def deliver(self, message: dict[str, Any]) -> int:
        nonce = str(message["nonce"])
        known = self.messages.get(nonce)
        if known is not None:
            self.dropped += 1
            return known
        made = self.messages[nonce] = len(self.messages) + 1
        self.accepted[int(message["row"])] += 1
        self.by_worker[str(message["worker"])] += 1
        self.arrived.append((now_utc() - self.at).total_seconds())
        return made


class Conversation:
    """The parent's side of the workers' socket: orders out, events and deliveries in."""

    def __init__(self, stand_in: StandIn) -> None:
        self.stand_in = stand_in
        self.writers: dict[str, asyncio.StreamWriter] = {}
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            message = json.loads(line)
            if message["op"] == "deliver":
                made = self.stand_in.deliver(message)
                answer = {"op": "delivered", "id": message["id"], "message_id": made}
                writer.write(json.dumps(answer).encode() + b"\n")
                continue
            if message["op"] == "hello":
                self.writers[str(message["worker"])] = writer
            await self.events.put(message)

    def tell(self, message: dict[str, Any]) -> None:
        for writer in self.writers.values():
            writer.write(json.dumps(message).encode() + b"\n")

    async def expect(self, op: str, count: int, within: float) -> list[dict[str, Any]]:
        """`count` events of kind `op` (others seen meanwhile are kept in order)."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while len(got) < count:
            message = await asyncio.wait_for(self.events.get(), deadline - time.monotonic())
            if message["op"] == op:
                got.append(message)
        return got


async def spread_over_shards(storage: Storage, shard_count: int) -> None:
    """Put group k (and its session) on shard k mod `shard_count`."""
    db = storage.db
    for table, column in (("groups", "id"), ("sessions", "group_id")):
        await db.execute(
            f"UPDATE {table} SET guild_id = ? + ({column} - ({column} / ?) * ?) * ?",
            (BENCH_GUILD, shard_count, shard_count, SHARD_STEP),
        )


async def burst_in_processes(
    plan: Plan, count: int, lead: float, make: handover.StorageFactory, folder: Path
) -> dict[str, Any]:
    """One burst run as `plan` says; the details its figures are made of."""
    storage = make(f"burst-{plan.key}")
    await storage.open()
    socket_path = str(folder / f"{plan.key}.sock")
    at = now_utc()
    stand_in = StandIn(at)
    talk = Conversation(stand_in)
    server = await asyncio.start_unix_server(talk.serve, path=socket_path)
    processes: list[asyncio.subprocess.Process] = []
    try:
        group_ids = await insert_groups(storage.db, count, now_utc(), members=4)
        await spread_over_shards(storage, 2)
        groups = await storage.groups.many(group_ids)
        target = _target_of(storage)
        for number, (shard_count, shard_ids) in enumerate(plan.processes):
            command = [sys.executable, "-m", "bench.shard_worker", "--socket", socket_path]
            command += ["--name", f"w{number}", *target, "--shard-count", str(shard_count)]
            command += ["--shard-ids", shard_ids] + (["--sweep"] if plan.sweep else [])
            processes.append(await asyncio.create_subprocess_exec(*command, cwd=ROOT))
        await talk.expect("hello", len(processes), WAIT)
        # The instant is fixed only now, so the processes' start cannot eat the lead.
        first_id = await next_session_id(storage.db)
        at = stand_in.at = now_utc() + timedelta(seconds=lead)
        states = [
            (gid, short_turns_state(first_id + k, gid, at)) for k, gid in enumerate(group_ids)
        ]
        await insert_sessions(storage.db, states)
        await spread_over_shards(storage, 2)
        per_shard = Counter(shard_of(groups[gid].guild_id, 2) for gid in group_ids)
        expected_rows = 0
        for gid, state in states:
            group = groups[gid]
            where = Where(state.session_id, gid, group.guild_id, None, None)
            expected_rows += len(rows(where, machine.apply(state, Due(), at)[1]))
        del states
        talk.tell({"op": "go", "at": at.isoformat()})
        armed = await talk.expect("armed", len(processes), WAIT)
        handled_by = await talk.expect("handled", len(processes), lead + WAIT)
        assert len(handled_by) == len(processes)
        settled = time.monotonic() + WAIT
        while time.monotonic() < settled:
            done = await storage.db.fetch_one(
                "SELECT COUNT(*), SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END) FROM outbox"
            )
            assert done is not None
            if int(done[0]) and int(done[0]) == int(done[1] or 0):
                break
            await asyncio.sleep(0.05)
        talk.tell({"op": "stop"})
        stats = await talk.expect("stats", len(processes), WAIT)
        for process in processes:
            await asyncio.wait_for(process.wait(), WAIT)
        versions = await storage.db.fetch_all(
            "SELECT version, COUNT(*) AS n FROM sessions GROUP BY version ORDER BY version"
        )
        outbox = await storage.db.fetch_all(
            "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state ORDER BY state"
        )
        stored_rows = await storage.db.fetch_all("SELECT id FROM outbox")
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        server.close()
        await server.wait_closed()
        await storage.close()
    committed = [late for stat in stats for late in stat["committed"]]
    by_version = {int(row["version"]): int(row["n"]) for row in versions}
    row_ids = [int(row["id"]) for row in stored_rows]
    once = sum(1 for row_id in row_ids if stand_in.accepted[row_id] == 1)
    last = max(committed, default=0.0)
    return {
        "processes": [{"shard_count": shards, "shard_ids": ids} for shards, ids in plan.processes],
        "sweep": plan.sweep,
        "sessions": count,
        "sessions_per_shard_of_2": dict(sorted(per_shard.items())),
        "head_start_s": round(min(float(a["head"]) for a in armed), 3),
        "setup_overran_lead": min(float(a["head"]) for a in armed) <= 0,
        "adopted": [int(s["adopted"]) for s in stats],
        "committed_by_process": [len(s["committed"]) for s in stats],
        "committed_max_ms_by_process": [
            round(max(s["committed"], default=0.0) * 1000, 1) for s in stats
        ],
        "stale_by_process": [int(s["stale"]) for s in stats],
        "delivered_by_process": dict(sorted(stand_in.by_worker.items())),
        "commits_by_process": [int(s["commits"]) for s in stats],
        "committed": summary_ms(committed),
        "handovers_per_s": round(len(committed) / last) if last > 0 else None,
        "delivered": summary_ms(stand_in.arrived),
        "versions": by_version,
        "each_committed_once": by_version == {1: count} and len(committed) == count,
        "outbox_states": {str(row["state"]): int(row["n"]) for row in outbox},
        "outbox_rows": len(row_ids),
        "expected_rows": expected_rows,
        "rows_delivered_once": once,
        "rows_not_delivered_once": len(row_ids)
        - once
        + sum(1 for row_id in stand_in.accepted if row_id not in set(row_ids)),
        "nonce_repeats_dropped": stand_in.dropped,
        "exactly_once": by_version == {1: count}
        and len(committed) == count
        and len(row_ids) == expected_rows
        and once == len(row_ids) == sum(stand_in.accepted.values()),
    }


def _target_of(storage: Storage) -> list[str]:
    """The worker's arguments naming the database `storage` is on."""
    db: Any = storage.db
    if db.dialect == "postgresql":
        return ["--url", str(db.url)]
    return ["--path", str(db.path)]


def storages(server: BenchServer, folder: Path) -> dict[str, handover.StorageFactory]:
    """A fresh database per measurement, on each backend."""

    def pg(_: str) -> Storage:
        return Storage.from_settings(server.create_database(), "")

    return {"sqlite": handover.sqlite_in(folder), "postgresql": pg}


async def run(size: Size) -> Result:
    result = Result(
        "postgres", "PostgreSQL beside SQLite: hand-overs, shard processes, rating clicks"
    )
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp, BenchServer() as server:
        folder = Path(tmp)
        make = storages(server, folder)
        result.details["server"] = {"version": server.version(), **server.settings}
        count = size.postgres_sessions
        for backend, name in BACKENDS.items():
            lateness = await handover.measure(
                count, size.handover_window, size.handover_lead, make[backend]
            )
            result.details[f"handover-{backend}-{count}"] = lateness
            rendered = lateness["rendered"]
            assert isinstance(rendered, dict)
            pg = backend == "postgresql"
            for stat in ("p50", "p99", "max"):
                target = (
                    Target("<", HANDOVER_P99_TARGET_MS)
                    if pg and stat == "p99" and count == TARGET_SIZE
                    else None
                )
                result.add(
                    f"handover{count}.{backend}.{stat}_ms",
                    f"hand-over lateness {stat}, {count:,} live, {name}",
                    rendered.get(f"{stat}_ms"),
                    "ms",
                    target,
                    note=f"{lateness['missed']} missed" if stat == "p50" else "",
                )
        burst = size.postgres_burst
        lead = size.postgres_lead
        for plan in PLANS:
            data: dict[str, Any] = await burst_in_processes(
                plan, burst, lead, make[plan.backend], folder
            )
            result.details[f"burst-{plan.key}-{burst}"] = data
            committed = data["committed"]
            two_shards = plan.key == "pg_2shards"
            result.add(
                f"burst{burst}.{plan.key}.committed_max_ms",
                f"{burst:,} deadlines at one instant, last committed, {plan.label}",
                committed.get("max_ms"),
                "ms",
                Target("<=", BURST_COMMITTED_TARGET_MS)
                if two_shards and burst == TARGET_SIZE
                else None,
                note=f"p50 {committed.get('p50_ms')} ms; head start {data['head_start_s']} s",
            )
            result.add(
                f"burst{burst}.{plan.key}.handovers_per_s",
                f"hand-overs committed per second, {plan.label}",
                data["handovers_per_s"],
                "/s",
                note=f"{sum(data['commits_by_process'])} commits",
            )
            delivered = data["delivered"]
            result.add(
                f"burst{burst}.{plan.key}.delivered_max_ms",
                f"{burst:,} deadlines at one instant, last effect delivered, {plan.label}",
                delivered.get("max_ms"),
                "ms",
                note=f"{data['outbox_rows']} rows",
            )
            result.add(
                f"burst{burst}.{plan.key}.not_exactly_once",
                f"hand-overs or effects not exactly once, {plan.label}",
                _misses(data),
                "",
                Target("<=", 0),
                note=f"{data['nonce_repeats_dropped']} repeated nonces dropped; "
                f"stale saves {sum(data['stale_by_process'])}",
            )
        for backend, name in BACKENDS.items():
            storage = make[backend](f"feedback-{backend}")
            await storage.open()
            try:
                clicks = await feedback.measure(storage, size.feedback_submissions)
            except feedback.Skipped as why:
                result.details[f"feedback-{backend}"] = {"skipped": str(why)}
                continue
            finally:
                await storage.close()
            result.details[f"feedback-{backend}"] = clicks
            ratings = clicks["ratings"]
            result.add(
                f"ratings.{backend}.per_s",
                f"rating clicks committed per second, {name}",
                ratings["per_s"],
                "/s",
                note=f"{clicks['submissions']:,} at once, {ratings['commits']} commits",
            )
            result.add(
                f"ratings.{backend}.p99_ms",
                f"rating click to committed p99, {name}",
                ratings.get("p99_ms"),
                "ms",
            )
    return result


def _misses(data: dict[str, Any]) -> int:
    """Sessions not advanced exactly once, plus outbox rows not delivered exactly once, plus
    rows written beyond (or short of) what the transitions write."""
    versions = data["versions"]
    sessions = int(data["sessions"])
    advanced_once = int(versions.get(1, 0)) if isinstance(versions, dict) else 0
    surplus = abs(int(data["outbox_rows"]) - int(data["expected_rows"]))
    return (sessions - advanced_once) + int(data["rows_not_delivered_once"]) + surplus
