"""Chapters 1 to 3 helpers against the brute-force oracle (exact enumeration in Fractions)."""

import math
from fractions import Fraction

import numpy as np
import pytest

import oracle_directions as oracle
import starlib as sl


def fraction_instances(seed, count, M_range=(2, 4), T_range=(1, 3)):
    rng = np.random.default_rng(seed)
    return [sl.random_tied_instance(rng, M_range, T_range, [12, "M"], max_chains=256) for _ in range(count)]


# --- random_tied_instance ---------------------------------------------------------------------


def test_random_instances_respect_their_ranges_and_are_reproducible():
    rng = np.random.default_rng(5)
    seen_zero = seen_one = seen_uniform = False
    for _ in range(400):
        M, p, g = sl.random_tied_instance(rng, (2, 5), (1, 4), [6, "M"], max_chains=1024)
        assert 2 <= M <= 5 and 1 <= len(p) <= 4 and M ** (len(p) + 1) <= 1024 or len(p) == 1
        assert all(isinstance(x, Fraction) and 0 <= x <= 1 and (6 % x.denominator == 0 or M % x.denominator == 0)
                   for x in p)
        assert g.shape == (len(p), M) and all(sorted(row) == list(range(M)) for row in g.tolist())
        seen_zero |= 0 in p
        seen_one |= 1 in p
        seen_uniform |= Fraction(1, M) in p
    assert seen_zero and seen_one and seen_uniform
    first = sl.random_tied_instance(np.random.default_rng(9))
    again = sl.random_tied_instance(np.random.default_rng(9))
    assert first[:2] == again[:2] and (first[2] == again[2]).all()


@pytest.mark.parametrize("kwargs, word", [
    (dict(rng=1), "rng"),
    (dict(M_range=(1, 3)), "M_range"),
    (dict(M_range=(4, 3)), "M_range"),
    (dict(M_range=(2.5, 3)), "M_range"),
    (dict(M_range=3), "M_range"),
    (dict(T_range=(0, 2)), "T_range"),
    (dict(T_range=(True, 2)), "T_range"),
    (dict(denominators=[]), "denominators"),
    (dict(denominators=[0]), "denominators"),
    (dict(denominators=["N"]), "denominators"),
    (dict(denominators=12), "denominators"),
    (dict(max_chains=3), "max_chains"),
    (dict(max_chains=100.0), "max_chains"),
])
def test_random_instance_bad_input_names_the_argument(kwargs, word):
    kwargs.setdefault("rng", np.random.default_rng(0))
    with pytest.raises(ValueError, match=word):
        sl.random_tied_instance(**kwargs)


# --- chain_outcomes -----------------------------------------------------------------------------


def test_chain_outcomes_match_the_enumeration_of_the_oracle():
    for M, p, g in fraction_instances(1, 40):
        q0 = [Fraction(1, M)] * M
        got = [tuple(o) for o in sl.chain_outcomes(sl.tied_kernels(p, M, g), g, q0)]
        assert got == oracle.outcomes(oracle.tied_kernel(p, M, g.tolist()), g.tolist(), q0)


@pytest.mark.parametrize("change, word", [("g", "g"), ("P", "P"), ("q0", "q0")])
def test_chain_outcomes_bad_input_names_the_argument(change, word):
    P, g, q0 = sl.tied_kernels([0.5, 0.5], 3), np.tile(range(3), (2, 1)), [1 / 3] * 3
    if change == "g":
        g = g[:1]
    elif change == "P":
        P = P * 2
    else:
        q0 = [0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match=word):
        sl.chain_outcomes(P, g, q0)


# --- equal steps, detectability and margin requirements --------------------------------------


def test_equal_steps_accuracy_is_the_enumerated_accuracy():
    for M in (2, 3, 4):
        for T in (1, 2, 3):
            for k in range(-1, M):
                delta = Fraction(k, M - 1)
                p = delta + (1 - delta) / M
                assert sl.equal_steps_accuracy(delta, M, T) == oracle.accuracy_of([p] * T, M)
    floats = sl.equal_steps_accuracy(np.array([0.25, 0.5]), 3, 2)
    assert np.allclose(floats, [float(oracle.accuracy_of([Fraction(1, 2)] * 2, 3)),
                                float(oracle.accuracy_of([Fraction(2, 3)] * 2, 3))], rtol=1e-14)


def test_detectable_accuracy_is_z_standard_errors_above_chance():
    for M, N, z in [(2, 10, 2.0), (10, 1000, 2.0), (64, 100000, 3.0)]:
        excess = sl.detectable_accuracy(M, N, z) - 1 / M
        assert math.isclose(excess**2 * N, z**2 * (1 / M) * (1 - 1 / M), rel_tol=1e-12)
    assert sl.detectable_accuracy(2, 1, 5.0) == 1.0


def test_margin_requirements_give_their_targets():
    req = sl.margin_requirements(10, [1, 2, 4], [0.5, 0.9], 1000)
    assert req.needed.shape == (2, 3) and req.detectable.shape == (3,)
    for i, A in enumerate([0.5, 0.9]):
        for k, T in enumerate([1, 2, 4]):
            p = float(sl.prob_from_margin(req.needed[i, k], 10))
            assert abs(float(oracle.accuracy_of([p] * T, 10)) - A) < 1e-12
    floor = sl.detectable_accuracy(10, 1000)
    for k, T in enumerate([1, 2, 4]):
        p = float(sl.prob_from_margin(req.detectable[k], 10))
        assert abs(float(oracle.accuracy_of([p] * T, 10)) - floor) < 1e-12


@pytest.mark.parametrize("call, word", [
    (lambda: sl.equal_steps_accuracy(0.5, 3, 0), "T"),
    (lambda: sl.equal_steps_accuracy(1.5, 3, 2), "delta"),
    (lambda: sl.equal_steps_accuracy(float("nan"), 3, 2), "delta"),
    (lambda: sl.detectable_accuracy(1, 10), "M"),
    (lambda: sl.detectable_accuracy(3, 0), "N"),
    (lambda: sl.detectable_accuracy(3, 2.5), "N"),
    (lambda: sl.detectable_accuracy(3, 10, 0), "z"),
    (lambda: sl.detectable_accuracy(3, 10, float("inf")), "z"),
    (lambda: sl.margin_requirements(3, [], [0.5], 10), "lengths"),
    (lambda: sl.margin_requirements(3, [0], [0.5], 10), "lengths"),
    (lambda: sl.margin_requirements(3, [2], [1.5], 10), "target"),
    (lambda: sl.margin_requirements(3, [2], [0.2], 10), "A"),
    (lambda: sl.margin_requirements(3, [2], [0.5], 0), "N"),
])
def test_equal_step_helpers_bad_input_names_the_argument(call, word):
    with pytest.raises(ValueError, match=word):
        call()


# --- the STaR map in margins ------------------------------------------------------------------


def test_equal_margin_star_map_is_the_enumerated_refit():
    for M in (2, 3, 4):
        for T in (1, 2, 3):
            for k in range(-1, M):
                delta = Fraction(k, M - 1)
                p = delta + (1 - delta) / M
                refit = oracle.tied_star_step([p] * T, M)
                if refit is None:
                    with pytest.raises(sl.NoKeptChainsError):
                        sl.equal_margin_star_map(delta, M, T)
                    continue
                assert sl.equal_margin_star_map(delta, M, T) == (M * refit[0] - 1) / (M - 1)
                if T == 3:
                    assert refit == [refit[0]] * 3
                    closed = ((M - 2) * delta**3 + delta**2 + delta) / ((M - 1) * delta**3 + 1)
                    assert (M * refit[0] - 1) / (M - 1) == closed


def test_equal_margin_star_map_bad_input():
    with pytest.raises(ValueError, match="T"):
        sl.equal_margin_star_map(0.5, 3, 0)
    with pytest.raises(ValueError, match="delta"):
        sl.equal_margin_star_map(2.0, 3)
    with pytest.raises(ValueError, match="temperature"):
        sl.equal_margin_star_map(0.5, 3, 3, temperature=-1.0)


# --- directions: cosine, its bound, the step in logits ---------------------------------------


def interior_instances(seed, count):
    out = []
    for M, p, _ in fraction_instances(seed, 4 * count, (2, 5), (2, 3)):
        if all(0 < x < 1 for x in p) and any(x != Fraction(1, M) for x in p):
            if any(d != 0 for d in oracle.gradient_by_difference(p, M)) and any(oracle.star_move(p, M)):
                out.append((M, p))
    return out[:count]


def test_cosine_and_its_bound_match_the_oracle():
    instances = interior_instances(3, 60)
    assert len(instances) >= 40
    for M, p in instances:
        cos = sl.star_gradient_cosine([float(x) for x in p], M)
        squared, sign = oracle.cosine_squared_and_sign(p, M)
        assert math.isclose(cos**2, float(squared), rel_tol=1e-12) and np.sign(cos) == sign
        bound = sl.star_gradient_cosine_bound([float(x) for x in p])
        assert math.isclose(bound**2, float(oracle.cosine_bound_squared(p)), rel_tol=1e-12)
        assert squared >= oracle.cosine_bound_squared(p)       # the Kantorovich inequality, exactly


def test_cosine_batches_keep_their_shape():
    points = np.array([[[0.5, 0.6], [0.9, 0.5]], [[0.8, 0.02], [0.3, 0.7]]])
    cos = sl.star_gradient_cosine(points, 3)
    assert cos.shape == (2, 2)
    assert np.allclose(cos.ravel(), [sl.star_gradient_cosine(x, 3) for x in points.reshape(4, 2)], rtol=1e-15)
    assert sl.star_gradient_cosine_bound(points).shape == (2, 2)


def test_logit_step_moves_the_log_odds_as_derived():
    for M, p in interior_instances(4, 30):
        for step_size in (1.0, 1e-3):
            new = sl.logit_natural_step([float(x) for x in p], M, step_size)
            moved = np.log(new / (1 - new)) - np.log(np.array(p, dtype=float) / (1 - np.array(p, dtype=float)))
            expected = np.array(oracle.log_odds_change_of_logit_step(p, M, Fraction(step_size)), dtype=float)
            assert np.allclose(moved, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("call, word", [
    (lambda: sl.star_gradient_cosine([1 / 3, 1 / 3, 0.5], 3), "p"),       # two uniform steps
    (lambda: sl.star_gradient_cosine([0.0, 1.0], 3), "p"),                # nothing moves
    (lambda: sl.star_gradient_cosine([0.5, float("nan")], 3), "p"),
    (lambda: sl.star_gradient_cosine([0.5, 0.5], 1), "M"),
    (lambda: sl.star_gradient_cosine_bound([0.0, 1.0]), "p"),
    (lambda: sl.star_gradient_cosine_bound([0.5, 1.5]), "p"),
    (lambda: sl.logit_natural_step([0.0, 0.5], 3), "p"),
    (lambda: sl.logit_natural_step([0.5, 1.0], 3), "p"),
    (lambda: sl.logit_natural_step([0.5, 0.5], 3, 0.0), "step_size"),
    (lambda: sl.logit_natural_step([0.5, 0.5], 3, float("nan")), "step_size"),
    (lambda: sl.logit_natural_step([0.5, 0.5], 3, True), "step_size"),
])
def test_direction_helpers_bad_input_names_the_argument(call, word):
    with pytest.raises(ValueError, match=word):
        call()
