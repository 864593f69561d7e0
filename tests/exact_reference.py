"""An independent brute-force oracle for the exact STaR theory.

It does not import starlib and uses none of its formulas: it builds explicit
transition kernels, enumerates every chain (s_0, ..., s_T) with
itertools.product, and reads each quantity off the definition. Entries may be
fractions.Fraction (exact) or floats (the same code, in floating point).

Conventions: steps are 0-based here. P[t][s][s2] = Pr(s_{t+1} = s2 | s_t = s),
g[t][s] is the ground-truth successor of s at step t, q0[s] = Pr(s_0 = s).
"""

import itertools
from fractions import Fraction


def identity_g(T, M):
    return [list(range(M)) for _ in range(T)]


def uniform_q0(M):
    return [Fraction(1, M)] * M


def temper_row(row, power):
    """Sampling at temperature 1/power: raise every entry to `power`, renormalise."""
    if power == 1:
        return list(row)
    raised = [x**power for x in row]
    total = sum(raised)
    return [x / total for x in raised]


def tied_kernel(p, M, g=None, power=1):
    """The tied policy as explicit kernels: p[t] on g[t][s], (1 - p[t])/(M - 1) elsewhere.

    `power` = 1/temperature tempers each row before it is used.
    """
    T = len(p)
    g = identity_g(T, M) if g is None else g
    P = []
    for t in range(T):
        rows = []
        for s in range(M):
            row = [(1 - p[t]) / (M - 1)] * M
            row[g[t][s]] = p[t]
            rows.append(temper_row(row, power))
        P.append(rows)
    return P


def answer(g, s0):
    s = s0
    for step in g:
        s = step[s]
    return s


def chains(P, q0):
    """Every chain with its probability: [(states, probability), ...]."""
    T, M = len(P), len(q0)
    out = []
    for states in itertools.product(range(M), repeat=T + 1):
        prob = q0[states[0]]
        for t in range(T):
            prob = prob * P[t][states[t]][states[t + 1]]
        out.append((states, prob))
    return out


def kept_chains(P, g, q0):
    """The chains whose final state is the correct answer to their question."""
    return [(s, w) for s, w in chains(P, q0) if s[-1] == answer(g, s[0])]


def accuracy(P, g, q0):
    return sum(w for _, w in kept_chains(P, g, q0))


def tied_star_step(p, M, g=None, q0=None, power=1):
    """p_t' = Pr(s_{t+1} = g_t(s_t) | correct), chains sampled from the tempered kernel.

    Returns None when no chain is kept (accuracy 0).
    """
    T = len(p)
    g = identity_g(T, M) if g is None else g
    q0 = uniform_q0(M) if q0 is None else q0
    kept = kept_chains(tied_kernel(p, M, g, power), g, q0)
    total = sum(w for _, w in kept)
    if total == 0:
        return None
    return [sum(w for s, w in kept if s[t + 1] == g[t][s[t]]) / total for t in range(T)]


def kept_wrong_rate(p, M):
    """Pr(some step leaves the ground truth | correct); None when no chain is kept."""
    T = len(p)
    g, q0 = identity_g(T, M), uniform_q0(M)
    kept = kept_chains(tied_kernel(p, M, g), g, q0)
    total = sum(w for _, w in kept)
    if total == 0:
        return None
    wrong = sum(w for s, w in kept if any(s[t + 1] != g[t][s[t]] for t in range(T)))
    return wrong / total


def tabular_star_step(P, g, q0):
    """Refit each row (t, s): the distribution of s_{t+1} among kept chains with s_t = s.

    Rows that no kept chain visits keep their old values. None when nothing is kept.
    """
    T, M = len(P), len(q0)
    kept = kept_chains(P, g, q0)
    if sum(w for _, w in kept) == 0:
        return None
    new = [[list(row) for row in P[t]] for t in range(T)]
    for t in range(T):
        for s in range(M):
            mass = [sum(w for c, w in kept if c[t] == s and c[t + 1] == s2) for s2 in range(M)]
            total = sum(mass)
            if total != 0:
                new[t][s] = [m / total for m in mass]
    return new


def on_off_success(p, M, wrong_at=None):
    """Pr(correct [and step `wrong_at` does not follow]) for the tied family, exactly.

    Needs no enumeration, so it works for large M: relabel so that every g_t is the
    identity; then the answer is correct iff s_T = s_0, and only "on" (s_t = s_0)
    versus "off" matters. From on, a step stays on with p and goes off with
    eps = 1 - p; from off it goes on with q = eps/(M - 1) and stays off otherwise.
    A step forced to be wrong (s_{t+1} != s_t) goes on->off with eps, off->on
    with q and off->off with (M - 2) q.
    """
    on, off = Fraction(1), Fraction(0)
    for t, pt in enumerate(p):
        pt = Fraction(pt)
        eps = 1 - pt
        q = eps / (M - 1)
        if t == wrong_at:
            on, off = off * q, on * eps + off * (M - 2) * q
        else:
            on, off = on * pt + off * q, on * eps + off * (1 - q)
    return on


def track_status(p, M):
    """The on/off-track status of the tied chain with identity ground truth, by enumerating every chain.

    Returns (mass, h): mass[t] = (Pr(s_t = s_0), Pr(s_t != s_0)) after t steps, and
    h[t] = (Pr(s_T = s_0 | s_t = s_0), Pr(s_T = s_0 | s_t != s_0)), None where the
    status has probability 0. Read off the chains, not derived from a recurrence.
    """
    T = len(p)
    every = chains(tied_kernel(p, M), uniform_q0(M))
    mass, h = [], []
    for t in range(T + 1):
        on = [(s, w) for s, w in every if s[t] == s[0]]
        off = [(s, w) for s, w in every if s[t] != s[0]]
        pair_mass, pair_h = [], []
        for group in (on, off):
            total = sum((w for _, w in group), Fraction(0))
            correct = sum((w for s, w in group if s[-1] == s[0]), Fraction(0))
            pair_mass.append(total)
            pair_h.append(correct / total if total else None)
        mass.append(tuple(pair_mass))
        h.append(tuple(pair_h))
    return mass, h


def exact_eps_step(eps, M, power=1):
    """The exact STaR update of error rates: eps_t' = Pr(step t wrong | correct).

    `eps` entries are converted with Fraction(), so floats are taken at their exact
    binary value. With `power` > 1 the steps are first tempered (temperature
    1/power): p^k / (p^k + (M - 1) q^k).
    """
    p = []
    for e in eps:
        e = Fraction(e)
        pt, q = 1 - e, e / (M - 1)
        p.append(pt**power / (pt**power + (M - 1) * q**power))
    A = on_off_success(p, M)
    return [on_off_success(p, M, wrong_at=t) / A for t in range(len(p))]


# --- history-aware policies, measurements and rationalization ----------------------------
# H[t][s0][s][s2] = Pr(s_{t+1} = s2 | s_0 = s0, s_t = s). A Markov kernel P[t][s][s2] is
# the special case that ignores s0; markov_rows() turns it into that form.


def markov_rows(P):
    """A Markov kernel as a history-aware one: row (t, s0, s) is P[t][s] for every s0."""
    M = len(P[0])
    return [[[list(P[t][s]) for s in range(M)] for _ in range(M)] for t in range(len(P))]


def history_chains(H, q0):
    """Every chain with its probability under a history-aware policy."""
    T, M = len(H), len(q0)
    out = []
    for states in itertools.product(range(M), repeat=T + 1):
        prob = q0[states[0]]
        for t in range(T):
            prob = prob * H[t][states[0]][states[t]][states[t + 1]]
        out.append((states, prob))
    return out


def question_success(H, g, q0):
    """Pr(correct | s_0 = s0) for every question, by summing the chains that start there.

    Computed with the question forced (probability 1), so it is defined for every s0.
    """
    M = len(q0)
    out = []
    for s0 in range(M):
        forced = [Fraction(int(s == s0)) if isinstance(q0[0], Fraction) else float(s == s0) for s in range(M)]
        out.append(sum(w for c, w in history_chains(H, forced) if c[-1] == answer(g, c[0])))
    return out


def measure(H, g, q0):
    """(accuracy, per-question accuracy, step faithfulness, kept step faithfulness, kept-wrong rate).

    The kept quantities are None when nothing is correct.
    """
    T = len(H)
    every = history_chains(H, q0)
    kept = [(c, w) for c, w in every if c[-1] == answer(g, c[0])]
    A = sum(w for _, w in kept)
    follows = lambda c, t: c[t + 1] == g[t][c[t]]  # noqa: E731
    step = [sum(w for c, w in every if follows(c, t)) for t in range(T)]
    if A == 0:
        return A, question_success(H, g, q0), step, None, None
    kept_step = [sum(w for c, w in kept if follows(c, t)) / A for t in range(T)]
    wrong = sum(w for c, w in kept if not all(follows(c, t) for t in range(T))) / A
    return A, question_success(H, g, q0), step, kept_step, wrong


def recovery_rate(H, g, q0):
    """Pr(correct | s_{T-1} differs from the ground-truth state after T - 1 steps); None if impossible."""
    T = len(H)
    off = [(c, w) for c, w in history_chains(H, q0) if c[T - 1] != answer(g[: T - 1], c[0])]
    mass = sum(w for _, w in off)
    if mass == 0:
        return None
    return sum(w for c, w in off if c[-1] == answer(g, c[0])) / mass


def _refit(H, g, q0, weight_of_question, markov):
    """Refit every row on the kept chains, chain (s0, ...) weighted by weight_of_question[s0].

    markov=True pools rows over s0 and returns a Markov kernel [t][s][s2].
    """
    T, M = len(H), len(q0)
    kept = [(c, w * weight_of_question[c[0]]) for c, w in history_chains(H, q0) if c[-1] == answer(g, c[0])]
    if sum(w for _, w in kept) == 0:
        return None
    if markov:
        new = [[list(H[t][0][s]) for s in range(M)] for t in range(T)]
        for t in range(T):
            for s in range(M):
                mass = [sum(w for c, w in kept if c[t] == s and c[t + 1] == s2) for s2 in range(M)]
                if sum(mass) != 0:
                    new[t][s] = [m / sum(mass) for m in mass]
        return new
    new = [[[list(row) for row in H[t][s0]] for s0 in range(M)] for t in range(T)]
    for t in range(T):
        for s0 in range(M):
            for s in range(M):
                mass = [sum(w for c, w in kept if c[0] == s0 and c[t] == s and c[t + 1] == s2) for s2 in range(M)]
                if sum(mass) != 0:
                    new[t][s0][s] = [m / sum(mass) for m in mass]
    return new


def history_star_step(H, g, q0):
    """Plain STaR on a history-aware policy; None when nothing is kept."""
    return _refit(H, g, q0, [1] * len(q0), markov=False)


def rationalized_step(H, g, q0, markov):
    """STaR with rationalization: question s0 enters with weight q0(s0) if it can succeed.

    Kept chains of question s0 have total weight q0(s0) c(s0) before reweighting, so
    each is multiplied by 1/c(s0) (0 when c(s0) = 0). None when nothing is kept.
    """
    c = question_success(H, g, q0)
    # A question's correct unhinted chain is kept as sampled (weight 1); with probability
    # 1 - c(s0) it failed and the hinted chain, distributed as Pr(chain | s0, correct) =
    # Pr(chain | s0) / c(s0) on the correct chains, is kept instead.
    weights = [1 + (1 - x) / x if x != 0 else 0 for x in c]
    return _refit(H, g, q0, weights, markov=markov)
