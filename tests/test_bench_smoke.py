"""The benchmarks still run: `python -m bench --quick` at a tiny size, checking the shape of
what it prints and writes, never a timing (that is what `make bench` reports). The PostgreSQL
benchmark runs on its own (it starts a server and bot processes), checked for its figures and
for what it verifies: every hand-over and every effect exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.runner import BENCHMARKS, main


def test_quick_bench_writes_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"
    others = [name for name in BENCHMARKS if name != "postgres"]

    assert main(["--quick", "--out", str(out), *(f"--only={name}" for name in others)]) == 0

    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["quick"] is True
    machine = document["machine"]
    assert {"cpu", "cores", "python"} <= machine.keys() and machine["cores"] >= 1
    names = [b["name"] for b in document["benchmarks"]]
    assert names == others
    for bench in document["benchmarks"]:
        if bench["skipped"]:
            assert bench["name"] == "feedback", bench["skipped"]
            continue
        assert bench["figures"], bench["name"]
        for figure in bench["figures"]:
            assert figure["key"].startswith(bench["name"] + ".")
            assert isinstance(figure["value"], int | float), figure
            assert figure["pass"] in (True, False, None)
            if figure["target"] is not None:
                assert figure["target"]["op"] in ("<", "<=", ">", ">=")
    figures = {f["key"]: f for b in document["benchmarks"] for f in b["figures"]}
    assert figures["rest.per_segment.max"]["target"] == {"op": "<=", "limit": 3}
    assert figures["rest.per_segment.max"]["value"] >= 2  # an announcement and a panel edit
    printed = capsys.readouterr().out
    assert "figure" in printed and "target" in printed and "REST calls per segment" in printed


def test_quick_postgres_bench_runs_both_backends_and_every_process_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"

    assert main(["--quick", "--only", "postgres", "--out", str(out)]) == 0

    (bench,) = json.loads(out.read_text(encoding="utf-8"))["benchmarks"]
    assert bench["name"] == "postgres" and not bench["skipped"], bench["skipped"]
    figures = {f["key"]: f for f in bench["figures"]}
    for figure in figures.values():
        assert isinstance(figure["value"], int | float), figure
    details = bench["details"]
    assert details["server"]["fsync"] == "on"
    for backend in ("sqlite", "postgresql"):
        assert f"postgres.handover20.{backend}.p99_ms" in figures
        assert f"postgres.ratings.{backend}.per_s" in figures
        assert details[f"handover-{backend}-20"]["missed"] == 0
    for plan in ("sqlite_1proc", "pg_1proc", "pg_2shards", "pg_same_shard"):
        assert figures[f"postgres.burst10.{plan}.not_exactly_once"]["value"] == 0, plan
        run = details[f"burst-{plan}-10"]
        assert run["exactly_once"] and run["outbox_rows"] == run["expected_rows"] > 0, run
    two = details["burst-pg_2shards-10"]
    assert two["adopted"] == [5, 5] and two["stale_by_process"] == [0, 0]
    assert sorted(two["delivered_by_process"]) == ["w0", "w1"]
    same = details["burst-pg_same_shard-10"]
    assert same["adopted"] == [10, 10] and sum(same["stale_by_process"]) == 10
    assert "2 shard processes" in capsys.readouterr().out
