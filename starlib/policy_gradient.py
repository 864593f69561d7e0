"""Policy gradient on the tied policy: REINFORCE with a batch-mean baseline.

The comparison point for STaR. Both sample n chains from the current policy and
reward a chain 1 if its final answer is correct; STaR refits on the kept chains,
REINFORCE moves each parameter along its score. In the tied family the score of
a chain depends on it only through whether step t followed the ground truth
(:func:`chain_scores`), so one step needs only the counts of
:func:`starlib.sampling.follow_counts` (no chain is built).

Two parameterisations of the same policy:

- **p-coordinates** (:func:`reinforce_step`): the parameters are the follow
  probabilities p_t themselves; the score is 1/p_t for a step that follows and
  -1/(1 - p_t) for one that does not, and a step must be clipped into (0, 1).
  Its natural-gradient variant (:func:`natural_reinforce_step`) multiplies the
  step by the inverse Fisher information p_t (1 - p_t).
- **Logits** (:func:`logit_reinforce_step`), the form used in practice: step t
  is a softmax over the M next states whose ground-truth state has logit theta_t
  and every other state logit 0, so p_t = e^theta_t / (e^theta_t + M - 1)
  (:func:`logit_policy`, inverse :func:`policy_logits`). The score of theta_t is
  f_t - p_t (f_t = 1 if the step followed), bounded, and theta_t is unconstrained,
  so no clip is needed.

**One score sum.** All three come from the centred sum (1/n) sum_i (r_i - b)(f_it - p_t),
with b = kept / n the batch's mean reward: it is the
logit step per unit learning rate, p_t (1 - p_t) times the p-coordinate step
(:func:`policy_gradient_estimate`), and the natural-gradient step.

**What the steps estimate.** sum_i (r_i - b) S_i has expectation (n - 1) dA/dx
for either parameter x: E[r_i S_i] = dA/dx (the score identity), and
E[r_j S_i] = 0 for j != i because chain j is independent of chain i and
E[S_i] = 0. So the expected p-step is learning_rate (1 - 1/n) D_{-t} (before the
clip; :func:`expected_reinforce_step`) and the expected logit step learning_rate (1 - 1/n) p_t (1 - p_t) D_{-t}
(:func:`expected_logit_reinforce_step`). Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
"""

import math
import numbers
from collections import namedtuple
from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import FLOAT
from .chain import tempered, tempered_floats as _tempered_floats
from .sampling import step_major_counts as _counts
from .theory import accuracy_gradient, from_step_major as _from_step_major, step_major as _step_major

#: Follow probabilities are kept in [CLIP, 1 - CLIP], where every score is finite.
CLIP = 1e-12


def _iterate(arr, iterations, step):
    """Rows 0..iterations: ``arr``, then ``step`` applied again and again in step-major layout."""
    out = np.empty((iterations + 1,) + arr.shape)
    out[0] = arr
    x = _step_major(arr)
    for k in range(1, iterations + 1):
        x = step(x)
        out[k] = _from_step_major(x, arr.shape)
    return out


def _sampled_update(kernel, M, n, rng, learning_rate, option):
    """x -> kernel(x, M, n, rng, learning_rate, option) on step-major floats, with n, rng and learning_rate checked.

    ``option`` is the kernel's last argument, already checked: a temperature or a baseline flag.
    """
    n = _checks.sampled_size(n)
    rng = _checks.generator(rng)
    learning_rate = float(_checks.learning_rate(learning_rate))
    return lambda x: kernel(x, M, n, rng, learning_rate, option)


def _float_temperature(temperature):
    return float(_checks.temperature(temperature, FLOAT))


def _flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {name} = {value!r}")
    return bool(value)


# --- the score -------------------------------------------------------------------------------


def _centred_score_sum(sampled, n, kept, followed_kept, followed_failed, baseline=True):
    """(1/n) sum over chains of (r - b)(f_t - sampled_t), from the counts (step-major).

    b is the batch's mean reward kept / n, or 0 without ``baseline``. It is the
    score sum of the follow logit theta_t at temperature 1, and p_t (1 - p_t) times
    the score sum of p_t: the one REINFORCE sum every step here is built from.
    """
    failed = n - kept
    b = kept / n if baseline else 0.0
    return ((1.0 - b) * (followed_kept - kept * sampled) - b * (followed_failed - failed * sampled)) / n


def _score_sum(p, sampled, tau, n, kept, followed_kept, followed_failed, baseline=True):
    """(1/n) sum over chains of (r - b) d log pi / d p_t, from the counts (step-major).

    ``p`` are the parameters (inside (0, 1)), ``sampled`` the tempered follow
    probabilities the chains were drawn with. d p_tau / d p = p_tau (1 - p_tau) / (tau p (1 - p)),
    so the score of p_t is (f_t - sampled_t) / (tau p_t (1 - p_t)): 1/p_t and
    -1/(1 - p_t) at tau = 1.
    """
    centred = _centred_score_sum(sampled, n, kept, followed_kept, followed_failed, baseline)
    return centred / (tau * p * (1.0 - p))


def _inside(arr, name, value, why="where the scores are finite"):
    if ((arr <= 0) | (arr >= 1)).any():
        raise ValueError(f"{name} must lie strictly inside (0, 1), {why}; got {name} = {value!r}")
    return arr


def chain_scores(p, M, followed, temperature=1.0):
    """d log pi(chain) / d p_t for every chain, from its follow flags (..., T): floats.

    1/p_t where step t followed, -1/(1 - p_t) where it did not; at temperature tau,
    the score of the tempered sampling policy with respect to the untempered p_t,
    (1 - p_tau)/(tau p (1 - p)) and -p_tau/(tau p (1 - p)). ``followed`` holds 0s
    and 1s, the steps on its last axis. Every REINFORCE step here is the
    reward-weighted mean of these scores, summed from counts. Needs 0 < p_t < 1.
    Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    M = _checks.num_states(M)
    arr = _inside(_checks.one_policy(p, "p"), "p", p)
    tau = _float_temperature(temperature)
    try:
        f = np.asarray(followed)
        flags = f.dtype != object and ((f == 0) | (f == 1)).all()
    except (TypeError, ValueError):
        flags = False
    if not flags or f.ndim < 1 or f.shape[-1] != arr.shape[0]:
        raise ValueError(f"followed must hold 0s and 1s with {arr.shape[0]} steps on its last axis; "
                         f"got followed = {followed!r:.80}")
    sampled = arr if tau == 1.0 else _tempered_floats(arr, None, M, tau)[0]
    # The score of one chain is the score sum of a batch of one kept chain without baseline.
    return _score_sum(arr, sampled, tau, 1, 1, f.astype(float), 0.0, baseline=False)


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


_FollowCountsLike = namedtuple("_FollowCountsLike", "kept followed_kept failed followed_failed")


def _counts_arrays(p, counts):
    """Validated (kept, failed, followed_kept, followed_failed) of a FollowCounts for one policy."""
    if not (isinstance(counts, tuple) and len(counts) == 4):
        raise ValueError("counts must be a FollowCounts (kept, followed_kept, failed, followed_failed); "
                         f"got {counts!r}")
    counts = _FollowCountsLike(*counts)
    kept, failed = _count(counts.kept, "kept"), _count(counts.failed, "failed")
    if kept + failed == 0:
        raise ValueError(f"counts must hold at least one chain (kept + failed >= 1); got {counts!r}")
    fk = _follow_count_array(counts.followed_kept, "followed_kept", p.shape, kept)
    ff = _follow_count_array(counts.followed_failed, "followed_failed", p.shape, failed)
    return kept, failed, fk, ff


def policy_gradient_estimate(p, counts, baseline=True):
    """The REINFORCE estimate (1/n) sum_i (r_i - b) s_it of dA/dp_t, from counts alone.

    ``counts`` is a :func:`starlib.sampling.follow_counts` result for n = kept + failed
    chains sampled at ``p`` (one chain per row, shape (T,) of ``p``): whole numbers,
    each follow count between 0 and its kept or failed total. The score of
    p_t is 1/p_t for a step that follows the ground truth and -1/(1 - p_t) for one
    that does not (:func:`chain_scores`); the reward is 1 for a kept chain. With ``baseline=True`` the
    baseline b is the batch's mean reward kept/n, otherwise b = 0. Needs
    0 < p_t < 1. Floats only. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    arr = _inside(_checks.one_policy(p, "p"), "p", p)
    baseline = _flag(baseline, "baseline")
    kept, failed, fk, ff = _counts_arrays(arr, counts)
    return _score_sum(arr, arr, 1.0, kept + failed, kept, fk, ff, baseline)


# --- REINFORCE in p, and its natural-gradient variant --------------------------------------------


def _reinforce_floats(x, M, n, rng, learning_rate, tau):
    x = np.clip(x, CLIP, 1.0 - CLIP)
    sampled, eps = _tempered_floats(x, None, M, tau)
    if eps is None:
        eps = 1.0 - sampled
    kept, followed_kept, followed_failed = _counts(sampled, eps, M, n, rng)
    gradient = _score_sum(x, sampled, tau, n, kept, followed_kept, followed_failed)
    return np.clip(x + learning_rate * gradient, CLIP, 1.0 - CLIP)


def reinforce_step(p, M, n, rng, learning_rate, temperature=1.0):
    """One REINFORCE-with-baseline step on the tied parameters p_t, from n sampled chains.

    The same sampling budget as one STaR iteration (:func:`starlib.sampling.star_step_mc`):
    n chains at ``temperature``, reward r = 1 for a correct answer, baseline
    b = mean reward of the batch, and

        p_t <- p_t + learning_rate * (1/n) sum_chains (r - b) S_t,

    where the score S_t = d log pi(chain) / d p_t is 1/p_t for a chain that
    follows at step t and -1/(1 - p_t) for one that does not (at temperature
    tau != 1, the score of the tempered policy: (1 - p_tau) / (tau p (1 - p)) and
    -p_tau / (tau p (1 - p)); see :func:`chain_scores`). The sum is computed from the counts of
    :func:`starlib.sampling.follow_counts`. A batch whose rewards are all equal
    (no chain kept, or all kept) gives a zero step.

    **Clip.** p is clipped into [1e-12, 1 - 1e-12] before the step (so that the
    score is finite) and the result is clipped into the same interval. Without
    the clips the expected step is exactly learning_rate (1 - 1/n) dA/dp_t
    (:func:`starlib.theory.accuracy_gradient`; see :mod:`starlib.policy_gradient`).
    ``p`` has the steps on its last axis; leading axes are a batch of
    independent runs. Returns the new p. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(p, "p", kind=FLOAT)
    step = _sampled_update(_reinforce_floats, M, n, rng, learning_rate, _float_temperature(temperature))
    return _from_step_major(step(_step_major(arr)), arr.shape)


def reinforce_iterates(p0, M, n, iterations, rng, learning_rate, temperature=1.0):
    """The REINFORCE trajectory p^0, ..., p^iterations, shape (iterations + 1, ..., T).

    Applies :func:`reinforce_step` ``iterations`` times, each with n fresh chains
    (so iteration k costs the same samples as STaR's iteration k in
    :func:`starlib.sampling.star_iterates_mc`). Row 0 is ``p0`` as given; later
    rows are clipped into [1e-12, 1 - 1e-12]. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(p0, "p0", kind=FLOAT)
    iterations = _checks.iterations(iterations)
    step = _sampled_update(_reinforce_floats, M, n, rng, learning_rate, _float_temperature(temperature))
    return _iterate(arr, iterations, step)


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
    step = _sampled_update(_natural_floats, M, n, rng, learning_rate, _flag(baseline, "baseline"))
    return _from_step_major(step(_step_major(arr)), arr.shape)


def natural_reinforce_iterates(p0, M, n, iterations, rng, learning_rate, baseline=True):
    """The trajectory of :func:`natural_reinforce_step`: an array (iterations + 1, T).

    Row 0 is ``p0``; every later row is one step from the row before, all drawing
    from the same ``rng``. Every argument is checked, also for ``iterations=0``.
    Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    arr = _checks.one_policy(p0, "p0")
    M = _checks.num_states(M)
    iterations = _checks.iterations(iterations)
    step = _sampled_update(_natural_floats, M, n, rng, learning_rate, _flag(baseline, "baseline"))
    return _iterate(arr, iterations, step)


def expected_reinforce_step(p, M, n, learning_rate, natural=False):
    """The expected change of p_t in one REINFORCE step with a batch-mean baseline.

    With n chains, reward r_i = 1 for a correct answer, baseline b = mean_i r_i and
    score s_it = d log Pr(chain i) / d p_t, the step
    ``learning_rate * sum_i (r_i - b) s_it / n`` of
    :func:`reinforce_step` has expectation

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
    factor = learning_rate * _one_minus_one_over(n)
    return [factor * d for d in gradient]


def _one_minus_one_over(n):
    """1 - 1/n, exact for an integer n (a Fraction) or a SymPy symbol."""
    return 1 - (1 / n if _checks._is_sympy(n) else Fraction(1, n))


# --- REINFORCE on the logits of the softmax-parameterised tied policy -------------------------


def _logits(value, name):
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of real logits; got {value!r}") from err
    if arr.ndim < 1 or arr.shape[-1] == 0:
        raise ValueError(f"{name} must hold at least one step (its last axis is the steps); got shape {arr.shape}")
    if not np.isfinite(arr).all():
        i = int(np.argmin(np.isfinite(arr).ravel()))
        raise ValueError(f"{name}{_checks._index(arr.shape, i)} = {arr.ravel()[i].item()!r} is not a finite logit")
    return arr


def _logit_floats(theta, M, tau):
    """(p, 1 - p) of the follow logits at temperature tau, each accurate in relative terms."""
    log_odds_wrong = np.log(M - 1.0) - theta / tau
    return np.exp(-np.logaddexp(0.0, log_odds_wrong)), np.exp(-np.logaddexp(0.0, -log_odds_wrong))


def logit_policy(theta, M):
    """The follow probabilities p_t = e^theta_t / (e^theta_t + M - 1) of follow logits theta_t.

    Step t is a softmax over the M next states in which the ground-truth state has
    logit theta_t and every other state logit 0, so the policy is the tied one with
    follow probability p_t; theta_t = 0 (all logits equal) is uniform guessing. Elementwise,
    floats, any shape. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    return _logit_floats(_logits(theta, "theta"), M, 1.0)[0]


def policy_logits(p, M):
    """The follow logits theta_t = log((M - 1) p_t / (1 - p_t)) of a tied policy: inverse of :func:`logit_policy`.

    Needs 0 < p_t < 1 (the logits of 0 and 1 are infinite). Floats; the last axis
    is the steps. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(p, "p", kind=FLOAT)
    _inside(arr, "p", p, "where the logits are finite")
    return np.log(M - 1.0) + np.log(arr) - np.log1p(-arr)


def _logit_reinforce_floats(theta, M, n, rng, learning_rate, tau):
    sampled, eps = _logit_floats(theta, M, tau)
    kept, followed_kept, followed_failed = _counts(sampled, eps, M, n, rng)
    # d log pi / d theta_t = (f_t - p_tau) / tau: the centred sum, no division by p (1 - p).
    return theta + learning_rate * _centred_score_sum(sampled, n, kept, followed_kept, followed_failed) / tau


def logit_reinforce_step(theta, M, n, rng, learning_rate, temperature=1.0):
    """One REINFORCE-with-baseline step on the follow logits theta_t, from n sampled chains.

    The policy is :func:`logit_policy` (sampled at ``temperature``: the logits
    divided by tau). With reward r = 1 for a correct answer and baseline b = the
    batch's mean reward,

        theta_t <- theta_t + learning_rate * (1/n) sum_chains (r - b) (f_t - p_t) / tau,

    where f_t = 1 if the chain's step t followed the ground truth and p_t is the
    (tempered) follow probability the chains were drawn with: (f_t - p_t) / tau is
    d log pi(chain) / d theta_t. The score is bounded, so the step is at most
    learning_rate / (4 tau) in size and needs no clip. Its expectation is
    :func:`expected_logit_reinforce_step`. ``theta`` has the steps on its last axis
    (finite reals); leading axes are a batch of independent runs. Returns the new
    logits. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    arr = _logits(theta, "theta")
    step = _sampled_update(_logit_reinforce_floats, M, n, rng, learning_rate, _float_temperature(temperature))
    return _from_step_major(step(_step_major(arr)), arr.shape)


def logit_reinforce_iterates(theta0, M, n, iterations, rng, learning_rate, temperature=1.0):
    """The trajectory of :func:`logit_reinforce_step`: logits of shape (iterations + 1, ..., T).

    Row 0 is ``theta0``; every later row is one step from the row before, each with
    n fresh chains from ``rng``. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    arr = _logits(theta0, "theta0")
    iterations = _checks.iterations(iterations)
    step = _sampled_update(_logit_reinforce_floats, M, n, rng, learning_rate, _float_temperature(temperature))
    return _iterate(arr, iterations, step)


def expected_logit_reinforce_step(p, M, n, learning_rate, temperature=1.0):
    """The expected change of the follow logits theta_t in one :func:`logit_reinforce_step`.

    Given the policy's follow probabilities ``p`` (so that exact input stays exact;
    theta_t = :func:`policy_logits` of p), the step has expectation

        learning_rate (1 - 1/n) dA/dtheta_t = learning_rate (1 - 1/n) p_t (1 - p_t) D_{-t}

    at temperature 1 (dp_t/dtheta_t = p_t (1 - p_t)); at temperature tau, p is
    replaced by the tempered p_tau and the result divided by tau. The value at
    tau = 1 equals that of the natural-gradient step in p
    (:func:`expected_reinforce_step` with ``natural=True``),
    but it is a step in theta: in p it moves by about p_t (1 - p_t) times as much.
    Accepts floats (last axis the steps, leading axes a batch), Fractions (with
    1/temperature an integer) and SymPy symbols. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    n = _checks.sample_size(n, symbolic=True)
    learning_rate = _checks.learning_rate(learning_rate)
    kind = _checks.arithmetic_of(p, M, n, learning_rate)
    arr, kind = _checks.probabilities(p, "p", kind=kind)
    tau = _checks.temperature(temperature, kind)
    sampled = tempered(arr if kind == FLOAT else arr.tolist(), M, tau)
    if kind == FLOAT:
        sampled = np.asarray(sampled, dtype=float)
        gradient = np.asarray(accuracy_gradient(sampled, M), dtype=float)
        return learning_rate * (1 - 1 / n) * sampled * (1 - sampled) * gradient / tau
    sampled = list(np.asarray(sampled, dtype=object).ravel())
    gradient = accuracy_gradient(sampled, M)
    one_minus = _one_minus_one_over(n)
    scale = 1 if tau == 1 else (1 / tau if _checks._is_sympy(tau) else 1 / Fraction(tau))
    return [learning_rate * one_minus * x * (1 - x) * d * scale for x, d in zip(sampled, gradient)]


# --- one step for a batch of runs, each with its own learning rate ------------------------------

#: The REINFORCE variants :func:`batch_step` runs, and what each one's ``x`` holds.
BATCH_METHODS = {"reinforce": "p", "natural_reinforce": "p", "logit_reinforce": "theta"}


def batch_step(method, x, M, n, rng, learning_rates):
    """One step of a REINFORCE variant for a batch of runs, each with its own learning rate.

    ``x`` is step-major, (T, runs): column r is one run's follow probabilities (its
    follow logits for ``"logit_reinforce"``), stepped from n chains at temperature 1 with
    ``learning_rates[r]``, exactly as :func:`reinforce_step`, :func:`natural_reinforce_step`
    (with the baseline) or :func:`logit_reinforce_step` step one run. It is the inner loop
    of a learning-rate sweep (:func:`starlib.comparisons.learning_rate_sweep`). Returns the
    new (T, runs) array. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    if method not in BATCH_METHODS:
        raise ValueError(f"method must be one of {tuple(BATCH_METHODS)}; got method = {method!r}")
    M, n, rng = _checks.num_states(M), _checks.sampled_size(n), _checks.generator(rng)
    if BATCH_METHODS[method] == "p":
        arr, _ = _checks.probabilities(x, "x", kind=FLOAT)
    else:
        arr = _logits(x, "x")
    rates = np.asarray(learning_rates, dtype=object)
    if arr.ndim != 2 or rates.shape != arr.shape[1:]:
        raise ValueError(f"x must be (T, runs) and learning_rates (runs,); got shapes {arr.shape} and {rates.shape}")
    for r, rate in enumerate(rates):
        if not (isinstance(rate, numbers.Real) and not isinstance(rate, bool) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"learning_rates[{r}] must be a finite number > 0; got learning_rates[{r}] = {rate!r}")
    rates = rates.astype(float)
    if method == "reinforce":
        return _reinforce_floats(arr, M, n, rng, rates, 1.0)
    if method == "natural_reinforce":
        return _natural_floats(arr, M, n, rng, rates)
    return _logit_reinforce_floats(arr, M, n, rng, rates, 1.0)
