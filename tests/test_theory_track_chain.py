"""The on/off-track recurrence (starlib.theory.TrackChain) and the formulas other modules share.

TrackChain is checked against enumeration of every chain in exact arithmetic
(tests/exact_reference.py); margin_formula, tempered_floats, step_major and
from_step_major against the checked public functions they serve.
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import exact_reference as ref
import starlib as sl
from starlib import chain, finite_samples, theory

CASES = [(M, T, seed) for M in (2, 3, 4) for T in (1, 2, 3) for seed in range(3)]


def random_policy(rng, T, denominator=10):
    return [Fraction(int(k), denominator) for k in rng.integers(0, denominator + 1, size=T)]


@pytest.mark.parametrize("M, T, seed", CASES)
def test_track_chain_passes_match_enumeration(M, T, seed):
    """forward gives Pr(on, off track) after each step, backward Pr(correct | status): both as counted."""
    p = random_policy(np.random.default_rng(seed), T)
    mass, h = ref.track_status(p, M)
    x = np.array(p, dtype=object)[:, None]
    track = theory.TrackChain(x, 1 - x, M)
    on, off = Fraction(1), Fraction(0)
    for t in range(T):
        on, off = track.forward(t, on, off)
        assert (on[0], off[0]) == mass[t + 1]
    right_on, right_off = Fraction(1), Fraction(0)
    for t in range(T - 1, -1, -1):
        right_on, right_off = track.backward(t, right_on, right_off)
        for got, want in zip((right_on, right_off), h[t]):
            if want is not None:  # a status the chain cannot be in has no conditional probability
                assert got[0] == want


@pytest.mark.parametrize("M", [2, 3, 7])
def test_track_chain_in_floats_keeps_tiny_error_rates(M):
    """With eps = 1e-200 every coefficient is non-negative, so floats agree with Fractions in relative terms."""
    eps = np.array([[1e-200], [3e-201], [2e-199]])
    track = theory.TrackChain(1.0 - eps, eps, M)
    exact = theory.TrackChain(np.array([[1 - Fraction(e)] for e in eps[:, 0]], dtype=object),
                              np.array([[Fraction(e)] for e in eps[:, 0]], dtype=object), M)
    got, want = (1.0, 0.0), (Fraction(1), Fraction(0))
    for t in range(3):
        got, want = track.forward(t, *got), exact.forward(t, *want)
    assert got[1][0] > 0
    assert abs(got[1][0] / float(want[1][0]) - 1) < 1e-14


def test_track_chain_symbolic():
    p, M = sp.symbols("p M", positive=True)
    track = theory.TrackChain(np.array([[p]], dtype=object), np.array([[1 - p]], dtype=object), M)
    on, off = track.forward(0, 1, 0)
    assert sp.simplify(on[0] - p) == 0 and sp.simplify(off[0] - (1 - p)) == 0
    right_off = track.backward(0, 1, 0)[1]
    assert sp.simplify(right_off[0] - (1 - p) / (M - 1)) == 0


def test_margin_formula_is_margin_and_keeps_the_optimum():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=(5, 3))
    for M in (2, 3, 10):
        assert np.array_equal(chain.margin_formula(p, M), sl.margin(p, M))
        assert chain.margin_formula(np.array([1.0]), M)[0] == 1.0
    assert chain.margin_formula(Fraction(1, 3), 3) == 0
    q, M = sp.symbols("q M")
    assert sp.simplify(chain.margin_formula(q, M) * (M - 1) - (M * q - 1)) == 0


def test_tempered_floats_is_tempered():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=(4, 3))
    for tau in (0.3, 1.0, 2.5):
        got, eps = chain.tempered_floats(p, None, 3, tau)
        assert np.array_equal(got, sl.tempered(p, 3, tau))
        if tau == 1.0:
            assert got is p and eps is None
        else:
            assert np.allclose(eps, 1 - got, atol=1e-15)


def test_step_major_round_trip():
    arr = np.arange(24.0).reshape(2, 3, 4)
    x = theory.step_major(arr)
    assert x.shape == (4, 6) and x.flags.c_contiguous
    assert np.array_equal(x[1], arr[..., 1].ravel())
    assert np.array_equal(theory.from_step_major(x, arr.shape), arr)


@pytest.mark.parametrize("call, name", [
    (lambda: theory.step_major(3.0), "arr"),
    (lambda: theory.from_step_major(np.zeros((2, 3)), (4, 2)), "shape"),
    (lambda: theory.from_step_major(np.zeros((2, 3)), ()), "shape"),
])
def test_layout_helpers_reject_bad_input(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


@pytest.mark.parametrize("name", ["mean_inverse_kept", "star_step_mc_variance", "wrong_way_probability",
                                  "escape_samples", "collapse_probability"])
def test_finite_sample_formulas_live_in_finite_samples(name):
    """One home each: starlib.finite_samples, re-exported as sl.<name>; the infinite-sample module has none."""
    function = getattr(finite_samples, name)
    assert function.__module__ == "starlib.finite_samples"
    assert getattr(sl, name) is function
    assert not hasattr(theory, name)


@pytest.mark.parametrize("call, name", [
    (lambda: sl.margin([], 3), "p"),
    (lambda: sl.tempered([], 3, 0.5), "p"),
    (lambda: sl.below_chance_starts(np.random.default_rng(0), 2**63, 3, 2), "n"),
    (lambda: sl.margin_requirements(3, [1, 2], [0.0], 100), "targets"),
])
def test_new_input_checks(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_step_major_accuracy_is_accuracy():
    """Including rows whose closed form cancels (a below-chance step with the others near 1)."""
    rng = np.random.default_rng(2)
    p = np.vstack([rng.uniform(size=(20, 3)), [[0.0, 1.0, 1.0], [1e-9, 1.0, 1.0 - 1e-12]]])
    for M in (2, 3, 5):
        assert np.array_equal(theory.step_major_accuracy(theory.step_major(p), M), sl.accuracy(p, M))
