"""Tests of the helpers behind the checks of the chapters "Convergence" and "Finite samples".

The exact refit law is compared with oracle_finite_samples.py, which enumerates every n-tuple of
chains in rational arithmetic without importing starlib; the quadratic recurrence's iteration count
with the recurrence iterated in Fractions. The Monte Carlo helpers are checked for their
bookkeeping, and every public function for bad input.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

import oracle_finite_samples as oracle
import starlib as sl


@pytest.mark.parametrize("M, p, n", [
    (2, [Fraction(1, 2)], 3),
    (2, [Fraction(3, 10), Fraction(4, 5)], 2),
    (3, [Fraction(1, 2), Fraction(1, 5)], 2),
    (2, [Fraction(7, 10), Fraction(2, 5)], 3),
    (3, [Fraction(2, 3)], 3),
])
def test_exact_estimate_moments_matches_tuple_enumeration(M, p, n):
    rng = np.random.default_rng(len(p) * 10 + n)
    g = [list(rng.permutation(M)) for _ in p]
    got = sl.exact_estimate_moments(p, M, n, g=g)
    means, variances, zero, kept_any = oracle.refit_law(p, M, n, g)
    assert got.mean == means and got.variance == variances and got.no_follow == zero
    assert 1 - (1 - got.accuracy) ** n == kept_any
    # the mean inverse kept count, by its definition
    pmf = [math.comb(n, k) * got.accuracy**k * (1 - got.accuracy) ** (n - k) for k in range(n + 1)]
    assert got.mean_inverse_kept == sum(w / k for k, w in enumerate(pmf) if k) / kept_any


def test_exact_estimate_moments_bad_input():
    with pytest.raises(ValueError, match="n"):
        sl.exact_estimate_moments([Fraction(1, 2)], 2, 0)
    with pytest.raises(ValueError, match="n"):
        sl.exact_estimate_moments([Fraction(1, 2)], 2, 41)
    with pytest.raises(ValueError, match="p"):
        sl.exact_estimate_moments([Fraction(3, 2)], 2, 2)
    with pytest.raises(ValueError, match="M"):
        sl.exact_estimate_moments([Fraction(1, 2)], 1, 2)
    with pytest.raises(ValueError):
        sl.exact_estimate_moments([Fraction(1, 2)] * 6, 10, 2)  # too many chains to enumerate


@pytest.mark.parametrize("M, T", [(3, 3), (64, 3), (10, 5), (2, 2), (16, 8), (100, 2)])
def test_quadratic_recurrence_iterations_against_fraction_recurrence(M, T):
    for eps0 in (Fraction(1, 20), Fraction(1, 10), Fraction(1, 50)):
        if Fraction(T - 1, M - 1) * eps0 >= 1 or eps0 >= 1 - Fraction(1, M):
            continue
        for k in (3, 6, 10, 20, 50, 100):
            target = Fraction(1, 10**k)
            expected = oracle.recurrence_iterations(eps0, M, T, target)
            assert sl.quadratic_recurrence_iterations(float(eps0), M, T, float(target)) == expected
    assert sl.quadratic_recurrence_iterations(0.05, M, T, 0.5) == 0


def test_quadratic_recurrence_iterations_bad_input():
    for bad in (float("nan"), -0.1, 0.0, 0.9, [0.1, 0.2]):
        with pytest.raises(ValueError, match="eps0"):
            sl.quadratic_recurrence_iterations(bad, 3, 3, 1e-6)
    with pytest.raises(ValueError, match="target"):
        sl.quadratic_recurrence_iterations(0.1, 3, 3, 0.0)
    with pytest.raises(ValueError, match="T"):
        sl.quadratic_recurrence_iterations(0.1, 3, 1, 1e-6)
    with pytest.raises(ValueError, match="c eps0"):
        sl.quadratic_recurrence_iterations(0.45, 2, 10, 1e-6)


def test_quadratic_convergence_against_exact_map_in_fractions():
    run = sl.quadratic_convergence(0.1, 5, 3, floor=1e-30)
    eps = [Fraction(1, 10)] * 3
    for row in run.errors[1:4]:
        p = sl.star_step([1 - e for e in eps], 5)
        eps = [1 - x for x in p]
        assert np.allclose(row, [float(e) for e in eps], rtol=1e-12, atol=0)
    assert run.errors[-1].max() <= 1e-30 < run.errors[-2].max()
    c = 2 / 4
    assert np.allclose(run.log10_recurrence, np.log10([float((Fraction(1, 10) * Fraction(1, 2)) ** (2**k) / Fraction(1, 2))
                                                       for k in range(len(run.errors))]), rtol=1e-12)
    digits = -np.log10(run.errors[:, 0])
    assert np.allclose(run.digit_ratio, digits[1:] / digits[:-1])
    assert c == 0.5


def test_quadratic_convergence_bad_input():
    with pytest.raises(ValueError, match="floor"):
        sl.quadratic_convergence(0.1, 5, 3, floor=0.0)
    with pytest.raises(ValueError, match="max_iterations"):
        sl.quadratic_convergence(0.1, 5, 3, max_iterations=0)
    with pytest.raises(ValueError, match="eps0"):
        sl.quadratic_convergence(float("inf"), 5, 3)


def test_false_alarm_probability():
    alarm = sl.false_alarm_probability(236, 4.5)
    assert alarm.per_test == pytest.approx(6.795346e-06, rel=1e-6)
    assert alarm.union_bound == pytest.approx(236 * alarm.per_test)
    assert alarm.independent == pytest.approx(1 - (1 - alarm.per_test) ** 236, rel=1e-12)
    assert alarm.independent <= alarm.union_bound
    assert sl.false_alarm_probability(10**9, 1.0).union_bound == 1.0
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="tests"):
            sl.false_alarm_probability(bad, 4.5)
    for bad in (0.0, -1.0, float("nan"), float("inf"), "4"):
        with pytest.raises(ValueError, match="threshold"):
            sl.false_alarm_probability(10, bad)


def test_iterations_to_exact_optimum_bookkeeping():
    p0 = np.full(3, sl.prob_from_margin(0.5, 64))
    hit = sl.iterations_to_exact_optimum(p0, 64, 256, 10, 50, np.random.default_rng(1))
    again = sl.star_iterates_mc(np.broadcast_to(p0, (50, 3)), 64, 256, 10, np.random.default_rng(1))
    for r in range(50):
        at_one = [k for k in range(11) if np.all(again[k, r] == 1.0)]
        assert hit.first[r] == (at_one[0] if at_one else -1)
        if at_one:  # once at the optimum, a run stays there
            assert all(np.all(again[k, r] == 1.0) for k in range(at_one[0], 11))
        errors = 1 - again[1:, r]
        assert hit.smallest_error[r] == (errors[errors > 0].min() if (errors > 0).any() else np.inf)
        assert hit.smallest_error[r] * 256 >= 1 - 1e-9
    with pytest.raises(ValueError, match="runs"):
        sl.iterations_to_exact_optimum(p0, 64, 256, 10, 0, np.random.default_rng(1))
    with pytest.raises(ValueError, match="rng"):
        sl.iterations_to_exact_optimum(p0, 64, 256, 10, 5, 7)


def test_step_moment_z_scores():
    p = sl.prob_from_margin(np.array([0.3, 0.5]), 8)
    check = sl.step_moment_z_scores(p, 8, 256, 3000, np.random.default_rng(4))
    assert check.z_mean.shape == (2,) and np.all(check.z_mean < 4.5) and np.all(check.z_variance < 4.5)
    assert not check.certain.any() and 0 < check.kept_runs <= 3000
    certain = sl.step_moment_z_scores([0.4], 3, 50, 200, np.random.default_rng(0))
    assert certain.certain.all() and certain.z_mean[0] == 0 and certain.leading_gap[0] == 0
    with pytest.raises(ValueError, match="runs"):
        sl.step_moment_z_scores([0.34, 0.34, 0.34], 1000, 1, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="p"):
        sl.step_moment_z_scores([[0.5]], 3, 10, 10, np.random.default_rng(0))


def test_wrong_way_rates():
    p = np.full(3, sl.prob_from_margin(0.2, 64))
    w = sl.wrong_way_rates(p, 64, 4096, 4000, np.random.default_rng(2))
    assert w.measured.shape == (3,) and np.all(np.abs(w.measured - w.normal) < 0.02)
    assert w.mean_kept == pytest.approx(4096 * sl.accuracy(p, 64))
    assert 0 <= w.accuracy_falls <= 1
    assert w.kept_runs == 4000  # n A = 96: every run keeps a chain
    assert np.allclose(w.standard_error, np.sqrt(w.measured * (1 - w.measured) / 4000))
    few = sl.wrong_way_rates(np.full(2, sl.prob_from_margin(0.3, 64)), 64, 8, 2000,
                             np.random.default_rng(3))
    # n = 8 chains at accuracy 0.104: about 41% of the runs keep none and are left out
    assert abs(few.kept_runs / 2000 - (1 - (1 - sl.accuracy(np.full(2, sl.prob_from_margin(0.3, 64)), 64)) ** 8)) < 0.05
    with pytest.raises(ValueError, match="runs"):
        sl.wrong_way_rates(p, 64, 10, 0, np.random.default_rng(2))


def test_first_matching_run_and_bands():
    p0 = np.full(2, sl.prob_from_margin(0.3, 5))
    found = sl.first_matching_run(p0, 5, 20, 3, lambda run: run[1, 0] > run[0, 0])
    for seed in range(found.seed):
        assert not sl.star_iterates_mc(p0, 5, 20, 3, np.random.default_rng(seed))[1, 0] > p0[0]
    assert np.array_equal(found.run, sl.star_iterates_mc(p0, 5, 20, 3, np.random.default_rng(found.seed)))
    with pytest.raises(ValueError, match="no seed"):
        sl.first_matching_run(p0, 5, 20, 3, lambda run: False, seeds=3)
    with pytest.raises(ValueError, match="condition"):
        sl.first_matching_run(p0, 5, 20, 3, "yes")
    bands = sl.accuracy_bands(p0, 5, (16, 64), 4, 30, seed=3)
    assert bands.curves.shape == (2, 5, 30) and bands.exact.shape == (5,)
    assert np.array_equal(bands.curves[1], sl.accuracy_runs(p0, 5, 64, 4, 30, np.random.default_rng(67)))
    with pytest.raises(ValueError, match="sizes"):
        sl.accuracy_bands(p0, 5, (), 4, 30, seed=3)
    with pytest.raises(ValueError, match="seed"):
        sl.accuracy_bands(p0, 5, (16,), 4, 30, seed=-1)


def test_one_step_and_measure_escape():
    assert sl.one_step_escape_samples(0.1, 64, 3) == pytest.approx(64 / 63 * 1e4)
    assert np.allclose(sl.one_step_escape_samples(np.array([0.1, 0.2]), 3, 2), 1.5 / np.array([0.01, 0.04]))
    for bad in (0.0, -0.1, float("nan"), 1.5):
        with pytest.raises(ValueError, match="delta0"):
            sl.one_step_escape_samples(bad, 64, 3)
    with pytest.raises(ValueError, match="T"):
        sl.one_step_escape_samples(0.1, 64, 0)
    row = sl.measure_escape(0.3, 8, 2, 0.5, 50, np.random.default_rng(0))
    assert row.budget == 2 * row.exact_iterations and row.grid_start < row.measured
    assert row.predicted == pytest.approx(sl.escape_samples(0.3, 8, 2))
    with pytest.raises(ValueError, match="T"):
        sl.measure_escape(0.3, 8, 0, 0.5, 50, np.random.default_rng(0))
