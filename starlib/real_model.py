"""A small causal transformer that learns the zip task, and STaR run on it.

This is the only module of starlib that imports torch at import time. It holds:

- :class:`TinyTransformer`, a causal language model over the zip task's tokens
  (:data:`starlib.zip_task.VOCABULARY`), with learned positions.
- :func:`score_candidates`: the log-probability of every valid next state
  given a context, which gives the model's exact transition kernel.
- :func:`fit`: training with cross-entropy on the target state only, on
  transition *counts* (the same objective as training on the samples, at a cost
  that does not grow with their number).
- :func:`pretrain` and :func:`run_star`: the authors' experiment, the
  pre-training from the delta-mixture data and the STaR loop.

**Scoring in one packed sequence.** The M candidate next states of a step
share prefixes, so they are packed as a prefix tree after the context: each
tree node is one token that attends to the whole context and to its own
ancestors, at the position it would have in an unpacked sequence. One forward
pass then scores all M candidates; the scores equal those of M separate
sequences (checked in the tests).

**Context.** ``"markov"``: the model sees ``s_{t-1} [=]`` and predicts s_t, a
Markov policy as in the authors' experiment. ``"history"``: it sees
``s_0 [=] s_{t-1} [=]`` (the question as well as the current state), a
history-aware policy with the layout of :func:`starlib.tabular.history_star_step`.

Introduced in the chapter "STaR on a real transformer".
"""

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import _checks
from .chain import NoKeptChainsError
from .devices import resolve_device
from .zip_task import SEPARATOR, VOCABULARY, ZipTask, transition_counts

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
    every slot (L,) and a boolean attention mask (L, L) (True: may attend), and
    returns logits (B, L, vocabulary). The default size (2 layers, width 64,
    4 heads, MLP 256) has about 100k parameters. Introduced in the chapter
    "STaR on a real transformer".
    """

    def __init__(self, vocab_size=len(VOCABULARY), max_len=64, d_model=64, n_layers=2, n_heads=4, d_mlp=256):
        super().__init__()
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
    tree_tokens: torch.Tensor  # (N,) token of every tree node
    positions: torch.Tensor  # (C + N,)
    mask: torch.Tensor  # (C + N, C + N) boolean
    predicted_from: torch.Tensor  # (N,) slot whose output predicts the node's token
    paths: torch.Tensor  # (M, length) the tree nodes spelling each candidate
    length: int  # tokens per candidate


def _prefix_tree(candidates):
    """Nodes (token, parent, depth) of the prefix tree of equal-length token rows, and each row's path."""
    nodes, index = [], {}
    paths = np.empty(candidates.shape, dtype=np.int64)
    for c, row in enumerate(candidates):
        parent = -1
        for depth, token in enumerate(row):
            key = (parent, int(token))
            if key not in index:
                index[key] = len(nodes)
                nodes.append((int(token), parent, depth))
            parent = paths[c, depth] = index[key]
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
    C, N = rows.shape[1], len(nodes)
    P = previous.shape[1]
    tokens, parents, depths = (np.array(col) for col in zip(*nodes))
    mask = np.zeros((C + N, C + N), dtype=bool)
    mask[:C, :C] = np.tril(np.ones((C, C), dtype=bool))
    mask[C:, :C] = True
    for n, parent in enumerate(parents):  # ancestors, parents come first in the node list
        mask[C + n, C + n] = True
        if parent >= 0:
            mask[C + n, C:] |= mask[C + parent, C:]
    as_tensor = lambda a, dtype=torch.long: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    return _PackedStep(
        contexts=as_tensor(rows),
        tree_tokens=as_tensor(tokens),
        positions=as_tensor(np.concatenate([question_positions, np.arange(P), P + depths])),
        mask=as_tensor(mask, torch.bool),
        predicted_from=as_tensor(np.where(parents < 0, C - 1, C + parents)),
        paths=as_tensor(paths),
        length=paths.shape[1],
    )


def score_candidates(model, packed, rows):
    """log Pr(candidate | context) under the language model, for the given input rows: (len(rows), M).

    The sum over the candidate's tokens of their log-probabilities, not
    renormalised over the valid candidates (:func:`model_kernels` does that).
    """
    contexts = packed.contexts[rows]
    tokens = torch.cat([contexts, packed.tree_tokens.expand(len(rows), -1)], dim=1)
    logits = model(tokens, packed.positions, packed.mask)
    log_probs = torch.log_softmax(logits[:, packed.predicted_from], dim=-1)
    node_scores = log_probs.gather(2, packed.tree_tokens.expand(len(rows), -1)[..., None])[..., 0]
    return node_scores[:, packed.paths].sum(dim=-1)


# --- the experiment's model: layouts, fitting, kernels ---------------------------------------


@dataclass
class ModelConfig:
    """Sizes and training schedule of the transformer. Introduced in the chapter "STaR on a real transformer"."""

    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_mlp: int = 256
    learning_rate: float = 3e-3
    pretrain_steps: int = 700
    batch_rows: int = 16  # input rows per optimiser step and step index (all of them when fewer)
    # STaR's fine-tunes: smaller steps moved the pre-trained model further in the same time.
    finetune_learning_rate: float = 1e-3
    finetune_steps: int = 300
    finetune_batch_rows: int = 4
    sharpen_to: float = 0.5  # curriculum: first fit targets sharpened so the top next state has about this weight


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
    if context not in CONTEXTS:
        raise ValueError(f"context must be one of {CONTEXTS}; got context = {context!r}")
    config = config or ModelConfig()
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


def _row_targets(counts, context):
    """Per step: the input rows with data, and their count rows (R, M) as float tensors."""
    M = counts.shape[-1]
    out = []
    for t in range(counts.shape[0]):
        table = counts[t].reshape(-1, M) if context == "history" else counts[t]
        rows = np.flatnonzero(table.sum(axis=1) > 0)
        out.append((rows, table[rows].astype(np.float64)))
    return out


def _sharpening_power(targets, top_weight):
    """The power gamma for which the counts^gamma give the most frequent next state about ``top_weight``."""
    rows = np.vstack([w for _, w in targets if len(w)])
    top = rows.max(axis=1, keepdims=True)
    scaled = np.log(np.where(rows > 0, rows / top, 1.0))
    nonzero = rows > 0

    def top_share(gamma):
        return float(np.mean(1.0 / np.where(nonzero, np.exp(gamma * scaled), 0.0).sum(axis=1)))

    if top_share(1.0) >= top_weight:
        return 1.0
    low, high = 1.0, 64.0
    for _ in range(50):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if top_share(mid) < top_weight else (low, mid)
    return high


def fit(model, counts, steps, learning_rate, batch_rows, seed=0, sharpen=False, progress=False, description="fit"):
    """Train on transition counts with cross-entropy on the target state only; returns the final loss.

    ``counts`` is the (T, M, M) or (T, M, M, M) output of
    :func:`starlib.zip_task.transition_counts`. The loss is the mean, over the
    counted transitions, of -log Pr(target state | context) per target token,
    exactly what training on the individual examples would minimise.
    ``sharpen=True`` runs the curriculum that avoids the "independent digits"
    stall: the first half of the steps fits counts raised to a power chosen so
    the most frequent next state has weight ``model.config.sharpen_to``, the
    next quarter anneals the power to 1, the last quarter fits the exact counts.
    Adam with a short warm-up and cosine decay to a tenth of ``learning_rate``;
    minibatches of ``batch_rows`` input rows per step index, drawn with a
    generator seeded by ``seed``.
    """
    from tqdm import tqdm

    steps = _checks.integer(steps, "steps", 0, "a number of optimiser steps >= 0")
    device = model.device
    targets = _row_targets(np.asarray(counts), model.context)
    total = sum(w.sum() for _, w in targets)
    if total == 0:
        raise NoKeptChainsError("there is no transition to train on")
    gamma = _sharpening_power(targets, model.config.sharpen_to) if sharpen else 1.0
    optimiser = torch.optim.Adam(model.network.parameters(), lr=learning_rate)
    # A short warm-up, then cosine decay to a tenth: the last steps average out minibatch noise.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda i: min(1.0, (i + 1) / max(1, steps // 20)) * (0.55 + 0.45 * math.cos(math.pi * i / max(1, steps)))
    )
    generator = torch.Generator().manual_seed(seed)
    log_targets = [(torch.as_tensor(rows, device=device), torch.as_tensor(np.log(np.maximum(w, 1e-300)), device=device), torch.as_tensor(w > 0, device=device), w.sum(axis=1)) for rows, w in targets]
    model.network.train()
    loss_value = float("nan")
    for i in tqdm(range(steps), desc=description, disable=not progress, leave=False):
        power = gamma if i < steps // 2 else 1.0 + (gamma - 1.0) * max(0.0, 1.0 - (i - steps // 2) / max(1, steps // 4))
        optimiser.zero_grad()
        loss_sum = 0.0
        for packed, (rows, log_w, present, row_totals) in zip(model.packed, log_targets):
            if len(rows) == 0:
                continue
            pick = torch.arange(len(rows)) if len(rows) <= batch_rows else torch.randperm(len(rows), generator=generator)[:batch_rows]
            pick = pick.to(device)
            # Row weights keep each input's total count; within a row, counts^power renormalised.
            sharpened = torch.where(present[pick], torch.softmax(torch.where(present[pick], power * log_w[pick], -math.inf), dim=1), 0.0)
            weight = sharpened * torch.as_tensor(row_totals, device=device)[pick][:, None]
            scale = len(rows) / len(pick)  # an unbiased estimate of the full sum
            scores = score_candidates(model.network, packed, rows[pick])
            step_loss = -(weight * scores).sum() * scale / (total * packed.length)
            step_loss.backward()
            loss_sum += step_loss.item()
        optimiser.step()
        schedule.step()
        loss_value = loss_sum
    model.network.eval()
    return loss_value


@torch.no_grad()
def candidate_scores(model, chunk_rows=1024):
    """log Pr(candidate | context) for every input row and valid next state, per step: a list of (rows, M) arrays.

    A Markov model has M rows per step; a history-aware one M at step 1 (the
    questions) and M^2 at later steps (row s0 * M + s).
    """
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


def kernels_from_scores(scores, context, temperature=1.0):
    """The transition kernel of :func:`candidate_scores`' output at a sampling temperature.

    Row entries are Pr(candidate)^(1/temperature) renormalised over the M valid
    next states, as sampling restricted to valid states does. Returns (T, M, M)
    for a Markov model and (T, M, M, M) for a history-aware one, whose unused
    rows H[0, s0, s], s != s0, copy row s0.
    """
    tau = float(_checks.temperature(temperature, _checks.FLOAT))
    M = scores[0].shape[1]
    out = []
    for t, step_scores in enumerate(scores):
        z = step_scores / tau
        kernel = np.exp(z - z.max(axis=1, keepdims=True))
        kernel /= kernel.sum(axis=1, keepdims=True)
        if context == "history":
            kernel = (np.repeat(kernel, M, axis=0) if t == 0 else kernel).reshape(M, M, M)
        out.append(kernel)
    return np.stack(out)


def model_kernels(model, temperature=1.0):
    """The model's exact transition kernel over the valid next states, at a sampling temperature."""
    return kernels_from_scores(candidate_scores(model), model.context, temperature)


# --- the authors' experiment: pre-training and the STaR loop ---------------------------------


def pretraining_counts(task, deltas, chains_per_problem, rng, context="markov"):
    """Transition counts of ``chains_per_problem`` chains per problem from the delta-mixture policy.

    ``deltas`` (one per step) use the authors' generator convention,
    p_t = 1/M + delta_t (:func:`starlib.zip_task.generator_follow`).
    """
    from .chain import tied_kernels
    from .sampling import sample_chains_per_question
    from .zip_task import generator_follow

    follow = generator_follow(deltas, task.num_states)
    if len(follow) != task.num_steps:
        raise ValueError(f"deltas must have one entry per step ({task.num_steps}); got {len(follow)}")
    kernels = tied_kernels(follow, task.num_states).astype(float)
    chains = sample_chains_per_question(kernels, chains_per_problem, rng)
    return transition_counts(chains, task.num_states, context)


@dataclass
class Pretrained:
    """A pre-trained model, the data it was trained on, and its final training loss."""

    model: RealModel
    deltas: tuple
    counts: np.ndarray = field(repr=False)
    loss: float


def pretrain(task, deltas, chains_per_problem, seed=0, context="markov", config=None, device="auto", progress=False, start_from=None):
    """Pre-train a transformer on delta-mixture chains; returns a :class:`Pretrained`.

    From scratch, training runs the sharpening curriculum of :func:`fit` for
    ``config.pretrain_steps`` steps. With ``start_from`` (another
    :class:`Pretrained` of the same task, of either context) it continues from
    those weights on the new data with the exact objective instead: a cheap way
    to make a variant whose data differ at one step, or a history-aware model
    that starts as a Markov one.
    """
    rng = np.random.default_rng(seed)
    counts = pretraining_counts(task, deltas, chains_per_problem, rng, context)
    model = new_model(task, context, config or (start_from and start_from.model.config), seed, device)
    if start_from is not None:
        model.network.load_state_dict(start_from.model.network.state_dict())
    c = model.config
    loss = fit(
        model, counts, c.pretrain_steps, c.learning_rate, c.batch_rows, seed,
        sharpen=start_from is None, progress=progress, description="pre-training",
    )
    return Pretrained(model, tuple(float(d) for d in deltas), counts, loss)


@dataclass
class StarIteration:
    """What one STaR iteration measures; ``theory_*`` come from the exact STaR map started at iteration 0.

    ``accuracy``, ``step_follow`` (Pr(step t follows the ground truth), the p_t
    of the theory) and ``recovery_rate`` (Pr(correct answer | the state before the
    last step is wrong), see :class:`~starlib.tabular.PolicyMeasurement`) are
    exact for the model's policy, its kernel at temperature 1.
    ``sampling_accuracy`` and ``kept_wrong_rate`` are exact for the kernel at the
    sampling temperature, the chains STaR actually draws; ``sampled_accuracy``
    and ``sampled_kept_wrong_rate`` are the fractions among the chains drawn.
    ``sampled_follow`` is the fraction of all sampled chains that follow each
    step, ``kept_follow`` the fraction of kept chains: the
    target the next fine-tune is asked to fit (the finite-sample version of
    the next p_t). ``loss`` is the final training loss of the fit that
    produced the model.

    The overlay is the exact map of a perfect learner of the model's kind: for
    a Markov model, the tied map (:func:`starlib.theory.star_iterates`) from
    iteration 0's ``step_follow``; for a history-aware model, which the tied
    family cannot describe, :func:`starlib.tabular.history_star_step` iterated
    from iteration 0's measured kernel.
    """

    iteration: int
    accuracy: float
    sampling_accuracy: float
    sampled_accuracy: float
    step_follow: list
    recovery_rate: float
    kept_wrong_rate: float
    sampled_kept_wrong_rate: float
    sampled_follow: list
    kept_follow: list
    kept: int
    sampled: int
    loss: float
    theory_accuracy: float = None
    theory_sampling_accuracy: float = None
    theory_step_follow: list = None
    theory_kept_wrong_rate: float = None
    theory_recovery_rate: float = None


def _measure(model, temperature, samples_per_problem, rng):
    """Exact measurements of the model's kernels, the kept-chain counts of one sampling round, and the kernel at temperature 1."""
    from .sampling import sample_chains_per_question
    from .tabular import measure_policy

    task = model.task
    g, q0 = task.ground_truth, np.full(task.num_states, 1.0 / task.num_states)
    scores = candidate_scores(model)
    sampling_kernels = kernels_from_scores(scores, model.context, temperature)
    at_sampling = measure_policy(sampling_kernels, g, q0)
    policy = kernels_from_scores(scores, model.context)
    at_one = measure_policy(policy, g, q0)
    chains = sample_chains_per_question(sampling_kernels, samples_per_problem, rng)
    kept = chains[chains[:, -1] == chains[:, 0]]  # identity ground truth: correct iff s_T = s_0
    followed_all = np.all(kept[:, 1:] == kept[:, :-1], axis=1)
    record = dict(
        accuracy=at_one.accuracy,
        sampling_accuracy=at_sampling.accuracy,
        sampled_accuracy=len(kept) / len(chains),
        step_follow=[float(x) for x in at_one.step_faithfulness],
        recovery_rate=at_one.recovery_rate,
        kept_wrong_rate=at_sampling.kept_wrong_rate,
        sampled_kept_wrong_rate=float(1.0 - followed_all.mean()) if len(kept) else None,
        sampled_follow=[float(x) for x in (chains[:, 1:] == chains[:, :-1]).mean(axis=0)],
        kept_follow=[float(x) for x in (kept[:, 1:] == kept[:, :-1]).mean(axis=0)] if len(kept) else None,
        kept=len(kept),
        sampled=len(chains),
    )
    return record, transition_counts(kept, task.num_states, model.context), policy


def _theory_overlay(task, context, step_follow, policy, temperature, iterations):
    """The ``theory_*`` fields of iterations 0..iterations: the exact map of a perfect learner of the model's kind."""
    from .chain import tempered, tied_kernels
    from .tabular import history_star_step, measure_policy, tempered_policy
    from .theory import accuracy, kept_wrong_rate, star_iterates

    M, g, q0 = task.num_states, task.ground_truth, np.full(task.num_states, 1.0 / task.num_states)
    out = []
    if context == "markov":
        for p in star_iterates(np.array(step_follow), M, iterations, temperature):
            sampled_p = tempered(p, M, temperature)
            out.append(dict(
                theory_accuracy=float(accuracy(p, M)),
                theory_sampling_accuracy=float(accuracy(sampled_p, M)),
                theory_step_follow=[float(x) for x in p],
                theory_kept_wrong_rate=float(kept_wrong_rate(sampled_p, M)),
                theory_recovery_rate=measure_policy(tied_kernels(p, M, g), g, q0).recovery_rate,
            ))
        return out
    for n in range(iterations + 1):
        sampling = tempered_policy(policy, temperature)
        at_one, at_sampling = measure_policy(policy, g, q0), measure_policy(sampling, g, q0)
        out.append(dict(
            theory_accuracy=at_one.accuracy,
            theory_sampling_accuracy=at_sampling.accuracy,
            theory_step_follow=[float(x) for x in at_one.step_faithfulness],
            theory_kept_wrong_rate=at_sampling.kept_wrong_rate,
            theory_recovery_rate=at_one.recovery_rate,
        ))
        if n < iterations:
            policy = history_star_step(sampling, g, q0)
    return out


def run_star(pretrained, samples_per_problem, temperature=0.5, max_iterations=10, seed=0, progress=False):
    """The STaR loop of the authors' experiment on a pre-trained model; a list of :class:`StarIteration`.

    Each iteration samples ``samples_per_problem`` chains per problem from the
    model's exact kernel at ``temperature`` (restricted to valid next states),
    keeps the correct ones, and fine-tunes a fresh copy of the pre-trained
    weights on them for ``config.finetune_steps`` steps. Iteration 0 is the
    pre-trained model. Stops when every sampled chain is correct or after
    ``max_iterations`` fine-tunes, or raises
    :class:`~starlib.chain.NoKeptChainsError` if no chain is kept. The theory
    overlay (``theory_*`` of :class:`StarIteration`) iterates the exact map at
    the same temperature from iteration 0: the tied map from the measured
    ``step_follow`` for a Markov model, :func:`starlib.tabular.history_star_step`
    from the measured kernel for a history-aware one.
    """
    from tqdm import tqdm

    samples_per_problem = _checks.sample_size(samples_per_problem, "samples_per_problem")
    max_iterations = _checks.integer(max_iterations, "max_iterations", 0, "a number of iterations >= 0")
    tau = float(_checks.temperature(temperature, _checks.FLOAT))
    rng = np.random.default_rng(seed)
    model, loss, history = pretrained.model, pretrained.loss, []
    bar = tqdm(total=max_iterations, desc="STaR iterations", disable=not progress)
    for n in range(max_iterations + 1):
        record, kept_counts, policy = _measure(model, tau, samples_per_problem, rng)
        if n == 0:
            start_policy = policy
        history.append(StarIteration(iteration=n, loss=loss, **record))
        if record["kept"] == 0:
            bar.close()
            raise NoKeptChainsError(f"iteration {n} kept no chain out of {record['sampled']}")
        if record["kept"] == record["sampled"] or n == max_iterations:
            break
        model = pretrained.model.clone()
        c = model.config
        loss = fit(model, kept_counts, c.finetune_steps, c.finetune_learning_rate, c.finetune_batch_rows, seed + n + 1, progress=progress, description=f"fine-tune {n + 1}")
        bar.update()
    bar.close()
    overlay = _theory_overlay(model.task, model.context, history[0].step_follow, start_policy, tau, len(history) - 1)
    for record, theory in zip(history, overlay):
        for name, value in theory.items():
            setattr(record, name, value)
    return history
