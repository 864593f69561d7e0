"""STaR against policy gradient: the expected steps of starlib.policy_gradient and starlib.comparisons.

The closed-form expected steps are checked exactly, in rational arithmetic,
against a brute-force enumeration written here: every chain of the tied policy
with identity ground truth (s_0 uniform over the M states; step t keeps the
state with probability p_t, else moves to one of the other M - 1 states
uniformly), and every batch of n of them. Statistical checks use fixed seeds,
so they are deterministic; a mean must lie within 5 standard errors of its
exact value. Only the public behaviour is tested.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

import starlib as sl

Z = 5.0  # a mean may lie this many standard errors from its exact value


# --- a tiny exact enumeration ----------------------------------------------------------------


def outcome_law(p, M, one=Fraction(1)):
    """Pr of every (correct, followed-at-each-step) outcome of one chain, by listing all chains.

    ``one`` fixes the arithmetic (Fraction(1) or sympy.Integer(1)), so that the same
    enumeration runs on rationals and on SymPy symbols.
    """
    T = len(p)
    law = {}
    for states in itertools.product(range(M), repeat=T + 1):
        w = one / M
        follows = []
        for t in range(T):
            followed = states[t + 1] == states[t]
            w = w * (p[t] if followed else (1 - p[t]) / (M - 1))
            follows.append(followed)
        key = (states[-1] == states[0], tuple(follows))
        law[key] = law.get(key, 0) + w
    return law


def batches(p, M, n, one=Fraction(1)):
    """Every batch of n independent chains: (probability, [(correct, follows), ...])."""
    for batch in itertools.product(outcome_law(p, M, one).items(), repeat=n):
        yield math.prod((w for _, w in batch), start=one), [outcome for outcome, _ in batch]


def enumerated_reinforce_step(p, M, n, learning_rate, natural=False, one=Fraction(1)):
    """E[learning_rate * sum_i (r_i - b) s_it / n], b the batch-mean reward; natural: s_it * p_t (1 - p_t)."""
    T = len(p)
    total = [0 * one] * T
    for w, batch in batches(p, M, n, one):
        b = one * sum(correct for correct, _ in batch) / n
        for t in range(T):
            if natural:  # p (1 - p) times the score, written out (no division)
                scores = [(1 - p[t]) if f[t] else -p[t] for _, f in batch]
            else:
                scores = [1 / p[t] if f[t] else -1 / (1 - p[t]) for _, f in batch]
            s = sum(((1 if correct else 0) - b) * score for (correct, _), score in zip(batch, scores))
            total[t] += w * learning_rate * s / n
    return total


def enumerated_star_mc_step(p, M, n, one=Fraction(1)):
    """E[followed_kept_t / kept - p_t] over batches with kept > 0 (no change when kept = 0)."""
    T = len(p)
    total = [0 * one] * T
    for w, batch in batches(p, M, n, one):
        kept = sum(correct for correct, _ in batch)
        if kept == 0:
            continue
        for t in range(T):
            followed_kept = sum(1 for correct, f in batch if correct and f[t])
            total[t] += w * (one * followed_kept / kept - p[t])
    return total


# (M, p, n): chance-level and below-chance steps, T = 1 to 3, n = 2 and 3.
EXACT_CASES = [
    (3, ["1/2", "3/4"], 2),
    (3, ["1/6", "2/3"], 3),
    (2, ["1/3", "3/5", "1/2"], 2),
    (4, ["2/5"], 3),
    (3, ["1/5", "3/4"], 2),
]


def test_enumeration_is_a_probability_law_with_the_exact_accuracy():
    """Guards the reference itself: total mass 1 and Pr(correct) = sl.accuracy."""
    p, M = [Fraction(1, 2), Fraction(3, 4)], 3
    law = outcome_law(p, M)
    assert sum(law.values()) == 1
    assert sum(w for (correct, _), w in law.items() if correct) == sl.accuracy(p, M)


# --- expected steps against the enumeration ---------------------------------------------------


@pytest.mark.parametrize("M, p, n", EXACT_CASES)
@pytest.mark.parametrize("learning_rate", [1, 3, Fraction(3, 7)])
def test_expected_reinforce_step_equals_enumeration_exactly(M, p, n, learning_rate):
    p = [Fraction(x) for x in p]
    got = sl.expected_reinforce_step(p, M, n, learning_rate)
    want = enumerated_reinforce_step(p, M, n, learning_rate)
    assert all(isinstance(x, Fraction) for x in got), got
    assert list(got) == want, (got, want)
    # The batch-mean baseline costs a factor 1 - 1/n: the plain gradient is not the answer.
    plain = [learning_rate * d for d in sl.accuracy_gradient(p, M)]
    assert list(got) != plain


@pytest.mark.parametrize("M, p, n", EXACT_CASES)
def test_expected_natural_reinforce_step_equals_enumeration_exactly(M, p, n):
    p = [Fraction(x) for x in p]
    learning_rate = Fraction(2, 5)
    got = sl.expected_reinforce_step(p, M, n, learning_rate, natural=True)
    want = enumerated_reinforce_step(p, M, n, learning_rate, natural=True)
    assert all(isinstance(x, Fraction) for x in got), got
    assert list(got) == want, (got, want)
    assert list(got) != list(sl.expected_reinforce_step(p, M, n, learning_rate))


@pytest.mark.parametrize("M, p, n", EXACT_CASES)
def test_expected_star_mc_step_equals_enumeration_exactly(M, p, n):
    p = [Fraction(x) for x in p]
    got = sl.expected_star_mc_step(p, M, n)
    want = enumerated_star_mc_step(p, M, n)
    assert all(isinstance(x, Fraction) for x in got), got
    assert list(got) == want, (got, want)
    # A batch with no kept chain leaves p alone, so the mean step is shorter than the exact map's.
    exact_map = [y - x for x, y in zip(p, sl.star_step(p, M))]
    assert list(got) != exact_map


@pytest.mark.parametrize("M, p, n", EXACT_CASES[:3])
def test_float_expected_steps_match_the_exact_ones_also_in_a_batch(M, p, n):
    exact = [Fraction(x) for x in p]
    floats = np.array([float(x) for x in exact])
    batch = np.stack([floats, floats[::-1]])  # leading axis: two policies
    for natural in (False, True):
        got = sl.expected_reinforce_step(batch, M, n, 0.5, natural=natural)
        assert np.shape(got) == batch.shape
        for row, policy in zip(got, ([*exact], [*exact][::-1])):
            want = [float(x) for x in enumerated_reinforce_step(policy, M, n, Fraction(1, 2), natural=natural)]
            assert np.allclose(row, want, rtol=1e-12, atol=1e-15), (row, want)
    got = sl.expected_star_mc_step(batch, M, n)
    assert np.shape(got) == batch.shape
    for row, policy in zip(got, ([*exact], [*exact][::-1])):
        want = [float(x) for x in enumerated_star_mc_step(policy, M, n)]
        assert np.allclose(row, want, rtol=1e-12, atol=1e-15), (row, want)


def test_expected_steps_of_symbolic_policies_simplify_to_the_enumeration():
    M, n = 3, 2
    p = list(sympy.symbols("p1 p2", positive=True))
    one = sympy.Integer(1)
    lr = sympy.Rational(3, 7)
    for natural in (False, True):
        got = sl.expected_reinforce_step(p, M, n, lr, natural=natural)
        want = enumerated_reinforce_step(p, M, n, lr, natural=natural, one=one)
        assert len(got) == len(p)
        for g, w in zip(got, want):
            assert sympy.simplify(g - w) == 0, (g, w)
    got = sl.expected_star_mc_step(p, M, n)
    want = enumerated_star_mc_step(p, M, n, one=one)
    for g, w in zip(got, want):
        assert sympy.simplify(g - w) == 0, (g, w)


def test_expected_steps_with_symbolic_m_n_and_learning_rate_evaluate_to_the_enumeration():
    M_, n_, lr_ = sympy.symbols("M n eta", positive=True)
    p = [Fraction(1, 2), Fraction(3, 4)]
    values = {M_: 3, n_: 2, lr_: sympy.Rational(3, 7)}
    for natural in (False, True):
        got = sl.expected_reinforce_step([sympy.Rational(x) for x in p], M_, n_, lr_, natural=natural)
        want = enumerated_reinforce_step(p, 3, 2, Fraction(3, 7), natural=natural)
        assert [sympy.simplify(g.subs(values)) for g in got] == [sympy.Rational(w) for w in want]
    got = sl.expected_star_mc_step([sympy.Rational(x) for x in p], M_, n_)
    want = enumerated_star_mc_step(p, 3, 2)
    assert [sympy.simplify(g.subs(values)) for g in got] == [sympy.Rational(w) for w in want]


# --- policy_gradient_estimate ------------------------------------------------------------------


def per_chain_estimate(p, chains, baseline):
    """(1/n) sum_i (r_i - b) s_it, chain by chain, from explicit chains."""
    p = np.asarray(p, dtype=float)
    correct = (chains[:, -1] == chains[:, 0]).astype(float)
    follows = chains[:, 1:] == chains[:, :-1]
    scores = np.where(follows, 1.0 / p, -1.0 / (1.0 - p))
    b = correct.mean() if baseline else 0.0
    return ((correct - b)[:, None] * scores).mean(axis=0)


@pytest.mark.parametrize("M, p, n", [(3, [0.6, 0.8], 50), (2, [0.3, 0.7, 0.55], 17), (5, [0.25], 8)])
@pytest.mark.parametrize("baseline", [True, False])
def test_policy_gradient_estimate_equals_the_estimate_from_sampled_chains(M, p, n, baseline):
    chains = sl.sample_chains(p, M, n, np.random.default_rng(11))
    correct = chains[:, -1] == chains[:, 0]
    follows = chains[:, 1:] == chains[:, :-1]
    counts = sl.FollowCounts(
        kept=int(correct.sum()),
        followed_kept=(follows & correct[:, None]).sum(axis=0),
        failed=int((~correct).sum()),
        followed_failed=(follows & ~correct[:, None]).sum(axis=0),
    )
    assert 0 < counts.kept < n  # both rewards occur, so the estimate is informative
    got = sl.policy_gradient_estimate(p, counts, baseline=baseline)
    want = per_chain_estimate(p, chains, baseline)
    assert got.shape == (len(p),)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (got, want)


def test_policy_gradient_estimate_is_what_reinforce_step_applies():
    p, M, n, lr = np.array([0.55, 0.7, 0.4]), 3, 40, 1e-3
    for seed in range(5):
        counts = sl.follow_counts(p, M, n, np.random.default_rng(seed))
        estimate = sl.policy_gradient_estimate(p, counts)
        assert np.any(estimate != 0)
        stepped = sl.reinforce_step(p, M, n, np.random.default_rng(seed), lr)
        assert np.allclose(stepped, p + lr * estimate, rtol=0, atol=1e-14), (stepped, p + lr * estimate)


# --- natural-gradient REINFORCE ----------------------------------------------------------------


def natural_steps(p, M, n, lr, seeds, baseline=True):
    return np.array([
        (sl.natural_reinforce_step(p, M, n, np.random.default_rng(s), lr, baseline=baseline) - p) / lr
        for s in seeds
    ])


@pytest.mark.parametrize("M, p, n", [(3, [0.5, 0.8], 2), (4, [0.3, 0.6, 0.9], 6)])
def test_natural_reinforce_step_mean_matches_the_expected_natural_step(M, p, n):
    p = np.array(p)
    lr = 1e-3  # small enough that the clip into [0, 1] never binds
    steps = natural_steps(p, M, n, lr, range(4000))
    mean, se = steps.mean(axis=0), steps.std(axis=0, ddof=1) / math.sqrt(len(steps))
    expected = np.asarray(sl.expected_reinforce_step(p, M, n, 1.0, natural=True))
    assert np.all(se > 0)
    assert np.all(np.abs(mean - expected) <= Z * se), (mean, expected, se)
    # The test can tell the natural step from the plain one and from the step without the 1 - 1/n.
    plain = np.asarray(sl.expected_reinforce_step(p, M, n, 1.0))
    assert np.any(np.abs(mean - plain) > Z * se)
    assert np.any(np.abs(mean - expected / (1 - 1 / n)) > Z * se)


def test_natural_reinforce_step_without_baseline_has_no_one_minus_one_over_n():
    p, M, n = np.array([0.5, 0.8]), 3, 2
    steps = natural_steps(p, M, n, 1e-3, range(4000), baseline=False)
    mean, se = steps.mean(axis=0), steps.std(axis=0, ddof=1) / math.sqrt(len(steps))
    expected = p * (1 - p) * np.asarray(sl.accuracy_gradient(p, M))
    assert np.all(np.abs(mean - expected) <= Z * se), (mean, expected, se)
    assert np.any(np.abs(mean - (1 - 1 / n) * expected) > Z * se)


def test_natural_reinforce_without_baseline_at_rate_n_over_kept_is_star_step_mc():
    p, M, n = np.array([0.45, 0.7, 0.6]), 3, 30
    for seed in range(5):
        kept = sl.follow_counts(p, M, n, np.random.default_rng(seed)).kept
        assert kept > 0
        got = sl.natural_reinforce_step(p, M, n, np.random.default_rng(seed), n / kept, baseline=False)
        want = sl.star_step_mc(p, M, n, np.random.default_rng(seed))
        assert np.allclose(got, want, rtol=0, atol=1e-14), (got, want)


def test_natural_reinforce_step_shape_range_and_determinism():
    p, M, n = [0.5, 0.6, 0.7], 3, 10
    a = sl.natural_reinforce_step(p, M, n, np.random.default_rng(3), 2.0)
    b = sl.natural_reinforce_step(p, M, n, np.random.default_rng(3), 2.0)
    c = sl.natural_reinforce_step(p, M, n, np.random.default_rng(4), 2.0)
    assert a.shape == (3,) and a.dtype == float
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    big = sl.natural_reinforce_step(p, M, n, np.random.default_rng(5), 1e6)  # clipped into [0, 1]
    assert np.all((big >= 0) & (big <= 1))


def test_natural_reinforce_iterates_shape_determinism_and_steps():
    p0, M, n, iterations, lr = [0.5, 0.6], 3, 16, 25, 0.5
    traj = sl.natural_reinforce_iterates(p0, M, n, iterations, np.random.default_rng(8), lr)
    assert traj.shape == (iterations + 1, 2)
    assert np.array_equal(traj[0], p0)
    assert np.all((traj >= 0) & (traj <= 1))
    assert np.array_equal(traj, sl.natural_reinforce_iterates(p0, M, n, iterations, np.random.default_rng(8), lr))
    assert not np.array_equal(traj, sl.natural_reinforce_iterates(p0, M, n, iterations, np.random.default_rng(9), lr))
    # Every row is one natural_reinforce_step from the row before, all from the same generator.
    rng = np.random.default_rng(8)
    row = np.array(p0)
    for k in range(1, iterations + 1):
        row = sl.natural_reinforce_step(row, M, n, rng, lr)
        assert np.array_equal(traj[k], row), k
    assert sl.natural_reinforce_iterates(p0, M, n, 0, np.random.default_rng(8), lr).shape == (1, 2)


# --- iterations_to_target and run_summary -------------------------------------------------------


@pytest.mark.parametrize("M, p0, target", [(3, [0.5, 0.6, 0.55], 0.9), (5, [0.4, 0.7], 0.95), (2, [0.7, 0.8, 0.9], 0.99)])
def test_star_runs_agree_with_iterations_to_accuracy(M, p0, target):
    runs, max_iterations = 3, 200
    exact = sl.iterations_to_accuracy(p0, M, target, max_iterations)
    assert exact > 1
    result = sl.iterations_to_target("star", p0, M, 10**9, target, max_iterations, np.random.default_rng(0), runs)
    assert isinstance(result, sl.TargetRuns)
    assert result._fields == ("iterations", "final")
    assert result.iterations.shape == (runs,) and result.iterations.dtype == np.int64
    assert result.final.shape == (runs, len(p0))
    assert np.all(np.abs(result.iterations - exact) <= 1), (result.iterations, exact)
    # The policy where each run stopped is the exact iterate at the reported iteration.
    k = int(result.iterations[0])
    assert np.allclose(result.final, np.asarray(sl.star_iterates(p0, M, k))[k], rtol=1e-12, atol=0)
    assert sl.accuracy(result.final[0], M) >= target


def test_star_mc_runs_with_huge_n_agree_with_iterations_to_accuracy():
    M, p0, target = 3, [0.5, 0.6, 0.55], 0.9
    exact = sl.iterations_to_accuracy(p0, M, target, 200)
    result = sl.iterations_to_target("star_mc", p0, M, 10**12, target, 200, np.random.default_rng(1), 4)
    assert result.iterations.shape == (4,)
    assert np.all(np.abs(result.iterations - exact) <= 1), (result.iterations, exact)


def test_iterations_to_target_already_there_and_never_reached():
    M, p0 = 3, [0.5, 0.6]
    there = sl.iterations_to_target("star", p0, M, 8, sl.accuracy(p0, M), 5, np.random.default_rng(0), 2)
    assert np.array_equal(there.iterations, [0, 0])
    assert np.array_equal(there.final, [p0, p0])
    missed = sl.iterations_to_target("star", p0, M, 8, 0.999, 2, np.random.default_rng(0), 2)
    assert np.array_equal(missed.iterations, [-1, -1])
    assert np.allclose(missed.final, np.asarray(sl.star_iterates(p0, M, 2))[2], rtol=1e-12, atol=0)


def test_iterations_to_target_steps_the_unfinished_runs_as_one_batch():
    M, p0, n, target, max_iterations, lr, runs = 3, [0.5, 0.6], 8, 0.8, 15, 0.05, 3
    result = sl.iterations_to_target("reinforce", p0, M, n, target, max_iterations, np.random.default_rng(21), runs, lr)
    again = sl.iterations_to_target("reinforce", p0, M, n, target, max_iterations, np.random.default_rng(21), runs, lr)
    assert np.array_equal(result.iterations, again.iterations) and np.array_equal(result.final, again.final)
    rng = np.random.default_rng(21)
    p, reached = np.tile(p0, (runs, 1)), np.full(runs, -1)
    active = np.arange(runs)
    for k in range(max_iterations + 1):
        done = sl.accuracy(p[active], M) >= target
        reached[active[done]] = k
        active = active[~done]
        if k == max_iterations or not active.size:
            break
        p[active] = sl.reinforce_step(p[active], M, n, rng, lr)
    assert np.array_equal(result.iterations, reached), (result.iterations, reached)
    assert np.array_equal(result.final, p)
    assert len(set(map(tuple, result.final))) == runs  # the runs differ


@pytest.mark.parametrize("method, lr", [("star_mc", None), ("reinforce", 0.5), ("natural_reinforce", 2.0),
                                        ("logit_reinforce", 5.0)])
def test_iterations_to_target_sampled_methods_reach_an_easy_target(method, lr):
    M, p0, target = 3, [0.6, 0.7], 0.6
    result = sl.iterations_to_target(method, p0, M, 64, target, 300, np.random.default_rng(2), 3, lr)
    assert np.all(result.iterations > 0)
    assert np.all(sl.accuracy(result.final, M) >= target)


def test_run_summary_without_failed_runs():
    summary = sl.run_summary(np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]))
    assert isinstance(summary, sl.RunSummary)
    assert summary._fields == ("median", "low", "high", "failed")
    # Sorted: 1 1 2 3 3 4 5 5 6 9; quantile q at position 9 q, linearly interpolated.
    assert summary.median == 3.5
    assert summary.low == 1.0
    assert math.isclose(summary.high, 6.3, rel_tol=1e-12)
    assert summary.failed == 0.0
    assert all(isinstance(x, float) for x in summary)
    other = sl.run_summary([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], low=0.25, high=0.5)
    assert other.low == 2.25 and other.high == 3.5


def test_run_summary_counts_failed_runs_as_infinite():
    # Sorted with failures as infinity: 1 2 4 inf inf.
    summary = sl.run_summary(np.array([2, -1, 4, -1, 1]))
    assert summary.median == 4.0
    assert math.isclose(summary.low, 1.4, rel_tol=1e-12)
    assert summary.failed == 0.4
    assert summary.high == math.inf, summary  # the 0.9 quantile lies among the failed runs


def test_run_summary_when_every_run_failed():
    summary = sl.run_summary(np.array([-1, -1, -1]))
    assert summary.failed == 1.0
    assert summary == (math.inf, math.inf, math.inf, 1.0), summary


def test_run_summary_median_between_a_success_and_a_failure_is_infinite():
    summary = sl.run_summary(np.array([7, -1]))
    assert summary.median == math.inf and summary.low == math.inf and summary.failed == 0.5


def test_run_summary_of_iterations_to_target():
    result = sl.iterations_to_target("star", [0.5, 0.6], 3, 1, 0.9, 100, np.random.default_rng(0), 4)
    summary = sl.run_summary(result.iterations)
    k = float(sl.iterations_to_accuracy([0.5, 0.6], 3, 0.9, 100))
    assert summary == (k, k, k, 0.0)


# --- bad input ------------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
COUNTS = sl.FollowCounts(kept=3, followed_kept=np.array([2, 3]), failed=2, followed_failed=np.array([1, 0]))

BAD = [
    # expected_reinforce_step
    ("p", lambda: sl.expected_reinforce_step([0.5, 1.5], 3, 4, 0.1)),
    ("p", lambda: sl.expected_reinforce_step([0.5, math.nan], 3, 4, 0.1)),
    ("M", lambda: sl.expected_reinforce_step([0.5], 1, 4, 0.1)),
    ("M", lambda: sl.expected_reinforce_step([0.5], 2.5, 4, 0.1)),
    ("n", lambda: sl.expected_reinforce_step([0.5], 3, 0, 0.1)),
    ("n", lambda: sl.expected_reinforce_step([0.5], 3, 2.5, 0.1)),
    ("n", lambda: sl.expected_reinforce_step([0.5], 3, True, 0.1)),
    ("learning_rate", lambda: sl.expected_reinforce_step([0.5], 3, 4, 0)),
    ("learning_rate", lambda: sl.expected_reinforce_step([0.5], 3, 4, -0.1)),
    ("learning_rate", lambda: sl.expected_reinforce_step([0.5], 3, 4, math.inf)),
    ("learning_rate", lambda: sl.expected_reinforce_step([0.5], 3, 4, math.nan)),
    ("learning_rate", lambda: sl.expected_reinforce_step([0.5], 3, 4, True)),
    ("learning_rate", lambda: sl.expected_reinforce_step([0.5], 3, 4, "0.1")),
    # expected_star_mc_step
    ("p", lambda: sl.expected_star_mc_step([-0.1, 0.5], 3, 4)),
    ("M", lambda: sl.expected_star_mc_step([0.5], True, 4)),
    ("n", lambda: sl.expected_star_mc_step([0.5], 3, -2)),
    # policy_gradient_estimate
    ("p", lambda: sl.policy_gradient_estimate([1.2, 0.5], COUNTS)),
    ("p", lambda: sl.policy_gradient_estimate([1.0, 0.5], COUNTS)),  # score -1/(1 - p) is infinite
    ("p", lambda: sl.policy_gradient_estimate([[0.5, 0.5]], COUNTS)),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5, 0.5], COUNTS)),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(followed_kept=np.array([4, 0])))),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(kept=0, failed=0))),
    # natural_reinforce_step / natural_reinforce_iterates
    ("p", lambda: sl.natural_reinforce_step([0.5, 2.0], 3, 4, RNG, 0.1)),
    ("p", lambda: sl.natural_reinforce_step([[0.5, 0.5]], 3, 4, RNG, 0.1)),
    ("M", lambda: sl.natural_reinforce_step([0.5], 0, 4, RNG, 0.1)),
    ("n", lambda: sl.natural_reinforce_step([0.5], 3, 0, RNG, 0.1)),
    ("rng", lambda: sl.natural_reinforce_step([0.5], 3, 4, 0, 0.1)),
    ("rng", lambda: sl.natural_reinforce_step([0.5], 3, 4, np.random.RandomState(0), 0.1)),
    ("learning_rate", lambda: sl.natural_reinforce_step([0.5], 3, 4, RNG, 0.0)),
    ("p0", lambda: sl.natural_reinforce_iterates([0.5, -1.0], 3, 4, 3, RNG, 0.1)),
    ("iterations", lambda: sl.natural_reinforce_iterates([0.5], 3, 4, -1, RNG, 0.1)),
    ("rng", lambda: sl.natural_reinforce_iterates([0.5], 3, 4, 3, None, 0.1)),
    ("learning_rate", lambda: sl.natural_reinforce_iterates([0.5], 3, 4, 3, RNG, -1.0)),
    # iterations_to_target
    ("method", lambda: sl.iterations_to_target("ppo", [0.5], 3, 4, 0.9, 10, RNG, 2)),
    ("p0", lambda: sl.iterations_to_target("star", [0.5, 1.1], 3, 4, 0.9, 10, RNG, 2)),
    ("M", lambda: sl.iterations_to_target("star", [0.5], 1, 4, 0.9, 10, RNG, 2)),
    ("n", lambda: sl.iterations_to_target("star", [0.5], 3, 0, 0.9, 10, RNG, 2)),
    ("target", lambda: sl.iterations_to_target("star", [0.5], 3, 4, 0.0, 10, RNG, 2)),
    ("target", lambda: sl.iterations_to_target("star", [0.5], 3, 4, 1.5, 10, RNG, 2)),
    ("target", lambda: sl.iterations_to_target("star", [0.5], 3, 4, [0.8, 0.9], 10, RNG, 2)),
    ("max_iterations", lambda: sl.iterations_to_target("star", [0.5], 3, 4, 0.9, -1, RNG, 2)),
    ("max_iterations", lambda: sl.iterations_to_target("star", [0.5], 3, 4, 0.9, 2.5, RNG, 2)),
    ("rng", lambda: sl.iterations_to_target("star", [0.5], 3, 4, 0.9, 10, 42, 2)),
    ("runs", lambda: sl.iterations_to_target("star", [0.5], 3, 4, 0.9, 10, RNG, 0)),
    ("runs", lambda: sl.iterations_to_target("star", [0.5], 3, 4, 0.9, 10, RNG, 1.5)),
    ("learning_rate", lambda: sl.iterations_to_target("reinforce", [0.5], 3, 4, 0.9, 10, RNG, 2)),
    ("learning_rate", lambda: sl.iterations_to_target("natural_reinforce", [0.5], 3, 4, 0.9, 10, RNG, 2, -0.5)),
    ("learning_rate", lambda: sl.iterations_to_target("star_mc", [0.5], 3, 4, 0.9, 10, RNG, 2, 0.1)),
    # run_summary
    ("iterations", lambda: sl.run_summary(np.array([1, -2, 3]))),
    ("iterations", lambda: sl.run_summary(np.array([1.0, 2.0]))),
    ("iterations", lambda: sl.run_summary(np.array([], dtype=np.int64))),
    ("iterations", lambda: sl.run_summary(np.array([[1, 2]]))),
    ("low", lambda: sl.run_summary(np.array([1, 2]), low=-0.1)),
    ("high", lambda: sl.run_summary(np.array([1, 2]), high=1.5)),
]


@pytest.mark.parametrize("name, call", BAD, ids=[f"{i}-{name}" for i, (name, _) in enumerate(BAD)])
def test_bad_input_raises_value_error_naming_the_argument(name, call):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
