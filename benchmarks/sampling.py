"""Benchmark: the finite-sample engine against the cost of its random numbers.

The floor is the time to draw n x T uniforms with the same generator
(``rng.random``), measured in the same run, best of several. ``sample_chains``
draws one uniform per step, so its ratio to the floor says how much the rest
costs (target <= 6); ``star_step_mc`` draws counts, not chains, so it should cost
a small fraction of the floor (target <= 0.1).

    python benchmarks/sampling.py               # 10^6 chains, T = 8, M = 64
    python benchmarks/sampling.py --chains 1000 --repeats 1
"""

import argparse

import numpy as np

import starlib as sl
from timing import best_of  # benchmarks/timing.py, beside this script


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=10**6, help="n, chains per call")
    parser.add_argument("--steps", type=int, default=8, help="chain length T")
    parser.add_argument("--states", type=int, default=64, help="M")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each timing; the best counts")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    p = rng.uniform(0.0, 1.0, size=args.steps)  # above- and below-chance steps
    n, T = args.chains, args.steps

    floor = best_of(max(args.repeats, 5), lambda: rng.random((n, T)))
    chains = best_of(args.repeats, lambda: sl.sample_chains(p, args.states, n, rng))
    counts = best_of(max(args.repeats, 5), lambda: sl.star_step_mc(p, args.states, n, rng))
    chain_ratio, count_ratio = chains / floor, counts / floor
    print(f"{n} chains, T = {T}, M = {args.states}")
    print(f"floor ({n} x {T} uniforms, rng.random): {floor * 1e3:.2f} ms")
    print(f"sample_chains: {chains * 1e3:.2f} ms, ratio / floor {chain_ratio:.2f} (target <= 6)")
    print(f"star_step_mc: {counts * 1e3:.3f} ms, ratio / floor {count_ratio:.4f} (target <= 0.1)")
    print(f"sample_chains target: {'met' if chain_ratio <= 6 else 'NOT met'}")
    print(f"star_step_mc target: {'met' if count_ratio <= 0.1 else 'NOT met'}")

    # The torch backend, on the accelerator when there is one (no target: informational).
    device = sl.resolve_device("auto")

    def torch_sample():
        sl.sample_chains(p, args.states, n, rng, backend="torch")
        if device.type == "cuda":
            import torch

            torch.cuda.synchronize()  # CUDA calls return before the work is done

    torch_sample()  # the first call pays for CUDA's start-up
    torch_chains = best_of(args.repeats, torch_sample)
    print(f"sample_chains, torch on {device.type}: {torch_chains * 1e3:.2f} ms, "
          f"ratio / NumPy floor {torch_chains / floor:.2f}")


if __name__ == "__main__":
    main()
