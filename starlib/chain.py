"""The chain model: chain-of-thought as a Markov chain over T steps.

A problem is solved in T steps through state sets S_0, ..., S_T of M states each;
a policy is one transition kernel per step, and the ground truth is one bijection
g_t per step. The pre-trained family mixes the ground truth with uniform guessing:
the ground-truth next state has probability p_t, each other state
(1 - p_t) / (M - 1). Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.

Every function accepts floats, and exact :class:`fractions.Fraction` input (then
it answers in Fractions); the elementwise ones accept SymPy symbols too.
"""

import itertools
import numbers
from collections import namedtuple
from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import FLOAT, SYMBOLIC


class NoKeptChainsError(ValueError):
    """STaR keeps no chains: the accuracy is 0, so its refit is undefined."""


def no_kept_chains(where=""):
    return NoKeptChainsError(
        f"the accuracy is 0{where}: no sampled chain reaches the correct answer, so STaR keeps "
        "no chains and its update is undefined"
    )


def _elementwise_follow(p, M):
    """Checked M and follow probabilities p of any shape, at least one of them, and their arithmetic."""
    M = _checks.num_states(M)
    arr, kind = _checks.probabilities(p, "p", kind=_checks.arithmetic_of(p, M), min_ndim=0)
    if arr.size == 0:
        raise ValueError(f"p must hold at least one follow probability; got p = {p!r}")
    return M, arr, kind


def margin(p, M):
    """The margin over chance, delta = (M p - 1) / (M - 1), of a step followed with probability p.

    delta = 0 is uniform guessing, delta = 1 the ground truth, and the smallest value
    is -1/(M - 1), at p = 0. Elementwise; introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    M, arr, kind = _elementwise_follow(p, M)
    return _checks.as_result(margin_formula(arr, M), kind)


def margin_formula(p, M):
    """The formula of :func:`margin`, (M p - 1) / (M - 1), on input the caller has checked.

    The one place this formula is written: :func:`margin`, the closed forms of
    :mod:`starlib.theory` and their inner loops use it. ``p`` is an array (floats,
    Fractions or SymPy objects) or a number, ``M`` the number of states; nothing is
    checked, so that the loops stay lean. In floats p = 1 gives exactly 1, so the
    optimum stays a fixed point of the STaR map. Introduced in
    :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    return (M * p - 1) / (M - 1)


def prob_from_margin(delta, M):
    """The follow probability p = delta + (1 - delta) / M of a step with margin delta.

    The inverse of :func:`margin`; delta must lie in [-1/(M - 1), 1]. Elementwise;
    introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    M = _checks.num_states(M)
    kind = _checks.arithmetic_of(delta, M)
    arr = _checks._as_array(delta, "delta", kind)
    if kind == FLOAT:
        low = -1.0 / (M - 1)
        bad = ~(np.isfinite(arr) & (arr >= low * (1 + 1e-15)) & (arr <= 1.0))
        if bad.any():
            i = int(np.argmax(bad.ravel()))
            raise ValueError(f"delta = {arr.ravel()[i]!r} is not a number in [-1/(M-1), 1] = [{low:.6g}, 1]")
        out = np.clip(arr + (1 - arr) / M, 0.0, 1.0)
    else:
        if not _checks._is_sympy(M):
            low = -_checks.Fraction(1, M - 1)
            _checks.check_in_range(arr, "delta", low, 1, low_text=f"-1/{M - 1}")
        out = arr + (1 - arr) / M
    return _checks.as_result(out, kind)


def tempered(p, M, temperature):
    """Follow probabilities of the policy sampled at a temperature
    (:prf:ref:`thm-temperature`).

    Sampling at temperature tau raises every probability to the power 1/tau and
    renormalises: p_tau = p^(1/tau) / (p^(1/tau) + (M - 1) q^(1/tau)), with
    q = (1 - p) / (M - 1). In floats it is computed from log-odds, so it neither
    underflows nor overflows for any tau > 0. Elementwise; introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    M, arr, kind = _elementwise_follow(p, M)
    tau = _checks.temperature(temperature, kind)
    if kind == FLOAT:
        return _checks.as_result(tempered_floats(arr, None, M, float(tau))[0], kind)
    return _checks.as_result(_tempered_objects(arr, M, tau, kind), kind)


def tempered_floats(p, eps, M, tau):
    """The float formula of :func:`tempered`: tempered (p, eps), each accurate in relative terms.

    ``p`` is a float array of follow probabilities and ``eps`` its error rates
    1 - p, or None, meaning 1 - p (it stays None when ``tau`` is 1, and then ``p``
    comes back as it is). ``M`` and the temperature ``tau`` (a float) are taken
    as given: nothing is checked, so that the loops of :mod:`starlib.theory` and
    :mod:`starlib.sampling`, which check their input once, stay lean. Introduced
    in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    if tau == 1.0:
        return p, eps
    if eps is None:
        eps = 1.0 - p
    with np.errstate(divide="ignore"):  # log(0) = -inf is the intended value
        log_odds_wrong = np.log(M - 1.0) + (np.log(eps / (M - 1.0)) - np.log(p)) / tau
    return np.exp(-np.logaddexp(0.0, log_odds_wrong)), np.exp(-np.logaddexp(0.0, -log_odds_wrong))


def _tempered_objects(p, M, tau, kind):
    if kind == SYMBOLIC:
        if tau == 1:  # the default temperature=1.0 must not turn p into p**1.0
            return p
        import sympy

        # A numeric temperature as an exact Rational, so no SymPy Floats creep in.
        power = 1 / (tau if _checks._is_sympy(tau) else sympy.Rational(tau))
    else:
        power = 1 / _checks.Fraction(tau)
        if power == 1:
            return p
        power = int(power)
    q = (1 - p) / (M - 1)
    return p**power / (p**power + (M - 1) * q**power)


def tied_kernels(p, M, g=None):
    """The pre-trained policy as explicit kernels, shape (T, M, M).

    ``P[t, s, s2] = Pr(s_{t+1} = s2 | s_t = s)``: probability ``p[t]`` on the
    ground-truth next state ``g[t, s]`` and ``(1 - p[t]) / (M - 1)`` on each other
    state. ``g`` defaults to the identity at every step, which is the relabelled
    form P_t = p_t I + q_t (J - I). Exact input gives Fraction entries.
    Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    M = _checks.num_states(M)
    arr, kind = _checks.probabilities(p, "p", kind=_checks.arithmetic_of(p, M))
    if arr.ndim != 1:
        raise ValueError(f"p must be one chain of follow probabilities, shape (T,); got shape {arr.shape}")
    T = arr.shape[0]
    g = np.tile(np.arange(M), (T, 1)) if g is None else _checks.ground_truth(g, T, M)
    dtype = float if kind == FLOAT else object
    P = np.empty((T, M, M), dtype=dtype)
    rows = np.arange(M)
    for t in range(T):
        P[t] = (1 - arr[t]) / (M - 1)
        P[t, rows, g[t]] = arr[t]
    return P


def answers(g):
    """The correct answer s_T* = g_T(...g_1(s_0)) for every question s_0, from g of shape (T, M).

    Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    g = np.asarray(g)
    if g.ndim != 2:
        raise ValueError(f"g must have shape (T, M); got shape {g.shape}")
    g = _checks.ground_truth(g, *g.shape)
    target = np.arange(g.shape[1])
    for step in g:
        target = step[target]
    return target


def enumerate_chains(P, q0):
    """Every chain (s_0, ..., s_T) with its probability, by brute force.

    Yields ``(states, probability)`` for all M^(T+1) chains, question s_0 drawn
    from ``q0`` and step t from ``P[t]``. Exact input (Fractions) gives exact
    probabilities. Meant for small M and T: the worked examples and the tests.
    Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    kind = _checks.arithmetic_of(P, q0)
    P = _checks.kernels(P, kind)
    q0 = _checks.distribution(q0, P.shape[1], kind)
    return _chains(P, q0)  # validated now, not at the first next()


def _chains(P, q0):
    T, M, _ = P.shape
    for states in itertools.product(range(M), repeat=T + 1):
        probability = q0[states[0]]
        for t in range(T):
            probability = probability * P[t, states[t], states[t + 1]]
        yield states, probability


EnumeratedStar = namedtuple("EnumeratedStar", "accuracy kept_follow kept_wrong_rate")
EnumeratedStar.__doc__ = """What one STaR iteration sees, found by enumerating every chain.

accuracy: Pr(final answer correct). kept_follow[t]: Pr(step t+1 follows the
ground truth | final answer correct), which is the refit follow probability.
kept_wrong_rate: Pr(some step does not follow the ground truth | final answer
correct)."""


def star_by_enumeration(P, g, q0):
    """Accuracy, STaR's refit follow rates and the kept-wrong rate, by brute force.

    Sums :func:`enumerate_chains` over all M^(T+1) chains, so it is independent of
    the closed forms in :mod:`starlib.theory` and checks them. Exact input gives
    Fractions. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    kind = _checks.arithmetic_of(P, q0)
    P = _checks.kernels(P, kind)  # first, so that a bad P is not reported as a bad g
    T, M = P.shape[:2]
    g = _checks.ground_truth(g, T, M)
    answer = answers(g)
    correct = faithful = 0
    followed = [0] * T
    for states, probability in enumerate_chains(P, q0):
        if states[-1] != answer[states[0]]:
            continue
        correct += probability
        follows = [states[t + 1] == g[t, states[t]] for t in range(T)]
        for t in range(T):
            followed[t] += probability * follows[t]
        faithful += probability * all(follows)
    if correct == 0:
        raise no_kept_chains()
    rates = np.array([f / correct for f in followed], dtype=float if kind == FLOAT else object)
    return EnumeratedStar(_checks.as_result(np.asarray(correct), kind), _checks.as_result(rates, kind),
                          _checks.as_result(np.asarray(1 - faithful / correct), kind))


def random_tied_instance(rng, M_range=(2, 4), T_range=(1, 3), denominators=(12,), max_chains=None):
    """A random instance of the pre-trained family in exact arithmetic: ``(M, p, g)``.

    M and T are drawn uniformly from the inclusive ranges ``M_range`` and
    ``T_range``; T is then lowered (never below 1) until the M^(T+1) chains number
    at most ``max_chains``. A denominator d is drawn from ``denominators``, where
    the string ``"M"`` stands for M itself (so that uniform steps, p_t = 1/M,
    occur); each p_t is a :class:`~fractions.Fraction` k/d with k uniform in
    0..d, so p_t = 0, p_t = 1 and below-chance steps occur. ``g`` holds one
    uniformly random bijection per step, shape (T, M). The generator behind the
    random exact checks of Chapters 1 to 3. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    rng = _checks.generator(rng)
    M_low, M_high = _integer_range(M_range, "M_range", 2)
    T_low, T_high = _integer_range(T_range, "T_range", 1)
    denominators = list(denominators) if isinstance(denominators, (list, tuple)) else None
    if not denominators or not all(
        d == "M" or (isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1)
        for d in denominators
    ):
        raise ValueError(
            f"denominators must be a non-empty list of integers >= 1 or the string 'M'; got {denominators!r}"
        )
    if max_chains is not None:
        max_chains = _checks.integer(max_chains, "max_chains", M_high**2, "at least M^2 for the largest M")
    M = int(rng.integers(M_low, M_high + 1))
    T = int(rng.integers(T_low, T_high + 1))
    while max_chains is not None and T > 1 and M ** (T + 1) > max_chains:
        T -= 1
    d = denominators[int(rng.integers(len(denominators)))]
    d = M if d == "M" else int(d)
    p = [Fraction(int(k), d) for k in rng.integers(0, d + 1, size=T)]
    g = np.array([rng.permutation(M) for _ in range(T)])
    return M, p, g


def _integer_range(value, name, low):
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of integers; got {value!r}") from None
    for x in (a, b):
        if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < low:
            raise ValueError(f"{name} must hold integers >= {low}; got {name} = {value!r}")
    if a > b:
        raise ValueError(f"{name} must have low <= high; got {name} = {value!r}")
    return int(a), int(b)


ChainOutcome = namedtuple("ChainOutcome", "states probability correct followed")
ChainOutcome.__doc__ = """One enumerated chain: its states (s_0, ..., s_T), its probability,
whether its answer s_T is the correct one, and for each step whether it followed
the ground truth (a tuple of T booleans)."""


def chain_outcomes(P, g, q0):
    """Every chain with its probability, correctness and followed steps, by brute force.

    Returns a list of one :class:`ChainOutcome` per chain, in the order of
    :func:`enumerate_chains`. Exact input gives exact probabilities. For the
    worked examples, whose tables list every chain. Introduced in :doc:`/chapters/01_star_as_a_markov_chain`.
    """
    kind = _checks.arithmetic_of(P, q0)
    P = _checks.kernels(P, kind)
    T, M = P.shape[:2]
    g = _checks.ground_truth(g, T, M)
    answer = answers(g)
    outcomes = []
    for states, probability in enumerate_chains(P, q0):
        followed = tuple(bool(states[t + 1] == g[t, states[t]]) for t in range(T))
        outcomes.append(ChainOutcome(states, probability, bool(states[-1] == answer[states[0]]), followed))
    return outcomes
