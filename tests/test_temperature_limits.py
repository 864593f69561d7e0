"""The limit of exact STaR at a sampling temperature, against the rational oracle."""

from fractions import Fraction

import numpy as np
import pytest

import starlib as sl
from oracle_temperature import exact_vertex, star_step, tempered, trapped_vertex

COUNTEREXAMPLE_M4 = [Fraction(31, 1000), Fraction(731, 1000), Fraction(797, 1000)]


def test_oracle_matches_star_step_at_temperatures():
    rng = np.random.default_rng(0)
    for _ in range(20):
        M, T = int(rng.integers(2, 5)), int(rng.integers(1, 4))
        p = [Fraction(int(v), 12) for v in rng.integers(1, 12, size=T)]
        for k in (1, 2, 3):
            assert star_step(p, M, k) == sl.star_step(p, M, temperature=Fraction(1, k))
            assert tempered(p[0], M, k) == sl.tempered(p[0], M, Fraction(1, k))


def test_counterexample_m4_changes_limit_exactly():
    # tau = 1: optimum; tau = 1/2 and 1/3: the spurious vertex (0, 0, 1), accuracy 1/3.
    assert exact_vertex(COUNTEREXAMPLE_M4, 4, 1) == (1, 1, 1)
    assert exact_vertex(COUNTEREXAMPLE_M4, 4, 2) == (0, 0, 1)
    assert exact_vertex(COUNTEREXAMPLE_M4, 4, 3) == (0, 0, 1)
    start = np.array(COUNTEREXAMPLE_M4, dtype=float)
    assert sl.vertex_limit(start, 4).tolist() == [1, 1, 1]
    assert sl.vertex_limit(start, 4, temperature=0.5).tolist() == [0, 0, 1]
    changes = sl.limit_changes(start, 4, 0.5)
    assert bool(changes.changed) and not bool(changes.unresolved)


def test_all_wrong_vertex_attracts_below_temperature_one():
    start = [Fraction(1, 10), Fraction(1, 5), Fraction(1, 10)]
    assert exact_vertex(start, 3, 1) == (0, 1, 0)
    assert sl.vertex_limit(np.array(start, dtype=float), 3).tolist() == [0, 1, 0]
    assert sl.vertex_limit(np.array(start, dtype=float), 3, temperature=0.5).tolist() == [0, 0, 0]
    # at the all-wrong vertex the accuracy is (M - 2)/(M - 1)^2
    assert sl.accuracy([Fraction(0)] * 3, 3) == Fraction(1, 4)


def test_positive_product_of_margins_never_changes_the_limit():
    rng = np.random.default_rng(1)
    for M in (3, 4):
        starts = sl.below_chance_starts(rng, 300, M, 3)
        D = np.prod(starts * M - 1, axis=1)
        for tau in (0.5, 1 / 3):
            changes = sl.limit_changes(starts, M, tau)
            assert not changes.unresolved.any()
            assert not changes.changed[D > 0].any()
            assert changes.changed[D < 0].any()
        # the sign rule itself, exact for rational starts in the trapped region
        for start in starts[D > 0][:5]:
            exact = [Fraction(x).limit_denominator(1000) for x in start]
            vertex = trapped_vertex(exact, M)
            assert sl.vertex_limit(np.array(exact, dtype=float), M, temperature=0.5).tolist() == list(vertex)


def test_vertex_limit_marks_plateaus_unresolved():
    # equal steps just above chance at T = 5 sit on a plateau far longer than 10 iterations
    p = np.full(5, 1 / 3 + 1e-3)
    assert sl.vertex_limit(p, 3, max_iterations=10).tolist() == [-1] * 5
    batch = sl.vertex_limit(np.array([[0.9, 0.9], [0.1, 0.1]]), 3)
    assert batch.dtype == np.int8 and batch.tolist() == [[1, 1], [0, 0]]


def test_below_chance_starts_shape_and_signs():
    starts = sl.below_chance_starts(np.random.default_rng(2), 5000, 64, 3)
    assert starts.shape == (5000, 3)
    assert ((starts >= 0) & (starts <= 1)).all()
    below = starts < 1 / 64
    assert below.any(axis=1).all() and (starts != 1 / 64).all()
    assert abs(below.mean() - 4 / 7) < 0.02  # P(below | some below) = (1/2) / (7/8)
    D = np.prod(starts * 64 - 1, axis=1)
    assert (D > 0).any() and (D < 0).any()


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: sl.below_chance_starts(1, 5, 3, 3), "rng"),
        (lambda: sl.below_chance_starts(np.random.default_rng(), 0, 3, 3), "n"),
        (lambda: sl.below_chance_starts(np.random.default_rng(), 2.5, 3, 3), "n"),
        (lambda: sl.below_chance_starts(np.random.default_rng(), 5, 1, 3), "M"),
        (lambda: sl.below_chance_starts(np.random.default_rng(), 5, 3, 0), "T"),
        (lambda: sl.vertex_limit([0.5, np.nan], 3), "p0"),
        (lambda: sl.vertex_limit([0.5, 1.5], 3), "p0"),
        (lambda: sl.vertex_limit([0.5, 0.5], 3, temperature=0), "temperature"),
        (lambda: sl.vertex_limit([0.5, 0.5], 3, max_iterations=-1), "max_iterations"),
        (lambda: sl.limit_changes([0.5, 0.5], 3, np.inf), "temperature"),
        (lambda: sl.limit_changes([0.5, 0.5], 3, 0.5, reference=-1), "reference"),
        (lambda: sl.limit_changes([0.5, 0.5], 1, 0.5), "M"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_sign_rule_vertex_agrees_with_the_oracle():
    rng = np.random.default_rng(3)
    decided = 0
    for _ in range(40):
        M = int(rng.integers(3, 5))
        p = [Fraction(int(v), 20) for v in rng.integers(0, 21, size=3)]
        if any(M * x == 1 for x in p):
            continue
        for k in (1, 2):
            try:
                expected = exact_vertex(p, M, k, max_iterations=2)
            except ZeroDivisionError:
                continue
            found = sl.sign_rule_vertex(p, M, Fraction(1, k), max_iterations=2)
            assert (found is None) == (expected is None)
            if found is not None:
                decided += 1
                assert found.vertex == expected
                assert sl.vertex_limit(np.array(p, dtype=float), M, temperature=1 / k).tolist() == list(expected)
    assert decided > 20
    result = sl.sign_rule_vertex(COUNTEREXAMPLE_M4, 4, Fraction(1, 2))
    assert result.vertex == (0, 0, 1) and result.iterations == 2


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: sl.sign_rule_vertex([0.5, 0.5], 3, temperature=2), "temperature"),
        (lambda: sl.sign_rule_vertex([Fraction(1, 2)] * 2, 3, temperature=0.4), "temperature"),
        (lambda: sl.sign_rule_vertex([[0.5, 0.5]], 3), "p0"),
        (lambda: sl.sign_rule_vertex([0.5, 0.5], 3, max_iterations=1.5), "max_iterations"),
    ],
)
def test_sign_rule_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_two_step_portrait_basins_follow_the_boundary():
    portrait = sl.two_step_portrait(3, grid_points=60, arrow_points=4)
    G1, G2 = np.meshgrid(portrait.grid, portrait.grid)
    assert (portrait.to_optimum ^ portrait.to_spurious).all()
    # boundary (M - 1)^2 p1 p2 = (1 - p1)(1 - p2), from the diagonal map p -> p1 p2 / A
    assert np.array_equal(portrait.to_spurious, 4 * G1 * G2 < (1 - G1) * (1 - G2))
    landed = portrait.arrow_start + portrait.arrow_move
    assert np.allclose(landed[..., 0], landed[..., 1], atol=1e-14)
    for p1, p2 in ((Fraction(1, 8), Fraction(3, 8)), (Fraction(5, 8), Fraction(7, 8))):
        exact = star_step([p1, p2], 3)
        assert exact[0] == exact[1]


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: sl.two_step_portrait(1), "M"),
        (lambda: sl.two_step_portrait(3, grid_points=1), "grid_points"),
        (lambda: sl.two_step_portrait(3, arrow_points=0.5), "arrow_points"),
    ],
)
def test_two_step_portrait_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_star_curve_against_the_oracle():
    from oracle_temperature import kept_wrong_rate

    p0 = [Fraction(1, 5), Fraction(2, 5), Fraction(3, 5)]
    for k in (1, 2):
        curve = sl.star_curve(p0, 3, 2, temperature=Fraction(1, k))
        runs = [p0]
        for _ in range(2):
            runs.append(star_step(runs[-1], 3, k))
        assert np.allclose(curve.p, [[float(x) for x in p] for p in runs], rtol=1e-15, atol=0)
        assert np.allclose(curve.step_wrong, [[float(1 - x) for x in p] for p in runs[1:]], rtol=1e-15)
        for n, p in enumerate(runs):
            assert abs(curve.kept_wrong[n] - float(kept_wrong_rate(p, 3, k))) < 1e-15
            assert abs(curve.sampled_accuracy[n] - float(sl.accuracy([tempered(x, 3, k) for x in p], 3))) < 1e-15
    floats = sl.star_curve([0.2, 0.4, 0.6], 3, 2, temperature=0.5)
    assert np.allclose(floats.p, sl.star_iterates([0.2, 0.4, 0.6], 3, 2, temperature=0.5), rtol=1e-14)
    assert floats.step_wrong.shape == (2, 3) and floats.accuracy.shape == (3,)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: sl.star_curve([[0.2, 0.3]], 3, 2), "p0"),
        (lambda: sl.star_curve([0.2, 0.3], 3, -1), "n"),
        (lambda: sl.star_curve([Fraction(1, 5)] * 2, 3, 2, temperature=0.4), "temperature"),
        (lambda: sl.star_curve([0.2, 0.3], 3, 2, temperature=np.nan), "temperature"),
    ],
)
def test_star_curve_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()
