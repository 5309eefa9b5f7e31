"""Benchmarks of the Mastermind bot: `python -m bench` (or `make bench`) prints a table of
figures with their targets and writes `bench/results.json`; `--quick` runs everything at a
tiny size (a smoke run, not a measurement).

Each benchmark is a module with `async def run(size: Size) -> Result`:

- `bench.rest_calls` — REST calls per segment and per hour of a real `standard` meeting driven
  through the real bot in SimCord (virtual time), against a naive 5-second countdown design.
- `bench.handover` — lateness of timer-driven hand-overs at their deadlines with 100, 1,000
  and 5,000 live sessions in one process, on the real clock and a real SQLite database.
- `bench.interaction` — time to answer a panel button press in SimCord, with 0 and 1,000
  other live sessions.
- `bench.rearm` — start-up re-arm time and memory per live session, for 1,000 and 5,000.
- `bench.feedback` — feedback submissions committed to SQLite per second.
- `bench.postgres` — the hand-over, shard-process and rating figures on a durable PostgreSQL
  server (`bench.pgserver`) beside SQLite's, with real bot processes (`bench.shard_worker`).
"""
