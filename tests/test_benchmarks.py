"""The benchmark scripts still run (tiny arguments; no assertion on time)."""

import runpy
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize(
    "script, arguments, expected",
    [
        (
            "theory.py",
            ["--batch", "1000", "--iterations", "5", "--repeats", "1"],
            ["batch 1000 x T = 8, M = 4, 5 iterations", "ratio per iteration / floor"],
        ),
        (
            "sampling.py",
            ["--chains", "1000", "--repeats", "1"],
            ["1000 chains, T = 8, M = 64", "ratio / floor", "sample_chains target:", "star_step_mc target:"],
        ),
    ],
)
def test_benchmark_runs_with_tiny_arguments(script, arguments, expected, monkeypatch, capsys):
    path = BENCHMARKS / script
    monkeypatch.setattr(sys, "argv", [str(path), *arguments])
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as `python benchmarks/SCRIPT` would
    runpy.run_path(str(path), run_name="__main__")
    output = capsys.readouterr().out
    for line in expected:
        assert line in output
