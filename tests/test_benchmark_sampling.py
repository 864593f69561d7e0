"""benchmarks/sampling.py still runs (tiny arguments; no assertion on time)."""

import runpy
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "sampling.py"


def test_sampling_benchmark_runs_with_tiny_arguments(monkeypatch, capsys):
    argv = [str(BENCHMARK), "--chains", "1000", "--repeats", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.syspath_prepend(str(BENCHMARK.parent))  # as `python benchmarks/...` would
    runpy.run_path(str(BENCHMARK), run_name="__main__")
    output = capsys.readouterr().out
    assert "1000 chains, T = 8, M = 64" in output
    assert "ratio / floor" in output
    assert "sample_chains target:" in output and "star_step_mc target:" in output
