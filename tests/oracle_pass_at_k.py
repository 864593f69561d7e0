"""A brute-force oracle for pass@k, its estimator and the chain-level accuracy.

It does not import starlib. pass@k is read off its definition: every outcome
(correct or not) of k independent samples is enumerated with itertools.product.
The estimator is the share of k-subsets, enumerated with itertools.combinations,
that hold a correct sample. Per-question accuracies and chain-level accuracies
come from enumerating every chain (exact_reference, itself free of starlib).
Entries may be Fractions (exact) or floats.
"""

import itertools
from fractions import Fraction

import exact_reference as ref


def question_pass_at_k(c, k):
    """Pr(at least one of k independent samples is correct), each correct with probability c."""
    total = 0
    for outcome in itertools.product((True, False), repeat=k):
        prob = 1
        for correct in outcome:
            prob = prob * (c if correct else 1 - c)
        if any(outcome):
            total = total + prob
    return total


def pass_at_k(question_accuracy, k, weights=None):
    Q = len(question_accuracy)
    weights = [Fraction(1, Q)] * Q if weights is None else weights
    return sum(w * question_pass_at_k(c, k) for w, c in zip(weights, question_accuracy))


def estimate(n, c, k):
    """The share of the k-subsets of n samples (the first c correct) that hold a correct one."""
    subsets = list(itertools.combinations(range(n), k))
    hits = sum(1 for subset in subsets if any(i < c for i in subset))
    return Fraction(hits, len(subsets))


def mean_estimate(n, k, accuracy):
    """E[estimate] over every outcome of n samples, each correct with probability ``accuracy``."""
    total = 0
    for outcome in itertools.product((True, False), repeat=n):
        prob = 1
        for correct in outcome:
            prob = prob * (accuracy if correct else 1 - accuracy)
        total = total + prob * estimate(n, sum(outcome), k)
    return total


def crossover_k(base, trained, weights, max_k):
    """The first k <= max_k with pass@k(base) > pass@k(trained), by enumeration; None if none."""
    for k in range(1, max_k + 1):
        if pass_at_k(base, k, weights) > pass_at_k(trained, k, weights):
            return k
    return None


def _forced(M, s0, exact=True):
    return [Fraction(int(s == s0)) if exact else float(s == s0) for s in range(M)]


def question_chain_accuracy(H, g):
    """Pr(every step follows g | s_0 = s0) for every s0, by summing chains (H history-aware)."""
    T, M = len(H), len(H[0])
    out = []
    for s0 in range(M):
        chains = ref.history_chains(H, _forced(M, s0))
        out.append(sum(w for c, w in chains if all(c[t + 1] == g[t][c[t]] for t in range(T))))
    return out


def support(kernel):
    """The set of index tuples with a positive entry, of a nested-list kernel."""
    found = set()

    def walk(x, where):
        if isinstance(x, list):
            for i, y in enumerate(x):
                walk(y, where + (i,))
        elif x > 0:
            found.add(where)

    walk(kernel, ())
    return found
