"""starlib: the one home of every formula and simulation in the STaR companion book.

One module per concept:

- :mod:`starlib.chain`: the chain model and the pre-trained policy family (Chapter 1).
- :mod:`starlib.theory`: exact, infinite-sample STaR dynamics (Chapter 1 and Part II).

The main names are re-exported here, so ``import starlib as sl`` gives
``sl.accuracy``, ``sl.star_step`` and the rest.
"""

from .chain import (
    EnumeratedStar,
    NoKeptChainsError,
    answers,
    enumerate_chains,
    margin,
    prob_from_margin,
    star_by_enumeration,
    tempered,
    tied_kernels,
)
from .theory import (
    StarLimit,
    accuracy,
    accuracy_gradient,
    iterations_to_accuracy,
    kept_wrong_rate,
    margin_for_accuracy,
    star_iterates,
    star_limit,
    star_step,
    star_step_eps,
    tabular_accuracy,
    tabular_star_step,
)

__all__ = [
    "EnumeratedStar",
    "NoKeptChainsError",
    "StarLimit",
    "accuracy",
    "accuracy_gradient",
    "answers",
    "enumerate_chains",
    "iterations_to_accuracy",
    "kept_wrong_rate",
    "margin",
    "margin_for_accuracy",
    "prob_from_margin",
    "star_by_enumeration",
    "star_iterates",
    "star_limit",
    "star_step",
    "star_step_eps",
    "tabular_accuracy",
    "tabular_star_step",
    "tempered",
    "tied_kernels",
]
__version__ = "0.1.0"
