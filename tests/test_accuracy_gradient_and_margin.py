"""Tests of the starlib functions introduced in Chapters 2 and 3.

accuracy_gradient (Chapter 3) is checked against exact difference quotients of
brute-force accuracies (tests/exact_reference.py; the accuracy is affine in
each p_t, so the quotient is the derivative), against SymPy differentiation
and against float finite differences. margin_for_accuracy (Chapter 2) is
checked by plugging its answer back into the brute-force accuracy.
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import exact_reference as ref
import starlib as sl


def random_case(rng):
    M, T = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    p = [Fraction(int(k), 12) for k in rng.integers(0, 13, size=T)]
    g = [[int(x) for x in rng.permutation(M)] for _ in range(T)]
    return M, T, p, g


def brute_accuracy(p, M, g):
    return ref.accuracy(ref.tied_kernel(p, M, g), g, ref.uniform_q0(M))


# --- accuracy_gradient --------------------------------------------------------------


def test_accuracy_gradient_is_the_exact_difference_quotient_of_enumeration():
    rng = np.random.default_rng(0)
    for _ in range(150):
        M, T, p, g = random_case(rng)
        grad = sl.accuracy_gradient(p, M)
        assert all(isinstance(x, Fraction) for x in grad)
        base = brute_accuracy(p, M, g)
        for t in range(T):
            h = Fraction(1, 5) if p[t] <= Fraction(1, 2) else Fraction(-1, 3)
            shifted = p[:t] + [p[t] + h] + p[t + 1:]
            assert (brute_accuracy(shifted, M, g) - base) / h == grad[t]


def test_accuracy_gradient_is_the_product_of_the_other_margins():
    p, M = [Fraction(1, 2), Fraction(1, 5), Fraction(3, 4)], 4
    d = [(M * x - 1) / Fraction(M - 1) for x in p]
    assert sl.accuracy_gradient(p, M) == [d[1] * d[2], d[0] * d[2], d[0] * d[1]]
    assert sl.accuracy_gradient([Fraction(1, 3)], 5) == [1]  # T = 1: the empty product
    assert sl.accuracy_gradient([0.3], 5).tolist() == [1.0]


def test_accuracy_gradient_matches_sympy_differentiation():
    ps = list(sp.symbols("p1:4", positive=True))
    M = sp.Symbol("M", positive=True)
    A = sl.accuracy(ps, M)
    grad = sl.accuracy_gradient(ps, M)
    for t in range(3):
        assert sp.simplify(grad[t] - sp.diff(A, ps[t])) == 0


def test_accuracy_gradient_matches_float_finite_differences_with_batches():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, size=(7, 5, 4))
    M, h = 6, 1e-6
    grad = sl.accuracy_gradient(p, M)
    assert grad.shape == p.shape
    for t in range(4):
        up, down = p.copy(), p.copy()
        up[..., t] += h
        down[..., t] -= h
        numeric = (sl.accuracy(up, M) - sl.accuracy(down, M)) / (2 * h)
        assert np.allclose(grad[..., t], numeric, atol=1e-8)
    # Floats agree with exact arithmetic to rounding.
    row = [Fraction(x).limit_denominator(10**6) for x in p[0, 0]]
    exact = np.array(sl.accuracy_gradient(row, M), dtype=float)
    assert np.allclose(sl.accuracy_gradient(np.array(row, dtype=float), M), exact, atol=1e-14)


def test_star_step_is_the_natural_gradient_step_in_exact_arithmetic():
    rng = np.random.default_rng(2)
    for _ in range(200):
        M, T, p, _ = random_case(rng)
        A = sl.accuracy(p, M)
        if A == 0:
            continue
        grad = sl.accuracy_gradient(p, M)
        expected = [x + x * (1 - x) * d / A for x, d in zip(p, grad)]
        assert sl.star_step(p, M) == expected


@pytest.mark.parametrize(
    "p, M, match",
    [([0.5], 1, "M must be"), ([1.5, 0.2], 3, r"p\[0\]"), ([], 3, "at least one step"), ([float("nan")], 3, "p")],
)
def test_accuracy_gradient_rejects_bad_input(p, M, match):
    with pytest.raises(ValueError, match=match):
        sl.accuracy_gradient(p, M)


# --- margin_for_accuracy ------------------------------------------------------------


def test_margin_for_accuracy_inverts_the_brute_force_accuracy():
    rng = np.random.default_rng(3)
    for _ in range(60):
        M, T = int(rng.integers(2, 5)), int(rng.integers(1, 4))
        A = rng.uniform(1 / M, 1)
        delta = sl.margin_for_accuracy(A, M, T)
        assert isinstance(delta, float) and 0 <= delta <= 1
        p = [delta + (1 - delta) / M] * T
        g = [[int(x) for x in rng.permutation(M)] for _ in range(T)]
        assert abs(ref.accuracy(ref.tied_kernel(p, M, g), g, [1 / M] * M) - A) < 1e-12


def test_margin_for_accuracy_exact_roots_and_endpoints():
    # (M A - 1)/(M - 1) = 1/4 for M = 3, A = 1/2, so two equal steps need margin 1/2.
    assert sl.margin_for_accuracy(Fraction(1, 2), 3, 2) == 0.5
    assert sl.margin_for_accuracy(Fraction(1, 3), 3, 4) == 0.0
    assert sl.margin_for_accuracy(1.0, 10, 7) == 1.0
    assert sl.margin_for_accuracy(0.1, 10, 3) == 0.0
    out = sl.margin_for_accuracy(np.array([[0.5, 0.9], [0.99, 1.0]]), 10, 4)
    assert out.shape == (2, 2) and np.all(np.diff(out.ravel()) > 0)


def test_margin_for_accuracy_grows_with_chain_length():
    needed = [sl.margin_for_accuracy(0.5, 64, T) for T in range(1, 20)]
    assert np.all(np.diff(needed) > 0) and needed[-1] < 1


def test_margin_for_accuracy_symbolic():
    A, M = sp.symbols("A M", positive=True)
    delta = sl.margin_for_accuracy(A, M, 3)
    p = delta + (1 - delta) / M
    assert sp.simplify(sl.accuracy([p, p, p], M) - A) == 0


@pytest.mark.parametrize(
    "A, M, T, match",
    [
        (0.05, 10, 2, "1/M"),
        (Fraction(1, 4), 3, 2, "1/M"),
        (1.2, 3, 2, "A"),
        (float("nan"), 3, 2, "A"),
        (0.5, 1, 2, "M must be"),
        (0.5, 3, 0, "T must be"),
        (0.5, 3, 2.0, "T must be"),
        (0.5, 3, True, "T must be"),
    ],
)
def test_margin_for_accuracy_rejects_bad_input(A, M, T, match):
    with pytest.raises(ValueError, match=match):
        sl.margin_for_accuracy(A, M, T)
