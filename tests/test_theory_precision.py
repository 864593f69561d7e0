"""star_step_eps near the optimum: relative accuracy against exact rational arithmetic.

Error rates are drawn log-uniformly in [1e-300, 1e-1]; the exact update is
computed from each float's exact binary value (Fraction(eps)) by the on/off
Markov chain of tests/exact_reference.py, which needs no enumeration and so
works for M up to 10^6. Results whose exact value is below TINY sit in or
near the subnormal range of doubles, where relative accuracy is lost by
design (underflow); for those only smallness is asserted.
"""

from fractions import Fraction

import numpy as np
import pytest

import exact_reference as ref
import starlib as sl

RELATIVE_TOL = 1e-12
TINY = 1e-300


def log_uniform(rng, low, high, size):
    return np.exp(rng.uniform(np.log(low), np.log(high), size=size))


def random_cases(seed, count, max_T=16):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        T = int(rng.integers(1, max_T + 1))
        M = int(np.round(log_uniform(rng, 2, 1e6, None)))
        yield M, log_uniform(rng, 1e-300, 1e-1, T)


def assert_matches_exact(got, exact, context):
    for t, (x, e) in enumerate(zip(got, exact)):
        if e < TINY:
            assert 0 <= x <= 2 * TINY, (context, t, x, float(e))
        else:
            relative_error = abs(Fraction(float(x)) - e) / e
            assert relative_error < RELATIVE_TOL, (context, t, float(relative_error))


@pytest.mark.parametrize("seed", range(6))
def test_star_step_eps_matches_exact_rationals(seed):
    normal_results = 0
    for M, eps in random_cases(seed, 50):
        got = sl.star_step_eps(eps, M)
        exact = ref.exact_eps_step(eps, M)
        assert_matches_exact(got, exact, (M, eps.tolist()))
        normal_results += sum(e >= TINY for e in exact)
    assert normal_results > 40  # most comparisons are real relative-error checks


def test_star_step_eps_at_temperature_one_half_matches_exact_rationals():
    for M, eps in random_cases(seed=10, count=40, max_T=8):
        got = sl.star_step_eps(eps, M, temperature=0.5)
        assert_matches_exact(got, ref.exact_eps_step(eps, M, power=2), (M, eps.tolist()))


def test_star_step_eps_equal_and_mixed_edge_values():
    # Some steps exact (eps = 0), some tiny, some large, at the extremes of M.
    for M in (2, 3, 10**6):
        for eps in ([0.0, 1e-300, 0.1], [1e-300] * 16, [1e-200, 1e-150], [0.0, 0.0, 1e-17], [1e-17]):
            got = sl.star_step_eps(eps, M)
            assert_matches_exact(got, ref.exact_eps_step(eps, M), (M, eps))


def test_star_step_eps_batch_equals_rows():
    rng = np.random.default_rng(20)
    eps = log_uniform(rng, 1e-300, 1e-1, (7, 5))
    batch = sl.star_step_eps(eps, 1000)
    for i in range(7):
        np.testing.assert_array_equal(batch[i], sl.star_step_eps(eps[i], 1000))


def test_naive_one_minus_star_step_loses_every_digit():
    # Why star_step_eps exists: 1 - eps rounds to 1 for eps < 1.1e-16, so the
    # naive route returns an error rate of exactly 0 where the true one is positive.
    for M, eps in [(3, [1e-20, 1e-20, 1e-20]), (64, [1e-100, 1e-30]), (10**6, [1e-120] * 4)]:
        naive = 1 - sl.star_step(1 - np.array(eps), M)
        assert np.all(naive == 0.0)
        careful = sl.star_step_eps(eps, M)
        assert np.all(careful > 0)
        assert_matches_exact(careful, ref.exact_eps_step(eps, M), (M, eps))


@pytest.mark.parametrize("M, T", [(2, 2), (3, 3), (64, 3), (10**6, 8)])
def test_f5_quadratic_rate_near_the_optimum(M, T):
    # F5: with equal errors, eps' ~ (T - 1) eps^2 / (M - 1) as eps -> 0.
    for eps in (1e-8, 1e-50, 1e-150):
        new = sl.star_step_eps([eps] * T, M)
        np.testing.assert_allclose(new, (T - 1) * eps**2 / (M - 1), rtol=1e-6)


def test_star_step_eps_continues_a_trajectory_past_double_resolution():
    # M = 64, T = 3, delta = 0.2: after 3 iterations p is within 1e-4 of 1; three more
    # error-rate steps go far below 1.1e-16, where 1 - p would read 0, still exactly.
    eps = 1 - sl.star_iterates([sl.prob_from_margin(0.2, 64)] * 3, 64, 3)[-1]
    for _ in range(3):
        new = sl.star_step_eps(eps, 64)
        assert_matches_exact(new, ref.exact_eps_step(eps, 64), eps.tolist())
        eps = new
    assert np.all(eps > 0) and np.all(eps < 1e-30)
