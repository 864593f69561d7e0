"""A brute-force oracle for the experiment helpers of the chapter "Where the idealised theory stops".

It does not import starlib: plain loops over explicit nested lists, Fractions or
floats, reading each quantity off its definition. Steps are 0-based, as in
exact_reference.py, whose chain enumeration and refits it reuses.
"""

from fractions import Fraction

import exact_reference as ref


def relabel(P, g, q0, sigma):
    """Rename state s of layer t to sigma[t][s]; a Markov (3 levels) or history-aware (4 levels) kernel."""
    T, M = len(P), len(q0)
    history = isinstance(P[0][0][0], list)
    if history:
        new = [[[[None] * M for _ in range(M)] for _ in range(M)] for _ in range(T)]
        for t in range(T):
            for s0 in range(M):
                for s in range(M):
                    for s2 in range(M):
                        new[t][sigma[0][s0]][sigma[t][s]][sigma[t + 1][s2]] = P[t][s0][s][s2]
    else:
        new = [[[None] * M for _ in range(M)] for _ in range(T)]
        for t in range(T):
            for s in range(M):
                for s2 in range(M):
                    new[t][sigma[t][s]][sigma[t + 1][s2]] = P[t][s][s2]
    g_new = [[None] * M for _ in range(T)]
    for t in range(T):
        for s in range(M):
            g_new[t][sigma[t][s]] = sigma[t + 1][g[t][s]]
    q0_new = [None] * M
    for s in range(M):
        q0_new[sigma[0][s]] = q0[s]
    return new, g_new, q0_new


def per_question_tied(follow, g):
    """Row (t, state of question s0's track at t) follows g with follow[s0], else uniform."""
    T, M = len(g), len(follow)
    P = [[None] * M for _ in range(T)]
    for s0 in range(M):
        s = s0
        for t in range(T):
            row = [(1 - follow[s0]) / (M - 1)] * M
            row[g[t][s]] = follow[s0]
            P[t][s] = row
            s = g[t][s]
    return P


def first_reach(values, level):
    """The first index whose value is at least level; None if none."""
    for i, v in enumerate(values):
        if v >= level:
            return i
    return None


def spread(P, g):
    """Per step: the larger range of the follow entries and of the other entries."""
    out = []
    for t in range(len(P)):
        on = [P[t][s][g[t][s]] for s in range(len(P[t]))]
        off = [P[t][s][s2] for s in range(len(P[t])) for s2 in range(len(P[t])) if s2 != g[t][s]]
        out.append(max(max(on) - min(on), max(off) - min(off)))
    return out


def markov_trajectory(P, g, q0, iterations, rationalized=False):
    """(accuracy, step faithfulness) of the exact Markov iterates, by enumeration."""
    out = []
    for n in range(iterations + 1):
        if n:
            P = (ref.rationalized_step(ref.markov_rows(P), g, q0, markov=True) if rationalized
                 else ref.tabular_star_step(P, g, q0))
        A, _, step, _, _ = ref.measure(ref.markov_rows(P), g, q0)
        out.append((A, step))
    return out


def history_trajectory(H, g, q0, iterations):
    out = []
    for n in range(iterations + 1):
        if n:
            H = ref.history_star_step(H, g, q0)
        A, _, step, _, _ = ref.measure(H, g, q0)
        out.append((A, step))
    return out


def uniform(M):
    return [Fraction(1, M)] * M
