"""benchmarks/theory.py still runs (tiny arguments; no assertion on time)."""

import runpy
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "theory.py"


def test_theory_benchmark_runs_with_tiny_arguments(monkeypatch, capsys):
    argv = [str(BENCHMARK), "--batch", "1000", "--iterations", "5", "--repeats", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.syspath_prepend(str(BENCHMARK.parent))  # as `python benchmarks/...` would
    runpy.run_path(str(BENCHMARK), run_name="__main__")
    output = capsys.readouterr().out
    assert "batch 1000 x T = 8, M = 4, 5 iterations" in output
    assert "ratio per iteration / floor" in output
