"""Benchmark: the transformer's packed candidate scoring against one sequence per candidate, and the training layout against the packed step.

The floor is the same training step (forward and backward of the summed scores
of all M candidates, for a batch of input rows) run the plain way: one causal
sequence per (row, candidate), context then candidate, measured in the same run,
best of several. ``starlib.transformer.score_candidates`` packs the M candidates
of a row as a prefix tree without its leaves, so its ratio to the floor says
what the packing saves (target <= 0.15).

A second ratio is the training layout against that packed step: a row trained on
a few candidates (``--needed``, 4 by default, what STaR's kept chains gave a row
at the first iteration) keeps only the nodes on their paths (target <= 0.5).

    python benchmarks/packed_scoring.py              # zip task, 3 bits (M = 64), 16 rows
    python benchmarks/packed_scoring.py --rows 4 --repeats 3
"""

import argparse

import numpy as np
import torch

from starlib import training, transformer, zip_task
from timing import best_of  # benchmarks/timing.py, beside this script


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, default=3, help="the zip task's n_bits (M = 4^bits)")
    parser.add_argument("--rows", type=int, default=16, help="input rows per step")
    parser.add_argument("--needed", type=int, default=4, help="candidates per row in the training layout")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each timing; the best counts")
    args = parser.parse_args()

    task = zip_task.ZipTask(args.bits)
    model = transformer.new_model(task, seed=0, device="cpu")
    net, packed = model.network, model.packed[0]  # step 1, Markov layout
    rows = torch.arange(min(args.rows, len(packed.contexts)))
    candidates = torch.as_tensor(task.state_ids(1))
    M, L = candidates.shape
    C = packed.contexts.shape[1]
    # One sequence per (row, candidate): the context's positions, then the candidate's.
    plain_tokens = torch.cat([packed.contexts[rows].repeat_interleave(M, 0), candidates.repeat(len(rows), 1)], 1)
    plain_positions = torch.cat([packed.positions[:C], packed.positions[C - 1] + 1 + torch.arange(L)])
    causal = torch.tril(torch.ones(C + L, C + L, dtype=torch.bool))

    def plain_step():
        net.zero_grad()
        log_probs = torch.log_softmax(net(plain_tokens, plain_positions, causal)[:, C - 1 : C + L - 1], -1)
        log_probs.gather(2, plain_tokens[:, C:, None]).sum().backward()

    def packed_step():
        net.zero_grad()
        transformer.score_candidates(net, packed, rows).sum().backward()

    needed = np.zeros((len(rows), M), dtype=bool)
    generator = np.random.default_rng(0)
    for row in needed:
        row[generator.choice(M, size=min(args.needed, M), replace=False)] = True
    layout = training._row_layout(packed, rows.numpy(), needed)

    def layout_step():
        net.zero_grad()
        log_probs, _ = training._node_log_probs(net, layout, np.arange(len(rows)), packed.tree_tokens)
        log_probs.sum().backward()

    floor = best_of(args.repeats, plain_step)
    packed_time = best_of(args.repeats, packed_step)
    print(f"M = {M} candidates of {L} tokens, {len(rows)} rows, context {C} tokens; "
          f"packed input {C + packed.inner} tokens per row")
    print(f"floor (one sequence per candidate, forward + backward): {floor * 1e3:.1f} ms")
    print(f"packed score_candidates: {packed_time * 1e3:.1f} ms, ratio / floor {packed_time / floor:.3f} "
          f"(target <= 0.15)")
    layout_time = best_of(args.repeats, layout_step)
    print(f"training layout, {args.needed} candidates per row (at most {int(layout.input_length.max())} tokens): "
          f"{layout_time * 1e3:.1f} ms, ratio / packed {layout_time / packed_time:.3f} (target <= 0.5)")


if __name__ == "__main__":
    main()
