"""Tests of the Chapter 4 helpers: iterations_to_accuracy and star_limit.

They are checked against explicit iteration: the exact map in rational
arithmetic (starlib.star_step on Fractions, itself checked against brute-force
enumeration in test_theory_exact.py) and the float map one step at a time.
The margins and accuracy written out here are the definitions, not starlib's code.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

import exact_reference as ref
import starlib as sl


def exact_accuracy(p, M):
    margins = [(M * x - 1) / Fraction(M - 1) for x in p]
    return Fraction(1, M) + (1 - Fraction(1, M)) * math.prod(margins)


def exact_iterations(p0, M, target, max_iterations):
    """Iterate the exact rational map; None where the accuracy is within 1e-9 of the target."""
    p = [Fraction(x) for x in p0]
    for n in range(max_iterations + 1):
        A = exact_accuracy(p, M)
        if abs(A - target) < Fraction(1, 10**9):
            return None
        if A >= target:
            return n
        p = sl.star_step(p, M)
        p = [x.limit_denominator(10**30) for x in p]  # keep the rationals small; error < 1e-30
    return -1


def test_iterations_match_exact_iteration():
    rng = np.random.default_rng(4)
    checked = 0
    for _ in range(120):
        M, T = int(rng.integers(2, 6)), int(rng.integers(1, 5))
        p0 = rng.uniform(1 / M, 1, size=T)
        target = float(rng.choice([0.6, 0.9, 0.99]))
        expected = exact_iterations(p0, M, Fraction(target), 40)
        if expected is None:
            continue
        assert sl.iterations_to_accuracy(p0, M, target, 40) == expected
        checked += 1
    assert checked > 100


def test_iterations_batch_equals_one_by_one():
    rng = np.random.default_rng(5)
    p0 = rng.uniform(0.3, 1, size=(4, 5, 3))
    batch = sl.iterations_to_accuracy(p0, 3, 0.95, 200)
    assert batch.shape == (4, 5) and batch.dtype == np.int64
    for i in range(4):
        for j in range(5):
            assert batch[i, j] == sl.iterations_to_accuracy(p0[i, j], 3, 0.95, 200)


def test_iterations_by_hand():
    # M = 3, p = (1/2, 2/3): accuracy 5/12, then p = (4/5, 4/5) with accuracy 33/50 (Chapter 1).
    assert exact_accuracy([Fraction(4, 5)] * 2, 3) == Fraction(33, 50)
    assert sl.iterations_to_accuracy([0.5, 2 / 3], 3, 0.4, 10) == 0
    assert sl.iterations_to_accuracy([0.5, 2 / 3], 3, 0.6, 10) == 1
    assert isinstance(sl.iterations_to_accuracy([0.5, 2 / 3], 3, 0.6, 10), int)
    # T = 1 reaches 1 in one iteration from any p > 0.
    assert np.all(sl.iterations_to_accuracy([[0.01], [0.5]], 4, 1.0, 5) == 1)


def test_iterations_not_reached_is_minus_one():
    # Two steps at chance: a fixed point, the accuracy stays 1/3.
    assert sl.iterations_to_accuracy([1 / 3, 1 / 3, 0.9], 3, 0.5, 50) == -1
    # The spurious fixed point (0, 0, 1) has accuracy 1/2 < 0.9.
    assert sl.iterations_to_accuracy([0.2, 0.2, 0.5], 3, 0.9, 500) == -1
    # A budget of 0 iterations only looks at p0.
    assert sl.iterations_to_accuracy([0.5, 0.5], 3, 0.9, 0) == -1


def test_iterations_plateau_reference():
    d = np.array([0.1, 0.05, 0.025, 0.0125])
    p0 = np.repeat(1 / 3 + d[:, None], 3, axis=1)
    assert sl.iterations_to_accuracy(p0, 3, 0.9, 1000).tolist() == [8, 15, 28, 55]


def test_iterations_with_temperature_follow_tempered_map():
    p0 = np.array([0.45, 0.5, 0.6])
    n = sl.iterations_to_accuracy(p0, 4, 0.99, 100, temperature=0.5)
    p = p0
    for k in range(n):
        assert sl.accuracy(p, 4) < 0.99
        p = sl.star_step(p, 4, temperature=0.5)
    assert sl.accuracy(p, 4) >= 0.99


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(p0=[0.5, 1.2], M=3, target=0.9, max_iterations=5), "p0"),
        (dict(p0=[0.5, 0.5], M=1, target=0.9, max_iterations=5), "M"),
        (dict(p0=[0.5, 0.5], M=3, target=0.0, max_iterations=5), "target"),
        (dict(p0=[0.5, 0.5], M=3, target=1.5, max_iterations=5), "target"),
        (dict(p0=[0.5, 0.5], M=3, target=[0.9, 0.8], max_iterations=5), "target"),
        (dict(p0=[0.5, 0.5], M=3, target=0.9, max_iterations=-1), "max_iterations"),
        (dict(p0=[0.5, 0.5], M=3, target=0.9, max_iterations=2.5), "max_iterations"),
        (dict(p0=[0.5, 0.5], M=3, target=0.9, max_iterations=5, temperature=0), "temperature"),
    ],
)
def test_iterations_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        sl.iterations_to_accuracy(**kwargs)


def test_iterations_no_kept_chains():
    with pytest.raises(sl.NoKeptChainsError):
        sl.iterations_to_accuracy([0.0], 3, 0.9, 5)


def test_star_limit_matches_explicit_float_iteration():
    rng = np.random.default_rng(6)
    p0 = rng.uniform(0, 1, size=(50, 3))
    result = sl.star_limit(p0, 3, max_iterations=300, tol=1e-13)
    for i in range(50):
        p, k = p0[i], 0
        while True:
            new = sl.star_step(p, 3)
            k += 1
            if np.max(np.abs(new - p)) <= 1e-13 or k == 300:
                p = new
                break
            p = new
        assert result.iterations[i] == k
        assert np.array_equal(result.point[i], p)
        assert result.accuracy[i] == sl.accuracy(p, 3)
        assert result.converged[i] == (np.max(np.abs(sl.star_step(p, 3) - p)) <= 1e-13 or k < 300)


def test_star_limit_fixed_points_and_examples():
    # Fixed points stop after one iteration, exactly where they are.
    for p in ([1 / 3, 1 / 3], [1 / 3, 1 / 3, 0.8], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]):
        result = sl.star_limit(p, 3)
        assert result.iterations == 1 and result.converged
        assert np.allclose(result.point, p, rtol=0, atol=1e-15)
    # Beyond the paper: M = 3, p = (0.2, 0.2, 0.5) settles at (0, 0, 1) with accuracy 1/2.
    result = sl.star_limit([0.2, 0.2, 0.5], 3)
    assert result.converged and np.allclose(result.point, [0, 0, 1], atol=1e-11)
    assert abs(result.accuracy - 0.5) < 1e-11
    assert exact_accuracy([0, 0, 1], 3) == Fraction(1, 2)
    # M = 2: two always-wrong steps compensate, accuracy 1.
    result = sl.star_limit([0.2, 0.3], 2)
    assert result.converged and np.allclose(result.point, [0, 0], atol=1e-12) and result.accuracy == 1.0


def test_vertices_are_fixed_points_exactly():
    # Every vertex with non-zero accuracy is a fixed point of the exact map (brute force, M = 3, T = 3).
    M = 3
    for vertex in np.ndindex(2, 2, 2):
        p = [Fraction(v) for v in vertex]
        if exact_accuracy(p, M) == 0:
            assert sum(v == 0 for v in vertex) == 1
            continue
        assert ref.tied_star_step(p, M) == p


def test_star_limit_budget_and_shapes():
    result = sl.star_limit(np.full((2, 3, 4), 0.34), 3, max_iterations=7)
    assert result.point.shape == (2, 3, 4) and result.iterations.shape == (2, 3)
    assert np.all(result.iterations == 7) and not result.converged.any()
    single = sl.star_limit([0.5, 0.9], 3)
    assert isinstance(single.iterations, int) and isinstance(single.accuracy, float)
    assert isinstance(single.converged, bool)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(p0=[-0.1, 0.5], M=3), "p0"),
        (dict(p0=[0.5, 0.5], M=2.5), "M"),
        (dict(p0=[0.5, 0.5], M=3, max_iterations=-2), "max_iterations"),
        (dict(p0=[0.5, 0.5], M=3, tol=-1.0), "tol"),
        (dict(p0=[0.5, 0.5], M=3, tol=float("nan")), "tol"),
    ],
)
def test_star_limit_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        sl.star_limit(**kwargs)
