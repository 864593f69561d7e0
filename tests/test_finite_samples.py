"""Tests of the helpers of the chapter "Finite samples".

The variance, the kept-chain moment and the collapse probability are checked in
exact rational arithmetic against an independent computation: the brute-force
oracle of exact_reference.py enumerates every chain, and N independent chains
are then summed over with multinomial weights, without using the binomial
argument the formulas rest on. The Monte Carlo helpers are checked for their
bookkeeping and, loosely, against the formulas.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

import exact_reference as ref
import starlib as sl


def exact_inverse_kept(n, A):
    """E[1/K | K >= 1] for K ~ Binomial(n, A), in Fractions."""
    weights = [math.comb(n, k) * A**k * (1 - A) ** (n - k) for k in range(1, n + 1)]
    return sum(w / k for w, k in zip(weights, range(1, n + 1))) / sum(weights)


def exact_estimate_moments(p, M, n, power=1):
    """Mean and variance of F_t / K given K >= 1, for n independent chains, by enumeration.

    One chain is "kept and follows step t" with probability a_t, "kept and does not" with
    b_t, "failed" with 1 - a_t - b_t (read off every chain of the explicit kernels); the n
    chains are summed over with multinomial weights. Also returns a_t, the chance that one
    chain is kept and follows step t.
    """
    T = len(p)
    g = ref.identity_g(T, M)
    P = ref.tied_kernel(p, M, g, power=power)
    kept = ref.kept_chains(P, g, ref.uniform_q0(M))
    A = sum(w for _, w in kept)
    out = []
    for t in range(T):
        a = sum(w for s, w in kept if s[t + 1] == g[t][s[t]])
        b = A - a
        pk = 1 - (1 - A) ** n
        m1 = m2 = Fraction(0)
        for i in range(n + 1):
            for j in range(n + 1 - i):
                if i + j == 0:
                    continue
                w = math.comb(n, i) * math.comb(n - i, j) * a**i * b**j * (1 - A) ** (n - i - j)
                m1 += w * Fraction(i, i + j)
                m2 += w * Fraction(i, i + j) ** 2
        m1, m2 = m1 / pk, m2 / pk
        out.append((m1, m2 - m1**2, a, A))
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 7, 30])
def test_mean_inverse_kept_matches_exact_sum(n):
    for A in (Fraction(1, 64), Fraction(1, 3), Fraction(1, 2), Fraction(9, 10), Fraction(1)):
        exact = exact_inverse_kept(n, A)
        got = sl.mean_inverse_kept(n, float(A))
        assert abs(got - float(exact)) <= 1e-12 * float(exact)


def test_mean_inverse_kept_large_n_expansion():
    for n, A in ((10_000, 0.01), (200_000, 0.5), (1_000_000, 1 / 64)):
        mu = n * A
        assert abs(mu * sl.mean_inverse_kept(n, A) - (1 + (1 - A) / mu)) < 3 / mu**2


def test_mean_inverse_kept_is_elementwise():
    A = np.array([[0.1, 0.5], [0.9, 1.0]])
    got = sl.mean_inverse_kept(20, A)
    assert got.shape == (2, 2)
    for idx in np.ndindex(2, 2):
        assert got[idx] == pytest.approx(sl.mean_inverse_kept(20, float(A[idx])), rel=1e-15)


@pytest.mark.parametrize("power", [1, 2])
def test_variance_and_collapse_match_enumeration(power):
    rng = np.random.default_rng(5)
    for _ in range(6):
        M, T, n = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
        p = [Fraction(int(rng.integers(1, 10)), 10) for _ in range(T)]
        moments = exact_estimate_moments(p, M, n, power=power)
        floats = [float(x) for x in p]
        variance = sl.star_step_mc_variance(floats, M, n, temperature=1 / power)
        leading = sl.star_step_mc_variance(floats, M, n, temperature=1 / power, exact=False)
        collapse = sl.collapse_probability(floats, M, n, temperature=1 / power)
        new = sl.star_step(floats, M, temperature=1 / power)
        for t, (mean, var, a, A) in enumerate(moments):
            assert float(mean) == pytest.approx(new[t], abs=1e-12)  # unbiased given K >= 1
            # the proposition: Var = p'(1 - p') E[1/K | K >= 1], exactly
            assert var == mean * (1 - mean) * exact_inverse_kept(n, A)
            assert variance[t] == pytest.approx(float(var), rel=1e-11, abs=1e-300)
            assert leading[t] == pytest.approx(float(mean * (1 - mean) / (n * A)), rel=1e-11, abs=1e-300)
            assert collapse[t] == pytest.approx(float((1 - a) ** n), rel=1e-11, abs=1e-300)


def test_variance_batch_shape_and_scaling():
    p = np.array([[0.2, 0.3, 0.4], [0.5, 0.6, 0.7]])
    v = sl.star_step_mc_variance(p, 5, 1000)
    assert v.shape == (2, 3)
    for row in range(2):
        assert np.allclose(v[row], sl.star_step_mc_variance(p[row], 5, 1000), rtol=1e-14, atol=0)
    # leading order: four times the chains, a quarter of the variance
    lead = sl.star_step_mc_variance(p, 5, 1000, exact=False)
    assert np.allclose(sl.star_step_mc_variance(p, 5, 4000, exact=False), lead / 4, rtol=1e-14, atol=0)


def test_wrong_way_probability_is_the_normal_tail():
    p = np.array([0.15, 0.12, 0.2])
    for n in (256, 4096):
        new = sl.star_step(p, 64)
        sd = np.sqrt(sl.star_step_mc_variance(p, 64, n))
        expected = [0.5 * math.erfc((new[t] - p[t]) / (sd[t] * math.sqrt(2))) for t in range(3)]
        assert np.allclose(sl.wrong_way_probability(p, 64, n), expected, rtol=1e-12, atol=0)
    tails = [sl.wrong_way_probability(p, 64, n)[0] for n in (64, 256, 1024, 4096, 16384)]
    assert all(a > b for a, b in zip(tails, tails[1:]))
    # at the optimum nothing moves, and a step that cannot move gets no probability of moving down
    assert sl.wrong_way_probability([1.0, 1.0], 3, 10).tolist() == [0.0, 0.0]


def test_wrong_way_probability_against_monte_carlo():
    p = np.full(3, sl.prob_from_margin(0.1, 64))
    n = 16384  # about 270 kept chains
    draws = sl.step_estimates(p, 64, n, 20_000, np.random.default_rng(3))
    measured = np.mean(draws.estimates < p, axis=0)
    assert np.all(np.abs(measured - sl.wrong_way_probability(p, 64, n)) < 0.01)


def test_escape_samples_forms():
    for T in range(2, 6):
        for M in (3, 64):
            x = np.array([0.05, 0.1, 0.3])
            near = sl.escape_samples(x, M, T, near_chance=True)
            assert np.allclose(near, (T / 2) * (M / (M - 1)) * x ** (-T), rtol=1e-14, atol=0)
            assert abs(sl.escape_samples(1e-5, M, T) / sl.escape_samples(1e-5, M, T, near_chance=True) - 1) < 1e-3
            integral = sl.escape_samples(x, M, T)
            assert np.all(np.diff(integral) < 0)  # a larger margin needs fewer samples


def test_escape_samples_against_independent_quadrature():
    # mu / v written out from the margins: mu = delta^(T-1)(1 - delta)(1 + (M-1) delta) / (1 + (M-1) delta^T)
    for T, M, d0 in ((2, 64, 0.1), (3, 3, 0.2), (4, 64, 0.2), (5, 10, 0.4)):
        x = np.linspace(0, d0, 200_001)[1:]
        p = x + (1 - x) / M
        A = 1 / M + (1 - 1 / M) * x**T
        mu = x ** (T - 1) * (1 - x) * (1 + (M - 1) * x) / (1 + (M - 1) * x**T)
        new = (1 + (M - 1) * (x + mu)) / M
        v = (M / (M - 1)) ** 2 * new * (1 - new) / A
        f = np.concatenate(([0.0], mu / v))
        integral = np.sum((f[1:] + f[:-1]) / 2) * (d0 / 200_000)
        assert sl.escape_samples(d0, M, T) == pytest.approx(1 / (2 * integral), rel=1e-6)
        assert np.all(np.abs(p - sl.prob_from_margin(x, M)) < 1e-15)


def test_step_estimates_bookkeeping():
    p = [0.3, 0.6]
    a = sl.step_estimates(p, 4, 3, 500, np.random.default_rng(1))
    b = sl.step_estimates(p, 4, 3, 500, np.random.default_rng(1))
    assert np.array_equal(a.kept, b.kept) and np.array_equal(a.estimates, b.estimates, equal_nan=True)
    assert a.estimates.shape == (500, 2) and a.kept.shape == (500,)
    none = a.kept == 0
    assert none.any() and (~none).any()
    assert np.isnan(a.estimates[none]).all() and not np.isnan(a.estimates[~none]).any()
    # each estimate is a count over the kept chains
    assert np.allclose(np.round(a.estimates[~none] * a.kept[~none, None]), a.estimates[~none] * a.kept[~none, None])


def test_step_estimates_mean_and_variance():
    p = np.array([0.3, 0.5, 0.4])
    n, runs = 500, 20_000
    draws = sl.step_estimates(p, 3, n, runs, np.random.default_rng(9))
    assert (draws.kept > 0).all()
    var = sl.star_step_mc_variance(p, 3, n)
    assert np.all(np.abs(draws.estimates.mean(axis=0) - sl.star_step(p, 3)) < 4.5 * np.sqrt(var / runs))
    assert np.all(np.abs(draws.estimates.var(axis=0, ddof=1) / var - 1) < 4.5 * math.sqrt(2 / runs) * 1.2)


def test_accuracy_runs_and_escape_fraction_agree():
    p0 = np.full(3, sl.prob_from_margin(0.2, 64))
    curves = sl.accuracy_runs(p0, 64, 512, 6, 100, np.random.default_rng(4))
    assert curves.shape == (7, 100)
    assert np.allclose(curves[0], sl.accuracy(p0, 64))
    share = sl.escape_fraction(p0, 64, 512, 6, 0.5, 100, np.random.default_rng(4))
    assert share == np.mean(curves.max(axis=0) >= 0.5)


def test_samples_to_escape_stops_at_first_success():
    p0 = [0.9, 0.9]
    A0 = sl.accuracy(p0, 3)
    # zero iterations: a run "escapes" iff the start is already at the target
    found = sl.samples_to_escape(p0, 3, A0 - 0.01, 0, [4, 8, 16], 50, np.random.default_rng(0))
    assert found.samples == 4 and found.grid.tolist() == [4] and found.success.tolist() == [1.0]
    missed = sl.samples_to_escape(p0, 3, min(A0 + 0.01, 1.0), 0, [4, 8, 16], 50, np.random.default_rng(0))
    assert missed.samples == -1 and missed.grid.tolist() == [4, 8, 16] and missed.success.tolist() == [0, 0, 0]
    # a real search: success fractions before the answer are below the threshold
    p1 = np.full(3, sl.prob_from_margin(0.2, 64))
    found = sl.samples_to_escape(p1, 64, 0.5, 4, [16, 32, 64, 128, 256, 512, 1024], 200, np.random.default_rng(2))
    assert found.samples == found.grid[-1] and found.success[-1] >= 0.9 and np.all(found.success[:-1] < 0.9)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sl.mean_inverse_kept(0, 0.5), "n must be an integer >= 1"),
        (lambda: sl.mean_inverse_kept(2.5, 0.5), "n must be an integer >= 1"),
        (lambda: sl.mean_inverse_kept(10, 1.5), r"A = 1.5"),
        (lambda: sl.star_step_mc_variance([0.5, 0.5], 1, 10), "M must be"),
        (lambda: sl.star_step_mc_variance([0.5, np.nan], 3, 10), r"p\[1\]"),
        (lambda: sl.star_step_mc_variance([0.5], 3, True), "n must be"),
        (lambda: sl.escape_samples(0.0, 3, 3), "delta0"),
        (lambda: sl.escape_samples(0.1, 3, 0), "T must be"),
        (lambda: sl.collapse_probability([0.5], 3, -1), "n must be"),
        (lambda: sl.step_estimates([0.5, 0.5], 3, 10, 0, np.random.default_rng(0)), "runs must be"),
        (lambda: sl.step_estimates([[0.5, 0.5]], 3, 10, 5, np.random.default_rng(0)), "one policy"),
        (lambda: sl.step_estimates([0.5], 3, 10, 5, 42), "rng must be"),
        (lambda: sl.samples_to_escape([0.5], 3, 0.5, 2, [8, 4], 5, np.random.default_rng(0)), "increasing"),
        (lambda: sl.samples_to_escape([0.5], 3, 0.5, 2, [], 5, np.random.default_rng(0)), "non-empty"),
        (lambda: sl.samples_to_escape([0.5], 3, 0.5, 2, [4], 5, np.random.default_rng(0), fraction=0), "fraction"),
        (lambda: sl.escape_fraction([0.5], 3, 4, 2, [0.5, 0.6], 5, np.random.default_rng(0)), "target"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_no_kept_chains():
    # one step always wrong and the other always right: accuracy 0, nothing is ever kept
    with pytest.raises(sl.NoKeptChainsError):
        sl.star_step_mc_variance([0.0, 1.0], 3, 10)
    with pytest.raises(sl.NoKeptChainsError):
        sl.mean_inverse_kept(10, 0.0)
