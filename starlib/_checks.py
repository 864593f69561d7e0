"""Input checks shared by every public function.

This is the one place that decides whether a call runs in floats, in exact
rationals (:class:`fractions.Fraction`) or in SymPy (and hands the result back in
that arithmetic), and that rejects bad input with a :class:`ValueError` naming
the argument and the offending value.
"""

import numbers
from fractions import Fraction

import numpy as np

FLOAT, EXACT, SYMBOLIC = "float", "exact", "symbolic"

# Rows of a kernel, and a question distribution, must sum to 1 within this.
SUM_TOLERANCE = 1e-9


def _is_sympy(x):
    try:
        import sympy
    except ImportError:  # pragma: no cover - sympy is a dependency
        return False
    return isinstance(x, sympy.Basic)


def arithmetic_of(*values):
    """The arithmetic a call runs in: SYMBOLIC if any value holds a SymPy
    object, EXACT if any holds a Fraction, FLOAT otherwise."""
    kind = FLOAT
    for value in values:
        if isinstance(value, np.ndarray) and value.dtype != object:
            continue
        for x in np.asarray(value, dtype=object).ravel():
            if _is_sympy(x):
                return SYMBOLIC
            if isinstance(x, Fraction):
                kind = EXACT
    return kind


def as_result(arr, kind):
    """A result in the caller's arithmetic: floats as NumPy (a Python float for a scalar), exact and
    symbolic results as (nested) lists."""
    if kind == FLOAT:
        return float(arr) if np.ndim(arr) == 0 else arr
    return arr.tolist() if isinstance(arr, np.ndarray) else arr


def _index(shape, flat_index):
    if not shape:
        return ""
    return "[" + ", ".join(str(i) for i in np.unravel_index(flat_index, shape)) + "]"


def _as_array(value, name, kind):
    try:
        if kind == FLOAT:
            if isinstance(value, (str, bytes)) or np.asarray(value).dtype.kind in "US":
                raise TypeError("text is not a number")  # NumPy would parse "0.5" as 0.5
            return np.array(value, dtype=float)
        arr = np.array(value, dtype=object)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of numbers; got {value!r}") from err
    if kind == EXACT:
        for i, x in enumerate(arr.ravel()):
            if isinstance(x, bool) or not isinstance(x, (numbers.Rational, Fraction)):
                raise ValueError(
                    f"{name}{_index(arr.shape, i)} = {x!r} mixes floats into exact arithmetic; "
                    "pass every entry as a Fraction or an int"
                )
        arr = np.vectorize(Fraction, otypes=[object])(arr) if arr.size else arr
    return arr


def check_in_range(arr, name, low, high, low_text="0", high_text="1"):
    """Reject entries outside [low, high], NaN and infinities (symbolic entries pass)."""
    for i, x in enumerate(arr.ravel()):
        if _is_sympy(x) and not x.is_number:
            continue
        bad_number = isinstance(x, float) and not np.isfinite(x)
        if bad_number or not (low <= x <= high):
            raise ValueError(
                f"{name}{_index(arr.shape, i)} = {x!r} is not a number in [{low_text}, {high_text}]"
            )


def probabilities(value, name="p", kind=None, min_ndim=1):
    """Validate an array of probabilities whose last axis is the chain's steps.

    Returns ``(array, kind)``; the array is float64 for FLOAT, object otherwise.
    """
    kind = kind or arithmetic_of(value)
    arr = _as_array(value, name, kind)
    if arr.ndim < min_ndim or (min_ndim and arr.shape[-1] == 0):
        raise ValueError(
            f"{name} must hold at least one step (its last axis is the steps t = 1..T); "
            f"got shape {arr.shape}"
        )
    if kind == FLOAT:
        finite = np.isfinite(arr)
        inside = finite & (arr >= 0.0) & (arr <= 1.0)
        if not inside.all():
            i = int(np.argmin(inside.ravel()))
            raise ValueError(f"{name}{_index(arr.shape, i)} = {arr.ravel()[i].item()!r} is not a number in [0, 1]")
    else:
        check_in_range(arr, name, 0, 1)
    return arr, kind


def num_states(M):
    """Validate M, the number of states per step: an integer >= 2 (or a SymPy symbol)."""
    if _is_sympy(M) and not M.is_number:
        return M
    if _is_sympy(M) and M.is_integer:
        M = int(M)
    if isinstance(M, bool) or not isinstance(M, numbers.Integral) or M < 2:
        raise ValueError(f"M must be an integer >= 2 (the number of states per step); got M = {M!r}")
    return int(M)


def temperature(tau, kind):
    """Validate a sampling temperature: a finite number > 0 (or a SymPy symbol)."""
    if _is_sympy(tau) and not tau.is_number:
        return tau
    ok = isinstance(tau, numbers.Real) and not isinstance(tau, bool)
    if not ok or not np.isfinite(float(tau)) or tau <= 0:
        raise ValueError(f"temperature must be a finite number > 0; got temperature = {tau!r}")
    if kind == EXACT:
        inverse = 1 / Fraction(tau)
        if inverse.denominator != 1:
            raise ValueError(
                f"exact arithmetic needs 1/temperature to be an integer, so that tempered "
                f"probabilities stay rational; got temperature = {tau!r}"
            )
    return tau


def ground_truth(g, T, M):
    """Validate ground-truth next states: an integer array of shape (T, M) in [0, M)."""
    try:
        arr = np.asarray(g)
    except (TypeError, ValueError) as err:
        raise ValueError(f"g must be an integer array of shape ({T}, {M}); got {g!r}") from err
    if arr.shape != (T, M):
        raise ValueError(f"g must have shape (T, M) = ({T}, {M}); got shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
            raise ValueError(f"g must hold integer state indices; got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    outside = (arr < 0) | (arr >= M)
    if outside.any():
        i = int(np.argmax(outside.ravel()))
        raise ValueError(f"g{_index(arr.shape, i)} = {arr.ravel()[i]} is not a state in [0, {M})")
    return arr


def distribution(q0, M, kind):
    """Validate a question distribution: shape (M,), entries in [0, 1], summing to 1."""
    arr = _as_array(q0, "q0", kind)
    if arr.shape != (M,):
        raise ValueError(f"q0 must have shape (M,) = ({M},); got shape {arr.shape}")
    probabilities(arr, "q0", kind)
    total = arr.sum()
    if abs(total - 1) > SUM_TOLERANCE:
        raise ValueError(f"q0 must sum to 1 (within {SUM_TOLERANCE:g}); its entries sum to {total!r}")
    return arr


def kernels(P, kind):
    """Validate per-step transition kernels of shape (T, M, M) whose rows sum to 1."""
    arr = _as_array(P, "P", kind)
    if arr.ndim != 3 or arr.shape[0] == 0 or arr.shape[1] != arr.shape[2]:
        raise ValueError(
            f"P must have shape (T, M, M) with T >= 1, P[t, s, s2] = Pr(s_t+1 = s2 | s_t = s); "
            f"got shape {arr.shape}"
        )
    num_states(arr.shape[1])
    probabilities(arr, "P", kind)
    sums = arr.sum(axis=-1)
    off = np.array([abs(s - 1) > SUM_TOLERANCE for s in sums.ravel()]).reshape(sums.shape)
    if off.any():
        t, s = np.argwhere(off)[0]
        raise ValueError(
            f"row P[{t}, {s}] must sum to 1 (within {SUM_TOLERANCE:g}); it sums to {sums[t, s]!r}"
        )
    return arr


def integer(value, name, low, what):
    """Validate a whole number >= ``low``: a count of chains, runs or iterations."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low} ({what}); got {name} = {value!r}")
    return int(value)


def sample_size(n, name="n", symbolic=False):
    """Validate a number of sampled chains (a SymPy symbol passes where ``symbolic``)."""
    if symbolic and _is_sympy(n) and not n.is_number:
        return n
    return integer(n, name, 1, "the number of sampled chains")


#: The largest count NumPy can hold: of chains to sample, of runs, of random starts (int64).
MAX_SAMPLES = int(np.iinfo(np.int64).max)


def sampled_size(n, name="n"):
    """Validate a number of chains to sample: an integer in [1, MAX_SAMPLES]."""
    return int64_count(n, name, 1, "the number of sampled chains")


def flag(value, name):
    """Validate an on/off option: True or False (a NumPy bool too), not a truthy number or string."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {name} = {value!r}")
    return bool(value)


def iterations(value, name="iterations"):
    return integer(value, name, 0, "a number of iterations")


def generator(rng):
    """Validate a random generator; the library never touches global random state."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)); got rng = {rng!r}"
        )
    return rng


def learning_rate(value):
    """Validate a learning rate: a finite number > 0 (or a SymPy symbol)."""
    if _is_sympy(value) and not value.is_number:
        return value
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not np.isfinite(float(value)) or value <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0; got learning_rate = {value!r}")
    return value


def target_accuracy(target):
    """Validate a target accuracy: one number in (0, 1]."""
    arr, _ = probabilities(target, "target", kind=FLOAT, min_ndim=0)
    if arr.ndim != 0 or float(arr) <= 0:
        raise ValueError(f"target must be one accuracy in (0, 1]; got target = {target!r}")
    return float(arr)


def one_policy(p, name="p", kind=FLOAT):
    """Validate one policy's follow probabilities: shape (T,), entries in [0, 1]."""
    arr, kind = probabilities(p, name, kind=kind)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one policy of follow probabilities, shape (T,); got shape {arr.shape}")
    return arr


def tabular_inputs(P, g, q0):
    """Validate a tabular Markov policy ``P`` (T, M, M), its ground truth ``g`` and questions ``q0``.

    Returns (P, g, q0, kind); floats or Fractions (symbolic kernels are rejected).
    """
    kind = arithmetic_of(P, q0)
    if kind == SYMBOLIC:
        raise ValueError("P and q0 must be floats or Fractions; symbolic kernels are not supported")
    P = kernels(P, kind)
    T, M, _ = P.shape
    g = ground_truth(g, T, M)
    q0 = distribution(q0, M, kind)
    return P, g, q0, kind


def tabular_policy(policy, name, ndims=(3, 4), *others):
    """Validated (policy, kind) of a Markov or history-aware kernel; ``others`` share its arithmetic."""
    kind = arithmetic_of(policy, *others)
    if kind == SYMBOLIC:
        names = f"{name} and q0" if others else name
        raise ValueError(f"{names} must be floats or Fractions; symbolic kernels are not supported")
    return policy_kernels(policy, kind, name, ndims), kind


def policy_kernels(value, kind, name, ndims=(3, 4)):
    """Validate a tabular policy: Markov kernels (T, M, M) or history-aware ones (T, M, M, M).

    ``ndims`` lists the allowed numbers of axes. Every row (last axis) must be a
    probability distribution; ``name`` is the argument named in the error.
    """
    arr = _as_array(value, name, kind)
    layouts = {
        3: "(T, M, M) (a Markov policy, [t, s, s2] = Pr(s_t+1 = s2 | s_t = s))",
        4: "(T, M, M, M) (a history-aware policy, [t, s0, s, s2] = Pr(s_t+1 = s2 | s_0 = s0, s_t = s))",
    }
    wanted = " or ".join(layouts[d] for d in ndims)
    if arr.ndim not in ndims or arr.shape[0] == 0 or len(set(arr.shape[1:])) != 1:
        raise ValueError(f"{name} must have shape {wanted} with T >= 1; got shape {arr.shape}")
    M = arr.shape[-1]
    if M < 2:
        raise ValueError(f"{name} must have M >= 2 states per step; got shape {arr.shape}")
    probabilities(arr, name, kind)
    sums = arr.sum(axis=-1)
    off = np.array([abs(s - 1) > SUM_TOLERANCE for s in sums.ravel()]).reshape(sums.shape)
    if off.any():
        where = tuple(int(i) for i in np.argwhere(off)[0])
        raise ValueError(
            f"row {name}[{', '.join(map(str, where))}] must sum to 1 (within {SUM_TOLERANCE:g}); "
            f"it sums to {sums[where]!r}"
        )
    return arr


def int64_count(value, name, low, what):
    """Validate a whole number in [low, MAX_SAMPLES]: a count that NumPy holds as int64 (runs, groups, questions)."""
    value = integer(value, name, low, what)
    if value > MAX_SAMPLES:
        raise ValueError(f"{name} must be at most {MAX_SAMPLES} ({what}, held as int64); got {name} = {value!r}")
    return value
