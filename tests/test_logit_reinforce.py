"""REINFORCE on the follow logits, the brute-force expected steps, runs and sweeps, and bad input.

Expected steps are checked exactly (Fractions) against tests/oracle_policy_gradient.py,
which lists every batch of chains and does not import starlib. Sampled steps are
checked by Monte Carlo: a mean must lie within 5 standard errors of its exact value.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

import oracle_policy_gradient as oracle
import starlib as sl

Z = 5.0

CASES = [(3, ["1/2", "3/4"], 2), (3, ["1/6", "2/3"], 3), (2, ["1/3", "3/5", "1/2"], 2), (4, ["2/5"], 3),
         (3, ["1/5", "3/4"], 2)]


# --- expected steps against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("M, p, n", CASES)
def test_expected_logit_step_equals_every_batch_enumerated(M, p, n):
    p = [Fraction(x) for x in p]
    lr = Fraction(5, 3)
    got = sl.expected_logit_reinforce_step(p, M, n, lr)
    want = oracle.expected_steps(p, M, n, lr)["logit"]
    assert all(isinstance(x, Fraction) for x in got)
    assert list(got) == want
    # The baseline's 1 - 1/n is visible: the step is not the plain gradient in theta.
    no_baseline = [lr * x * (1 - x) * d for x, d in zip(p, sl.accuracy_gradient(p, M))]
    assert list(got) != no_baseline or all(d == 0 for d in no_baseline)


@pytest.mark.parametrize("M, p, n", [(3, ["1/2", "3/4"], 2), (4, ["2/5", "3/4"], 2), (2, ["1/3"], 3)])
def test_expected_logit_step_at_a_temperature_equals_the_enumeration(M, p, n):
    p = [Fraction(x) for x in p]
    got = sl.expected_logit_reinforce_step(p, M, n, 1, temperature=Fraction(1, 2))
    assert list(got) == oracle.expected_steps(p, M, n, 1, power=2)["logit"]
    floats = sl.expected_logit_reinforce_step([float(x) for x in p], M, n, 1.0, temperature=0.5)
    assert np.allclose(floats, [float(x) for x in got], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("M, p, n", CASES)
def test_expected_steps_by_enumeration_equals_the_oracle(M, p, n):
    p = [Fraction(x) for x in p]
    lr = Fraction(3, 7)
    got = sl.expected_steps_by_enumeration(p, M, n, lr)
    want = oracle.expected_steps(p, M, n, lr)
    assert got.reinforce == want["reinforce"] and got.natural_reinforce == want["natural"]
    assert got.logit_reinforce == want["logit"] and got.star_mc == want["star"]
    assert got.no_kept == want["no_kept"] == (1 - oracle.accuracy(p, M)) ** n
    # ...and the closed forms agree with both.
    assert list(sl.expected_reinforce_step(p, M, n, lr, natural=True)) == want["natural"]
    assert list(sl.expected_star_mc_step(p, M, n)) == want["star"]


def test_expected_steps_by_enumeration_with_symbols_matches_the_closed_forms():
    p = list(sympy.symbols("p1 p2", positive=True))
    got = sl.expected_steps_by_enumeration(p, 2, 2, sympy.Rational(1, 3))
    closed = sl.expected_logit_reinforce_step(p, 2, 2, sympy.Rational(1, 3))
    assert all(sympy.simplify(g - c) == 0 for g, c in zip(got.logit_reinforce, closed))


def test_float_expected_logit_step_keeps_a_batch_axis():
    batch = np.array([[0.5, 0.75], [0.2, 0.9]])
    got = sl.expected_logit_reinforce_step(batch, 3, 4, 2.0)
    assert got.shape == batch.shape
    for row, policy in zip(got, batch):
        want = oracle.expected_steps([Fraction(x).limit_denominator(100) for x in policy], 3, 4, 2)["logit"]
        assert np.allclose(row, [float(x) for x in want], rtol=1e-12)


# --- the natural step: batch formula and overshoot threshold --------------------------------------


def test_natural_step_is_eta_b_one_minus_b_times_the_difference_of_follow_shares():
    p, M, n, lr = np.array([0.3, 0.8, 0.6]), 3, 25, 0.7
    for seed in range(20):
        c = sl.follow_counts(p, M, n, np.random.default_rng(seed))
        b = c.kept / n
        share_kept = c.followed_kept / c.kept if c.kept else 0.0
        share_failed = c.followed_failed / c.failed if c.failed else 0.0
        want = np.clip(p + lr * b * (1 - b) * (share_kept - share_failed), 0, 1)
        got = sl.natural_reinforce_step(p, M, n, np.random.default_rng(seed), lr)
        assert np.allclose(got, want, rtol=0, atol=1e-13)


def test_expected_natural_step_stays_below_one_exactly_up_to_n_over_n_minus_one():
    n, grid = 4, [Fraction(k, 100) for k in range(1, 100)]

    def top(rate):  # T = 1, so D_{-1} = 1; the oracle lists every batch of n chains
        return max(x + oracle.expected_steps([x], 2, n, rate)["natural"][0] for x in grid)

    threshold = Fraction(n, n - 1)
    assert top(threshold) <= 1 < top(threshold + Fraction(1, 20))
    # The closed form the chapter uses gives the same numbers as the enumeration at T = 1.
    for x in grid[::20]:
        assert sl.expected_reinforce_step([x], 3, n, threshold, natural=True)[0] == \
            oracle.expected_steps([x], 3, n, threshold)["natural"][0]


def test_a_single_batch_overshoots_at_a_small_rate_and_lands_on_the_clip():
    landed = [sl.natural_reinforce_step([0.99], 2, 2, np.random.default_rng(s), 0.1)[0]
              for s in range(400) if sl.follow_counts([0.99], 2, 2, np.random.default_rng(s)).kept == 1]
    assert landed and all(x == 1.0 for x in landed)


# --- sampled logit steps ---------------------------------------------------------------------------


def test_logit_policy_and_policy_logits_are_inverse_and_match_the_softmax():
    M = 5
    theta = np.array([-800.0, -3.0, 0.0, math.log(4), 2.5, 800.0])
    p = sl.logit_policy(theta, M)
    want = [math.exp(x) / (math.exp(x) + M - 1) if abs(x) < 700 else float(x > 0) for x in theta]
    assert np.allclose(p, want, rtol=1e-14, atol=0)
    assert p[2] == pytest.approx(1 / M, rel=1e-15)  # theta = 0, all logits equal: uniform guessing
    inside = p[1:5]
    assert np.allclose(sl.policy_logits(inside, M), theta[1:5], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("M, p, n, tau", [(3, [0.6, 0.7, 0.5], 20, 1.0), (4, [0.2, 0.9], 2, 1.0),
                                          (3, [0.5, 0.8], 5, 0.5)])
def test_logit_step_mean_matches_the_expected_step(M, p, n, tau):
    runs, lr = 40_000, 0.3
    theta = np.tile(sl.policy_logits(p, M), (runs, 1))
    steps = (sl.logit_reinforce_step(theta, M, n, np.random.default_rng(3), lr, tau) - theta) / lr
    mean, se = steps.mean(axis=0), steps.std(axis=0, ddof=1) / math.sqrt(runs)
    expected = sl.expected_logit_reinforce_step(p, M, n, 1.0, temperature=tau)
    assert np.all(np.abs(mean - expected) <= Z * se), (mean, expected, se)
    if n == 2:  # the factor 1 - 1/n = 1/2 is measurable
        assert np.any(np.abs(mean - expected / (1 - 1 / n)) > Z * se)
    assert np.all(np.abs(steps) <= 1 / (4 * tau) + 1e-12)  # bounded score: no clip needed


def test_logit_iterates_shape_row_zero_and_determinism():
    theta0 = sl.policy_logits([0.5, 0.6], 3)
    a = sl.logit_reinforce_iterates(np.tile(theta0, (7, 1)), 3, 16, 5, np.random.default_rng(4), 2.0)
    b = sl.logit_reinforce_iterates(np.tile(theta0, (7, 1)), 3, 16, 5, np.random.default_rng(4), 2.0)
    assert a.shape == (6, 7, 2) and np.array_equal(a, b) and np.all(a[0] == theta0)
    rng = np.random.default_rng(4)
    x = np.tile(theta0, (7, 1))
    for k in range(1, 6):
        x = sl.logit_reinforce_step(x, 3, 16, rng, 2.0)
        assert np.array_equal(a[k], x)


def test_iterations_to_target_with_logits_is_the_batched_logit_loop():
    M, p0, n, target, max_iterations, lr, runs = 3, [0.5, 0.6], 8, 0.8, 20, 3.0, 4
    result = sl.iterations_to_target("logit_reinforce", p0, M, n, target, max_iterations,
                                     np.random.default_rng(5), runs, lr)
    rng = np.random.default_rng(5)
    theta, reached = np.tile(sl.policy_logits(p0, M), (runs, 1)), np.full(runs, -1)
    final = np.empty((runs, 2))
    active = np.arange(runs)
    for k in range(max_iterations + 1):
        p = sl.logit_policy(theta[active], M)
        final[active] = p
        done = sl.accuracy(p, M) >= target
        reached[active[done]] = k
        active = active[~done]
        if k == max_iterations or not active.size:
            break
        theta[active] = sl.logit_reinforce_step(theta[active], M, n, rng, lr)
    assert np.array_equal(result.iterations, reached) and np.allclose(result.final, final, rtol=1e-15, atol=0)


# --- runs, sweeps and their tables -----------------------------------------------------------------


def test_compare_methods_and_its_table():
    methods = [("STaR", "star", None), ("sampled", "star_mc", None), ("logit", "logit_reinforce", 4.0)]
    out = sl.compare_methods([0.5, 0.6], 3, 50, methods, 0.8, 30, np.random.default_rng(6), 5)
    assert [r.label for r in out] == ["STaR", "sampled", "logit"]
    assert out[0].runs.iterations.shape == (1,) and out[2].runs.iterations.shape == (5,)
    assert out[0].runs.iterations[0] == sl.iterations_to_accuracy([0.5, 0.6], 3, 0.8, 30)
    for r in out:
        assert r.summary == sl.run_summary(r.runs.iterations) and 0 <= r.collapsed <= r.summary.failed
    table = sl.comparison_table(out, 50)
    assert len(table.splitlines()) == 5 and max(map(len, table.splitlines())) <= 80


def test_learning_rate_sweep_runs_each_rate_and_marks_failures_that_are_not_collapses():
    p0, M, n = [0.4, 0.45], 3, 20
    sweep = sl.learning_rate_sweep(p0, M, n, ["reinforce", "logit_reinforce"], [0.01, 5.0], 0.9, 4,
                                   np.random.default_rng(7), 6)
    assert set(sweep) == {("reinforce", 0.01), ("reinforce", 5.0), ("logit_reinforce", 0.01),
                          ("logit_reinforce", 5.0), ("star_mc", None)}
    crawl = sweep["logit_reinforce", 0.01]  # 4 iterations at a tiny rate: every run fails, none collapses
    assert crawl.summary.failed == 1 and crawl.collapsed == 0
    for r in sweep.values():
        assert r.runs.iterations.shape == (6,)
        failed = r.runs.iterations < 0
        assert r.collapsed == np.mean(failed & (r.runs.final.min(axis=1) < 1 / n))
    table = sl.sweep_table(sweep, ["reinforce", "logit_reinforce"], [0.01, 5.0], ["p", "logit"])
    assert "100.0%*" in table.splitlines()[2]


# --- bad input -------------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
COUNTS = sl.FollowCounts(kept=3, followed_kept=np.array([2, 3]), failed=2, followed_failed=np.array([1, 0]))
HUGE = [2**63, 2**70]

BAD = [
    # issue: NaN and fractional counts
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(followed_kept=np.array([np.nan, 1.0])))),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(followed_failed=np.array([0.5, 0.0])))),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(kept=2.5))),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(failed=True))),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(kept=-1))),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(followed_kept=np.array([np.inf, 1.0])))),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS._replace(followed_kept="ab"))),
    ("counts", lambda: sl.policy_gradient_estimate([0.5, 0.5], (3, 2))),
    ("baseline", lambda: sl.policy_gradient_estimate([0.5, 0.5], COUNTS, baseline="yes")),
    # issue: iterations=0 skipped every check but two
    ("M", lambda: sl.natural_reinforce_iterates([0.5], 1, 4, 0, RNG, 0.1)),
    ("n", lambda: sl.natural_reinforce_iterates([0.5], 3, 0, 0, RNG, 0.1)),
    ("rng", lambda: sl.natural_reinforce_iterates([0.5], 3, 4, 0, None, 0.1)),
    ("learning_rate", lambda: sl.natural_reinforce_iterates([0.5], 3, 4, 0, RNG, -1.0)),
    ("baseline", lambda: sl.natural_reinforce_iterates([0.5], 3, 4, 0, RNG, 0.1, baseline=None)),
    ("baseline", lambda: sl.natural_reinforce_step([0.5], 3, 4, RNG, 0.1, baseline=1)),
    # logits
    ("theta", lambda: sl.logit_policy([0.0, np.nan], 3)),
    ("theta", lambda: sl.logit_policy([0.0, np.inf], 3)),
    ("theta", lambda: sl.logit_policy([], 3)),
    ("theta", lambda: sl.logit_policy("x", 3)),
    ("M", lambda: sl.logit_policy([0.0], 1)),
    ("p", lambda: sl.policy_logits([0.0, 0.5], 3)),
    ("p", lambda: sl.policy_logits([1.0], 3)),
    ("p", lambda: sl.policy_logits([1.5], 3)),
    ("M", lambda: sl.policy_logits([0.5], 2.0)),
    ("theta", lambda: sl.logit_reinforce_step([np.nan], 3, 4, RNG, 0.1)),
    ("M", lambda: sl.logit_reinforce_step([0.0], 0, 4, RNG, 0.1)),
    ("n", lambda: sl.logit_reinforce_step([0.0], 3, 0, RNG, 0.1)),
    ("n", lambda: sl.logit_reinforce_step([0.0], 3, 2.5, RNG, 0.1)),
    ("rng", lambda: sl.logit_reinforce_step([0.0], 3, 4, 1, 0.1)),
    ("learning_rate", lambda: sl.logit_reinforce_step([0.0], 3, 4, RNG, 0)),
    ("temperature", lambda: sl.logit_reinforce_step([0.0], 3, 4, RNG, 0.1, temperature=0)),
    ("theta0", lambda: sl.logit_reinforce_iterates([[np.inf]], 3, 4, 2, RNG, 0.1)),
    ("iterations", lambda: sl.logit_reinforce_iterates([0.0], 3, 4, -1, RNG, 0.1)),
    ("rng", lambda: sl.logit_reinforce_iterates([0.0], 3, 4, 0, None, 0.1)),
    ("p", lambda: sl.expected_logit_reinforce_step([0.5, 2.0], 3, 4, 0.1)),
    ("n", lambda: sl.expected_logit_reinforce_step([0.5], 3, 0, 0.1)),
    ("learning_rate", lambda: sl.expected_logit_reinforce_step([0.5], 3, 4, math.nan)),
    ("temperature", lambda: sl.expected_logit_reinforce_step([Fraction(1, 2)], 3, 4, 1, Fraction(2, 3))),
    # the enumeration
    ("p", lambda: sl.expected_steps_by_enumeration([0.5, 0.5], 3, 2, 1)),
    ("p", lambda: sl.expected_steps_by_enumeration([Fraction(0), Fraction(1, 2)], 3, 2, 1)),
    ("p", lambda: sl.expected_steps_by_enumeration([Fraction(3, 2)], 3, 2, 1)),
    ("n", lambda: sl.expected_steps_by_enumeration([Fraction(1, 2)], 3, 0, 1)),
    ("M", lambda: sl.expected_steps_by_enumeration([Fraction(1, 2)], 1, 2, 1)),
    ("learning_rate", lambda: sl.expected_steps_by_enumeration([Fraction(1, 2)], 3, 2, -1)),
    # runs and sweeps
    ("methods", lambda: sl.compare_methods([0.5], 3, 4, [], 0.9, 5, RNG, 2)),
    ("methods", lambda: sl.compare_methods([0.5], 3, 4, [("a", "star")], 0.9, 5, RNG, 2)),
    ("method", lambda: sl.compare_methods([0.5], 3, 4, [("a", "ppo", None)], 0.9, 5, RNG, 2)),
    ("rng", lambda: sl.compare_methods([0.5], 3, 4, [("a", "star", None)], 0.9, 5, 3, 2)),
    ("p0", lambda: sl.iterations_to_target("logit_reinforce", [1.0, 0.5], 3, 4, 0.99, 5, RNG, 2, 1.0)),
    ("methods", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["star"], [1.0], 0.9, 5, RNG, 2)),
    ("learning_rate", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], [0.0], 0.9, 5, RNG, 2)),
    ("runs", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], [1.0], 0.9, 5, RNG, 0)),
    ("target", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], [1.0], 2.0, 5, RNG, 2)),
    ("results", lambda: sl.comparison_table([], 4)),
    ("results", lambda: sl.comparison_table([("a", 1)], 4)),
    ("n", lambda: sl.comparison_table(sl.compare_methods([0.5], 3, 4, [("a", "star", None)], 0.9, 2, RNG, 1), 0)),
    ("sweep", lambda: sl.sweep_table([], ["reinforce"], [1.0], ["p"])),
    ("sweep", lambda: sl.sweep_table({}, ["reinforce"], [1.0], ["p"])),
    ("short_names", lambda: sl.sweep_table({}, ["reinforce"], [1.0], ["p", "q"])),
    ("short_names", lambda: sl.sweep_table({}, ["reinforce"], [1.0], [3])),
    ("methods", lambda: sl.sweep_table({}, [], [1.0], [])),
    ("rates", lambda: sl.sweep_table({}, ["reinforce"], [], ["p"])),
    ("rates", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], [], 0.9, 5, RNG, 2)),
    ("rates", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], [1.0, 1.0], 0.9, 5, RNG, 2)),
    ("rates", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], "x", 0.9, 5, RNG, 2)),
    ("methods", lambda: sl.compare_methods([0.5], 3, 4, [(1, "star", None)], 0.9, 5, RNG, 2)),
    ("natural", lambda: sl.expected_reinforce_step([0.5], 3, 4, 0.1, natural=math.nan)),
    ("natural", lambda: sl.expected_reinforce_step([0.5], 3, 4, 0.1, natural="yes")),
    ("low", lambda: sl.run_summary(np.array([1, 2]), low=True)),
    ("low", lambda: sl.run_summary(np.array([1, 2]), low=0.9, high=0.1)),
    ("methods", lambda: sl.compare_methods([0.5], 3, 4, None, 0.9, 5, RNG, 2)),
    ("methods", lambda: sl.compare_methods([0.5], 3, 4, [("a", "reinforce", None)], 0.9, 5, RNG, 2)),
    ("methods", lambda: sl.compare_methods([0.5], 3, 4, [("a", "star", 0.1)], 0.9, 5, RNG, 2)),
    ("results", lambda: sl.comparison_table(None, 4)),
    ("methods", lambda: sl.learning_rate_sweep([0.5], 3, 4, None, [1.0], 0.9, 5, RNG, 2)),
    ("rates", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], [1.0, np.nan], 0.9, 5, RNG, 2)),
    ("rates", lambda: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], None, 0.9, 5, RNG, 2)),
    ("short_names", lambda: sl.sweep_table({}, ["reinforce"], [1.0], None)),
    ("short_names", lambda: sl.sweep_table({}, ["reinforce"], [1.0], {"logit_reinforce": "logit"})),
]
# issue: a sample size too large for int64 raised OverflowError or TypeError
for huge in HUGE:
    BAD += [
        ("n", lambda n=huge: sl.reinforce_step([0.5], 3, n, RNG, 0.1)),
        ("n", lambda n=huge: sl.reinforce_iterates([0.5], 3, n, 2, RNG, 0.1)),
        ("n", lambda n=huge: sl.natural_reinforce_step([0.5], 3, n, RNG, 0.1)),
        ("n", lambda n=huge: sl.natural_reinforce_iterates([0.5], 3, n, 2, RNG, 0.1)),
        ("n", lambda n=huge: sl.logit_reinforce_step([0.0], 3, n, RNG, 0.1)),
        ("n", lambda n=huge: sl.logit_reinforce_iterates([0.0], 3, n, 2, RNG, 0.1)),
        ("n", lambda n=huge: sl.iterations_to_target("reinforce", [0.5], 3, n, 0.9, 3, RNG, 2, 0.1)),
        ("n", lambda n=huge: sl.compare_methods([0.5], 3, n, [("a", "star", None)], 0.9, 3, RNG, 2)),
        ("n", lambda n=huge: sl.learning_rate_sweep([0.5], 3, n, ["reinforce"], [0.1], 0.9, 3, RNG, 2)),
        # runs too: the runs are one int64 batch
        ("runs", lambda r=huge: sl.iterations_to_target("reinforce", [0.5], 3, 4, 0.9, 3, RNG, r, 0.1)),
        ("runs", lambda r=huge: sl.compare_methods([0.5], 3, 4, [("a", "star", None)], 0.9, 3, RNG, r)),
        ("runs", lambda r=huge: sl.learning_rate_sweep([0.5], 3, 4, ["reinforce"], [0.1], 0.9, 3, RNG, r)),
    ]


@pytest.mark.parametrize("name, call", BAD, ids=[f"{i}-{name}" for i, (name, _) in enumerate(BAD)])
def test_bad_input_raises_value_error_naming_the_argument(name, call):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_the_largest_int64_sample_size_is_accepted():
    new = sl.reinforce_step([0.5, 0.6], 3, 2**62, np.random.default_rng(1), 0.1)
    assert np.all(np.isfinite(new))


def test_sweep_table_takes_short_names_as_a_list_or_by_method():
    sweep = sl.learning_rate_sweep([0.5, 0.6], 3, 4, ["reinforce", "logit_reinforce"], [0.5, 2.0], 0.9, 3,
                                   np.random.default_rng(2), 3)
    as_list = sl.sweep_table(sweep, ["reinforce", "logit_reinforce"], [0.5, 2.0], ["p", "logit"])
    by_method = sl.sweep_table(sweep, ["reinforce", "logit_reinforce"], [0.5, 2.0],
                               {"logit_reinforce": "logit", "reinforce": "p"})
    assert by_method == as_list
    assert as_list.splitlines()[0].split() == ["eta", "p", "med", "p", "fail", "logit", "med", "logit", "fail"]


def test_tables_show_one_failed_run_in_two_hundred_as_half_a_percent():
    iterations = np.array([3] * 199 + [-1])
    runs = sl.comparisons.TargetRuns(iterations, np.full((200, 1), 0.5))
    r = sl.comparisons.MethodRuns("p 1", "reinforce", 1.0, runs, sl.run_summary(iterations), 0.0)
    assert "0.5%*" in sl.sweep_table({("reinforce", 1.0): r}, ["reinforce"], [1.0], ["p"])
    assert "0.5%" in sl.comparison_table([r], 10)
