"""REINFORCE with a batch-mean baseline (starlib.policy_gradient).

What is exactly true: with b the batch's mean reward, the expected step is
learning_rate (1 - 1/n) dA/dp_t (not learning_rate dA/dp_t): E[r_i S_i] = dA/dp_t
and E[r_j S_i] = 0 for j != i, so E[sum_i (r_i - b) S_i] = (n - 1) dA/dp_t.
It is checked here by exact enumeration of every batch of n chains for tiny n
(to 1e-12), and by Monte Carlo (mean within 5 standard errors) for larger n.
"""

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

import exact_reference as ref
import starlib as sl
from starlib.policy_gradient import _score_sum

Z = 5.0


def tempered_gradient(p, M, tau, h=1e-6):
    """dA(tempered(p))/dp_t by central differences of the exact engine (error about 1e-10)."""
    p = np.asarray(p, dtype=float)
    out = np.empty(len(p))
    for t in range(len(p)):
        up, down = p.copy(), p.copy()
        up[t] += h
        down[t] -= h
        out[t] = (sl.accuracy(sl.tempered(up, M, tau), M) - sl.accuracy(sl.tempered(down, M, tau), M)) / (2 * h)
    return out


@pytest.mark.parametrize(
    "M, p, power, n",
    [(3, ["1/2", "3/4"], 1, 2), (3, ["1/6", "2/3"], 1, 3), (2, ["1/3", "3/5", "1/2"], 1, 2), (4, ["2/5", "3/4"], 2, 2)],
)
def test_expected_step_is_one_minus_one_over_n_times_the_gradient_by_enumeration(M, p, power, n):
    T = len(p)
    p = [Fraction(x) for x in p]
    tau = 1.0 / power
    per_chain = Counter()
    for states, w in ref.chains(ref.tied_kernel(p, M, power=power), ref.uniform_q0(M)):
        per_chain[(states[-1] == states[0], tuple(int(states[t + 1] == states[t]) for t in range(T)))] += w
    x = np.array(p, dtype=float)[:, None]
    sampled = sl.tempered(x, M, tau)
    expected_sum = np.zeros(T)
    for batch in itertools.product(per_chain.items(), repeat=n):
        w = float(math.prod(item[1] for item in batch))
        kept = np.array([sum(c for (c, _), _ in batch)])
        fk = np.array([[sum(f[t] for (c, f), _ in batch if c)] for t in range(T)])
        ff = np.array([[sum(f[t] for (c, f), _ in batch if not c)] for t in range(T)])
        expected_sum += w * _score_sum(x, sampled, tau, n, kept, fk, ff)[:, 0]
    if power == 1:
        gradient = np.array(sl.accuracy_gradient(p, M), dtype=float)
    else:
        gradient = tempered_gradient(np.array(p, dtype=float), M, tau)
    assert np.allclose(expected_sum, (1 - 1 / n) * gradient, atol=1e-8, rtol=0), (expected_sum, gradient)
    # ...and it is not the plain gradient (the baseline's bias is visible at tiny n).
    assert np.max(np.abs(expected_sum - gradient)) > 1e-3


@pytest.mark.parametrize("M, p, n", [(3, [0.6, 0.7, 0.5], 20), (4, [0.2, 0.9], 10), (3, [0.5, 0.8], 2)])
def test_mean_step_matches_the_gradient_by_monte_carlo(M, p, n):
    runs, lr = 40_000, 1e-4  # lr small enough that the clip never binds
    rng = np.random.default_rng(7)
    new = sl.reinforce_step(np.tile(p, (runs, 1)), M, n, rng, lr)
    steps = (new - np.asarray(p)) / lr
    mean, se = steps.mean(axis=0), steps.std(axis=0, ddof=1) / math.sqrt(runs)
    gradient = np.asarray(sl.accuracy_gradient(p, M))
    assert np.all(np.abs(mean - (1 - 1 / n) * gradient) <= Z * se), (mean, gradient, se)
    if n == 2:  # the factor 1 - 1/n = 1/2 is measurable, so the test would catch its absence
        assert np.any(np.abs(mean - gradient) > Z * se)


def test_equal_rewards_give_no_step_and_the_clip():
    rng = np.random.default_rng(0)
    # All chains correct (p = 1) or all wrong (T = 1, p = 0): r - b = 0 for every chain.
    assert np.all(sl.reinforce_step([1.0, 1.0], 3, 50, rng, 10.0) == 1 - 1e-12)
    assert np.all(sl.reinforce_step([0.0], 3, 50, rng, 10.0) == 1e-12)
    # A huge learning rate is clipped into [1e-12, 1 - 1e-12].
    big = sl.reinforce_step(np.tile([0.5, 0.6], (100, 1)), 3, 10, rng, 1e6)
    assert np.all((big >= 1e-12) & (big <= 1 - 1e-12))


def test_reinforce_iterates_shape_and_improvement():
    rng = np.random.default_rng(1)
    p0 = [0.5, 0.6, 0.55]
    traj = sl.reinforce_iterates(np.tile(p0, (200, 1)), 3, 64, 30, rng, 0.05)
    assert traj.shape == (31, 200, 3)
    assert np.all(traj[0] == p0)
    A0 = sl.accuracy(p0, 3)
    final = sl.accuracy(traj[-1], 3)
    assert final.mean() > A0 + 0.05, (final.mean(), A0)


@pytest.mark.parametrize("tau", [1.0, 0.5, 2.0, 0.3])
def test_chain_scores_are_derivatives_of_the_log_probabilities(tau):
    """The score of every chain, checked against finite differences of its log-probability under the
    tempered policy (a constant added to both scores would leave the expected step unchanged, so the
    expectation tests cannot see it), and equal to the score sum of a batch of that one chain."""
    M, h = 5, 1e-6
    rng = np.random.default_rng(3)
    for p in ([0.05, 0.3], [0.5, 0.9], [0.3, 0.7]):
        p = np.array(p)
        followed = rng.integers(0, 2, size=(6, 2))

        def log_probability(x, flags):
            q = sl.tempered(x, M, tau)
            return sum(math.log(q[t]) if f else math.log((1 - q[t]) / (M - 1)) for t, f in enumerate(flags))

        scores = sl.policy_gradient.chain_scores(p, M, followed, temperature=tau)
        assert scores.shape == followed.shape
        for flags, score in zip(followed, scores):
            for t in range(2):
                e = h * np.eye(2)[t]
                numeric = (log_probability(p + e, flags) - log_probability(p - e, flags)) / (2 * h)
                assert abs(score[t] - numeric) < 1e-6 * max(1, abs(numeric))
        # one kept chain, no baseline: the score sum of every REINFORCE step is the chain's score
        sampled = np.asarray(sl.tempered(p, M, tau))[:, None]
        one = _score_sum(p[:, None], sampled, tau, 1, np.array([1]), followed[0][:, None].astype(float),
                         np.zeros((2, 1)), baseline=False)[:, 0]
        assert np.allclose(one, scores[0], rtol=1e-12, atol=0)


def test_chain_scores_is_the_score_the_group_methods_use():
    assert sl.chain_scores is sl.policy_gradient.chain_scores is sl.group_rl.chain_scores


def test_batch_step_is_each_methods_step_per_run():
    p = np.array([[0.3, 0.6], [0.5, 0.2], [0.7, 0.4]])  # (runs, T)
    theta = sl.policy_logits(p, 4)
    steps = {"reinforce": (p, lambda x, rng: sl.reinforce_step(x, 4, 16, rng, 0.05)),
             "natural_reinforce": (p[:1], lambda x, rng: sl.natural_reinforce_step(x[0], 4, 16, rng, 0.05)[None]),
             "logit_reinforce": (theta, lambda x, rng: sl.logit_reinforce_step(x, 4, 16, rng, 0.05))}
    for method, (x, one_rate) in steps.items():
        batch = sl.batch_step(method, x.T, 4, 16, np.random.default_rng(3), [0.05] * len(x))
        assert np.array_equal(batch.T, one_rate(x, np.random.default_rng(3))), method
    # Each run takes its own rate: the same sampled gradient, scaled by that run's rate.
    rates = np.array([0.05, 0.1, 0.2])
    moved = sl.batch_step("reinforce", p.T, 4, 16, np.random.default_rng(3), rates)
    same = sl.batch_step("reinforce", p.T, 4, 16, np.random.default_rng(3), [0.05] * 3)
    assert not np.allclose(same, p.T)
    np.testing.assert_allclose((moved - p.T) / rates, (same - p.T) / 0.05, rtol=1e-9, atol=1e-12)
