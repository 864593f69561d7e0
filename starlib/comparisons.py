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
- REINFORCE on the follow logits, :func:`starlib.policy_gradient.logit_reinforce_step`, as a
  fourth method;
- every step's exact expectation by brute force over every batch (:func:`expected_steps_by_enumeration`),
  an independent check of the closed forms;
- many seeded runs of any of the methods until a target accuracy
  (:func:`iterations_to_target`, :func:`compare_methods`, :func:`learning_rate_sweep`) and
  their tables (:func:`comparison_table`, :func:`sweep_table`).

Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
"""

import itertools
import math
import numbers
from collections import namedtuple
from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import FLOAT
from .chain import enumerate_chains, tied_kernels
from .policy_gradient import (
    _centred_score_sum,
    _logit_floats,
    _logit_reinforce_floats,
    _reinforce_floats,
    _sample_size,
    expected_logit_reinforce_step,
    policy_logits,
)
from .sampling import _counts
from .tables import format_table
from .theory import _from_step_major, _step_major, accuracy, accuracy_gradient, star_step

METHODS = ("star", "star_mc", "reinforce", "natural_reinforce", "logit_reinforce")


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
    :doc:`/chapters/09_star_versus_policy_gradient`.
    """

    if _flag(natural, "natural"):  # the plain gradient in the logits (dp/dtheta = p (1 - p))
        return expected_logit_reinforce_step(p, M, n, learning_rate)
    M = _checks.num_states(M)
    n = _checks.sample_size(n, symbolic=True)
    learning_rate = _checks.learning_rate(learning_rate)
    kind = _checks.arithmetic_of(p, M, n, learning_rate)
    arr, kind = _checks.probabilities(p, "p", kind=kind)
    gradient = accuracy_gradient(arr if kind == FLOAT else arr.tolist(), M)
    if kind == FLOAT:
        return learning_rate * (1 - 1 / n) * gradient
    factor = learning_rate * (1 - (1 / n if _checks._is_sympy(n) else Fraction(1, n)))
    return [factor * d for d in gradient]


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
    must be positive. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
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


def _count(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"counts.{what} must be a whole number of chains >= 0; got counts.{what} = {value!r}")
    return int(value)


def _follow_count_array(value, what, shape, most):
    try:
        arr = np.asarray(value)
        numeric = arr.dtype != bool and (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating))
    except (TypeError, ValueError):
        numeric = False
    if not numeric:
        raise ValueError(f"counts.{what} must be an array of whole numbers; got counts.{what} = {value!r}")
    if arr.shape != shape:
        raise ValueError(f"counts.{what} must hold one count per step, shape {shape}; got shape {arr.shape}")
    if not (np.isfinite(arr) & (arr == np.round(arr)) & (arr >= 0) & (arr <= most)).all():
        raise ValueError(f"counts.{what} must hold whole numbers in [0, {most}]; got counts.{what} = {value!r}")
    return arr.astype(float)


def _counts_arrays(p, counts):
    """Validated (kept, failed, followed_kept, followed_failed) of a FollowCounts for one policy."""
    if not (isinstance(counts, tuple) and len(counts) == 4):
        raise ValueError(f"counts must be a FollowCounts (kept, followed_kept, failed, followed_failed); got {counts!r}")
    counts = _FollowCountsLike(*counts)
    kept, failed = _count(counts.kept, "kept"), _count(counts.failed, "failed")
    if kept + failed == 0:
        raise ValueError(f"counts must hold at least one chain (kept + failed >= 1); got {counts!r}")
    fk = _follow_count_array(counts.followed_kept, "followed_kept", p.shape, kept)
    ff = _follow_count_array(counts.followed_failed, "followed_failed", p.shape, failed)
    return kept, failed, fk, ff


_FollowCountsLike = namedtuple("_FollowCountsLike", "kept followed_kept failed followed_failed")


def policy_gradient_estimate(p, counts, baseline=True):
    """The REINFORCE estimate (1/n) sum_i (r_i - b) s_it of dA/dp_t, from counts alone.

    ``counts`` is a :func:`starlib.sampling.follow_counts` result for n = kept + failed
    chains sampled at ``p`` (one chain per row, shape (T,) of ``p``): whole numbers,
    each follow count between 0 and its kept or failed total. The score of
    p_t is 1/p_t for a step that follows the ground truth and -1/(1 - p_t) for one
    that does not; the reward is 1 for a kept chain. With ``baseline=True`` the
    baseline b is the batch's mean reward kept/n, otherwise b = 0. Needs
    0 < p_t < 1. Floats only. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    arr = _checks.one_policy(p, "p")
    if ((arr <= 0) | (arr >= 1)).any():
        raise ValueError(f"p must lie strictly inside (0, 1), where the scores are finite; got p = {p!r}")
    baseline = _flag(baseline, "baseline")
    kept, failed, fk, ff = _counts_arrays(arr, counts)
    return _centred_score_sum(arr, kept + failed, kept, fk, ff, baseline) / (arr * (1.0 - arr))


def _flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {name} = {value!r}")
    return bool(value)


def _natural_floats(x, M, n, rng, learning_rate, baseline=True):
    """One natural-gradient step on step-major floats x (T, B): p (1 - p) times the scores, no division."""
    kept, fk, ff = _counts(x, 1.0 - x, M, n, rng)
    return np.clip(x + learning_rate * _centred_score_sum(x, n, kept, fk, ff, baseline), 0.0, 1.0)


def natural_reinforce_step(p, M, n, rng, learning_rate, baseline=True):
    """One natural-gradient REINFORCE step on the tied policy from n sampled chains.

    The REINFORCE estimate of :func:`policy_gradient_estimate` (batch-mean baseline
    unless ``baseline=False``) is preconditioned by the inverse Fisher information
    p_t (1 - p_t) of the family (Chapter "The STaR map and policy improvement"):

        p_t <- p_t + learning_rate * p_t (1 - p_t) * (1/n) sum_i (r_i - b) s_it,

    computed from the counts of :func:`starlib.sampling.follow_counts` (drawn from
    ``rng``) without any division, and clipped into [0, 1]. Its expectation is
    ``expected_reinforce_step(p, M, n, learning_rate, natural=True)``. With
    b = kept/n the step is learning_rate b (1 - b) (phi_kept - phi_failed), phi the
    shares of kept and of failed chains that follow at step t, at most
    learning_rate / 4 in size; a batch can push it out of [0, 1] at any rate (then
    the clip binds), while its expectation stays inside for every policy exactly
    when learning_rate (1 - 1/n) <= 1.

    **STaR is a special case, sample by sample.** With ``baseline=False`` and
    learning rate n / kept (one over the batch's mean reward) the step is exactly
    the refit kept-and-followed / kept of :func:`starlib.sampling.star_step_mc`.
    Returns a float array (T,). Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """

    arr = _checks.one_policy(p, "p")
    M = _checks.num_states(M)
    n = _sample_size(n)
    rng = _checks.generator(rng)
    learning_rate = float(_checks.learning_rate(learning_rate))
    baseline = _flag(baseline, "baseline")
    return _natural_floats(arr[:, None], M, n, rng, learning_rate, baseline)[:, 0]


def natural_reinforce_iterates(p0, M, n, iterations, rng, learning_rate, baseline=True):
    """The trajectory of :func:`natural_reinforce_step`: an array (iterations + 1, T).

    Row 0 is ``p0``; every later row is one step from the row before, all drawing
    from the same ``rng``. Every argument is checked, also for ``iterations=0``.
    Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    arr = _checks.one_policy(p0, "p0")
    M = _checks.num_states(M)
    n = _sample_size(n)
    iterations = _checks.iterations(iterations)
    rng = _checks.generator(rng)
    learning_rate = float(_checks.learning_rate(learning_rate))
    baseline = _flag(baseline, "baseline")
    out = np.empty((iterations + 1, arr.shape[0]))
    out[0] = arr
    x = arr[:, None].copy()
    for k in range(iterations):
        x = _natural_floats(x, M, n, rng, learning_rate, baseline)
        out[k + 1] = x[:, 0]
    return out


# --- every step's expectation by brute force -----------------------------------------------------

EnumeratedSteps = namedtuple("EnumeratedSteps", "reinforce natural_reinforce logit_reinforce star_mc no_kept")
EnumeratedSteps.__doc__ = """Exact expected steps over every batch; returned by :func:`starlib.comparisons.expected_steps_by_enumeration`.

``reinforce``, ``natural_reinforce`` (changes of p_t), ``logit_reinforce`` (change of the logit
theta_t) and ``star_mc`` (change of p_t, no move when no chain is kept): one list entry per step.
``no_kept`` is the probability that no chain of the batch is kept.
"""


def expected_steps_by_enumeration(p, M, n, learning_rate):
    """Every method's expected step, by listing every batch of n chains of the tied policy.

    Each chain of :func:`starlib.chain.enumerate_chains` (identity ground truth, uniform
    question) is reduced to what the updates see, (correct, followed at each step); every
    ordered batch of n of them is weighted by the product of their probabilities, and each
    method's step is computed from the batch's own chains: the scores 1/p_t and
    -1/(1 - p_t) for REINFORCE in p, p_t (1 - p_t) times those for its natural variant,
    f_t - p_t for REINFORCE on the logits, and the refit kept-and-followed / kept for
    STaR. Independent of the closed forms, so it checks them. Cost (2^(T+1))^n:
    small M, T and n only. Accepts Fractions (exact) and SymPy symbols; p must lie
    strictly inside (0, 1). Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    n = _checks.integer(n, "n", 1, "the number of sampled chains")
    learning_rate = _checks.learning_rate(learning_rate)
    kind = _checks.arithmetic_of(p, learning_rate)
    values = list(_checks.one_policy(p, "p", kind=kind))
    if kind == FLOAT:
        raise ValueError(f"p must be exact (Fractions) or symbolic, for an exact expectation; got p = {p!r}")
    if any(not (_checks._is_sympy(x) and not x.is_number) and (x == 0 or x == 1) for x in values):
        raise ValueError(f"p must lie strictly inside (0, 1), where the scores are finite; got p = {p!r}")
    T = len(values)
    one = values[0] ** 0
    law = {}
    for states, w in enumerate_chains(tied_kernels(values, M), [one / M] * M):
        key = (int(states[-1] == states[0]), tuple(int(states[t + 1] == states[t]) for t in range(T)))
        law[key] = law.get(key, 0 * one) + w
    plain, natural, logit, star = ([0 * one] * T for _ in range(4))
    no_kept = 0 * one
    for batch in itertools.product(law, repeat=n):
        weight = math.prod((law[key] for key in batch), start=one)
        kept = sum(correct for correct, _ in batch)
        b = one * kept / n
        no_kept += weight if kept == 0 else 0
        for t, x in enumerate(values):
            score = [1 / x if f[t] else -1 / (1 - x) for _, f in batch]
            total = sum((correct - b) * s for (correct, _), s in zip(batch, score))
            plain[t] += weight * learning_rate * total / n
            natural[t] += weight * learning_rate * x * (1 - x) * total / n
            logit[t] += weight * learning_rate * sum((correct - b) * (f[t] - x) for correct, f in batch) / n
            if kept:
                star[t] += weight * (one * sum(f[t] for correct, f in batch if correct) / kept - x)
    return EnumeratedSteps(plain, natural, logit, star, no_kept)


# --- runs to a target accuracy -------------------------------------------------------------------


TargetRuns = namedtuple("TargetRuns", "iterations final")
TargetRuns.__doc__ = """Seeded runs until a target accuracy; returned by :func:`starlib.comparisons.iterations_to_target`.

``iterations`` (int64 array, one entry per run) is the first iteration at which the
accuracy of the current policy reached the target, -1 where it did not within the
budget; ``final`` (array (runs, T)) is the policy (follow probabilities) where each run stopped.
"""


def _batch_update(method, x, M, n, rng, learning_rate):
    """One iteration of ``method`` for step-major floats x (T, B): p, or logits for logit_reinforce."""
    if method == "star":
        return _step_major(np.asarray(star_step(_from_step_major(x, x.shape[::-1]), M), dtype=float))
    if method == "star_mc":
        kept, followed_kept, _ = _counts(x, 1.0 - x, M, n, rng)
        # No kept chain: a real run resamples; the policy stays (as star_iterates_mc).
        return np.where(kept > 0, followed_kept / np.maximum(kept, 1), x)
    if method == "reinforce":
        return _reinforce_floats(x, M, n, rng, learning_rate, 1.0)
    if method == "natural_reinforce":
        return _natural_floats(x, M, n, rng, learning_rate)
    return _logit_reinforce_floats(x, M, n, rng, learning_rate, 1.0)


def iterations_to_target(method, p0, M, n, target, max_iterations, rng, runs, learning_rate=None):
    """Run ``method`` ``runs`` times from ``p0`` and count the iterations to a target accuracy.

    ``method`` is one of ``"star"`` (the exact map, :func:`starlib.theory.star_step`,
    which ignores n and the generator), ``"star_mc"`` (finite-sample STaR,
    :func:`starlib.sampling.star_step_mc`; an iteration that keeps no chain leaves
    the policy where it is, as :func:`starlib.sampling.star_iterates_mc` does),
    ``"reinforce"`` (:func:`starlib.policy_gradient.reinforce_step`),
    ``"natural_reinforce"`` (:func:`natural_reinforce_step`) or ``"logit_reinforce"``
    (:func:`starlib.policy_gradient.logit_reinforce_step`, started from the logits of
    ``p0``, which must then lie inside (0, 1)); the last three need ``learning_rate``.
    Each iteration samples n chains per run.

    The runs are independent and advance together as one batch, drawing from
    ``rng``, so the result is reproducible from the generator's state. A run stops
    at the first iteration whose policy has (exact) accuracy
    :func:`starlib.theory.accuracy` at least ``target``, or after
    ``max_iterations`` iterations. Returns a :class:`TargetRuns`; samples used are
    n times the iterations. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got method = {method!r}")
    arr = _checks.one_policy(p0, "p0")
    M = _checks.num_states(M)
    n = _sample_size(n)
    target = _checks.target_accuracy(target)
    max_iterations = _checks.iterations(max_iterations, "max_iterations")
    rng = _checks.generator(rng)
    runs = _checks.integer(runs, "runs", 1, "a number of independent runs")
    if method in ("reinforce", "natural_reinforce", "logit_reinforce"):
        if learning_rate is None:
            raise ValueError(f"method {method!r} needs a learning_rate; got learning_rate = None")
        learning_rate = float(_checks.learning_rate(learning_rate))
    elif learning_rate is not None:
        raise ValueError(f"method {method!r} has no learning rate; got learning_rate = {learning_rate!r}")
    iterations, final = _runs_to_target(method, arr, M, n, target, max_iterations, rng,
                                        np.full(runs, np.nan if learning_rate is None else learning_rate))
    return TargetRuns(iterations, final)


def _runs_to_target(method, p0, M, n, target, max_iterations, rng, learning_rates):
    """Validated core of :func:`iterations_to_target`: one run per entry of ``learning_rates``.

    The runs advance as one batch (columns of step-major arrays), each with its own rate,
    so that a sweep over rates costs one loop. Returns (iterations, final (runs, T)).
    """
    logits = method == "logit_reinforce"
    if logits and ((p0 <= 0) | (p0 >= 1)).any():
        raise ValueError(f"p0 must lie strictly inside (0, 1) for logit_reinforce (finite logits); got p0 = {p0!r}")
    start = policy_logits(p0, M) if logits else p0
    runs = len(learning_rates)
    x = np.repeat(np.asarray(start, dtype=float)[:, None], runs, axis=1)
    rates = np.asarray(learning_rates, dtype=float)
    iterations = np.full(runs, -1, dtype=np.int64)
    final = np.empty((p0.shape[0], runs))
    active = np.arange(runs)
    for k in range(max_iterations + 1):
        p = _logit_floats(x, M, 1.0)[0] if logits else x
        final[:, active] = p
        reached = np.asarray(accuracy(p.T, M)) >= target
        iterations[active[reached]] = k
        x, active, rates = x[:, ~reached], active[~reached], rates[~reached]
        if k == max_iterations or active.size == 0:
            break
        x = _batch_update(method, x, M, n, rng, rates)
    return iterations, final.T.copy()


MethodRuns = namedtuple("MethodRuns", "label method learning_rate runs summary collapsed")
MethodRuns.__doc__ = """One method's runs to a target; returned by :func:`starlib.comparisons.compare_methods`.

``runs`` is the :class:`TargetRuns`, ``summary`` its :class:`RunSummary`, and ``collapsed``
the share of runs that failed with some follow probability p_t < 1/n where they
stopped: a batch of n chains then holds on average less than one chain that follows
at step t, so the batches carry (almost) no signal to move that step back.
"""


def compare_methods(p0, M, n, methods, target, max_iterations, rng, runs):
    """Run several methods from ``p0`` with :func:`iterations_to_target` and summarise each.

    ``methods`` is a sequence of ``(label, method, learning_rate)`` triples
    (``learning_rate`` None for the STaR methods); method i draws from the i-th child
    of ``rng.spawn(len(methods))``, and the exact map ``"star"`` is run once (it is
    deterministic). Returns a list of :class:`MethodRuns` in the order given.
    Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    rng = _checks.generator(rng)
    n = _sample_size(n)
    methods = list(methods)
    if not methods or any(not (isinstance(m, tuple) and len(m) == 3 and isinstance(m[0], str)) for m in methods):
        raise ValueError(f"methods must be a non-empty list of (label, method, learning_rate), each label a "
                         f"string; got methods = {methods!r}")
    out = []
    for (label, method, lr), child in zip(methods, rng.spawn(len(methods))):
        run = iterations_to_target(method, p0, M, n, target, max_iterations, child,
                                   1 if method == "star" else runs, learning_rate=lr)
        out.append(_method_runs(label, method, lr, run, n))
    return out


def _method_runs(label, method, learning_rate, run, n):
    collapsed = float(np.mean((run.iterations < 0) & (run.final.min(axis=1) * n < 1)))
    return MethodRuns(label, method, learning_rate, run, run_summary(run.iterations), collapsed)


def comparison_table(results, n):
    """The :func:`compare_methods` results as a table: median, 10% and 90% iterations, failures, samples.

    ``n`` is the number of chains per iteration, so samples = n times the median
    iterations. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    results = list(results)
    if not results or not all(isinstance(r, MethodRuns) for r in results):
        raise ValueError(f"results must be a non-empty list of MethodRuns (from compare_methods); got results = {results!r}")
    n = _sample_size(n)
    rows = [(r.label, r.summary.median, r.summary.low, r.summary.high, f"{r.summary.failed:.1%}",
             r.summary.median * n) for r in results]
    return format_table(rows, ["method", "median", "10%", "90%", "failed", "samples"],
                        ["", "g", "g", "g", "", ".3g"])


def learning_rate_sweep(p0, M, n, methods, rates, target, max_iterations, rng, runs):
    """Runs of each of ``methods`` (REINFORCE variants) at every learning rate, and of STaR.

    For each method, ``runs`` runs per rate advance together as one batch
    (:func:`iterations_to_target`'s engine with a rate per run), drawing from the
    method's child of ``rng.spawn(len(methods) + 1)``; the last child runs
    finite-sample STaR, which has no rate. Returns a dict: ``(method, rate)`` ->
    :class:`MethodRuns` for every method and rate, and ``("star_mc", None)``.
    Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    arr = _checks.one_policy(p0, "p0")
    M = _checks.num_states(M)
    n = _sample_size(n)
    target = _checks.target_accuracy(target)
    max_iterations = _checks.iterations(max_iterations, "max_iterations")
    rng = _checks.generator(rng)
    runs = _checks.integer(runs, "runs", 1, "a number of independent runs per rate")
    methods = list(methods)
    if not methods or any(m not in ("reinforce", "natural_reinforce", "logit_reinforce") for m in methods):
        raise ValueError(f"methods must be REINFORCE variants of {METHODS[2:]}; got methods = {methods!r}")
    rates = _rates(rates)
    children = rng.spawn(len(methods) + 1)
    out = {}
    for method, child in zip(methods, children):
        iterations, final = _runs_to_target(method, arr, M, n, target, max_iterations, child, np.repeat(rates, runs))
        for i, lr in enumerate(rates):
            part = TargetRuns(iterations[i * runs:(i + 1) * runs], final[i * runs:(i + 1) * runs])
            out[method, lr] = _method_runs(f"{method} {lr:g}", method, lr, part, n)
    star = TargetRuns(*_runs_to_target("star_mc", arr, M, n, target, max_iterations, children[-1], np.full(runs, np.nan)))
    out["star_mc", None] = _method_runs("STaR", "star_mc", None, star, n)
    return out


def _rates(rates):
    """Validated distinct learning rates (floats) of a sweep."""
    try:
        values = list(np.atleast_1d(np.asarray(rates, dtype=object)).ravel())
    except (TypeError, ValueError) as err:
        raise ValueError(f"rates must be a sequence of learning rates; got rates = {rates!r}") from err
    if not values:
        raise ValueError(f"rates must hold at least one learning rate; got rates = {rates!r}")
    values = [float(_checks.learning_rate(lr)) for lr in values]
    if len(set(values)) != len(values):
        raise ValueError(f"rates must be distinct (one entry per rate in the result); got rates = {rates!r}")
    return values


def sweep_table(sweep, methods, rates, short_names):
    """The sweep as a table: one row per rate; per method the median iterations and the share failed.

    ``short_names`` gives a column prefix per method (such as ``"p"`` for REINFORCE in p).
    The failed share is followed by ``*`` when some failed run is not a collapse (see
    :class:`MethodRuns`). Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    methods, rates, short_names = list(methods), _rates(rates), list(short_names)
    if not methods:
        raise ValueError(f"methods must name at least one method of the sweep; got methods = {methods!r}")
    if len(short_names) != len(methods) or not all(isinstance(x, str) for x in short_names):
        raise ValueError(f"short_names must give one string per method ({len(methods)}); "
                         f"got short_names = {short_names!r}")
    if not isinstance(sweep, dict):
        raise ValueError(f"sweep must be a learning_rate_sweep result (a dict); got sweep = {sweep!r}")
    missing = [(m, lr) for m in methods for lr in rates if not isinstance(sweep.get((m, lr)), MethodRuns)]
    if missing:
        raise ValueError(f"sweep must be a learning_rate_sweep result holding every (method, rate); missing {missing[:3]!r}")
    headers = ["eta"]
    for name in short_names:
        headers += [f"{name} med", f"{name} fail"]
    rows = []
    for lr in rates:
        row = [lr]
        for m in methods:
            r = sweep[m, lr]
            mark = "" if r.collapsed == r.summary.failed else "*"
            row += [r.summary.median, f"{r.summary.failed:.1%}{mark}"]
        rows.append(row)
    return format_table(rows, headers, [".3g"] + ["g", ""] * len(methods))


RunSummary = namedtuple("RunSummary", "median low high failed")
RunSummary.__doc__ = """Summary of iterations-to-target over runs; returned by :func:`starlib.comparisons.run_summary`.

``median``, ``low`` and ``high`` (the quantiles) count a failed run as never reaching the target
(infinity); ``failed`` is the share of runs that did not reach it.
"""


def run_summary(iterations, low=0.1, high=0.9):
    """Median, quantiles and failure share of iterations-to-target, failures counted as infinite.

    ``iterations`` is the ``iterations`` array of :func:`iterations_to_target` (-1 for a
    run that missed the target). Returns a :class:`RunSummary` of floats. Introduced
    in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    arr = np.asarray(iterations)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or (arr < -1).any():
        raise ValueError(f"iterations must be a non-empty 1-d integer array with entries >= -1; got {iterations!r}")
    for name, q in (("low", low), ("high", high)):
        if isinstance(q, (bool, np.bool_)) or not (isinstance(q, numbers.Real) and 0 <= q <= 1):
            raise ValueError(f"{name} must be a quantile in [0, 1]; got {name} = {q!r}")
    if low > high:
        raise ValueError(f"low must not exceed high; got low = {low!r}, high = {high!r}")
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
