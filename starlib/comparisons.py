"""STaR against policy gradient, at the same sampling budget.

Finite-sample STaR and REINFORCE (Williams, 1992) both spend n sampled chains
per iteration. They differ in what they do with them: STaR refits p_t to the
fraction of kept chains whose step t follows the ground truth, REINFORCE adds
``learning_rate`` times a score-function estimate of the gradient of the
accuracy. This module holds what the comparison needs beyond the two engines
(:mod:`starlib.sampling` and :mod:`starlib.policy_gradient`):

- the expected updates of both, in closed form (:func:`expected_reinforce_step`,
  :func:`expected_star_mc_step`);
- the REINFORCE gradient estimate from the sufficient counts
  (:func:`policy_gradient_estimate`) and a natural-gradient REINFORCE, preconditioned
  by the inverse Fisher information p_t (1 - p_t) (:func:`natural_reinforce_step`,
  :func:`natural_reinforce_iterates`);
- many seeded runs of any of the methods until a target accuracy
  (:func:`iterations_to_target`).

Introduced in the chapter "STaR versus policy gradient".
"""

from collections import namedtuple
from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import FLOAT
from .chain import NoKeptChainsError
from .policy_gradient import _score_sum, reinforce_step
from .sampling import follow_counts, star_step_mc
from .theory import accuracy, accuracy_gradient, star_step

METHODS = ("star", "star_mc", "reinforce", "natural_reinforce")


def _elementwise(kind, values):
    if kind == FLOAT:
        arr = np.asarray(values, dtype=float)
        return float(arr) if arr.ndim == 0 else arr
    return list(values)


def expected_reinforce_step(p, M, n, learning_rate, natural=False):
    """The expected change of p_t in one REINFORCE step with a batch-mean baseline.

    With n chains, reward r_i = 1 for a correct answer, baseline b = mean_i r_i and
    score s_it = d log Pr(chain i) / d p_t, the step
    ``learning_rate * sum_i (r_i - b) s_it / n`` of
    :func:`starlib.policy_gradient.reinforce_step` has expectation

        learning_rate * (1 - 1/n) * dA/dp_t = learning_rate * (1 - 1/n) * D_{-t}

    (before its clip into (0, 1)): the baseline of a chain's own batch includes the
    chain's own reward, which removes a fraction 1/n of the signal. With
    ``natural=True`` the step is preconditioned by the inverse Fisher information,
    as in :func:`natural_reinforce_step`, and the expectation is multiplied by
    p_t (1 - p_t). Accepts floats (last axis the steps, leading axes a batch),
    Fractions and SymPy symbols (for p, M, n and ``learning_rate``). Introduced in
    the chapter "STaR versus policy gradient".
    """

    M = _checks.num_states(M)
    n = _checks.sample_size(n, symbolic=True)
    learning_rate = _checks.learning_rate(learning_rate)
    kind = _checks.arithmetic_of(p, M, n, learning_rate)
    arr, kind = _checks.probabilities(p, "p", kind=kind)
    gradient = accuracy_gradient(arr if kind == FLOAT else arr.tolist(), M)
    if kind == FLOAT:
        factor = learning_rate * (1 - 1 / n)
        return factor * (arr * (1 - arr) if natural else 1) * gradient
    factor = learning_rate * (1 - (1 / n if _checks._is_sympy(n) else Fraction(1, n)))
    return [factor * (x * (1 - x) if natural else 1) * d for x, d in zip(arr.tolist(), gradient)]


def expected_star_mc_step(p, M, n):
    """The expected change of p_t in one finite-sample STaR iteration with n chains.

    Given that k >= 1 of the n chains are kept, they are i.i.d. draws of the chain
    conditioned on success, so the count of kept chains that follow at step t is
    Binomial(k, p_t') and the refit k_t / k is an unbiased estimate of the exact
    update p_t' of :func:`starlib.theory.star_step`. When no chain is kept (probability
    (1 - A)^n) the policy stays where it is, as in
    :func:`starlib.sampling.star_iterates_mc`. Hence

        E[p_t^new - p_t] = (1 - (1 - A)^n) (p_t' - p_t) = (1 - (1 - A)^n) p_t (1 - p_t) D_{-t} / A.

    Accepts floats (last axis the steps), Fractions and SymPy symbols; the accuracy
    must be positive. Introduced in the chapter "STaR versus policy gradient".
    """

    M = _checks.num_states(M)
    n = _checks.sample_size(n, symbolic=True)
    kind = _checks.arithmetic_of(p, M, n)
    arr, kind = _checks.probabilities(p, "p", kind=kind)
    if kind == FLOAT:
        A = np.asarray(accuracy(arr, M))[..., None]
        return (1 - (1 - A) ** n) * (star_step(arr, M) - arr)
    values = arr.tolist()
    A = accuracy(values, M)
    return [(1 - (1 - A) ** n) * (y - x) for x, y in zip(values, star_step(values, M))]


def _counts_arrays(p, counts):
    kept, failed = int(counts.kept), int(counts.failed)
    fk = np.asarray(counts.followed_kept, dtype=float)
    ff = np.asarray(counts.followed_failed, dtype=float)
    if fk.shape != p.shape or ff.shape != p.shape:
        raise ValueError(
            f"counts must hold one followed count per step ({p.shape[0]}); got "
            f"followed_kept of shape {fk.shape} and followed_failed of shape {ff.shape}"
        )
    if kept < 0 or failed < 0 or kept + failed == 0:
        raise ValueError(f"counts must hold kept >= 0 and failed >= 0 chains, not both 0; got {counts!r}")
    if (fk < 0).any() or (fk > kept).any() or (ff < 0).any() or (ff > failed).any():
        raise ValueError(f"counts: a followed count lies outside [0, kept] or [0, failed]; got {counts!r}")
    return kept, failed, fk, ff


def policy_gradient_estimate(p, counts, baseline=True):
    """The REINFORCE estimate (1/n) sum_i (r_i - b) s_it of dA/dp_t, from counts alone.

    ``counts`` is a :func:`starlib.sampling.follow_counts` result for n = kept + failed
    chains sampled at ``p`` (one chain per row, shape (T,) of ``p``). The score of
    p_t is 1/p_t for a step that follows the ground truth and -1/(1 - p_t) for one
    that does not; the reward is 1 for a kept chain. With ``baseline=True`` the
    baseline b is the batch's mean reward kept/n, otherwise b = 0. Needs
    0 < p_t < 1. Floats only. Introduced in the chapter "STaR versus policy
    gradient".
    """
    arr = _checks.one_policy(p, "p")
    if ((arr <= 0) | (arr >= 1)).any():
        raise ValueError(f"p must lie strictly inside (0, 1), where the scores are finite; got p = {p!r}")
    kept, failed, fk, ff = _counts_arrays(arr, counts)
    return _score_sum(arr, arr, 1.0, kept + failed, kept, fk, ff, baseline)


def _natural_update(arr, counts, learning_rate, baseline):
    kept, failed, fk, ff = _counts_arrays(arr, counts)
    n = kept + failed
    b = kept / n if baseline else 0.0
    # p (1 - p) times the scores: no division, so p_t in {0, 1} is allowed and stays put.
    direction = ((1 - b) * (fk - kept * arr) - b * (ff - failed * arr)) / n
    return np.clip(arr + learning_rate * direction, 0.0, 1.0)


def natural_reinforce_step(p, M, n, rng, learning_rate, baseline=True):
    """One natural-gradient REINFORCE step on the tied policy from n sampled chains.

    The REINFORCE estimate of :func:`policy_gradient_estimate` (batch-mean baseline
    unless ``baseline=False``) is preconditioned by the inverse Fisher information
    p_t (1 - p_t) of the family (Chapter "The STaR map and policy improvement"):

        p_t <- p_t + learning_rate * p_t (1 - p_t) * (1/n) sum_i (r_i - b) s_it,

    computed from the counts of :func:`starlib.sampling.follow_counts` (drawn from
    ``rng``) without any division, and clipped into [0, 1]. Its expectation is
    ``expected_reinforce_step(p, M, n, learning_rate, natural=True)``.

    **STaR is a special case, sample by sample.** With ``baseline=False`` and
    learning rate n / kept (one over the batch's mean reward) the step is exactly
    the refit kept-and-followed / kept of :func:`starlib.sampling.star_step_mc`.
    Returns a float array (T,). Introduced in the chapter "STaR versus policy
    gradient".
    """

    arr = _checks.one_policy(p, "p")
    M = _checks.num_states(M)
    n = _checks.sample_size(n)
    learning_rate = float(_checks.learning_rate(learning_rate))
    counts = follow_counts(arr, M, n, _checks.generator(rng))
    return _natural_update(arr, counts, learning_rate, baseline)


def natural_reinforce_iterates(p0, M, n, iterations, rng, learning_rate, baseline=True):
    """The trajectory of :func:`natural_reinforce_step`: an array (iterations + 1, T).

    Row 0 is ``p0``; every later row is one step from the row before, all drawing
    from the same ``rng``. Introduced in the chapter "STaR versus policy gradient".
    """
    arr = _checks.one_policy(p0, "p0")
    iterations = _checks.iterations(iterations)
    out = np.empty((iterations + 1, arr.shape[0]))
    out[0] = arr
    for k in range(iterations):
        out[k + 1] = natural_reinforce_step(out[k], M, n, rng, learning_rate, baseline)
    return out


TargetRuns = namedtuple("TargetRuns", "iterations final")
TargetRuns.__doc__ = """Seeded runs until a target accuracy; returned by :func:`starlib.comparisons.iterations_to_target`.

``iterations`` (int64 array, one entry per run) is the first iteration at which the
accuracy of the current policy reached the target, -1 where it did not within the
budget; ``final`` (array (runs, T)) is the policy where each run stopped.
"""


def _one_update(method, p, M, n, rng, learning_rate):
    if method == "star":
        return np.asarray(star_step(p, M), dtype=float)
    if method == "star_mc":
        try:
            return star_step_mc(p, M, n, rng)
        except NoKeptChainsError:
            return p  # no chain kept: a real run resamples, the policy stays (as star_iterates_mc)
    if method == "reinforce":
        return reinforce_step(p, M, n, rng, learning_rate)
    return natural_reinforce_step(p, M, n, rng, learning_rate)


def iterations_to_target(method, p0, M, n, target, max_iterations, rng, runs, learning_rate=None):
    """Run ``method`` ``runs`` times from ``p0`` and count the iterations to a target accuracy.

    ``method`` is one of ``"star"`` (the exact map, :func:`starlib.theory.star_step`,
    which ignores n and the generator), ``"star_mc"`` (finite-sample STaR,
    :func:`starlib.sampling.star_step_mc`; an iteration that keeps no chain leaves
    the policy where it is, as :func:`starlib.sampling.star_iterates_mc` does),
    ``"reinforce"`` (:func:`starlib.policy_gradient.reinforce_step`) or
    ``"natural_reinforce"`` (:func:`natural_reinforce_step`); the last two need
    ``learning_rate``. Each iteration samples n chains.

    Run r draws from the r-th child of ``rng.spawn(runs)``, so the runs are
    independent and the result is reproducible from the generator's state. A run
    stops at the first iteration whose policy has (exact) accuracy
    :func:`starlib.theory.accuracy` at least ``target``, or after
    ``max_iterations`` iterations. Returns a :class:`TargetRuns`; samples used are
    n times the iterations. Introduced in the chapter "STaR versus policy gradient".
    """

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got method = {method!r}")
    arr = _checks.one_policy(p0, "p0")
    M = _checks.num_states(M)
    n = _checks.sample_size(n)
    target = _checks.target_accuracy(target)
    max_iterations = _checks.iterations(max_iterations, "max_iterations")
    rng = _checks.generator(rng)
    runs = _checks.integer(runs, "runs", 1, "a number of independent runs")
    if method in ("reinforce", "natural_reinforce"):
        if learning_rate is None:
            raise ValueError(f"method {method!r} needs a learning_rate; got learning_rate = None")
        learning_rate = float(_checks.learning_rate(learning_rate))
    elif learning_rate is not None:
        raise ValueError(f"method {method!r} has no learning rate; got learning_rate = {learning_rate!r}")
    iterations = np.full(runs, -1, dtype=np.int64)
    final = np.empty((runs, arr.shape[0]))
    for r, child in enumerate(rng.spawn(runs)):
        p = arr.copy()
        for k in range(max_iterations + 1):
            if accuracy(p, M) >= target:
                iterations[r] = k
                break
            if k == max_iterations:
                break
            p = _one_update(method, p, M, n, child, learning_rate)
        final[r] = p
    return TargetRuns(iterations, final)


RunSummary = namedtuple("RunSummary", "median low high failed")
RunSummary.__doc__ = """Summary of iterations-to-target over runs; returned by :func:`starlib.comparisons.run_summary`.

``median``, ``low`` and ``high`` (the quantiles) count a failed run as never reaching the target
(infinity); ``failed`` is the share of runs that did not reach it.
"""


def run_summary(iterations, low=0.1, high=0.9):
    """Median, quantiles and failure share of iterations-to-target, failures counted as infinite.

    ``iterations`` is the ``iterations`` array of :func:`iterations_to_target` (-1 for a
    run that missed the target). Returns a :class:`RunSummary` of floats. Introduced
    in the chapter "STaR versus policy gradient".
    """
    arr = np.asarray(iterations)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or (arr < -1).any():
        raise ValueError(f"iterations must be a non-empty 1-d integer array with entries >= -1; got {iterations!r}")
    for name, q in (("low", low), ("high", high)):
        if not (isinstance(q, (int, float)) and 0 <= q <= 1):
            raise ValueError(f"{name} must be a quantile in [0, 1]; got {name} = {q!r}")
    ordered = np.sort(np.where(arr >= 0, arr, np.inf))

    def quantile(q):
        # Linear interpolation as numpy's default, written out so that an infinite
        # neighbour gives inf rather than numpy's inf - inf = nan.
        position = (ordered.size - 1) * q
        below = int(np.floor(position))
        fraction = position - below
        if fraction == 0 or np.isinf(ordered[below]):
            return float(ordered[below])
        return float(ordered[below] + (ordered[below + 1] - ordered[below]) * fraction)

    return RunSummary(quantile(0.5), quantile(low), quantile(high), float(np.mean(arr < 0)))
