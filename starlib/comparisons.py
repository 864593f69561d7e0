"""STaR against policy gradient, at the same sampling budget.

Finite-sample STaR and REINFORCE (Williams, 1992) both spend n sampled chains
per iteration. They differ in what they do with them: STaR refits p_t to the
fraction of kept chains whose step t follows the ground truth, REINFORCE adds
``learning_rate`` times a score-function estimate of the gradient of the
accuracy. The engines and their expected steps live in :mod:`starlib.sampling`
and :mod:`starlib.policy_gradient`; this module sets them side by side:

- STaR's expected finite-sample step in closed form (:func:`expected_star_mc_step`),
  next to :func:`starlib.policy_gradient.expected_reinforce_step`;
- every method's exact expected step by brute force over every batch
  (:func:`expected_steps_by_enumeration`), an independent check of all the closed forms;
- many seeded runs of any of the methods until a target accuracy
  (:func:`iterations_to_target`, :func:`compare_methods`, :func:`learning_rate_sweep`),
  their summaries (:func:`run_summary`) and their tables (:func:`comparison_table`,
  :func:`sweep_table`).

Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
"""

import itertools
import math
import numbers
from collections import namedtuple

import numpy as np

from . import _checks
from ._checks import FLOAT
from .chain import enumerate_chains, tied_kernels
from .policy_gradient import batch_step, logit_policy, policy_logits
from .sampling import step_major_counts as _counts
from .tables import format_table
from .theory import accuracy, star_step
from .theory import from_step_major as _from_step_major, step_major as _step_major

METHODS = ("star", "star_mc", "reinforce", "natural_reinforce", "logit_reinforce")
REINFORCE_METHODS = METHODS[2:]


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
    return batch_step(method, x, M, n, rng, learning_rate)


def iterations_to_target(method, p0, M, n, target, max_iterations, rng, runs, learning_rate=None):
    """Run ``method`` ``runs`` times from ``p0`` and count the iterations to a target accuracy.

    ``method`` is one of ``"star"`` (the exact map, :func:`starlib.theory.star_step`,
    which ignores n and the generator), ``"star_mc"`` (finite-sample STaR,
    :func:`starlib.sampling.star_step_mc`; an iteration that keeps no chain leaves
    the policy where it is, as :func:`starlib.sampling.star_iterates_mc` does),
    ``"reinforce"`` (:func:`starlib.policy_gradient.reinforce_step`),
    ``"natural_reinforce"`` (:func:`starlib.policy_gradient.natural_reinforce_step`) or ``"logit_reinforce"``
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
    arr, M, n, target, max_iterations, rng, runs = _run_arguments(p0, M, n, target, max_iterations, rng, runs)
    learning_rate = _method_rate(method, learning_rate)
    iterations, final = _runs_to_target(method, arr, M, n, target, max_iterations, rng,
                                        np.full(runs, np.nan if learning_rate is None else learning_rate))
    return TargetRuns(iterations, final)


def _run_arguments(p0, M, n, target, max_iterations, rng, runs):
    """The checked arguments every batch of runs to a target takes, in this order."""
    return (_checks.one_policy(p0, "p0"), _checks.num_states(M), _checks.sampled_size(n),
            _checks.target_accuracy(target), _checks.iterations(max_iterations, "max_iterations"),
            _checks.generator(rng), _checks.int64_count(runs, "runs", 1, "a number of independent runs"))


def _method_rate(method, learning_rate):
    """The checked learning rate of ``method``: a float for a REINFORCE variant, None for STaR."""
    if method in REINFORCE_METHODS:
        if learning_rate is None:
            raise ValueError(f"method {method!r} needs a learning_rate; got learning_rate = None")
        return float(_checks.learning_rate(learning_rate))
    if learning_rate is not None:
        raise ValueError(f"method {method!r} has no learning rate; got learning_rate = {learning_rate!r}")
    return None


def _sequence(value, name):
    """``value`` as a list; text, None and anything not iterable are a ValueError naming ``name``."""
    if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{name} must be a sequence; got {name} = {value!r}")
    return list(value)


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
        p = logit_policy(x, M) if logits else x
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
    n = _checks.sampled_size(n)
    runs = _checks.int64_count(runs, "runs", 1, "a number of independent runs")
    methods = _method_triples(methods)
    out = []
    for (label, method, lr), child in zip(methods, rng.spawn(len(methods))):
        run = iterations_to_target(method, p0, M, n, target, max_iterations, child,
                                   1 if method == "star" else runs, learning_rate=lr)
        out.append(_method_runs(label, method, lr, run, n))
    return out


def _method_triples(methods):
    """The (label, method, learning_rate) triples of :func:`compare_methods`, each checked."""
    methods = _sequence(methods, "methods")
    if not methods:
        raise ValueError("methods must list at least one (label, method, learning_rate); got methods = []")
    for i, entry in enumerate(methods):
        if not (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], str)):
            raise ValueError(f"methods[{i}] must be a (label, method, learning_rate) triple with a string label; "
                             f"got methods[{i}] = {entry!r}")
        if entry[1] not in METHODS:
            raise ValueError(f"methods[{i}] must name a method of {METHODS}; got methods[{i}] = {entry!r}")
        try:
            _method_rate(entry[1], entry[2])
        except ValueError as err:
            raise ValueError(f"methods[{i}] = {entry!r}: {err}") from err
    return methods


def _method_runs(label, method, learning_rate, run, n):
    collapsed = float(np.mean((run.iterations < 0) & (run.final.min(axis=1) * n < 1)))
    return MethodRuns(label, method, learning_rate, run, run_summary(run.iterations), collapsed)


def comparison_table(results, n):
    """The :func:`compare_methods` results as a table: median, 10% and 90% iterations, failures, samples.

    ``n`` is the number of chains per iteration, so samples = n times the median
    iterations. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    results = _sequence(results, "results")
    if not results or not all(isinstance(r, MethodRuns) for r in results):
        raise ValueError("results must be a non-empty list of MethodRuns (from compare_methods); "
                         f"got results = {results!r}")
    n = _checks.sampled_size(n)
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
    arr, M, n, target, max_iterations, rng, runs = _run_arguments(p0, M, n, target, max_iterations, rng, runs)
    methods = _sequence(methods, "methods")
    if not methods or any(not isinstance(m, str) or m not in REINFORCE_METHODS for m in methods):
        raise ValueError(f"methods must be REINFORCE variants of {REINFORCE_METHODS}; got methods = {methods!r}")
    rates = _rates(rates)
    children = rng.spawn(len(methods) + 1)
    out = {}
    for method, child in zip(methods, children):
        iterations, final = _runs_to_target(method, arr, M, n, target, max_iterations, child, np.repeat(rates, runs))
        for i, lr in enumerate(rates):
            part = TargetRuns(iterations[i * runs:(i + 1) * runs], final[i * runs:(i + 1) * runs])
            out[method, lr] = _method_runs(f"{method} {lr:g}", method, lr, part, n)
    star = TargetRuns(*_runs_to_target("star_mc", arr, M, n, target, max_iterations, children[-1],
                                       np.full(runs, np.nan)))
    out["star_mc", None] = _method_runs("STaR", "star_mc", None, star, n)
    return out


def _rates(rates):
    """Checked distinct learning rates (floats) of a sweep."""
    if rates is None or isinstance(rates, (str, bytes)):
        raise ValueError(f"rates must be a sequence of learning rates; got rates = {rates!r}")
    try:
        values = list(np.atleast_1d(np.asarray(rates, dtype=object)).ravel())
    except (TypeError, ValueError) as err:
        raise ValueError(f"rates must be a sequence of learning rates; got rates = {rates!r}") from err
    if not values:
        raise ValueError(f"rates must hold at least one learning rate; got rates = {rates!r}")
    checked = []
    for i, lr in enumerate(values):
        try:
            checked.append(float(_checks.learning_rate(lr)))
        except (TypeError, ValueError) as err:
            raise ValueError(f"rates[{i}] = {lr!r} is not a learning_rate (a finite number > 0)") from err
    if len(set(checked)) != len(checked):
        raise ValueError(f"rates must be distinct (one entry per rate in the result); got rates = {rates!r}")
    return checked


def sweep_table(sweep, methods, rates, short_names):
    """The sweep as a table: one row per rate; per method the median iterations and the share failed.

    ``short_names`` gives a column prefix per method (such as ``"p"`` for REINFORCE in p),
    as a list in the order of ``methods`` or a dict keyed by method. The failed share is
    followed by ``*`` when some failed run is not a collapse (see
    :class:`MethodRuns`). Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    methods = _sequence(methods, "methods")
    if not methods or not all(isinstance(m, str) for m in methods):
        raise ValueError(f"methods must name at least one method of the sweep; got methods = {methods!r}")
    rates = _rates(rates)
    if isinstance(short_names, dict):
        unnamed = [m for m in methods if m not in short_names]
        if unnamed:
            raise ValueError(f"short_names must name every method; {unnamed!r} of methods = {methods!r} "
                             f"have no entry in short_names = {short_names!r}")
        short_names = [short_names[m] for m in methods]
    short_names = _sequence(short_names, "short_names")
    if len(short_names) != len(methods) or not all(isinstance(x, str) for x in short_names):
        raise ValueError(f"short_names must give one string per method ({len(methods)}); "
                         f"got short_names = {short_names!r}")
    if not (isinstance(sweep, dict) and sweep and all(
            isinstance(key, tuple) and len(key) == 2 and isinstance(r, MethodRuns) for key, r in sweep.items())):
        raise ValueError(f"sweep must be a learning_rate_sweep result (a dict); got sweep = {sweep!r:.80}")
    swept = {method for method, _ in sweep}
    if any(m not in swept for m in methods):
        raise ValueError(f"methods must name methods of the sweep, {sorted(map(str, swept))}; "
                         f"got methods = {methods!r}")
    missing = [lr for lr in rates if any((m, lr) not in sweep for m in methods)]
    if missing:
        raise ValueError(f"rates must be rates of the sweep for every method; {missing!r} of rates = {rates!r} are not")
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
