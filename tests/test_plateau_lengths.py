"""The plateau of chapter 4: iteration counts against exact rational iteration."""

from fractions import Fraction

import numpy as np
import pytest

import starlib as sl
from oracle_temperature import star_step


def exact_iterations(M, T, d, target):
    """Exact STaR by chain enumeration from p_t = 1/M + d until the accuracy reaches target."""
    p = [Fraction(1, M) + d] * T
    for n in range(100):
        margins = [(M * x - 1) / (M - 1) for x in p]
        if Fraction(1, M) + (1 - Fraction(1, M)) * np.prod(margins) >= target:
            return n
        p = star_step(p, M)
    raise AssertionError("no convergence")


def test_plateau_lengths_match_exact_enumeration():
    offsets = {2: [Fraction(1, 10), Fraction(1, 20)], 3: [Fraction(1, 5), Fraction(1, 10)]}
    got = sl.plateau_lengths(3, {T: [float(x) for x in d] for T, d in offsets.items()}, 0.9, 1000)
    for T, d in offsets.items():
        expected = [exact_iterations(3, T, x, Fraction(9, 10)) for x in d]
        assert got.iterations[T].tolist() == expected
        slope = np.log(expected[1] / expected[0]) / np.log(float(d[1] / d[0]))
        assert abs(got.slopes[T] - slope) < 1e-12


def test_plateau_lengths_slopes_approach_the_theorem():
    got = sl.plateau_lengths(3, {4: [0.05, 0.025, 0.0125]}, 0.9, 10_000)
    assert abs(got.slopes[4] + 2) < 0.1 and np.all(np.diff(got.iterations[4]) > 0)


@pytest.mark.parametrize("call, name", [
    (lambda: sl.plateau_lengths(3, {}, 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, [0.1, 0.2], 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, {1: [0.1, 0.2]}, 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, {2.5: [0.1, 0.2]}, 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, {3: [0.1]}, 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, {3: [0.1, float("nan")]}, 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, {3: [0.1, -0.1]}, 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, {3: [0.1, 0.9]}, 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, {3: "ab"}, 0.9, 10), "offsets"),
    (lambda: sl.plateau_lengths(3, {3: [0.01, 0.02]}, 0.9, 2), "max_iterations"),
    (lambda: sl.plateau_lengths(1, {3: [0.1, 0.2]}, 0.9, 10), "M"),
    (lambda: sl.plateau_lengths(3, {3: [0.1, 0.2]}, 1.5, 10), "target"),
    (lambda: sl.plateau_lengths(3, {3: [0.1, 0.2]}, "0.5", 10), "target"),
    (lambda: sl.plateau_lengths(3, {3: [0.1, 0.2]}, 0.9, -1), "max_iterations"),
])
def test_plateau_lengths_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_plateau_curves_reach_the_target_at_the_counted_iteration():
    got = sl.plateau_lengths(3, {3: [0.1, 0.05], 4: [0.1, 0.05]}, 0.9, 1000,
                             curves_for=4, curve_length=200)
    assert sorted(got.curves) == [0.05, 0.1]
    for d, n in zip(got.offsets[4], got.iterations[4]):
        curve = got.curves[float(d)]
        assert len(curve) == 201 and int(np.argmax(curve >= 0.9)) == n
    assert sl.plateau_lengths(3, {3: [0.1, 0.05]}, 0.9, 1000).curves == {}


@pytest.mark.parametrize("call, name", [
    (lambda: sl.plateau_lengths(3, {3: [0.1, 0.2]}, 0.9, 10, curves_for=4), "curves_for"),
    (lambda: sl.plateau_lengths(3, {1: [0.1, 0.2]}, 0.9, 10, curves_for=True), "curves_for"),
    (lambda: sl.plateau_lengths(3, {3: [0.1, 0.2]}, 0.9, 10, curves_for=3, curve_length=-2),
     "curve_length"),
])
def test_plateau_curves_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()
