"""Exact expected REINFORCE and STaR steps by listing every batch of chains (Fractions only).

An oracle for the policy-gradient tests: it does not import starlib. The tied
policy with identity ground truth: s_0 uniform over M states; step t keeps the
state with probability p_t (sampled at temperature 1/power: p_t^power renormalised
against (M - 1) ((1 - p_t)/(M - 1))^power) and otherwise moves to one of the other
M - 1 states uniformly. A chain is correct when s_T = s_0.
"""

import itertools
import math
from fractions import Fraction


def tempered(p, M, power):
    """The follow probability of a step sampled at temperature 1/power."""
    q = (1 - p) / (M - 1)
    return p**power / (p**power + (M - 1) * q**power)


def outcome_law(p, M, power=1):
    """Pr of every (correct, (followed at step 1, ..., T)) by listing all M^(T+1) chains."""
    sampled = [tempered(Fraction(x), M, power) for x in p]
    law = {}
    for states in itertools.product(range(M), repeat=len(p) + 1):
        w = Fraction(1, M)
        for t, x in enumerate(sampled):
            w *= x if states[t + 1] == states[t] else (1 - x) / (M - 1)
        key = (int(states[-1] == states[0]), tuple(int(states[t + 1] == states[t]) for t in range(len(p))))
        law[key] = law.get(key, 0) + w
    return law


def accuracy(p, M, power=1):
    return sum(w for (correct, _), w in outcome_law(p, M, power).items() if correct)


def expected_steps(p, M, n, learning_rate, power=1):
    """Exact expectations over every ordered batch of n chains.

    Returns a dict with, per step t: "reinforce" (score of p_t: 1/p_t if followed,
    -1/(1 - p_t) if not; at power 1 only), "natural" (p_t (1 - p_t) times that),
    "logit" (score of the follow logit: power * (f_t - sampled_t)), "star" (refit
    kept-and-followed / kept minus p_t, 0 when no chain is kept), and "no_kept".
    All with the batch-mean baseline b = kept / n.
    """
    p = [Fraction(x) for x in p]
    T = len(p)
    sampled = [tempered(x, M, power) for x in p]
    law = outcome_law(p, M, power)
    out = {"reinforce": [Fraction(0)] * T, "natural": [Fraction(0)] * T, "logit": [Fraction(0)] * T,
           "star": [Fraction(0)] * T, "no_kept": Fraction(0)}
    for batch in itertools.product(law.items(), repeat=n):
        w = math.prod((weight for _, weight in batch), start=Fraction(1))
        outcomes = [key for key, _ in batch]
        kept = sum(c for c, _ in outcomes)
        b = Fraction(kept, n)
        if kept == 0:
            out["no_kept"] += w
        for t in range(T):
            plain = sum((c - b) * (1 / p[t] if f[t] else -1 / (1 - p[t])) for c, f in outcomes)
            out["reinforce"][t] += w * learning_rate * plain / n
            out["natural"][t] += w * learning_rate * p[t] * (1 - p[t]) * plain / n
            logit = sum((c - b) * power * (f[t] - sampled[t]) for c, f in outcomes)
            out["logit"][t] += w * learning_rate * logit / n
            if kept:
                out["star"][t] += w * (Fraction(sum(f[t] for c, f in outcomes if c), kept) - p[t])
    return out
