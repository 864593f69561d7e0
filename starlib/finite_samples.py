"""Monte Carlo measurements of finite-sample STaR over many independent runs.

The finite-sample engine (:mod:`starlib.sampling`) simulates one run, or a batch
of independent runs, of STaR with n sampled chains per iteration. The helpers
here turn batches of runs into the measurements the chapter "Finite samples"
reports: the spread of one sampled update, accuracy trajectories over seeds,
the fraction of runs that leave the plateau within an iteration budget, and the
smallest sample size on a grid for which most runs do. Every function takes its
random generator ``rng`` explicitly; the same generator state gives the same
answer. Floats only. Introduced in the chapter "Finite samples".
"""

import numbers
from collections import namedtuple

import numpy as np

from . import _checks
from ._checks import FLOAT
from .sampling import follow_counts, star_iterates_mc
from .theory import accuracy

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
    of kept chains. ``p`` is one policy, shape (T,). Introduced in the chapter
    "Finite samples".
    """
    arr, M = _one_policy(p, M)
    runs = _checks.integer(runs, "runs", 1, "a number of independent runs")
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
    k iterations. Introduced in the chapter "Finite samples".
    """
    arr, M = _one_policy(p0, M, "p0")
    runs = _checks.integer(runs, "runs", 1, "a number of independent runs")
    start = np.broadcast_to(arr, (runs, arr.size))
    trajectory = star_iterates_mc(start, M, n, iterations, rng, temperature=temperature)
    return accuracy(trajectory, M)


def escape_fraction(p0, M, n, iterations, target, runs, rng, temperature=1.0):
    """The fraction of runs whose accuracy reaches ``target`` within ``iterations`` iterations.

    Runs as :func:`accuracy_runs`; a run counts once its accuracy is at least
    ``target`` at some iteration 0..iterations. Introduced in the chapter
    "Finite samples".
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
    error of ``runs`` runs in mind. Introduced in the chapter "Finite samples".
    """
    sizes = np.asarray(grid)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError(f"grid must be a non-empty 1-d array of integer sample sizes; got grid = {grid!r}")
    if (sizes < 1).any() or (np.diff(sizes) <= 0).any():
        raise ValueError(f"grid must hold increasing sample sizes >= 1; got grid = {grid!r}")
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
