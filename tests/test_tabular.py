"""starlib.tabular against brute-force enumeration (tests/exact_reference.py).

Random instances: M from 2 to 4, T from 1 to 4, random kernels (Markov and
history-aware) with many zeros, non-uniform question distributions and
non-bijective ground truths. Exact cases compare Fractions for equality; float
cases compare with the exact values to an absolute tolerance of 1e-12.
"""

from fractions import Fraction

import numpy as np
import pytest

import exact_reference as ref
import starlib as sl
from starlib import tabular

FLOAT_TOL = 1e-12
CASES = [(M, T) for M in (2, 3, 4) for T in (1, 2, 3, 4)]


def random_distribution(rng, M, zeros=True):
    weights = [int(w) for w in rng.integers(0 if zeros else 1, 5, size=M)]
    if sum(weights) == 0:
        weights[int(rng.integers(M))] = 1
    return [Fraction(w, sum(weights)) for w in weights]


def random_markov(rng, M, T):
    return [[random_distribution(rng, M) for _ in range(M)] for _ in range(T)]


def random_history(rng, M, T):
    return [[[random_distribution(rng, M) for _ in range(M)] for _ in range(M)] for _ in range(T)]


def random_g(rng, M, T, bijective):
    if bijective:
        return [[int(x) for x in rng.permutation(M)] for _ in range(T)]
    return [[int(x) for x in rng.integers(0, M, size=M)] for _ in range(T)]


def floats(x):
    return np.array(x, dtype=float)


def instances(seed, count, history):
    """(M, T, policy, g, q0) with a mix of bijective and arbitrary g; small M^(T+1) only."""
    rng = np.random.default_rng(seed)
    for M, T in CASES:
        if history and M ** (T + 1) > 81:
            continue
        for k in range(count):
            policy = random_history(rng, M, T) if history else random_markov(rng, M, T)
            yield M, T, policy, random_g(rng, M, T, bijective=k % 2 == 0), random_distribution(rng, M)


# --- the moved Markov functions keep their names -------------------------------------------


def test_moved_functions_are_the_same_objects():
    assert sl.tabular_accuracy is tabular.tabular_accuracy
    assert sl.tabular_star_step is tabular.tabular_star_step
    assert not hasattr(sl.theory, "tabular_star_step")


# --- history-aware STaR --------------------------------------------------------------------


def test_history_star_step_matches_enumeration():
    checked = 0
    for M, T, H, g, q0 in instances(seed=1, count=4, history=True):
        expected = ref.history_star_step(H, g, q0)
        if expected is None:
            for kernel, questions in ((H, q0), (floats(H), floats(q0))):
                with pytest.raises(sl.NoKeptChainsError):
                    sl.history_star_step(kernel, g, questions)
            continue
        got = sl.history_star_step(H, g, q0)
        assert got.shape == (T, M, M, M) and got.tolist() == expected
        np.testing.assert_allclose(sl.history_star_step(floats(H), g, floats(q0)), floats(expected),
                                   rtol=0, atol=FLOAT_TOL)
        checked += 1
    assert checked > 20


def test_history_star_step_of_an_embedded_markov_policy():
    """On chains the embedded Markov policy is the Markov policy: same accuracy; refit per question."""
    rng = np.random.default_rng(2)
    for M, T in [(2, 2), (3, 2), (3, 3), (4, 2)]:
        P = random_markov(rng, M, T)
        g, q0 = random_g(rng, M, T, True), random_distribution(rng, M)
        H = sl.markov_as_history(P)
        assert H.shape == (T, M, M, M) and H.tolist() == ref.markov_rows(P)
        assert sl.measure_policy(H, g, q0).accuracy == sl.tabular_accuracy(P, g, q0)
        if ref.accuracy(P, g, q0) != 0:
            assert sl.history_star_step(H, g, q0).tolist() == ref.history_star_step(ref.markov_rows(P), g, q0)


def test_history_star_step_keeps_unused_rows():
    # T = 1: rows H[0, s0, s] with s != s0 are never used and come back unchanged.
    H = [[[[Fraction(1, 2), Fraction(1, 2)], [Fraction(1, 3), Fraction(2, 3)]],
          [[Fraction(1, 4), Fraction(3, 4)], [Fraction(1, 2), Fraction(1, 2)]]]]
    g, q0 = [[1, 0]], [Fraction(1, 2), Fraction(1, 2)]
    new = sl.history_star_step(H, g, q0)
    assert new[0, 0, 1].tolist() == H[0][0][1] and new[0, 1, 0].tolist() == H[0][1][0]
    assert new[0, 0, 0].tolist() == [0, 1] and new[0, 1, 1].tolist() == [1, 0]


def test_history_star_reaches_the_solvable_share_in_one_iteration():
    """After one exact iteration the accuracy is the q0-mass of questions with c(s0) > 0,
    and the policy is a fixed point."""
    checked = 0
    for M, T, H, g, q0 in instances(seed=3, count=3, history=True):
        before = sl.measure_policy(H, g, q0)
        if before.accuracy == 0:
            continue
        new = sl.history_star_step(H, g, q0)
        after = sl.measure_policy(new, g, q0)
        assert after.accuracy == sum(q for q, c in zip(q0, before.question_accuracy) if c > 0)
        assert sl.history_star_step(new, g, q0).tolist() == new.tolist()
        checked += 1
    assert checked > 20


# --- measurements --------------------------------------------------------------------------


@pytest.mark.parametrize("history", [False, True])
def test_measure_policy_matches_enumeration(history):
    checked = recovered = 0
    for M, T, policy, g, q0 in instances(seed=4 + history, count=3, history=history):
        rows = policy if history else ref.markov_rows(policy)
        A, c, step, kept_step, wrong = ref.measure(rows, g, q0)
        got = sl.measure_policy(policy, g, q0)
        assert got.accuracy == A
        assert got.question_accuracy.tolist() == c
        assert got.step_follow.tolist() == step
        if A == 0:
            assert got.kept_follow is None and got.kept_wrong_rate is None
        else:
            assert got.kept_follow.tolist() == kept_step
            assert got.kept_wrong_rate == wrong
        recovery = ref.recovery_rate(rows, g, q0)
        assert got.recovery_rate == recovery
        fl = sl.measure_policy(floats(policy), g, floats(q0))
        if recovery is not None:
            assert abs(fl.recovery_rate - float(recovery)) < FLOAT_TOL
            recovered += 1
        assert isinstance(fl.accuracy, float) and abs(fl.accuracy - float(A)) < FLOAT_TOL
        np.testing.assert_allclose(fl.question_accuracy, floats(c), rtol=0, atol=FLOAT_TOL)
        np.testing.assert_allclose(fl.step_follow, floats(step), rtol=0, atol=FLOAT_TOL)
        if A != 0:
            np.testing.assert_allclose(fl.kept_follow, floats(kept_step), rtol=0, atol=FLOAT_TOL)
            assert abs(fl.kept_wrong_rate - float(wrong)) < FLOAT_TOL
        checked += 1
    assert checked > 20 and recovered > 10


def test_measure_policy_on_tied_kernels_equals_closed_forms():
    rng = np.random.default_rng(6)
    for M, T in CASES:
        p = [Fraction(int(k), 6) for k in rng.integers(1, 7, size=T)]
        g = random_g(rng, M, T, bijective=True)
        seen = sl.measure_policy(sl.tied_kernels(p, M, g), g, [Fraction(1, M)] * M)
        assert seen.accuracy == sl.accuracy(p, M)
        assert seen.step_follow.tolist() == p
        assert seen.kept_follow.tolist() == sl.star_step(p, M)
        assert seen.kept_wrong_rate == sl.kept_wrong_rate(p, M)
        if T == 1:
            assert seen.recovery_rate is None
        elif any(x != 1 for x in p[:-1]):
            assert seen.recovery_rate == (1 - p[-1]) / (M - 1)


def test_recovery_rate_of_a_policy_that_reads_the_answer_off_the_question():
    M, T = 4, 3
    g = [[1, 2, 3, 0]] * T
    H = sl.markov_as_history(sl.tied_kernels([Fraction(1, 2)] * T, M, g))
    rows = np.arange(M)
    H[T - 1] = 0
    H[T - 1][rows, :, sl.answers(g)] = 1  # the last step emits the answer from every state
    seen = sl.measure_policy(H, g, [Fraction(1, M)] * M)
    assert seen.accuracy == 1 and seen.recovery_rate == 1
    # the last step follows g exactly when the chain is still on the ground truth (F1 for two steps)
    assert seen.step_follow.tolist() == [Fraction(1, 2), Fraction(1, 2), sl.accuracy([Fraction(1, 2)] * 2, M)]


def test_recovery_rate_is_none_when_no_chain_leaves_the_ground_truth():
    M, g = 3, [[0, 1, 2]] * 2
    for one, q0 in ((1.0, np.full(M, 1 / M)), (Fraction(1), [Fraction(1, M)] * M)):
        seen = sl.measure_policy(sl.tied_kernels([one, one], M, g), g, q0)
        assert seen.accuracy == 1 and seen.recovery_rate is None
    assert sl.measure_policy(sl.tied_kernels([0.5], M, [g[0]]), [g[0]], np.full(M, 1 / M)).recovery_rate is None  # T = 1


def test_refit_on_counts_matches_counting_by_hand():
    from starlib import zip_task

    rng = np.random.default_rng(21)
    checked = 0
    for history in (False, True):
        for M, T, policy, _, _ in instances(seed=22 + history, count=2, history=history):
            chains = rng.integers(0, M, size=(int(rng.integers(1, 6)), T + 1))
            counts = zip_task.transition_counts(chains, M, "history" if history else "markov")
            got = sl.refit_on_counts(policy, counts)
            expect = np.array(policy, dtype=object)
            for t in range(T):  # count the rows by hand, one chain at a time
                seen = {}
                for chain in chains.tolist():
                    row = (t, chain[0], chain[t]) if history else (t, chain[t])
                    seen.setdefault(row, [0] * M)[chain[t + 1]] += 1
                for row, tally in seen.items():
                    expect[row] = [Fraction(k, sum(tally)) for k in tally]
            assert got.tolist() == expect.tolist()
            np.testing.assert_allclose(sl.refit_on_counts(floats(policy), counts), floats(expect.tolist()), rtol=0, atol=FLOAT_TOL)
            checked += 1
    assert checked > 20


def test_refit_on_counts_rejects_bad_counts():
    rejected(lambda: sl.refit_on_counts(H_OK, np.zeros((2, 3, 3), dtype=int)), "counts", "shape")
    rejected(lambda: sl.refit_on_counts(H_OK, -np.ones(H_OK.shape, dtype=int)), "counts", "non-negative")
    rejected(lambda: sl.refit_on_counts(H_OK, np.full(H_OK.shape, 0.5)), "counts", "integers")
    assert (sl.refit_on_counts(H_OK, np.zeros(H_OK.shape, dtype=int)) == H_OK).all()  # no chain: nothing moves


def test_tempered_policy_matches_row_by_row_tempering():
    for seed, history in [(11, False), (12, True)]:
        for M, T, policy, _, _ in instances(seed=seed, count=2, history=history):
            for power in (1, 2, 3):
                got = sl.tempered_policy(policy, Fraction(1, power))
                rows = np.array(policy, dtype=object).reshape(-1, M)
                expect = np.array([ref.temper_row(list(row), power) for row in rows], dtype=object)
                assert got.reshape(-1, M).tolist() == expect.tolist()
                fl = sl.tempered_policy(floats(policy), 1 / power)
                np.testing.assert_allclose(fl.reshape(-1, M), floats(expect), rtol=0, atol=FLOAT_TOL)


def test_tempered_policy_of_a_tied_policy_is_tied_at_the_tempered_follow_probability():
    M, p = 5, np.array([0.3, 0.6, 0.05])
    for tau in (0.25, 0.5, 2.0):
        got = sl.tempered_policy(sl.tied_kernels(p, M), tau)
        np.testing.assert_allclose(got, sl.tied_kernels(sl.tempered(p, M, tau), M), rtol=0, atol=FLOAT_TOL)
    tiny = sl.tied_kernels([1e-300], M)  # the log domain keeps tiny entries positive and rows finite
    assert np.all(np.isfinite(sl.tempered_policy(tiny, 0.01)))


def test_tempered_policy_rejects_bad_input():
    rejected(lambda: sl.tempered_policy(H_OK, 0.0), "temperature")
    rejected(lambda: sl.tempered_policy(H_OK, float("nan")), "temperature")
    rejected(lambda: sl.tempered_policy(np.full((2, 3, 3, 3), Fraction(1, 3), dtype=object), Fraction(2, 5)), "temperature", "integer")
    rejected(lambda: sl.tempered_policy(np.full((2, 3), 0.5), 1.0), "policy", "shape")


def test_measure_policy_is_frozen():
    g, q0 = [[0, 1]], [0.5, 0.5]
    seen = sl.measure_policy([[[0.5, 0.5], [0.5, 0.5]]], g, q0)
    assert isinstance(seen, sl.PolicyMeasurement)
    with pytest.raises(AttributeError):
        seen.accuracy = 1.0


def test_measure_and_step_at_size_64():
    """Transformer-sized kernels, (3, 64, 64) and (3, 64, 64, 64): finite results that agree
    with the Markov computation, no timing asserted."""
    rng = np.random.default_rng(64)
    M, T = 64, 3
    P = rng.dirichlet(np.full(M, 0.3), size=(T, M))
    g = np.array([rng.permutation(M) for _ in range(T)])
    q0 = np.full(M, 1 / M)
    H = sl.markov_as_history(P)
    assert H.shape == (T, M, M, M)
    markov, history = sl.measure_policy(P, g, q0), sl.measure_policy(H, g, q0)
    assert abs(markov.accuracy - sl.tabular_accuracy(P, g, q0)) < FLOAT_TOL
    assert abs(history.accuracy - markov.accuracy) < FLOAT_TOL
    np.testing.assert_allclose(history.kept_follow, markov.kept_follow, atol=FLOAT_TOL)
    new = sl.history_star_step(H, g, q0)
    assert new.shape == (T, M, M, M) and np.all(np.isfinite(new))
    np.testing.assert_allclose(new.sum(axis=-1), 1.0, atol=FLOAT_TOL)
    rows = np.arange(M)
    assert np.allclose(new[T - 1][rows, :, sl.answers(g)], 1.0)  # the last step emits the answer
    assert abs(sl.measure_policy(new, g, q0).accuracy - 1.0) < FLOAT_TOL


# --- rationalization -----------------------------------------------------------------------


@pytest.mark.parametrize("history", [False, True])
def test_rationalized_star_step_matches_enumeration(history):
    checked = differs = 0
    for M, T, policy, g, q0 in instances(seed=7 + history, count=3, history=history):
        rows = policy if history else ref.markov_rows(policy)
        expected = ref.rationalized_step(rows, g, q0, markov=not history)
        if expected is None:
            with pytest.raises(sl.NoKeptChainsError):
                sl.rationalized_star_step(policy, g, q0)
            continue
        got = sl.rationalized_star_step(policy, g, q0)
        assert got.tolist() == expected
        np.testing.assert_allclose(sl.rationalized_star_step(floats(policy), g, floats(q0)), floats(expected),
                                   rtol=0, atol=FLOAT_TOL)
        plain = sl.history_star_step(policy, g, q0) if history else sl.tabular_star_step(policy, g, q0)
        if history:
            assert got.tolist() == plain.tolist()  # every row conditions on s0: the weights cancel
        differs += got.tolist() != plain.tolist()
        checked += 1
    assert checked > 20
    if not history:
        assert differs > 5  # uneven question accuracies make a difference for Markov policies


def test_rationalization_changes_nothing_for_tied_policies_with_bijections():
    rng = np.random.default_rng(9)
    for M, T in CASES:
        p = [Fraction(int(k), 6) for k in rng.integers(1, 7, size=T)]
        g = random_g(rng, M, T, bijective=True)
        q0 = random_distribution(rng, M)
        P = sl.tied_kernels(p, M, g)
        assert sl.rationalized_star_step(P, g, q0).tolist() == sl.tabular_star_step(P, g, q0).tolist()


def test_rationalized_mc_keeps_n_chains_and_is_unbiased():
    """Mean of many one-iteration refits is the exact map; the spread is that of n chains."""
    M, n, runs = 16, 200, 4000
    p0 = np.full((runs, 3), sl.prob_from_margin(0.3, M))
    out = sl.rationalized_star_iterates_mc(p0, M, n, 1, np.random.default_rng(10))
    assert out.shape == (2, runs, 3)
    exact = sl.star_step(p0[0], M)
    mean, var = out[1].mean(axis=0), out[1].var(axis=0)
    assert np.all(np.abs(mean - exact) < 4 * np.sqrt(exact * (1 - exact) / n / runs))
    assert np.allclose(var, exact * (1 - exact) / n, rtol=0.1)
    # counts of n chains: every refit value is a multiple of 1/n
    assert np.allclose(out[1] * n, np.round(out[1] * n))
    plain = sl.star_iterates_mc(p0, M, n, 1, np.random.default_rng(10))
    assert plain[1].var(axis=0).mean() > 3 * var.mean()  # plain STaR keeps only about n A chains


def test_rationalized_mc_zero_accuracy_stays():
    # M = 2, T = 1, p = 0: every chain is wrong and the hint cannot be reached.
    out = sl.rationalized_star_iterates_mc([0.0], 2, 10, 3, np.random.default_rng(0))
    assert out.tolist() == [[0.0]] * 4


# --- tied_spread ---------------------------------------------------------------------------


def test_tied_spread():
    rng = np.random.default_rng(11)
    for M, T in CASES:
        p = [Fraction(int(k), 6) for k in rng.integers(0, 7, size=T)]
        g = random_g(rng, M, T, bijective=bool(rng.integers(2)))
        assert sl.tied_spread(sl.tied_kernels(p, M, g), g).tolist() == [0] * T
    P = sl.tied_kernels([Fraction(1, 2)], 3)
    P[0, 0] = [Fraction(1, 3)] * 3
    # follow entries 1/2, 1/2, 1/3 (range 1/6); other entries 1/4 and 1/3 (range 1/12)
    assert sl.tied_spread(P, [[0, 1, 2]]).tolist() == [Fraction(1, 6)]


# --- bad input -----------------------------------------------------------------------------

H_OK = np.full((2, 3, 3, 3), 1 / 3)
P_OK = np.full((2, 3, 3), 1 / 3)
G_OK = [[0, 1, 2], [1, 2, 0]]
Q0_OK = [0.5, 0.25, 0.25]


def rejected(call, *words):
    with pytest.raises(ValueError) as info:
        call()
    assert not isinstance(info.value, sl.NoKeptChainsError)
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize("bad", [np.full((2, 3, 3), 1 / 3), np.full((2, 3, 3, 2), 0.5), np.zeros((0, 3, 3, 3)),
                                 np.full((2, 1, 1, 1), 1.0)])
def test_history_star_step_rejects_bad_shapes(bad):
    rejected(lambda: sl.history_star_step(bad, G_OK, Q0_OK), "H", "shape")


@pytest.mark.parametrize("function", [sl.measure_policy, sl.rationalized_star_step])
@pytest.mark.parametrize("bad", [np.full((2, 3), 0.5), np.full((2, 3, 2), 0.5), np.full((1, 2, 3, 3, 3), 1 / 3)])
def test_policy_functions_reject_bad_shapes(function, bad):
    rejected(lambda: function(bad, G_OK, Q0_OK), "policy", "shape")


@pytest.mark.parametrize("function,name", [(sl.history_star_step, "H"), (sl.measure_policy, "policy"),
                                           (sl.rationalized_star_step, "policy")])
def test_bad_entries_and_rows_are_rejected(function, name):
    bad = H_OK.copy()
    bad[1, 2, 0, 0] = np.nan
    rejected(lambda: function(bad, G_OK, Q0_OK), name, "nan")
    bad = H_OK.copy()
    bad[1, 2, 0] = [0.5, 0.5, 0.5]
    rejected(lambda: function(bad, G_OK, Q0_OK), f"{name}[1, 2, 0]", "sum to 1")
    bad = H_OK.copy()
    bad[0, 0, 0] = [1.5, -0.5, 0.0]
    rejected(lambda: function(bad, G_OK, Q0_OK), name, "1.5")
    rejected(lambda: function(H_OK, [[0, 1, 3], [0, 1, 2]], Q0_OK), "g", "3")
    rejected(lambda: function(H_OK, [[0, 1, 2]], Q0_OK), "g", "shape")
    rejected(lambda: function(H_OK, G_OK, [0.5, 0.5, 0.5]), "q0", "sum to 1")
    rejected(lambda: function(H_OK, G_OK, [0.5, 0.5]), "q0", "shape")
    mixed = H_OK.astype(object)
    mixed[:] = Fraction(1, 3)
    mixed[0, 0, 0, 0] = 1 / 3
    rejected(lambda: function(mixed, G_OK, [Fraction(1, 3)] * 3), name, "mixes floats")


def test_symbolic_input_is_rejected():
    import sympy as sp

    x = sp.Symbol("x")
    H = H_OK.astype(object)
    H[0, 0, 0] = [x, 1 - x, 0]
    rejected(lambda: sl.history_star_step(H, G_OK, Q0_OK), "H", "symbolic")
    rejected(lambda: sl.tied_spread(H[:, 0], G_OK), "P", "symbolic")
    rejected(lambda: sl.tempered_policy(H, 1.0), "policy", "symbolic")
    rejected(lambda: sl.refit_on_counts(H, np.zeros(H.shape, dtype=int)), "policy", "symbolic")


def test_markov_only_helpers_reject_history_kernels():
    rejected(lambda: sl.markov_as_history(H_OK), "P", "shape")
    rejected(lambda: sl.tied_spread(H_OK, G_OK), "P", "shape")
    assert sl.measure_policy(P_OK, G_OK, Q0_OK).accuracy == pytest.approx(1 / 3)


def test_zero_accuracy_raises_no_kept_chains():
    # Deterministic shifts: after two steps the chain is at s0 + 2 (mod 3), never the answer.
    shift = np.roll(np.eye(3), 1, axis=1)
    P = np.array([shift, shift])
    H = sl.markov_as_history(P)
    for call in (lambda: sl.history_star_step(H, [[0, 1, 2]] * 2, Q0_OK),
                 lambda: sl.rationalized_star_step(P, [[0, 1, 2]] * 2, Q0_OK),
                 lambda: sl.rationalized_star_step(H, [[0, 1, 2]] * 2, Q0_OK)):
        with pytest.raises(sl.NoKeptChainsError, match="accuracy is 0"):
            call()
    seen = sl.measure_policy(H, [[0, 1, 2]] * 2, Q0_OK)
    assert seen.accuracy == 0 and seen.kept_wrong_rate is None and seen.kept_follow is None


def test_rationalized_mc_rejects_bad_input():
    rng = np.random.default_rng(0)
    rejected(lambda: sl.rationalized_star_iterates_mc([1.5], 3, 10, 1, rng), "p0")
    rejected(lambda: sl.rationalized_star_iterates_mc([0.5], 1, 10, 1, rng), "M")
    rejected(lambda: sl.rationalized_star_iterates_mc([0.5], 3, 0, 1, rng), "n")
    rejected(lambda: sl.rationalized_star_iterates_mc([0.5], 3, 10, -1, rng), "iterations")
    rejected(lambda: sl.rationalized_star_iterates_mc([0.5], 3, 10, 1, 42), "rng")
