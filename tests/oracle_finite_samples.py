"""A brute-force oracle for one finite-sample STaR refit and for the quadratic recurrence.

It does not import starlib. The law of the refit F_t / K is read off every
n-tuple of explicitly enumerated chains (itertools.product over the chains of
exact_reference.py), with no multinomial or binomial argument; the quadratic
recurrence eps' = c eps^2 is iterated in Fractions.
"""

import itertools
from fractions import Fraction

import exact_reference as ref


def refit_law(p, M, n, g=None):
    """Exact mean and variance of F_t / K given K >= 1, Pr(F_t = 0) and Pr(K >= 1), for n chains.

    Every n-tuple of chains is enumerated with its probability; K counts the
    kept chains of the tuple and F_t those kept chains that follow step t.
    Returns (means, variances, no_follow, kept_any), lists over the steps.
    """
    T = len(p)
    g = ref.identity_g(T, M) if g is None else [list(row) for row in g]
    single = ref.chains(ref.tied_kernel(p, M, g), ref.uniform_q0(M))
    outcomes = []
    for states, prob in single:
        kept = states[-1] == ref.answer(g, states[0])
        follows = [kept and states[t + 1] == g[t][states[t]] for t in range(T)]
        outcomes.append((kept, follows, prob))
    m1, m2, zero = [Fraction(0)] * T, [Fraction(0)] * T, [Fraction(0)] * T
    kept_any = Fraction(0)
    for tup in itertools.product(outcomes, repeat=n):
        prob = Fraction(1)
        for _, _, w in tup:
            prob *= w
        K = sum(1 for kept, _, _ in tup if kept)
        for t in range(T):
            F = sum(1 for _, follows, _ in tup if follows[t])
            if F == 0:
                zero[t] += prob
            if K:
                m1[t] += prob * Fraction(F, K)
                m2[t] += prob * Fraction(F, K) ** 2
        if K:
            kept_any += prob
    means = [x / kept_any for x in m1]
    variances = [b / kept_any - a**2 for a, b in zip(means, m2)]
    return means, variances, zero, kept_any


def recurrence_iterations(eps0, M, T, target):
    """The first n with eps_n <= target for eps_(n+1) = c eps_n^2, c = (T - 1)/(M - 1), in Fractions."""
    c = Fraction(T - 1, M - 1)
    eps, n = Fraction(eps0), 0
    while eps > target:
        eps = c * eps * eps
        n += 1
    return n
