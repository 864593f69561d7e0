"""Exact STaR at a temperature 1/k, by enumerating every chain in rational arithmetic.

An oracle for the tests of the temperature results: it does not import starlib.
"""

from fractions import Fraction
from itertools import product


def tempered(p, M, k):
    """The follow probability sampled at temperature 1/k: entries powered by k, row renormalised."""
    q = (1 - p) / (M - 1)
    return p**k / (p**k + (M - 1) * q**k)


def star_step(p, M, k=1):
    """One exact STaR iteration at temperature 1/k: Pr(step t followed | answer correct)."""
    T = len(p)
    sampled = [tempered(Fraction(x), M, k) for x in p]
    correct = Fraction(0)
    followed = [Fraction(0)] * T
    for chain in product(range(M), repeat=T + 1):  # identity ground truth: follow = stay
        weight = Fraction(1, M)
        for t in range(T):
            stay = chain[t + 1] == chain[t]
            weight *= sampled[t] if stay else (1 - sampled[t]) / (M - 1)
        if chain[-1] == chain[0]:
            correct += weight
            for t in range(T):
                if chain[t + 1] == chain[t]:
                    followed[t] += weight
    if correct == 0:
        raise ZeroDivisionError("no chain is correct")
    return [f / correct for f in followed]


def margins(p, M):
    return [(M * Fraction(x) - 1) / (M - 1) for x in p]


def trapped_vertex(p, M):
    """The vertex a start must reach when no step is at chance and the margins' product is > 0.

    Every step then moves away from chance at every temperature 1/k (Chapter 6), so the limit is
    1 for a step above chance and 0 for one below. None when the sign argument does not apply.
    """
    d = margins(p, M)
    product_sign = 1
    for x in d:
        if x == 0:
            return None
        product_sign *= 1 if x > 0 else -1
    return tuple(int(x > 0) for x in d) if product_sign > 0 else None


def exact_vertex(p, M, k=1, max_iterations=8):
    """Iterate exactly until the sign argument decides the limit; None if it never does."""
    p = [Fraction(x) for x in p]
    for _ in range(max_iterations + 1):
        vertex = trapped_vertex(p, M)
        if vertex is not None:
            return vertex
        p = star_step(p, M, k)
    return None


def kept_wrong_rate(p, M, k=1):
    """Pr(some step not followed | answer correct) for chains sampled at temperature 1/k."""
    T = len(p)
    sampled = [tempered(Fraction(x), M, k) for x in p]
    correct = wrong = Fraction(0)
    for chain in product(range(M), repeat=T + 1):
        weight = Fraction(1, M)
        for t in range(T):
            weight *= sampled[t] if chain[t + 1] == chain[t] else (1 - sampled[t]) / (M - 1)
        if chain[-1] == chain[0]:
            correct += weight
            if any(chain[t + 1] != chain[t] for t in range(T)):
                wrong += weight
    return wrong / correct
