"""Group-based RL (starlib.group_rl) against brute-force enumeration of every group of chains.

The oracle (tests/oracle_group_rl.py) does not import starlib: it enumerates every
chain and every group of G chains and averages each method's update from the
definitions, exactly (GRPO's square roots as sums of c * sqrt(r)). Then Monte
Carlo with starlib's sampler, the surrogate loss against finite differences,
the uneven-difficulty rows, and bad input.
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import oracle_group_rl as ref
import starlib as sl
from starlib import group_rl as gr
from starlib import tabular

Z = 5.0


def as_sympy(value):
    """A number given as {radicand: coefficient}, as a SymPy number."""
    return sum((sp.Rational(c.numerator, c.denominator) * sp.sqrt(r) for r, c in value.items()), sp.Integer(0))


def exactly_equal(a, b):
    a = sp.Rational(a.numerator, a.denominator) if isinstance(a, Fraction) else sp.sympify(a)
    return sp.expand(a - b) == 0


def random_instance(rng, max_T=3):
    M = int(rng.integers(2, 5))
    T = int(rng.integers(1, max_T + 1))
    p = [Fraction(int(k), 12) for k in rng.integers(1, 12, size=T)]
    return M, p


# --- the expected step, exactly ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["rft", "dr_grpo", "reinforce_rej"])
def test_rational_methods_match_every_group(method):
    rng = np.random.default_rng(gr.METHODS.index(method) + 100)
    checked = 0
    for _ in range(40):
        M, p = random_instance(rng, max_T=2)
        G = int(rng.integers(1, 4))
        power = int(rng.choice([1, 2]))
        expected = ref.expected_group_step(p, M, G, method, power)
        got = gr.expected_group_step(p, M, G, method, temperature=Fraction(1, power))
        for t in range(len(p)):
            assert isinstance(got[t], Fraction)
            assert set(expected[t]) <= {1}
            assert got[t] == expected[t].get(1, Fraction(0)), (M, p, G, power, t)
        checked += 1
    assert checked == 40


@pytest.mark.parametrize("std", ["population", "sample"])
def test_grpo_matches_every_group_exactly(std):
    rng = np.random.default_rng(7 if std == "population" else 8)
    for _ in range(10):
        M, p = random_instance(rng, max_T=2)
        G = int(rng.integers(2, 4))
        power = int(rng.choice([1, 2]))
        expected = ref.expected_group_step(p, M, G, "grpo", power, std)
        got = gr.expected_group_step(p, M, G, "grpo", temperature=Fraction(1, power), std=std)
        for t in range(len(p)):
            assert exactly_equal(got[t], as_sympy(expected[t])), (M, p, G, power, t)


def test_weight_times_gradient_is_the_step_for_every_method():
    """The theorem's form: E[step_t] = w(A, G) dA/dp_t, w the same for every t."""
    rng = np.random.default_rng(11)
    for _ in range(8):
        M, p = random_instance(rng, max_T=3)
        G = int(rng.integers(1, 4))
        A = ref.accuracy(p, M)
        gradient = ref.accuracy_gradient_by_differences(p, M)
        for method in ref.METHODS:
            w = gr.group_weight(A, G, method)
            step = ref.expected_group_step(p, M, G, method)
            for t in range(len(p)):
                assert exactly_equal(w * gradient[t], as_sympy(step[t]))


def test_grpo_weight_closed_form_and_ends():
    for G in range(1, 9):
        for A in [Fraction(k, 7) for k in range(1, 7)]:
            closed = as_sympy(ref.mean_sqrt_k_g_minus_k(A, G)) / (G * sp.Rational(A.numerator, A.denominator) * (1 - sp.Rational(A.numerator, A.denominator)))
            assert exactly_equal(gr.grpo_weight(A, G), closed)
            assert exactly_equal(gr.grpo_weight(A, G, "sample") if G > 1 else 0, closed * sp.sqrt(sp.Rational(G - 1, G)))
        assert exactly_equal(gr.grpo_weight(Fraction(0), G), sp.sqrt(G - 1))
        assert exactly_equal(gr.grpo_weight(Fraction(1), G), sp.sqrt(G - 1))
    a = np.linspace(0, 1, 101)
    floats = gr.grpo_weight(a, 6)
    exact = [float(sp.N(sp.sympify(gr.grpo_weight(Fraction(k, 100), 6)), 30)) for k in range(101)]
    assert np.allclose(floats, exact, rtol=1e-13, atol=0)
    # symmetric in A <-> 1 - A, and about 1/sqrt(A (1 - A)) for large G
    assert np.allclose(floats, floats[::-1], rtol=1e-12)
    assert abs(gr.grpo_weight(0.3, 4000) * np.sqrt(0.21) - 1) < 1e-3


def test_simple_weights():
    assert gr.rft_weight(Fraction(1, 3), 5) == 1
    assert gr.dr_grpo_weight(Fraction(1, 3), 5) == Fraction(4, 5)
    assert gr.reinforce_rej_weight(Fraction(1, 3), 5) == 1 - Fraction(1, 81)
    assert gr.reinforce_rej_weight(Fraction(1, 3), 1) == 0
    assert gr.star_refit_weight(Fraction(2, 5)) == Fraction(5, 2)
    assert np.allclose(gr.dr_grpo_weight(np.array([[0.1, 0.2]]), 4), 0.75)
    assert gr.rft_weight(np.zeros((2, 3)), 3).shape == (2, 3)
    A = sp.Symbol("A")
    assert sp.expand(gr.reinforce_rej_weight(A, 3) - (1 - A**2)) == 0
    # G = 2: only K = 1 informs; w = 2 A (1 - A) * 1 / (2 A (1 - A)) = 1 for every A
    assert sp.simplify(gr.grpo_weight(A, 2) - 1) == 0


def test_star_refit_is_weight_over_natural_direction():
    rng = np.random.default_rng(5)
    for _ in range(30):
        M, p = random_instance(rng)
        A = sl.accuracy(p, M)
        new = sl.star_step(p, M)
        D = ref.accuracy_gradient_by_differences(p, M)
        for t in range(len(p)):
            assert new[t] - p[t] == gr.star_refit_weight(A) * p[t] * (1 - p[t]) * D[t]


def test_float_batches_match_exact():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, size=(4, 5, 3))
    for method in gr.METHODS:
        for tau in (1.0, 0.5):
            batch = gr.expected_group_step(p, 5, 6, method, temperature=tau, learning_rate=0.3)
            assert batch.shape == p.shape
            for i in range(4):
                one = gr.expected_group_step(p[i, 2], 5, 6, method, temperature=tau, learning_rate=0.3)
                assert np.allclose(batch[i, 2], one, rtol=1e-13, atol=1e-15)
    # floats against the exact oracle, tempered
    M, q = 3, [Fraction(1, 3), Fraction(3, 4)]
    exact = ref.expected_group_step(q, M, 3, "grpo", power=2)
    got = gr.expected_group_step([float(x) for x in q], M, 3, "grpo", temperature=0.5)
    assert np.allclose(got, [float(sp.N(as_sympy(e), 30)) for e in exact], rtol=1e-12)


def test_symbolic_step():
    ps = list(sp.symbols("p1:3", positive=True))
    step = gr.expected_group_step(ps, 3, 3, "dr_grpo")
    D = sl.accuracy_gradient(ps, 3)
    for t in range(2):
        assert sp.simplify(step[t] - sp.Rational(2, 3) * D[t]) == 0


# --- advantages -------------------------------------------------------------------------------


def test_advantages_match_the_oracle():
    rng = np.random.default_rng(13)
    for _ in range(200):
        G = int(rng.integers(1, 7))
        rewards = [int(x) for x in rng.integers(0, 2, size=G)]
        for method in gr.METHODS:
            for std in ("population", "sample") if G > 1 else ("population",):
                expected = ref.advantages(rewards, method, std)
                floats = gr.group_advantages(np.array(rewards), method, std)
                K = sum(rewards)
                for i, r in enumerate(rewards):
                    exact = gr.advantage(r, K, G, method, std)
                    assert exactly_equal(exact, as_sympy(expected[i]))
                    assert abs(floats[i] - float(sp.N(as_sympy(expected[i]), 30))) < 1e-12
    # advantages of Dr. GRPO and GRPO sum to zero in every group
    r = rng.integers(0, 2, size=(100, 8))
    for method in ("dr_grpo", "grpo"):
        assert np.allclose(gr.group_advantages(r, method).sum(axis=1), 0, atol=1e-12)


# --- no-signal groups -------------------------------------------------------------------------


def test_zero_signal_probability_by_enumeration():
    rng = np.random.default_rng(17)
    for _ in range(20):
        M, p = random_instance(rng)
        G = int(rng.integers(1, 6))
        A = ref.accuracy(p, M)
        assert gr.zero_signal_probability(A, G) == ref.zero_signal_by_enumeration(p, M, G)
        assert gr.informative_groups(A, G, 64) == 64 * (1 - ref.zero_signal_by_enumeration(p, M, G))
    # no-signal groups give zero advantage under Dr. GRPO, GRPO and Reinforce-Rej
    for method in ("dr_grpo", "grpo", "reinforce_rej"):
        assert not gr.group_advantages(np.array([[0, 0, 0], [1, 1, 1]]), method).any()


def test_group_size_for_signal_is_minimal():
    for A in (0.5, 0.1, 1 / 64, 1e-3, 0.999):
        for level in (0.1, 0.5, 0.9):
            G = gr.group_size_for_signal(A, level)
            assert 1 - gr.zero_signal_probability(A, G) >= level
            assert G == 1 or 1 - gr.zero_signal_probability(A, G - 1) < level
    assert abs(gr.group_size_for_signal(1e-4, 0.5) * 1e-4 - np.log(2)) < 1e-3


# --- Monte Carlo with the sampler -------------------------------------------------------------


@pytest.mark.parametrize("method", gr.METHODS)
def test_sampled_step_mean_matches_expectation(method):
    rng = np.random.default_rng(gr.METHODS.index(method) + 200)
    for p, M, G, tau in [([0.4, 0.55, 0.7], 4, 6, 1.0), ([0.3, 0.8], 3, 3, 0.5), ([0.6], 5, 8, 1.0)]:
        runs = np.array([gr.sampled_group_step(p, M, G, 4000, rng, method, temperature=tau) for _ in range(30)])
        mean, se = runs.mean(axis=0), runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
        expected = gr.expected_group_step(p, M, G, method, temperature=tau)
        assert np.all(np.abs(mean - expected) < Z * se + 1e-12), (method, p, mean, expected, se)


def test_sample_groups_start_at_their_question_and_score_is_the_policy_score():
    rng = np.random.default_rng(1)
    rewards, followed = gr.sample_groups([0.5, 0.5], 4, 3, 10, rng)
    assert rewards.shape == (10, 3) and followed.shape == (10, 3, 2)
    # a chain that follows every step is correct
    assert np.all(rewards[followed.all(axis=-1)] == 1)
    p = np.array([0.3, 0.7])
    h = 1e-6
    for flags in ([1, 0], [0, 1], [1, 1], [0, 0]):
        def logp(x):
            return sum(np.log(x[t]) if f else np.log((1 - x[t]) / 3) for t, f in enumerate(flags))
        numeric = [(logp(p + h * np.eye(2)[t]) - logp(p - h * np.eye(2)[t])) / (2 * h) for t in range(2)]
        assert np.allclose(gr.chain_scores(p, 4, [flags]), numeric, rtol=1e-7)


def test_surrogate_loss_reads_zero_while_its_gradient_is_the_step():
    rng = np.random.default_rng(9)
    p = np.array([0.35, 0.6, 0.8])
    rewards, followed = gr.sample_groups(p, 4, 8, 50, rng)
    scores = gr.chain_scores(p, 4, followed)
    h = 1e-6
    for method in ("dr_grpo", "grpo"):
        adv = gr.group_advantages(rewards, method)
        flat_f, flat_a = followed.reshape(-1, 3), adv.ravel()
        assert abs(gr.surrogate_loss(p, p, flat_f, flat_a)) < 1e-12
        step = np.einsum("bi,bit->t", adv, scores) / adv.size
        assert np.abs(step).max() > 0.01
        grad = [(gr.surrogate_loss(p + h * e, p, flat_f, flat_a) - gr.surrogate_loss(p - h * e, p, flat_f, flat_a)) / (2 * h)
                for e in np.eye(3)]
        assert np.allclose(grad, -step, rtol=1e-6, atol=1e-8)
    rft = gr.group_advantages(rewards, "rft").ravel()
    assert gr.surrogate_loss(p, p, followed.reshape(-1, 3), rft) == pytest.approx(-rewards.mean())


# --- uneven difficulty ------------------------------------------------------------------------


def test_question_accuracy_gradient_by_enumeration():
    rng = np.random.default_rng(21)
    for _ in range(6):
        M, T = int(rng.integers(2, 4)), int(rng.integers(1, 3))
        follow = [[Fraction(int(k), 10) for k in rng.integers(1, 10, size=M)] for _ in range(T)]
        c, grad = gr.question_accuracy_gradient(follow)
        for q in range(M):
            assert c[q] == ref.question_accuracy(follow, q)
            expected = ref.question_accuracy_gradient(follow, q)
            assert all(grad[q, t, s] == expected[t][s] for t in range(T) for s in range(M))
        P = gr.row_follow_policy(follow)
        g = np.tile(np.arange(M), (T, 1))
        measured = sl.measure_policy(P, g, [Fraction(1, M)] * M).question_accuracy
        assert list(measured) == list(c)


def test_row_follow_policy_is_the_oracle_rows_and_the_per_question_kernels():
    rng = np.random.default_rng(22)
    for _ in range(6):
        M, T = int(rng.integers(2, 5)), int(rng.integers(1, 4))
        follow = [[Fraction(int(k), 10) for k in rng.integers(0, 11, size=M)] for _ in range(T)]
        P = gr.row_follow_policy(follow)
        expected = ref.row_kernels(follow)
        assert P.shape == (T, M, M)
        assert all(P[t, s, s2] == expected[t][s][s2] for t in range(T) for s in range(M) for s2 in range(M))
        floats = gr.row_follow_policy(np.array(follow, dtype=float))
        assert floats.dtype == float and np.allclose(floats, np.array(expected, dtype=float), rtol=1e-15, atol=0)
        # rows constant over the steps: one follow probability per question, identity ground truth
        same = gr.row_follow_policy([follow[0]] * T)
        per_question = tabular.per_question_tied_kernels(follow[0], np.tile(np.arange(M), (T, 1)))
        assert np.array_equal(same, per_question)


@pytest.mark.parametrize("method", ["rft", "dr_grpo", "reinforce_rej"])
def test_tabular_group_step_matches_every_group(method):
    rng = np.random.default_rng(23)
    for _ in range(3):
        M, T, G = 3, 2, 2
        follow = [[Fraction(int(k), 10) for k in rng.integers(1, 10, size=M)] for _ in range(T)]
        weights = rng.integers(1, 5, size=M)
        q0 = [Fraction(int(w), int(weights.sum())) for w in weights]
        expected = ref.tabular_group_step(follow, q0, G, method)
        got = gr.tabular_group_step(follow, q0, G, method)
        assert all(got[t, s] == expected[t][s] for t in range(T) for s in range(M))


def test_tabular_grpo_floats_are_weighted_gradients():
    follow = np.array([[0.7, 0.2, 0.4], [0.5, 0.6, 0.3]])
    q0 = np.array([0.5, 0.3, 0.2])
    c, grad = gr.question_accuracy_gradient(follow)
    step = gr.tabular_group_step(follow, q0, 4, "grpo", learning_rate=0.5)
    w = gr.grpo_weight(c, 4)
    assert np.allclose(step, 0.5 * np.einsum("q,qts->ts", q0 * w, grad))
    # a tied start with uniform questions: the tabular step of every row is the tied step
    tied = np.full((2, 3), 0.6)
    one = gr.tabular_group_step(tied, np.full(3, 1 / 3), 4, "grpo")
    assert np.allclose(one, gr.expected_group_step([0.6, 0.6], 3, 4, "grpo")[:, None] / 3)


def test_star_per_question_weight_is_one_over_mean_accuracy():
    c = [Fraction(1, 2), Fraction(1, 4)]
    w = gr.per_question_weights(c, 4, "star", q0=[Fraction(1, 3), Fraction(2, 3)])
    assert w == [Fraction(3, 1), Fraction(3, 1)]
    assert np.allclose(gr.per_question_weights(np.array([0.2, 0.6]), 3, "grpo"), gr.grpo_weight(np.array([0.2, 0.6]), 3))


def test_difficulty_iterates_stay_in_range():
    follow = np.tile(sl.prob_from_margin(np.array([0.5, 0.5, 0.05, 0.05]), 4), (2, 1))
    runs = gr.difficulty_iterates(follow, np.full(4, 0.25), 4, "grpo", 30, 5.0)
    assert runs.shape == (31, 2, 4) and runs.min() >= 0 and runs.max() <= 1
    assert np.array_equal(runs[0], follow)


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: gr.expected_group_step([0.5], 3, 4, "ppo"), "method"),
        (lambda: gr.expected_group_step([0.5], 3, 0, "rft"), "G"),
        (lambda: gr.expected_group_step([0.5], 3, 2.0, "rft"), "G"),
        (lambda: gr.expected_group_step([1.5], 3, 2, "rft"), "p"),
        (lambda: gr.expected_group_step([np.nan], 3, 2, "rft"), "p"),
        (lambda: gr.expected_group_step([0.5], 1, 2, "rft"), "M"),
        (lambda: gr.expected_group_step([0.5], 3, 2, "rft", temperature=0), "temperature"),
        (lambda: gr.expected_group_step([1.0], 3, 2, "rft", temperature=0.5), "p"),
        (lambda: gr.expected_group_step([0.5], 3, 2, "rft", learning_rate=-1), "learning_rate"),
        (lambda: gr.expected_group_step([0.5], 3, 1, "grpo", std="sample"), "sample"),
        (lambda: gr.expected_group_step([0.5], 3, 2, "grpo", std="unbiased"), "std"),
        (lambda: gr.zero_signal_probability(1.2, 3), "A"),
        (lambda: gr.zero_signal_probability(0.2, -1), "G"),
        (lambda: gr.informative_groups(0.2, 3, 0), "questions"),
        (lambda: gr.group_size_for_signal(0.0), "A"),
        (lambda: gr.group_size_for_signal(0.1, 1.0), "informative"),
        (lambda: gr.group_size_for_signal(1e-9, 0.99, max_group_size=10), "max_group_size"),
        (lambda: gr.grpo_weight(np.inf, 3), "A"),
        (lambda: gr.star_refit_weight(0.0), "A"),
        (lambda: gr.group_weight(0.3, 3, None), "method"),
        (lambda: gr.advantage(2, 1, 3, "rft"), "reward"),
        (lambda: gr.advantage(1, 0, 3, "rft"), "successes"),
        (lambda: gr.advantage(0, 3, 3, "rft"), "successes"),
        (lambda: gr.group_advantages([0, 2], "rft"), "rewards"),
        (lambda: gr.group_advantages([], "rft"), "rewards"),
        (lambda: gr.sampled_group_step([0.5], 3, 2, 10, 42, "rft"), "rng"),
        (lambda: gr.sampled_group_step([0.0, 0.5], 3, 2, 10, np.random.default_rng(), "rft"), "p"),
        (lambda: gr.sampled_group_step([0.5], 3, 2, 0, np.random.default_rng(), "rft"), "questions"),
        (lambda: gr.chain_scores([0.5], 3, [[2]]), "followed"),
        (lambda: gr.chain_scores([0.5, 0.5], 3, [[1]]), "followed"),
        (lambda: gr.surrogate_loss([0.5], [0.5], [[1]], [np.nan]), "advantages"),
        (lambda: gr.surrogate_loss([0.5], [1.0], [[1]], [0.0]), "p_old"),
        (lambda: gr.row_follow_policy([0.5, 0.5]), "follow"),
        (lambda: gr.row_follow_policy([[0.5, 1.5]]), "follow"),
        (lambda: gr.tabular_group_step([[0.5, 0.5]], [0.5, 0.6], 2, "rft"), "q0"),
        (lambda: gr.tabular_group_step([[Fraction(1, 2)] * 2], [Fraction(1, 2)] * 2, 2, "grpo"), "grpo"),
        (lambda: gr.difficulty_iterates([[0.5, 0.5]], [0.5, 0.5], 2, "rft", -1, 1.0), "iterations"),
        (lambda: gr.per_question_weights([0.5], 2, "sft"), "method"),
        (lambda: gr.per_question_weights([0.5, 0.2], 2, "star"), "q0"),
        (lambda: gr.per_question_weights([0.0, 0.0], 2, "star", q0=[0.5, 0.5]), "c"),
        (lambda: gr.per_question_weights([0.5, 0.2], 2, "grpo", q0=[0.5, 0.6]), "q0"),
        (lambda: gr.per_question_weights([], 2, "grpo"), "c"),
        (lambda: gr.weight_curves([], 4), "accuracies"),
        (lambda: gr.weight_curves("abc", 4), "accuracies"),
        (lambda: gr.surrogate_loss([0.5], [0.5], [[1]], "a"), "advantages"),
        (lambda: gr.sample_groups([0.5], 3, 2**62, 4, np.random.default_rng()), "questions \\* G"),
        (lambda: gr.sample_groups([0.5], 3, 2, 2**63, np.random.default_rng()), "questions"),
        (lambda: gr.difficulty_iterates([[0.5, 1.5]], [0.5, 0.5], 2, "rft", 1, 1.0), "follow0"),
        (lambda: gr.difficulty_runs([[0.5, 0.5]], "ab", 2, 1, 1), "q0"),
        (lambda: gr.difficulty_runs([[0.5, 0.5]], [0.5, 0.5], 2, 1, 1, {"ppo": 1.0}), "learning_rates"),
        (lambda: gr.difficulty_runs([[0.5, 0.5]], [0.5, 0.5], 2, 1, 1, {"rft": 0.0}), "learning_rates"),
        (lambda: gr.difficulty_runs([[0.5, 0.5]], [0.5, 0.5], 2, 1, -1), "star_iterations"),
        (lambda: gr.difficulty_summary([[0.5, 0.5]], [0], [1]), "accuracies"),
        (lambda: gr.difficulty_summary({"x": [[0.5, 0.2]], "y": [[0.5, 0.2, 0.1]]}, [0], [1]), "accuracies"),
        (lambda: gr.difficulty_summary({"x": [[0.5, np.nan]]}, [0], [1]), "accuracies"),
        (lambda: gr.difficulty_summary({"x": [[0.5, 0.2]]}, slice(2, 4), [1]), "easy"),
        (lambda: gr.difficulty_summary({"x": [[0.5, 0.2]]}, [0], [2]), "hard"),
        (lambda: gr.difficulty_summary({"x": [[0.5, 0.2]]}, [0], []), "hard"),
        (lambda: gr.tabular_group_step_by_enumeration([[Fraction(1, 2)] * 2], [Fraction(1, 2)] * 2, 2, "grpo", std="unbiased"), "std"),
        (lambda: gr.tabular_group_step_by_enumeration([[Fraction(1, 2)] * 2], [Fraction(1, 2)] * 2, 1, "grpo", std="sample"), "sample"),
        (lambda: gr.tabular_group_step_by_enumeration([[Fraction(0), Fraction(1, 2)]], [Fraction(1, 2)] * 2, 2, "rft"), "follow"),
        (lambda: gr.tabular_group_step_by_enumeration([[Fraction(1, 2)] * 2], [Fraction(1, 2)] * 2, 0, "rft"), "G"),
    ],
)
def test_bad_input_names_the_argument(call, word):
    with pytest.raises(ValueError, match=word):
        call()


# --- the chapter's enumeration helpers against the oracle ----------------------------------------


def test_group_step_by_enumeration_matches_the_oracle():
    rng = np.random.default_rng(29)
    for _ in range(6):
        M, p = random_instance(rng, max_T=2)
        G = int(rng.integers(1, 4))
        power = int(rng.choice([1, 2]))
        for method in gr.METHODS:
            expected = ref.expected_group_step(p, M, G, method, power)
            got = gr.group_step_by_enumeration(p, M, G, method, temperature=Fraction(1, power))
            assert all(exactly_equal(got[t], as_sympy(expected[t])) for t in range(len(p)))


def test_tabular_group_step_by_enumeration_matches_the_oracle():
    follow = [[Fraction(1, 2), Fraction(3, 10), Fraction(7, 10)], [Fraction(2, 5), Fraction(1, 2), Fraction(4, 5)]]
    q0 = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    for G in (2, 3):
        for method in ("rft", "dr_grpo", "reinforce_rej"):
            expected = ref.tabular_group_step(follow, q0, G, method)
            got = gr.tabular_group_step_by_enumeration(follow, q0, G, method)
            assert all(got[t, s] == expected[t][s] for t in range(2) for s in range(3))
    with pytest.raises(ValueError, match="Fractions"):
        gr.tabular_group_step_by_enumeration([[0.5, 0.5]], [0.5, 0.5], 2, "rft")
    with pytest.raises(ValueError, match="method"):
        gr.tabular_group_step_by_enumeration(follow, q0, 2, "ppo")


@pytest.mark.parametrize("std", ["population", "sample"])
def test_tabular_grpo_by_enumeration_matches_the_oracle_and_the_weights(std):
    """GRPO's per-question weights: every group of every question, exactly, against the weighted gradients."""
    rng = np.random.default_rng(37 if std == "population" else 38)
    for _ in range(2):
        follow = [[Fraction(int(k), 10) for k in rng.integers(1, 10, size=3)] for _ in range(2)]
        weights = rng.integers(1, 5, size=3)
        q0 = [Fraction(int(w), int(weights.sum())) for w in weights]
        expected = ref.tabular_group_step(follow, q0, 3, "grpo", std)
        got = gr.tabular_group_step_by_enumeration(follow, q0, 3, "grpo", std)
        assert all(exactly_equal(got[t, s], as_sympy(expected[t][s])) for t in range(2) for s in range(3))
        floats = gr.tabular_group_step(np.array(follow, dtype=float), np.array(q0, dtype=float), 3, "grpo", std=std)
        assert np.allclose(np.array(got, dtype=float), floats, rtol=1e-12, atol=1e-15)


def test_figure_data():
    curves = gr.weight_curves(np.array([0.0, 0.25, 1.0]), 4)
    assert set(curves) == set(gr.METHODS) | {"star"}
    assert np.allclose(curves["grpo"][[0, 2]], np.sqrt(3)) and curves["star"][0] == np.inf
    follow = np.tile(sl.prob_from_margin(np.array([0.5, 0.5, 0.05, 0.05]), 4), (2, 1))
    acc, rates = gr.difficulty_runs(follow, np.full(4, 0.25), 4, 5, 3)
    assert acc["grpo"].shape == (6, 4) and acc["star"].shape == (4, 4)
    assert rates["dr_grpo"] == pytest.approx(4 / 3)
    summary = gr.difficulty_summary({"x": [[0.5, 0.2], [0.6, 0.1], [0.95, 0.15], [1.0, 0.6]]}, [0], [1])["x"]
    assert summary == (1, 2, 3, 2, 0.1)
    assert gr.difficulty_summary({"x": [[0.5, 0.2], [0.5, 0.3]]}, [0], [1])["x"][:4] == (None, None, None, None)
    with pytest.raises(ValueError, match="accuracies"):
        gr.difficulty_summary({"x": [0.5, 0.2]}, [0], [1])
    # Dr. GRPO at learning rate G/(G-1) is RFT at learning rate 1: the same iterates
    assert np.allclose(acc["dr_grpo"], acc["rft"], rtol=0, atol=1e-12)
