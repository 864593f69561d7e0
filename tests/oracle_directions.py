"""Brute-force oracle for Chapters 1 to 3: enumerated chains, equal steps, step directions.

It does not import starlib: every quantity comes from the explicit kernels and the
chain enumeration of :mod:`exact_reference`, in Fractions, read off the definitions.
"""

from fractions import Fraction

from exact_reference import accuracy, answer, chains, identity_g, tied_kernel, tied_star_step, uniform_q0


def accuracy_of(p, M, g=None):
    g = identity_g(len(p), M) if g is None else g
    return accuracy(tied_kernel(p, M, g), g, uniform_q0(M))


def gradient_by_difference(p, M):
    """dA/dp_t as an exact difference quotient: A is affine in each p_t."""
    base = accuracy_of(p, M)
    out = []
    for t in range(len(p)):
        h = Fraction(1, 7) if p[t] <= Fraction(1, 2) else Fraction(-1, 5)
        shifted = list(p)
        shifted[t] = p[t] + h
        out.append((accuracy_of(shifted, M) - base) / h)
    return out


def star_move(p, M):
    """STaR's step p' - p, the refit read off the kept chains."""
    return [y - x for x, y in zip(p, tied_star_step(p, M))]


def cosine_squared_and_sign(p, M):
    """(cos^2, sign of cos) between STaR's step and the accuracy gradient, exactly."""
    move, grad = star_move(p, M), gradient_by_difference(p, M)
    dot = sum(a * b for a, b in zip(move, grad))
    return dot * dot / (sum(a * a for a in move) * sum(b * b for b in grad)), (dot > 0) - (dot < 0)


def cosine_bound_squared(p):
    """(2 sqrt(k) / (1 + k))^2 = 4 k / (1 + k)^2, k = min w / max w, w = p (1 - p)."""
    w = [x * (1 - x) for x in p]
    k = min(w) / max(w)
    return 4 * k / (1 + k) ** 2


def log_odds_change_of_logit_step(p, M, step_size):
    """The natural-gradient step in logits moves theta_t by step_size * (dA/dp_t) / A.

    Derived here from the definitions: in logits the Fisher information of a step is
    p (1 - p) and d log A / d theta_t = p (1 - p) (dA/dp_t) / A.
    """
    A = accuracy_of(p, M)
    return [step_size * d / A for d in gradient_by_difference(p, M)]


def outcomes(P, g, q0):
    """(states, probability, correct, followed) for every chain."""
    out = []
    for states, prob in chains(P, q0):
        followed = tuple(states[t + 1] == g[t][states[t]] for t in range(len(P)))
        out.append((states, prob, states[-1] == answer(g, states[0]), followed))
    return out
