"""The real-model experiment's former single module, kept so that older imports still work.

Its names now live in one module per concept: the network and its packed
scoring in :mod:`starlib.transformer`, training in :mod:`starlib.training`, the
STaR loop and its records in :mod:`starlib.star_loop`, the pre-training data in
:func:`starlib.zip_task.pretraining_counts`. Import from those.
"""

from .devices import resolve_device  # noqa: F401
from .star_loop import StarIteration, run_star  # noqa: F401
from .training import FitResult, Pretrained, count_follow, fit, fit_follow, pretrain, target_loss  # noqa: F401
from .transformer import (  # noqa: F401
    CONTEXTS,
    ModelConfig,
    RealModel,
    TinyTransformer,
    candidate_scores,
    kernels_from_scores,
    model_kernels,
    new_model,
    score_candidates,
)
from .zip_task import pretraining_counts  # noqa: F401
