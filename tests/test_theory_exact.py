"""starlib's closed forms against brute-force enumeration (tests/exact_reference.py).

Exact cases compare Fractions for equality; float cases compare with the oracle
in exact arithmetic to an absolute tolerance of 1e-12 (FLOAT_TOL).
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import exact_reference as ref
import starlib as sl

FLOAT_TOL = 1e-12
SMALL_CASES = [(M, T) for M in (2, 3, 4) for T in (1, 2, 3, 4)]


def random_prob(rng, denominator=12):
    """A random probability as a Fraction; 0 and 1 (the family's edges) are common."""
    u = rng.uniform()
    if u < 0.15:
        return Fraction(0)
    if u < 0.3:
        return Fraction(1)
    return Fraction(int(rng.integers(0, denominator + 1)), denominator)


def random_tied(rng, M, T):
    # Denominator M makes uniform steps (p = 1/M) and exact margins common.
    return [random_prob(rng, denominator=int(rng.choice([M, 6, 12, 35]))) for _ in range(T)]


def random_bijections(rng, M, T):
    return [[int(x) for x in rng.permutation(M)] for _ in range(T)]


def random_maps(rng, M, T):
    """Arbitrary, possibly non-bijective ground truths."""
    return [[int(x) for x in rng.integers(0, M, size=M)] for _ in range(T)]


def random_distribution(rng, M, zeros=True):
    weights = [int(w) for w in rng.integers(0 if zeros else 1, 5, size=M)]
    if sum(weights) == 0:
        weights[int(rng.integers(M))] = 1
    return [Fraction(w, sum(weights)) for w in weights]


def random_kernel(rng, M, T):
    return [[random_distribution(rng, M) for _ in range(M)] for _ in range(T)]


def floats(x):
    return np.array(x, dtype=float)


def instances(seed, count):
    """`count` random tied policies for every small (M, T)."""
    rng = np.random.default_rng(seed)
    for M, T in SMALL_CASES:
        for _ in range(count):
            yield M, T, random_tied(rng, M, T)


# --- accuracy, star_step, kept_wrong_rate on the tied family -----------------------


def test_accuracy_matches_enumeration():
    checked = 0
    for M, T, p in instances(seed=1, count=8):
        g, q0 = ref.identity_g(T, M), ref.uniform_q0(M)
        expected = ref.accuracy(ref.tied_kernel(p, M), g, q0)
        got = sl.accuracy(p, M)
        assert isinstance(got, Fraction) and got == expected, (M, p)
        assert abs(sl.accuracy(floats(p), M) - float(expected)) < FLOAT_TOL, (M, p)
        checked += 1
    assert checked == 8 * len(SMALL_CASES)


def test_star_step_matches_enumeration_exact_and_float():
    zero_accuracy_seen = 0
    for M, T, p in instances(seed=2, count=8):
        expected = ref.tied_star_step(p, M)
        if expected is None:  # no kept chains: the update is undefined
            zero_accuracy_seen += 1
            with pytest.raises(sl.NoKeptChainsError):
                sl.star_step(p, M)
            with pytest.raises(sl.NoKeptChainsError):
                sl.star_step(floats(p), M)
            continue
        got = sl.star_step(p, M)
        assert isinstance(got, list) and all(isinstance(x, Fraction) for x in got)
        assert got == expected, (M, p)
        np.testing.assert_allclose(sl.star_step(floats(p), M), floats(expected), rtol=0, atol=FLOAT_TOL)
    # The random draws must exercise the zero-accuracy branch too.
    assert zero_accuracy_seen > 0


def test_star_step_does_not_depend_on_the_labelling_g():
    # The update does not depend on the labelling g (uniform questions, bijective g).
    rng = np.random.default_rng(3)
    for M, T in SMALL_CASES:
        p = random_tied(rng, M, T)
        relabelled = ref.tied_star_step(p, M, g=random_bijections(rng, M, T))
        if relabelled is None:
            continue
        assert sl.star_step(p, M) == relabelled


@pytest.mark.parametrize("inverse_temperature", [1, 2, 3])
def test_tempered_star_step_exact(inverse_temperature):
    tau = Fraction(1, inverse_temperature)
    for M, T, p in instances(seed=10 + inverse_temperature, count=4):
        expected = ref.tied_star_step(p, M, power=inverse_temperature)
        if expected is None:
            with pytest.raises(sl.NoKeptChainsError):
                sl.star_step(p, M, temperature=tau)
            continue
        assert sl.star_step(p, M, temperature=tau) == expected, (M, p, tau)
        np.testing.assert_allclose(
            sl.star_step(floats(p), M, temperature=float(tau)), floats(expected), rtol=0, atol=FLOAT_TOL
        )


@pytest.mark.parametrize("inverse_temperature", [1, 2, 3])
def test_tempered_matches_renormalised_row(inverse_temperature):
    rng = np.random.default_rng(20 + inverse_temperature)
    tau = Fraction(1, inverse_temperature)
    for M, T in SMALL_CASES:
        p = random_tied(rng, M, T)
        # The tempered follow probability is the ground-truth entry of a tempered row.
        expected = [ref.tied_kernel([pt], M, power=inverse_temperature)[0][0][0] for pt in p]
        assert sl.tempered(p, M, tau) == expected
        np.testing.assert_allclose(sl.tempered(floats(p), M, float(tau)), floats(expected), atol=FLOAT_TOL)


@pytest.mark.parametrize("tau", [0.3, 0.7, 1.5, 2.5])
def test_star_step_non_integer_inverse_temperature_matches_float_enumeration(tau):
    # The oracle in floats, rows raised to the power 1/tau and renormalised.
    rng = np.random.default_rng(int(tau * 10))
    for M, T in SMALL_CASES:
        for _ in range(3):
            p = [float(x) for x in random_tied(rng, M, T)]
            expected = ref.tied_star_step(p, M, g=ref.identity_g(T, M), q0=[1.0 / M] * M, power=1.0 / tau)
            if expected is None:
                continue
            got = sl.star_step(p, M, temperature=tau)
            np.testing.assert_allclose(got, expected, rtol=0, atol=FLOAT_TOL, err_msg=f"M={M} p={p}")
            tempered = ref.tied_kernel(p, M, power=1.0 / tau)
            np.testing.assert_allclose(
                sl.tempered(p, M, tau), [tempered[t][0][0] for t in range(T)], rtol=0, atol=FLOAT_TOL
            )


def test_kept_wrong_rate_matches_enumeration():
    for M, T, p in instances(seed=4, count=6):
        expected = ref.kept_wrong_rate(p, M)
        if expected is None:
            with pytest.raises(sl.NoKeptChainsError):
                sl.kept_wrong_rate(p, M)
            continue
        got = sl.kept_wrong_rate(p, M)
        assert isinstance(got, Fraction) and got == expected, (M, p)
        assert abs(sl.kept_wrong_rate(floats(p), M) - float(expected)) < FLOAT_TOL
        # F7: the same rate is 1 - prod_t p_t / A.
        assert got == 1 - math.prod(p) / sl.accuracy(p, M)


def test_star_step_eps_matches_enumeration():
    for M, T, p in instances(seed=5, count=6):
        expected = ref.tied_star_step(p, M)
        if expected is None:
            with pytest.raises(sl.NoKeptChainsError):
                sl.star_step_eps(floats([1 - x for x in p]), M)
            continue
        got = sl.star_step_eps(floats([1 - x for x in p]), M)
        np.testing.assert_allclose(got, floats([1 - x for x in expected]), rtol=0, atol=FLOAT_TOL)


def test_star_iterates_matches_repeated_star_step():
    rng = np.random.default_rng(6)
    for M, T in SMALL_CASES:
        p0 = rng.uniform(size=T)
        for tau in (1.0, 0.5, 1.7):
            trajectory = sl.star_iterates(p0, M, 6, temperature=tau)
            assert trajectory.shape == (7, T)
            np.testing.assert_array_equal(trajectory[0], p0)
            p = p0
            for k in range(1, 7):
                p = sl.star_step(p, M, temperature=tau)
                np.testing.assert_allclose(trajectory[k], p, rtol=0, atol=1e-15)


def test_star_iterates_first_step_matches_exact_oracle():
    for M, T, p in instances(seed=7, count=2):
        expected = ref.tied_star_step(p, M)
        if expected is None:
            continue
        trajectory = sl.star_iterates(floats(p), M, 1)
        np.testing.assert_allclose(trajectory[1], floats(expected), rtol=0, atol=FLOAT_TOL)


# --- chain model helpers ------------------------------------------------------------


def test_tied_kernels_match_explicit_kernels():
    rng = np.random.default_rng(8)
    for M, T in SMALL_CASES:
        p = random_tied(rng, M, T)
        g = random_bijections(rng, M, T)
        assert sl.tied_kernels(p, M, g).tolist() == ref.tied_kernel(p, M, g)
        assert sl.tied_kernels(p, M).tolist() == ref.tied_kernel(p, M)
        np.testing.assert_allclose(sl.tied_kernels(floats(p), M, g), floats(ref.tied_kernel(p, M, g)), atol=1e-15)


def test_f1_product_of_kernels():
    # F1: prod_t P_t = J/M + D (I - J/M) for the relabelled tied kernels.
    rng = np.random.default_rng(9)
    for M, T in SMALL_CASES:
        p = random_tied(rng, M, T)
        product = np.identity(M, dtype=int).astype(object)
        for P_t in sl.tied_kernels(p, M):
            product = product.dot(P_t)
        D = math.prod((M * x - 1) / Fraction(M - 1) for x in p)
        J_over_M = np.full((M, M), Fraction(1, M), dtype=object)
        expected = J_over_M + D * (np.identity(M, dtype=int).astype(object) - J_over_M)
        assert product.tolist() == expected.tolist()


def test_answers_match_composition_of_g():
    rng = np.random.default_rng(10)
    for M, T in SMALL_CASES:
        for g in (random_bijections(rng, M, T), random_maps(rng, M, T)):
            assert sl.answers(g).tolist() == [ref.answer(g, s0) for s0 in range(M)]


def test_enumerate_chains_matches_oracle_and_sums_to_one():
    rng = np.random.default_rng(11)
    for M, T in SMALL_CASES:
        P, q0 = random_kernel(rng, M, T), random_distribution(rng, M)
        got = list(sl.enumerate_chains(P, q0))
        assert len(got) == M ** (T + 1)
        assert sum(w for _, w in got) == 1
        assert {tuple(s): w for s, w in got} == dict(ref.chains(P, q0))
        float_chains = list(sl.enumerate_chains(floats(P), floats(q0)))
        assert abs(sum(w for _, w in float_chains) - 1) < FLOAT_TOL
        for (s, w), (s_ref, w_ref) in zip(float_chains, ref.chains(P, q0)):
            assert tuple(s) == s_ref and abs(w - float(w_ref)) < FLOAT_TOL


def test_margin_and_prob_from_margin():
    rng = np.random.default_rng(12)
    for M, T in SMALL_CASES:
        p = random_tied(rng, M, T)
        delta = sl.margin(p, M)
        assert delta == [(M * x - 1) / Fraction(M - 1) for x in p]
        assert sl.prob_from_margin(delta, M) == p
        np.testing.assert_allclose(sl.margin(floats(p), M), floats(delta), atol=1e-15)
        np.testing.assert_allclose(sl.prob_from_margin(floats(delta), M), floats(p), atol=1e-15)
    # The ends of the range: p = 0 is delta = -1/(M - 1), p = 1/M is 0, p = 1 is 1.
    assert sl.margin([Fraction(0), Fraction(1, 5), Fraction(1)], 5) == [Fraction(-1, 4), 0, 1]
    assert sl.margin(0.0, 5) == -0.25


# --- the general tabular policy -----------------------------------------------------


def test_star_by_enumeration_matches_oracle():
    rng = np.random.default_rng(16)
    for M, T in SMALL_CASES:
        P, q0, g = random_kernel(rng, M, T), random_distribution(rng, M), random_bijections(rng, M, T)
        kept = ref.kept_chains(P, g, q0)
        A = sum(w for _, w in kept)
        if A == 0:
            with pytest.raises(sl.NoKeptChainsError):
                sl.star_by_enumeration(P, g, q0)
            continue
        follow = [sum(w for s, w in kept if s[t + 1] == g[t][s[t]]) / A for t in range(T)]
        wrong = sum(w for s, w in kept if any(s[t + 1] != g[t][s[t]] for t in range(T))) / A
        got = sl.star_by_enumeration(P, g, q0)
        assert got.accuracy == A and list(got.kept_follow) == follow and got.kept_wrong_rate == wrong
        got_float = sl.star_by_enumeration(floats(P), g, floats(q0))
        assert abs(got_float.accuracy - float(A)) < FLOAT_TOL
        np.testing.assert_allclose(got_float.kept_follow, floats(follow), rtol=0, atol=FLOAT_TOL)
        assert abs(got_float.kept_wrong_rate - float(wrong)) < FLOAT_TOL


def test_star_by_enumeration_of_tied_kernels_equals_closed_forms():
    for M, T, p in instances(seed=17, count=2):
        if ref.tied_star_step(p, M) is None:
            continue
        got = sl.star_by_enumeration(sl.tied_kernels(p, M), ref.identity_g(T, M), ref.uniform_q0(M))
        assert got.accuracy == sl.accuracy(p, M)
        assert list(got.kept_follow) == sl.star_step(p, M)
        assert got.kept_wrong_rate == sl.kept_wrong_rate(p, M)



@pytest.mark.parametrize("ground_truth", ["bijection", "arbitrary map"])
def test_tabular_star_step_and_accuracy_match_enumeration(ground_truth):
    rng = np.random.default_rng(13 if ground_truth == "bijection" else 14)
    for M, T in SMALL_CASES:
        for _ in range(3):
            P = random_kernel(rng, M, T)
            q0 = random_distribution(rng, M)
            g = random_bijections(rng, M, T) if ground_truth == "bijection" else random_maps(rng, M, T)
            expected_accuracy = ref.accuracy(P, g, q0)
            assert sl.tabular_accuracy(P, g, q0) == expected_accuracy
            assert abs(sl.tabular_accuracy(floats(P), g, floats(q0)) - float(expected_accuracy)) < FLOAT_TOL
            expected = ref.tabular_star_step(P, g, q0)
            if expected is None:
                with pytest.raises(sl.NoKeptChainsError):
                    sl.tabular_star_step(P, g, q0)
                continue
            got = sl.tabular_star_step(P, g, q0)
            assert got.shape == (T, M, M)
            assert got.tolist() == expected, (P, g, q0)
            np.testing.assert_allclose(
                sl.tabular_star_step(floats(P), g, floats(q0)), floats(expected), rtol=0, atol=FLOAT_TOL
            )


def test_tabular_zero_accuracy_raises():
    # Deterministic kernels that shift every state by one: after T = 2 steps the chain
    # is at s0 + 2 (mod 3), never the answer g = identity gives.
    shift = [[Fraction(int(s2 == (s + 1) % 3)) for s2 in range(3)] for s in range(3)]
    P, g, q0 = [shift, shift], ref.identity_g(2, 3), ref.uniform_q0(3)
    assert ref.tabular_star_step(P, g, q0) is None
    assert sl.tabular_accuracy(P, g, q0) == 0
    for kernel, questions in [(P, q0), (floats(P), floats(q0))]:
        with pytest.raises(sl.NoKeptChainsError, match="accuracy is 0"):
            sl.tabular_star_step(kernel, g, questions)


def test_tabular_star_step_keeps_unvisited_rows():
    # M = 3, T = 1, question 2 never asked and state 1 never reached by a kept chain.
    P = [[[Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)], [Fraction(1, 3)] * 3, [0, 0, 1]]]
    q0 = [Fraction(1), Fraction(0), Fraction(0)]
    g = [[0, 1, 2]]
    new = sl.tabular_star_step(P, g, q0)
    assert new.tolist() == [[[1, 0, 0], [Fraction(1, 3)] * 3, [0, 0, 1]]]
    assert new.tolist() == ref.tabular_star_step(P, g, q0)


# --- batches ------------------------------------------------------------------------


def test_batches_equal_per_row_results():
    rng = np.random.default_rng(15)
    for M, T in [(2, 3), (3, 1), (4, 4), (64, 3)]:
        p = rng.uniform(size=(3, 5, T))
        p[0, 0] = 1.0  # an optimal row
        p[0, 1, 0] = 0.0 if T > 1 else 0.5  # below chance: the fallback recurrence (T = 1 would give A = 0)
        p[1, 2] = 1.0 / M  # uniform guessing
        p[2, 3, :] = rng.uniform(0, 0.05, size=T)  # all steps well below chance
        if M == 2 and T == 3:
            p[2, 4] = [0.0, 0.0, 1.0]  # two always-wrong steps that compensate: A = 1
        A = sl.accuracy(p, M)
        assert A.shape == (3, 5)
        new = sl.star_step(p, M)
        new_hot = sl.star_step(p, M, temperature=0.5)
        eps_new = sl.star_step_eps(1 - p, M)
        wrong = sl.kept_wrong_rate(p, M)
        trajectory = sl.star_iterates(p, M, 3)
        assert new.shape == p.shape and trajectory.shape == (4,) + p.shape
        for i, j in itertools.product(range(3), range(5)):
            row = p[i, j]
            assert A[i, j] == sl.accuracy(row, M)
            np.testing.assert_array_equal(new[i, j], sl.star_step(row, M))
            np.testing.assert_array_equal(new_hot[i, j], sl.star_step(row, M, temperature=0.5))
            np.testing.assert_array_equal(eps_new[i, j], sl.star_step_eps(1 - row, M))
            assert wrong[i, j] == sl.kept_wrong_rate(row, M)
            np.testing.assert_array_equal(trajectory[:, i, j], sl.star_iterates(row, M, 3))
        np.testing.assert_array_equal(sl.margin(p, M), (M * p - 1) / (M - 1))
        np.testing.assert_array_equal(sl.tempered(p, M, 0.5)[1, 2], sl.tempered(p[1, 2], M, 0.5))


def test_batch_with_a_zero_accuracy_row_raises_and_names_it():
    p = np.array([[0.5, 0.5], [0.0, 1.0]])  # M = 3: the second row has accuracy 0
    with pytest.raises(sl.NoKeptChainsError, match="accuracy is 0"):
        sl.star_step(p, 3)
    assert sl.accuracy(p, 3).tolist() == [sl.accuracy(p[0], 3), 0.0]


def test_batch_of_fractions():
    p = [[Fraction(1, 2), Fraction(2, 3)], [Fraction(1), Fraction(1, 4)]]
    assert sl.accuracy(p, 3) == [sl.accuracy(p[0], 3), sl.accuracy(p[1], 3)]
    assert sl.star_step(p, 3) == [sl.star_step(p[0], 3), sl.star_step(p[1], 3)]
    assert sl.star_step(p, 3) == [ref.tied_star_step(p[0], 3), ref.tied_star_step(p[1], 3)]


# --- symbolic use (SymPy) -----------------------------------------------------------

p1, p2, p3, M_sym, d_sym, tau_sym = sp.symbols("p1 p2 p3 M d tau", positive=True)


def margin_expr(p, M):
    return (M * p - 1) / (M - 1)


def test_symbolic_accuracy_is_f1():
    ps = [p1, p2, p3]
    D = sp.Mul(*[margin_expr(x, M_sym) for x in ps])
    assert sp.simplify(sl.accuracy(ps, M_sym) - (1 / M_sym + (1 - 1 / M_sym) * D)) == 0
    # Numeric M with symbolic p; substituting numbers recovers the exact value.
    A3 = sl.accuracy(ps, 3)
    values = {p1: sp.Rational(1, 2), p2: sp.Rational(1, 5), p3: 1}
    expected = ref.accuracy(
        ref.tied_kernel([Fraction(1, 2), Fraction(1, 5), Fraction(1)], 3), ref.identity_g(3, 3), ref.uniform_q0(3)
    )
    assert sp.Rational(A3.subs(values)) == sp.Rational(expected.numerator, expected.denominator)


def test_symbolic_star_step_is_f2():
    ps = [p1, p2, p3]
    deltas = [margin_expr(x, M_sym) for x in ps]
    D = sp.Mul(*deltas)
    new = sl.star_step(ps, M_sym)
    for t in range(3):
        D_minus_t = sp.Mul(*[d for u, d in enumerate(deltas) if u != t])
        f2 = ps[t] * (1 + (M_sym - 1) * D_minus_t) / (1 + (M_sym - 1) * D)
        assert sp.simplify(new[t] - f2) == 0
        # F3, the natural-gradient form: p' - p = p (1 - p) d(log A)/dp.
        A = sl.accuracy(ps, M_sym)
        assert sp.simplify(new[t] - ps[t] - ps[t] * (1 - ps[t]) * sp.diff(sp.log(A), ps[t])) == 0


def test_symbolic_star_step_at_a_numeric_temperature_stays_exact():
    # A float temperature must not leak SymPy Floats (p**1.0, p**2.0) into the result.
    for tau, k in [(1.0, 1), (0.5, 2), (Fraction(1, 3), 3)]:
        new = sl.star_step([p1, p2], M_sym, temperature=tau)
        assert all(not expr.atoms(sp.Float) for expr in new)
        tempered = [x**k / (x**k + (M_sym - 1) * ((1 - x) / (M_sym - 1)) ** k) for x in (p1, p2)]
        assert sp.simplify(new[0] - sl.star_step(tempered, M_sym)[0]) == 0


def test_symbolic_kept_wrong_rate_is_f7():
    ps = [p1, p2]
    rate = sl.kept_wrong_rate(ps, M_sym)
    assert sp.simplify(rate - (1 - p1 * p2 / sl.accuracy(ps, M_sym))) == 0


def test_symbolic_tempered_is_f8():
    q = (1 - p1) / (M_sym - 1)
    f8 = p1 ** (1 / tau_sym) / (p1 ** (1 / tau_sym) + (M_sym - 1) * q ** (1 / tau_sym))
    assert sp.simplify(sl.tempered(p1, M_sym, tau_sym) - f8) == 0


def test_f2_delta_form_for_t3_equal_margins():
    p = sl.prob_from_margin(d_sym, M_sym)
    new = sl.star_step([p, p, p], M_sym)
    delta_new = sl.margin(new[0], M_sym)
    d = d_sym
    expected = ((M_sym - 2) * d**3 + d**2 + d) / ((M_sym - 1) * d**3 + 1)
    assert sp.simplify(delta_new - expected) == 0
    # And numerically, in exact arithmetic, for a few (M, delta).
    for M, delta in [(2, Fraction(1, 3)), (3, Fraction(-1, 4)), (64, Fraction(1, 10))]:
        p_exact = [delta + (1 - delta) / M] * 3
        got = sl.margin(sl.star_step(p_exact, M), M)
        assert got == [((M - 2) * delta**3 + delta**2 + delta) / ((M - 1) * delta**3 + 1)] * 3


# --- reference numbers from THEORY.md -----------------------------------------------


@pytest.mark.parametrize(
    "delta, expected_accuracy",
    [
        (0.1, [0.0166, 0.0198, 0.0599, 0.6272, 0.9971, 1.0000]),
        (0.2, [0.0235, 0.1310, 0.8694, 0.9998, 1.0000]),
    ],
)
def test_f7_reference_accuracies_m64_t3(delta, expected_accuracy):
    p0 = np.full(3, sl.prob_from_margin(delta, 64))
    trajectory = sl.star_iterates(p0, 64, len(expected_accuracy) - 1)
    np.testing.assert_allclose(sl.accuracy(trajectory, 64), expected_accuracy, rtol=0, atol=5e-5)


def test_f7_most_kept_chains_have_a_wrong_step_at_first():
    p0 = [sl.prob_from_margin(0.1, 64)] * 3
    assert round(sl.kept_wrong_rate(p0, 64), 2) == 0.91
    # Pr(step t wrong | correct) is the next policy's error rate, and shrinks.
    wrong_after = sl.kept_wrong_rate(sl.star_iterates(p0, 64, 4)[-1], 64)
    assert wrong_after < 0.01


def test_f4_spurious_fixed_point_m3():
    trajectory = sl.star_iterates([0.2, 0.2, 0.5], 3, 200)
    np.testing.assert_allclose(trajectory[-1], [0.0, 0.0, 1.0], atol=1e-9)
    assert abs(sl.accuracy(trajectory[-1], 3) - 0.5) < 1e-9
    # The exact fixed point: the update leaves (0, 0, 1) alone, with accuracy 1/2.
    fixed = [Fraction(0), Fraction(0), Fraction(1)]
    assert sl.star_step(fixed, 3) == fixed and sl.accuracy(fixed, 3) == Fraction(1, 2)


def test_f4_spurious_fixed_point_m2_reaches_accuracy_one_with_wrong_steps():
    trajectory = sl.star_iterates([0.2, 0.3, 0.9], 2, 200)
    np.testing.assert_allclose(trajectory[-1], [0.0, 0.0, 1.0], atol=1e-9)
    assert sl.accuracy(trajectory[-1], 2) > 1 - 1e-9


@pytest.mark.parametrize("d, iterations", [(0.1, 8), (0.05, 15), (0.025, 28), (0.0125, 55)])
def test_f6_plateau_iterations_m3_t3(d, iterations):
    trajectory = sl.star_iterates(np.full(3, 1 / 3 + d), 3, 80)
    A = sl.accuracy(trajectory, 3)
    assert int(np.argmax(A >= 0.9)) == iterations


def test_f5_one_step_converges_in_one_iteration():
    for M in (2, 3, 7):
        for p in (Fraction(1, 100), Fraction(1, 2), Fraction(0)):
            if p == 0:  # T = 1 and p = 0: the answer is never right
                with pytest.raises(sl.NoKeptChainsError):
                    sl.star_step([p], M)
            else:
                new = sl.star_step([p], M)
                assert new == [1] and isinstance(new[0], Fraction)  # exact stays exact at T = 1
