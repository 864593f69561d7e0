"""Policy gradient on the tied policy: REINFORCE with a batch-mean baseline.

The comparison point for STaR. Both sample n chains from the current policy and
reward a chain 1 if its final answer is correct; STaR refits on the kept chains,
REINFORCE moves each parameter along its score. In the tied family the score of
a chain depends on it only through whether step t followed the ground truth, so
one step needs only the counts of :func:`starlib.sampling.follow_counts` (no
chain is built).

Two parameterisations of the same policy:

- **p-coordinates** (:func:`reinforce_step`): the parameters are the follow
  probabilities p_t themselves; the score is 1/p_t for a step that follows and
  -1/(1 - p_t) for one that does not, and a step must be clipped into (0, 1).
- **Logits** (:func:`logit_reinforce_step`), the form used in practice: step t
  is a softmax over the M next states whose ground-truth state has logit theta_t
  and every other state logit 0, so p_t = e^theta_t / (e^theta_t + M - 1)
  (:func:`logit_policy`, inverse :func:`policy_logits`). The score of theta_t is
  f_t - p_t (f_t = 1 if the step followed), bounded, and theta_t is unconstrained,
  so no clip is needed.

**One score sum.** Both come from the centred sum (1/n) sum_i (r_i - b)(f_it - p_t),
with b = kept / n the batch's mean reward: it is the
logit step per unit learning rate, p_t (1 - p_t) times the p-coordinate step, and
the natural-gradient step of :func:`starlib.comparisons.natural_reinforce_step`.

**What the steps estimate.** sum_i (r_i - b) S_i has expectation (n - 1) dA/dx
for either parameter x: E[r_i S_i] = dA/dx (the score identity), and
E[r_j S_i] = 0 for j != i because chain j is independent of chain i and
E[S_i] = 0. So the expected p-step is learning_rate (1 - 1/n) D_{-t} (before the
clip) and the expected logit step learning_rate (1 - 1/n) p_t (1 - p_t) D_{-t}
(:func:`expected_logit_reinforce_step`). Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
"""

from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import FLOAT
from .chain import _tempered_floats, tempered
from .sampling import _counts
from .theory import _from_step_major, _step_major, accuracy_gradient

#: Follow probabilities are kept in [CLIP, 1 - CLIP], where every score is finite.
CLIP = 1e-12

#: The largest number of chains a sampled step accepts (the binomial draws are int64).
MAX_CHAINS = int(np.iinfo(np.int64).max)


def _sample_size(n):
    """A number of sampled chains that the int64 binomial draws can hold."""
    return _checks.sampled_size(n)



def _iterate(arr, iterations, step):
    """Rows 0..iterations: ``arr``, then ``step`` applied again and again in step-major layout."""
    out = np.empty((iterations + 1,) + arr.shape)
    out[0] = arr
    x = _step_major(arr)
    for k in range(1, iterations + 1):
        x = step(x)
        out[k] = _from_step_major(x, arr.shape)
    return out

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
    -p_tau / (tau p (1 - p))). The sum is computed from the counts of
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
    n = _sample_size(n)
    rng = _checks.generator(rng)
    learning_rate = float(_checks.learning_rate(learning_rate))
    tau = float(_checks.temperature(temperature, FLOAT))
    new = _reinforce_floats(_step_major(arr), M, n, rng, learning_rate, tau)
    return _from_step_major(new, arr.shape)


def reinforce_iterates(p0, M, n, iterations, rng, learning_rate, temperature=1.0):
    """The REINFORCE trajectory p^0, ..., p^iterations, shape (iterations + 1, ..., T).

    Applies :func:`reinforce_step` ``iterations`` times, each with n fresh chains
    (so iteration k costs the same samples as STaR's iteration k in
    :func:`starlib.sampling.star_iterates_mc`). Row 0 is ``p0`` as given; later
    rows are clipped into [1e-12, 1 - 1e-12]. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(p0, "p0", kind=FLOAT)
    n = _sample_size(n)
    iterations = _checks.iterations(iterations)
    rng = _checks.generator(rng)
    learning_rate = float(_checks.learning_rate(learning_rate))
    tau = float(_checks.temperature(temperature, FLOAT))
    return _iterate(arr, iterations, lambda x: _reinforce_floats(x, M, n, rng, learning_rate, tau))


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
    if ((arr <= 0) | (arr >= 1)).any():
        raise ValueError(f"p must lie strictly inside (0, 1), where the logits are finite; got p = {p!r}")
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
    n = _sample_size(n)
    rng = _checks.generator(rng)
    learning_rate = float(_checks.learning_rate(learning_rate))
    tau = float(_checks.temperature(temperature, FLOAT))
    new = _logit_reinforce_floats(_step_major(arr), M, n, rng, learning_rate, tau)
    return _from_step_major(new, arr.shape)


def logit_reinforce_iterates(theta0, M, n, iterations, rng, learning_rate, temperature=1.0):
    """The trajectory of :func:`logit_reinforce_step`: logits of shape (iterations + 1, ..., T).

    Row 0 is ``theta0``; every later row is one step from the row before, each with
    n fresh chains from ``rng``. Introduced in :doc:`/chapters/09_star_versus_policy_gradient`.
    """
    M = _checks.num_states(M)
    arr = _logits(theta0, "theta0")
    n = _sample_size(n)
    iterations = _checks.iterations(iterations)
    rng = _checks.generator(rng)
    learning_rate = float(_checks.learning_rate(learning_rate))
    tau = float(_checks.temperature(temperature, FLOAT))
    return _iterate(arr, iterations, lambda x: _logit_reinforce_floats(x, M, n, rng, learning_rate, tau))


def expected_logit_reinforce_step(p, M, n, learning_rate, temperature=1.0):
    """The expected change of the follow logits theta_t in one :func:`logit_reinforce_step`.

    Given the policy's follow probabilities ``p`` (so that exact input stays exact;
    theta_t = :func:`policy_logits` of p), the step has expectation

        learning_rate (1 - 1/n) dA/dtheta_t = learning_rate (1 - 1/n) p_t (1 - p_t) D_{-t}

    at temperature 1 (dp_t/dtheta_t = p_t (1 - p_t)); at temperature tau, p is
    replaced by the tempered p_tau and the result divided by tau. The value at
    tau = 1 equals that of the natural-gradient step in p
    (:func:`starlib.comparisons.expected_reinforce_step` with ``natural=True``),
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
    one_minus = 1 - (1 / n if _checks._is_sympy(n) else Fraction(1, n))
    scale = 1 if tau == 1 else (1 / tau if _checks._is_sympy(tau) else 1 / Fraction(tau))
    return [learning_rate * one_minus * x * (1 - x) * d * scale for x, d in zip(sampled, gradient)]
