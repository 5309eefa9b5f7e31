"""Run the benchmarks, print the table, write the results.

`python -m bench [--quick] [--only NAME ...] [--out PATH] [--strict] [--in-process]`.

With `--only`, the file written keeps the other benchmarks' results from the run it held
(each benchmark says when and by which command it was measured).

A full run starts each benchmark in a fresh interpreter (`python -m bench --only NAME
--in-process`), one after the other, so that none is measured with another's leftovers in
memory (they would lengthen every garbage collection) or with its modules half-imported.
`--quick` (and `--in-process`) run everything in this process instead, each benchmark in its
own event loop. The exit status is 1 if a benchmark crashed (or, with `--strict`, missed a
target), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cohorts, feedback, handover, interaction, postgres, rearm, rest_calls
from bench.common import Result, Size, Target, load_average, machine_info, show

Runner = Callable[[Size], Coroutine[Any, Any, Result]]
BENCHMARKS: dict[str, Runner] = {
    "rest": rest_calls.run,
    "handover": handover.run,
    "interaction": interaction.run,
    "rearm": rearm.run,
    "feedback": feedback.run,
    "cohorts": cohorts.run,
    "postgres": postgres.run,
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"
ROOT = Path(__file__).resolve().parent.parent


def crashed(name: str, why: str) -> dict[str, Any]:
    result = Result(name, name, skipped=f"crashed: {why}")
    result.details["crashed"] = True
    return result.as_json()


def run_here(name: str, size: Size) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = asyncio.run(BENCHMARKS[name](size))
    except Exception as error:
        traceback.print_exc()
        return crashed(name, repr(error))
    result.seconds = time.perf_counter() - started
    result.load_after = load_average()
    return result.as_json()


def run_isolated(name: str, size: Size) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp:
        out = Path(tmp) / "one.json"
        command = [sys.executable, "-m", "bench", "--in-process", "--quiet", "--only", name]
        command += ["--out", str(out)]
        if size.quick:
            command.append("--quick")
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
        if not out.exists():
            return crashed(name, f"exit status {done.returncode}, no results")
        benchmarks = json.loads(out.read_text(encoding="utf-8"))["benchmarks"]
        assert isinstance(benchmarks, list) and len(benchmarks) == 1
        return dict(benchmarks[0])


def run_all(
    size: Size, only: list[str] | None, *, isolate: bool, quiet: bool = False
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for name in BENCHMARKS:
        if only and name not in only:
            continue
        if not quiet:
            print(f"· {name} …", file=sys.stderr, flush=True)
        results.append(run_isolated(name, size) if isolate else run_here(name, size))
    return results


def table(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    header = ("figure", "value", "target", "result", "note")
    rows: list[tuple[str, ...]] = []
    for result in results:
        if result["skipped"]:
            rows.append((f"{result['name']}: skipped", "—", "—", "skip", result["skipped"]))
            continue
        for figure in result["figures"]:
            verdict = {True: "pass", False: "FAIL", None: "—"}[figure["pass"]]
            unit = figure["unit"]
            limit = figure["target"]
            target = Target(limit["op"], limit["limit"]).text(unit) if limit else "—"
            rows.append(
                (figure["label"], show(figure["value"], unit), target, verdict, figure["note"])
            )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = [
        f"Machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
        f"SQLite {machine['sqlite']}; load average at start "
        f"{', '.join(str(x) for x in machine['load_average_at_start'])}",
        "",
    ]
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) if i != 1 else row[i].rjust(widths[i]) for i in range(4)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
        if row is header:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def document(
    results: list[dict[str, Any]], machine: dict[str, Any], size: Size, isolated: bool
) -> dict[str, Any]:
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench" + (" --quick" if size.quick else ""),
        "quick": size.quick,
        "isolated": isolated,
        "machine": machine,
        "benchmarks": results,
    }


def merged(path: Path, fresh: dict[str, Any]) -> dict[str, Any]:
    """`fresh` (a run of some benchmarks) over what `path` already holds from a run of the
    same kind (full or quick): the benchmarks run now replace theirs, the others are kept,
    each stamped with the run it comes from."""
    for bench in fresh["benchmarks"]:
        bench["measured_at"] = fresh["created_at"]
        bench["command"] = f"{fresh['command']} --only {bench['name']}"
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return fresh
    if not isinstance(old, dict) or old.get("quick") != fresh["quick"]:
        return fresh
    ran = {bench["name"] for bench in fresh["benchmarks"]}
    kept = [
        {"measured_at": old.get("created_at"), "command": old.get("command"), **bench}
        for bench in old.get("benchmarks", [])
        if bench.get("name") not in ran
    ]
    order = list(BENCHMARKS)
    every = sorted(
        kept + fresh["benchmarks"],
        key=lambda b: order.index(b["name"]) if b["name"] in order else len(order),
    )
    return {**fresh, "command": "merged: see each benchmark's command", "benchmarks": every}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tiny run (smoke, not figures)")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only these (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--in-process", action="store_true", help="do not start one interpreter per benchmark"
    )
    parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    size = Size.quick_run() if args.quick else Size.full()
    isolate = not (args.quick or args.in_process)
    machine = machine_info()
    results = run_all(size, args.only, isolate=isolate, quiet=args.quiet)
    print(table(results, machine))
    written = document(results, machine, size, isolate)
    if args.only:
        written = merged(args.out, written)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}")
    broken = any(r["details"].get("crashed") for r in results)
    missed = any(f["pass"] is False for r in results for f in r["figures"])
    return 1 if broken or (args.strict and missed) else 0
