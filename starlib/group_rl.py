"""Group-based RL on verifiable rewards (RFT, Dr. GRPO, GRPO, Reinforce-Rej) in the exact model.

Each method samples G chains per question, rewards a chain r = 1 for a correct
final answer and 0 otherwise, turns the G rewards of a group into advantages
adv_i, and moves the parameters by

    learning_rate * (1/G) sum_i adv_i * score_i,     score_i = d log pi(chain_i) / d p_t.

**Conventions.** The tied policy with identity ground truth (every relabelled
tied policy is one; see :func:`starlib.chain.tied_kernels`). In the tied model
all questions are alike, so one question stands for all: a batch of questions
has the same expected step as one group. The score is taken in the
p-coordinates of :doc:`/chapters/09_star_versus_policy_gradient`: 1/p_t for a step
that follows the ground truth and -1/(1 - p_t) for one that does not (at a
temperature tau != 1, the score of the tempered sampling policy with respect to
the untempered p_t, as in :func:`starlib.policy_gradient.reinforce_step`).
The learning rate is 1 unless given. The advantages of the methods:

- ``"rft"``: adv = r. Supervised fine-tuning on the successes, read as a
  gradient step (rejection-sampling fine-tuning, RAFT, ReST-EM, STaR's filter);
- ``"dr_grpo"``: adv = r - mean(r), REINFORCE with the group-mean baseline (Dr. GRPO);
- ``"grpo"``: adv = (r - mean(r)) / std(r), with the population standard
  deviation (``std="sample"``: the sample one), and adv = 0 where std = 0;
- ``"reinforce_rej"``: adv = r in a group whose rewards are not all equal, and
  0 in a group whose rewards are (Reinforce-Rej drops those groups).

**Left out on purpose.** One reward per chain, 0 or 1 (with rewards +-1 the
all-wrong filter of Reinforce-Rej would matter too); every chain has exactly T
steps, so GRPO's per-response length normalisation ``1/|o_i|`` is the constant 1/T
and is absorbed in the learning rate; the step is the first gradient step at
the sampling policy, where every probability ratio is 1 and PPO-style clipping
does not act; no KL penalty.

**The result** (:prf:ref:`thm-one-direction`). Every method's
expected step is a scalar weight times one direction, the gradient of the
accuracy: E[step_t] = learning_rate * w(A, G) * dA/dp_t, with
dA/dp_t = D_{-t} at tau = 1 (:func:`starlib.theory.accuracy_gradient`). Only the
weight depends on the method:

- RFT: w = 1;  Dr. GRPO: w = 1 - 1/G;  Reinforce-Rej: w = 1 - A^(G-1);
- GRPO: w = E[sqrt(K (G - K))] / (G A (1 - A)) with K ~ Binomial(G, A), which is
  sum_j C(G-1, j) A^j (1-A)^(G-1-j) [sqrt((G-1-j)/(j+1)) + sqrt(j/(G-j))] and
  equals sqrt(G - 1) at A = 0 and at A = 1 (times sqrt((G-1)/G) with the sample std).

The STaR refit of Part II is the natural-gradient step p_t(1 - p_t) D_{-t} / A:
weight 1/A on the direction p_t(1 - p_t) D_{-t}. The same lemma holds question
by question for any policy, which gives the per-question weights of the
uneven-difficulty model (:prf:ref:`prop-per-question-weights`, :func:`tabular_group_step`).
No-signal groups: :prf:ref:`prop-no-signal`; the surrogate loss: :prf:ref:`prop-surrogate-zero`.
Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
"""

import math
import numbers
from collections import namedtuple
from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import EXACT, FLOAT, SYMBOLIC
from ._checks import as_result as _result
from .chain import tempered, tempered_floats as _tempered_floats
from .policy_gradient import chain_scores
from .sampling import sample_chains
from .tabular import measure_policy, per_question_tied_kernels, tabular_star_step
from .theory import accuracy, accuracy_gradient, from_step_major as _from_step_major, step_major as _step_major

METHODS = ("rft", "dr_grpo", "grpo", "reinforce_rej")
STDS = ("population", "sample")


# --- input checks ---------------------------------------------------------------------------


def _method(method, allowed=METHODS):
    if not isinstance(method, str) or method not in allowed:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in allowed)}; got method = {method!r}")
    return method


def _group_size(G, name="G"):
    return _checks.int64_count(G, name, 1, "the number of chains sampled per question")


def _std(std, G):
    if not isinstance(std, str) or std not in STDS:
        raise ValueError(f"std must be 'population' or 'sample'; got std = {std!r}")
    if std == "sample" and G < 2:
        raise ValueError(f"the sample standard deviation needs G >= 2 chains per group; got G = {G!r}")
    return std


def _accuracies(A, name="A"):
    """Validated accuracies (any shape), their arithmetic and shape."""
    kind = _checks.arithmetic_of(A)
    arr, kind = _checks.probabilities(A, name, kind=kind, min_ndim=0)
    return arr, kind


def _sqrt(x, kind):
    if kind == FLOAT:
        return math.sqrt(x)
    import sympy

    return sympy.sqrt(sympy.Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else x)


def _sympy_rational(x):
    import sympy

    x = Fraction(x)
    return sympy.Rational(x.numerator, x.denominator)


def _exact_number(x):
    """A Fraction, or a SymPy number where the value is irrational."""
    import sympy

    if isinstance(x, (Fraction, numbers.Integral)):
        return Fraction(x)
    x = sympy.expand(sympy.sympify(x))
    if x.is_Rational:
        return Fraction(int(x.p), int(x.q))
    return x


# --- no-signal groups -----------------------------------------------------------------------


def zero_signal_probability(A, G):
    """The probability A^G + (1 - A)^G that all G rewards of a group are equal
    (:prf:ref:`prop-no-signal`).

    Such a group gives every chain the advantage 0 under Dr. GRPO, GRPO and
    Reinforce-Rej: it carries no signal. Elementwise in ``A`` (floats, Fractions
    or SymPy). Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    G = _group_size(G)
    arr, kind = _accuracies(A)
    return _result(arr**G + (1 - arr) ** G, kind)


def informative_groups(A, G, questions):
    """The expected number of groups with a signal in a batch: questions (1 - A^G - (1 - A)^G).

    ``questions`` is the number of questions (groups) per batch. Elementwise in ``A``.
    Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    questions = _checks.integer(questions, "questions", 1, "the number of questions per batch")
    G = _group_size(G)
    arr, kind = _accuracies(A)
    return _result(questions * (1 - arr**G - (1 - arr) ** G), kind)


def group_size_for_signal(A, informative=0.5, max_group_size=10**7):
    """The smallest G whose groups carry a signal with probability >= ``informative``.

    Solves 1 - A^G - (1 - A)^G >= informative for one accuracy ``A`` in (0, 1) and
    ``informative`` in (0, 1). For small A the answer is close to
    ln(1 / (1 - informative)) / A, about 0.69 / A for one group in two. Raises
    ValueError if no G up to ``max_group_size`` suffices. Introduced in the
    chapter "One gradient, different weights".
    """
    a = float(_checks.probabilities(A, "A", kind=FLOAT, min_ndim=0)[0])
    if not 0 < a < 1:
        raise ValueError(f"A must lie strictly inside (0, 1) for a group to carry a signal; got A = {A!r}")
    level = float(_checks.probabilities(informative, "informative", kind=FLOAT, min_ndim=0)[0])
    if not 0 < level < 1:
        raise ValueError(f"informative must lie strictly inside (0, 1); got informative = {informative!r}")
    max_group_size = _checks.integer(max_group_size, "max_group_size", 2, "the largest group size tried")
    low, high = 1, 2
    signal = lambda g: 1 - a**g - (1 - a) ** g  # noqa: E731  increasing in g
    while signal(high) < level:
        low, high = high, 2 * high
        if low > max_group_size:
            raise ValueError(f"no group size up to max_group_size = {max_group_size} reaches informative = {level}")
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if signal(mid) < level else (low, mid)
    return low if signal(low) >= level else high


# --- the weights ----------------------------------------------------------------------------


def _elementwise(fn, arr, kind):
    if kind == FLOAT:
        return _result(fn(arr), kind)
    out = np.empty(arr.shape, dtype=object)
    for i, x in np.ndenumerate(arr):
        out[i] = fn(x)
    return _result(out, kind)


def rft_weight(A, G):
    """The weight of RFT as a gradient (adv = r): w = 1, whatever A and G.

    Returns ones of ``A``'s shape. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    _group_size(G)
    arr, kind = _accuracies(A)
    return _elementwise(lambda a: a * 0 + 1, arr, kind)


def dr_grpo_weight(A, G):
    """The weight of Dr. GRPO (adv = r - group mean): w = 1 - 1/G, whatever A.

    The group mean contains the chain's own reward, which removes 1/G of the
    signal. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    G = _group_size(G)
    arr, kind = _accuracies(A)
    share = 1 - 1 / G if kind == FLOAT else 1 - Fraction(1, G)
    return _elementwise(lambda a: a * 0 + share, arr, kind)


def reinforce_rej_weight(A, G):
    """The weight of Reinforce-Rej (adv = r, groups with all rewards equal dropped): w = 1 - A^(G-1).

    Dropping the all-wrong groups changes nothing with 0/1 rewards (their
    advantages are 0 already); dropping the all-right groups removes the share
    A^(G-1) of RFT's signal, the chance that the G - 1 other chains of a
    success's group succeed too. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    G = _group_size(G)
    arr, kind = _accuracies(A)
    return _elementwise(lambda a: 1 - a ** (G - 1), arr, kind)


def _grpo_coefficients(G, kind):
    """c_j = sqrt((G-1-j)/(j+1)) + sqrt(j/(G-j)), j = 0..G-1: the advantage gap at j other successes."""
    if kind == FLOAT:
        j = np.arange(G, dtype=float)
        return np.sqrt((G - 1 - j) / (j + 1)) + np.sqrt(j / (G - j))
    return [_sqrt(Fraction(G - 1 - j, j + 1), kind) + _sqrt(Fraction(j, G - j), kind) for j in range(G)]


def _binomial_pmf_floats(A, n):
    """Pr(K = j), K ~ Binomial(n, A), j = 0..n, on a new last axis; exact 0 ** 0 = 1 at the ends."""
    j = np.arange(n + 1, dtype=float)
    log_comb = np.array([math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) for k in range(n + 1)])
    a = A[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a = np.where(j == 0, 0.0, j * np.log(a))
        log_b = np.where(j == n, 0.0, (n - j) * np.log1p(-a))
    return np.exp(log_comb + log_a + log_b)


def grpo_weight(A, G, std="population"):
    """The weight of GRPO: w = E[sqrt(K (G - K))] / (G A (1 - A)), K ~ Binomial(G, A).

    Computed in the form that is finite at A = 0 and A = 1,

        w = sum_{j=0}^{G-1} C(G-1, j) A^j (1-A)^(G-1-j) [sqrt((G-1-j)/(j+1)) + sqrt(j/(G-j))],

    where j counts the successes among the G - 1 other chains of the group; it
    equals sqrt(G - 1) at A = 0 and A = 1 and about 1/sqrt(A (1 - A)) for large G.
    With ``std="sample"`` (the sample standard deviation, G >= 2) the advantages,
    and w, are smaller by sqrt((G - 1)/G). Floats (any shape), Fractions (an exact
    SymPy number, a Fraction where rational) or SymPy symbols for A.
    Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    G = _group_size(G)
    std = _std(std, G)
    arr, kind = _accuracies(A)
    coefficients = _grpo_coefficients(G, kind)
    if kind == FLOAT:
        w = _binomial_pmf_floats(arr, G - 1) @ coefficients
        if std == "sample":
            w = w * math.sqrt((G - 1) / G)
        return _result(w, kind)
    import sympy

    shrink = sympy.sqrt(sympy.Rational(G - 1, G)) if std == "sample" else 1

    def one(a):
        a = sympy.Rational(a.numerator, a.denominator) if isinstance(a, Fraction) else a
        total = sum(math.comb(G - 1, j) * a**j * (1 - a) ** (G - 1 - j) * c for j, c in enumerate(coefficients))
        total = sympy.expand(total * shrink)
        return _exact_number(total) if kind == EXACT else total

    return _elementwise(one, arr, kind)


def star_refit_weight(A):
    """The weight 1/A of the STaR refit on its direction p_t (1 - p_t) D_{-t} (a natural-gradient step).

    The exact STaR map moves p_t by p_t (1 - p_t) D_{-t} / A
    (:prf:ref:`thm-natural-gradient`). Needs A > 0. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    arr, kind = _accuracies(A)
    zero = np.array([a == 0 for a in arr.ravel()])
    if zero.any():
        raise ValueError(f"A must be > 0 for the STaR refit (it keeps no chain at A = 0); got A = {A!r}")
    return _elementwise(lambda a: 1 / a, arr, kind)


def group_weight(A, G, method, std="population"):
    """w(A, G) of ``method`` ("rft", "dr_grpo", "grpo", "reinforce_rej"): E[step_t] = w dA/dp_t.

    Dispatches to :func:`rft_weight`, :func:`dr_grpo_weight`, :func:`grpo_weight`
    (which takes ``std``) and :func:`reinforce_rej_weight`. Introduced in the
    chapter "One gradient, different weights".
    """
    method = _method(method)
    if method == "grpo":
        return grpo_weight(A, G, std)
    _std(std, _group_size(G))
    return {"rft": rft_weight, "dr_grpo": dr_grpo_weight, "reinforce_rej": reinforce_rej_weight}[method](A, G)


# --- advantages -----------------------------------------------------------------------------


def advantage(reward, successes, G, method, std="population"):
    """The advantage of one chain with reward ``reward`` in a group of G with ``successes`` rewards 1.

    Every method's advantage depends on the group only through its number of
    successes K; this is the rule a(r, K) of each method (see
    :mod:`starlib.group_rl`). Exact: a Fraction, or a SymPy number for GRPO's
    square roots; a float where ``std`` and the inputs ask for nothing exact is
    never returned. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    G = _group_size(G)
    method = _method(method)
    std = _std(std, G)
    if reward not in (0, 1) or isinstance(reward, bool) or not isinstance(reward, numbers.Integral):
        raise ValueError(f"reward must be 0 or 1; got reward = {reward!r}")
    successes = _checks.integer(successes, "successes", 0, "the number of rewards 1 in the group")
    if successes > G or successes < reward or successes > G - 1 + reward:
        raise ValueError(
            f"successes must count the group's rewards 1, between {reward} and {G - 1 + reward} "
            f"for a chain with reward {reward} in a group of G = {G}; got successes = {successes}"
        )
    informative = 0 < successes < G
    if method == "rft":
        return Fraction(reward)
    if method == "reinforce_rej":
        return Fraction(reward if informative else 0)
    centred = reward - Fraction(successes, G)
    if method == "dr_grpo":
        return centred
    if not informative:
        return Fraction(0)
    import sympy

    variance = Fraction(successes * (G - successes), G * G)
    if std == "sample":
        variance = variance * Fraction(G, G - 1)
    return _exact_number(sympy.Rational(centred.numerator, centred.denominator) / _sqrt(variance, EXACT))


def group_advantages(rewards, method, std="population"):
    """The advantages of every chain, floats, for rewards of shape (..., G) (the last axis a group).

    Rewards must be 0 or 1. Under ``"grpo"``, adv = (r - mean) / std within the
    group (population std, or the sample one with ``std="sample"``) and 0 where
    std = 0. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    method = _method(method)
    try:
        r = np.asarray(rewards)
    except (TypeError, ValueError) as err:
        raise ValueError(f"rewards must be an array of 0s and 1s; got {rewards!r}") from err
    if r.ndim < 1 or r.shape[-1] == 0:
        raise ValueError(f"rewards must have at least one chain on its last axis; got shape {r.shape}")
    if r.dtype == object or not ((r == 0) | (r == 1)).all():
        raise ValueError("rewards must hold only 0s and 1s")
    r = r.astype(float)
    G = r.shape[-1]
    std = _std(std, G)
    mean = r.mean(axis=-1, keepdims=True)
    informative = (mean > 0) & (mean < 1)
    if method == "rft":
        return r
    if method == "reinforce_rej":
        return np.where(informative, r, 0.0)
    centred = r - mean
    if method == "dr_grpo":
        return centred
    spread = np.sqrt(mean * (1 - mean) * (G / (G - 1) if std == "sample" else 1.0))
    return np.where(informative, centred / np.where(informative, spread, 1.0), 0.0)


# --- the expected step of the tied model ----------------------------------------------------


def expected_group_step(p, M, G, method, temperature=1.0, learning_rate=1.0, std="population"):
    """The expected change of every p_t in one group update: learning_rate * w(A, G) * dA/dp_t.

    ``method`` is "rft", "dr_grpo", "grpo" or "reinforce_rej" (see
    :mod:`starlib.group_rl` for the advantages and the conventions). At
    ``temperature`` tau the chains are drawn from the tempered policy p_tau
    (:func:`starlib.chain.tempered`), A is its accuracy and dA/dp_t its gradient
    with respect to the untempered p_t, D_{-t}(p_tau) p_tau (1 - p_tau) /
    (tau p_t (1 - p_t)); tau != 1 needs every p_t strictly inside (0, 1). No clip:
    this is the expectation of the unclipped step. ``p`` has the steps on its last
    axis; leading axes are a batch, as in :func:`starlib.theory.star_step`.
    Floats, Fractions (exact; GRPO's weight then is a SymPy number where it is
    irrational) or SymPy symbols. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    M = _checks.num_states(M)
    G = _group_size(G)
    method = _method(method)
    std = _std(std, G)
    learning_rate = _checks.learning_rate(learning_rate)
    kind = _checks.arithmetic_of(p, M, learning_rate)
    arr, kind = _checks.probabilities(p, "p", kind=kind)
    tau = _checks.temperature(temperature, kind)
    untempered = tau == 1
    if not untempered:
        inside = [(0 < x) and (x < 1) for x in arr.ravel()] if kind != FLOAT else ((arr > 0) & (arr < 1)).ravel()
        if not all(inside):
            raise ValueError(f"p must lie strictly inside (0, 1) at a temperature other than 1; got p = {p!r}")
    if kind == FLOAT:
        x = _step_major(arr)
        sampled = x if untempered else _tempered_floats(x, None, M, float(tau))[0]
        sampled = _from_step_major(sampled, arr.shape)
        A = np.asarray(accuracy(sampled, M))
        w = np.asarray(group_weight(A, G, method, std))[..., None]
        step = learning_rate * w * accuracy_gradient(sampled, M)
        if not untempered:
            step = step * sampled * (1 - sampled) / (float(tau) * arr * (1 - arr))
        return step
    sampled = arr if untempered else np.array(tempered(arr.tolist(), M, tau), dtype=object)
    A = np.array(accuracy(sampled.tolist(), M), dtype=object)
    w = np.array(group_weight(A.tolist(), G, method, std), dtype=object)
    gradient = np.array(accuracy_gradient(sampled.tolist(), M), dtype=object)
    if isinstance(learning_rate, float):  # an exact call keeps a float learning rate exact
        learning_rate = Fraction(learning_rate) if kind == EXACT else _sympy_rational(learning_rate)
    step = learning_rate * w[..., None] * gradient
    if not untempered:
        step = step * sampled * (1 - sampled) / (tau * arr * (1 - arr))
    if kind == EXACT:
        step = np.vectorize(_exact_number, otypes=[object])(step)
    return step.tolist()


# --- sampled groups -------------------------------------------------------------------------


def sample_groups(p, M, G, questions, rng, temperature=1.0):
    """G chains for each of ``questions`` questions: rewards (questions, G) and follow flags (questions, G, T).

    The chains come from :func:`starlib.sampling.sample_chains`. Question b is
    s_0 = b mod M; each chain is relabelled by the cyclic shift s -> s + b - s_0
    (mod M) of every state, which maps the tied policy with identity ground truth
    onto itself, so chain i of group b is a draw of the policy from question b.
    ``rewards[b, i]`` is 1 iff s_T = s_0; ``followed[b, i, t]`` is 1 iff step t + 1
    kept the state (followed the ground truth). Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    M = _checks.num_states(M)
    G = _group_size(G)
    questions = _checks.int64_count(questions, "questions", 1, "the number of questions per batch")
    if questions * G > _checks.MAX_SAMPLES:
        raise ValueError(f"questions * G must be at most {_checks.MAX_SAMPLES} chains (held as int64); "
                         f"got questions = {questions}, G = {G}")
    chains = sample_chains(p, M, questions * G, rng, temperature)  # validates p, rng and temperature
    chains = chains.reshape(questions, G, -1)
    start = (np.arange(questions) % M)[:, None, None]
    chains = (chains - chains[:, :, :1] + start) % M
    rewards = (chains[:, :, -1] == chains[:, :, 0]).astype(np.int64)
    followed = (chains[:, :, 1:] == chains[:, :, :-1]).astype(np.int64)
    return rewards, followed


def sampled_group_step(p, M, G, questions, rng, method, temperature=1.0, learning_rate=1.0, std="population"):
    """One sampled group update on a batch: learning_rate * (1/(questions G)) sum_{b, i} adv_bi score_bi.

    Draws G chains for each of ``questions`` questions (:func:`sample_groups`),
    computes the advantages within each group (:func:`group_advantages`) and the
    scores (:func:`starlib.policy_gradient.chain_scores`), and returns the change of p, shape (T,), the
    mean over the batch of each group's step (1/G) sum_i adv_i score_i. Its
    expectation is :func:`expected_group_step`. Needs 0 < p_t < 1. Introduced in
    :doc:`/chapters/12_one_gradient_different_weights`.
    """
    arr = _checks.one_policy(p, "p")
    if ((arr <= 0) | (arr >= 1)).any():
        raise ValueError(f"p must lie strictly inside (0, 1), where the scores are finite; got p = {p!r}")
    method = _method(method)
    G = _group_size(G)
    std = _std(std, G)
    learning_rate = float(_checks.learning_rate(learning_rate))
    rewards, followed = sample_groups(arr, M, G, questions, rng, temperature)  # checks questions
    adv = group_advantages(rewards, method, std)
    scores = chain_scores(arr, M, followed, temperature)
    return learning_rate * np.einsum("bi,bit->t", adv, scores) / (questions * G)


def surrogate_loss(p, p_old, followed, advantages):
    """The group-RL surrogate loss -(1/n) sum_i adv_i pi_p(chain_i) / pi_old(chain_i), on n chains.

    ``followed`` (n, T) are the chains' follow flags and ``advantages`` (n,) their
    advantages, both computed at ``p_old``. At p = p_old every ratio is 1, so the
    loss is minus the mean advantage, 0 for Dr. GRPO and GRPO whatever the
    rewards, while its gradient in p is minus the sampled step. (The 1/(M - 1) of
    a wrong step cancels in the ratio.) Floats; 0 < p, p_old < 1. Introduced in the
    chapter "One gradient, different weights".
    """
    arr = _checks.one_policy(p, "p")
    old = _checks.one_policy(p_old, "p_old")
    for name, x in (("p", arr), ("p_old", old)):
        if ((x <= 0) | (x >= 1)).any():
            raise ValueError(f"{name} must lie strictly inside (0, 1); got {name} = {x!r}")
    if arr.shape != old.shape:
        raise ValueError(f"p and p_old must have the same number of steps; got {arr.shape} and {old.shape}")
    f = np.asarray(followed)
    if f.ndim != 2 or f.shape[1] != arr.shape[0] or not ((f == 0) | (f == 1)).all():
        raise ValueError(f"followed must have shape (n, {arr.shape[0]}) of 0s and 1s; got shape {f.shape}")
    try:
        if isinstance(advantages, (str, bytes)):
            raise TypeError("text is not a number")
        adv = np.asarray(advantages, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"advantages must be {f.shape[0]} finite numbers; got advantages = {advantages!r}") from err
    if adv.shape != (f.shape[0],) or not np.isfinite(adv).all():
        raise ValueError(f"advantages must be {f.shape[0]} finite numbers, one per chain; got shape {adv.shape}")
    log_ratio = f @ (np.log(arr) - np.log(old)) + (1 - f) @ (np.log1p(-arr) - np.log1p(-old))
    return float(-np.mean(adv * np.exp(log_ratio)))


# --- uneven difficulty: one follow probability per row --------------------------------------


def _follow_rows(follow, name="follow"):
    kind = _checks.arithmetic_of(follow)
    if kind == SYMBOLIC:
        raise ValueError(f"{name} must be floats or Fractions; symbolic rows are not supported")
    arr, kind = _checks.probabilities(follow, name, kind=kind, min_ndim=2)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"{name} must have shape (T, M) with M >= 2, one follow probability per row; "
                         f"got shape {arr.shape}")
    return arr, kind


def row_follow_policy(follow):
    """Markov kernels (T, M, M) whose row s at step t follows the identity with follow[t, s].

    The other M - 1 states of the row share 1 - follow[t, s] equally: the
    uneven-difficulty family of :doc:`/chapters/08_beyond_the_markov_assumption`,
    one follow probability per state and step, with identity ground truth. Each
    step is a :func:`starlib.tabular.per_question_tied_kernels` policy of one step
    (question s stays at state s). Floats or Fractions.
    Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    arr, _ = _follow_rows(follow)
    # Under the identity ground truth question s stays at state s, so step t is the one-step policy
    # with one follow probability per question, follow[t].
    identity = np.arange(arr.shape[1])[None, :]
    return np.stack([per_question_tied_kernels(row, identity)[0] for row in arr])


def question_accuracy_gradient(follow):
    """Per-question accuracy c_q and its gradient dc_q/dfollow[t, s], for :func:`row_follow_policy`.

    Returns ``(c, gradient)`` with c of shape (M,) and gradient of shape (M, T, M),
    ``gradient[q, t, s]`` = Pr(s_t = s | s_0 = q) [h(s) - (sum_{s2} h(s2) - h(s)) / (M - 1)],
    where h(s2) = Pr(s_T = q | s_{t+1} = s2) (forward and backward passes). c_q is
    affine in each follow[t, s], so this is also c_q(follow[t, s] = 1) - c_q(follow[t, s] = 0).
    Floats or Fractions. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    arr, kind = _follow_rows(follow)
    P = row_follow_policy(arr)
    T, M = arr.shape
    forward = [np.eye(M, dtype=arr.dtype) if kind == FLOAT else np.array(np.eye(M, dtype=int) * Fraction(1), dtype=object)]
    for t in range(T):
        forward.append(forward[-1] @ P[t])  # forward[t][q, s] = Pr(s_t = s | s_0 = q)
    backward = [None] * (T + 1)
    backward[T] = forward[0].copy()  # backward[t][s, q] = Pr(s_T = q | s_t = s)
    for t in range(T - 1, -1, -1):
        backward[t] = P[t] @ backward[t + 1]
    c = np.array([forward[T][q, q] for q in range(M)], dtype=arr.dtype)
    gradient = np.empty((M, T, M), dtype=arr.dtype)
    for t in range(T):
        h = backward[t + 1].T  # h[q, s2] = Pr(s_T = q | s_{t+1} = s2)
        gap = h - (h.sum(axis=1, keepdims=True) - h) / (M - 1)
        gradient[:, t, :] = forward[t] * gap
    return c, gradient


def per_question_weights(c, G, method, q0=None, std="population"):
    """Per-question weights w(c_q, G) of ``method`` for per-question accuracies ``c`` (:prf:ref:`prop-per-question-weights`).

    A group of G chains of question q moves any policy's parameters, in
    expectation, by w(c_q, G) times the gradient of c_q, whatever the policy, so
    a batch with question distribution q0 moves them by
    sum_q q0(q) w(c_q, G) grad c_q. For the group methods these are the functions
    of :func:`group_weight`, one per question. ``method="star"`` gives STaR's
    weight 1/A for every question, A = sum_q q0(q) c_q (its kept set's
    log-likelihood gradient is (1/A) sum_q q0(q) grad c_q); it needs ``q0``.
    Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    arr, kind = _accuracies(c, "c")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"c must hold one accuracy per question, shape (Q,) with Q >= 1; got shape {arr.shape}")
    if q0 is not None:
        q0 = _checks.distribution(q0, arr.shape[0], kind)
    if method == "star":
        if q0 is None:
            raise ValueError("method 'star' needs the question distribution q0; got q0 = None")
        A = (q0 * arr).sum()
        if A == 0:
            raise ValueError("c: the mean accuracy under q0 is 0, where STaR keeps no chain")
        return _elementwise(lambda a: 1 / A + a * 0, arr, kind)
    return group_weight(c, G, method, std)


def tabular_group_step(follow, q0, G, method, learning_rate=1.0, std="population"):
    """The expected change of every follow[t, s] in one group update on a batch drawn from ``q0``.

    learning_rate * sum_q q0(q) w(c_q, G) dc_q/dfollow[t, s], with the per-question
    weights of :func:`per_question_weights` and the gradient of
    :func:`question_accuracy_gradient`; shape (T, M). Floats or Fractions (rational
    methods only for Fractions). Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    arr, kind = _follow_rows(follow)
    M = arr.shape[1]
    q0 = _checks.distribution(q0, M, kind)
    G = _group_size(G)
    method = _method(method)
    learning_rate = _checks.learning_rate(learning_rate)
    c, gradient = question_accuracy_gradient(arr)
    if kind == EXACT and method == "grpo":
        raise ValueError("method 'grpo' has irrational weights; pass follow and q0 as floats")
    w = np.asarray(group_weight(c.tolist() if kind != FLOAT else c, G, method, std), dtype=arr.dtype)
    if kind == EXACT and isinstance(learning_rate, float):
        learning_rate = Fraction(learning_rate)  # exact follow rows keep an exact step
    return learning_rate * np.tensordot(q0 * w, gradient, axes=1)


def difficulty_iterates(follow0, q0, G, method, iterations, learning_rate):
    """Exact iterates follow^0, ..., follow^iterations of :func:`tabular_group_step`, shape (iterations + 1, T, M).

    Each iterate adds the expected step at ``learning_rate`` and clips into [0, 1]
    (projected gradient ascent: in p-coordinates the gradient does not vanish at
    the boundary, so a row that reaches 1 would overshoot it, as in
    :func:`starlib.policy_gradient.reinforce_step`). Floats. Introduced in the
    chapter "One gradient, different weights".
    """
    arr, _ = _follow_rows(follow0, "follow0")
    arr = arr.astype(float)
    iterations = _checks.iterations(iterations)
    out = np.empty((iterations + 1,) + arr.shape)
    out[0] = arr
    for k in range(1, iterations + 1):
        out[k] = np.clip(out[k - 1] + tabular_group_step(out[k - 1], q0, G, method, learning_rate), 0.0, 1.0)
    return out


# --- exact enumeration of every group, for the chapter's checks -------------------------------


def _exact_chain_score(p, sampled, tau, flags):
    """The score of chain_scores in exact arithmetic: (f_t - p_tau,t) / (tau p_t (1 - p_t))."""
    return [(f - s) / (tau * x * (1 - x)) for f, s, x in zip(flags, sampled, p)]


def group_step_by_enumeration(p, M, G, method, temperature=1, std="population"):
    """E[(1/G) sum_i adv_i score_i] by brute force over every group of G chains, exact.

    Enumerates every chain of the tied policy with identity ground truth
    (:func:`starlib.chain.enumerate_chains`), groups the chains by reward and
    follow flags (all an update sees), and sums the update over every ordered
    G-tuple of such outcomes, weighted by its probability. Independent of the
    weight formulas, so it checks :func:`expected_group_step`. Fractions (and
    1/temperature an integer); every 0 < p_t < 1. Cost (2^(T+1))^G: keep T and G
    small. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    import itertools

    from .chain import enumerate_chains, tied_kernels

    M = _checks.num_states(M)
    G = _group_size(G)
    method = _method(method)
    std = _std(std, G)
    arr = _checks.one_policy(p, "p", kind=EXACT)
    if any(x <= 0 or x >= 1 for x in arr):
        raise ValueError(f"p must lie strictly inside (0, 1), where the scores are finite; got p = {p!r}")
    tau = Fraction(_checks.temperature(temperature, EXACT))
    sampled = np.array(tempered(arr.tolist(), M, tau), dtype=object)
    outcomes = {}
    for states, prob in enumerate_chains(tied_kernels(sampled.tolist(), M), [Fraction(1, M)] * M):
        key = (int(states[-1] == states[0]), tuple(int(states[t + 1] == states[t]) for t in range(len(arr))))
        outcomes[key] = outcomes.get(key, 0) + prob
    scores = {key: _exact_chain_score(arr, sampled, tau, key[1]) for key in outcomes}
    # sums[(r, K)][t]: the probability-weighted score mass of chains with reward r in groups with K successes
    sums = {}
    for group in itertools.product(list(outcomes), repeat=G):
        prob = Fraction(1)
        for key in group:
            prob *= outcomes[key]
        K = sum(key[0] for key in group)
        for key in group:
            row = sums.setdefault((key[0], K), [Fraction(0)] * len(arr))
            for t, s in enumerate(scores[key]):
                row[t] += prob * s / G
    total = [0] * len(arr)
    for (r, K), row in sums.items():
        a = advantage(r, K, G, method, std)
        for t in range(len(arr)):
            total[t] += a * row[t]
    return [_exact_number(x) for x in total]


def tabular_group_step_by_enumeration(follow, q0, G, method, std="population"):
    """The tabular expected step by brute force over every group of G chains of every question.

    For :func:`row_follow_policy` rows: the score of follow[t, s] is 1/f for a chain
    that was at s before step t + 1 and stayed, -1/(1 - f) for one that moved, 0 for
    a chain elsewhere. The probability-weighted score mass is summed per (reward,
    number of successes in the group), over every ordered group, in Fractions, then
    multiplied by :func:`advantage`; no weight formula is used. Every 0 < follow < 1,
    Fractions. Returns an object array (T, M): Fractions, or for ``"grpo"`` SymPy
    numbers (its advantages are square roots). Cost M (M^T)^G: keep it tiny.
    Checks :func:`tabular_group_step`. Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    import itertools

    arr, kind = _follow_rows(follow)
    if kind != EXACT:
        raise ValueError("follow must be Fractions for the exact enumeration")
    method = _method(method)
    if any(x <= 0 or x >= 1 for x in arr.ravel()):
        raise ValueError(f"follow must lie strictly inside (0, 1), where the scores are finite; got {follow!r}")
    T, M = arr.shape
    q0 = _checks.distribution(q0, M, EXACT)
    G = _group_size(G)
    std = _std(std, G)
    P = row_follow_policy(arr)
    zero = np.array(np.zeros((T, M), dtype=int) * Fraction(0), dtype=object)
    sums = {}  # (r, K): the probability-weighted score mass of chains with reward r in groups with K successes
    for q in range(M):
        chains = []
        for rest in itertools.product(range(M), repeat=T):
            states = (q,) + rest
            prob = Fraction(1)
            score = zero.copy()
            for t in range(T):
                s, s2 = states[t], states[t + 1]
                prob *= P[t, s, s2]
                score[t, s] = 1 / arr[t, s] if s2 == s else -1 / (1 - arr[t, s])
            chains.append((int(states[-1] == q), prob, score))
        mass = {}  # (K, chain): the probability of the groups with K successes, per member chain
        for group in itertools.product(range(len(chains)), repeat=G):
            prob = Fraction(1)
            for i in group:
                prob *= chains[i][1]
            K = sum(chains[i][0] for i in group)
            for i in group:
                mass[K, i] = mass.get((K, i), 0) + prob
        for (K, i), prob in mass.items():
            r, _, score = chains[i]
            sums[r, K] = sums.get((r, K), zero) + q0[q] * prob / G * score
    step = zero.copy()
    for (r, K), mass in sums.items():
        a = advantage(r, K, G, method, std)
        if a != 0:
            step = step + a * mass
    if method == "grpo":
        step = np.vectorize(_exact_number, otypes=[object])(step)
    return step


# --- what the chapter's figures draw --------------------------------------------------------


def weight_curves(accuracies, G, std="population"):
    """Each method's weight w(A, G) on a grid of accuracies, and STaR's 1/A: a dict of float arrays.

    Keys "rft", "dr_grpo", "grpo", "reinforce_rej" and "star" (the STaR refit's
    weight on its natural direction p_t (1 - p_t) D_{-t}; inf where A = 0).
    Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    arr, _ = _checks.probabilities(accuracies, "accuracies", kind=FLOAT, min_ndim=0)
    if arr.size == 0:
        raise ValueError(f"accuracies must hold at least one accuracy; got accuracies = {accuracies!r}")
    out = {m: np.asarray(group_weight(arr, G, m, std), dtype=float) * np.ones_like(arr) for m in METHODS}
    with np.errstate(divide="ignore"):
        out["star"] = 1.0 / arr
    return out


def _method_rates(learning_rates):
    """Check a dict from group methods to learning rates (the ``learning_rates`` of :func:`difficulty_runs`)."""
    if not isinstance(learning_rates, dict) or not learning_rates:
        raise ValueError(f"learning_rates must map methods of {METHODS} to learning rates; "
                         f"got learning_rates = {learning_rates!r}")
    for method, rate in learning_rates.items():
        if not isinstance(method, str) or method not in METHODS:
            raise ValueError(f"learning_rates must map methods of {METHODS} to learning rates; "
                             f"got the key {method!r}")
        try:
            _checks.learning_rate(rate)
        except ValueError as err:
            raise ValueError(f"learning_rates[{method!r}] = {rate!r} is not a learning rate "
                             "(a finite number > 0)") from err


def difficulty_runs(follow0, q0, G, iterations, star_iterations, learning_rates=None):
    """Per-question accuracies along each method's exact iterates in the uneven-difficulty model.

    For every group method, :func:`difficulty_iterates` from ``follow0`` (T, M) with
    questions drawn from ``q0``; its learning rate is ``learning_rates[method]``,
    by default 1 / w(A_0, G), the inverse of the method's weight at the starting
    accuracy A_0 = sum_q q0(q) c_q (so that in the tied approximation every
    method's first step has the size of the plain gradient's). Also "star": the
    exact STaR map on full tabular rows (:func:`starlib.tabular.tabular_star_step`),
    ``star_iterations`` iterations. Returns ``(accuracies, learning_rates)``:
    accuracies[method] has shape (iterations + 1, M) (``star_iterations + 1`` for
    "star"). Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    arr, _ = _follow_rows(follow0, "follow0")
    arr = arr.astype(float)
    T, M = arr.shape
    q0 = _checks.distribution(q0, M, FLOAT)
    G = _group_size(G)
    iterations = _checks.iterations(iterations)
    star_iterations = _checks.iterations(star_iterations, "star_iterations")
    c0 = question_accuracy_gradient(arr)[0]
    A0 = float(q0 @ c0)
    if learning_rates is None:
        learning_rates = {m: 1.0 / float(group_weight(A0, G, m)) for m in METHODS}
    _method_rates(learning_rates)
    accuracies = {}
    for method, rate in learning_rates.items():
        runs = difficulty_iterates(arr, q0, G, method, iterations, rate)
        accuracies[method] = np.array([question_accuracy_gradient(f)[0] for f in runs])
    g = np.tile(np.arange(M), (T, 1))
    P = row_follow_policy(arr)
    star = []
    for _ in range(star_iterations + 1):
        star.append(measure_policy(P, g, q0).question_accuracy)
        P = tabular_star_step(P, g, q0)
    accuracies["star"] = np.array(star)
    return accuracies, learning_rates


DifficultySummary = namedtuple(
    "DifficultySummary", "first_below last_below hard_reached easy_reached lowest_hard"
)
DifficultySummary.__doc__ = """How one run of :func:`difficulty_runs` treats its easy and hard questions.

``first_below`` and ``last_below``: the first and last iterations at which the mean
hard-question accuracy is below its start (None if never); ``hard_reached`` and
``easy_reached``: the first iterations at which the hard and easy means reach their
levels (None if never); ``lowest_hard``: the lowest mean hard-question accuracy.
"""


def _questions(index, name, M):
    """A slice or an array of question indices in [0, M) that selects at least one question."""
    if isinstance(index, slice):
        try:
            chosen = np.arange(M)[index]
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must select questions; got {name} = {index!r}") from err
        if chosen.size == 0:
            raise ValueError(f"{name} must select at least one of the {M} questions; got {name} = {index!r}")
        return index
    try:
        arr = np.asarray(index)
        whole = arr.dtype != bool and np.issubdtype(arr.dtype, np.integer)
    except (TypeError, ValueError):
        whole = False
    if not whole or arr.ndim != 1 or arr.size == 0 or ((arr < 0) | (arr >= M)).any():
        raise ValueError(f"{name} must be a slice or a non-empty list of question indices in [0, {M}); "
                         f"got {name} = {index!r}")
    return arr


def difficulty_summary(accuracies, easy, hard, hard_level=0.5, easy_level=0.9):
    """A :class:`DifficultySummary` for every run of :func:`difficulty_runs`, keyed like ``accuracies``.

    ``easy`` and ``hard`` index the questions (a slice or an index array);
    accuracies[method] has shape (iterations + 1, M). Introduced in :doc:`/chapters/12_one_gradient_different_weights`.
    """
    if not isinstance(accuracies, dict) or not accuracies:
        raise ValueError("accuracies must be a dict of runs, as difficulty_runs returns; "
                         f"got accuracies = {accuracies!r}")
    runs = {}
    for method, acc in accuracies.items():
        name = f"accuracies[{method!r}]"
        acc, _ = _checks.probabilities(acc, name, kind=FLOAT, min_ndim=0)
        if acc.ndim != 2 or acc.shape[0] == 0:
            raise ValueError(f"{name} must have shape (iterations + 1, M); got shape {acc.shape}")
        runs[method] = acc
    shapes = {acc.shape[1] for acc in runs.values()}
    if len(shapes) != 1:
        raise ValueError(f"accuracies must hold runs over the same M questions; got M in {sorted(shapes)}")
    M = shapes.pop()
    easy, hard = _questions(easy, "easy", M), _questions(hard, "hard", M)
    for name, level in (("hard_level", hard_level), ("easy_level", easy_level)):
        _checks.probabilities(level, name, kind=FLOAT, min_ndim=0)

    def first(mask):
        return int(np.argmax(mask)) if mask.any() else None

    out = {}
    for method, acc in runs.items():
        h, e = acc[:, hard].mean(axis=1), acc[:, easy].mean(axis=1)
        below = np.flatnonzero(h < h[0])
        out[method] = DifficultySummary(
            int(below[0]) if below.size else None, int(below[-1]) if below.size else None,
            first(h >= hard_level), first(e >= easy_level), float(h.min()),
        )
    return out
