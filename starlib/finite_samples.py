"""Finite-sample STaR: the noise of one sampled iteration, and measurements over many runs.

The exact map (:mod:`starlib.theory`) assumes infinitely many sampled chains; the
finite-sample engine (:mod:`starlib.sampling`) simulates one run, or a batch of
independent runs, with n chains per iteration. This module holds both sides of
:doc:`/chapters/07_finite_samples`:

- the formulas for one sampled iteration of n chains: :func:`mean_inverse_kept`,
  the variance :func:`star_step_mc_variance` of the refit, the chance
  :func:`wrong_way_probability` that it steps the wrong way, the chance
  :func:`collapse_probability` that no kept chain follows a step, and the samples
  per iteration :func:`escape_samples` (and :func:`one_step_escape_samples`) that
  leave the plateau;
- the measurements that check them on batches of runs: the spread of one sampled
  update, accuracy trajectories over seeds, the fraction of runs that leave the
  plateau within an iteration budget, and the smallest sample size on a grid for
  which most runs do.

Every sampling function takes its random generator ``rng`` explicitly; the same
generator state gives the same answer. Floats, except
:func:`exact_estimate_moments`, the exact law of one refit by enumeration in
Fractions, which the chapter's Monte Carlo checks rest on. Introduced in
:doc:`/chapters/07_finite_samples`.
"""

import numbers
from collections import namedtuple
from fractions import Fraction
from math import comb, erfc, expm1, log1p, sqrt

import numpy as np

from . import _checks
from ._checks import EXACT, FLOAT
from .chain import answers, enumerate_chains, no_kept_chains, prob_from_margin, tempered, tied_kernels
from .sampling import follow_counts, star_iterates_mc
from .theory import accuracy, iterations_to_accuracy, star_iterates, star_step

StepEstimates = namedtuple("StepEstimates", "estimates kept")
StepEstimates.__doc__ = """Independent finite-sample STaR updates; returned by :func:`starlib.finite_samples.step_estimates`.

``estimates`` (runs, T): followed_kept / kept of each run, NaN in the rows of runs that kept
no chain; ``kept`` (runs,): the number of kept chains of each run.
"""

EscapeMeasurement = namedtuple("EscapeMeasurement", "samples grid success")
EscapeMeasurement.__doc__ = """The outcome of :func:`starlib.finite_samples.samples_to_escape`.

``samples``: the smallest n of the grid for which enough runs reach the target (-1 if none does);
``grid``: the sample sizes tried, in increasing order, up to and including ``samples``;
``success``: the fraction of runs that reached the target, for each n tried.
"""


def _one_policy(p, M, name="p"):
    return _checks.one_policy(p, name), _checks.num_states(M)


def step_estimates(p, M, n, runs, rng, temperature=1.0):
    """``runs`` independent finite-sample STaR updates of the policy ``p``, n chains each.

    Draws the counts of every run at once with :func:`starlib.sampling.follow_counts`
    and returns a :class:`StepEstimates`: the refit follow rates followed_kept / kept
    (NaN for a run that kept no chain, whose update is undefined) and the number
    of kept chains. ``p`` is one policy, shape (T,). Introduced in :doc:`/chapters/07_finite_samples`.
    """
    arr, M = _one_policy(p, M)
    runs = _checks.int64_count(runs, "runs", 1, "a number of independent runs")
    counts = follow_counts(np.broadcast_to(arr, (runs, arr.size)), M, n, rng, temperature=temperature)
    kept = np.asarray(counts.kept)
    estimates = np.full((runs, arr.size), np.nan)
    np.divide(counts.followed_kept, kept[:, None], out=estimates, where=kept[:, None] > 0)
    return StepEstimates(estimates, kept)


def accuracy_runs(p0, M, n, iterations, runs, rng, temperature=1.0):
    """Accuracy of ``runs`` independent finite-sample STaR runs, shape (iterations + 1, runs).

    Every run starts at the policy ``p0`` (shape (T,)) and follows
    :func:`starlib.sampling.star_iterates_mc` with n chains per iteration; entry
    [k, r] is the accuracy :func:`starlib.theory.accuracy` of run r's policy after
    k iterations. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    arr, M = _one_policy(p0, M, "p0")
    runs = _checks.int64_count(runs, "runs", 1, "a number of independent runs")
    start = np.broadcast_to(arr, (runs, arr.size))
    trajectory = star_iterates_mc(start, M, n, iterations, rng, temperature=temperature)
    return accuracy(trajectory, M)


def escape_fraction(p0, M, n, iterations, target, runs, rng, temperature=1.0):
    """The fraction of runs whose accuracy reaches ``target`` within ``iterations`` iterations.

    Runs as :func:`accuracy_runs`; a run counts once its accuracy is at least
    ``target`` at some iteration 0..iterations. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    target_arr, _ = _checks.probabilities(target, "target", kind=FLOAT, min_ndim=0)
    if target_arr.ndim != 0:
        raise ValueError(f"target must be one accuracy in [0, 1]; got target = {target!r}")
    curves = accuracy_runs(p0, M, n, iterations, runs, rng, temperature=temperature)
    return float(np.mean(curves.max(axis=0) >= float(target_arr)))


def samples_to_escape(p0, M, target, iterations, grid, runs, rng, fraction=0.9, temperature=1.0):
    """The smallest sample size on ``grid`` for which most runs leave the plateau.

    Tries the sample sizes of ``grid`` (positive integers, increasing) in order;
    for each, ``runs`` independent runs of finite-sample STaR from ``p0`` with that
    many chains per iteration, and the fraction of them whose accuracy reaches
    ``target`` within ``iterations`` iterations (:func:`escape_fraction`). Stops at
    the first sample size whose fraction is at least ``fraction``. Returns an
    :class:`EscapeMeasurement`; its ``samples`` is -1 if no size on the grid is
    enough. The first size that passes is reported even if a larger one would
    fail by chance: read it with the resolution of the grid and the binomial
    error of ``runs`` runs in mind. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    sizes = np.asarray(grid)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError(f"grid must be a non-empty 1-d array of integer sample sizes; got grid = {grid!r}")
    if (sizes < 1).any() or (np.diff(sizes) <= 0).any() or (sizes > _checks.MAX_SAMPLES).any():
        raise ValueError(f"grid must hold increasing sample sizes in [1, {_checks.MAX_SAMPLES}]; got grid = {grid!r}")
    if not (isinstance(fraction, numbers.Real) and 0 < fraction <= 1):
        raise ValueError(f"fraction must be a number in (0, 1]; got fraction = {fraction!r}")
    tried, success = [], []
    for n in sizes.tolist():
        share = escape_fraction(p0, M, n, iterations, target, runs, rng, temperature=temperature)
        tried.append(n)
        success.append(share)
        if share >= fraction:
            return EscapeMeasurement(n, np.array(tried), np.array(success))
    return EscapeMeasurement(-1, np.array(tried), np.array(success))


# --- The noise of one sampled STaR iteration: its variance, its direction, and the plateau -------


def mean_inverse_kept(n, A):
    """E[1/K | K >= 1] for K ~ Binomial(n, A), the number of kept chains.

    The variance of a finite-sample STaR estimate is p_t'(1 - p_t') times this
    moment (see :func:`star_step_mc_variance`). It is computed by summing the
    probability mass function (log-factorials by cumulative sums), and is close
    to 1/(n A) (1 + (1 - A)/(n A)) once n A is large. Elementwise in ``A``
    (floats in (0, 1]); ``n`` a positive integer. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    n = _checks.sampled_size(n)
    arr, _ = _checks.probabilities(A, "A", kind=FLOAT, min_ndim=0)
    if (arr <= 0).any():
        i = int(np.argmax((arr <= 0).ravel()))
        raise no_kept_chains(f" (A{_checks._index(arr.shape, i)} = 0)")
    k = np.arange(1, n + 1, dtype=float)
    log_factorial = np.concatenate(([0.0], np.cumsum(np.log(k))))
    log_binom = log_factorial[n] - log_factorial[1:] - log_factorial[n - 1 :: -1]
    out = np.empty(arr.shape)
    for i, a in enumerate(arr.ravel()):
        if a == 1.0:
            out.flat[i] = 1.0 / n
            continue
        log_pmf = log_binom + k * np.log(a) + (n - k) * np.log1p(-a)
        weights = np.exp(log_pmf - log_pmf.max())
        out.flat[i] = np.dot(weights, 1.0 / k) / weights.sum()
    return _checks.as_result(out, FLOAT)


def _sampled_update(p, M, temperature):
    """Checked p (..., T) and M, with the accuracy A and exact update p' of p sampled at ``temperature``."""
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(p, "p", kind=FLOAT)
    sampled = np.asarray(tempered(arr, M, _checks.temperature(temperature, FLOAT)))
    A = np.asarray(accuracy(sampled, M))
    if (A == 0).any():
        where = _checks._index(arr.shape[:-1], int(np.argmax(np.ravel(A == 0))))
        raise no_kept_chains(f" for p{where}" if where else "")
    return arr, M, A, np.asarray(star_step(sampled, M))


def star_step_mc_variance(p, M, n, temperature=1.0, exact=True):
    """The variance of the finite-sample STaR estimate of p_t' from ``n`` chains
    (:prf:ref:`prop-finite-sample-variance`).

    One sampled iteration keeps K ~ Binomial(n, A) chains (A the accuracy of the
    sampled policy) and, given K, the number of kept chains that follow step t is
    Binomial(K, p_t'). So the estimate F_t / K is unbiased given K >= 1 and its
    variance is p_t'(1 - p_t') E[1/K | K >= 1]; with ``exact=False`` the moment is
    replaced by its leading term 1/(n A), giving p_t'(1 - p_t')/(n A). The last axis
    of ``p`` is the steps; leading axes are a batch; ``temperature`` is the
    sampling temperature, as in :func:`starlib.theory.star_step`. Floats only.
    Raises :class:`~starlib.chain.NoKeptChainsError` where the accuracy is 0.
    Introduced in :doc:`/chapters/07_finite_samples`.
    """
    exact = _checks.flag(exact, "exact")
    n = _checks.sampled_size(n)
    _, _, A, new = _sampled_update(p, M, temperature)
    moment = mean_inverse_kept(n, A) if exact else 1.0 / (n * A)
    return new * (1.0 - new) * np.asarray(moment)[..., None]


def wrong_way_probability(p, M, n, temperature=1.0):
    """The normal approximation to Pr(estimate of p_t' < p_t) for one sampled iteration.

    The finite-sample estimate of p_t' has mean p_t' and the standard deviation of
    :func:`star_step_mc_variance` (exact moment); approximating its law by a
    normal one gives Pr(step t moves down) = Phi((p_t - p_t') / sd). With every
    margin positive the exact drift p_t' - p_t is positive, so this is the chance
    that a sampled iteration steps the wrong way. No continuity correction: the
    approximation is for n A large. Floats only; last axis the steps. Introduced
    in :doc:`/chapters/07_finite_samples`.
    """
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(p, "p", kind=FLOAT)
    new = star_step(arr, M, temperature=temperature)
    sd = np.sqrt(star_step_mc_variance(arr, M, n, temperature=temperature))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, (arr - new) / np.where(sd > 0, sd, 1.0), -np.inf)
    return _checks.as_result(0.5 * np.vectorize(erfc, otypes=[float])(-z / sqrt(2.0)), FLOAT)


def escape_samples(delta0, M, T, near_chance=False):
    """Predicted samples per iteration for finite-sample STaR to leave the plateau.

    Every step starts at margin ``delta0 > 0``. The equal-margin iteration has
    drift mu(x) = x' - x per iteration (:func:`starlib.theory.star_step` in margin
    units) and, with n chains per iteration, noise variance v(x)/n, where
    v(x) = (M/(M - 1))^2 p'(1 - p')/A is n times the variance of the estimated
    margin (the leading term of :func:`star_step_mc_variance`). Treating the
    iteration as a diffusion, noise dominates drift below the margin where
    n * 2 * int_0^x mu/v = 1, so the prediction is

        n* = 1 / (2 int_0^delta0 mu(x)/v(x) dx),

    integrated by 64-point Gauss-Legendre quadrature. Near chance mu ~ x^(T-1) and
    v ~ M/(M - 1), which gives the ``near_chance=True`` form
    n* = (T/2) (M/(M - 1)) delta0^(-T). A leading-order prediction, not a bound;
    the chapter measures how well it holds. Elementwise in ``delta0``; floats.
    Introduced in :doc:`/chapters/07_finite_samples`.
    """
    M = _checks.num_states(M)
    T = _checks.integer(T, "T", 1, "the number of steps")
    near_chance = _checks.flag(near_chance, "near_chance")
    d0, _ = _checks.probabilities(delta0, "delta0", kind=FLOAT, min_ndim=0)
    if (d0 <= 0).any():
        i = int(np.argmax((d0 <= 0).ravel()))
        raise ValueError(f"delta0{_checks._index(d0.shape, i)} = {d0.ravel()[i]!r} must be a margin in (0, 1]")
    if near_chance:
        return _checks.as_result((T / 2) * (M / (M - 1)) * d0 ** (-float(T)), FLOAT)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    x = (nodes[:, None] + 1.0) / 2.0 * d0.ravel()[None, :]  # (64, B) points in (0, delta0)
    p = np.asarray(prob_from_margin(x, M))
    new = np.asarray(star_step(np.repeat(p[..., None], T, axis=-1), M))[..., 0]
    # mu = (M/(M - 1)) p (1 - p) x^(T-1) / A by the improvement identity (no cancellation
    # for tiny x), and v = (M/(M - 1))^2 p' (1 - p') / A, so A cancels in mu / v.
    ratio = ((M - 1) / M) * p * (1.0 - p) * x ** (T - 1) / (new * (1.0 - new))
    integral = (weights[:, None] * ratio).sum(axis=0) * d0.ravel() / 2.0
    return _checks.as_result((1.0 / (2.0 * integral)).reshape(d0.shape), FLOAT)


def collapse_probability(p, M, n, temperature=1.0):
    """Pr(no kept chain follows step t) in one sampled iteration of ``n`` chains: (1 - A p_t')^n.

    A chain is kept and follows step t with probability A p_t' (A the accuracy of
    the sampled policy, p_t' the exact update), independently for the n chains, so
    the refit sets p_t to exactly 0 (or leaves it, when nothing is kept) with this
    probability. In the tied family with a maximum-likelihood refit a step at 0
    stays at 0: no sampled chain follows it again. The last axis of ``p`` is the
    steps; floats only. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    n = _checks.sample_size(n)
    _, _, A, new = _sampled_update(p, M, temperature)
    joint = new * A[..., None]
    return np.exp(n * np.log1p(-np.minimum(joint, 1.0)))


# --- Checks and measurements behind :doc:`/chapters/07_finite_samples` (and "Convergence") --------------

MomentCheck = namedtuple("MomentCheck", "z_mean z_variance certain kept_runs leading_gap")
MomentCheck.__doc__ = """Sampled updates against their predicted law; returned by :func:`starlib.finite_samples.step_moment_z_scores`.

``z_mean``, ``z_variance`` (T,): abs(sample mean - p_t') and abs(sample variance - predicted variance),
each in units of its standard error; 0 for a step whose update is certain (p_t' = 1 and every
estimate exactly 1), inf if such a step ever comes back below 1. ``certain`` (T,): which steps
are certain, so ``2 * (~certain).sum()`` z-tests are made. ``kept_runs``: how many runs kept
a chain (the proposition conditions on K >= 1). ``leading_gap`` (T,): abs(p'(1 - p')/(n A) / exact
variance - 1), how far the leading-order variance is off (0 for a certain step).
"""

WrongWay = namedtuple("WrongWay", "measured normal accuracy_falls mean_kept kept_runs standard_error")
WrongWay.__doc__ = """How often one sampled iteration moves down; returned by :func:`starlib.finite_samples.wrong_way_rates`.

``measured`` (T,): the fraction of runs (among those that kept a chain) whose estimate of step t
is below p_t; ``normal`` (T,): the normal approximation :func:`wrong_way_probability`;
``accuracy_falls``: the fraction of those runs whose refit accuracy is below the current one;
``mean_kept``: n A, the expected number of kept chains; ``kept_runs``: how many of the runs kept a
chain (the sample the fractions are taken over); ``standard_error`` (T,): the binomial standard error
sqrt(m (1 - m) / kept_runs) of each ``measured`` fraction m.
"""

ExactOptimum = namedtuple("ExactOptimum", "first smallest_error")
ExactOptimum.__doc__ = """When sampled runs reach p = (1, ..., 1) exactly; returned by :func:`starlib.finite_samples.iterations_to_exact_optimum`.

``first`` (runs,): the first iteration at which every step of the run is exactly 1 (-1 if none
within the iterations run); ``smallest_error`` (runs,): the smallest non-zero error 1 - p_t of any
step at iterations 1, 2, ... of the run (inf if there is none).
"""

MatchingRun = namedtuple("MatchingRun", "seed run")
MatchingRun.__doc__ = """The first seeded run with a property; returned by :func:`starlib.finite_samples.first_matching_run`."""

FalseAlarm = namedtuple("FalseAlarm", "per_test union_bound independent")
FalseAlarm.__doc__ = """The chance that correct formulas fail some of many z-tests; returned by :func:`starlib.finite_samples.false_alarm_probability`.

``per_test``: Pr(abs(Z) >= threshold) for a standard normal Z; ``union_bound``: min(1, tests * per_test),
valid whatever the dependence between the tests; ``independent``: 1 - (1 - per_test)^tests, the
exact binomial chance of at least one failure were the tests independent.
"""

AccuracyBands = namedtuple("AccuracyBands", "sizes curves exact")
AccuracyBands.__doc__ = """Finite-sample accuracy runs for several sample sizes; returned by :func:`starlib.finite_samples.accuracy_bands`.

``sizes``: the sample sizes; ``curves`` (len(sizes), iterations + 1, runs): the accuracy of every
run (:func:`accuracy_runs`); ``exact`` (iterations + 1,): the accuracy of the exact map.
"""

EscapeRow = namedtuple("EscapeRow", "T delta0 exact_iterations budget grid_start measured predicted near_chance one_step")
EscapeRow.__doc__ = """One measurement of the samples needed to leave the plateau; returned by :func:`starlib.finite_samples.measure_escape`.

``exact_iterations``: iterations the exact map needs to reach the target; ``budget``: twice that;
``measured``: the smallest n on the grid for which the required fraction of runs reach the target
within the budget (:func:`samples_to_escape`), -1 if none; ``grid_start``: the smallest n tried;
``predicted``, ``near_chance``: the integral and
near-chance forms of :func:`escape_samples`; ``one_step``: :func:`one_step_escape_samples`.
"""


def step_moment_z_scores(p, M, n, runs, rng):
    """Check the law of one finite-sample STaR update on ``runs`` sampled iterations.

    Draws ``runs`` independent updates of the policy ``p`` (shape (T,)) with n
    chains each (:func:`step_estimates`), keeps the runs that kept a chain, and
    compares their sample mean with p_t' (:func:`starlib.theory.star_step`) and
    their sample variance with :func:`star_step_mc_variance`. The
    standard error of the variance is estimated from the sample's fourth central
    moment. Returns a :class:`MomentCheck`. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    arr, M = _one_policy(p, M)
    draws = step_estimates(arr, M, n, runs, rng)
    est = draws.estimates[draws.kept > 0]
    kept_runs = len(est)
    if kept_runs < 2:
        raise ValueError(f"runs = {runs!r}: only {kept_runs} of the runs kept a chain; at least 2 are needed")
    target_mean = star_step(arr, M)
    target_var = star_step_mc_variance(arr, M, n)
    certain = target_mean > 1 - 1e-12  # T = 1: every kept chain followed, the estimate is exactly 1
    centred = est - est.mean(axis=0)
    sample_var = (centred**2).sum(axis=0) / (kept_runs - 1)
    live = ~certain
    z_mean, z_var, gap = np.zeros(arr.size), np.zeros(arr.size), np.zeros(arr.size)
    se_mean = np.sqrt(target_var[live] / kept_runs)
    se_var = np.sqrt(np.maximum(np.mean(centred[:, live] ** 4, axis=0) - sample_var[live] ** 2, 1e-300) / kept_runs)
    z_mean[live] = np.abs(est.mean(axis=0)[live] - target_mean[live]) / se_mean
    z_var[live] = np.abs(sample_var[live] - target_var[live]) / se_var
    z_mean[certain & ~np.all(est == 1.0, axis=0)] = np.inf
    leading = star_step_mc_variance(arr, M, n, exact=False)
    gap[live] = np.abs(leading[live] / target_var[live] - 1)
    return MomentCheck(z_mean, z_var, certain, kept_runs, gap)


def wrong_way_rates(p, M, n, runs, rng):
    """How often one sampled iteration of n chains lowers a step, or the accuracy.

    Draws ``runs`` independent updates of the policy ``p`` (shape (T,)) with
    :func:`step_estimates`; among the runs that kept a chain, measures the
    fraction whose estimate of each step is below its current value and the
    fraction whose refit accuracy is below the current accuracy. Returns a
    :class:`WrongWay` with the normal approximation beside the measurement.
    Introduced in :doc:`/chapters/07_finite_samples`.
    """
    arr, M = _one_policy(p, M)
    draws = step_estimates(arr, M, n, runs, rng)
    est = draws.estimates[draws.kept > 0]
    if len(est) == 0:
        raise ValueError(f"runs = {runs!r}: no run kept a chain; use more runs or more chains")
    A0 = float(accuracy(arr, M))
    measured = np.mean(est < arr, axis=0)
    falls = float(np.mean(accuracy(est, M) < A0))
    se = np.sqrt(measured * (1 - measured) / len(est))
    return WrongWay(measured, wrong_way_probability(arr, M, n), falls, n * A0, len(est), se)


def iterations_to_exact_optimum(p0, M, n, iterations, runs, rng):
    """When finite-sample STaR runs reach p = (1, ..., 1) exactly, and the smallest error they show.

    Runs ``runs`` independent finite-sample STaR runs from ``p0`` (shape (T,))
    with n chains per iteration (:func:`starlib.sampling.star_iterates_mc`).
    A refit error (K - F_t)/K is a multiple of 1/K, so it is 0 or at least
    1/K >= 1/n; once it is 0 the step stays at 1, since every chain then follows
    it. Returns an :class:`ExactOptimum`. Introduced in :doc:`/chapters/07_finite_samples` and used in :doc:`/chapters/05_convergence`.
    """
    arr, M = _one_policy(p0, M, "p0")
    runs = _checks.int64_count(runs, "runs", 1, "a number of independent runs")
    trajectory = star_iterates_mc(np.broadcast_to(arr, (runs, arr.size)), M, n, iterations, rng)
    at_one = np.all(trajectory == 1.0, axis=2)
    first = np.where(at_one.any(axis=0), np.argmax(at_one, axis=0), -1)
    errors = 1.0 - trajectory[1:]
    smallest = np.where(errors > 0, errors, np.inf).min(axis=(0, 2)) if len(errors) else np.full(runs, np.inf)
    return ExactOptimum(first, smallest)


def first_matching_run(p0, M, n, iterations, condition, seeds=200):
    """The first seed in 0, 1, ..., seeds - 1 whose finite-sample run satisfies ``condition``.

    For each seed, runs :func:`starlib.sampling.star_iterates_mc` from ``p0``
    with ``numpy.random.default_rng(seed)`` and calls ``condition(run)`` on the
    trajectory (shape (iterations + 1, T)). Returns a :class:`MatchingRun`;
    raises ``ValueError`` if no seed matches. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    arr, M = _one_policy(p0, M, "p0")
    if not callable(condition):
        raise ValueError(f"condition must be a function of a trajectory; got condition = {condition!r}")
    seeds = _checks.integer(seeds, "seeds", 1, "how many seeds to try")
    for seed in range(seeds):
        run = star_iterates_mc(arr, M, n, iterations, np.random.default_rng(seed))
        if condition(run):
            return MatchingRun(seed, run)
    raise ValueError(f"no seed in 0..{seeds - 1} gives a run that satisfies the condition (seeds = {seeds})")


def false_alarm_probability(tests, threshold):
    """The chance that at least one of ``tests`` z-tests at ``threshold`` fails by chance.

    Each test rejects a correct formula when abs(Z) >= ``threshold`` for an
    (approximately) standard normal Z, which has probability erfc(threshold/sqrt 2).
    Returns a :class:`FalseAlarm` with the union bound and the independent-tests
    (binomial) value. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    tests = _checks.integer(tests, "tests", 1, "a number of tests")
    ok = isinstance(threshold, numbers.Real) and not isinstance(threshold, bool) and np.isfinite(float(threshold))
    if not ok or threshold <= 0:
        raise ValueError(f"threshold must be a finite number > 0; got threshold = {threshold!r}")
    per_test = erfc(float(threshold) / sqrt(2.0))
    return FalseAlarm(per_test, min(1.0, tests * per_test), -expm1(tests * log1p(-per_test)))


def accuracy_bands(p0, M, sizes, iterations, runs, seed):
    """Accuracy runs of finite-sample STaR for each sample size in ``sizes``, and the exact curve.

    For each n in ``sizes``, :func:`accuracy_runs` with
    ``numpy.random.default_rng(seed + n)``; beside them the exact map's accuracy
    (:func:`starlib.theory.star_iterates`). Returns an :class:`AccuracyBands`.
    Introduced in :doc:`/chapters/07_finite_samples`.
    """
    arr, M = _one_policy(p0, M, "p0")
    if not isinstance(sizes, (list, tuple, np.ndarray)):
        raise ValueError(f"sizes must be a list of sample sizes; got sizes = {sizes!r}")
    sizes = [_checks.sampled_size(s, "sizes") for s in sizes]
    if not sizes:
        raise ValueError("sizes must name at least one sample size; got []")
    seed = _checks.integer(seed, "seed", 0, "a random seed")
    curves = np.stack([accuracy_runs(arr, M, s, iterations, runs, np.random.default_rng(seed + s)) for s in sizes])
    return AccuracyBands(tuple(sizes), curves, accuracy(star_iterates(arr, M, iterations), M))


def one_step_escape_samples(delta0, M, T):
    """The one-step criterion "drift above noise in one iteration": n = (M/(M - 1)) delta0^(-2(T - 1)).

    Near chance the equal-margin drift is delta^(T - 1) and one iteration's noise
    in the margin has variance about (M/(M - 1))/n; :doc:`/chapters/07_finite_samples`
    shows this criterion is too pessimistic (compare :func:`escape_samples`).
    Elementwise in ``delta0`` (margins in (0, 1]); floats.
    """
    M = _checks.num_states(M)
    T = _checks.integer(T, "T", 1, "the number of steps")
    d0, _ = _checks.probabilities(delta0, "delta0", kind=FLOAT, min_ndim=0)
    if (d0 <= 0).any():
        raise ValueError(f"delta0 must hold margins in (0, 1]; got delta0 = {delta0!r}")
    out = (M / (M - 1)) * d0 ** (-2.0 * (T - 1))
    return float(out) if out.ndim == 0 else out


def measure_escape(delta0, M, T, target, runs, rng, fraction=0.9):
    """Measure the chains per iteration that let ``fraction`` of the runs leave the plateau.

    Every step starts at margin ``delta0``; the budget is twice the iterations the
    exact map needs to reach accuracy ``target``. The grid has ratio 2^(1/4) and
    starts at an eighth of the prediction :func:`escape_samples`
    (24 points); :func:`samples_to_escape` with ``runs`` runs per point. Returns
    an :class:`EscapeRow`. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    M = _checks.num_states(M)
    T = _checks.integer(T, "T", 1, "the number of steps")
    escape_samples(delta0, M, T)  # validates delta0 before any run
    p0 = np.full(T, prob_from_margin(float(delta0), M))
    exact_its = iterations_to_accuracy(p0, M, target, 10**6)
    if exact_its < 0:
        raise ValueError(f"the exact map does not reach target = {target!r} from delta0 = {delta0!r}")
    budget = max(2 * exact_its, 1)
    predicted = float(escape_samples(delta0, M, T))
    start = int(np.floor(4 * np.log2(predicted / 8)))
    grid = np.unique(np.round(2.0 ** (np.arange(start, start + 24) / 4)).astype(np.int64))
    grid = grid[grid >= 1]
    found = samples_to_escape(p0, M, target, budget, grid, runs, rng, fraction=fraction)
    return EscapeRow(T, float(delta0), exact_its, budget, int(grid[0]), found.samples, predicted,
                     float(escape_samples(delta0, M, T, near_chance=True)), one_step_escape_samples(delta0, M, T))


EstimateMoments = namedtuple("EstimateMoments", "mean variance accuracy kept_and_followed no_follow mean_inverse_kept")
EstimateMoments.__doc__ = """The exact law of one finite-sample refit; returned by :func:`starlib.finite_samples.exact_estimate_moments`.

Fractions. ``mean``, ``variance`` (lists over the steps): of F_t / K given K >= 1; ``accuracy``: A,
the chance that one chain is kept; ``kept_and_followed``: the chance that one chain is kept and
follows step t; ``no_follow``: Pr(F_t = 0) for the n chains, summed over their outcomes;
``mean_inverse_kept``: E[1/K | K >= 1] for K ~ Binomial(n, A).
"""


def exact_estimate_moments(p, M, n, g=None):
    """The exact mean and variance of the refit F_t / K given K >= 1, by enumeration, in Fractions.

    Every chain of the tied policy ``p`` (Fractions, shape (T,); ground truth
    ``g``, shape (T, M), identity by default) is enumerated with
    :func:`starlib.chain.enumerate_chains`, which gives one chain's chance of
    "kept and follows step t", "kept and does not" and "failed"; the n
    independent chains are then summed over with multinomial weights. Nothing
    here assumes the binomial argument of the proposition it checks. Small
    cases only: M^(T+1) <= 10^5 chains, n <= 40. Returns an
    :class:`EstimateMoments`. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    arr = _checks.one_policy(p, "p", kind=EXACT)
    M = _checks.num_states(M)
    n = _checks.integer(n, "n", 1, "the number of sampled chains; at most 40 here")
    T = arr.size
    if n > 40 or M ** (T + 1) > 10**5:
        raise ValueError(f"n = {n} and M^(T+1) = {M ** (T + 1)} must be at most 40 and 10^5 for enumeration")
    g = np.tile(np.arange(M), (T, 1)) if g is None else np.asarray(g)
    right = answers(g)
    A, follow = Fraction(0), [Fraction(0)] * T
    for states, prob in enumerate_chains(tied_kernels(list(arr), M, g), [Fraction(1, M)] * M):
        if states[-1] == right[states[0]]:
            A += prob
            for t in range(T):
                follow[t] += prob * (states[t + 1] == g[t][states[t]])
    if A == 0:
        raise no_kept_chains(" (the accuracy of p is 0)")
    kept_any = 1 - (1 - A) ** n
    inverse = sum(comb(n, k) * A**k * (1 - A) ** (n - k) / k for k in range(1, n + 1)) / kept_any
    means, variances, no_follow = [], [], []
    for a in follow:
        b = A - a  # kept and not followed
        m1 = m2 = zero = Fraction(0)
        for i in range(n + 1):
            for j in range(n + 1 - i):
                w = comb(n, i) * comb(n - i, j) * a**i * b**j * (1 - A) ** (n - i - j)
                zero += w if i == 0 else 0
                if i + j:
                    m1 += w * Fraction(i, i + j)
                    m2 += w * Fraction(i, i + j) ** 2
        m1, m2 = m1 / kept_any, m2 / kept_any
        means.append(m1)
        variances.append(m2 - m1**2)
        no_follow.append(zero)
    return EstimateMoments(means, variances, A, follow, no_follow, inverse)
