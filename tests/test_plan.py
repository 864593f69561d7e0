"""python -m starlib.plan: the exact map as a planning tool, against starlib's map and for bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

import starlib as sl
from starlib import plan

import exact_reference as ref


def test_forecast_is_the_exact_tied_map():
    p0, M = [0.1156, 0.1156, 0.1156], 64
    forecast = plan.plan(p0, M, 1.0, 0.9)
    n = forecast["iterations_to_target"]
    assert n == int(sl.iterations_to_accuracy(np.array(p0), M, 0.9, 30))
    assert len(forecast["accuracy"]) == n + 1
    trajectory = sl.star_iterates(np.array(p0), M, n)
    assert np.allclose(forecast["follow"], trajectory)
    assert np.allclose(forecast["accuracy"], sl.accuracy(trajectory, M))
    assert forecast["accuracy"][n] >= 0.9 > forecast["accuracy"][n - 1]


def test_forecast_against_enumeration_at_a_temperature():
    """Small M and T: the follow rates and kept-wrong rates by enumerating every chain."""
    p0, M = [0.4, 0.3], 3
    forecast = plan.plan(p0, M, 0.5, None, max_iterations=3)
    p = p0
    for n in range(4):
        assert forecast["follow"][n] == pytest.approx(p, abs=1e-12)
        assert forecast["accuracy"][n] == pytest.approx(float(ref.accuracy(ref.tied_kernel(p, M), ref.identity_g(2, M), [1 / M] * M)))
        sampled = [float(x) for x in sl.tempered(np.array(p), M, 0.5)]
        assert forecast["kept_wrong_rate"][n] == pytest.approx(ref.kept_wrong_rate(sampled, M), abs=1e-12)
        p = ref.tied_star_step(p, M, power=2)
    assert forecast["iterations_to_target"] is None


def test_samples_add_chapter_sevens_forecasts():
    p0, M, N = [0.2, 0.2, 0.2], 64, 1000
    forecast = plan.plan(p0, M, 1.0, 0.9, samples=N)
    assert forecast["collapse_probability"][0] == pytest.approx(list(sl.collapse_probability(np.array(p0), M, N)))
    assert forecast["refit_sd"][0] == pytest.approx(list(np.sqrt(sl.star_step_mc_variance(np.array(p0), M, N))))
    assert forecast["escape_samples"] == pytest.approx(float(sl.escape_samples(float(sl.margin(0.2, M)), M, 3)))
    assert len(forecast["collapse_probability"]) == len(forecast["accuracy"])


def test_command_line_json_and_table():
    args = [sys.executable, "-m", "starlib.plan", "--M", "64", "--follow", "0.1156,0.1156,0.1156",
            "--temperature", "1.0", "--target", "0.9"]
    done = subprocess.run(args + ["--json"], capture_output=True, text=True)
    assert done.returncode == 0
    forecast = json.loads(done.stdout)
    assert forecast == json.loads(json.dumps(plan.plan([0.1156] * 3, 64, 1.0, 0.9)))
    assert {"accuracy", "iterations_to_target", "follow", "kept_wrong_rate"} <= set(forecast)
    table = subprocess.run(args + ["--samples", "4096"], capture_output=True, text=True)
    assert table.returncode == 0 and "iterations to accuracy 0.9: 4" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80


@pytest.mark.parametrize("args, word", [
    (["--M", "64", "--follow", "0.1,x"], "--follow"),
    (["--M", "1", "--follow", "0.5"], "M"),
    (["--M", "64", "--follow", "1.5"], "follow"),
    (["--M", "64", "--follow", "nan"], "follow"),
    (["--M", "64", "--follow", "0.1", "--temperature", "0"], "temperature"),
    (["--M", "64", "--follow", "0.1", "--target", "2"], "target"),
    (["--M", "64", "--follow", "0.1", "--samples", "0"], "samples"),
    (["--M", "64", "--follow", "0.1", "--max-iterations", "-1"], "max_iterations"),
    (["--M", "64", "--follow", "0.0"], "keeps no chain"),
    (["--follow", "0.1"], "--M"),
])
def test_bad_arguments_get_one_line_and_exit_2(args, word):
    done = subprocess.run([sys.executable, "-m", "starlib.plan", *args], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and word in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("kwargs, word", [
    (dict(follow=[[0.1]], M=64), "follow"),
    (dict(follow=[0.1], M=64.0), "M"),
    (dict(follow=[0.1], M=64, samples=1.5), "samples"),
])
def test_plan_names_its_bad_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        plan.plan(**kwargs)
    with pytest.raises(ValueError, match="forecast"):
        plan.format_plan([1, 2])
