"""The zip task of the authors' experiment: states, tokens, ground truth and pre-training data.

A problem is a pair of n-bit numbers a and b; there are M = 4^n problems and
T = n steps. Each step moves the lowest remaining digit pair behind a ``[y]``
marker, interleaved. For n = 3 the chain of a problem reads::

    s_0 = [x] a2 a1 a0 [.] b2 b1 b0
    s_1 = [x] a2 a1 [.] b2 b1 [y] a0 b0
    s_2 = [x] a2 [.] b2 [y] a1 b1 [.] a0 b0
    s_3 = [x] [.] [y] a2 b2 [.] a1 b1 [.] a0 b0

Every state names its problem, so each step is a bijection. States are indexed
by their problem, ``problem = a * 2^n + b``: the state of index i at step t is
problem i's s_t. The ground truth is then the identity at every step, which is
the relabelling the theory uses (:func:`starlib.chain.tied_kernels`).

Pre-training data follows the authors' generator: from each state, the
ground-truth next state has probability 1/M + delta and every other state
1/M - delta / (M - 1). That delta is p - 1/M, not the margin
(M p - 1) / (M - 1) of the theory (see :func:`generator_follow`).

NumPy only; the transformer that learns the task is in
:mod:`starlib.transformer`, its training in :mod:`starlib.training`. Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from . import _checks
from ._checks import FLOAT

VOCABULARY = ("[pad]", "[x]", "[.]", "[y]", "[=]", "0", "1")
"""The token vocabulary, with padding, the three markers of the states, the separator ``[=]`` and the two digits."""

TOKEN_ID = {token: i for i, token in enumerate(VOCABULARY)}
SEPARATOR = TOKEN_ID["[=]"]


@dataclass(frozen=True)
class ZipTask:
    """The zip task for ``n_bits``-bit numbers: ``num_states`` = 4^n problems, ``num_steps`` = n.

    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """

    n_bits: int = 3

    def __post_init__(self):
        _checks.integer(self.n_bits, "n_bits", 1, "a number of bits >= 1")
        if self.n_bits > 6:
            raise ValueError(f"n_bits must be at most 6 (4^6 = 4096 problems); got n_bits = {self.n_bits}")

    @property
    def num_states(self):
        """The number of problems M, which is also the number of states per step."""
        return 4**self.n_bits

    @property
    def num_steps(self):
        """The number of reasoning steps T."""
        return self.n_bits

    @property
    def ground_truth(self):
        """The ground truth g, shape (T, M), which is the identity because states are indexed by their problem."""
        return np.tile(np.arange(self.num_states), (self.num_steps, 1))

    @property
    def questions(self):
        """The uniform question distribution q0, in Fractions."""
        return np.full(self.num_states, Fraction(1, self.num_states), dtype=object)

    def digits(self, problem):
        """The binary digits (a, b) of a problem, most significant first."""
        problem = _checks.integer(problem, "problem", 0, "a problem index")
        if problem >= self.num_states:
            raise ValueError(f"problem must be in [0, {self.num_states}); got problem = {problem}")
        a, b = divmod(problem, 2**self.n_bits)
        bits = lambda x: [(x >> k) & 1 for k in range(self.n_bits - 1, -1, -1)]  # noqa: E731
        return bits(a), bits(b)

    def state_tokens(self, step, problem):
        """The tokens of state s_step of a problem, e.g. ``('[x]', '1', '[.]', ...)``."""
        step = _checks.integer(step, "step", 0, "a step index")
        if step > self.num_steps:
            raise ValueError(f"step must be in [0, {self.num_steps}]; got step = {step}")
        a, b = self.digits(problem)
        kept = self.n_bits - step  # digits of a and b still in front of [y]
        tokens = ["[x]", *map(str, a[:kept]), "[.]", *map(str, b[:kept])]
        if step:
            pairs = [[str(a[k]), str(b[k])] for k in range(kept, self.n_bits)]
            tokens += ["[y]", *pairs[0]]
            for pair in pairs[1:]:
                tokens += ["[.]", *pair]
        return tuple(tokens)

    def state_text(self, step, problem):
        """State s_step of a problem as text, tokens separated by spaces."""
        return " ".join(self.state_tokens(step, problem))

    def state_ids(self, step):
        """Token ids of every state of a step: an int64 array (M, length), row i for problem i."""
        return np.array(
            [[TOKEN_ID[tok] for tok in self.state_tokens(step, i)] for i in range(self.num_states)],
            dtype=np.int64,
        )

    def ground_truth_chain(self, problem):
        """The correct chain (s_0, ..., s_T) of a problem, as text."""
        return [self.state_text(t, problem) for t in range(self.num_steps + 1)]

    def problem_of(self, step, text):
        """The index of the problem whose state s_step is ``text`` (the inverse of :meth:`state_text`)."""
        for i in range(self.num_states):
            if self.state_text(step, i) == text:
                return i
        raise ValueError(f"{text!r} is not a state of step {step} of the {self.n_bits}-bit zip task")


def generator_follow(deltas, M):
    """The authors' generator convention: the ground-truth step gets p_t = 1/M + delta_t.

    ``deltas`` has one entry per step. Each other state then gets
    1/M - delta_t / (M - 1), which must not be negative, so delta_t lies in
    [-1/M, (M - 1)/M]. The theory's margin of this p is M/(M - 1) delta_t
    (:func:`starlib.chain.margin`): for M = 64 a generator delta of 0.1 is a
    margin of 0.1016. Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    M = _checks.num_states(M)
    try:
        arr = np.asarray(deltas, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"deltas must be numbers, one per step; got deltas = {deltas!r}") from err
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"deltas must be a non-empty list of finite numbers; got deltas = {deltas!r}")
    low, high = -1.0 / M, (M - 1) / M
    bad = (arr < low - 1e-12) | (arr > high + 1e-12)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"deltas[{i}] = {arr[i]:g} is outside [{low:.6g}, {high:.6g}]: with M = {M} the probabilities "
            "1/M + delta and 1/M - delta/(M - 1) must lie in [0, 1]"
        )
    follow = 1.0 / M + arr
    return np.clip(follow, 0.0, 1.0)


def transition_counts(chains, M, context="markov"):
    """How often each transition occurs in a set of chains: the training data of one fit.

    ``chains`` is an int array (n, T + 1) of state indices. With
    ``context="markov"`` the result has shape (T, M, M) and entry [t, s, s2]
    counts the chains with s_t = s and s_{t+1} = s2. With ``context="history"``
    it has shape (T, M, M, M) and entry [t, s0, s, s2] also separates the
    question s_0, the layout of :func:`starlib.tabular.history_star_step`.
    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    M = _checks.num_states(M)
    chains = np.asarray(chains)
    if chains.ndim != 2 or chains.shape[1] < 2 or not np.issubdtype(chains.dtype, np.integer):
        raise ValueError(f"chains must be an integer array of shape (n, T + 1) with T >= 1; got {chains.shape}")
    if chains.size and (chains.min() < 0 or chains.max() >= M):
        raise ValueError(f"chains hold states outside [0, {M})")
    T = chains.shape[1] - 1
    if context == "markov":
        index = (np.arange(T)[None, :] * M + chains[:, :-1]) * M + chains[:, 1:]
        size = T * M * M
        shape = (T, M, M)
    elif context == "history":
        index = ((np.arange(T)[None, :] * M + chains[:, :1]) * M + chains[:, :-1]) * M + chains[:, 1:]
        size = T * M**3
        shape = (T, M, M, M)
    else:
        raise ValueError(f"context must be 'markov' or 'history'; got context = {context!r}")
    return np.bincount(index.ravel(), minlength=size).reshape(shape)


def independent_digits_follow(p, n_bits):
    """Pr(the whole next state is right) for a model that gets only each digit's marginal right.

    Under the delta-mixture with follow probability p, a digit of the next
    state is copied correctly with probability p + (1 - p) (M/2 - 1)/(M - 1)
    (of the M - 1 wrong states, M/2 - 1 agree with the right one in that
    digit). A model that copies the 2n digits independently with those
    marginals follows the step with the product, far below p: the "independent
    digits" stall of pre-training. Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    M = 4 ** _checks.integer(n_bits, "n_bits", 1, "a number of bits >= 1")
    p = np.asarray(_checks.probabilities(p, "p", kind=FLOAT, min_ndim=0)[0], dtype=float)
    if p.size == 0:
        raise ValueError(f"p must hold at least one follow probability; got p = {p.tolist()!r}")
    digit = p + (1.0 - p) * (M / 2 - 1) / (M - 1)
    return digit ** (2 * n_bits)


def pretraining_counts(task, deltas, chains_per_problem, rng, context="markov"):
    """Transition counts of ``chains_per_problem`` chains per problem from the delta-mixture policy.

    ``deltas`` (one per step) use the authors' generator convention,
    p_t = 1/M + delta_t (:func:`generator_follow`); ``rng`` is a
    ``numpy.random.Generator``. The counts have the layout of
    :func:`transition_counts` for ``context``. Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    from .chain import tied_kernels
    from .sampling import sample_chains_per_question

    if not isinstance(task, ZipTask):
        raise ValueError(f"task must be a ZipTask; got task = {task!r:.80}")
    chains_per_problem = _checks.sampled_size(chains_per_problem, "chains_per_problem")
    _checks.generator(rng)
    if context not in ("markov", "history"):
        raise ValueError(f"context must be 'markov' or 'history'; got context = {context!r}")
    follow = generator_follow(deltas, task.num_states)
    if len(follow) != task.num_steps:
        raise ValueError(f"deltas must have one entry per step ({task.num_steps}); got {len(follow)}")
    kernels = tied_kernels(follow, task.num_states).astype(float)
    chains = sample_chains_per_question(kernels, chains_per_problem, rng)
    return transition_counts(chains, task.num_states, context)
