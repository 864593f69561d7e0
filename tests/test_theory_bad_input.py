"""Bad input is rejected with a ValueError that names the argument and the value.

Also: accuracy 0 raises NoKeptChainsError, and over random valid input (with
many 0s and 1s) no public function returns NaN, leaves [0, 1] or warns.
"""

import re
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exact_reference as ref
import starlib as sl

M = 3
P_OK = [0.5, 0.25]
G_OK = [[0, 1, 2], [1, 2, 0]]
Q0_OK = [0.5, 0.25, 0.25]


def kernel_ok():
    return sl.tied_kernels(P_OK, M, G_OK)


def names_argument(message, name):
    """The argument's name appears as a word (so 'p' does not match 'p0')."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def assert_rejected(call, name, value_text=None):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert not isinstance(info.value, sl.NoKeptChainsError), message
    assert names_argument(message, name), message
    if value_text is not None:
        assert value_text in message, message


# --- probabilities out of range, NaN, inf -------------------------------------------

BAD_PROBABILITIES = [-0.1, 1.5, float("nan"), float("inf"), float("-inf"), Fraction(3, 2), Fraction(-1, 7)]

# (name shown in the message, function of the bad chain)
CHAIN_FUNCTIONS = {
    "accuracy": ("p", lambda p: sl.accuracy(p, M)),
    "star_step": ("p", lambda p: sl.star_step(p, M)),
    "star_step_eps": ("eps", lambda p: sl.star_step_eps(p, M)),
    "star_iterates": ("p0", lambda p: sl.star_iterates(p, M, 2)),
    "kept_wrong_rate": ("p", lambda p: sl.kept_wrong_rate(p, M)),
    "margin": ("p", lambda p: sl.margin(p, M)),
    "tempered": ("p", lambda p: sl.tempered(p, M, 0.5)),
    "tied_kernels": ("p", lambda p: sl.tied_kernels(p, M)),
}


@pytest.mark.parametrize("function", sorted(CHAIN_FUNCTIONS))
@pytest.mark.parametrize("bad", BAD_PROBABILITIES, ids=repr)
def test_probability_outside_unit_interval(function, bad):
    name, call = CHAIN_FUNCTIONS[function]
    if isinstance(bad, Fraction):
        if function in ("star_step_eps", "star_iterates"):  # floats only: a Fraction is a number too
            chain = [0.5, float(bad)]
        else:
            chain = [Fraction(1, 2), bad]
    else:
        chain = [0.5, bad]
    text = repr(chain[1])
    assert_rejected(lambda: call(chain), name, text)


@pytest.mark.parametrize("function", sorted(set(CHAIN_FUNCTIONS) - {"tied_kernels"}))  # it takes one chain
def test_bad_entry_inside_a_batch_is_located(function):
    name, call = CHAIN_FUNCTIONS[function]
    batch = np.full((2, 3), 0.5)
    batch[1, 2] = 2.0
    assert_rejected(lambda: call(batch), name, f"{name}[1, 2] = 2.0")


def test_floats_mixed_into_exact_arithmetic():
    assert_rejected(lambda: sl.accuracy([Fraction(1, 2), 0.5], M), "p", "0.5")
    assert_rejected(lambda: sl.star_step([Fraction(1, 2), 0.5], M), "p", "0.5")


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), float("inf")], ids=repr)
def test_kernel_and_question_entries_outside_unit_interval(bad):
    P = kernel_ok()
    P[1, 2, 0] = bad
    assert_rejected(lambda: sl.tabular_accuracy(P, G_OK, Q0_OK), "P", repr(bad))
    assert_rejected(lambda: sl.tabular_star_step(P, G_OK, Q0_OK), "P", repr(bad))
    assert_rejected(lambda: sl.star_by_enumeration(P, G_OK, Q0_OK), "P", repr(bad))
    assert_rejected(lambda: sl.enumerate_chains(P, Q0_OK), "P", repr(bad))
    q0 = [bad, 0.5, 0.5 - bad] if np.isfinite(bad) else [bad, 0.5, 0.5]
    assert_rejected(lambda: sl.tabular_accuracy(kernel_ok(), G_OK, q0), "q0", repr(bad))
    assert_rejected(lambda: sl.tabular_star_step(kernel_ok(), G_OK, q0), "q0", repr(bad))
    assert_rejected(lambda: sl.enumerate_chains(kernel_ok(), q0), "q0", repr(bad))


# --- M ------------------------------------------------------------------------------

BAD_M = [1, 0, -3, 2.5, True, "3", None, 3.0]

M_FUNCTIONS = {
    "accuracy": lambda m: sl.accuracy(P_OK, m),
    "star_step": lambda m: sl.star_step(P_OK, m),
    "star_step_eps": lambda m: sl.star_step_eps(P_OK, m),
    "star_iterates": lambda m: sl.star_iterates(P_OK, m, 2),
    "kept_wrong_rate": lambda m: sl.kept_wrong_rate(P_OK, m),
    "margin": lambda m: sl.margin(P_OK, m),
    "prob_from_margin": lambda m: sl.prob_from_margin([0.1], m),
    "tempered": lambda m: sl.tempered(P_OK, m, 0.5),
    "tied_kernels": lambda m: sl.tied_kernels(P_OK, m),
}


@pytest.mark.parametrize("function", sorted(M_FUNCTIONS))
@pytest.mark.parametrize("bad", BAD_M, ids=repr)
def test_m_not_an_integer_at_least_two(function, bad):
    assert_rejected(lambda: M_FUNCTIONS[function](bad), "M", f"M = {bad!r}")


def test_numpy_integer_m_is_accepted():
    assert sl.accuracy(P_OK, np.int64(3)) == sl.accuracy(P_OK, 3)


# --- empty chains and shapes --------------------------------------------------------


@pytest.mark.parametrize("function", ["accuracy", "star_step", "star_step_eps", "star_iterates", "kept_wrong_rate", "tied_kernels"])
@pytest.mark.parametrize("empty", [[], np.zeros((4, 0))], ids=["no steps", "batch of no steps"])
def test_empty_chain(function, empty):
    name, call = CHAIN_FUNCTIONS[function]
    assert_rejected(lambda: call(empty), name, "shape")


def test_tied_kernels_wants_one_chain():
    assert_rejected(lambda: sl.tied_kernels(np.full((2, 3), 0.5), M), "p", "(2, 3)")


@pytest.mark.parametrize(
    "P, name",
    [
        (np.zeros((0, 3, 3)), "P"),
        (np.full((2, 3, 4), 0.25), "P"),
        (np.full((3, 3), 1 / 3), "P"),
        # One state per step: the message names M, the number of states read off P's shape.
        (np.full((2, 1, 1), 1.0), "M"),
    ],
    ids=["T = 0", "not square", "2-D", "M = 1"],
)
def test_kernel_of_wrong_shape(P, name):
    # enumerate_chains checks when called, not at the first next() of its generator.
    assert_rejected(lambda: sl.enumerate_chains(P, Q0_OK), name)
    assert_rejected(lambda: sl.tabular_accuracy(P, G_OK, Q0_OK), name)
    assert_rejected(lambda: sl.tabular_star_step(P, G_OK, Q0_OK), name)
    assert_rejected(lambda: sl.star_by_enumeration(P, G_OK, Q0_OK), name)  # P, not g, is to blame


@pytest.mark.parametrize("off", [0.1, -0.1, 2e-9])
def test_kernel_rows_must_sum_to_one(off):
    P = kernel_ok()
    P[1, 2] = [0.5, 0.5 + off, 0.0]  # sums to 1 + off
    for call in (
        lambda: sl.tabular_accuracy(P, G_OK, Q0_OK),
        lambda: sl.tabular_star_step(P, G_OK, Q0_OK),
        lambda: sl.enumerate_chains(P, Q0_OK),
        lambda: sl.star_by_enumeration(P, G_OK, Q0_OK),
    ):
        assert_rejected(call, "P", "P[1, 2]")


def test_kernel_rows_within_tolerance_are_accepted():
    P = kernel_ok()
    P[1, 2] = [0.5, 0.5 + 5e-10, 0.0]  # within 1e-9 of summing to 1
    assert 0 < sl.tabular_accuracy(P, G_OK, Q0_OK) <= 1
    exact = sl.tied_kernels([Fraction(1, 2), Fraction(1, 4)], M, G_OK)
    exact[0, 0] = [Fraction(1, 2), Fraction(1, 2), Fraction(1, 10**10)]  # exact input: also within 1e-9
    assert sl.tabular_accuracy(exact, G_OK, [Fraction(1, 3)] * 3) > 0


@pytest.mark.parametrize(
    "g, text",
    [
        ([[0, 1, 2]], "shape"),
        ([[0, 1, 2, 0], [0, 1, 2, 0]], "shape"),
        ([0, 1, 2], "shape"),
        ([[0, 1, 3], [0, 1, 2]], "3"),
        ([[0, -1, 2], [0, 1, 2]], "-1"),
        ([[0, 1.5, 2], [0, 1, 2]], "integer"),
        ([[True, False, True], [False, True, True]], "integer"),
        ("abc", None),
    ],
    ids=["too few steps", "too many states", "1-D", "state 3", "state -1", "1.5", "bool", "string"],
)
def test_bad_ground_truth(g, text):
    assert_rejected(lambda: sl.tied_kernels(P_OK, M, g), "g", text)
    assert_rejected(lambda: sl.tabular_accuracy(kernel_ok(), g, Q0_OK), "g", text)
    assert_rejected(lambda: sl.tabular_star_step(kernel_ok(), g, Q0_OK), "g", text)
    assert_rejected(lambda: sl.star_by_enumeration(kernel_ok(), g, Q0_OK), "g", text)


@pytest.mark.parametrize(
    "g", [[0, 1, 2], [[0, -1, 2]], [[0, 5]], [[0.5, 1]]], ids=["1-D", "state -1", "state 5", "not integer"]
)
def test_answers_rejects_bad_ground_truth(g):
    assert_rejected(lambda: sl.answers(g), "g")


@pytest.mark.parametrize(
    "q0, text",
    [([0.5, 0.5], "shape"), ([0.25] * 4, "shape"), ([0.5, 0.2, 0.2], "sum"), ([1.5, -0.5, 0.0], "1.5")],
    ids=["too short", "too long", "sums to 0.9", "negative entry"],
)
def test_bad_question_distribution(q0, text):
    assert_rejected(lambda: sl.tabular_accuracy(kernel_ok(), G_OK, q0), "q0", text)
    assert_rejected(lambda: sl.tabular_star_step(kernel_ok(), G_OK, q0), "q0", text)
    assert_rejected(lambda: sl.enumerate_chains(kernel_ok(), q0), "q0", text)
    assert_rejected(lambda: sl.star_by_enumeration(kernel_ok(), G_OK, q0), "q0", text)


def test_symbolic_kernels_are_rejected():
    import sympy as sp

    P = np.array(kernel_ok(), dtype=object)
    P[0, 0, 0] = sp.Symbol("x")
    assert_rejected(lambda: sl.tabular_star_step(P, G_OK, Q0_OK), "P")


# --- temperature, n, delta ----------------------------------------------------------

TEMPERATURE_FUNCTIONS = {
    "star_step": lambda tau: sl.star_step(P_OK, M, temperature=tau),
    "star_step_eps": lambda tau: sl.star_step_eps(P_OK, M, temperature=tau),
    "star_iterates": lambda tau: sl.star_iterates(P_OK, M, 2, temperature=tau),
    "tempered": lambda tau: sl.tempered(P_OK, M, tau),
}


@pytest.mark.parametrize("function", sorted(TEMPERATURE_FUNCTIONS))
@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan"), float("inf"), True, "1", None], ids=repr)
def test_temperature_must_be_positive_and_finite(function, bad):
    assert_rejected(lambda: TEMPERATURE_FUNCTIONS[function](bad), "temperature", repr(bad))


def test_exact_temperature_needs_integer_inverse():
    exact = [Fraction(1, 2), Fraction(1, 4)]
    assert_rejected(lambda: sl.star_step(exact, M, temperature=Fraction(2, 3)), "temperature", "Fraction(2, 3)")
    assert_rejected(lambda: sl.tempered(exact, M, 0.7), "temperature", "0.7")


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3", None], ids=repr)
def test_iteration_count_must_be_a_non_negative_integer(bad):
    assert_rejected(lambda: sl.star_iterates(P_OK, M, bad), "iterations", f"iterations = {bad!r}")


@pytest.mark.parametrize("bad", [1.5, -0.6, float("nan"), float("inf"), Fraction(-2, 3), Fraction(3, 2)], ids=repr)
def test_margin_outside_its_range(bad):
    # For M = 3 the margin lies in [-1/2, 1].
    chain = [Fraction(1, 5), bad] if isinstance(bad, Fraction) else [0.2, bad]
    assert_rejected(lambda: sl.prob_from_margin(chain, M), "delta", repr(bad))


def test_margin_range_ends_are_accepted():
    assert sl.prob_from_margin([-0.5, 1.0], M).tolist() == [0.0, 1.0]
    assert sl.prob_from_margin([Fraction(-1, 2), Fraction(1)], M) == [0, 1]


# --- accuracy 0: NoKeptChainsError --------------------------------------------------

ZERO_ACCURACY = [(3, [0, 1]), (2, [0, 1, 1]), (4, [1, 0, 1]), (3, [1, 1, 0])]


@pytest.mark.parametrize("M_, p", ZERO_ACCURACY, ids=str)
@pytest.mark.parametrize("arithmetic", ["float", "exact"])
def test_zero_accuracy_raises_no_kept_chains(M_, p, arithmetic):
    chain = [float(x) for x in p] if arithmetic == "float" else [Fraction(x) for x in p]
    assert sl.accuracy(chain, M_) == 0  # the accuracy itself is fine to ask for
    calls = [
        lambda: sl.star_step(chain, M_),
        lambda: sl.star_step(chain, M_, temperature=Fraction(1, 2) if arithmetic == "exact" else 0.5),
        lambda: sl.kept_wrong_rate(chain, M_),
    ]
    if arithmetic == "float":
        calls += [
            lambda: sl.star_step_eps([1 - x for x in chain], M_),
            lambda: sl.star_iterates(chain, M_, 1),
            lambda: sl.star_step(np.array([[0.5] * len(chain), chain]), M_),  # one bad batch row
        ]
    for call in calls:
        with pytest.raises(sl.NoKeptChainsError, match="accuracy is 0"):
            call()


def test_no_kept_chains_is_a_value_error():
    assert issubclass(sl.NoKeptChainsError, ValueError)


@pytest.mark.parametrize("arithmetic", ["float", "exact"])
def test_tabular_kernel_that_never_reaches_the_answer(arithmetic):
    # M = 2, T = 1, g the identity, a kernel that always flips the state.
    one = 1.0 if arithmetic == "float" else Fraction(1)
    P = [[[0 * one, one], [one, 0 * one]]]
    q0 = [one / 2, one / 2]
    assert sl.tabular_accuracy(P, [[0, 1]], q0) == 0
    for call in (lambda: sl.tabular_star_step(P, [[0, 1]], q0), lambda: sl.star_by_enumeration(P, [[0, 1]], q0)):
        with pytest.raises(sl.NoKeptChainsError, match="accuracy is 0"):
            call()


# --- no NaN, no warnings, results in [0, 1], over random valid input ----------------

edge_floats = st.one_of(
    st.sampled_from([0.0, 1.0, 0.5, 5e-324, 1e-300, 1 - 2**-53, 1e-17]),
    st.floats(0.0, 1.0),
)


def in_unit_interval(x):
    x = np.asarray(x, dtype=float)
    return bool(np.all(np.isfinite(x)) and np.all(x >= 0) and np.all(x <= 1))


@settings(deadline=None, max_examples=1000)
@given(
    st.one_of(st.integers(2, 5), st.sampled_from([64, 10**6])),
    st.lists(edge_floats, min_size=1, max_size=6),
    st.one_of(st.just(1.0), st.floats(0.05, 20.0)),
)
def test_no_nan_no_warning_and_results_in_unit_interval(M_, p, tau):
    exact_accuracy = ref.on_off_success([Fraction(x) for x in p], M_)
    # The error rates as floats: 1 - p rounds (1 - 5e-324 is 1.0), so they get their own accuracy.
    eps = [float(1 - Fraction(x)) for x in p]
    exact_accuracy_eps = ref.on_off_success([1 - Fraction(e) for e in eps], M_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = sl.accuracy(p, M_)
        assert in_unit_interval(A)
        assert (A == 0) == (exact_accuracy == 0)
        for x in (sl.margin(p, M_), sl.tempered(p, M_, tau), sl.prob_from_margin(sl.margin(p, M_), M_)):
            assert np.all(np.isfinite(x)) and np.all(np.asarray(x) >= -1) and np.all(np.asarray(x) <= 1)
        updates = {
            "star_step": lambda: sl.star_step(p, M_),
            "star_step tempered": lambda: sl.star_step(p, M_, temperature=tau),
            "star_step_eps": lambda: sl.star_step_eps(eps, M_),
            "star_iterates": lambda: sl.star_iterates(p, M_, 3),
            "kept_wrong_rate": lambda: sl.kept_wrong_rate(p, M_),
        }
        for name, call in updates.items():
            try:
                result = call()
            except sl.NoKeptChainsError:
                # Only where nothing is kept: at p itself, or after tempering underflows
                # a tiny p_t to 0 (e.g. 5e-324 at tau = 0.1).
                tempered_dead = name == "star_step tempered" and sl.accuracy(sl.tempered(p, M_, tau), M_) == 0
                if name == "star_step_eps":
                    assert exact_accuracy_eps == 0, name
                else:
                    assert exact_accuracy == 0 or tempered_dead, name
                continue
            assert in_unit_interval(result), (name, result)
        if exact_accuracy == 0:
            with pytest.raises(sl.NoKeptChainsError):
                sl.star_step(p, M_)


@settings(deadline=None, max_examples=150)
@given(st.integers(2, 4), st.integers(1, 3), st.data())
def test_tabular_no_nan_no_warning_and_rows_sum_to_one(M_, T, data):
    def row():
        weights = data.draw(st.lists(st.sampled_from([0.0, 0.0, 1e-300, 0.3, 1.0, 7.0]), min_size=M_, max_size=M_))
        if sum(weights) == 0:
            weights[0] = 1.0
        return [w / sum(weights) for w in weights]

    P = np.array([[row() for _ in range(M_)] for _ in range(T)])
    q0 = np.array(row())
    g = [data.draw(st.permutations(range(M_))) for _ in range(T)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = sl.tabular_accuracy(P, g, q0)
        assert in_unit_interval(A)
        try:
            new = sl.tabular_star_step(P, g, q0)
        except sl.NoKeptChainsError:
            assert A == 0
            return
        assert in_unit_interval(new)
        np.testing.assert_allclose(new.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
