"""Kernel tempering in one place: starlib.tabular.tempered_rows, used by tempered_policy and by the
transformer's kernels_from_scores, against exact tempering in Fractions (tests/exact_reference.py)."""

import math
from fractions import Fraction

import numpy as np
import pytest

import exact_reference as ref
import starlib as sl
from starlib import tabular


@pytest.mark.parametrize("power", [1, 2, 3, 5])
def test_tempered_rows_match_exact_tempering(power):
    """Rows with zeros (impossible moves) and tiny entries; temperature 1/power, against Fractions."""
    rng = np.random.default_rng(power)
    for _ in range(20):
        weights = rng.integers(0, 5, size=4).tolist()
        weights[int(rng.integers(4))] += 1  # one possible move at least
        row = [Fraction(w, sum(weights)) for w in weights]
        with np.errstate(divide="ignore"):
            got = tabular.tempered_rows(np.log([float(x) for x in row]), 1 / power)
        want = ref.temper_row(row, power)
        assert np.allclose(got, [float(x) for x in want], rtol=1e-12, atol=0)
        assert all((g == 0) == (w == 0) for g, w in zip(got, want))


def test_tempered_rows_do_not_underflow():
    """exp(-800) underflows in floats; its tempered row does not: the log domain keeps it."""
    got = tabular.tempered_rows(np.array([[-800.0, -801.0]]), 0.5)
    want = 1 / (1 + math.exp(-2.0))
    assert np.allclose(got, [[want, 1 - want]], rtol=1e-14)


def test_tempered_policy_is_tempered_rows_of_its_logs():
    P = sl.tied_kernels([0.7, 0.2, 0.5], 4, [[1, 0, 3, 2], [0, 1, 2, 3], [3, 2, 1, 0]])
    assert np.array_equal(sl.tempered_policy(P, 0.4), tabular.tempered_rows(np.log(P), 0.4))


def test_kernels_from_scores_is_tempered_rows():
    pytest.importorskip("torch")
    from starlib import transformer

    scores = np.log(np.random.default_rng(0).dirichlet(np.ones(3), size=(2, 3)))
    got = transformer.kernels_from_scores(list(scores), "markov", temperature=0.7)
    assert np.array_equal(got, np.stack([tabular.tempered_rows(s, 0.7) for s in scores]))


@pytest.mark.parametrize("kwargs, name", [
    (dict(log_probabilities=[[np.nan, 0.0]]), "log_probabilities"),
    (dict(log_probabilities=[[np.inf, 0.0]]), "log_probabilities"),
    (dict(log_probabilities=[[-np.inf, -np.inf]]), "log_probabilities"),
    (dict(log_probabilities=[]), "log_probabilities"),
    (dict(log_probabilities=3.0), "log_probabilities"),
    (dict(log_probabilities="ab"), "log_probabilities"),
    (dict(log_probabilities=None), "log_probabilities"),
    (dict(temperature=0), "temperature"),
    (dict(temperature=np.inf), "temperature"),
    (dict(temperature="1"), "temperature"),
])
def test_tempered_rows_reject_bad_input(kwargs, name):
    call = dict(log_probabilities=[[0.0, -1.0]], temperature=0.5) | kwargs
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        tabular.tempered_rows(**call)


def test_markov_as_history_is_contiguous_so_a_bad_entry_is_seen():
    H = sl.markov_as_history(sl.tied_kernels([0.6, 0.7], 3, [[0, 1, 2], [1, 2, 0]]))
    assert H.flags.c_contiguous
    bad = np.array(H, dtype=float)
    bad.reshape(-1)[-1] = np.nan
    with pytest.raises(ValueError, match=r"\bH\b"):
        sl.history_star_step(bad, [[0, 1, 2], [1, 2, 0]], [0.5, 0.25, 0.25])
