"""Training the real model on transition counts, and measuring how well a fit fits.

- :func:`fit`: cross-entropy on the target state only, on transition *counts*
  (the same objective as training on the samples, at a cost that does not grow
  with their number), with an optional stopping rule on the fit.
- :func:`target_loss`: that objective, evaluated without a step.
- :func:`pretrain`: the authors' pre-training from delta-mixture data.
- The training layout: a node of the packed prefix tree
  (:mod:`starlib.transformer`) predicts only its children, so a row trained on
  a few candidates, as a row of STaR's kept chains is, needs only the nodes on
  their paths. Each row gets just those, and the objective is unchanged
  (checked in the tests) at a fraction of the tokens.
- :func:`count_follow` and :func:`fit_follow`: the follow rate of a set of
  transition counts, and a policy's follow rate on the source states of those
  counts, weighted by them. Their difference is the miss of a maximum-likelihood
  refit, measured where the refit is defined (NumPy only).

Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from . import _checks
from .chain import NoKeptChainsError
from .transformer import (
    ModelConfig, RealModel, check_positive_number, check_context, check_model, check_seed, new_model,
)
from .zip_task import ZipTask, pretraining_counts


# --- counts and what a fit of them should reproduce -------------------------------------------


def check_counts(counts, shape=None, name="counts"):
    """Validate transition counts: finite, non-negative numbers of shape (T, M, M) or (T, M, M, M)."""
    try:
        arr = np.asarray(counts, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of non-negative counts; got {name} = {counts!r:.80}") from err
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got shape {arr.shape}")
    if arr.ndim not in (3, 4) or arr.shape[0] == 0 or len(set(arr.shape[1:])) != 1 or arr.shape[-1] < 2:
        raise ValueError(f"{name} must have shape (T, M, M) or (T, M, M, M) with T >= 1, M >= 2; got shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        where = ", ".join(str(int(i)) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}[{where}] = {arr[tuple(np.argwhere(bad)[0])]!r} is not a finite count >= 0")
    return arr


def _source_rows(arr, g):
    """Per step: (row weights c_t(row), index of the ground-truth column per row), for Markov or history layouts."""
    T, M = arr.shape[0], arr.shape[-1]
    g = _checks.ground_truth(g, T, M)
    out = []
    for t in range(T):
        table = arr[t].reshape(-1, M)  # history rows are (s0, s), s = row % M
        out.append((table, g[t][np.arange(len(table)) % M]))
    return out


def count_follow(counts, g):
    """Per step, the fraction of the counted transitions that follow the ground truth g.

    For the counts of the kept chains (:func:`starlib.zip_task.transition_counts`)
    this is their kept follow rate, the target a maximum-likelihood refit
    reproduces. Raises :class:`~starlib.chain.NoKeptChainsError` for a step with
    no transition.
    """
    arr = check_counts(counts)
    out = []
    for t, (table, target) in enumerate(_source_rows(arr, g)):
        total = table.sum()
        if total == 0:
            raise NoKeptChainsError(f"counts hold no transition at step {t + 1}")
        out.append(table[np.arange(len(table)), target].sum() / total)
    return np.array(out)


def fit_follow(policy, counts, g):
    """sum_s c_t(s) policy_t(g_t(s) | s) / sum_s c_t(s): the policy's follow rate where the counts start.

    ``policy`` is a Markov (T, M, M) or history-aware (T, M, M, M) kernel,
    ``counts`` transition counts of the same shape. A maximum-likelihood refit on
    the counts makes this equal to :func:`count_follow` of the counts; the
    difference measures the fit on the very source states it was asked to fit,
    free of the kernel's shape (rows that follow more often yield more kept chains).
    """
    policy = _checks.policy_kernels(policy, _checks.FLOAT, "policy")
    arr = check_counts(counts, policy.shape)
    out = []
    for t, (table, target) in enumerate(_source_rows(arr, g)):
        weights = table.sum(axis=1)
        if weights.sum() == 0:
            raise NoKeptChainsError(f"counts hold no transition at step {t + 1}")
        on_g = policy[t].reshape(-1, policy.shape[-1])[np.arange(len(table)), target]
        out.append((weights * on_g).sum() / weights.sum())
    return np.array(out)


# --- training layouts: each row with only the candidates it is trained on -----------------------


@dataclass
class _RowLayout:
    """Per input row, its context and the tree nodes on the paths to the candidates it needs, padded.

    Row i uses its first ``input_length[i]`` slots and ``node_count[i]`` nodes;
    padding slots attend only to themselves and padding nodes have id N, whose
    weight is zero.
    """

    tokens: torch.Tensor  # (R, L) the context, then the row's inner nodes, parents first
    positions: torch.Tensor  # (R, L)
    mask: torch.Tensor  # (R, L, L) boolean
    nodes: torch.Tensor  # (R, K) the row's nodes (inner and leaves) by tree id
    predicted_from: torch.Tensor  # (R, K) slot whose output predicts each node
    input_length: np.ndarray  # (R,)
    node_count: np.ndarray  # (R,)
    incidence: torch.Tensor  # (M, N + 1) 1 where a node lies on a candidate's path


def _row_layout(packed, rows, needed):
    """The :class:`_RowLayout` of input rows ``rows`` (of ``packed.contexts``) for a boolean (R, M) matrix of needed candidates.

    A node's output predicts only its children, and it attends only to the
    context and its ancestors, so dropping every node off the needed paths
    leaves the needed scores unchanged (checked in the tests). A row trained on a
    few candidates, as STaR's kept chains are, costs a few paths instead of the
    whole tree.
    """
    device = packed.contexts.device
    contexts = packed.contexts.cpu().numpy()[rows]
    tokens_of = packed.tree_tokens.cpu().numpy()
    paths = packed.paths.cpu().numpy()
    parents, length = packed.parents, packed.length
    R, C = contexts.shape
    N, M = len(tokens_of), paths.shape[0]
    depth_of = np.empty(N, dtype=np.int64)
    depth_of[paths] = np.arange(length)
    first_position = int(packed.positions[C - 1]) + 1
    per_row = []
    for r in range(R):
        nodes = np.unique(paths[needed[r]].ravel())  # ascending ids: parents first, leaves last
        inner = nodes[depth_of[nodes] < length - 1]
        local = {int(n): i for i, n in enumerate(inner)}
        per_row.append((nodes, inner, local))
    L = C + max(len(inner) for _, inner, _ in per_row)
    K = max(len(nodes) for nodes, _, _ in per_row)
    tokens = np.zeros((R, L), dtype=np.int64)
    positions = np.zeros((R, L), dtype=np.int64)
    mask = np.zeros((R, L, L), dtype=bool)
    node_ids = np.full((R, K), N, dtype=np.int64)
    predicted_from = np.zeros((R, K), dtype=np.int64)
    context_positions = packed.positions[:C].cpu().numpy()
    for r, (nodes, inner, local) in enumerate(per_row):
        I = len(inner)
        tokens[r, :C], tokens[r, C : C + I] = contexts[r], tokens_of[inner]
        positions[r, :C], positions[r, C : C + I] = context_positions, first_position + depth_of[inner]
        mask[r, :C, :C] = np.tril(np.ones((C, C), dtype=bool))
        mask[r, C:, :C] = True
        mask[r, np.arange(C, L), np.arange(C, L)] = True
        for i, n in enumerate(inner):
            if parents[n] >= 0:
                mask[r, C + i, C:] |= mask[r, C + local[int(parents[n])], C:]
        node_ids[r, : len(nodes)] = nodes
        predicted_from[r, : len(nodes)] = [C - 1 if parents[n] < 0 else C + local[int(parents[n])] for n in nodes]
    incidence = np.zeros((M, N + 1))
    incidence[np.repeat(np.arange(M), length), paths.ravel()] = 1.0
    as_tensor = lambda a, dtype=torch.long: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    return _RowLayout(
        as_tensor(tokens), as_tensor(positions), as_tensor(mask, torch.bool), as_tensor(node_ids),
        as_tensor(predicted_from), C + np.array([len(i) for _, i, _ in per_row]),
        np.array([len(n) for n, _, _ in per_row]), as_tensor(incidence, torch.float32),
    )


def _node_log_probs(network, layout, pick, tree_tokens):
    """log Pr(node token | context, ancestors) for the picked rows of a :class:`_RowLayout`: ((B, K), node ids)."""
    L, K = int(layout.input_length[pick].max()), int(layout.node_count[pick].max())
    pick = torch.as_tensor(pick, device=layout.tokens.device)
    logits = network(layout.tokens[pick, :L], layout.positions[pick, :L], layout.mask[pick, :L, :L][:, None])
    slots = layout.predicted_from[pick, :K]
    log_probs = torch.log_softmax(logits.gather(1, slots[..., None].expand(-1, -1, logits.shape[-1])), dim=-1)
    nodes = layout.nodes[pick, :K]
    padded_tokens = torch.cat([tree_tokens, tree_tokens.new_zeros(1)])
    return log_probs.gather(2, padded_tokens[nodes][..., None])[..., 0], nodes


# --- training -----------------------------------------------------------------------------------


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


def _model_counts(model, counts):
    """Validate counts against the layout of a model: (T, M, M) Markov, (T, M, M, M) history-aware."""
    T, M = model.task.num_steps, model.task.num_states
    shape = (T, M, M) if model.context == "markov" else (T, M, M, M)
    return check_counts(counts, shape)


def _layouts(model, targets):
    """Per step, the :func:`_row_layout` of the rows with data, for their counted candidates."""
    return [_row_layout(packed, rows, w > 0) if len(rows) else None for packed, (rows, w) in zip(model.packed, targets)]


def _step_loss(model, packed, layout, pick, weight, total, scale=1.0):
    """The objective's part from the picked rows of one step: their count-weighted -log Pr, per target token.

    A node's log-probability counts once for every candidate through it, so
    the weight of a node is the total weight of the candidates below it.
    """
    log_probs, nodes = _node_log_probs(model.network, layout, pick, packed.tree_tokens)
    node_weight = (weight.to(layout.incidence.dtype) @ layout.incidence).gather(1, nodes)
    return -(node_weight * log_probs).sum() * scale / (total * packed.length)


@torch.no_grad()
def target_loss(model, counts):
    """The training objective of :func:`fit` for a model and counts, without a step: the mean target cross-entropy."""
    check_model(model)
    targets = _row_targets(_model_counts(model, counts), model.context)
    total = sum(w.sum() for _, w in targets)
    if total == 0:
        raise NoKeptChainsError("there is no transition to score")
    model.network.eval()
    loss = 0.0
    for packed, layout, (rows, w) in zip(model.packed, _layouts(model, targets), targets):
        if len(rows):
            weight = torch.as_tensor(w, device=model.device)
            loss += _step_loss(model, packed, layout, np.arange(len(rows)), weight, total).item()
    return loss


@dataclass
class FitResult:
    """What a :func:`fit` did: the final minibatch loss and the optimiser steps it ran."""

    loss: float
    steps: int


def fit(model, counts, steps, learning_rate, batch_rows, seed=0, sharpen=False, progress=False, description="fit",
        fit_tolerance=None, check_every=25):
    """Train on transition counts with cross-entropy on the target state only; returns a :class:`FitResult`.

    ``counts`` is the (T, M, M) or (T, M, M, M) output of
    :func:`starlib.zip_task.transition_counts`. The loss is the mean, over the
    counted transitions, of -log Pr(target state | context) per target token,
    exactly what training on the individual examples would minimise.
    ``sharpen=True`` runs the curriculum that avoids the "independent digits"
    stall: the first half of the steps fits counts raised to a power chosen so
    the most frequent next state has weight ``model.config.sharpen_to``, the
    next quarter anneals the power to 1, the last quarter fits the exact counts.
    Adam with a short warm-up and cosine decay to 0.1 of ``learning_rate``;
    minibatches of ``batch_rows`` input rows per step index, drawn with a
    generator seeded by ``seed``.

    The stopping rule: with ``fit_tolerance`` set, every ``check_every`` steps
    the model's :func:`fit_follow` on the counts is compared with their
    :func:`count_follow`, and training stops once every step is within
    ``fit_tolerance`` (the schedule is still that of ``steps``, which is then a cap).
    """
    from tqdm import tqdm

    check_model(model)
    steps = _checks.integer(steps, "steps", 0, "a number of optimiser steps >= 0")
    learning_rate = check_positive_number(learning_rate, "learning_rate")
    batch_rows = _checks.integer(batch_rows, "batch_rows", 1, "input rows per optimiser step")
    seed = check_seed(seed)
    check_every = _checks.integer(check_every, "check_every", 1, "steps between checks of the fit")
    sharpen, progress = _checks.flag(sharpen, "sharpen"), _checks.flag(progress, "progress")
    if not isinstance(description, str):
        raise ValueError(f"description must be a string (the progress bar's label); got description = {description!r}")
    if fit_tolerance is not None:
        fit_tolerance = check_positive_number(fit_tolerance, "fit_tolerance")
    counts = _model_counts(model, counts)
    device = model.device
    targets = _row_targets(counts, model.context)
    total = sum(w.sum() for _, w in targets)
    if total == 0:
        raise NoKeptChainsError("there is no transition to train on")
    g = model.task.ground_truth
    target_follow = count_follow(counts, g) if fit_tolerance is not None else None
    gamma = _sharpening_power(targets, model.config.sharpen_to) if sharpen else 1.0
    optimiser = torch.optim.Adam(model.network.parameters(), lr=learning_rate)
    # A short warm-up, then cosine decay to a tenth: the last steps average out minibatch noise.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda i: min(1.0, (i + 1) / max(1, steps // 20)) * (0.55 + 0.45 * math.cos(math.pi * i / max(1, steps)))
    )
    generator = torch.Generator().manual_seed(seed)
    log_targets = [(rows, torch.as_tensor(np.log(np.maximum(w, 1e-300)), device=device), torch.as_tensor(w > 0, device=device), torch.as_tensor(w.sum(axis=1), device=device)) for rows, w in targets]
    layouts = _layouts(model, targets)
    model.network.train()
    loss_value, done = float("nan"), 0
    for i in tqdm(range(steps), desc=description, disable=not progress, leave=False):
        power = gamma if i < steps // 2 else 1.0 + (gamma - 1.0) * max(0.0, 1.0 - (i - steps // 2) / max(1, steps // 4))
        optimiser.zero_grad()
        loss_sum = 0.0
        for packed, layout, (rows, log_w, present, row_totals) in zip(model.packed, layouts, log_targets):
            if len(rows) == 0:
                continue
            pick = torch.arange(len(rows)) if len(rows) <= batch_rows else torch.randperm(len(rows), generator=generator)[:batch_rows]
            pick = pick.numpy()
            # Row weights keep each input's total count; within a row, counts^power renormalised.
            sharpened = torch.where(present[pick], torch.softmax(torch.where(present[pick], power * log_w[pick], -math.inf), dim=1), 0.0)
            weight = sharpened * row_totals[pick][:, None]
            step_loss = _step_loss(model, packed, layout, pick, weight, total, len(rows) / len(pick))  # unbiased
            step_loss.backward()
            loss_sum += step_loss.item()
        if not math.isfinite(loss_sum):
            model.network.eval()
            raise ValueError(f"training diverged at step {i + 1}: the loss is {loss_sum}; lower learning_rate = {learning_rate}")
        optimiser.step()
        schedule.step()
        loss_value, done = loss_sum, i + 1
        if target_follow is not None and (done % check_every == 0) and done < steps:
            from .transformer import model_kernels

            miss = np.abs(fit_follow(model_kernels(model), counts, g) - target_follow).max()
            model.network.train()
            if miss <= fit_tolerance:
                break
    model.network.eval()
    if done == 0:  # no step: report the objective itself rather than nothing
        loss_value = target_loss(model, counts)
    return FitResult(loss_value, done)


# --- pre-training ---------------------------------------------------------------------------


@dataclass
class Pretrained:
    """A pre-trained model, the data it was trained on, and its final training loss."""

    model: RealModel
    deltas: tuple
    counts: np.ndarray = field(repr=False)
    loss: float


def pretrain(task, deltas, chains_per_problem, seed=0, context="markov", config=None, device="auto", progress=False, start_from=None):
    """Pre-train a transformer on delta-mixture chains; returns a :class:`Pretrained`.

    The data are :func:`starlib.zip_task.pretraining_counts` drawn with ``seed``.
    From scratch, training runs the sharpening curriculum of :func:`fit` for
    ``config.pretrain_steps`` steps. With ``start_from`` (another
    :class:`Pretrained` of the same task, of either context) it continues from
    those weights on the new data with the exact objective instead: a cheap way
    to make a variant whose data differ at one step, or a history-aware model
    that starts as a Markov one.
    """
    if not isinstance(task, ZipTask):
        raise ValueError(f"task must be a starlib.zip_task.ZipTask; got task = {task!r:.80}")
    seed = check_seed(seed)
    check_context(context)
    _checks.flag(progress, "progress")
    if start_from is not None and (not isinstance(start_from, Pretrained) or start_from.model.task != task):
        raise ValueError(f"start_from must be a Pretrained model of the same task, or None; got start_from = {start_from!r:.80}")
    if config is not None and not isinstance(config, ModelConfig):
        raise ValueError(f"config must be a ModelConfig or None; got config = {config!r:.80}")
    rng = np.random.default_rng(seed)
    counts = pretraining_counts(task, deltas, chains_per_problem, rng, context)
    model = new_model(task, context, config or (start_from and start_from.model.config), seed, device)
    if start_from is not None:
        model.network.load_state_dict(start_from.model.network.state_dict())
    c = model.config
    result = fit(
        model, counts, c.pretrain_steps, c.learning_rate, c.batch_rows, seed,
        sharpen=start_from is None, progress=progress, description="pre-training",
    )
    return Pretrained(model, tuple(float(d) for d in deltas), counts, result.loss)
