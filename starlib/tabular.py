"""Exact STaR for general tabular policies: Markov kernels and history-aware kernels,
measurements of any policy, and rationalization.

Two kinds of tabular policy over T steps and M states per step:

- a **Markov** policy, an array ``P`` of shape (T, M, M) with
  ``P[t, s, s2] = Pr(s_{t+1} = s2 | s_t = s)``: the next step sees the current
  state only (the chain model of :doc:`/chapters/01_star_as_a_markov_chain`);
- a **history-aware** policy, an array ``H`` of shape (T, M, M, M) with
  ``H[t, s0, s, s2] = Pr(s_{t+1} = s2 | s_0 = s0, s_t = s)``: the next step also
  sees the question. At t = 0 the current state is the question itself, so the
  rows ``H[0, s0, s]`` with ``s != s0`` are never used; every function here
  requires them to be probability distributions all the same, and the STaR
  updates return them unchanged. :func:`markov_as_history` embeds a Markov
  policy as a history-aware one.

``g`` (T, M) holds the ground-truth next states, ``g[t, s]`` being the correct
successor of state s at step t + 1; it may be any map (several states may merge
into one), and the correct answer to a question is :func:`starlib.chain.answers`
of ``g``. Where a statement of the theory needs bijections, the docstring says
so. ``q0`` (M,) is the question distribution.

Every function computes by forward and backward passes over the steps (no
enumeration of chains): Pr(s_0, s_t) forwards and Pr(correct | s_0, s_t)
backwards, vectorised in NumPy, so a history-aware policy with M = 64 and T = 3
takes milliseconds. Fractions give exact results, floats float results.
Introduced in :doc:`/chapters/01_star_as_a_markov_chain` (the Markov accuracy and refit) and in :doc:`/chapters/08_beyond_the_markov_assumption` (everything else).
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import FLOAT, SYMBOLIC
from .chain import answers, no_kept_chains


# --- validation -----------------------------------------------------------------------------


def _prepare_policy(policy, g, q0, name, ndims):
    """Validated (policy, g, q0, kind); ``ndims`` lists the allowed numbers of axes (3, 4)."""
    policy, kind = _checks.tabular_policy(policy, name, ndims, q0)
    T, M = policy.shape[0], policy.shape[-1]
    g = _checks.ground_truth(g, T, M)
    q0 = _checks.distribution(q0, M, kind)
    return policy, g, q0, kind


def _history_view(policy):
    """A history-aware view (T, M, M, M) of a Markov (T, M, M) or history-aware policy."""
    if policy.ndim == 4:
        return policy
    T, M, _ = policy.shape
    return np.broadcast_to(policy[:, None, :, :], (T, M, M, M))


# --- the Markov kernels of :doc:`/chapters/01_star_as_a_markov_chain` --------------------------------------------------------


def tabular_accuracy(P, g, q0):
    """The accuracy of a general tabular Markov policy.

    ``P[t, s, s2] = Pr(s_{t+1} = s2 | s_t = s)``, ``g[t, s]`` the ground-truth next
    state, ``q0`` the question distribution. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    P, g, q0, kind = _checks.tabular_inputs(P, g, q0)
    return _checks.as_result(_history_parts(_history_view(P), g, q0)[2], kind)


def tabular_star_step(P, g, q0):
    """The exact STaR update of a general tabular Markov policy.

    ``P`` has shape (T, M, M) with ``P[t, s, s2] = Pr(s_{t+1} = s2 | s_t = s)``;
    ``g`` (T, M) holds the ground-truth next states and ``q0`` (M,) the question
    distribution. Returns the refit kernel: each row is the distribution of the
    next state among kept (correct) chains that visit that state. Rows of states
    that no successful chain visits keep their old values. Exact input
    (Fractions) gives an exact kernel. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`; :doc:`/chapters/08_beyond_the_markov_assumption` takes it beyond the tied family.
    """
    P, g, q0, _ = _checks.tabular_inputs(P, g, q0)
    return _star_refit(P, g, q0, _plain_star_weights)


# --- history-aware policies -----------------------------------------------------------------


def markov_as_history(P):
    """A Markov policy (T, M, M) as the history-aware policy (T, M, M, M) that ignores s_0.

    ``H[t, s0, s, s2] = P[t, s, s2]`` for every question s0. Fractions stay
    Fractions. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    kind = _checks.arithmetic_of(P)
    if kind == SYMBOLIC:
        raise ValueError("P must hold floats or Fractions; symbolic kernels are not supported")
    P = _checks.kernels(P, kind)
    return np.ascontiguousarray(_history_view(P))


def _zero_like(q0):
    return q0[0] * 0


def _history_parts(H, g, q0):
    """Forward joints, backward success probabilities and the accuracy of a history-aware policy.

    forward[t][s0, s] = Pr(s_0 = s0, s_t = s); success[t][s0, s] = Pr(s_T = answer(s0) |
    s_0 = s0, s_t = s); A = Pr(correct). Works on object arrays (Fractions) and floats.
    """
    T, M = H.shape[0], H.shape[-1]
    answer = answers(g)
    zero = _zero_like(q0)
    forward = [np.diag(q0) + zero]
    for t in range(T):
        if H.dtype == object:
            forward.append((forward[t][:, :, None] * H[t]).sum(axis=1))
        else:
            forward.append(np.einsum("as,asb->ab", forward[t], H[t]))
    last = np.zeros((M, M), dtype=H.dtype) + zero
    last[np.arange(M), answer] = zero + 1
    success = [None] * T + [last]
    for t in range(T - 1, -1, -1):
        if H.dtype == object:
            success[t] = (H[t] * success[t + 1][:, None, :]).sum(axis=2)
        else:
            success[t] = np.einsum("asb,ab->as", H[t], success[t + 1])
    A = forward[T][np.arange(M), answer].sum()
    return forward, success, A


def _question_success(success, M):
    """Pr(correct | s_0 = s0) for every question, shape (M,)."""
    return success[0][np.arange(M), np.arange(M)]


def _refit_rows(old, kept):
    """Normalise ``kept`` along its last axis; rows of zero mass keep ``old``'s values."""
    mass = kept.sum(axis=-1)
    visited = np.array([m > 0 for m in mass.ravel()], dtype=bool).reshape(mass.shape)
    safe = np.where(visited, mass, 1)
    return np.where(visited[..., None], kept / safe[..., None], old)


def _plain_star_weights(c):
    """Plain STaR: every question's successful chains enter the kept set as they come."""
    return np.ones(len(c), dtype=int)


def _star_refit(policy, g, q0, weight_by_question):
    """The exact refit of a Markov or history-aware ``policy`` on kept chains.

    ``weight_by_question(c)`` gives, from c[s0] = Pr(correct | s0), the factor by which
    each question's success-conditioned chains enter the kept set beyond q0(s0) c(s0)
    (ones for plain STaR).
    """
    H = _history_view(policy)
    T, M = H.shape[0], H.shape[-1]
    forward, success, A = _history_parts(H, g, q0)
    c = _question_success(success, M)
    if A == 0:
        raise no_kept_chains()
    scale = weight_by_question(c)
    refit = np.array(policy, copy=True)
    for t in range(T):
        # kept[s0, s, s2] = weight x Pr(s_0 = s0, s_t = s, s_t+1 = s2, correct)
        kept = (forward[t] * scale[:, None])[:, :, None] * H[t] * success[t + 1][:, None, :]
        if policy.ndim == 3:
            kept = kept.sum(axis=0)
        refit[t] = _refit_rows(policy[t], kept)
    return refit


def history_star_step(H, g, q0):
    """The exact, infinite-sample STaR update of a history-aware tabular policy.

    ``H`` has shape (T, M, M, M) with ``H[t, s0, s, s2] = Pr(s_{t+1} = s2 | s_0 = s0,
    s_t = s)``; at t = 0 the current state is the question, so the rows
    ``H[0, s0, s]`` with ``s != s0`` are never used and are returned unchanged.
    ``g`` (T, M) are the ground-truth next states (any map, not necessarily
    bijective) and ``q0`` (M,) the question distribution, as in
    :func:`starlib.tabular.tabular_star_step`.

    The refit row (t, s0, s) is Pr(s_{t+1} = s2 | s_0 = s0, s_t = s, final answer
    correct): the old row reweighted by Pr(correct | s0, s_{t+1} = s2) and
    renormalised. Rows that no correct chain visits keep their values. Fractions
    give an exact result, floats a float one. Raises
    :class:`~starlib.chain.NoKeptChainsError` when the accuracy is 0. Introduced
    in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    H, g, q0, _ = _prepare_policy(H, g, q0, "H", (4,))
    return _star_refit(H, g, q0, _plain_star_weights)


# --- measurements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyMeasurement:
    """What a tabular policy does; returned by :func:`starlib.tabular.measure_policy`.

    ``accuracy``: Pr(final answer correct).
    ``question_accuracy`` (M,): Pr(correct | s_0 = s0) for every question (also for
    questions of probability 0).
    ``step_follow`` (T,): entry t - 1 is Pr(s_t = g_t(s_{t-1})), the probability
    that step t follows the ground truth from wherever the chain is.
    ``kept_follow`` (T,): the same among correct chains; for a tied Markov
    policy with bijective g this is the next policy's follow probability.
    ``kept_wrong_rate``: Pr(some step does not follow g | correct).
    ``recovery_rate``: Pr(correct | s_{T-1} is not the ground-truth state of step
    T - 1), how often the last step reaches the right answer from a wrong
    intermediate state. A tied Markov policy with bijective g recovers with
    probability (1 - p_T)/(M - 1); a policy that reads the answer off the question
    recovers always. None when T = 1 or no chain leaves the ground truth before
    the last step.
    The two kept quantities are None when the accuracy is 0. Fractions for exact
    input (arrays of dtype object), floats otherwise.
    """

    accuracy: object
    question_accuracy: np.ndarray
    step_follow: np.ndarray
    kept_follow: object
    kept_wrong_rate: object
    recovery_rate: object


def measure_policy(policy, g, q0):
    """Accuracy, per-question accuracy and step follow rates of a Markov or history-aware policy.

    ``policy`` is a Markov kernel (T, M, M), ``policy[t, s, s2] = Pr(s_{t+1} = s2 |
    s_t = s)``, or a history-aware one (T, M, M, M), as in
    :func:`starlib.tabular.history_star_step`; ``g`` (T, M) the ground truth (any
    map) and ``q0`` (M,) the question distribution. Returns a
    :class:`~starlib.tabular.PolicyMeasurement`. Exact with Fractions; in floats it is
    vectorised (a history-aware policy with M = 64, T = 3 takes milliseconds).
    Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    policy, g, q0, kind = _prepare_policy(policy, g, q0, "policy", (3, 4))
    H = _history_view(policy)
    T, M = H.shape[0], H.shape[-1]
    forward, success, A = _history_parts(H, g, q0)
    states = np.arange(M)
    follow = np.empty(T, dtype=H.dtype)
    kept_follow = np.empty(T, dtype=H.dtype)
    track = states.copy()  # track[s0] = the ground-truth state after t steps from question s0
    faithful = q0.copy()  # Pr(s_0 = s0 and every step so far followed g)
    for t in range(T):
        if t == T - 1:  # chains whose state before the last step is off the ground truth
            off = np.ones((M, M), dtype=bool)
            off[states, track] = False
            off_path = forward[t][off].sum()
            off_path_correct = (forward[t] * success[t])[off].sum()
        on_g = H[t][:, states, g[t]]  # on_g[s0, s] = Pr(step t + 1 follows g | s0, s_t = s)
        joint = forward[t] * on_g
        follow[t] = joint.sum()
        kept_follow[t] = (joint * success[t + 1][:, g[t]]).sum()
        faithful = faithful * H[t][states, track, g[t][track]]
        track = g[t][track]
    c = _question_success(success, M)
    if A == 0:
        kept_step, kept_wrong = None, None
    else:
        kept_step = kept_follow / A
        kept_wrong = 1 - faithful.sum() / A
    recovery = off_path_correct / off_path if off_path != 0 else None
    if kind == FLOAT:
        A = float(A)
        kept_wrong = None if kept_wrong is None else float(np.clip(kept_wrong, 0.0, 1.0))
        recovery = None if recovery is None else float(np.clip(recovery, 0.0, 1.0))
    return PolicyMeasurement(A, c, follow, kept_step, kept_wrong, recovery)


def refit_on_counts(policy, counts):
    """The maximum-likelihood refit of a tabular policy on finitely many chains, given as transition counts.

    ``policy`` is a Markov (T, M, M) or history-aware (T, M, M, M) kernel and
    ``counts`` an array of the same shape of non-negative integers, such as
    :func:`starlib.zip_task.transition_counts` of the kept chains of one STaR
    round. Every row with a count becomes its counts normalised; rows without
    keep their values, as in the infinite-sample updates
    :func:`starlib.tabular.tabular_star_step` and
    :func:`starlib.tabular.history_star_step`, which this approaches as the
    number of kept chains grows. Fractions give an exact result. Introduced in
    :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    policy, kind = _checks.tabular_policy(policy, "policy")
    counts = np.asarray(counts)
    if counts.shape != policy.shape:
        raise ValueError(f"counts must have the shape of policy, {policy.shape}; got shape {counts.shape}")
    if not np.issubdtype(counts.dtype, np.integer) or (counts.size and counts.min() < 0):
        raise ValueError("counts must be non-negative integers")
    kept = np.vectorize(Fraction, otypes=[object])(counts) if kind != FLOAT else counts.astype(float)
    return _refit_rows(policy, kept)


def tempered_policy(policy, temperature):
    """The policy that sampling at ``temperature`` follows, each row raised to the power 1/temperature and renormalised.

    ``policy`` is a Markov (T, M, M) or history-aware (T, M, M, M) kernel. Floats
    are tempered in the log domain, so small entries neither underflow nor
    overflow; Fractions need 1/temperature to be an integer and stay exact. For
    a tied policy this is :func:`starlib.chain.tempered` of its follow
    probabilities. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    policy, kind = _checks.tabular_policy(policy, "policy")
    tau = _checks.temperature(temperature, kind)
    if kind == FLOAT:
        with np.errstate(divide="ignore"):  # log(0) = -inf keeps impossible moves impossible
            return tempered_rows(np.log(policy), tau)
    raised = policy ** int(1 / Fraction(tau))
    return raised / raised.sum(axis=-1, keepdims=True)


def tempered_rows(log_probabilities, temperature):
    """Rows proportional to p^(1/temperature), from log p: the kernel tempering, in the log domain.

    Each row (last axis) of ``log_probabilities`` holds log-probabilities, or any
    scores that are log-probabilities up to a constant per row (a model's
    log-softmax, say); -inf marks an impossible move, and each row needs one
    finite entry. Returns exp(z - max z) renormalised along the last axis, with
    z = log_probabilities / temperature, so small probabilities neither underflow
    nor overflow for any temperature > 0. The one home of this formula:
    :func:`tempered_policy` (kernels) and
    :func:`starlib.transformer.kernels_from_scores` (a network's scores) use it.
    For a tied policy it agrees with :func:`starlib.chain.tempered`, derived
    in closed form. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    tau = float(_checks.temperature(temperature, FLOAT))
    try:
        z = np.asarray(log_probabilities, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"log_probabilities must be an array of numbers; got {log_probabilities!r:.80}") from err
    if isinstance(log_probabilities, str) or z.ndim < 1 or z.shape[-1] == 0:
        raise ValueError(f"log_probabilities must have at least one entry per row; got {log_probabilities!r:.80}")
    if np.isnan(z).any() or (z == np.inf).any():
        raise ValueError("log_probabilities must not hold NaN or +inf (-inf marks an impossible move)")
    z = z / tau
    top = z.max(axis=-1, keepdims=True)
    if not np.isfinite(top).all():
        raise ValueError("log_probabilities must have a finite entry in every row (a possible move)")
    raised = np.exp(z - top)
    raised /= raised.sum(axis=-1, keepdims=True)
    return raised


# --- rationalization ------------------------------------------------------------------------


def rationalized_star_step(policy, g, q0):
    """The exact, infinite-sample STaR update with rationalization (hint-based regeneration).

    The model of rationalization: each question s0 ~ q0 gets one sampled chain.
    If its answer is correct the chain is kept. If not, a chain is generated with
    the correct answer as a hint, modelled as the same policy conditioned on
    reaching the correct answer, and kept as if no hint had been given. A
    question whose success probability c(s0) = Pr(correct | s0) is 0 cannot be
    rationalized (the conditioning is undefined) and contributes nothing. With
    infinitely many questions, every question with c(s0) > 0 therefore
    contributes its success-conditioned chain distribution with weight q0(s0),
    where plain STaR (:func:`starlib.tabular.tabular_star_step`) weights it
    q0(s0) c(s0); the refit is maximum likelihood on that mixture.

    Consequences (derived in :doc:`/chapters/08_beyond_the_markov_assumption`): for a
    history-aware policy every row already conditions on s0, so the weights cancel
    and the update equals :func:`starlib.tabular.history_star_step`; for a Markov
    policy it differs from plain STaR only when c(s0) varies across asked
    questions (for a tied policy with bijective g, c(s0) = A for every question
    and nothing changes).

    ``policy`` is a Markov (T, M, M) or history-aware (T, M, M, M) kernel, ``g``
    (T, M) any ground-truth map, ``q0`` (M,) the question distribution. Rows that
    no kept chain visits keep their values. Exact with Fractions. Raises
    :class:`~starlib.chain.NoKeptChainsError` when the accuracy is 0.
    """
    policy, g, q0, _ = _prepare_policy(policy, g, q0, "policy", (3, 4))

    def weights(c):
        solvable = np.array([x > 0 for x in c], dtype=bool)
        return np.where(solvable, 1 / np.where(solvable, c, 1), 0 * c)

    return _star_refit(policy, g, q0, weights)


def tied_spread(P, g):
    """How far a Markov policy is from the tied (pre-trained) family, per step, shape (T,).

    Entry t is the larger of two ranges: max - min over rows s of the follow
    probability ``P[t, s, g[t, s]]``, and max - min of all other entries
    ``P[t, s, s2]`` with s2 != g[t, s]. It is 0 exactly when step t is tied:
    every row puts the same p_t on its ground-truth state and the same
    (1 - p_t) / (M - 1) elsewhere. Fractions give Fractions. Introduced in the
    chapter "Where the idealised theory stops".
    """
    kind = _checks.arithmetic_of(P)
    if kind == SYMBOLIC:
        raise ValueError("P must hold floats or Fractions; symbolic kernels are not supported")
    P = _checks.kernels(P, kind)
    T, M, _ = P.shape
    g = _checks.ground_truth(g, T, M)
    out = np.empty(T, dtype=P.dtype)
    rows = np.arange(M)
    for t in range(T):
        on = P[t][rows, g[t]]
        mask = np.ones((M, M), dtype=bool)
        mask[rows, g[t]] = False
        off = P[t][mask]
        out[t] = max(on.max() - on.min(), off.max() - off.min())
    return out


# --- random instances and experiments of :doc:`/chapters/08_beyond_the_markov_assumption` -----


def _size(value, name, low=1):
    return _checks.integer(value, name, low, "a size")


def random_tabular_policy(rng, M, T, history=False):
    """A random exact tabular policy, Markov (T, M, M) or history-aware (T, M, M, M), in Fractions.

    Each row's weights are integers 0..3 plus a 30% chance of one more, so many
    rows have zeros (some moves, and so some questions, are impossible); a row of
    zero weights puts all its mass on state 0. Meant as test data for the exact
    checks, it draws from ``rng`` only. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    rng = _checks.generator(rng)
    M = _checks.num_states(M)
    T = _size(T, "T")
    shape = (T, M, M, M) if history else (T, M, M)
    weights = rng.integers(0, 4, size=shape) + (rng.random(shape) < 0.3)
    weights[weights.sum(axis=-1) == 0, 0] = 1
    exact = np.vectorize(Fraction, otypes=[object])(weights)
    return exact / weights.sum(axis=-1, keepdims=True)


def random_question_distribution(rng, M):
    """A random exact question distribution (M,): integer weights 1..4, normalised, in Fractions.

    Every question has probability at least 1/(4M). Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    rng = _checks.generator(rng)
    M = _checks.num_states(M)
    w = rng.integers(1, 5, size=M)
    return np.array([Fraction(int(x), int(w.sum())) for x in w], dtype=object)


def random_ground_truth(rng, M, T, bijective=True):
    """Random ground-truth maps (T, M): a random permutation per step, or any map if not ``bijective``.

    Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    rng = _checks.generator(rng)
    M = _checks.num_states(M)
    T = _size(T, "T")
    if bijective:
        return np.array([rng.permutation(M) for _ in range(T)])
    return rng.integers(0, M, size=(T, M))


def random_follow_probabilities(rng, M, T, denominator, above_chance=False):
    """Random exact follow probabilities (T,) for a tied start, as a list of Fractions.

    With ``above_chance`` False each p_t is k / denominator, k uniform in
    1..denominator; with it True each margin is k / denominator, so p_t =
    1/M + k (1 - 1/M) / denominator is above chance. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    rng = _checks.generator(rng)
    M = _checks.num_states(M)
    T = _size(T, "T")
    denominator = _size(denominator, "denominator")
    ks = rng.integers(1, denominator + 1, size=T)
    if above_chance:
        return [Fraction(1, M) + Fraction(int(k), denominator) * (1 - Fraction(1, M)) for k in ks]
    return [Fraction(int(k), denominator) for k in ks]


def _permutations(sigma, count, M):
    try:
        arr = np.asarray(sigma)
    except (TypeError, ValueError) as err:
        raise ValueError(f"sigma must be {count} permutations of range({M}); got {sigma!r}") from err
    if arr.shape != (count, M) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"sigma must be an integer array of shape ({count}, {M}), one permutation per "
                         f"layer; got shape {arr.shape}")
    for t, row in enumerate(arr):
        if sorted(row.tolist()) != list(range(M)):
            raise ValueError(f"sigma[{t}] must be a permutation of range({M}); got {row.tolist()}")
    return arr


def relabel(policy, g, q0, sigma):
    """The same policy, ground truth and questions with the states of layer t renamed by ``sigma[t]``.

    ``sigma`` holds T + 1 permutations, one per layer s_0, ..., s_T. State s of
    layer t becomes ``sigma[t][s]``: the kernel entry P[t, s, s2] moves to
    ``[t, sigma[t][s], sigma[t + 1][s2]]`` (for a history-aware policy the
    question index moves by ``sigma[0]`` too), g[t] becomes
    sigma[t + 1] o g[t] o sigma[t]^-1 and q0 becomes q0 o sigma[0]^-1. Returns
    (policy, g, q0). The equivariance step of :prf:ref:`thm-tabular-tied` says that
    the exact STaR update commutes with this map. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    policy, g, q0, _ = _prepare_policy(policy, g, q0, "policy", (3, 4))
    T, M = policy.shape[0], policy.shape[-1]
    sigma = _permutations(sigma, T + 1, M)
    inverse = [np.argsort(s) for s in sigma]
    out = np.empty_like(policy)
    for t in range(T):
        if policy.ndim == 3:
            out[t][np.ix_(sigma[t], sigma[t + 1])] = policy[t]
        else:
            out[t][np.ix_(sigma[0], sigma[t], sigma[t + 1])] = policy[t]
    g_new = np.array([sigma[t + 1][g[t][inverse[t]]] for t in range(T)])
    return out, g_new, q0[inverse[0]]


def per_question_tied_kernels(follow, g):
    """A Markov policy with one follow probability per question, shape (T, M, M).

    ``g`` (T, M) must be bijections, so that the ground-truth tracks s_0,
    g_1(s_0), g_2(g_1(s_0)), ... of different questions never share a state. Every
    row on the track of question s0 follows g with probability ``follow[s0]`` and
    spreads the rest uniformly over the other M - 1 states: the tied row of
    :func:`starlib.chain.tied_kernels` with that question's p. Floats or Fractions.
    Introduced in :doc:`/chapters/08_beyond_the_markov_assumption` (uneven difficulty).
    """
    kind = _checks.arithmetic_of(follow)
    if kind == SYMBOLIC:
        raise ValueError("follow must hold floats or Fractions; symbolic kernels are not supported")
    follow, _ = _checks.probabilities(follow, "follow", kind=kind)
    if follow.ndim != 1:
        raise ValueError(f"follow must have shape (M,), one probability per question; got shape {follow.shape}")
    if follow.size < 2:
        raise ValueError(f"follow must give one probability to each of M >= 2 questions; got shape {follow.shape}")
    M = int(follow.size)
    try:
        T = np.asarray(g).shape[0]
    except (TypeError, ValueError, IndexError) as err:
        raise ValueError(f"g must be an integer array of shape (T, {M}); got {g!r}") from err
    g = _checks.ground_truth(g, T, M)
    for t in range(T):
        if sorted(g[t].tolist()) != list(range(M)):
            raise ValueError(f"g[{t}] must be a bijection (a permutation of range({M})); got {g[t].tolist()}")
    P = np.empty((T, M, M), dtype=follow.dtype)
    track = np.arange(M)
    for t in range(T):
        rows = np.broadcast_to(((1 - follow) / (M - 1))[:, None], (M, M)).copy()
        rows[np.arange(M), g[t][track]] = follow
        P[t][track] = rows
        track = g[t][track]
    return P


def exact_star_trajectory(policy, g, q0, iterations, rationalized=False):
    """Measurements of the exact STaR iterates 0, ..., ``iterations`` of a tabular policy.

    A list of :class:`PolicyMeasurement`, one per iterate. The update is
    :func:`history_star_step` for a history-aware policy (T, M, M, M),
    :func:`tabular_star_step` for a Markov one (T, M, M), or
    :func:`rationalized_star_step` when ``rationalized``. Exact with Fractions.
    Raises :class:`~starlib.chain.NoKeptChainsError` if an iterate has accuracy
    0. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    policy, g, q0, _ = _prepare_policy(policy, g, q0, "policy", (3, 4))
    iterations = _checks.iterations(iterations)
    if rationalized:
        step = rationalized_star_step
    else:
        step = history_star_step if policy.ndim == 4 else tabular_star_step
    out = [measure_policy(policy, g, q0)]
    for _ in range(iterations):
        policy = step(policy, g, q0)
        out.append(measure_policy(policy, g, q0))
    return out


def iterations_to_level(values, level):
    """The first index along axis 0 at which ``values`` reaches ``level``, inf where it never does.

    ``values`` has shape (iterations + 1, ...), such as accuracies of a batch of
    runs; returns a float array of shape values.shape[1:] (a float for one run).
    Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    arr, _ = _checks.probabilities(values, "values", kind=FLOAT, min_ndim=1)
    level, _ = _checks.probabilities(level, "level", kind=FLOAT, min_ndim=0)
    if level.ndim != 0:
        raise ValueError(f"level must be one number in [0, 1]; got shape {level.shape}")
    hit = arr >= float(level)
    out = np.where(hit.any(axis=0), np.argmax(hit, axis=0), np.inf).astype(float)
    return float(out) if out.ndim == 0 else out


def runs_to_level(p0, M, n, iterations, runs, level, rng, rationalized=False):
    """Iterations each of ``runs`` finite-sample STaR runs needs to reach accuracy ``level``, shape (runs,).

    Every run starts at the tied policy ``p0`` (T,) and follows
    :func:`starlib.sampling.star_iterates_mc`, or
    :func:`starlib.sampling.rationalized_star_iterates_mc` when ``rationalized``,
    with n questions per iteration for ``iterations`` iterations; entry r is the
    first iteration whose accuracy :func:`starlib.theory.accuracy` is at least
    ``level``, inf if none is. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    from .sampling import rationalized_star_iterates_mc, star_iterates_mc
    from .theory import accuracy

    arr = _checks.one_policy(p0, "p0")
    runs = _checks.int64_count(runs, "runs", 1, "a number of independent runs")
    level = _checks.target_accuracy(level)
    sampler = rationalized_star_iterates_mc if rationalized else star_iterates_mc
    trajectory = sampler(np.broadcast_to(arr, (runs, arr.size)), M, n, iterations, rng)
    return iterations_to_level(accuracy(trajectory, M), level)


@dataclass(frozen=True)
class UntiedStartRuns:
    """Exact STaR from untied starts; returned by :func:`untied_start_runs`.

    One entry per start r: ``num_states`` (starts,) its M; ``spread`` and
    ``accuracy`` (starts, iterations + 1) the largest :func:`tied_spread` over steps
    and the accuracy at every iterate; ``min_step_follow`` (starts,) the smallest
    step follow rate of the last iterate; ``below_chance`` (starts,) the share of
    the start's rows whose follow probability is below 1/M; ``deterministic``
    (starts,) whether every row of the last iterate puts more than 1 - 1e-6 on one
    state; ``ground_truth_steps`` (starts,) how many steps of the last iterate have
    their largest entries on g. ``starts``, ``finals`` and ``ground_truths`` hold
    the kernels and maps.
    """

    num_states: np.ndarray
    spread: np.ndarray
    accuracy: np.ndarray
    min_step_follow: np.ndarray
    below_chance: np.ndarray
    deterministic: np.ndarray
    ground_truth_steps: np.ndarray
    starts: list
    finals: list
    ground_truths: list

    @property
    def solved(self):
        """(starts,) whether the last iterate has accuracy 1 (within 1e-9)."""
        return self.accuracy[:, -1] > 1 - 1e-9

    @property
    def faithful(self):
        """(starts,) solved, and every step of the last iterate follows g with probability > 1 - 1e-6."""
        return self.solved & (self.min_step_follow > 1 - 1e-6)


UNTIED_STARTS = ("perturbed pre-trained", "random rows")


def untied_start_runs(start, rng, starts=60, iterations=40, T=3):
    """Exact float STaR on untied Markov starts with random bijections and uniform questions.

    Each start draws M uniform in 3..5, a random bijection per step and random
    rows (uniform on the simplex). ``start`` is ``"random rows"`` (those rows
    as they are) or ``"perturbed pre-trained"`` (80% of a tied policy with one
    margin uniform in [0.1, 0.4] for every step, plus 20% of the random rows).
    Runs :func:`tabular_star_step` ``iterations`` times from each and returns an
    :class:`UntiedStartRuns`. Introduced in :doc:`/chapters/08_beyond_the_markov_assumption`.
    """
    from .chain import prob_from_margin, tied_kernels

    if start not in UNTIED_STARTS:
        raise ValueError(f"start must be one of {UNTIED_STARTS}; got start = {start!r}")
    rng = _checks.generator(rng)
    starts = _size(starts, "starts")
    iterations = _checks.iterations(iterations)
    T = _size(T, "T")
    fields = {k: [] for k in ("num_states", "spread", "accuracy", "min_step_follow", "below_chance",
                              "deterministic", "ground_truth_steps", "starts", "finals", "ground_truths")}
    for _ in range(starts):
        M = int(rng.integers(3, 6))
        g = np.array([rng.permutation(M) for _ in range(T)])
        q0 = np.full(M, 1 / M)
        P = rng.dirichlet(np.ones(M), size=(T, M))
        if start == "perturbed pre-trained":
            p = [prob_from_margin(rng.uniform(0.1, 0.4), M)] * T
            P = 0.8 * tied_kernels(p, M, g) + 0.2 * P
        first = P
        rows = np.arange(M)
        below = float(np.mean([P[t][rows, g[t]] < 1 / M for t in range(T)]))
        spread, acc = [], []
        for n in range(iterations + 1):
            if n:
                P = tabular_star_step(P, g, q0)
            spread.append(float(tied_spread(P, g).max()))
            acc.append(float(tabular_accuracy(P, g, q0)))
        seen = measure_policy(P, g, q0)
        on_g = sum(bool((P[t].argmax(axis=1) == g[t]).all()) for t in range(T))
        for key, value in (("num_states", M), ("spread", spread), ("accuracy", acc),
                           ("min_step_follow", float(seen.step_follow.min())), ("below_chance", below),
                           ("deterministic", bool((P.max(axis=-1) > 1 - 1e-6).all())),
                           ("ground_truth_steps", on_g), ("starts", first), ("finals", P), ("ground_truths", g)):
            fields[key].append(value)
    arrays = {k: np.array(v) for k, v in fields.items() if k not in ("starts", "finals", "ground_truths")}
    return UntiedStartRuns(**arrays, starts=fields["starts"], finals=fields["finals"],
                           ground_truths=fields["ground_truths"])
