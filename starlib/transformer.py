"""The network of the real-model experiment: a small causal transformer and its packed scoring.

- :class:`TinyTransformer`, a causal language model over the zip task's tokens
  (:data:`starlib.zip_task.VOCABULARY`), with learned positions.
- :class:`ModelConfig`, :class:`RealModel` and :func:`new_model`: the network
  with its packed layouts for one task and context.
- :func:`score_candidates`, :func:`candidate_scores`, :func:`kernels_from_scores`
  and :func:`model_kernels`: the log-probability of every valid next state
  given a context, which gives the model's exact transition kernel.

**Scoring in one packed sequence.** The M candidate next states of a step
share prefixes, so they are packed as a prefix tree after the context: each
tree node is one token that attends to the whole context and to its own
ancestors, at the position it would have in an unpacked sequence. The
leaves are left out of the input: a candidate's last token is scored from its
parent's output, and nothing is predicted from a leaf. One forward pass then
scores all M candidates; the scores equal those of M separate sequences
(checked in the tests). Training feeds each row only the nodes it needs
(:mod:`starlib.training`).

**Context.** ``"markov"``: the model sees ``s_{t-1} [=]`` and predicts s_t, a
Markov policy as in the authors' experiment. ``"history"``: it sees
``s_0 [=] s_{t-1} [=]`` (the question as well as the current state), a
history-aware policy with the layout of :func:`starlib.tabular.history_star_step`.

Training is in :mod:`starlib.training`, the STaR loop in :mod:`starlib.star_loop`.
Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
"""

import copy
import numbers
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import _checks
from .devices import resolve_device
from .tabular import tempered_rows
from .zip_task import SEPARATOR, VOCABULARY, ZipTask

CONTEXTS = ("markov", "history")


# --- the model ------------------------------------------------------------------------------


class _Block(nn.Module):
    def __init__(self, d_model, n_heads, d_mlp):
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.GELU(), nn.Linear(d_mlp, d_model))

    def forward(self, x, mask):
        B, L, D = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, L, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + self.proj(attended.transpose(1, 2).reshape(B, L, D))
        return x + self.mlp(self.norm2(x))


class TinyTransformer(nn.Module):
    """A pre-norm causal transformer language model with learned positions.

    ``forward(tokens, positions, mask)`` takes token ids (B, L), the position of
    every slot (L,) or (B, L) and a boolean attention mask (L, L) or
    (B, 1, L, L) (True: may attend), and returns logits (B, L, vocabulary). The default size (2 layers, width 64,
    4 heads, MLP 256) has about 100k parameters. Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """

    def __init__(self, vocab_size=len(VOCABULARY), max_len=64, d_model=64, n_layers=2, n_heads=4, d_mlp=256):
        super().__init__()
        for name, value in [("vocab_size", vocab_size), ("max_len", max_len), ("d_model", d_model),
                            ("n_layers", n_layers), ("n_heads", n_heads), ("d_mlp", d_mlp)]:
            _checks.integer(value, name, 1, "a size of the network")
        if d_model % n_heads:
            raise ValueError(f"d_model = {d_model} must be a multiple of n_heads = {n_heads}")
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(_Block(d_model, n_heads, d_mlp) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, tokens, positions, mask):
        """Logits (B, L, vocabulary) for token ids (B, L), positions (L,) and a boolean mask (L, L)."""
        x = self.token_embedding(tokens) + self.position_embedding(positions)
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.norm(x))


# --- packed candidate scoring ---------------------------------------------------------------


@dataclass
class _PackedStep:
    """One step's packed layout: the contexts of every input row and the prefix tree of candidates."""

    contexts: torch.Tensor  # (R, C) token ids, one row per input (state or question-state pair)
    tree_tokens: torch.Tensor  # (N,) token of every tree node, the leaves last
    inner: int  # nodes fed to the network: all but the leaves, whose outputs predict nothing
    positions: torch.Tensor  # (C + inner,)
    mask: torch.Tensor  # (C + inner, C + inner) boolean
    predicted_from: torch.Tensor  # (N,) slot whose output predicts the node's token
    paths: torch.Tensor  # (M, length) the tree nodes spelling each candidate
    length: int  # tokens per candidate
    parents: np.ndarray  # (N,) parent node of every node, -1 at the first token


def _prefix_tree(candidates):
    """Nodes (token, parent, depth) of the prefix tree of equal-length token rows, and each row's path.

    Nodes are numbered depth by depth, so parents come first and the leaves last.
    """
    length = candidates.shape[1]
    index = [{} for _ in range(length)]  # per depth: (parent, token) -> node
    paths = np.empty(candidates.shape, dtype=np.int64)
    nodes, offset = [], 0
    for depth in range(length):
        for c, row in enumerate(candidates):
            key = (paths[c, depth - 1] if depth else -1, int(row[depth]))
            if key not in index[depth]:
                index[depth][key] = offset + len(index[depth])
                nodes.append((key[1], key[0], depth))
            paths[c, depth] = index[depth][key]
        offset += len(index[depth])
    return nodes, paths


def _question_offset(task):
    """First position of the question in a history-aware context: past every Markov position."""
    return 2 * (len(task.state_tokens(task.num_steps, 0)) + 1)


def _max_len(task):
    """Positions used by either layout, so Markov weights load into a history-aware model."""
    return _question_offset(task) + len(task.state_tokens(0, 0)) + 1


def _pack_step(task, step, context, device):
    """The packed layout for predicting s_step (1-based) from its context.

    ``s_{step-1} [=]`` and the tree of candidates have the same positions in
    both layouts; a history-aware context puts ``s_0 [=]`` in front, at
    positions of its own, so a Markov model's weights are a sensible start.
    """
    M = task.num_states
    previous = np.hstack([task.state_ids(step - 1), np.full((M, 1), SEPARATOR)])
    rows, question_positions = previous, np.arange(0)
    if context == "history":
        if step == 1:  # the current state is the question itself
            rows = np.repeat(previous, M, axis=0)  # row s0 * M + s, only s = s0 is ever used
        else:
            question = np.hstack([task.state_ids(0), np.full((M, 1), SEPARATOR)])
            rows = np.hstack([np.repeat(question, M, axis=0), np.tile(previous, (M, 1))])
            question_positions = _question_offset(task) + np.arange(question.shape[1])
    nodes, paths = _prefix_tree(task.state_ids(step))
    P = previous.shape[1]
    tokens, parents, depths = (np.array(col) for col in zip(*nodes))
    C, inner = rows.shape[1], int(np.sum(depths < paths.shape[1] - 1))
    mask = np.zeros((C + inner, C + inner), dtype=bool)
    mask[:C, :C] = np.tril(np.ones((C, C), dtype=bool))
    mask[C:, :C] = True
    for n, parent in enumerate(parents[:inner]):  # ancestors, parents come first in the node list
        mask[C + n, C + n] = True
        if parent >= 0:
            mask[C + n, C:] |= mask[C + parent, C:]
    as_tensor = lambda a, dtype=torch.long: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    return _PackedStep(
        contexts=as_tensor(rows),
        tree_tokens=as_tensor(tokens),
        inner=inner,
        positions=as_tensor(np.concatenate([question_positions, np.arange(P), P + depths[:inner]])),
        mask=as_tensor(mask, torch.bool),
        predicted_from=as_tensor(np.where(parents < 0, C - 1, C + parents)),
        paths=as_tensor(paths),
        length=paths.shape[1],
        parents=parents,
    )


def score_candidates(model, packed, rows):
    """log Pr(candidate | context) under the language model, for the given input rows: (len(rows), M).

    The sum over the candidate's tokens of their log-probabilities, not
    renormalised over the valid candidates (:func:`model_kernels` does that).
    ``model`` is a :class:`TinyTransformer`, ``packed`` one entry of
    ``RealModel.packed`` and ``rows`` a 1-D tensor of input rows.
    """
    if not isinstance(model, TinyTransformer):
        raise ValueError(f"model must be a TinyTransformer (RealModel.network); got model = {model!r:.80}")
    if not isinstance(packed, _PackedStep):
        raise ValueError(f"packed must be one step's layout from RealModel.packed; got packed = {packed!r:.80}")
    if not isinstance(rows, torch.Tensor) or rows.ndim != 1 or rows.dtype in (torch.bool,) or rows.is_floating_point() or (
        len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= len(packed.contexts))
    ):
        raise ValueError(f"rows must be a 1-D integer tensor of input rows in [0, {len(packed.contexts)}); got rows = {rows!r:.80}")
    rows = rows.to(packed.contexts.device)
    contexts = packed.contexts[rows]
    tokens = torch.cat([contexts, packed.tree_tokens[: packed.inner].expand(len(rows), -1)], dim=1)
    logits = model(tokens, packed.positions, packed.mask)
    log_probs = torch.log_softmax(logits[:, packed.predicted_from], dim=-1)
    node_scores = log_probs.gather(2, packed.tree_tokens.expand(len(rows), -1)[..., None])[..., 0]
    return node_scores[:, packed.paths].sum(dim=-1)


# --- the experiment's model: its settings, its layouts and its kernels ------------------------


def check_positive_number(value, name):
    """Validate a finite number > 0 (a learning rate, a weight, a tolerance)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not np.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; got {name} = {value!r}")
    return float(value)


def check_context(context):
    """Validate what the model conditions on: one of ``CONTEXTS``."""
    if not isinstance(context, str) or context not in CONTEXTS:
        raise ValueError(f"context must be one of {CONTEXTS}; got context = {context!r}")
    return context


def check_model(model, name="model"):
    """Validate a :class:`RealModel` argument."""
    if not isinstance(model, RealModel):
        raise ValueError(f"{name} must be a starlib.transformer.RealModel (see new_model); got {name} = {model!r:.80}")
    return model


#: The largest seed, since torch's generators take 64-bit seeds (NumPy's take any integer).
MAX_SEED = 2**63 - 1


def check_seed(seed, name="seed"):
    """Validate a random seed: an integer in [0, MAX_SEED]."""
    seed = _checks.integer(seed, name, 0, "a random seed")
    if seed > MAX_SEED:
        raise ValueError(f"{name} must be at most {MAX_SEED} (a 64-bit seed); got {name} = {seed!r}")
    return seed


@dataclass
class ModelConfig:
    """Sizes and training schedule of the transformer (used by :mod:`starlib.training`).

    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_mlp: int = 256
    learning_rate: float = 3e-3
    pretrain_steps: int = 1400  # more, smaller steps got closer to the data than fewer, larger ones
    batch_rows: int = 8  # input rows per optimiser step and step index (all of them when fewer)
    sharpen_to: float = 0.5  # curriculum: first fit targets sharpened so the top next state has about this weight
    # STaR's fine-tunes (see the chapter's fine-tune budget figure for the choice).
    finetune_learning_rate: float = 1e-3
    finetune_steps: int = 75
    finetune_batch_rows: int = 16
    # A stopping rule on the fit (see starlib.training.fit): None runs every fine-tune step.
    finetune_fit_tolerance: float = None
    finetune_check_every: int = 25

    def __post_init__(self):
        for name in ("d_model", "n_layers", "n_heads", "d_mlp", "batch_rows", "finetune_batch_rows", "finetune_check_every"):
            _checks.integer(getattr(self, name), name, 1, "a size or count >= 1")
        for name in ("pretrain_steps", "finetune_steps"):
            _checks.integer(getattr(self, name), name, 0, "a number of optimiser steps >= 0")
        for name in ("learning_rate", "finetune_learning_rate"):
            check_positive_number(getattr(self, name), name)
        if check_positive_number(self.sharpen_to, "sharpen_to") > 1:
            raise ValueError(f"sharpen_to must be a weight in (0, 1]; got sharpen_to = {self.sharpen_to!r}")
        if self.finetune_fit_tolerance is not None:
            check_positive_number(self.finetune_fit_tolerance, "finetune_fit_tolerance")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model = {self.d_model} must be a multiple of n_heads = {self.n_heads}")


@dataclass
class RealModel:
    """A trained transformer together with its packed layouts."""

    task: ZipTask
    context: str
    config: ModelConfig
    network: TinyTransformer
    packed: list = field(repr=False)
    device: torch.device = None

    def clone(self):
        return RealModel(self.task, self.context, self.config, copy.deepcopy(self.network), self.packed, self.device)


def new_model(task, context="markov", config=None, seed=0, device="auto"):
    """An untrained :class:`RealModel` for a task, initialised from ``seed``."""
    if not isinstance(task, ZipTask):
        raise ValueError(f"task must be a starlib.zip_task.ZipTask; got task = {task!r:.80}")
    check_context(context)
    config = ModelConfig() if config is None else config
    if not isinstance(config, ModelConfig):
        raise ValueError(f"config must be a ModelConfig or None; got config = {config!r:.80}")
    seed = check_seed(seed)
    device = resolve_device(device)
    packed = [_pack_step(task, t, context, device) for t in range(1, task.num_steps + 1)]
    max_len = _max_len(task)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        network = TinyTransformer(len(VOCABULARY), max_len, config.d_model, config.n_layers, config.n_heads, config.d_mlp)
    finally:
        torch.random.set_rng_state(generator_state)  # the library never changes global state
    return RealModel(task, context, config, network.to(device), packed, device)



@torch.no_grad()
def candidate_scores(model, chunk_rows=1024):
    """log Pr(candidate | context) for every input row and valid next state, per step: a list of (rows, M) arrays.

    A Markov model has M rows per step; a history-aware one M at step 1 (the
    questions) and M^2 at later steps (row s0 * M + s).
    """
    check_model(model)
    chunk_rows = _checks.integer(chunk_rows, "chunk_rows", 1, "input rows per forward pass")
    M = model.task.num_states
    model.network.eval()
    out = []
    for t, packed in enumerate(model.packed):
        rows = torch.arange(len(packed.contexts), device=model.device)
        if model.context == "history" and t == 0:
            rows = rows[:: M + 1]  # at step 1 the current state is the question
        scores = [score_candidates(model.network, packed, rows[i : i + chunk_rows]) for i in range(0, len(rows), chunk_rows)]
        out.append(torch.cat(scores).double().cpu().numpy())
    return out


def _check_scores(scores, context):
    """Validate :func:`candidate_scores` output: per step a finite (rows, M) array, M or M^2 rows."""
    if isinstance(scores, np.ndarray) and scores.ndim == 3:
        scores = list(scores)
    if not isinstance(scores, (list, tuple)) or not scores:
        raise ValueError(f"scores must be a non-empty list of (rows, M) arrays, one per step; got scores = {scores!r:.80}")
    out = []
    for t, step in enumerate(scores):
        try:
            arr = np.asarray(step, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"scores[{t}] must be an array of log-probabilities") from err
        M = arr.shape[-1] if arr.ndim == 2 else 0
        rows = M if context == "markov" or t == 0 else M * M
        if arr.ndim != 2 or M < 2 or arr.shape[0] != rows:
            raise ValueError(f"scores[{t}] must have shape ({rows or 'M'}, M) with M >= 2 for a {context} model; got shape {arr.shape}")
        if out and M != out[0].shape[1]:
            raise ValueError(f"scores[{t}] has {M} candidates; scores[0] has {out[0].shape[1]}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"scores[{t}] holds NaN or infinite log-probabilities")
        out.append(arr)
    return out


def kernels_from_scores(scores, context, temperature=1.0):
    """The transition kernel of :func:`candidate_scores`' output at a sampling temperature.

    Row entries are Pr(candidate)^(1/temperature) renormalised over the M valid
    next states, as sampling restricted to valid states does
    (:func:`starlib.tabular.tempered_rows`). Returns (T, M, M)
    for a Markov model and (T, M, M, M) for a history-aware one, whose unused
    rows H[0, s0, s], s != s0, copy row s0.
    """
    check_context(context)
    tau = float(_checks.temperature(temperature, _checks.FLOAT))
    scores = _check_scores(scores, context)
    M = scores[0].shape[1]
    out = []
    for t, step_scores in enumerate(scores):
        kernel = tempered_rows(step_scores, tau)
        if context == "history":
            kernel = (np.repeat(kernel, M, axis=0) if t == 0 else kernel).reshape(M, M, M)
        out.append(kernel)
    return np.stack(out)


def model_kernels(model, temperature=1.0):
    """The model's exact transition kernel over the valid next states, at a sampling temperature."""
    check_model(model)
    _checks.temperature(temperature, _checks.FLOAT)
    return kernels_from_scores(candidate_scores(model), model.context, temperature)


