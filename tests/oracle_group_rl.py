"""A brute-force oracle for group-based RL (RFT, Dr. GRPO, GRPO, Reinforce-Rej).

It does not import starlib. It builds the tied kernels with identity ground
truth explicitly, enumerates every chain (s_0, ..., s_T), then every group of G
chains (itertools.product), and averages each method's update
(1/G) sum_i adv_i d log pi(chain_i)/d p_t over all groups, from the definitions.

Numbers are exact: values are dicts {radicand: Fraction} meaning
sum_r coefficient * sqrt(r) (GRPO divides by a standard deviation, a square
root); the rational methods only use radicand 1. Tempered sampling uses an
integer power k = 1/temperature; the score of a tempered step is differentiated
by the quotient rule, not taken from any closed form.
"""

import itertools
import math
from fractions import Fraction

METHODS = ("rft", "dr_grpo", "grpo", "reinforce_rej")


# --- exact numbers of the form sum c_r sqrt(r) --------------------------------------------------


def radical(value, radicand=1):
    return {radicand: Fraction(value)} if value != 0 else {}


def add_into(total, term, factor=Fraction(1)):
    for r, c in term.items():
        total[r] = total.get(r, Fraction(0)) + c * factor
    return total


def scale(term, factor):
    return {r: c * factor for r, c in term.items()}


# --- chains ---------------------------------------------------------------------------------


def tempered_follow(p, M, power):
    a = p**power
    b = (M - 1) * ((1 - p) / (M - 1)) ** power
    return a / (a + b)


def tempered_follow_derivative(p, M, power):
    """d p_tau / d p by the quotient rule."""
    q = (1 - p) / (M - 1)
    a, b = p**power, (M - 1) * q**power
    da = power * p ** (power - 1)
    db = -power * q ** (power - 1)
    return (da * b - a * db) / (a + b) ** 2


def chain_outcomes(p, M, power=1, question=None):
    """{(reward, follow flags): probability} over every chain of the tied policy, identity truth.

    ``question=None`` draws s_0 uniformly; otherwise s_0 = question.
    """
    T = len(p)
    follow = [tempered_follow(x, M, power) for x in p]
    outcomes = {}
    starts = range(M) if question is None else [question]
    for s0 in starts:
        for rest in itertools.product(range(M), repeat=T):
            states = (s0,) + rest
            prob = Fraction(1, M) if question is None else Fraction(1)
            flags = []
            for t in range(T):
                stay = states[t + 1] == states[t]
                prob *= follow[t] if stay else (1 - follow[t]) / (M - 1)
                flags.append(int(stay))
            key = (int(states[-1] == states[0]), tuple(flags))
            outcomes[key] = outcomes.get(key, Fraction(0)) + prob
    return outcomes


def chain_score(p, M, flags, power=1):
    """d log pi(chain) / d p_t for every t."""
    out = []
    for t, f in enumerate(flags):
        pt = tempered_follow(p[t], M, power)
        d = tempered_follow_derivative(p[t], M, power)
        out.append(d / pt if f else -d / (1 - pt))
    return out


# --- advantages -----------------------------------------------------------------------------


def advantages(rewards, method, std="population"):
    """Each chain's advantage as {radicand: coefficient}, from the group's rewards."""
    G = len(rewards)
    K = sum(rewards)
    informative = 0 < K < G
    out = []
    for r in rewards:
        if method == "rft":
            out.append(radical(r))
        elif method == "reinforce_rej":
            out.append(radical(r if informative else 0))
        elif method == "dr_grpo":
            out.append(radical(Fraction(r) - Fraction(K, G)))
        elif method == "grpo":
            if not informative:
                out.append({})
                continue
            # (r - K/G) / sqrt(variance), variance = K (G - K) / G^2 (population)
            # or K (G - K) / (G (G - 1)) (sample); 1/sqrt(v) = sqrt(v) / v.
            if std == "population":
                num, den = K * (G - K), G * G
            else:
                num, den = K * (G - K), G * (G - 1)
            # sqrt(num/den) = sqrt(num * den) / den
            variance = Fraction(num, den)
            centred = Fraction(r) - Fraction(K, G)
            out.append(radical(centred / variance / den, num * den))
        else:
            raise KeyError(method)
    return out


# --- expected steps -------------------------------------------------------------------------


def expected_group_step(p, M, G, method, power=1, std="population", question=None):
    """E[(1/G) sum_i adv_i score_i] for every step, by enumerating every group of G chains."""
    outcomes = chain_outcomes(p, M, power, question)
    keys = list(outcomes)
    scores = {k: chain_score(p, M, k[1], power) for k in keys}
    T = len(p)
    totals = [{} for _ in range(T)]
    for group in itertools.product(keys, repeat=G):
        prob = Fraction(1)
        for k in group:
            prob *= outcomes[k]
        if prob == 0:
            continue
        adv = advantages([k[0] for k in group], method, std)
        for a, k in zip(adv, group):
            for t in range(T):
                add_into(totals[t], a, prob * scores[k][t] / G)
    return totals


def accuracy(p, M, power=1):
    return sum(prob for (r, _), prob in chain_outcomes(p, M, power).items() if r)


def accuracy_gradient_by_differences(p, M):
    """dA/dp_t as A(p_t = 1) - A(p_t = 0): A is affine in each p_t (one factor per chain)."""
    out = []
    for t in range(len(p)):
        up, down = list(p), list(p)
        up[t], down[t] = Fraction(1), Fraction(0)
        out.append(accuracy(up, M) - accuracy(down, M))
    return out


def zero_signal_by_enumeration(p, M, G):
    """Pr(all G rewards of a group are equal), over every group."""
    outcomes = chain_outcomes(p, M)
    A = sum(prob for (r, _), prob in outcomes.items() if r)
    total = Fraction(0)
    for rewards in itertools.product((0, 1), repeat=G):
        if len(set(rewards)) == 1:
            prob = Fraction(1)
            for r in rewards:
                prob *= A if r else 1 - A
            total += prob
    return total


def mean_sqrt_k_g_minus_k(A, G):
    """E[sqrt(K (G - K))], K ~ Binomial(G, A), as {radicand: coefficient}."""
    total = {}
    for k in range(G + 1):
        add_into(total, radical(math.comb(G, k) * A**k * (1 - A) ** (G - k), k * (G - k)) if 0 < k < G else {})
    return total


# --- rows with their own follow probability (uneven difficulty) --------------------------------


def row_kernels(follow):
    T, M = len(follow), len(follow[0])
    return [[[follow[t][s] if s2 == s else (1 - follow[t][s]) / (M - 1) for s2 in range(M)] for s in range(M)]
            for t in range(T)]


def question_accuracy(follow, q):
    P = row_kernels(follow)
    T, M = len(follow), len(follow[0])
    total = Fraction(0)
    for rest in itertools.product(range(M), repeat=T):
        states = (q,) + rest
        if states[-1] != q:
            continue
        prob = Fraction(1)
        for t in range(T):
            prob *= P[t][states[t]][states[t + 1]]
        total += prob
    return total


def question_accuracy_gradient(follow, q):
    """dc_q / dfollow[t][s] as c_q(follow[t][s] = 1) - c_q(follow[t][s] = 0) (c_q is affine in each)."""
    T, M = len(follow), len(follow[0])
    out = [[None] * M for _ in range(T)]
    for t in range(T):
        for s in range(M):
            up = [list(row) for row in follow]
            down = [list(row) for row in follow]
            up[t][s], down[t][s] = Fraction(1), Fraction(0)
            out[t][s] = question_accuracy(up, q) - question_accuracy(down, q)
    return out


def tabular_group_step(follow, q0, G, method, std="population"):
    """sum_q q0(q) E[(1/G) sum_i adv_i score_i | question q], every group of G chains of each question.

    The score of follow[t][s] for a chain is 1/f (the step from s at t followed),
    -1/(1 - f) (it moved), or 0 (the chain was not at s before step t). Returns
    Fractions for the rational methods; for GRPO each entry is {radicand: coefficient}.
    """
    P = row_kernels(follow)
    T, M = len(follow), len(follow[0])
    step = [[{} for _ in range(M)] for _ in range(T)]
    for q in range(M):
        if q0[q] == 0:
            continue
        chains = []
        for rest in itertools.product(range(M), repeat=T):
            states = (q,) + rest
            prob = Fraction(1)
            score = [[Fraction(0)] * M for _ in range(T)]
            for t in range(T):
                s, s2 = states[t], states[t + 1]
                prob *= P[t][s][s2]
                f = follow[t][s]
                score[t][s] = 1 / f if s2 == s else -1 / (1 - f)
            if prob:
                chains.append((int(states[-1] == q), prob, score))
        for group in itertools.product(chains, repeat=G):
            prob = Fraction(1)
            for _, pr, _ in group:
                prob *= pr
            adv = advantages([c[0] for c in group], method, std)
            for a, (_, _, score) in zip(adv, group):
                if not a:
                    continue
                for t in range(T):
                    for s in range(M):
                        if score[t][s]:
                            add_into(step[t][s], a, q0[q] * prob * score[t][s] / G)
    if method == "grpo":
        return step
    return [[cell.get(1, Fraction(0)) for cell in row] for row in step]
