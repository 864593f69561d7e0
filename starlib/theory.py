"""The exact theory: infinite-sample STaR on the chain model.

With infinitely many sampled chains, one STaR iteration (sample, keep the chains
whose final answer is correct, refit by maximum likelihood) maps the follow
probabilities p_t to

    p_t' = Pr(s_t = g_t(s_{t-1}) | final answer correct) = p_t A_{-t} / A,

where A is the accuracy of the chain and A_{-t} the accuracy of the chain with
step t removed. Introduced in :doc:`/chapters/01_star_as_a_markov_chain` (accuracy) and derived in Part II.

Floats take a fast closed form, A = 1/M + (1 - 1/M) prod_t delta_t. Where
below-chance steps make the product of margins close to -1/(M - 1), so that the
accuracy is close to 0 and the closed form would cancel, and in the error-rate
map :func:`star_step_eps`, a recurrence over "on track / off track"
(:class:`TrackChain`, the one home of that recurrence) takes over: all its terms
are non-negative, so it stays accurate in relative terms however small the
probabilities are. The margin and the tempered follow probability are written
once, in :mod:`starlib.chain`; what one *sampled* iteration does (its variance,
its chance of stepping the wrong way, the samples that leave the plateau) is in
:mod:`starlib.finite_samples`. The inner loops work step-major (:func:`step_major`).
"""

import numbers
from collections import namedtuple
from math import prod, sqrt

import numpy as np

from . import _checks
from ._checks import EXACT, FLOAT, SYMBOLIC
from .chain import margin, margin_formula, no_kept_chains, prob_from_margin, tempered, tempered_floats


def step_major(arr):
    """``arr`` (..., T) laid out "step-major", shape (T, B): one row per step, the batch flattened.

    Every inner loop of :mod:`starlib.theory` and :mod:`starlib.sampling` works in
    this layout, so that a step is one contiguous row. :func:`from_step_major`
    undoes it. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    if np.ndim(arr) < 1:
        raise ValueError(f"arr must have at least one axis (its last axis is the steps); got arr = {arr!r}")
    arr = np.asarray(arr)
    return np.ascontiguousarray(np.moveaxis(arr, -1, 0).reshape(arr.shape[-1], -1))


def from_step_major(arr, shape):
    """A step-major array (T, B) back in the layout ``shape`` = (..., T) of :func:`step_major`'s input.

    Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    shape = tuple(shape)
    if not shape or np.size(arr) != prod(shape):
        raise ValueError(f"shape must be the shape (..., T) of the step-major arr's source; got shape = {shape!r}")
    return np.moveaxis(np.asarray(arr).reshape((shape[-1],) + shape[:-1]), 0, -1)


class TrackChain:
    """The status of a chain after each step, on track or off it: the one home of that recurrence.

    Relabel so that every ground-truth map is the identity (every relabelled tied
    policy is one; see :func:`starlib.chain.tied_kernels`). After step t a chain
    is on track if s_t = s_0 and off track otherwise, and its final answer is
    correct exactly when it ends on track. From on track, step t stays on by
    following the ground truth (``follow`` = p_t) and leaves with ``leave`` =
    eps_t. From off track it comes back with ``back`` = q_t = eps_t / (M - 1) (the
    one state that maps onto the track) and stays off with ``stay_off`` =
    p_t + eps_t (M - 2) / (M - 1): by following (p_t) or by ``wander`` =
    eps_t (M - 2) / (M - 1) to another off-track state. Every coefficient is
    non-negative, so the passes of :meth:`forward` and :meth:`backward` are
    accurate in relative terms however small the probabilities are.

    ``p`` and ``eps`` = 1 - p (given apart, so that tiny error rates keep their
    digits) are step-major arrays (:func:`step_major`), row t for step t + 1:
    floats, Fractions or SymPy objects. Nothing is checked: the public functions
    built on it (:func:`accuracy`, :func:`star_step_eps`, :func:`kept_wrong_rate`,
    :func:`starlib.sampling.follow_counts`) check their input. Introduced in
    :doc:`/chapters/01_star_as_a_markov_chain`; :mod:`starlib.sampling` conditions
    it on the answer (:doc:`/chapters/07_finite_samples`).
    """

    def __init__(self, p, eps, M):
        self.follow, self.leave = p, eps
        self.back = eps / (M - 1)
        if isinstance(eps, np.ndarray) and eps.dtype.kind == "f":
            self.wander = eps * ((M - 2) / (M - 1))
        else:  # exact and symbolic: (M - 2) / (M - 1) of Python ints would be a float
            self.wander = eps * (M - 2) / (M - 1)
        self.stay_off = p + self.wander

    def forward(self, t, on, off):
        """The probability (on, off track) after step t + 1, from that before it."""
        return on * self.follow[t] + off * self.back[t], on * self.leave[t] + off * self.stay_off[t]

    def backward(self, t, on, off):
        """h (on, off track) before step t + 1 from h after it, for h(status) = Pr(an event | status)."""
        return self.follow[t] * on + self.leave[t] * off, self.back[t] * on + self.stay_off[t] * off


def _leave_one_out_products(x):
    """prod_{u != t} x_u for every step t, and prod_t x_t; no division, so x_t may be 0."""
    out = np.empty_like(x)
    # A one of x's own type: a Python int 1 would make exact (T = 1) results floats via 3 / 3.
    out[0] = 1 if x.dtype != object else x[0] ** 0
    for t in range(1, len(x)):
        np.multiply(out[t - 1], x[t - 1], out=out[t])
    total = out[-1] * x[-1]
    suffix = x[-1].copy()
    for t in range(len(x) - 2, -1, -1):
        np.multiply(out[t], suffix, out=out[t])
        np.multiply(suffix, x[t], out=suffix)
    return out, total


def _success_closed_form(p, M):
    """(A, A_{-t}) from the margins: M A = 1 + (M - 1) D with D = prod_t delta_t."""
    delta = margin_formula(p, M)
    loo, D = _leave_one_out_products(delta)
    return (1 + (M - 1) * D) / M, (1 + (M - 1) * loo) / M


def _success_by_recurrence(p, eps, M):
    """(A, A_{-t}, 1 - A_{-t}) in floats, accurate in relative terms, by the :class:`TrackChain`.

    Forwards, the probability of being on and off track after each step; backwards,
    Pr(correct) and Pr(wrong) given the status; step t is left out by joining the
    two around it. Every term is non-negative, so nothing cancels.
    """
    T = len(p)
    chain = TrackChain(p, eps, M)
    on = np.empty((T + 1,) + p.shape[1:])
    off = np.empty_like(on)
    on[0], off[0] = 1.0, 0.0
    for t in range(T):
        on[t + 1], off[t + 1] = chain.forward(t, on[t], off[t])
    # Pr(correct | on, off track) and Pr(wrong | on, off track) after the steps so far.
    right_on, right_off = np.ones(p.shape[1:]), np.zeros(p.shape[1:])
    wrong_on, wrong_off = np.zeros(p.shape[1:]), np.ones(p.shape[1:])
    acc_without = np.empty_like(p)
    err_without = np.empty_like(p)
    for t in range(T - 1, -1, -1):
        acc_without[t] = on[t] * right_on + off[t] * right_off
        err_without[t] = on[t] * wrong_on + off[t] * wrong_off
        right_on, right_off = chain.backward(t, right_on, right_off)
        wrong_on, wrong_off = chain.backward(t, wrong_on, wrong_off)
    return on[T], acc_without, err_without


def _margins_floats(p, M):
    """Leave-one-out products of the margins, their product D, and the rows to redo.

    The closed form divides by c + D, with c = 1/(M - 1); that sum cancels only
    where D is close to -c, that is where the accuracy is close to 0. The
    returned rows, those with D < -c/2, are redone by the recurrence.
    """
    c = 1.0 / (M - 1)
    loo, D = _leave_one_out_products(margin_formula(p, M))
    return loo, D, np.flatnonzero(D < -c / 2)


def step_major_accuracy(p, M):
    """The float accuracy of step-major follow probabilities ``p`` (T, B), shape (B,), for checked input.

    The float form of :func:`accuracy`: the closed form, with the rows where it
    would cancel redone by the :class:`TrackChain` recurrence. Nothing is checked,
    so that the samplers of :mod:`starlib.sampling` can call it once per
    iteration; call :func:`accuracy` otherwise. Introduced in
    :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    _, D, cancels = _margins_floats(p, M)
    A = (1.0 + (M - 1) * D) / M
    if cancels.size:
        rows = p[:, cancels]
        A[cancels] = _success_by_recurrence(rows, 1.0 - rows, M)[0]
    np.minimum(A, 1.0, out=A)  # rounding in the closed form can exceed 1 by a few ulp
    return A


def _star_step_floats(p, eps, M):
    """p_t' = p_t (c + D_{-t}) / (c + D) with c = 1/(M - 1), for step-major floats.

    Accurate to a few units in the last place in absolute terms. Rows where c + D
    would cancel are redone by the recurrence. Works in place on the leave-one-out
    products to keep it lean.
    """
    new, D, cancels = _margins_floats(p, M)
    c = 1.0 / (M - 1)
    scale = D + c
    scale[cancels] = 1.0  # redone below; keeps a zero accuracy from dividing here
    new += c
    new *= p
    new /= scale
    if cancels.size:
        rows = p[:, cancels]
        eps_rows = 1.0 - rows if eps is None else eps[:, cancels]
        A, acc_without, _ = _success_by_recurrence(rows, eps_rows, M)
        if not A.all():
            raise no_kept_chains(f" for batch entry {int(cancels[np.argmin(A != 0)])}")
        new[:, cancels] = rows * acc_without / A
    # Rounding can push p_t' a few ulp outside [0, 1] (c + D_{-t} cancels where p_t' is
    # near 0); star_step would then reject its own output as input.
    np.clip(new, 0.0, 1.0, out=new)
    return new


def _check_kept(A, kind, shape):
    if kind == SYMBOLIC:
        return
    zero = np.ravel(A == 0) if kind == FLOAT else np.array([a == 0 for a in np.ravel(A)])
    if zero.any():
        where = _checks._index(shape[:-1], int(np.argmax(zero)))
        raise no_kept_chains(f" for p{where}" if where else "")


def _prepare(p, M, name="p"):
    M = _checks.num_states(M)
    arr, kind = _checks.probabilities(p, name, kind=_checks.arithmetic_of(p, M))
    return arr, M, kind


def accuracy(p, M):
    """The probability that the final answer is correct (:prf:ref:`thm-accuracy`).

    A = 1/M + (1 - 1/M) prod_t delta_t, for follow probabilities ``p`` whose last
    axis is the steps (leading axes are a batch). Exact input gives a Fraction,
    symbolic input a SymPy expression. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    arr, M, kind = _prepare(p, M)
    x = step_major(arr)
    A = step_major_accuracy(x, M) if kind == FLOAT else _success_closed_form(x, M)[0]
    return _checks.as_result(A.reshape(arr.shape[:-1]), kind)


def star_step(p, M, temperature=1.0):
    """The exact, infinite-sample STaR update of follow probabilities ``p``
    (:prf:ref:`thm-star-map`; at a temperature, :prf:ref:`thm-temperature`).

    Chains are sampled at ``temperature`` and the refit is by maximum likelihood
    on the chains whose final answer is correct:
    p_t' = p_t (1 + (M - 1) D_{-t}) / (1 + (M - 1) D), with p_t first replaced by
    its tempered value (see :func:`starlib.chain.tempered`). The last axis of
    ``p`` is the steps; leading axes are a batch. Raises
    :class:`~starlib.chain.NoKeptChainsError` where the accuracy is 0. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`;
    derived in Part II.
    """
    arr, M, kind = _prepare(p, M)
    tau = _checks.temperature(temperature, kind)
    x = step_major(arr)
    if kind == FLOAT:
        new = _star_step_floats(*tempered_floats(x, None, M, float(tau)), M)
    else:
        x = np.array(tempered(x, M, tau), dtype=object)
        A, acc_without = _success_closed_form(x, M)
        _check_kept(A, kind, arr.shape)
        new = x * acc_without / A
    return _checks.as_result(from_step_major(new, arr.shape), kind)


def star_step_eps(eps, M, temperature=1.0):
    """The STaR update on error rates eps_t = 1 - p_t, accurate in relative terms.

    eps_t' = eps_t (1 - A_{-t}) / ((M - 1) A) = eps_t (1 - D_{-t}) / (M A). Use it
    near the optimum, where ``1 - star_step(1 - eps)`` loses every digit: it agrees
    with exact arithmetic to a relative error of about 1e-15 per step for eps down
    to 1e-300 (results below the smallest normal double, about 2e-308, underflow).
    Floats only. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`; Part II derives the convergence it measures.
    """
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(eps, "eps", kind=FLOAT)
    tau = float(_checks.temperature(temperature, FLOAT))
    e = step_major(arr)
    p, e = tempered_floats(1.0 - e, e, M, tau)
    A, _, err_without = _success_by_recurrence(p, e, M)
    _check_kept(A, FLOAT, arr.shape)
    new = np.minimum(e * err_without / ((M - 1) * A), 1.0)  # rounding can exceed 1 by a few ulp
    return from_step_major(new, arr.shape)


def star_iterates(p0, M, iterations, temperature=1.0):
    """The exact STaR trajectory p^0, p^1, ..., p^iterations, shape (iterations + 1, ..., T).

    Iterates :func:`star_step` ``iterations`` times from ``p0`` (leading axes of
    ``p0`` are a batch). Floats only. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    arr, M, _ = _prepare(p0, M, name="p0")
    iterations = _checks.iterations(iterations)
    tau = float(_checks.temperature(temperature, FLOAT))
    out = np.empty((iterations + 1,) + arr.shape)
    out[0] = arr
    x = step_major(arr)
    for k in range(1, iterations + 1):
        x = _star_step_floats(*tempered_floats(x, None, M, tau), M)
        out[k] = from_step_major(x, arr.shape)
    return out


def kept_wrong_rate(p, M):
    """Pr(some step does not follow the ground truth | final answer correct)
    (:prf:ref:`thm-kept-wrong-rate`).

    Equals 1 - prod_t p_t / A. Computed by the on/off-track recurrence
    (:class:`TrackChain`) with the on-track chains split into "followed every step
    so far" and "back on track after a wrong step"; all its terms are
    non-negative, so it is accurate in relative terms even when almost every kept
    chain is faithful. Exact input gives a Fraction. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    arr, M, kind = _prepare(p, M)
    x = step_major(arr)
    chain = TrackChain(x, 1 - x, M)
    faithful, recovered, off = 1, 0, 0
    for t in range(len(x)):
        # Leaving the track does not care how a chain got on it; coming back makes it recovered.
        off_next = chain.forward(t, faithful + recovered, off)[1]
        recovered = chain.forward(t, recovered, off)[0]
        faithful, off = faithful * x[t], off_next
    A = faithful + recovered
    _check_kept(A, kind, arr.shape)
    return _checks.as_result((recovered / A).reshape(arr.shape[:-1]), kind)


def accuracy_gradient(p, M):
    """The gradient of the accuracy, dA/dp_t = D_{-t} = prod_{u != t} delta_u
    (:prf:ref:`thm-improvement`).

    The accuracy A = 1/M + (1 - 1/M) prod_t delta_t is affine in each p_t, and
    d delta_t / d p_t = M / (M - 1), so the factors cancel and the partial
    derivative is the product of the other steps' margins (1 for T = 1). It is
    also the expected update of plain REINFORCE on A in these coordinates, per
    unit learning rate. The last axis of ``p`` is the steps; leading axes are a
    batch. Exact input gives Fractions, symbolic input SymPy expressions.
    Introduced in :doc:`/chapters/03_the_star_map`.
    """
    arr, M, kind = _prepare(p, M)
    others, _ = _leave_one_out_products(margin_formula(step_major(arr), M))
    return _checks.as_result(from_step_major(others, arr.shape), kind)


def margin_for_accuracy(A, M, T):
    """The accuracy formula (:prf:ref:`thm-accuracy`) inverted: the margin each of T equal steps needs for accuracy ``A``.

    With every step at margin delta, A = 1/M + (1 - 1/M) delta^T, so
    delta = ((M A - 1) / (M - 1))^(1/T). ``A`` must lie in [1/M, 1]; the answer is
    then the non-negative margin in [0, 1] (an accuracy below chance would need
    negative margins, which equal steps reach only for odd T). Elementwise in
    ``A``. Floats and Fractions give floats (the root is irrational in general);
    symbolic input gives a SymPy expression. Convert to a follow probability with
    :func:`starlib.chain.prob_from_margin`. Introduced in :doc:`/chapters/02_how_accurate_is_a_chain`.
    """
    M = _checks.num_states(M)
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1 (the number of steps); got T = {T!r}")
    T = int(T)
    arr, kind = _checks.probabilities(A, "A", min_ndim=0)
    if kind == SYMBOLIC:
        import sympy

        D = margin_formula(arr, M)
        root = np.vectorize(lambda d: d ** sympy.Rational(1, T), otypes=[object])(D)
        return _checks.as_result(root, kind)
    if kind == EXACT:
        low = _checks.Fraction(1, M)
        _checks.check_in_range(arr, "A", low, 1, low_text=f"1/M = 1/{M}")
        arr = arr.astype(float)
    else:
        # A tolerance of a few ulp, so that A = accuracy(...) rounded just below 1/M is accepted.
        low = 1.0 / M
        below = arr < low * (1 - 1e-15)
        if below.any():
            i = int(np.argmax(below.ravel()))
            raise ValueError(
                f"A{_checks._index(arr.shape, i)} = {arr.ravel()[i].item()!r} is not a number in "
                f"[1/M, 1] = [{low:.6g}, 1]; equal steps reach an accuracy below chance only with "
                "negative margins"
            )
    D = np.maximum(margin_formula(arr, M), 0.0)
    return _checks.as_result(D ** (1.0 / T), FLOAT)


# --- Chapters 2 and 3: equal steps, what a batch can detect, and the direction of a step ---------


def equal_steps_accuracy(delta, M, T):
    """The accuracy formula (:prf:ref:`thm-accuracy`) for T equal steps: the accuracy when every step has margin ``delta``.

    Elementwise in ``delta`` (in [-1/(M - 1), 1]); floats, Fractions and SymPy
    expressions. Introduced in :doc:`/chapters/02_how_accurate_is_a_chain`.
    """
    T = _checks.integer(T, "T", 1, "the number of steps")
    p = np.asarray(prob_from_margin(delta, M), dtype=object if _checks.arithmetic_of(delta) != FLOAT else float)
    return accuracy(np.repeat(p[..., None], T, axis=-1), M)


def detectable_accuracy(M, N, z=2.0):
    """The accuracy that stands ``z`` standard errors above chance in a batch of N chains.

    1/M + z sqrt((1/M)(1 - 1/M)/N): an accuracy estimated from N sampled chains
    of a guessing policy has standard error sqrt((1/M)(1 - 1/M)/N), so an
    accuracy below this value is not told apart from guessing at z standard
    errors. Floats. Introduced in :doc:`/chapters/02_how_accurate_is_a_chain`.
    """
    M = _checks.num_states(M)
    N = _checks.sample_size(N, "N")
    ok = isinstance(z, numbers.Real) and not isinstance(z, bool) and np.isfinite(float(z)) and z > 0
    if not ok:
        raise ValueError(f"z must be a finite number > 0 (standard errors); got z = {z!r}")
    chance = 1.0 / M
    return min(chance + float(z) * sqrt(chance * (1.0 - chance) / N), 1.0)


MarginRequirements = namedtuple("MarginRequirements", "lengths targets needed detectable")
MarginRequirements.__doc__ = """Per-step margins that equal steps need, by chain length.

needed[i, k]: the margin for accuracy targets[i] with lengths[k] steps.
detectable[k]: the margin at which the accuracy is :func:`detectable_accuracy`."""


def margin_requirements(M, lengths, targets, N, z=2.0):
    """The margin each of T equal steps needs, for several targets and chain lengths T.

    Returns :class:`MarginRequirements`: :func:`margin_for_accuracy` for every
    target accuracy and length, and for the accuracy a batch of ``N`` chains
    detects at ``z`` standard errors. The data of :doc:`/chapters/02_how_accurate_is_a_chain`'s figure and table.
    Introduced in :doc:`/chapters/02_how_accurate_is_a_chain`.
    """
    M = _checks.num_states(M)
    lengths = [_checks.integer(T, "lengths", 1, "numbers of steps") for T in np.ravel(lengths)]
    if not lengths:
        raise ValueError("lengths must hold at least one number of steps; got none")
    target_arr, _ = _checks.probabilities(targets, "targets", kind=FLOAT, min_ndim=0)
    targets = [float(A) for A in np.ravel(target_arr)]
    if not targets or min(targets) <= 0:
        raise ValueError(f"targets must hold at least one accuracy in (0, 1]; got targets = {targets!r}")
    floor = detectable_accuracy(M, N, z)
    needed = np.array([[margin_for_accuracy(A, M, T) for T in lengths] for A in targets]).reshape(len(targets), -1)
    detectable = np.array([margin_for_accuracy(floor, M, T) for T in lengths])
    return MarginRequirements(np.array(lengths), np.array(targets), needed, detectable)


def equal_margin_star_map(delta, M, T=3, temperature=1.0):
    """The STaR map (:prf:ref:`thm-star-map`) in margins: the common margin after one STaR iteration from T equal margins ``delta``.

    For T = 3 and temperature 1 it is
    delta' = ((M - 2) delta^3 + delta^2 + delta) / ((M - 1) delta^3 + 1).
    Elementwise in ``delta``; floats, Fractions and SymPy expressions. Raises
    :class:`~starlib.chain.NoKeptChainsError` where the accuracy is 0.
    Introduced in :doc:`/chapters/03_the_star_map`.
    """
    T = _checks.integer(T, "T", 1, "the number of steps")
    kind = _checks.arithmetic_of(delta)
    p = np.asarray(prob_from_margin(delta, M), dtype=float if kind == FLOAT else object)
    new = np.asarray(star_step(np.repeat(p[..., None], T, axis=-1), M, temperature),
                     dtype=float if kind == FLOAT else object)
    return margin(new[..., 0], M)


def _step_and_gradient(p, M):
    arr, M, _ = _prepare(p, M)
    arr = arr.astype(float)
    step = np.asarray(star_step(arr, M)) - arr
    gradient = np.asarray(accuracy_gradient(arr, M), dtype=float)
    return arr, step, gradient


def star_gradient_cosine(p, M):
    """The cosine between STaR's step p' - p and the gradient of the accuracy.

    The last axis of ``p`` is the steps; leading axes are a batch. Floats.
    Raises ValueError where either vector is zero (for instance when two steps
    are uniform, or every p_t is 0 or 1), since the angle is then undefined.
    Introduced in :doc:`/chapters/03_the_star_map`.
    """
    arr, step, gradient = _step_and_gradient(p, M)
    norms = np.linalg.norm(step, axis=-1) * np.linalg.norm(gradient, axis=-1)
    if np.any(norms == 0):
        where = _checks._index(arr.shape[:-1], int(np.argmax(np.ravel(norms == 0))))
        raise ValueError(f"p{where}: the STaR step or the accuracy gradient is zero, so the cosine is undefined")
    return _checks.as_result((step * gradient).sum(axis=-1) / norms, FLOAT)


def star_gradient_cosine_bound(p):
    """The smallest cosine the weights of STaR's step allow: 2 sqrt(k) / (1 + k).

    STaR's step is the accuracy gradient with coordinate t scaled by
    w_t = p_t (1 - p_t) / A, so by the Kantorovich inequality its cosine with the
    gradient is at least 2 sqrt(k) / (1 + k), with k = min_t w_t / max_t w_t. The
    last axis of ``p`` is the steps; floats. Raises ValueError where every p_t is
    0 or 1. Introduced in :doc:`/chapters/03_the_star_map`.
    """
    arr, _ = _checks.probabilities(p, "p", kind=FLOAT)
    w = arr * (1.0 - arr)
    largest = w.max(axis=-1)
    if np.any(largest == 0):
        where = _checks._index(arr.shape[:-1], int(np.argmax(np.ravel(largest == 0))))
        raise ValueError(f"p{where}: every step is at 0 or 1, so STaR does not move and the bound is undefined")
    kappa = w.min(axis=-1) / largest
    return _checks.as_result(2.0 * np.sqrt(kappa) / (1.0 + kappa), FLOAT)


def logit_natural_step(p, M, step_size=1.0):
    """A natural-gradient ascent step on log A taken in the logits theta_t = log(p_t / (1 - p_t)).

    In logits the Fisher information of the family is p_t (1 - p_t) and the
    gradient of log A is p_t (1 - p_t) D_{-t} / A, so the step is
    theta_t' = theta_t + step_size D_{-t} / A; the result is returned as follow
    probabilities. To first order in ``step_size`` it is the same move as
    p + step_size (star_step(p) - p). Every p_t must lie strictly inside (0, 1).
    The last axis of ``p`` is the steps; floats. Introduced in :doc:`/chapters/03_the_star_map`.
    """
    arr, M, _ = _prepare(p, M)
    arr = arr.astype(float)
    if np.any((arr <= 0) | (arr >= 1)):
        i = int(np.argmax(np.ravel((arr <= 0) | (arr >= 1))))
        raise ValueError(f"p{_checks._index(arr.shape, i)} = {arr.ravel()[i]!r} is not strictly inside (0, 1), "
                         "so its logit is not finite")
    ok = isinstance(step_size, numbers.Real) and not isinstance(step_size, bool) and np.isfinite(float(step_size))
    if not ok or step_size <= 0:
        raise ValueError(f"step_size must be a finite number > 0; got step_size = {step_size!r}")
    A = np.asarray(accuracy(arr, M))
    _check_kept(A, FLOAT, arr.shape)
    gradient = np.asarray(accuracy_gradient(arr, M), dtype=float)
    theta = np.log(arr) - np.log1p(-arr) + float(step_size) * gradient / np.asarray(A)[..., None]
    return np.exp(-np.logaddexp(0.0, -theta))


# --- :doc:`/chapters/04_what_a_pretrained_model_needs`: how long STaR takes, and where it ends ------------------------------------------


def iterations_to_accuracy(p0, M, target, max_iterations, temperature=1.0):
    """The number of exact STaR iterations until the accuracy reaches ``target``.

    Iterates :func:`starlib.theory.star_step` from ``p0`` (last axis the steps,
    leading axes a batch) and returns, for every chain of the batch, the
    smallest n with ``accuracy(p^n, M) >= target``: 0 if ``p0`` is already
    there. The accuracy is that of the refit policy p^n itself, as
    :func:`starlib.theory.accuracy` gives it (at temperature 1), also when the
    chains are sampled at another ``temperature``.

    **Not reached.** Where the target is not reached within ``max_iterations``
    iterations the answer is -1 (check for it: STaR can stall on a plateau or
    settle at a spurious fixed point below the target; see
    :func:`starlib.theory.star_limit`). Returns an int64 array of the batch
    shape, or a Python int for a single chain. Floats only; an iterate with
    accuracy 0 raises :class:`~starlib.chain.NoKeptChainsError`, as
    :func:`starlib.theory.star_step` does. Introduced in :doc:`/chapters/04_what_a_pretrained_model_needs`.
    """
    arr, _ = _checks.probabilities(p0, "p0", kind=FLOAT)
    M = _checks.num_states(M)
    target = _checks.target_accuracy(target)
    max_iterations = _checks.iterations(max_iterations, "max_iterations")
    tau = float(_checks.temperature(temperature, FLOAT))
    x = step_major(arr)
    out = np.full(x.shape[1], -1, dtype=np.int64)
    active = np.arange(x.shape[1])
    for n in range(max_iterations + 1):
        reached = step_major_accuracy(x, M) >= target
        out[active[reached]] = n
        if reached.all() or n == max_iterations:
            break
        if reached.any():
            active, x = active[~reached], x[:, ~reached]
        x = _star_step_floats(*tempered_floats(x, None, M, tau), M)
    out = out.reshape(arr.shape[:-1])
    return int(out) if out.ndim == 0 else out


StarLimit = namedtuple("StarLimit", "point accuracy iterations converged")
StarLimit.__doc__ = """Where the exact STaR iteration settles; returned by :func:`starlib.theory.star_limit`.

``point`` the last iterate p^k, ``accuracy`` its accuracy, ``iterations`` k, and
``converged`` whether the last displacement ``max_t |p_t^k - p_t^(k-1)|`` was at most the tolerance.
"""


def star_limit(p0, M, max_iterations=10_000, tol=1e-12, temperature=1.0):
    """Iterate the exact STaR map from ``p0`` until it stops moving.

    Each chain of the batch (last axis of ``p0`` the steps) is iterated with
    :func:`starlib.theory.star_step` until the displacement
    ``max_t |p_t^k - p_t^(k-1)|`` is at most ``tol``, or ``max_iterations``
    iterations are spent. Returns a :class:`starlib.theory.StarLimit` of arrays (scalars for
    a single chain): the last iterate p^k, its accuracy, k, and whether the
    tolerance was met. A fixed point stops after k = 1.

    **A plateau is not a limit.** Near chance with T >= 3 steps the map moves
    by about delta^(T-1) per iteration (:doc:`/chapters/04_what_a_pretrained_model_needs`), which can be below any
    fixed ``tol`` long before the iterates escape. Read ``converged`` as "stopped
    moving at this tolerance", and compare the point with the fixed points of
    :doc:`/chapters/04_what_a_pretrained_model_needs` (vertices of {0, 1}^T, attracting at temperature 1 when an even
    number of steps are 0 and, below temperature 1, whenever their accuracy is
    positive (:doc:`/chapters/06_robustness`); or two or more steps exactly at chance) before calling
    it a limit.
    A ``tol`` of 0 can fail to stop: in floats a step at 1 may come back one
    unit in the last place below 1 and cycle. Floats only. Introduced in
    :doc:`/chapters/04_what_a_pretrained_model_needs`.
    """
    arr, _ = _checks.probabilities(p0, "p0", kind=FLOAT)
    M = _checks.num_states(M)
    max_iterations = _checks.iterations(max_iterations, "max_iterations")
    tol_ok = isinstance(tol, (int, float, np.floating, np.integer)) and not isinstance(tol, bool)
    if not tol_ok or not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite number >= 0; got tol = {tol!r}")
    tau = float(_checks.temperature(temperature, FLOAT))
    x = step_major(arr).copy()
    B = x.shape[1]
    iterations = np.zeros(B, dtype=np.int64)
    converged = np.zeros(B, dtype=bool)
    active = np.arange(B)
    for k in range(1, max_iterations + 1):
        current = x[:, active]
        new = _star_step_floats(*tempered_floats(current, None, M, tau), M)
        stopped = np.max(np.abs(new - current), axis=0) <= tol
        x[:, active] = new
        iterations[active] = k
        converged[active[stopped]] = True
        active = active[~stopped]
        if active.size == 0:
            break
    point = from_step_major(x, arr.shape)
    shape = arr.shape[:-1]
    A = step_major_accuracy(x, M).reshape(shape)
    iterations, converged = iterations.reshape(shape), converged.reshape(shape)
    if not shape:
        return StarLimit(point, float(A), int(iterations), bool(converged))
    return StarLimit(point, A, iterations, converged)


# --- Chapters 4 and 6: which vertex STaR ends at, and at which temperature ----------------------

VERTEX_TOLERANCE = 1e-9


def vertex_limit(p0, M, temperature=1.0, max_iterations=20_000, tol=1e-13):
    """The vertex of {0, 1}^T that exact STaR at ``temperature`` converges to from ``p0``.

    Runs :func:`starlib.theory.star_limit` and rounds the point it stops at:
    an int8 array of ``p0``'s shape, 1 where a step ends always right and 0
    where it ends always wrong. A chain that did not stop within
    ``max_iterations``, or stopped farther than 1e-9 from every vertex (on a
    plateau near chance, say), gets -1 in every entry: read -1 as
    "unresolved", never as a limit. Floats only. Introduced in :doc:`/chapters/04_what_a_pretrained_model_needs`;
    :doc:`/chapters/06_robustness` compares the limits at two temperatures
    (:func:`starlib.theory.limit_changes`).
    """
    arr, _ = _checks.probabilities(p0, "p0", kind=FLOAT)
    limit = star_limit(arr, M, max_iterations=max_iterations, tol=tol, temperature=temperature)
    point = np.asarray(limit.point)
    vertex = np.rint(point)
    at_vertex = np.all(np.abs(point - vertex) <= VERTEX_TOLERANCE, axis=-1) & np.asarray(limit.converged)
    out = vertex.astype(np.int8)
    out[~at_vertex] = -1
    return out


def below_chance_starts(rng, n, M, T):
    """``n`` random starts of T steps, shape (n, T), in which some step is below chance.

    Each step is independently below chance with probability 1/2, its follow
    probability then uniform in [0, 1/M), and otherwise uniform in (1/M, 1];
    draws with every step above chance are redrawn (their limit is the optimum
    at every temperature up to 1, :doc:`/chapters/06_robustness`). Both signs of the product of
    margins occur. Introduced in :doc:`/chapters/06_robustness`.
    """
    rng = _checks.generator(rng)
    n = _checks.int64_count(n, "n", 1, "the number of starts")
    M = _checks.num_states(M)
    T = _checks.integer(T, "T", 1, "the number of steps")
    out = np.empty((n, T))
    filled = 0
    while filled < n:
        below = rng.random((n, T)) < 0.5
        below = below[below.any(axis=1)][: n - filled]
        u = rng.random(below.shape)
        # below chance: [0, 1/M); above: (1/M, 1], as 1 - u lies in (0, 1]
        out[filled:filled + len(below)] = np.where(below, u / M, 1 / M + (1 - u) * (1 - 1 / M))
        filled += len(below)
    return out


StarCurve = namedtuple("StarCurve", "p accuracy sampled_accuracy kept_wrong step_wrong")
StarCurve.__doc__ = """One exact STaR run, iteration by iteration; returned by :func:`starlib.theory.star_curve`.

Floats, computed in the arithmetic of the start, for a run of N iterations: ``p`` (N + 1, T)
the iterates p^0..p^N; ``accuracy`` (N + 1) the accuracy of each p^k sampled at temperature 1;
``sampled_accuracy`` (N + 1) its success rate at the run's temperature, the fraction of chains
STaR keeps; ``kept_wrong`` (N + 1) the fraction of those kept chains with some wrong step;
``step_wrong`` (N, T) the per-step wrong rate of the kept chains, which is the next error
1 - p^(k+1).
"""


def star_curve(p0, M, iterations, temperature=1):
    """The exact STaR run from one policy ``p0`` (shape (T,)) for ``iterations`` iterations.

    Iterates :func:`starlib.theory.star_step` in the arithmetic of ``p0`` and
    converts to floats only at the end, so that with Fractions the wrong rates
    keep their relative accuracy far below 1e-16, where ``1 - p`` in floats is 0.
    Returns a :class:`starlib.theory.StarCurve`. Exact input needs a
    temperature 1/k. Introduced in :doc:`/chapters/06_robustness`.
    """
    arr = _checks.one_policy(p0, "p0", kind=_checks.arithmetic_of(p0, M))
    M = _checks.num_states(M)
    kind = _checks.arithmetic_of(p0, M)
    if kind == SYMBOLIC:
        raise ValueError("p0 must be floats or Fractions for a whole run; got symbols")
    from .chain import tempered  # the public, validated form, for Fractions and floats alike

    iterations = _checks.iterations(iterations, "iterations")
    _checks.temperature(temperature, kind)
    runs = [list(arr)]
    for _ in range(iterations):
        runs.append(list(star_step(runs[-1], M, temperature=temperature)))
    sampled = [list(np.atleast_1d(tempered(p, M, temperature))) for p in runs]
    as_float = lambda rows: np.array([[float(x) for x in row] for row in rows])  # noqa: E731
    return StarCurve(
        as_float(runs),
        np.array([float(accuracy(p, M)) for p in runs]),
        np.array([float(accuracy(p, M)) for p in sampled]),
        np.array([float(kept_wrong_rate(p, M)) for p in sampled]),
        as_float([[1 - x for x in p] for p in runs[1:]]).reshape(iterations, len(arr)),
    )


TwoStepPortrait = namedtuple("TwoStepPortrait", "grid to_optimum to_spurious arrow_start arrow_move")
TwoStepPortrait.__doc__ = """The phase portrait of exact STaR for T = 2; from :func:`starlib.theory.two_step_portrait`.

``grid`` the cell centres on each axis; ``to_optimum`` and ``to_spurious`` boolean arrays
(grid x grid, ``[i, j]`` for p_1 = grid[j], p_2 = grid[i]) marking the starts whose limit is (1, 1) or
(0, 0); ``arrow_start`` (n, n, 2) the arrow positions and ``arrow_move`` their one-step displacement
p' - p.
"""


def two_step_portrait(M, grid_points=400, arrow_points=12):
    """Where exact STaR goes from every start of a grid, for two steps (the data of a figure).

    Classifies the centres of a ``grid_points`` x ``grid_points`` grid of
    (p_1, p_2) by the vertex :func:`starlib.theory.vertex_limit` reaches, and
    gives the one-step displacement on a coarser ``arrow_points`` grid.
    Returns a :class:`starlib.theory.TwoStepPortrait`. Introduced in :doc:`/chapters/04_what_a_pretrained_model_needs`.
    """
    M = _checks.num_states(M)
    grid_points = _checks.integer(grid_points, "grid_points", 2, "points per axis")
    arrow_points = _checks.integer(arrow_points, "arrow_points", 1, "arrows per axis")
    grid = (np.arange(grid_points) + 0.5) / grid_points
    G1, G2 = np.meshgrid(grid, grid)
    vertex = vertex_limit(np.stack([G1, G2], axis=-1), M)
    arrows = (np.arange(arrow_points) + 0.5) / arrow_points
    A1, A2 = np.meshgrid(arrows, arrows)
    start = np.stack([A1, A2], axis=-1)
    return TwoStepPortrait(grid, (vertex == 1).all(axis=-1), (vertex == 0).all(axis=-1),
                           start, star_step(start, M) - start)


PlateauLengths = namedtuple("PlateauLengths", "offsets iterations slopes curves")
PlateauLengths.__doc__ = """The plateau measured; returned by :func:`starlib.theory.plateau_lengths`.

Dicts keyed by the number of steps T: ``offsets`` the start offsets d (p^0_t = 1/M + d),
``iterations`` the exact STaR iterations to the target accuracy from each, and ``slopes`` the
least-squares slope of log(iterations) against log(d). ``curves`` maps each offset d of the
requested T to the accuracies A^0, ..., A^curve_length of its run (empty if none was requested).
"""


def plateau_lengths(M, offsets, target, max_iterations, curves_for=None, curve_length=1500):
    """Iterations to reach ``target`` from equal steps just above chance (the data of a figure).

    ``offsets`` maps each number of steps T >= 2 to at least two offsets d > 0
    with 1/M + d <= 1; every step starts at p^0_t = 1/M + d. Uses
    :func:`starlib.theory.iterations_to_accuracy`; a start that does not reach
    the target within ``max_iterations`` raises ValueError. With
    ``curves_for`` a key T of ``offsets``, the accuracy trajectories of those
    T-step runs are returned too, ``curve_length`` iterations each (the data
    of the second figure). Returns a :class:`starlib.theory.PlateauLengths`. Introduced in :doc:`/chapters/04_what_a_pretrained_model_needs`
    (``thm-plateau``).
    """
    M = _checks.num_states(M)
    if isinstance(target, (str, bytes, bool)):
        raise ValueError(f"target must be one accuracy in (0, 1]; got target = {target!r}")
    target = _checks.target_accuracy(target)
    max_iterations = _checks.iterations(max_iterations, "max_iterations")
    if not isinstance(offsets, dict) or not offsets:
        raise ValueError(f"offsets must be a non-empty dict from T to offsets; got offsets = {offsets!r}")
    if curves_for is not None and (isinstance(curves_for, bool) or curves_for not in offsets):
        raise ValueError(f"curves_for must be None or a key of offsets; got curves_for = {curves_for!r}")
    curve_length = _checks.iterations(curve_length, "curve_length")
    by_T, lengths, slopes, curves = {}, {}, {}, {}
    for T, d in offsets.items():
        T = _checks.integer(T, "offsets", 2, "a number of steps (a key of offsets)")
        d = np.asarray(d, dtype=float) if not isinstance(d, (str, bytes)) else np.array([np.nan])
        if d.ndim != 1 or len(d) < 2 or not np.all(np.isfinite(d)) or np.any(d <= 0) or np.any(d > 1 - 1 / M):
            raise ValueError(f"offsets[{T}] must be at least two offsets d with 0 < d <= 1 - 1/M; got {offsets[T]!r}")
        n = iterations_to_accuracy(np.repeat(1 / M + d[:, None], T, axis=1), M, target, max_iterations)
        if np.any(n < 0):
            raise ValueError(f"max_iterations = {max_iterations} is too few to reach the target from offsets[{T}]")
        by_T[T], lengths[T] = d, n
        slopes[T] = float(np.polyfit(np.log(d), np.log(np.maximum(n, 1)), 1)[0])
        if T == curves_for:
            curves = {float(x): accuracy(star_iterates(np.full(T, 1 / M + x), M, curve_length), M) for x in d}
    return PlateauLengths(by_T, lengths, slopes, curves)


SignRuleVertex = namedtuple("SignRuleVertex", "vertex iterations point")
SignRuleVertex.__doc__ = """A limit decided by the sign rule; returned by :func:`starlib.theory.sign_rule_vertex`.

``vertex`` the limit (a tuple of 0 and 1), ``iterations`` the first n at which the rule applies,
``point`` the iterate p^n.
"""


def sign_rule_vertex(p0, M, temperature=1, max_iterations=10):
    """Iterate exact STaR until the sign rule decides its limit, or return None.

    Once no step is at chance and the product of the margins is positive,
    every step moves away from chance at every iteration, for every
    temperature in (0, 1]; the limit is then the vertex with 1 where the
    margin is positive and 0 where it is negative (:doc:`/chapters/06_robustness`,
    ``prop-temperature-limit``). This function applies
    :func:`starlib.theory.star_step` to one policy ``p0`` (shape (T,)) until
    that holds, at most ``max_iterations`` times; exact iterates at a
    temperature below 1 grow fast in size, so keep ``max_iterations`` small
    there. With Fractions (and temperature 1/k) every iterate is exact, so the
    answer is a proof, not a measurement. ``temperature`` must lie in (0, 1].
    Introduced in :doc:`/chapters/06_robustness`.
    """
    arr = _checks.one_policy(p0, "p0", kind=_checks.arithmetic_of(p0, M))
    M = _checks.num_states(M)
    kind = _checks.arithmetic_of(p0, M)
    _checks.temperature(temperature, kind)
    if temperature > 1:
        raise ValueError(f"temperature must be at most 1 for the sign rule; got temperature = {temperature!r}")
    max_iterations = _checks.iterations(max_iterations, "max_iterations")
    p = list(arr)
    for n in range(max_iterations + 1):
        margins = [margin_formula(x, M) for x in p]
        signs = [int(d > 0) - int(d < 0) for d in margins]  # int: NumPy bools do not subtract
        if 0 not in signs and np.prod(signs) > 0:
            return SignRuleVertex(tuple(int(s > 0) for s in signs), n, p)
        if n < max_iterations:
            p = list(star_step(p, M, temperature=temperature))
    return None


LimitChanges = namedtuple("LimitChanges", "changed unresolved reference limit")
LimitChanges.__doc__ = """Where the limit of exact STaR depends on the temperature; from :func:`starlib.theory.limit_changes`.

``changed`` (bool per start) whether the vertex at ``temperature`` differs from the one at the
reference temperature, ``unresolved`` (bool) where either run did not settle at a vertex (then
``changed`` is False), and ``reference`` and ``limit`` the two vertices (see
:func:`starlib.theory.vertex_limit`).
"""


def limit_changes(p0, M, temperature, reference=1.0, max_iterations=20_000):
    """Compare the vertex exact STaR reaches from ``p0`` at two temperatures.

    Returns a :class:`starlib.theory.LimitChanges`. The temperature enters at
    every iteration (chains are sampled from the tempered refit policy), so the
    limit itself, not only the start, can depend on it. Floats only.
    Introduced in :doc:`/chapters/06_robustness`.
    """
    try:
        _checks.temperature(reference, FLOAT)
    except ValueError:
        raise ValueError(f"reference must be a finite temperature > 0; got reference = {reference!r}") from None
    ref = vertex_limit(p0, M, temperature=reference, max_iterations=max_iterations)
    lim = vertex_limit(p0, M, temperature=temperature, max_iterations=max_iterations)
    unresolved = (ref < 0).any(axis=-1) | (lim < 0).any(axis=-1)
    changed = (ref != lim).any(axis=-1) & ~unresolved
    return LimitChanges(changed, unresolved, ref, lim)


# --- The chapter "Convergence": the quadratic rate with equal error rates ----------------------

QuadraticConvergence = namedtuple("QuadraticConvergence", "errors log10_recurrence digit_ratio")
QuadraticConvergence.__doc__ = """The exact map from equal error rates against the quadratic recurrence; returned by :func:`starlib.theory.quadratic_convergence`.

``errors`` (n + 1, T): the error rates of every step at iterations 0..n of the exact map (the last
row may have underflowed to 0); ``log10_recurrence`` (n + 1,): log10 of the recurrence's error
(c eps0)^(2^k) / c, c = (T - 1)/(M - 1); ``digit_ratio``: -log10 eps_k / -log10 eps_(k-1) of step 1,
over the iterates with a positive error.
"""


def _equal_error_start(eps0, M, T):
    M = _checks.num_states(M)
    T = _checks.integer(T, "T", 2, "the number of steps; the quadratic rate needs two or more")
    arr, _ = _checks.probabilities(eps0, "eps0", kind=FLOAT, min_ndim=0)
    if arr.ndim != 0 or not 0 < float(arr) < 1 - 1 / M:
        raise ValueError(f"eps0 must be one error rate in (0, 1 - 1/M), every margin above chance; got eps0 = {eps0!r}")
    return float(arr), M, T


def quadratic_recurrence_iterations(eps0, M, T, target):
    """Iterations the recurrence eps_(n+1) = c eps_n^2, c = (T - 1)/(M - 1), needs from ``eps0`` to ``target``.

    The recurrence is the leading term of the quadratic rate
    (:prf:ref:`thm-quadratic-rate`); it solves to eps_n = (c eps0)^(2^n)/c, so
    the answer is the smallest n >= 0 with 2^n >= ln(c target)/ln(c eps0). Needs
    c eps0 < 1 (else the recurrence does not shrink) and 0 < ``target``.
    Introduced in :doc:`/chapters/05_convergence`.
    """
    eps0, M, T = _equal_error_start(eps0, M, T)
    goal, _ = _checks.probabilities(target, "target", kind=FLOAT, min_ndim=0)
    if goal.ndim != 0 or float(goal) <= 0:
        raise ValueError(f"target must be one error rate in (0, 1]; got target = {target!r}")
    c = (T - 1) / (M - 1)
    if c * eps0 >= 1:
        raise ValueError(f"c eps0 = {c * eps0!r} >= 1 for eps0 = {eps0!r}, M = {M}, T = {T}: the recurrence does not shrink")
    if float(goal) >= eps0:
        return 0
    return max(0, int(np.ceil(np.log2(np.log(c * float(goal)) / np.log(c * eps0)))))


def quadratic_convergence(eps0, M, T, floor=1e-300, max_iterations=10_000):
    """The exact map from equal error rates ``eps0``, until every error is at most ``floor``.

    Iterates :func:`starlib.theory.star_step_eps` (accurate in relative terms down
    to 1e-300) from eps_t = eps0 for all T steps, and returns a
    :class:`QuadraticConvergence` with the quadratic recurrence beside it: the
    data of the chapter's table and figures of the rate. Introduced in the
    chapter "Convergence".
    """
    eps0, M, T = _equal_error_start(eps0, M, T)
    floor_arr, _ = _checks.probabilities(floor, "floor", kind=FLOAT, min_ndim=0)
    if floor_arr.ndim != 0 or float(floor_arr) <= 0:
        raise ValueError(f"floor must be one error rate in (0, 1]; got floor = {floor!r}")
    max_iterations = _checks.integer(max_iterations, "max_iterations", 1, "a number of iterations")
    rows = [np.full(T, eps0)]
    while rows[-1].max() > float(floor_arr) and len(rows) <= max_iterations:
        rows.append(star_step_eps(rows[-1], M))
    errors = np.array(rows)
    c = (T - 1) / (M - 1)
    k = np.arange(len(errors))
    log10_recurrence = np.log10(1 / c) + 2.0**k * np.log10(c * eps0)
    positive = errors[:, 0][errors[:, 0] > 0]
    digits = -np.log10(positive)
    return QuadraticConvergence(errors, log10_recurrence, digits[1:] / digits[:-1])
