"""The benchmarks still run: `python -m bench --quick` at a tiny size, checking the shape of
what it prints and writes, never a timing (that is what `make bench` reports)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.runner import BENCHMARKS, main


def test_quick_bench_writes_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"

    assert main(["--quick", "--out", str(out)]) == 0

    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["quick"] is True
    machine = document["machine"]
    assert {"cpu", "cores", "python"} <= machine.keys() and machine["cores"] >= 1
    names = [b["name"] for b in document["benchmarks"]]
    assert names == list(BENCHMARKS)
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
