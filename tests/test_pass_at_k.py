"""starlib.pass_at_k against brute-force enumeration (tests/oracle_pass_at_k.py).

pass@k is checked against the enumeration of every outcome of k samples, the
estimator against the enumeration of every k-subset of n samples (and its mean
against every outcome of n samples), the chain-level accuracy against the
enumeration of every chain, in exact rational arithmetic; floats to 1e-12.
Bad input must raise ValueError naming the argument.
"""

from fractions import Fraction

import numpy as np
import pytest

import exact_reference as ref
import oracle_pass_at_k as oracle
import starlib as sl
from starlib import tabular

FLOAT_TOL = 1e-12


def random_accuracies(rng, Q, zeros=True):
    return [Fraction(int(a), 6) for a in rng.integers(0 if zeros else 1, 7, size=Q)]


def random_weights(rng, Q):
    w = [int(x) for x in rng.integers(1, 5, size=Q)]
    return [Fraction(x, sum(w)) for x in w]


def uneven(margins, T):
    """The uneven-difficulty policy: question s's track follows the identity with margin margins[s]."""
    M = len(margins)
    return tabular.per_question_tied_kernels(sl.prob_from_margin(margins, M), np.tile(np.arange(M), (T, 1)))


def random_distribution(rng, M):
    weights = [int(w) for w in rng.integers(0, 4, size=M)]
    if sum(weights) == 0:
        weights[0] = 1
    return [Fraction(w, sum(weights)) for w in weights]


# --- pass@k ------------------------------------------------------------------------------------


def test_pass_at_k_matches_enumeration_exactly():
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(40):
        Q = int(rng.integers(1, 5))
        c = random_accuracies(rng, Q)
        weights = random_weights(rng, Q) if rng.random() < 0.5 else None
        for k in range(1, 7):
            expected = oracle.pass_at_k(c, k, weights)
            got = sl.pass_at_k(c, k, weights)
            assert isinstance(got, Fraction) and got == expected
            assert abs(sl.pass_at_k([float(x) for x in c], k, weights and [float(w) for w in weights])
                       - float(expected)) <= FLOAT_TOL
            checked += 1
        assert sl.pass_at_k(c, list(range(1, 7)), weights) == [oracle.pass_at_k(c, k, weights) for k in range(1, 7)]
    assert checked == 240


def test_pass_at_k_batches_and_shapes():
    rng = np.random.default_rng(2)
    c = rng.random((3, 2, 5))
    out = sl.pass_at_k(c, [1, 2, 10])
    assert out.shape == (3, 2, 3)
    for idx in np.ndindex(3, 2):
        for j, k in enumerate([1, 2, 10]):
            assert abs(out[idx + (j,)] - np.mean(1 - (1 - c[idx]) ** k)) <= FLOAT_TOL
    assert sl.pass_at_k(c, 4).shape == (3, 2)
    assert isinstance(sl.pass_at_k([0.2, 0.4], 3), float)


def test_pass_at_k_is_accurate_for_tiny_accuracy_and_large_k():
    # 1 - (1 - c)^k loses every digit for c = 1e-17 in plain floats; k c is the answer to first order.
    assert abs(sl.pass_at_k([1e-17], 1000) - 1e-14) <= 1e-26
    assert sl.pass_at_k([1.0, 0.0], 10**9) == 0.5


def test_pass_at_k_symbolic():
    import sympy as sp

    c, k = sp.symbols("c k", positive=True)
    expr = sl.pass_at_k([c, sp.Rational(1, 2)], k)
    assert sp.simplify(expr - (1 - (1 - c) ** k + 1 - sp.Rational(1, 2) ** k) / 2) == 0
    assert sp.simplify(sl.pass_at_k([c], 3) - (1 - (1 - c) ** 3)) == 0


def test_pass_at_k_clips_rounding_only():
    assert sl.pass_at_k([1 + 1e-15, -1e-15], 2) == 0.5
    with pytest.raises(ValueError, match="question_accuracy"):
        sl.pass_at_k([1 + 1e-9], 2)


@pytest.mark.parametrize("args, name", [
    (([0.5, 1.5], 1), "question_accuracy"),
    (([0.5, np.nan], 1), "question_accuracy"),
    (([0.5, np.inf], 1), "question_accuracy"),
    (([-0.1], 1), "question_accuracy"),
    (([], 1), "question_accuracy"),
    ((["a"], 1), "question_accuracy"),
    (([0.5], 0), "k"),
    (([0.5], 1.5), "k"),
    (([0.5], True), "k"),
    (([0.5], [1, 0]), "k"),
    (([0.5], []), "k"),
    (([0.5], [[1, 2]]), "k"),
    (([0.5, 0.5], 1, [0.5]), "question_weights"),
    (([0.5, 0.5], 1, [0.7, 0.7]), "question_weights"),
    (([0.5, 0.5], 1, [1.5, -0.5]), "question_weights"),
    (([0.5, 0.5], 1, [np.nan, 1.0]), "question_weights"),
])
def test_pass_at_k_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        sl.pass_at_k(*args)


# --- the estimator ------------------------------------------------------------------------------


def test_estimate_matches_subset_enumeration():
    checked = 0
    for n in range(1, 9):
        for k in range(1, n + 1):
            for c in range(n + 1):
                expected = oracle.estimate(n, c, k)
                assert sl.pass_at_k_estimate(n, c, k, exact=True) == expected
                assert abs(sl.pass_at_k_estimate(n, c, k) - float(expected)) <= FLOAT_TOL
                checked += 1
    assert checked == 240


def test_estimate_is_unbiased_by_enumeration():
    """E[estimate] over every outcome of n samples is the question's pass@k, exactly."""
    for accuracy in (Fraction(0), Fraction(1, 3), Fraction(5, 7), Fraction(1)):
        for n in range(1, 7):
            for k in range(1, n + 1):
                assert oracle.mean_estimate(n, k, accuracy) == sl.pass_at_k([accuracy], k)


def test_estimate_arrays_and_large_n():
    c = np.array([[0, 3], [10, 100]])
    out = sl.pass_at_k_estimate(100, c, 5)
    assert out.shape == (2, 2) and out[0, 0] == 0.0 and out[1, 1] == 1.0
    exact = sl.pass_at_k_estimate(100, c, 5, exact=True)
    assert exact.dtype == object and abs(float(exact[0, 1]) - out[0, 1]) <= FLOAT_TOL
    # n = 10^5: the product form stays accurate where the binomials overflow floats
    big = sl.pass_at_k_estimate(10**5, 7, 1000)
    assert abs(big - float(sl.pass_at_k_estimate(10**5, 7, 1000, exact=True))) <= 1e-12


@pytest.mark.parametrize("args, name", [
    ((5, 2, 6), "k"),          # k > n
    ((5, 2, 0), "k"),
    ((5, 2, 2.0), "k"),
    ((0, 0, 1), "n"),
    ((5.0, 2, 1), "n"),
    ((True, 1, 1), "n"),
    ((5, 6, 1), "c"),
    ((5, -1, 1), "c"),
    ((5, 2.5, 1), "c"),
    ((5, [1, 7], 1), "c"),
    ((5, [], 1), "c"),
])
def test_estimate_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        sl.pass_at_k_estimate(*args)


def test_estimate_bad_exact_flag():
    with pytest.raises(ValueError, match="exact"):
        sl.pass_at_k_estimate(5, 2, 1, exact="yes")


def test_estimate_from_sampled_chains_matches_exact():
    """Simulation: n chains per question from a tabular policy, averaged over runs."""
    M, T = 4, 2
    g = np.tile(np.arange(M), (T, 1))
    P = uneven(np.array([0.6, 0.3, 0.1, 0.0]), T)
    exact = sl.pass_at_k(sl.measure_policy(P, g, np.full(M, 0.25)).question_accuracy, [1, 4, 16])
    rng = np.random.default_rng(3)
    from starlib.sampling import sample_chains_per_question

    n, runs = 16, 400
    estimates = np.empty((runs, 3))
    for r in range(runs):
        chains = sample_chains_per_question(P, n, rng)
        correct = (chains[:, -1] == chains[:, 0]).reshape(M, n).sum(axis=1)
        estimates[r] = [sl.pass_at_k_estimate(n, correct, k).mean() for k in (1, 4, 16)]
    mean, se = estimates.mean(axis=0), estimates.std(axis=0) / np.sqrt(runs)
    assert np.all(np.abs(mean - exact) < 4 * se + 1e-12)


# --- crossover ----------------------------------------------------------------------------------


def test_crossover_k_matches_enumeration():
    rng = np.random.default_rng(4)
    found = 0
    for _ in range(150):
        Q = int(rng.integers(2, 4))
        base, trained = random_accuracies(rng, Q), random_accuracies(rng, Q)
        weights = random_weights(rng, Q)
        expected = oracle.crossover_k(base, trained, weights, 8)
        assert sl.crossover_k(base, trained, weights, max_k=8) == expected
        got_float = sl.crossover_k([float(x) for x in base], [float(x) for x in trained],
                                   [float(w) for w in weights], max_k=8)
        assert got_float == expected
        found += expected is not None
    assert found > 30


def test_crossover_k_at_large_k():
    # the trained policy is a little better on the easier question and a little worse on the hard one
    base, trained = [0.01, 1e-3], [0.011, 0.999e-3]
    k = sl.crossover_k(base, trained)
    fail = lambda c, k: np.mean([(1 - x) ** k for x in c])  # noqa: E731
    assert k is not None and k > 500
    assert fail(base, k) < fail(trained, k) and fail(base, k - 1) >= fail(trained, k - 1)
    # no crossover when the trained policy is as good on every question, however long we look
    assert sl.crossover_k(base, [0.9, 1e-3]) is None
    assert sl.crossover_k(base, [0.011, 1.001e-3]) is None
    assert sl.crossover_k(base, base) is None
    assert sl.crossover_k([0.5, 0.5], [1.0, 0.0]) == 2
    assert sl.crossover_k([0.5, 0.5], [1.0, 0.0], max_k=1) is None


@pytest.mark.parametrize("args, name", [
    (([0.5], [1.5]), "trained_accuracy"),
    (([np.nan], [0.5]), "base_accuracy"),
    (([0.5, 0.5], [0.5]), "same shape"),
    (([[0.5]], [[0.5]]), "base_accuracy"),
    (([0.5], [0.5], [0.5]), "question_weights"),
    (([0.5], [0.4], None, 0), "max_k"),
])
def test_crossover_k_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        sl.crossover_k(*args)


# --- chain-level accuracy -----------------------------------------------------------------------


def random_history(rng, M, T):
    return [[[random_distribution(rng, M) for _ in range(M)] for _ in range(M)] for _ in range(T)]


def test_question_chain_accuracy_matches_enumeration():
    rng = np.random.default_rng(5)
    checked = 0
    for M, T in [(2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (4, 1)]:
        for _ in range(4):
            g = [[int(x) for x in rng.integers(0, M, size=M)] for _ in range(T)]
            P = [[random_distribution(rng, M) for _ in range(M)] for _ in range(T)]
            H = random_history(rng, M, T)
            assert sl.question_chain_accuracy(P, g).tolist() == oracle.question_chain_accuracy(ref.markov_rows(P), g)
            assert sl.question_chain_accuracy(H, g).tolist() == oracle.question_chain_accuracy(H, g)
            got = sl.question_chain_accuracy(np.array(H, dtype=float), g)
            np.testing.assert_allclose(got, [float(x) for x in oracle.question_chain_accuracy(H, g)], atol=FLOAT_TOL)
            checked += 1
    assert checked == 24


def test_question_chain_accuracy_bad_input():
    with pytest.raises(ValueError, match="policy"):
        sl.question_chain_accuracy(np.ones((2, 3, 3)), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="g"):
        sl.question_chain_accuracy(np.full((2, 3, 3), 1 / 3), np.zeros((1, 3), dtype=int))


# --- the policies and trajectories --------------------------------------------------------------


def test_star_trajectory_matches_enumeration_and_keeps_the_support():
    rng = np.random.default_rng(6)
    checked = 0
    for M, T in [(2, 1), (2, 2), (3, 1), (3, 2), (2, 3)]:
        for _ in range(4):
            g = [[int(x) for x in rng.integers(0, M, size=M)] for _ in range(T)]
            q0 = random_distribution(rng, M)
            P = [[random_distribution(rng, M) for _ in range(M)] for _ in range(T)]
            if ref.accuracy(P, g, q0) == 0:
                continue
            trajectory = sl.pass_at_k_trajectory(P, g, q0, 2)
            policy = P
            for n in range(3):
                H = ref.markov_rows(policy)
                assert trajectory.policies[n].tolist() == policy
                assert trajectory.question_accuracy[n].tolist() == ref.question_success(H, g, q0)
                assert trajectory.question_chain_accuracy[n].tolist() == oracle.question_chain_accuracy(H, g)
                assert oracle.support(policy) <= oracle.support(P)
                assert trajectory.support[n] == len(oracle.support(policy)) / len(oracle.support(P))
                policy = ref.tabular_star_step(policy, g, q0)
                if policy is None:
                    break
            assert not trajectory.support_grew
            checked += 1
    assert checked > 10


def test_star_trajectory_history_aware():
    rng = np.random.default_rng(7)
    M, T = 2, 2
    g = [[1, 0], [0, 0]]
    q0 = [Fraction(1, 3), Fraction(2, 3)]
    H = random_history(rng, M, T)
    trajectory = sl.pass_at_k_trajectory(H, g, q0, 1)
    assert trajectory.policies[1].tolist() == ref.history_star_step(H, g, q0)
    assert trajectory.question_accuracy[1].tolist() == ref.question_success(ref.history_star_step(H, g, q0), g, q0)


def test_finite_sample_trajectory():
    M, T = 3, 2
    g = np.tile(np.arange(M), (T, 1))
    P = uneven(np.array([0.5, 0.2, 0.0]), T)
    a = sl.finite_sample_pass_at_k_trajectory(P, g, 8, 4, np.random.default_rng(8))
    b = sl.finite_sample_pass_at_k_trajectory(P, g, 8, 4, np.random.default_rng(8))
    assert all((x == y).all() for x, y in zip(a.policies, b.policies))
    assert not a.support_grew and a.support[0] == 1 and np.all(np.diff(a.support) <= 0)
    for policy in a.policies:
        assert ((policy > 0) <= (P > 0)).all()
    # many chains: one iteration is close to the exact refit
    big = sl.finite_sample_pass_at_k_trajectory(P, g, 40_000, 1, np.random.default_rng(9))
    np.testing.assert_allclose(big.policies[1], sl.tabular_star_step(P, g, np.full(M, 1 / M)), atol=0.02)


@pytest.mark.parametrize("call, name", [
    (lambda P, g: sl.finite_sample_pass_at_k_trajectory(P, g, 0, 1, np.random.default_rng(0)), "n"),
    (lambda P, g: sl.finite_sample_pass_at_k_trajectory(P, g, 4, -1, np.random.default_rng(0)), "iterations"),
    (lambda P, g: sl.finite_sample_pass_at_k_trajectory(P, g, 4, 1, 0), "rng"),
    (lambda P, g: sl.finite_sample_pass_at_k_trajectory(P[:, :2], g, 4, 1, np.random.default_rng(0)), "policy"),
    (lambda P, g: sl.pass_at_k_trajectory(P, g, [0.5, 0.5, 0.5], 1), "q0"),
    (lambda P, g: sl.pass_at_k_trajectory(P, g, np.full(3, 1 / 3), 1.5), "iterations"),
    (lambda P, g: sl.support_fraction(P, P[:1]), "same shape"),
    (lambda P, g: sl.support_fraction(P, np.ones_like(P)), "base"),
])
def test_trajectory_bad_input(call, name):
    M, T = 3, 2
    g = np.tile(np.arange(M), (T, 1))
    P = uneven(np.array([0.5, 0.2, 0.0]), T)
    with pytest.raises(ValueError, match=name):
        call(P, g)


def test_finite_sample_needs_floats():
    P = uneven([Fraction(1, 2)] * 2, 1)
    with pytest.raises(ValueError, match="floats"):
        sl.finite_sample_pass_at_k_trajectory(P, [[0, 1]], 4, 1, np.random.default_rng(0))


def test_support_fraction():
    base = np.array([[[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]])
    shrunk = np.array([[[1.0, 0.0, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]])
    assert sl.support_fraction(shrunk, base) == 5 / 6
    assert sl.support_fraction(base, base) == 1.0


# --- pass@infinity, the sampled estimate and many runs -------------------------------------------


def test_pass_at_infinity_is_the_limit():
    rng = np.random.default_rng(10)
    for _ in range(30):
        Q = int(rng.integers(1, 6))
        c = random_accuracies(rng, Q)
        w = random_weights(rng, Q)
        expected = sum(x for x, a in zip(w, c) if a > 0)
        assert sl.pass_at_infinity(c, w) == expected
        # the smallest positive accuracy is 1/6, so k = 500 is within 1e-39 of the limit
        assert abs(sl.pass_at_k([float(a) for a in c], 500, [float(x) for x in w]) - float(expected)) < 1e-12
    batch = sl.pass_at_infinity(np.array([[0.0, 0.3], [0.1, 0.2]]))
    assert batch.tolist() == [0.5, 1.0]
    with pytest.raises(ValueError, match="question_accuracy"):
        sl.pass_at_infinity([0.5, 2.0])
    with pytest.raises(ValueError, match="question_weights"):
        sl.pass_at_infinity([0.5, 0.2], [1.0])


def test_sampled_pass_at_k_bad_input():
    M, T = 3, 2
    g = np.tile(np.arange(M), (T, 1))
    P = uneven(np.array([0.5, 0.2, 0.0]), T)
    rng = np.random.default_rng(11)
    assert sl.sampled_pass_at_k(P, g, 4, [1, 4], rng).shape == (2,)
    with pytest.raises(ValueError, match="k"):
        sl.sampled_pass_at_k(P, g, 4, 5, rng)
    with pytest.raises(ValueError, match="rng"):
        sl.sampled_pass_at_k(P, g, 4, 1, None)
    with pytest.raises(ValueError, match="question_weights"):
        sl.sampled_pass_at_k(P, g, 4, 1, rng, [0.5, 0.5])
    with pytest.raises(ValueError, match="g"):
        sl.sampled_pass_at_k(P, g[:1], 4, 1, rng)


def test_finite_sample_runs():
    M, T = 3, 2
    g = np.tile(np.arange(M), (T, 1))
    P = sl.tied_kernels([sl.prob_from_margin(0.3, M)] * T, M)
    runs = sl.finite_sample_pass_at_k_runs(P, g, 4, 3, 5, np.random.default_rng(12))
    for field in (runs.crossover, runs.support, runs.coverage, runs.pass_at_1):
        assert field.shape == (5, 4)
    assert np.all(np.isinf(runs.crossover[:, 0])) and np.all(runs.support[:, 0] == 1)
    assert np.all(np.diff(runs.support, axis=1) <= 0) and np.all(np.diff(runs.coverage, axis=1) <= 0)
    with pytest.raises(ValueError, match="runs"):
        sl.finite_sample_pass_at_k_runs(P, g, 4, 3, 0, np.random.default_rng(12))


def test_exact_star_keeps_the_tied_support_unless_one_step():
    """Tied start, 0 < p_t < 1: T >= 2 keeps every transition; T = 1 keeps only the ground truth."""
    rng = np.random.default_rng(13)
    for _ in range(20):
        M, T = int(rng.integers(2, 4)), int(rng.integers(1, 4))
        p = [Fraction(int(x), 8) for x in rng.integers(1, 8, size=T)]
        g = np.array([rng.permutation(M) for _ in range(T)])
        P = sl.tied_kernels(p, M, g).tolist()
        q0 = [Fraction(1, M)] * M
        step = ref.tabular_star_step(P, g.tolist(), q0)
        expected = oracle.support(P) if T >= 2 else {(0, s, int(g[0][s])) for s in range(M)}
        assert oracle.support(step) == expected
        trajectory = sl.pass_at_k_trajectory(P, g, q0, 1)
        assert trajectory.support[1] == len(expected) / len(oracle.support(P))


def test_sampled_pass_at_k_is_unbiased_against_the_oracle():
    """The mean of sl.sampled_pass_at_k over runs is the oracle's exact pass@k (4 standard errors)."""
    M, T = 3, 2
    g = np.tile(np.arange(M), (T, 1))
    P = uneven(np.array([0.6, 0.2, 0.0]), T)
    weights = [0.5, 0.3, 0.2]
    c = ref.question_success(ref.markov_rows(P.tolist()), g.tolist(), weights)
    ks = [1, 3, 8]
    exact = [float(oracle.pass_at_k(c, k, weights)) for k in ks]
    rng = np.random.default_rng(14)
    runs = np.array([sl.sampled_pass_at_k(P, g, 8, ks, rng, weights) for _ in range(300)])
    mean, se = runs.mean(axis=0), runs.std(axis=0) / np.sqrt(len(runs))
    assert np.all(np.abs(mean - exact) < 4 * se)
