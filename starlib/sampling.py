"""Finite-sample STaR: sampled chains, and the counts one STaR iteration sees.

The exact engine (:mod:`starlib.theory`) describes STaR with infinitely many
sampled chains. A real run samples n chains per iteration, and its refit
follow rates are estimates: about p_t' with variance p_t' (1 - p_t') / (n A)
(:prf:ref:`prop-finite-sample-variance`). This module simulates that run for the tied policy with identity ground
truth (every relabelled tied policy is one; see :func:`starlib.chain.tied_kernels`):

- :func:`sample_chains` draws explicit chains (s_0, ..., s_T), for M up to 10^6;
  :func:`sample_tabular_chains` does the same for a general kernel.
- :func:`follow_counts` draws, exactly, the counts a STaR iteration uses (how many
  chains are kept, and how many kept and failed chains followed each step)
  without building any chain, at a cost that does not grow with n.
- :func:`star_step_mc` and :func:`star_iterates_mc` are finite-sample STaR built on
  those counts.

**How the counts are drawn.** Relabel so that every g_t is the identity; then a
chain is correct iff s_T = s_0, and only its status matters: *on track*
(s_t = s_0) or *off track*. From on track a step follows (stays on) with p_t and
leaves with eps_t = 1 - p_t. From off track it follows (stays off) with p_t,
returns with q_t = eps_t / (M - 1), or moves to another off-track state with
eps_t (M - 2) / (M - 1). The number of kept chains is Binomial(n, A). Given it,
the kept chains are independent copies of the chain conditioned on success,
which is again a Markov chain over (status, followed or not): its transition
probabilities are the old ones times h_t(new status) / h_{t-1}(old status),
where h_t(status) = Pr(correct | status after step t) (a Doob h-transform). The
counts are pushed through it step by step with binomial and multinomial
splits. The failed chains are handled the same way with h = Pr(wrong | status).
The chain, and the backward pass that gives h, are those of
:class:`starlib.theory.TrackChain`; :func:`step_major_counts` draws the counts
for callers that already hold tempered step-major arrays.

Every function takes its random generator ``rng`` (a
:class:`numpy.random.Generator`) explicitly: the same generator state gives the
same result. Floats only. Introduced in :doc:`/chapters/07_finite_samples`.
"""

from collections import namedtuple

import numpy as np

from . import _checks
from ._checks import FLOAT
from .chain import NoKeptChainsError, tempered_floats
from .devices import resolve_device, torch_module
from .theory import TrackChain, from_step_major, step_major, step_major_accuracy

FollowCounts = namedtuple("FollowCounts", "kept followed_kept failed followed_failed")
FollowCounts.__doc__ = """The counts one finite-sample STaR iteration sees; returned by :func:`starlib.sampling.follow_counts`.

``kept``: how many of the n sampled chains reach the correct answer.
``followed_kept[..., t]``: how many kept chains take the ground-truth transition
at step t + 1 (whether on or off track). ``failed`` = n - kept, and
``followed_failed`` the same count among the failed chains. Ints (int64 arrays
for a batch); the follow counts have the steps on their last axis.
"""


# --- input checks ---------------------------------------------------------------------------


def _tied(p, M, temperature, name="p", one_chain=False):
    """Validated, tempered step-major floats (p, eps), M and the input's shape."""
    M = _checks.num_states(M)
    arr = _checks.one_policy(p, name) if one_chain else _checks.probabilities(p, name, kind=FLOAT)[0]
    tau = float(_checks.temperature(temperature, FLOAT))
    x, eps = tempered_floats(step_major(arr), None, M, tau)
    if eps is None:
        eps = 1.0 - x
    return x, eps, M, arr.shape


# --- explicit chains ------------------------------------------------------------------------


def sample_chains(p, M, n, rng, temperature=1.0, backend="numpy", device="auto"):
    """Sample n chains (s_0, ..., s_T) of the tied policy with identity ground truth.

    ``p`` has shape (T,); s_0 is uniform over the M states, and step t keeps the
    state (follows the ground truth) with probability p_t tempered at
    ``temperature`` (see :func:`starlib.chain.tempered`), else moves to one of the
    other M - 1 states uniformly. One uniform u per step: u < p_t follows;
    otherwise the new state is floor((u - p_t) / (1 - p_t) (M - 1)), shifted by
    one past the current state. A chain is correct iff s_T = s_0.

    Returns an int64 array of shape (n, T + 1) (a transposed view of step-major
    storage). Works for M up to 10^6 and T up to 64 or more; memory is
    8 n (T + 1) bytes for the result plus 8 n T for the uniforms.

    ``backend="torch"`` draws the same distribution with torch on ``device``
    (``"auto"``: CUDA when present, else the CPU; see
    :func:`starlib.devices.resolve_device`) and returns an int64 tensor of the
    same shape on that device (the NumPy backend takes ``"auto"`` or ``"cpu"``
    only). Its torch generator is seeded from ``rng``, so a
    seed still fixes the result on a given device; the samples differ from the
    NumPy backend's, the statistics do not. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    x, _, M, _ = _tied(p, M, temperature, one_chain=True)
    n = _checks.sampled_size(n)
    rng = _checks.generator(rng)
    follow = x[:, 0]
    if backend == "torch":
        return _sample_chains_torch(follow, M, n, rng, device)
    if backend != "numpy":
        raise ValueError(f"backend must be 'numpy' or 'torch'; got backend = {backend!r}")
    if not (isinstance(device, str) and device in ("auto", "cpu")):
        raise ValueError(f"device must be 'auto' or 'cpu' with backend='numpy' (NumPy runs on the CPU); "
                         f"got device = {device!r}")
    T = len(follow)
    states = np.empty((T + 1, n), dtype=np.int64)
    states[0] = rng.integers(0, M, size=n)
    u = rng.random((T, n))
    wrong = np.empty(n)
    moved = np.empty(n, dtype=np.int64)
    for t in range(T):
        pt = follow[t]
        # Rescale u in [p_t, 1) to a wrong state in [0, M - 2]; where u < p_t it is unused.
        scale = (M - 1) / (1.0 - pt) if pt < 1.0 else 0.0
        np.subtract(u[t], pt, out=wrong)
        wrong *= scale
        moved[...] = wrong  # truncation toward zero is floor for the values that are used
        np.minimum(moved, M - 2, out=moved)  # rounding can reach M - 1
        moved += moved >= states[t]  # skip the followed state
        np.copyto(moved, states[t], where=u[t] < pt)
        states[t + 1] = moved
    return states.T


def _sample_chains_torch(follow, M, n, rng, device):
    """The torch version of :func:`sample_chains`'s loop, on ``device``."""
    torch = torch_module()
    device = resolve_device(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(int(rng.integers(2**63 - 1)))
    T = len(follow)
    states = torch.empty((T + 1, n), dtype=torch.int64, device=device)
    states[0] = torch.randint(0, M, (n,), generator=generator, device=device)
    u = torch.rand((T, n), generator=generator, device=device, dtype=torch.float64)
    for t in range(T):
        pt = float(follow[t])
        scale = (M - 1) / (1.0 - pt) if pt < 1.0 else 0.0
        moved = ((u[t] - pt) * scale).to(torch.int64).clamp_(0, M - 2)
        moved += moved >= states[t]  # skip the followed state
        states[t + 1] = torch.where(u[t] < pt, states[t], moved)
    return states.T


def sample_tabular_chains(P, g, q0, n, rng):
    """Sample n chains (s_0, ..., s_T) of a general tabular policy.

    ``P`` (T, M, M) with ``P[t, s, s2] = Pr(s_{t+1} = s2 | s_t = s)``, ``q0`` (M,)
    the question distribution, validated as in
    :func:`starlib.tabular.tabular_star_step`; ``g`` (T, M) is validated too, for a
    uniform signature, but sampling needs only ``P`` and ``q0`` (a chain is correct
    iff ``s_T == starlib.chain.answers(g)[s_0]``). By inverse-CDF sampling, one
    uniform per step; a state of probability 0 is never drawn. Returns an int64
    array of shape (n, T + 1). Fractions are converted to floats. Introduced in
    :doc:`/chapters/07_finite_samples`.
    """
    P, g, q0, _ = _checks.tabular_inputs(P, g, q0)
    n = _checks.sampled_size(n)
    rng = _checks.generator(rng)
    P = P.astype(float)
    q0 = q0.astype(float)
    T, M, _ = P.shape
    states = np.empty((T + 1, n), dtype=np.int64)
    states[0] = _inverse_cdf(_cumulative(q0[None, :])[0], rng.random(n))
    cumulative = _cumulative(P.reshape(T * M, M)).reshape(T, M, M)
    u = rng.random((T, n))
    for t in range(T):
        current = states[t]
        order = np.argsort(current, kind="stable")
        bounds = np.searchsorted(current[order], np.arange(M + 1))
        nxt = np.empty(n, dtype=np.int64)
        for s in np.flatnonzero(np.diff(bounds)):
            rows = order[bounds[s]:bounds[s + 1]]
            nxt[rows] = _inverse_cdf(cumulative[t, s], u[t, rows])
        states[t + 1] = nxt
    return states.T


def _cumulative(rows):
    """Row-wise CDFs whose entries from the last positive one on are 2 (> any uniform)."""
    c = np.cumsum(rows, axis=1)
    last = rows.shape[1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)
    c[np.arange(rows.shape[1]) >= last[:, None]] = 2.0
    return c


def _inverse_cdf(cdf, u):
    return np.searchsorted(cdf, u, side="right").astype(np.int64)


# --- counts without chains ------------------------------------------------------------------


def _h_functions(chain, correct):
    """Pr(correct | status) (or Pr(wrong | status)) after each step of a :class:`~starlib.theory.TrackChain`.

    Returns arrays on, off of shape (T + 1, B); row t holds h after t steps, divided by
    its larger entry (only ratios within a row are used, so nothing underflows).
    """
    T = len(chain.follow)
    on = np.empty((T + 1,) + chain.follow.shape[1:])
    off = np.empty_like(on)
    on[T], off[T] = (1.0, 0.0) if correct else (0.0, 1.0)
    for t in range(T - 1, -1, -1):
        a, b = chain.backward(t, on[t + 1], off[t + 1])
        top = np.maximum(a, b)
        top[top == 0] = 1.0
        on[t], off[t] = a / top, b / top
    return on, off


def _split(rng, count, weights):
    """Multinomial split of ``count`` by unnormalised ``weights`` (a list), elementwise."""
    total = sum(weights)
    parts = []
    left = count
    rest = total
    for w in weights[:-1]:
        prob = np.divide(w, rest, out=np.zeros_like(rest), where=rest > 0)
        k = rng.binomial(left, np.clip(prob, 0.0, 1.0))
        parts.append(k)
        left = left - k
        rest = rest - w
    parts.append(left)
    return parts


def _push(rng, count, chain, correct):
    """Follow counts of ``count`` chains of a :class:`~starlib.theory.TrackChain` conditioned on correct
    (or wrong), shape (T, B): each move of the chain reweighted by h after it (the h-transform)."""
    on_h, off_h = _h_functions(chain, correct)
    T = len(chain.follow)
    on = count
    off = np.zeros_like(count)
    followed = np.empty((T,) + count.shape, dtype=np.int64)
    for t in range(T):
        stay_on, leave = _split(rng, on, [chain.follow[t] * on_h[t + 1], chain.leave[t] * off_h[t + 1]])
        back, stay_off, wander = _split(
            rng, off, [chain.back[t] * on_h[t + 1], chain.follow[t] * off_h[t + 1], chain.wander[t] * off_h[t + 1]])
        followed[t] = stay_on + stay_off
        on, off = stay_on + back, leave + stay_off + wander
    return followed


def _counts(x, eps, M, n, rng):
    """Step-major follow counts: kept (B,), followed_kept (T, B), followed_failed (T, B)."""
    A = np.clip(step_major_accuracy(x, M), 0.0, 1.0)
    kept = rng.binomial(n, A).astype(np.int64)
    chain = TrackChain(x, eps, M)
    followed_kept = _push(rng, kept, chain, correct=True)
    followed_failed = _push(rng, n - kept, chain, correct=False)
    return kept, followed_kept, followed_failed


def step_major_counts(x, eps, M, n, rng):
    """The counts of :func:`follow_counts` for follow probabilities already tempered and laid out step-major.

    ``x`` (T, B) holds the follow probabilities each chain is sampled with (one
    column per run, see :func:`starlib.theory.step_major`) and ``eps`` (T, B)
    their error rates 1 - x, given apart so that tiny error rates keep their
    digits. Returns (kept (B,), followed_kept (T, B), followed_failed (T, B)),
    int64, drawn as :func:`follow_counts` draws them: the building block of the
    policy-gradient estimators, which temper once and draw counts per iteration.
    Introduced in :doc:`/chapters/07_finite_samples`.
    """
    M = _checks.num_states(M)
    for name, arr in (("x", x), ("eps", eps)):
        if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.dtype.kind != "f":
            raise ValueError(f"{name} must be a float array of shape (T, B); got {name} = {arr!r:.80}")
        _checks.probabilities(arr, name, kind=FLOAT)
    if eps.shape != x.shape:
        raise ValueError(f"eps must have the shape of x, {x.shape}; got shape {eps.shape}")
    return _counts(x, eps, M, _checks.sampled_size(n), _checks.generator(rng))


def follow_counts(p, M, n, rng, temperature=1.0):
    """Sample the counts of one finite-sample STaR iteration, without sampling chains.

    n chains of the tied policy ``p`` (sampled at ``temperature``, see
    :func:`starlib.chain.tempered`) are summarised by a
    :class:`~starlib.sampling.FollowCounts`: how many are kept (correct), and how
    many kept and failed chains follow the ground truth at each step. The counts
    have exactly the joint distribution they have for chains drawn by
    :func:`sample_chains`, but are drawn through the conditioned on/off-track
    chain described in :mod:`starlib.sampling`, with O(T) binomial draws: the cost
    does not depend on n.

    ``p`` has the steps on its last axis; leading axes are a batch of independent
    runs, each with n chains. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    x, eps, M, shape = _tied(p, M, temperature)
    n = _checks.sampled_size(n)
    rng = _checks.generator(rng)
    kept, followed_kept, followed_failed = _counts(x, eps, M, n, rng)
    batch = shape[:-1]
    kept = kept.reshape(batch)
    failed = n - kept
    if not batch:
        kept, failed = int(kept), int(failed)
    return FollowCounts(kept, from_step_major(followed_kept, shape), failed,
                        from_step_major(followed_failed, shape))


def _no_kept(n, kept, shape):
    where = _checks._index(shape[:-1], int(np.argmax(np.ravel(kept) == 0)))
    return NoKeptChainsError(
        f"none of the n = {n} sampled chains reaches the correct answer"
        f"{' for p' + where if where else ''}, so STaR keeps no chains and its update is undefined"
    )


def star_step_mc(p, M, n, rng, temperature=1.0):
    """One finite-sample STaR update from n sampled chains (:prf:ref:`prop-finite-sample-variance`).

    Samples n chains at ``temperature`` (via :func:`follow_counts`), keeps the
    correct ones and refits each step by maximum likelihood:
    p_t' = followed_kept_t / kept. Its mean is close to
    :func:`starlib.theory.star_step` (exactly equal given kept > 0: the estimate
    is a ratio of counts, unbiased conditionally on kept) and its variance about
    p_t' (1 - p_t') / (n A). Raises :class:`~starlib.chain.NoKeptChainsError`
    when no chain is kept. ``p`` has the steps on its last axis; leading axes
    are a batch of independent runs. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    x, eps, M, shape = _tied(p, M, temperature)
    n = _checks.sampled_size(n)
    rng = _checks.generator(rng)
    kept, followed_kept, _ = _counts(x, eps, M, n, rng)
    if not kept.all():
        raise _no_kept(n, kept, shape)
    return from_step_major(followed_kept / kept, shape)


def star_iterates_mc(p0, M, n, iterations, rng, temperature=1.0):
    """The finite-sample STaR trajectory p^0, ..., p^iterations, shape (iterations + 1, ..., T).

    Each iteration samples n fresh chains at ``temperature`` from the current
    policy and refits as :func:`star_step_mc` does. **No kept chain.** If an
    iteration keeps none, the policy stays where it is for that iteration (a real
    run would sample again); the trajectory is never cut short. A step whose rate
    reaches exactly 0 or 1 stays there: no sampled chain can then disagree with
    it. Leading axes of ``p0`` are a batch of independent runs. Introduced in the
    chapter "Finite samples".
    """
    return _iterates_mc(p0, M, n, iterations, rng, temperature, lambda *args: _counts(*args)[:2])


def _iterates_mc(p0, M, n, iterations, rng, temperature, kept_counts):
    """Iterate a finite-sample refit; ``kept_counts(p, eps, M, n, rng)`` gives (kept, followed_kept)."""
    x, _, M, shape = _tied(p0, M, 1.0, name="p0")
    n = _checks.sampled_size(n)
    iterations = _checks.iterations(iterations)
    tau = float(_checks.temperature(temperature, FLOAT))
    rng = _checks.generator(rng)
    out = np.empty((iterations + 1,) + shape)
    out[0] = from_step_major(x, shape)
    for k in range(1, iterations + 1):
        sampled, eps = tempered_floats(x, None, M, tau)
        if eps is None:
            eps = 1.0 - sampled
        kept, followed_kept = kept_counts(sampled, eps, M, n, rng)
        x = np.divide(followed_kept, kept, out=x.copy(), where=kept > 0)
        out[k] = from_step_major(x, shape)
    return out


def sample_chains_per_question(policy, n, rng):
    """Sample n chains from every question of a Markov or history-aware tabular policy.

    ``policy`` is a Markov kernel (T, M, M), ``policy[t, s, s2] = Pr(s_{t+1} = s2 | s_t = s)``,
    or a history-aware one (T, M, M, M), ``policy[t, s0, s, s2]`` also conditioned
    on the question s_0 (the layout of :func:`starlib.tabular.history_star_step`).
    Rows must sum to 1. Returns an int64 array (M n, T + 1): n chains starting at
    question 0, then n at question 1, and so on, as in the authors' experiment,
    which samples a fixed number of chains per problem. One uniform per step,
    inverse-CDF; floats only. Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    policy = np.asarray(policy, dtype=float)
    if policy.ndim not in (3, 4):
        raise ValueError(f"policy must have shape (T, M, M) or (T, M, M, M); got shape {policy.shape}")
    history = policy.ndim == 4
    T, M = policy.shape[0], policy.shape[-1]
    if policy.shape[1:] != (M,) * (policy.ndim - 1):
        raise ValueError(f"policy must have shape (T, M, M) or (T, M, M, M); got shape {policy.shape}")
    _checks.kernels(policy.reshape(-1, M, M), FLOAT)
    n = _checks.sampled_size(n)
    rng = _checks.generator(rng)
    rows = policy.reshape(T, -1, M)
    states = np.empty((M * n, T + 1), dtype=np.int64)
    states[:, 0] = np.repeat(np.arange(M), n)
    u = rng.random((T, M * n))
    for t in range(T):
        row = states[:, 0] * M + states[:, t] if history else states[:, t]
        # Row r's CDF, shifted by 3 r, makes one sorted array for all rows (a CDF lies in [0, 2]).
        cdf = (_cumulative(rows[t]) + 3.0 * np.arange(len(rows[t]))[:, None]).ravel()
        states[:, t + 1] = _inverse_cdf(cdf, u[t] + 3.0 * row) - row * M
    return states


def rationalized_star_iterates_mc(p0, M, n, iterations, rng, temperature=1.0):
    """Finite-sample STaR with rationalization, p^0, ..., p^iterations, shape (iterations + 1, ..., T).

    Each iteration asks n questions and samples one chain per question at
    ``temperature``. A correct chain is kept; for a wrong one, a chain is
    generated with the correct answer as a hint, modelled as the same policy
    conditioned on reaching the correct answer (see
    :func:`starlib.tabular.rationalized_star_step`), and kept as if unhinted. For
    the tied policy with identity ground truth and uniform questions every
    question has the same success probability A, so the kept set is exactly n
    independent chains conditioned on success, where plain STaR
    (:func:`star_iterates_mc`) keeps Binomial(n, A) of them. Their follow counts
    are drawn through the conditioned on/off-track chain, as in
    :func:`follow_counts`, and the refit is p_t = followed_t / n. If the accuracy
    is 0, nothing can be rationalized and the policy stays where it is. Leading
    axes of ``p0`` are a batch of independent runs. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    def rationalized(sampled, eps, M, n, rng):
        count = np.where(step_major_accuracy(sampled, M) > 0, n, 0).astype(np.int64)
        return count, _push(rng, count, TrackChain(sampled, eps, M), correct=True)

    return _iterates_mc(p0, M, n, iterations, rng, temperature, rationalized)
