"""pass@k: how often at least one of k sampled chains is correct, exactly and from samples.

A policy solves question q with probability c_q (its per-question accuracy,
``question_accuracy`` of :func:`starlib.tabular.measure_policy`). Drawing k
independent chains per question, the share of questions with at least one
correct answer has mean

    pass@k = sum_q w_q (1 - (1 - c_q)^k),

with w_q the question weights (uniform by default). This module holds:

- :func:`pass_at_k`, the exact value, and :func:`pass_at_k_estimate`, the
  unbiased estimator 1 - C(n - c, k) / C(n, k) from n >= k samples of which c
  are correct (Chen et al. 2021);
- :func:`sampled_pass_at_k`, the estimate from n sampled chains per question;
- :func:`crossover_k`, the first k at which a base policy's pass@k overtakes a
  trained one's;
- :func:`pass_at_infinity`, the limit as k grows: the share of questions the
  policy can solve at all;
- :func:`question_chain_accuracy`, the probability that every step of a chain
  follows the ground truth, per question: the chain-level ("CoT") version of
  c_q, which counts only right answers reached through right steps;
- :func:`pass_at_k_trajectory` and :func:`finite_sample_pass_at_k_trajectory`, exact and
  finite-sample STaR iterates of a tabular policy with the per-question
  quantities pass@k needs, :func:`finite_sample_pass_at_k_runs` over many
  runs, and :func:`support_fraction`.

Floats give floats; Fractions give exact Fractions; :func:`pass_at_k` also
takes SymPy expressions. Introduced in :doc:`/chapters/13_pass_at_k`.
"""

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import EXACT, FLOAT, SYMBOLIC
from .chain import answers
from .sampling import sample_chains_per_question
from ._checks import tabular_policy as _prepare_kernel
from .tabular import history_star_step, measure_policy, refit_on_counts, tabular_star_step
from .zip_task import transition_counts


# --- validation -----------------------------------------------------------------------------


def _k_values(k, name="k"):
    """Validated k: one integer >= 1, or a 1-d array of them. Returns (ints array, scalar?)."""
    if _checks._is_sympy(k) and not k.is_number:
        return k, True
    values = np.atleast_1d(np.asarray(k, dtype=object))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be an integer >= 1 or a 1-d array of them; got {name} = {k!r}")
    for x in values:
        if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < 1:
            raise ValueError(f"{name} must hold integers >= 1 (numbers of samples); got {name} = {k!r}")
    return np.array([int(x) for x in values], dtype=np.int64), np.ndim(k) == 0


def _weights(question_weights, Q, kind):
    if question_weights is None:
        if kind == FLOAT:
            return np.full(Q, 1.0 / Q)
        return np.array([Fraction(1, Q)] * Q, dtype=object)
    w, _ = _checks.probabilities(question_weights, "question_weights", kind=kind)
    if w.shape != (Q,):
        raise ValueError(
            f"question_weights must have one weight per question, shape ({Q},); got shape {w.shape}"
        )
    total = w.sum()
    if kind != SYMBOLIC and abs(total - 1) > _checks.SUM_TOLERANCE:
        raise ValueError(f"question_weights must sum to 1; its entries sum to {total!r}")
    return w


# Float accuracies computed by sums of products can overshoot [0, 1] by rounding.
ROUNDING_TOLERANCE = 1e-12


def _question_array(value, name, kind):
    """Validated per-question accuracies; floats within ROUNDING_TOLERANCE of [0, 1] are clipped."""
    if kind == FLOAT:
        try:
            arr = np.array(value, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be an array of numbers; got {value!r}") from err
        near = np.isfinite(arr) & (arr >= -ROUNDING_TOLERANCE) & (arr <= 1 + ROUNDING_TOLERANCE)
        value = np.where(near, np.clip(arr, 0.0, 1.0), arr)
    arr, kind = _checks.probabilities(value, name, kind=kind)
    return arr, kind


# Float failure probabilities within this relative difference count as a tie (no crossover).
TIE_TOLERANCE = 1e-12


# --- pass@k, exact and estimated --------------------------------------------------------------


def pass_at_k(question_accuracy, k, question_weights=None):
    """The exact pass@k of a policy: sum_q w_q (1 - (1 - c_q)^k).

    ``question_accuracy`` holds c_q = Pr(correct | question q) on its last axis
    (for example ``measure_policy(...).question_accuracy``); leading axes are a
    batch (such as STaR iterations). ``k`` is an integer >= 1 or a 1-d array of
    them; ``question_weights`` (Q,) are the question probabilities, uniform when
    None. Returns an array of shape batch + k.shape (a scalar for one policy and
    one k). Floats give floats (computed as -expm1(k log1p(-c)), so small c and
    large k lose nothing); Fractions give Fractions; SymPy entries, and a SymPy
    symbol for k, give an expression. Introduced in :doc:`/chapters/13_pass_at_k`.
    """
    kind = _checks.arithmetic_of(question_accuracy, question_weights if question_weights is not None else 0)
    c, kind = _question_array(question_accuracy, "question_accuracy", kind)
    ks, scalar_k = _k_values(k)
    w = _weights(question_weights, c.shape[-1], kind)
    if kind == FLOAT and not isinstance(ks, np.ndarray):
        raise ValueError(f"a symbolic k needs symbolic or exact question_accuracy; got k = {k!r} with floats")
    if kind == FLOAT:
        with np.errstate(divide="ignore", invalid="ignore"):
            log_fail = np.log1p(-c)  # -inf where c = 1
        exponent = ks * log_fail[..., None]  # batch + (Q, K)
        solved = -np.expm1(np.where(np.isneginf(log_fail)[..., None], -np.inf, exponent))
        out = np.einsum("...qk,q->...k", solved, w)
    elif isinstance(ks, np.ndarray):
        out = np.empty(c.shape[:-1] + (len(ks),), dtype=object)
        for j, kk in enumerate(ks.tolist()):
            out[..., j] = ((1 - (1 - c) ** kk) * w).sum(axis=-1)
    else:  # a SymPy k
        out = np.empty(c.shape[:-1] + (1,), dtype=object)
        out[..., 0] = ((1 - (1 - c) ** ks) * w).sum(axis=-1)
    if scalar_k:
        out = out[..., 0]
    if kind == FLOAT:
        return float(out) if np.ndim(out) == 0 else out
    return out.tolist() if isinstance(out, np.ndarray) and out.ndim else (out.item() if isinstance(out, np.ndarray) else out)


def pass_at_infinity(question_accuracy, question_weights=None):
    """The limit of pass@k as k grows: the weight of the questions with c_q > 0.

    ``question_accuracy`` has the questions on its last axis (leading axes a
    batch), ``question_weights`` (Q,) as in :func:`pass_at_k`. A question that the
    policy can solve at all is solved by some sample once k is large enough, so
    this is the policy's coverage. Fractions give Fractions. Introduced in the
    chapter "pass@k: sharpening or new reasoning?".
    """
    kind = _checks.arithmetic_of(question_accuracy, question_weights if question_weights is not None else 0)
    if kind == SYMBOLIC:
        raise ValueError("question_accuracy must be floats or Fractions")
    c, kind = _question_array(question_accuracy, "question_accuracy", kind)
    w = _weights(question_weights, c.shape[-1], kind)
    solvable = np.array([x > 0 for x in c.ravel()], dtype=bool).reshape(c.shape)
    out = (np.where(solvable, 1, 0) * w).sum(axis=-1)
    if kind == FLOAT:
        return float(out) if np.ndim(out) == 0 else out.astype(float)
    return out.tolist() if isinstance(out, np.ndarray) else out


def _count(value, name, low, high=None, what=""):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low} ({what}); got {name} = {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} = {value!r} must be at most {high} ({what})")
    return int(value)


def pass_at_k_estimate(n, c, k, exact=False):
    """The unbiased estimate of pass@k from n samples of which c are correct: 1 - C(n - c, k)/C(n, k).

    Chen et al. (2021): of n >= k sampled answers to one question, c are
    correct; the estimate is the probability that a random k-subset of them
    holds at least one correct answer. Its mean over c ~ Binomial(n, c_q) is
    exactly 1 - (1 - c_q)^k, the question's pass@k. ``n`` and ``k`` are integers
    with 1 <= k <= n (k > n is a ValueError: the estimator needs at least k
    samples); ``c`` is an integer in [0, n], or an array of them (one per
    question), and the result has its shape. With ``exact=True`` the result is a
    Fraction (an object array for array ``c``); otherwise a float, computed as
    1 - prod_{i = n - c + 1}^{n} (1 - k / i), which neither overflows nor loses
    precision for large n. Introduced in :doc:`/chapters/13_pass_at_k`.
    """
    n = _count(n, "n", 1, what="the number of samples")
    k = _count(k, "k", 1, n, what="k must not exceed the number of samples n")
    if not isinstance(exact, bool):
        raise ValueError(f"exact must be True or False; got exact = {exact!r}")
    arr = np.asarray(c, dtype=object)
    flat = []
    for x in arr.ravel():
        flat.append(_count(x, "c", 0, n, what="the number of correct samples, at most n"))
    if arr.size == 0:
        raise ValueError(f"c must hold at least one count; got c = {c!r}")
    if exact:
        values = [1 - Fraction(math.comb(n - x, k), math.comb(n, k)) for x in flat]
    else:
        values = [1.0 if n - x < k else 1.0 - float(np.prod(1.0 - k / np.arange(n - x + 1, n + 1)))
                  for x in flat]
    if arr.ndim == 0:
        return values[0]
    return np.array(values, dtype=object if exact else float).reshape(arr.shape)


def sampled_pass_at_k(policy, g, n, k, rng, question_weights=None):
    """pass@k as a practitioner measures it: n sampled chains per question and the unbiased estimator.

    Samples n chains from every question of a Markov (T, M, M) or history-aware
    (T, M, M, M) ``policy`` (:func:`starlib.sampling.sample_chains_per_question`),
    counts the correct ones per question, and returns the weighted mean of
    :func:`pass_at_k_estimate` over questions, for each k (an integer, or a 1-d
    array of them, each at most n). Its mean over runs is the exact
    :func:`pass_at_k` of ``measure_policy(policy, g, q0).question_accuracy``.
    Floats. Introduced in :doc:`/chapters/13_pass_at_k`.
    """
    policy, kind = _prepare_kernel(policy, "policy")
    T, M = policy.shape[0], policy.shape[-1]
    g = _checks.ground_truth(g, T, M)
    n = _checks.sampled_size(n)
    ks, scalar_k = _k_values(k)
    if not isinstance(ks, np.ndarray):
        raise ValueError(f"k must be an integer or an array of integers; got k = {k!r}")
    w = _weights(question_weights, M, FLOAT)
    rng = _checks.generator(rng)
    chains = sample_chains_per_question(policy.astype(float), n, rng)
    correct = (chains[:, -1] == answers(g)[chains[:, 0]]).reshape(M, n).sum(axis=1)
    out = np.array([float(w @ pass_at_k_estimate(n, correct, int(kk))) for kk in ks])
    return float(out[0]) if scalar_k else out


def crossover_k(base_accuracy, trained_accuracy, question_weights=None, max_k=10**6):
    """The first k at which the base policy's pass@k is higher than the trained policy's.

    ``base_accuracy`` and ``trained_accuracy`` are per-question accuracies c_q of
    shape (Q,), ``question_weights`` (Q,) the question probabilities (uniform when
    None). Returns the smallest k in [1, max_k] with pass@k(base) > pass@k(trained),
    or None if there is none. As k grows, 1 - pass@k is dominated by the
    questions with the smallest c_q, so a crossover is found whenever the
    trained policy is worse than the base on the hardest questions. Floats are
    compared in the log domain (no underflow at large k), and failure
    probabilities within a relative 1e-12 of each other count as a tie;
    Fractions are compared exactly, scanning k one at a time (keep ``max_k``
    small). A trained policy at least as good on every question is behind at no k. Introduced in :doc:`/chapters/13_pass_at_k`.
    """
    kind = _checks.arithmetic_of(base_accuracy, trained_accuracy,
                                 question_weights if question_weights is not None else 0)
    if kind == SYMBOLIC:
        raise ValueError("base_accuracy and trained_accuracy must be floats or Fractions")
    base, _ = _question_array(base_accuracy, "base_accuracy", kind)
    trained, _ = _question_array(trained_accuracy, "trained_accuracy", kind)
    for name, arr in (("base_accuracy", base), ("trained_accuracy", trained)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must have shape (Q,), one accuracy per question; got shape {arr.shape}")
    if base.shape != trained.shape:
        raise ValueError(f"base_accuracy and trained_accuracy must have the same shape; got {base.shape} "
                         f"and {trained.shape}")
    max_k = _count(max_k, "max_k", 1, what="the largest k to try")
    w = _weights(question_weights, base.shape[0], kind)
    if all(a >= b for a, b in zip(trained, base)):
        return None  # better on every question: behind at no k
    if kind == EXACT:
        fail_base, fail_trained = 1 - base, 1 - trained
        power_base, power_trained = fail_base.copy(), fail_trained.copy()
        for k in range(1, max_k + 1):
            if (w * power_base).sum() < (w * power_trained).sum():
                return k
            power_base, power_trained = power_base * fail_base, power_trained * fail_trained
        return None
    with np.errstate(divide="ignore"):
        log_w = np.where(w > 0, np.log(np.where(w > 0, w, 1.0)), -np.inf)
        log_fail_base, log_fail_trained = np.log1p(-base), np.log1p(-trained)
    last = min(max_k, _last_possible_crossover(base, trained, w))
    start, chunk = 1, 64
    while start <= last:  # blocks of k that grow to 4096, since most crossovers come early
        ks = np.arange(start, min(start + chunk, last + 1))[:, None]
        start, chunk = start + chunk, min(4 * chunk, 4096)
        # base ahead: its failure probability sum_q w_q (1 - c_q)^k is the smaller one
        ahead = _log_failure(log_w, ks, log_fail_base) < _log_failure(log_w, ks, log_fail_trained) - TIE_TOLERANCE
        if ahead.any():
            return int(ks[np.argmax(ahead), 0])
    return None


def _last_possible_crossover(base, trained, w):
    """A k beyond which the base cannot be ahead any more (a large number if that is not bounded).

    With b and a the smallest base and trained accuracies over questions of positive weight,
    w_b the weight of the base's hardest questions: the base fails with probability at least
    w_b (1 - b)^k, the trained policy at most (1 - a)^k, so for a > b the base is behind once
    k >= log(w_b) / log((1 - a) / (1 - b)).
    """
    asked = w > 0
    b, a = base[asked].min(), trained[asked].min()
    if a == 1:
        return 0  # the trained policy never fails
    if a <= b:
        return np.iinfo(np.int64).max
    w_b = w[asked & (base == b)].sum()
    return int(np.ceil(np.log(w_b) / (np.log1p(-a) - np.log1p(-b)))) + 1


def _log_failure(log_w, ks, log_fail):
    """log sum_q w_q (1 - c_q)^k for every k in ``ks`` (K, 1), shifted so that nothing underflows."""
    with np.errstate(invalid="ignore"):
        terms = log_w + np.where(np.isneginf(log_fail), -np.inf, ks * log_fail)
    top = terms.max(axis=1)
    finite = np.isfinite(top)
    shift = np.where(finite, top, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(finite, shift + np.log(np.exp(terms - shift[:, None]).sum(axis=1)), -np.inf)


# --- chain-level accuracy ---------------------------------------------------------------------


def question_chain_accuracy(policy, g):
    """Pr(every step follows the ground truth | s_0 = q), for every question q, shape (M,).

    The chain-level (CoT) counterpart of ``measure_policy(...).question_accuracy``:
    a chain counts only if each of its steps is the ground-truth step
    s_t = g_t(s_{t-1}), so a right answer reached through a wrong intermediate
    state does not count. ``policy`` is a Markov (T, M, M) or history-aware
    (T, M, M, M) kernel in the layouts of :mod:`starlib.tabular`; ``g`` (T, M) the
    ground truth. ``pass_at_k(question_chain_accuracy(policy, g), k)`` is the
    chain-level pass@k. Fractions give Fractions. Introduced in :doc:`/chapters/13_pass_at_k`.
    """
    policy, _ = _prepare_kernel(policy, "policy")
    T, M = policy.shape[0], policy.shape[-1]
    g = _checks.ground_truth(g, T, M)
    questions = np.arange(M)
    track = questions.copy()
    out = np.ones(M, dtype=policy.dtype) if policy.dtype != object else np.array([Fraction(1)] * M, dtype=object)
    for t in range(T):
        step = policy[t, questions, track] if policy.ndim == 4 else policy[t, track]
        out = out * step[questions, g[t][track]]
        track = g[t][track]
    return out


# --- the policies and trajectories of the chapter -------------------------------------------


@dataclass(frozen=True)
class PassAtKTrajectory:
    """Per-question measurements along STaR iterations; returned by :func:`pass_at_k_trajectory`
    and :func:`finite_sample_pass_at_k_trajectory`.

    ``question_accuracy`` (iterations + 1, M): c_q at each iteration, the input of
    :func:`pass_at_k`. ``question_chain_accuracy`` (iterations + 1, M): the
    chain-level version (:func:`question_chain_accuracy`). ``support``
    (iterations + 1,): :func:`support_fraction` of each iterate against the start.
    ``support_grew``: whether any iterate gave mass to a transition that the
    start gives 0. ``policies``: the iterates, a list of kernels.
    """

    question_accuracy: np.ndarray
    question_chain_accuracy: np.ndarray
    support: np.ndarray
    support_grew: bool
    policies: list


def support_fraction(policy, base):
    """The share of the base policy's possible transitions that ``policy`` still allows.

    Both are kernels of the same shape (Markov or history-aware); the result is
    (number of entries positive in both) / (number positive in ``base``), a float
    in [0, 1]. Introduced in :doc:`/chapters/13_pass_at_k`.
    """
    policy, _ = _prepare_kernel(policy, "policy")
    base, _ = _prepare_kernel(base, "base")
    if policy.shape != base.shape:
        raise ValueError(f"policy and base must have the same shape; got {policy.shape} and {base.shape}")
    on_base = _positive(base)
    return float((on_base & _positive(policy)).sum() / on_base.sum())


def _positive(arr):
    """Where a kernel is positive, as a boolean array (entrywise for Fractions)."""
    if arr.dtype != object:
        return arr > 0
    return np.array([x > 0 for x in arr.ravel()], dtype=bool).reshape(arr.shape)


def _support_grew(policy, base):
    return bool(np.any(_positive(policy) & ~_positive(base)))


def _trajectory(policies, g, q0):
    base = policies[0]
    measured = [measure_policy(P, g, q0).question_accuracy for P in policies]
    chain = [question_chain_accuracy(P, g) for P in policies]
    dtype = object if base.dtype == object else float
    return PassAtKTrajectory(
        np.array(measured, dtype=dtype), np.array(chain, dtype=dtype),
        np.array([support_fraction(P, base) for P in policies]),
        any(_support_grew(P, base) for P in policies), policies,
    )


def pass_at_k_trajectory(policy, g, q0, iterations):
    """Exact, infinite-sample STaR from a tabular ``policy``, measured for pass@k.

    ``policy`` is Markov (T, M, M) (updated by
    :func:`starlib.tabular.tabular_star_step`) or history-aware (T, M, M, M)
    (:func:`starlib.tabular.history_star_step`); ``g`` (T, M) the ground truth,
    ``q0`` (M,) the question distribution. Returns a :class:`PassAtKTrajectory`
    of iterations 0..iterations. Fractions stay exact. Introduced in the
    chapter "pass@k: sharpening or new reasoning?".
    """
    policy, kind = _prepare_kernel(policy, "policy", (3, 4), q0)
    iterations = _checks.iterations(iterations)
    step = tabular_star_step if policy.ndim == 3 else history_star_step
    policies = [policy]
    for _ in range(iterations):
        policies.append(step(policies[-1], g, q0))
    return _trajectory(policies, g, q0)


def finite_sample_pass_at_k_trajectory(policy, g, n, iterations, rng):
    """Finite-sample STaR from a tabular ``policy``: n chains per question per iteration.

    Each iteration samples n chains from every question of the current policy
    (:func:`starlib.sampling.sample_chains_per_question`, the authors' layout),
    keeps those whose answer is correct, and refits every visited row on the
    kept transition counts (:func:`starlib.tabular.refit_on_counts`); rows no
    kept chain visits keep their values, and an iteration that keeps nothing
    leaves the policy as it is. ``policy`` is Markov (T, M, M) or history-aware
    (T, M, M, M), floats; ``g`` (T, M) the ground truth. Questions are weighted
    uniformly in the measurements. Returns a :class:`PassAtKTrajectory`.
    Introduced in :doc:`/chapters/13_pass_at_k`.
    """
    policy, kind = _prepare_kernel(policy, "policy")
    if kind != FLOAT:
        raise ValueError("finite-sample STaR samples in floats; pass policy as floats")
    T, M = policy.shape[0], policy.shape[-1]
    g = _checks.ground_truth(g, T, M)
    n = _checks.sampled_size(n)
    iterations = _checks.iterations(iterations)
    rng = _checks.generator(rng)
    context = "markov" if policy.ndim == 3 else "history"
    answer = answers(g)
    policies = [policy]
    for _ in range(iterations):
        chains = sample_chains_per_question(policies[-1], n, rng)
        kept = chains[chains[:, -1] == answer[chains[:, 0]]]
        counts = transition_counts(kept, M, context)
        policies.append(refit_on_counts(policies[-1], counts))
    return _trajectory(policies, g, np.full(M, 1.0 / M))


@dataclass(frozen=True)
class FiniteSampleRuns:
    """Independent finite-sample STaR runs; returned by :func:`finite_sample_pass_at_k_runs`.

    Every array has shape (runs, iterations + 1); entry [r, i] is about run r's
    policy after i iterations, measured exactly from its kernel with uniform
    question weights. ``crossover``: :func:`crossover_k` of iteration i against
    the start, ``inf`` where the start never overtakes it. ``support``:
    :func:`support_fraction` against the start. ``coverage``:
    :func:`pass_at_infinity`. ``pass_at_1``: the accuracy.
    """

    crossover: np.ndarray
    support: np.ndarray
    coverage: np.ndarray
    pass_at_1: np.ndarray


def finite_sample_pass_at_k_runs(policy, g, n, iterations, runs, rng, max_k=10**6):
    """``runs`` independent :func:`finite_sample_pass_at_k_trajectory` runs from one start, measured for pass@k.

    Returns a :class:`FiniteSampleRuns`. ``n`` chains per question per
    iteration; ``max_k`` bounds the search of :func:`crossover_k`. Introduced in
    :doc:`/chapters/13_pass_at_k`.
    """
    runs = _checks.integer(runs, "runs", 1, "a number of independent runs")
    rng = _checks.generator(rng)
    shape = (runs, _checks.iterations(iterations) + 1)
    crossover, support, coverage, first = (np.empty(shape) for _ in range(4))
    for r in range(runs):
        trajectory = finite_sample_pass_at_k_trajectory(policy, g, n, iterations, rng)
        c = trajectory.question_accuracy
        found = [crossover_k(c[0], c[i], max_k=max_k) for i in range(shape[1])]
        crossover[r] = [np.inf if k is None else k for k in found]
        support[r] = trajectory.support
        coverage[r] = pass_at_infinity(c)
        first[r] = pass_at_k(c, 1)
    return FiniteSampleRuns(crossover, support, coverage, first)
