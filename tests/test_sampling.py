"""The finite-sample engine (starlib.sampling) against the exact engine and enumeration.

Statistical checks use fixed seeds, so they are deterministic; their tolerances
are stated where they are used: a mean within 5 standard errors (SE) of its
exact value, a variance within a stated factor of its exact value. Exact values
come from brute-force enumeration in rational arithmetic (tests/exact_reference.py)
or from the exact engine (sl.accuracy, sl.star_step).
"""

import itertools
import math
import re
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

import exact_reference as ref
import starlib as sl

Z = 5.0  # a mean may lie this many standard errors from its exact value

# (M, p, temperature): above- and below-chance steps, steps at 0 and 1, tempering.
CASES = [
    (3, [0.6, 0.8], 1.0),
    (3, [0.1, 0.2, 0.9], 1.0),  # two below-chance steps
    (4, [0.0, 0.5, 0.7], 1.0),  # a step at 0
    (2, [0.3, 1.0, 0.45, 0.8], 1.0),  # below chance and a step at 1
    (5, [0.4, 0.15, 0.9], 0.5),
    (3, [0.7, 0.2], 2.0),
    (64, [0.3, 0.05, 0.6, 0.2, 0.9, 0.5, 0.4, 0.7], 1.0),
]


def tempered_floats(p, M, tau):
    return np.array([sl.tempered(x, M, tau) for x in p])


def exact_count_probabilities(p, M, tau):
    """Per chain: Pr(correct), Pr(correct and follows step t), Pr(wrong and follows step t)."""
    x = tempered_floats(p, M, tau)
    A = sl.accuracy(x, M)
    kept_follow = A * sl.star_step(x, M) if A > 0 else np.zeros(len(p))
    return A, kept_follow, x - kept_follow


def counts_from_chains(chains, runs, n):
    """FollowCounts-like arrays from explicit chains, `runs` batches of n chains."""
    correct = (chains[:, -1] == chains[:, 0]).reshape(runs, n)
    follows = (chains[:, 1:] == chains[:, :-1]).reshape(runs, n, -1)
    kept = correct.sum(axis=1)
    followed_kept = (follows & correct[..., None]).sum(axis=1)
    followed_failed = (follows & ~correct[..., None]).sum(axis=1)
    return kept, followed_kept, followed_failed


def assert_mean(samples, expected, what):
    samples = np.asarray(samples, dtype=float)
    se = samples.std(axis=0, ddof=1) / math.sqrt(len(samples))
    gap = np.abs(samples.mean(axis=0) - expected)
    assert np.all(gap <= Z * se + 1e-12), (what, samples.mean(axis=0), expected, se)


def assert_variance(samples, expected, factor, what):
    var = np.asarray(samples, dtype=float).var(axis=0, ddof=1)
    expected = np.asarray(expected, dtype=float)
    degenerate = expected < 1e-12
    assert np.all(var[degenerate] < 1e-12), (what, var, expected)
    ratio = var[~degenerate] / expected[~degenerate]
    assert np.all((ratio > 1 / factor) & (ratio < factor)), (what, var, expected)


# --- follow_counts: the exact joint law, for tiny n --------------------------------------------


def exact_follow_counts_law(p, M, power, n):
    """Pr of every (kept, followed_kept..., followed_failed...) for n chains, by enumeration."""
    T = len(p)
    P = ref.tied_kernel([Fraction(x) for x in p], M, power=power)
    per_chain = Counter()
    for states, w in ref.chains(P, ref.uniform_q0(M)):
        correct = states[-1] == states[0]
        follows = tuple(int(states[t + 1] == states[t]) for t in range(T))
        per_chain[(correct, follows)] += w
    law = Counter()
    for combo in itertools.product(per_chain.items(), repeat=n):
        w = math.prod(item[1] for item in combo)
        kept = sum(c for (c, _), _ in combo)
        fk = tuple(sum(f[t] for (c, f), _ in combo if c) for t in range(T))
        ff = tuple(sum(f[t] for (c, f), _ in combo if not c) for t in range(T))
        law[(kept,) + fk + ff] += w
    return law


@pytest.mark.parametrize(
    "M, p, power",
    [(3, ["1/2", "3/4"], 1), (3, ["1/6", "1/4", "5/6"], 1), (2, ["1/3", "1/2"], 2), (4, ["0", "1/2"], 1)],
)
def test_follow_counts_has_the_exact_joint_law(M, p, power):
    n, runs = 2, 40_000
    p = [Fraction(x) for x in p]
    law = exact_follow_counts_law(p, M, power, n)
    assert sum(law.values()) == 1
    rng = np.random.default_rng(11)
    counts = sl.follow_counts(np.tile(np.array(p, dtype=float), (runs, 1)), M, n, rng, temperature=1 / power)
    assert np.all(counts.failed == n - counts.kept)
    rows = np.column_stack([counts.kept, counts.followed_kept, counts.followed_failed])
    seen = Counter(map(tuple, rows.tolist()))
    assert set(seen) <= {k for k, w in law.items() if w > 0}, "an impossible outcome was drawn"
    for outcome, w in law.items():
        w = float(w)
        se = math.sqrt(w * (1 - w) / runs)
        assert abs(seen[outcome] / runs - w) <= Z * se + 1e-12, (outcome, seen[outcome] / runs, w)


# --- follow_counts against explicit chains and the binomial prediction ---------------------------


@pytest.mark.parametrize("M, p, tau", CASES)
def test_follow_counts_match_sampled_chains_and_the_exact_engine(M, p, tau):
    n, runs = 40, 3000
    rng = np.random.default_rng(5)
    counts = sl.follow_counts(np.tile(p, (runs, 1)), M, n, rng, temperature=tau)
    chains = sl.sample_chains(p, M, n * runs, rng, temperature=tau)
    from_chains = counts_from_chains(chains, runs, n)
    A, kept_follow, failed_follow = exact_count_probabilities(p, M, tau)
    # Every count is Binomial(n, pi) for a per-chain probability pi.
    for name, fast, slow, pi in [
        ("kept", counts.kept, from_chains[0], A),
        ("followed_kept", counts.followed_kept, from_chains[1], kept_follow),
        ("followed_failed", counts.followed_failed, from_chains[2], failed_follow),
    ]:
        for source, samples in [("follow_counts", fast), ("sample_chains", slow)]:
            assert_mean(samples, n * pi, f"{name} from {source}")
            assert_variance(samples, n * pi * (1 - pi), 1.25, f"{name} from {source}")
    # A joint feature: kept and followed_kept are positively correlated the same way in both.
    for t in range(len(p)):
        joint_fast = np.cov(counts.kept, counts.followed_kept[:, t])[0, 1]
        joint_slow = np.cov(from_chains[0], from_chains[1][:, t])[0, 1]
        # Cov(K, F+_t) = n pi_t (1 - A), with pi_t = Pr(correct and follows t).
        exact = n * kept_follow[t] * (1 - A)
        for got in (joint_fast, joint_slow):
            assert abs(got - exact) <= 0.15 * abs(exact) + 0.05, (t, got, exact)


def test_follow_counts_cost_does_not_grow_with_n():
    rng = np.random.default_rng(0)
    counts = sl.follow_counts([0.9] * 8, 64, 10**15, rng)
    A = sl.accuracy([0.9] * 8, 64)
    assert abs(counts.kept / 10**15 - A) < 1e-6
    assert np.all(counts.followed_kept <= counts.kept)


# --- star_step_mc and F10 ------------------------------------------------------------------------


@pytest.mark.parametrize("M, p, tau", [(3, [0.6, 0.8, 0.5], 1.0), (4, [0.2, 0.9], 1.0), (8, [0.5, 0.4, 0.7], 0.5)])
def test_star_step_mc_mean_and_f10_variance(M, p, tau):
    n, runs = 200, 20_000
    rng = np.random.default_rng(3)
    est = sl.star_step_mc(np.tile(p, (runs, 1)), M, n, rng, temperature=tau)
    exact = sl.star_step(p, M, temperature=tau)
    A = sl.accuracy(tempered_floats(p, M, tau), M)
    # Given K kept chains, followed_kept_t ~ Binomial(K, p_t'): the estimate is unbiased and its
    # variance is p_t'(1 - p_t') E[1/K | K > 0]. F10 approximates E[1/K] by 1/(n A).
    assert_mean(est, exact, "star_step_mc")
    k = np.arange(1, n + 1)
    log_pmf = np.array([math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) for j in k])
    log_pmf += k * math.log(A) + (n - k) * math.log1p(-A)
    pmf = np.exp(log_pmf)
    inverse_k = float((pmf / k).sum() / pmf.sum())
    assert_variance(est, exact * (1 - exact) * inverse_k, 1.1, "star_step_mc vs exact variance")
    assert_variance(est, exact * (1 - exact) / (n * A), 1.25, "star_step_mc vs F10")


def test_star_step_mc_raises_when_nothing_is_kept():
    rng = np.random.default_rng(0)
    # T = 1 and p = 0: every chain leaves s_0 and never comes back.
    counts = sl.follow_counts([0.0], 3, 50, rng)
    assert counts.kept == 0 and counts.failed == 50
    with pytest.raises(sl.NoKeptChainsError, match="n = 50"):
        sl.star_step_mc([0.0], 3, 50, rng)
    with pytest.raises(sl.NoKeptChainsError, match=re.escape("for p[1]")):
        sl.star_step_mc([[0.9], [0.0]], 3, 50, rng)


def test_star_iterates_mc_stays_put_without_kept_chains_and_tracks_the_exact_map():
    rng = np.random.default_rng(1)
    stuck = sl.star_iterates_mc([0.0], 3, 20, 4, rng)
    assert stuck.shape == (5, 1) and np.all(stuck == 0.0)
    # Mixed batch: row 1 never keeps a chain, row 0 moves.
    mixed = sl.star_iterates_mc([[0.6, 0.7], [0.0, 0.0]], 2, 1, 3, rng)
    assert mixed.shape == (4, 2, 2)
    # With a huge n one iteration is close to the exact map (its SE is about 1e-4 here).
    p0 = [0.5, 0.6, 0.4]
    traj = sl.star_iterates_mc(p0, 4, 10**7, 3, np.random.default_rng(2))
    exact = sl.star_iterates(p0, 4, 3)
    assert traj.shape == exact.shape == (4, 3)
    assert np.all(traj[0] == p0)
    assert np.max(np.abs(traj - exact)) < 2e-3
    # Exactly 0 and 1 are absorbing.
    absorbed = sl.star_iterates_mc([1.0, 0.0, 1.0], 2, 30, 5, rng)
    assert np.all(absorbed[1:, 1] == 0.0) or np.all(absorbed[1:, 1] == 1.0)


# --- sample_chains: shape, range, the wrong-state distribution ----------------------------------


def test_sample_chains_shape_and_range_for_large_m_and_t():
    M, T, n = 10**6, 64, 2000
    rng = np.random.default_rng(4)
    p = rng.uniform(0, 1, size=T)
    chains = sl.sample_chains(p, M, n, rng)
    assert chains.shape == (n, T + 1) and chains.dtype == np.int64
    assert chains.min() >= 0 and chains.max() < M
    moved = chains[:, 1:] != chains[:, :-1]
    assert_mean(moved, 1 - p, "moves of sample_chains")
    never = sl.sample_chains([0.0] * T, M, n, rng)
    assert np.all(never[:, 1:] != never[:, :-1])
    always = sl.sample_chains([1.0] * T, M, n, rng)
    assert np.all(always == always[:, :1])


def test_sample_chains_wrong_moves_are_uniform_over_the_other_states():
    M, n = 5, 200_000
    chains = sl.sample_chains([0.0], M, n, np.random.default_rng(6))
    shift = (chains[:, 1] - chains[:, 0]) % M
    freq = np.bincount(shift, minlength=M) / n
    assert freq[0] == 0.0
    se = math.sqrt(0.25 * 0.75 / n)
    assert np.all(np.abs(freq[1:] - 0.25) <= Z * se)
    assert np.all(np.bincount(chains[:, 0], minlength=M) > 0)


# --- sample_tabular_chains against enumerate_chains ----------------------------------------------


def test_sample_tabular_chains_frequencies_match_enumeration():
    M, T, n = 3, 2, 300_000
    P = [
        [[Fraction(1, 2), Fraction(1, 2), 0], [0, Fraction(1, 3), Fraction(2, 3)], [Fraction(1, 5), Fraction(3, 5), Fraction(1, 5)]],
        [[1, 0, 0], [Fraction(1, 4), Fraction(1, 4), Fraction(1, 2)], [0, 0, 1]],
    ]
    q0 = [Fraction(1, 2), 0, Fraction(1, 2)]
    g = [[0, 1, 2], [2, 0, 1]]
    chains = sl.sample_tabular_chains(P, g, q0, n, np.random.default_rng(8))
    assert chains.shape == (n, T + 1) and chains.dtype == np.int64
    seen = Counter(map(tuple, chains.tolist()))
    exact = dict(sl.enumerate_chains(np.array(P, dtype=object), np.array(q0, dtype=object)))
    assert set(seen) <= {s for s, w in exact.items() if w > 0}, "a chain of probability 0 was drawn"
    for states, w in exact.items():
        w = float(w)
        assert abs(seen[states] / n - w) <= Z * math.sqrt(w * (1 - w) / n) + 1e-12, (states, w)
    # The tied kernel through the tabular sampler agrees with sample_chains' accuracy.
    p = [0.6, 0.3]
    tied = sl.sample_tabular_chains(sl.tied_kernels(p, 3), np.tile(np.arange(3), (2, 1)), np.full(3, 1 / 3),
                                    n, np.random.default_rng(9))
    assert_mean(tied[:, -1] == tied[:, 0], sl.accuracy(p, 3), "tabular accuracy")


# --- determinism ---------------------------------------------------------------------------------

CALLS = {
    "sample_chains": lambda rng: sl.sample_chains([0.5, 0.7], 4, 100, rng),
    "sample_tabular_chains": lambda rng: sl.sample_tabular_chains(
        sl.tied_kernels([0.5, 0.7], 3), [[0, 1, 2], [0, 1, 2]], [1 / 3] * 3, 100, rng),
    "follow_counts": lambda rng: np.concatenate([np.atleast_1d(x) for x in sl.follow_counts([0.5, 0.7], 4, 100, rng)]),
    "star_step_mc": lambda rng: sl.star_step_mc([0.5, 0.7], 4, 100, rng, temperature=0.7),
    "star_iterates_mc": lambda rng: sl.star_iterates_mc([0.5, 0.7], 4, 100, 3, rng),
    "reinforce_step": lambda rng: sl.reinforce_step([0.5, 0.7], 4, 100, rng, 0.1),
    "reinforce_iterates": lambda rng: sl.reinforce_iterates([0.5, 0.7], 4, 100, 3, rng, 0.1),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_seed_same_result(name):
    call = CALLS[name]
    first, again = call(np.random.default_rng(42)), call(np.random.default_rng(42))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, call(np.random.default_rng(43)))


# --- bad input: the exact engine's ValueErrors ---------------------------------------------------

RNG_OK = np.random.default_rng(0)


def message(call):
    with pytest.raises(ValueError) as info:
        call()
    assert not isinstance(info.value, sl.NoKeptChainsError)
    return str(info.value)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf")])
def test_bad_probabilities_raise_the_exact_engines_error(bad):
    expected = message(lambda: sl.star_step([0.5, bad], 3))
    for call in [
        lambda: sl.sample_chains([0.5, bad], 3, 10, RNG_OK),
        lambda: sl.follow_counts([0.5, bad], 3, 10, RNG_OK),
        lambda: sl.star_step_mc([0.5, bad], 3, 10, RNG_OK),
        lambda: sl.reinforce_step([0.5, bad], 3, 10, RNG_OK, 0.1),
    ]:
        assert message(call) == expected
    expected0 = message(lambda: sl.star_iterates([0.5, bad], 3, 2))
    assert message(lambda: sl.star_iterates_mc([0.5, bad], 3, 10, 2, RNG_OK)) == expected0
    assert message(lambda: sl.reinforce_iterates([0.5, bad], 3, 10, 2, RNG_OK, 0.1)) == expected0


def test_bad_m_temperature_and_tabular_input_raise_the_exact_engines_error():
    assert message(lambda: sl.follow_counts([0.5], 1, 10, RNG_OK)) == message(lambda: sl.star_step([0.5], 1))
    assert message(lambda: sl.sample_chains([0.5], 2.5, 10, RNG_OK)) == message(lambda: sl.star_step([0.5], 2.5))
    for tau in (0, -1.0, float("inf")):
        expected = message(lambda: sl.star_step([0.5], 3, temperature=tau))
        assert message(lambda: sl.star_step_mc([0.5], 3, 10, RNG_OK, temperature=tau)) == expected
        assert message(lambda: sl.sample_chains([0.5], 3, 10, RNG_OK, temperature=tau)) == expected
    P, g, q0 = sl.tied_kernels([0.5], 3), [[0, 1, 2]], [1 / 3] * 3
    for bad in [(P[:, :, :2], g, q0), (P, [[0, 1, 3]], q0), (P, g, [0.5, 0.5, 0.5]), (P * 2, g, q0)]:
        assert message(lambda: sl.sample_tabular_chains(*bad, 10, RNG_OK)) == message(lambda: sl.tabular_star_step(*bad))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: sl.sample_chains([0.5], 3, 0, RNG_OK), "n"),
        (lambda: sl.follow_counts([0.5], 3, 2.5, RNG_OK), "n"),
        (lambda: sl.star_step_mc([0.5], 3, True, RNG_OK), "n"),
        (lambda: sl.sample_tabular_chains(sl.tied_kernels([0.5], 3), [[0, 1, 2]], [1 / 3] * 3, -1, RNG_OK), "n"),
        (lambda: sl.follow_counts([0.5], 3, 10, 42), "rng"),
        (lambda: sl.sample_chains([0.5], 3, 10, np.random.RandomState(0)), "rng"),
        (lambda: sl.star_iterates_mc([0.5], 3, 10, -1, RNG_OK), "iterations"),
        (lambda: sl.star_iterates_mc([0.5], 3, 10, 1.5, RNG_OK), "iterations"),
        (lambda: sl.sample_chains([[0.5], [0.5]], 3, 10, RNG_OK), "p"),
        (lambda: sl.reinforce_step([0.5], 3, 10, RNG_OK, 0.0), "learning_rate"),
        (lambda: sl.reinforce_iterates([0.5], 3, 10, 2, RNG_OK, float("nan")), "learning_rate"),
    ],
)
def test_bad_sizes_generators_and_rates_name_the_argument(call, name):
    text = message(call)
    assert re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])", text), text
