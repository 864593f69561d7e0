"""Policy gradient on the tied policy: REINFORCE with a batch-mean baseline.

The comparison point for STaR. Both sample n chains from the current policy and
reward a chain 1 if its final answer is correct; STaR refits on the kept chains,
REINFORCE moves each parameter p_t along its score. In the tied family the score
of p_t depends on a chain only through whether step t followed the ground truth,
so one step needs only the counts of :func:`starlib.sampling.follow_counts`
(no chain is built).

**What the step estimates.** With the baseline b = mean reward of the batch,
sum_i (r_i - b) S_i has expectation (n - 1) dA/dp_t: the term r_i S_i has
expectation dA/dp_t (the score identity), and r_j S_i for j != i has
expectation 0 because chain j is independent of chain i and E[S_i] = 0. So the
expected step is exactly learning_rate (1 - 1/n) dA/dp_t, with dA/dp_t from
:func:`starlib.theory.accuracy_gradient`, before the clip described in
:func:`reinforce_step`. (At a temperature tau != 1, A is the accuracy of the
tempered policy, as a function of the untempered p_t.) Introduced in the chapter "STaR versus
policy gradient".
"""


import numpy as np

from . import _checks
from ._checks import FLOAT
from .chain import _tempered_floats
from .sampling import _counts
from .theory import _from_step_major, _step_major

#: Follow probabilities are kept in [CLIP, 1 - CLIP], where every score is finite.
CLIP = 1e-12


def _scores(p, sampled, tau):
    """d log pi / d p_t for a step that follows, and for one that moves to a given other state."""
    if tau == 1.0:
        return 1.0 / p, -1.0 / (1.0 - p)
    scale = tau * p * (1.0 - p)
    return (1.0 - sampled) / scale, -sampled / scale


def _score_sum(p, sampled, tau, n, kept, followed_kept, followed_failed, baseline=True):
    """(1/n) sum over chains of (r - b) d log pi / d p_t, from the counts (step-major).

    b is the batch's mean reward kept / n, or 0 without ``baseline``.

    ``p`` are the parameters (inside (0, 1)), ``sampled`` the tempered follow
    probabilities the chains were drawn with. The score of p_t is
    (1 - sampled_t) / (tau p_t (1 - p_t)) for a followed step and
    -sampled_t / (tau p_t (1 - p_t)) otherwise: 1/p_t and -1/(1 - p_t) at tau = 1.
    """
    follow_score, other_score = _scores(p, sampled, tau)
    failed = n - kept
    b = kept / n if baseline else 0.0
    kept_sum = followed_kept * follow_score + (kept - followed_kept) * other_score
    failed_sum = followed_failed * follow_score + (failed - followed_failed) * other_score
    return ((1.0 - b) * kept_sum - b * failed_sum) / n


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
    independent runs. Returns the new p. Introduced in the chapter "STaR versus
    policy gradient".
    """
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(p, "p", kind=FLOAT)
    n = _checks.sample_size(n)
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
    rows are clipped into [1e-12, 1 - 1e-12]. Introduced in the chapter "STaR
    versus policy gradient".
    """
    M = _checks.num_states(M)
    arr, _ = _checks.probabilities(p0, "p0", kind=FLOAT)
    n = _checks.sample_size(n)
    iterations = _checks.iterations(iterations)
    rng = _checks.generator(rng)
    learning_rate = float(_checks.learning_rate(learning_rate))
    tau = float(_checks.temperature(temperature, FLOAT))
    out = np.empty((iterations + 1,) + arr.shape)
    out[0] = arr
    x = _step_major(arr)
    for k in range(1, iterations + 1):
        x = _reinforce_floats(x, M, n, rng, learning_rate, tau)
        out[k] = _from_step_major(x, arr.shape)
    return out
