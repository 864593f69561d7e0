"""The experiment helpers of starlib.tabular against the loops of tests/oracle_tabular_experiments.py."""

from fractions import Fraction

import numpy as np
import pytest

import oracle_tabular_experiments as oracle
from starlib import tabular

TOL = 1e-12


def nested(arr):
    return np.asarray(arr, dtype=object).tolist()


# --- random instances -------------------------------------------------------------------------


@pytest.mark.parametrize("history", [False, True])
def test_random_tabular_policy_is_exact_stochastic_and_reproducible(history):
    rng = np.random.default_rng(1)
    zeros = 0
    for M in (2, 3, 4):
        for T in (1, 2, 3):
            P = tabular.random_tabular_policy(rng, M, T, history=history)
            assert P.shape == ((T, M, M, M) if history else (T, M, M))
            assert all(isinstance(x, Fraction) for x in P.ravel())
            assert all(sum(row) == 1 for row in P.reshape(-1, M))
            zeros += sum(x == 0 for x in P.ravel())
    assert zeros > 0
    a = tabular.random_tabular_policy(np.random.default_rng(5), 3, 2, history)
    b = tabular.random_tabular_policy(np.random.default_rng(5), 3, 2, history)
    assert (a == b).all()


def test_random_questions_ground_truth_and_follow_probabilities():
    rng = np.random.default_rng(2)
    for M in (2, 3, 5):
        q0 = tabular.random_question_distribution(rng, M)
        assert sum(q0) == 1 and min(q0) >= Fraction(1, 4 * M)
        g = tabular.random_ground_truth(rng, M, 3)
        assert all(sorted(row) == list(range(M)) for row in g.tolist())
        g_any = tabular.random_ground_truth(rng, M, 3, bijective=False)
        assert g_any.shape == (3, M) and g_any.min() >= 0 and g_any.max() < M
        p = tabular.random_follow_probabilities(rng, M, 4, 8)
        assert all(x * 8 == int(x * 8) and 0 < x <= 1 for x in p)
        above = tabular.random_follow_probabilities(rng, M, 4, 12, above_chance=True)
        assert all(Fraction(1, M) < x <= 1 for x in above)
        margins = [(M * x - 1) / (M - 1) for x in above]
        assert all(m * 12 == int(m * 12) for m in margins)


# --- relabelling ------------------------------------------------------------------------------


@pytest.mark.parametrize("history", [False, True])
def test_relabel_matches_the_oracle_and_commutes_with_the_refit(history):
    rng = np.random.default_rng(3)
    for M, T in ((2, 2), (3, 1), (3, 2)):
        P = tabular.random_tabular_policy(rng, M, T, history=history)
        g = tabular.random_ground_truth(rng, M, T, bijective=False)
        q0 = tabular.random_question_distribution(rng, M)
        sigma = [rng.permutation(M) for _ in range(T + 1)]
        sigma_lists = [[int(x) for x in s] for s in sigma]
        P2, g2, q2 = tabular.relabel(P, g, q0, sigma)
        want = oracle.relabel(nested(P), g.tolist(), list(q0), sigma_lists)
        assert nested(P2) == want[0] and g2.tolist() == want[1] and list(q2) == want[2]
        if history:
            refit = oracle.ref.history_star_step(nested(P), g.tolist(), list(q0))
            refit_relabelled = oracle.ref.history_star_step(*want)
        else:
            refit = oracle.ref.tabular_star_step(nested(P), g.tolist(), list(q0))
            refit_relabelled = oracle.ref.tabular_star_step(*want)
        if refit is not None:
            assert oracle.relabel(refit, g.tolist(), list(q0), sigma_lists)[0] == refit_relabelled


def test_relabel_rejects_bad_permutations():
    P = tabular.random_tabular_policy(np.random.default_rng(0), 3, 2)
    g, q0 = np.zeros((2, 3), dtype=int), [Fraction(1, 3)] * 3
    for bad in ([[0, 1, 2]] * 2, [[0, 1, 1]] * 3, [[0, 1, 2]] * 2 + [[0, 1, 3]], "abc", [[0.0, 1.0, 2.0]] * 3):
        with pytest.raises(ValueError, match="sigma"):
            tabular.relabel(P, g, q0, bad)


# --- uneven difficulty ------------------------------------------------------------------------


def test_per_question_tied_kernels_matches_the_oracle():
    rng = np.random.default_rng(4)
    for M, T in ((2, 1), (3, 2), (4, 3)):
        follow = [Fraction(int(k), 7) for k in rng.integers(0, 8, size=M)]
        for g in (np.tile(np.arange(M), (T, 1)), tabular.random_ground_truth(rng, M, T)):
            P = tabular.per_question_tied_kernels(follow, g)
            assert nested(P) == oracle.per_question_tied(follow, g.tolist())
    floats = tabular.per_question_tied_kernels(np.array([0.5, 0.2, 0.9]), np.tile(np.arange(3), (2, 1)))
    assert floats.dtype == float and np.allclose(floats.sum(axis=-1), 1)


def test_per_question_tied_kernels_rejects_bad_input():
    g = np.tile(np.arange(3), (2, 1))
    with pytest.raises(ValueError, match="bijection"):
        tabular.per_question_tied_kernels([0.5, 0.5, 0.5], [[0, 0, 1], [0, 1, 2]])
    for bad in ([0.5, np.nan, 0.5], [0.5, 1.5, 0.5], [[0.5, 0.5, 0.5]], [0.5]):
        with pytest.raises(ValueError, match="follow"):
            tabular.per_question_tied_kernels(bad, g)
    with pytest.raises(ValueError, match="g"):
        tabular.per_question_tied_kernels([0.5, 0.5, 0.5], [[0, 1, 3], [0, 1, 2]])


# --- trajectories and levels ------------------------------------------------------------------


@pytest.mark.parametrize("rationalized", [False, True])
def test_markov_trajectory_matches_enumeration(rationalized):
    rng = np.random.default_rng(6)
    for M, T in ((2, 2), (3, 2), (3, 3)):
        P = tabular.random_tabular_policy(rng, M, T)
        g = tabular.random_ground_truth(rng, M, T, bijective=False)
        q0 = tabular.random_question_distribution(rng, M)
        want = oracle.markov_trajectory(nested(P), g.tolist(), list(q0), 2, rationalized)
        if any(A == 0 for A, _ in want[:-1]):
            continue
        got = tabular.exact_star_trajectory(P, g, q0, 2, rationalized=rationalized)
        assert [(m.accuracy, m.step_follow.tolist()) for m in got] == want


def test_history_trajectory_matches_enumeration():
    rng = np.random.default_rng(7)
    for M, T in ((2, 2), (3, 2)):
        H = tabular.random_tabular_policy(rng, M, T, history=True)
        g = tabular.random_ground_truth(rng, M, T, bijective=False)
        q0 = tabular.random_question_distribution(rng, M)
        want = oracle.history_trajectory(nested(H), g.tolist(), list(q0), 2)
        if want[0][0] == 0:
            continue
        got = tabular.exact_star_trajectory(H, g, q0, 2)
        assert [(m.accuracy, m.step_follow.tolist()) for m in got] == want


def test_exact_star_trajectory_rejects_bad_input():
    P = tabular.random_tabular_policy(np.random.default_rng(0), 2, 2)
    g, q0 = np.zeros((2, 2), dtype=int), [Fraction(1, 2)] * 2
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="iterations"):
            tabular.exact_star_trajectory(P, g, q0, bad)


def test_iterations_to_level_matches_the_oracle():
    rng = np.random.default_rng(8)
    curves = np.sort(rng.random((12, 30)), axis=0)
    curves[:, :5] = 0.1
    got = tabular.iterations_to_level(curves, 0.7)
    for r in range(curves.shape[1]):
        want = oracle.first_reach(curves[:, r].tolist(), 0.7)
        assert got[r] == (np.inf if want is None else want)
    assert tabular.iterations_to_level([0.1, 0.5, 0.95], 0.9) == 2.0
    assert tabular.iterations_to_level([0.1, 0.5], 0.9) == np.inf


def test_iterations_to_level_rejects_bad_input():
    for values, level, word in (([0.1, np.nan], 0.5, "values"), ([0.1, 1.2], 0.5, "values"),
                                ([0.1, 0.2], np.nan, "level"), ([0.1, 0.2], 1.5, "level"),
                                ([0.1, 0.2], [0.5, 0.6], "level"), (0.3, 0.5, "values")):
        with pytest.raises(ValueError, match=word):
            tabular.iterations_to_level(values, level)


def test_runs_to_level_follows_the_exact_schedule_with_many_chains():
    p0 = [0.6, 0.6, 0.6]
    exact = [oracle.ref.accuracy(oracle.ref.tied_kernel(p0, 3), oracle.ref.identity_g(3, 3),
                                 oracle.ref.uniform_q0(3))]
    p = p0
    for _ in range(6):
        p = oracle.ref.tied_star_step(p, 3)
        exact.append(oracle.ref.accuracy(oracle.ref.tied_kernel(p, 3), oracle.ref.identity_g(3, 3),
                                         oracle.ref.uniform_q0(3)))
    want = oracle.first_reach(exact, 0.9)
    for rationalized in (False, True):
        got = tabular.runs_to_level(p0, 3, 200_000, 6, 5, 0.9, np.random.default_rng(9), rationalized)
        assert got.shape == (5,) and (got == want).all()


def test_runs_to_level_rejects_bad_input():
    rng = np.random.default_rng(0)
    for kwargs, word in ((dict(runs=0), "runs"), (dict(level=0.0), "target"), (dict(level=np.nan), "target"),
                         (dict(n=0), "n"), (dict(p0=[0.5, np.nan]), "p0"), (dict(rng=1), "rng")):
        args = dict(p0=[0.5, 0.5], M=3, n=10, iterations=2, runs=2, level=0.9, rng=rng) | kwargs
        with pytest.raises(ValueError, match=word):
            tabular.runs_to_level(**args)


# --- untied starts ----------------------------------------------------------------------------


@pytest.mark.parametrize("start", tabular.UNTIED_STARTS)
def test_untied_start_runs_match_the_oracle(start):
    runs = tabular.untied_start_runs(start, np.random.default_rng(10), starts=3, iterations=3)
    for r in range(3):
        P, g = runs.starts[r].tolist(), runs.ground_truths[r].tolist()
        M = len(g[0])
        q0 = [1 / M] * M
        assert runs.num_states[r] == M and 3 <= M <= 5
        for n in range(4):
            if n:
                P = oracle.ref.tabular_star_step(P, g, q0)
            assert abs(runs.spread[r, n] - max(oracle.spread(P, g))) < TOL
            assert abs(runs.accuracy[r, n] - oracle.ref.accuracy(P, g, q0)) < TOL
        assert np.allclose(runs.finals[r], P, atol=TOL)
        first = runs.starts[r]
        follow = [first[t][s][g[t][s]] for t in range(3) for s in range(M)]
        assert abs(runs.below_chance[r] - np.mean([f < 1 / M for f in follow])) < TOL
    assert runs.solved.dtype == bool and (runs.faithful <= runs.solved).all()


def test_untied_start_runs_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="start"):
        tabular.untied_start_runs("tied", rng)
    for kwargs, word in ((dict(starts=0), "starts"), (dict(iterations=-1), "iterations"),
                         (dict(T=0), "T"), (dict(starts=2.5), "starts")):
        with pytest.raises(ValueError, match=word):
            tabular.untied_start_runs("random rows", rng, **kwargs)
    with pytest.raises(ValueError, match="rng"):
        tabular.untied_start_runs("random rows", 3)
