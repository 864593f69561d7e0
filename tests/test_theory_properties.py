"""Property tests (hypothesis) of the STaR map: facts F3, F4, F5 and F9(a) of the theory.

Exact properties run on Fractions and compare for equality; float ones state
their tolerance. The formulas written out here (margins, F1) are the
definitions, not starlib's code.
"""

import math
from fractions import Fraction

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import exact_reference as ref
import starlib as sl

# Follow probabilities with 0 and 1 (the edges of the family) drawn often.
probabilities = st.one_of(
    st.sampled_from([Fraction(0), Fraction(1)]),
    st.fractions(min_value=0, max_value=1, max_denominator=40),
)


def margins(p, M):
    return [(M * x - 1) / Fraction(M - 1) for x in p]


def f1_accuracy(p, M):
    return Fraction(1, M) + (1 - Fraction(1, M)) * math.prod(margins(p, M))


def others(values, t):
    return math.prod(v for u, v in enumerate(values) if u != t)


def sign(x):
    return (x > 0) - (x < 0)


@st.composite
def tied_policies(draw, max_M=6, min_T=1, max_T=5):
    M = draw(st.integers(2, max_M))
    T = draw(st.integers(min_T, max_T))
    return M, draw(st.lists(probabilities, min_size=T, max_size=T))


@st.composite
def above_chance(draw, M, min_margin=Fraction(0)):
    """A Fraction p with margin > min_margin (p in (1/M, 1])."""
    x = draw(st.fractions(min_value=0, max_value=1, max_denominator=40))
    delta = min_margin + (1 - min_margin) * x
    assume(delta > 0)
    return delta + (1 - delta) / M


# --- F3: improvement ----------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(tied_policies())
def test_f3_change_is_natural_gradient_and_has_the_sign_of_d_minus_t(case):
    M, p = case
    A = f1_accuracy(p, M)
    assume(A > 0)
    new = sl.star_step(p, M)
    deltas = margins(p, M)
    for t in range(len(p)):
        D_minus_t = others(deltas, t)
        # p_t' - p_t = p_t (1 - p_t) D_{-t} / A, exactly.
        assert new[t] - p[t] == p[t] * (1 - p[t]) * D_minus_t / A
        if 0 < p[t] < 1:
            assert sign(new[t] - p[t]) == sign(D_minus_t)


@settings(deadline=None, max_examples=200)
@given(
    st.integers(2, 64),
    st.lists(st.floats(0, 1), min_size=1, max_size=6),
)
def test_f3_in_floats_matches_exact_update(M, p):
    exact_p = [Fraction(x) for x in p]
    A = f1_accuracy(exact_p, M)
    assume(A > 0)
    deltas = margins(exact_p, M)
    expected = [x + x * (1 - x) * others(deltas, t) / A for t, x in enumerate(exact_p)]
    # Absolute tolerance: the float update is good to a few ulp in absolute terms.
    np.testing.assert_allclose(sl.star_step(p, M), [float(x) for x in expected], rtol=0, atol=1e-12)


# --- F4: the criteria on the pre-trained model --------------------------------------


@settings(deadline=None, max_examples=50)
@given(st.integers(2, 8), st.integers(2, 5), st.sampled_from([1, Fraction(1, 2), Fraction(1, 3)]))
def test_f4_all_uniform_is_a_fixed_point(M, T, tau):
    # T >= 2: with one step, D_{-t} is the empty product 1 and uniform jumps to 1 (F5).
    p = [Fraction(1, M)] * T
    assert sl.star_step(p, M, temperature=tau) == p
    np.testing.assert_allclose(sl.star_step([1 / M] * T, M, temperature=float(tau)), [1 / M] * T, atol=1e-15)


@settings(deadline=None, max_examples=150)
@given(tied_policies(min_T=2), st.data())
def test_f4_two_or_more_uniform_steps_change_nothing(case, data):
    M, p = case
    uniform = data.draw(st.sets(st.integers(0, len(p) - 1), min_size=2))
    p = [Fraction(1, M) if t in uniform else x for t, x in enumerate(p)]
    # D_{-t} = 0 for every t, so the update is the identity (and A = 1/M > 0).
    assert sl.star_step(p, M) == p
    # "Nothing ever changes", also over several float iterations.
    p_float = [float(x) for x in p]
    np.testing.assert_allclose(sl.star_iterates(p_float, M, 3)[-1], p_float, rtol=0, atol=1e-15)


@settings(deadline=None, max_examples=150)
@given(st.integers(2, 6), st.integers(2, 5), st.data())
def test_f4_exactly_one_uniform_step_improves_first_then_the_rest(M, T, data):
    u = data.draw(st.integers(0, T - 1))
    p = [Fraction(1, M) if t == u else data.draw(above_chance(M)) for t in range(T)]
    first = sl.star_step(p, M)
    assert first[u] > p[u]  # the uniform step strictly improves...
    assert [x for t, x in enumerate(first) if t != u] == [x for t, x in enumerate(p) if t != u]  # ...alone
    second = sl.star_step(first, M)
    for t in range(T):
        assert second[t] > first[t] or first[t] == 1  # then every step below 1 follows


# --- F5: convergence ----------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(st.integers(2, 5), st.integers(1, 3), st.data())
def test_f5_exact_monotone_increase_when_all_margins_positive(M, T, data):
    p = [data.draw(above_chance(M)) for _ in range(T)]
    A = f1_accuracy(p, M)
    for _ in range(2):
        new = sl.star_step(p, M)
        for before, after in zip(p, new):
            assert after > before or before == 1 == after
        new_A = f1_accuracy(new, M)
        assert new_A > A or A == 1
        p, A = new, new_A


@settings(deadline=None, max_examples=100)
@given(
    st.integers(2, 8),
    st.lists(st.floats(0.15, 1.0), min_size=1, max_size=4),
)
def test_f5_float_trajectory_is_monotone_and_converges(M, deltas):
    # Margins at least 0.15 and T <= 4 keep the plateau (F6) short: 150 iterations suffice.
    p0 = sl.prob_from_margin(np.array(deltas), M)
    trajectory = sl.star_iterates(p0, M, 150)
    # Rounding slack at the top, where p_t' and p_t are both within a few ulps of 1
    # (a drop of 7.8e-16 was seen at M = 7 with margins one ulp below 1).
    ulp = 8 * np.finfo(float).eps
    assert np.all(np.diff(trajectory, axis=0) >= -ulp)
    A = sl.accuracy(trajectory, M)
    rising = A[:-1] < 1 - 1e-12
    assert np.all(A[1:][rising] > A[:-1][rising])
    assert np.all(np.diff(A) >= -ulp)
    assert A[-1] > 1 - 1e-9
    np.testing.assert_allclose(trajectory[-1], 1.0, atol=1e-9)


# --- F9(a): tabular STaR from a tied policy stays tied ------------------------------


@settings(deadline=None, max_examples=60)
@given(st.integers(2, 4), st.integers(1, 3), st.data())
def test_f9a_tabular_star_from_tied_policy_stays_tied(M, T, data):
    p = data.draw(st.lists(probabilities, min_size=T, max_size=T))
    g = [data.draw(st.permutations(range(M))) for _ in range(T)]
    assume(f1_accuracy(p, M) > 0)
    P = sl.tied_kernels(p, M, g)
    assert P.tolist() == ref.tied_kernel(p, M, g)
    new = sl.tabular_star_step(P, g, [Fraction(1, M)] * M)
    expected = sl.star_step(p, M)
    for t in range(T):
        for s in range(M):
            row = list(new[t, s])
            # Ground-truth mass is the tied update p_t'; the rest is spread equally.
            assert row[g[t][s]] == expected[t]
            assert all(x == (1 - expected[t]) / (M - 1) for s2, x in enumerate(row) if s2 != g[t][s])
    new_float = sl.tabular_star_step(P.astype(float), g, np.full(M, 1.0 / M))
    np.testing.assert_allclose(new_float, np.array(new, dtype=float), rtol=0, atol=1e-12)
