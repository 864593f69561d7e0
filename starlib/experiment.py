"""The authors' zip-task experiment from the command line.

::

    python -m starlib.experiment --config quick|paper --device auto|cpu|cuda \\
        --seed N --threads 1 --out results.json

pre-trains a transformer on delta-mixture chains, runs the STaR loop on it
(:func:`starlib.star_loop.run_star`), prints the iteration table and the
deviation budget (:func:`starlib.star_loop.iteration_table`,
:func:`starlib.star_loop.budget_table`) and writes every record as JSON.
``--threads 1`` gives the book's numbers on any CPU.
``quick`` is the size the book's chapter runs on a laptop CPU; ``paper`` has
the authors' sizes (4096 pre-training chains and 4096 samples per problem, up
to 10 iterations). Options override single settings,
e.g. ``--delta 0.2 --temperature 1.0`` or ``--zero-step 2``. Introduced in the
chapter "STaR on a real transformer".
"""

import argparse
import json
import math
import os
import sys
import time
import numbers
from dataclasses import asdict, dataclass, field, replace

from . import _checks
from .chain import NoKeptChainsError


@dataclass(frozen=True)
class ExperimentConfig:
    """One run of the experiment: task size, data sizes, sampling and the model's schedule."""

    n_bits: int = 3
    delta: float = 0.1  # the authors' generator delta: p = 1/M + delta
    zero_step: int = None  # a step (1-based) whose delta is set to 0, the variants of the pre-training criteria
    chains_per_problem: int = 256
    samples_per_problem: int = 256
    temperature: float = 0.5
    max_iterations: int = 6
    context: str = "markov"
    pretrain_steps: int = 1400
    finetune_steps: int = 75
    # The fine-tune's options, left out of the printed form, which chapters show.
    finetune_learning_rate: float = field(default=1e-3, repr=False)
    finetune_batch_rows: int = field(default=16, repr=False)
    finetune_fit_tolerance: float = field(default=None, repr=False)  # the stopping rule on the fit; None runs every step

    @property
    def deltas(self):
        """The generator delta of every step, with 0 at ``zero_step``."""
        return tuple(0.0 if step == self.zero_step else self.delta for step in range(1, self.n_bits + 1))

    def model_config(self):
        """The transformer's settings for this run (:class:`starlib.transformer.ModelConfig`)."""
        from .transformer import ModelConfig

        return ModelConfig(
            pretrain_steps=self.pretrain_steps, finetune_steps=self.finetune_steps,
            finetune_learning_rate=self.finetune_learning_rate, finetune_batch_rows=self.finetune_batch_rows,
            finetune_fit_tolerance=self.finetune_fit_tolerance,
        )


CONFIGS = {
    "quick": ExperimentConfig(),
    "paper": ExperimentConfig(chains_per_problem=4096, samples_per_problem=4096, max_iterations=10),
}


def check_config(config):
    """Raise ValueError with a readable message if a configuration cannot run."""
    from .zip_task import ZipTask, generator_follow

    if not isinstance(config, ExperimentConfig):
        raise ValueError(f"config must be an ExperimentConfig (see CONFIGS); got config = {config!r:.80}")
    task = ZipTask(config.n_bits)
    if config.zero_step is not None and not 1 <= config.zero_step <= task.num_steps:
        raise ValueError(f"zero_step must be a step in 1..{task.num_steps}; got {config.zero_step}")
    delta = config.delta
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not math.isfinite(delta):
        raise ValueError(f"delta must be a finite number; got delta = {delta!r}")
    generator_follow(config.deltas, task.num_states)
    for name in ("chains_per_problem", "samples_per_problem"):
        _checks.sampled_size(getattr(config, name), name)
    _checks.integer(config.pretrain_steps, "pretrain_steps", 1, "a number of optimiser steps")
    for name in ("max_iterations", "finetune_steps"):
        _checks.integer(getattr(config, name), name, 0, "a number >= 0")
    _checks.temperature(config.temperature, _checks.FLOAT)
    if config.context not in ("markov", "history"):
        raise ValueError(f"context must be 'markov' or 'history'; got {config.context!r}")
    config.model_config()  # checks the learning rate, batch and stopping rule
    return task


def run_experiment(config, seed=0, device="auto", progress=False):
    """Run one configuration; returns the JSON-ready dictionary the command line writes."""
    from .devices import resolve_device
    from .star_loop import run_star
    from .training import pretrain

    task = check_config(config)
    _checks.integer(seed, "seed", 0, "a random seed")
    _checks.flag(progress, "progress")
    device = resolve_device(device)
    start = time.perf_counter()
    pretrained = pretrain(
        task, config.deltas, config.chains_per_problem, seed, config.context, config.model_config(), device, progress
    )
    iterations = run_star(
        pretrained, config.samples_per_problem, config.temperature, config.max_iterations, seed, progress
    )
    return {
        "config": asdict(config),
        "seed": seed,
        "device": str(device),
        "seconds": time.perf_counter() - start,
        "iterations": [asdict(record) for record in iterations],
    }


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m starlib.experiment",
        description="STaR on a small transformer for the zip task (the RL-STaR authors' experiment).",
    )
    parser.add_argument("--config", choices=sorted(CONFIGS), default="quick", help="data sizes and iterations")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the results as JSON to this file")
    parser.add_argument("--delta", type=float, help="the generator's delta (p = 1/M + delta) of every step")
    parser.add_argument("--zero-step", type=int, help="set delta = 0 at this step (1-based)")
    parser.add_argument("--temperature", type=float, help="sampling temperature (the authors use 0.5)")
    parser.add_argument("--context", choices=("markov", "history"), help="what the model conditions on; with history (the question too) the theory columns are the exact history-aware map")
    parser.add_argument("--max-iterations", type=int)
    parser.add_argument("--finetune-steps", type=int, help="optimiser steps per fine-tune (a cap with --fit-tolerance)")
    parser.add_argument("--finetune-learning-rate", type=float)
    parser.add_argument("--finetune-batch-rows", type=int, help="input rows per step index in a fine-tune minibatch")
    parser.add_argument("--fit-tolerance", type=float, dest="finetune_fit_tolerance",
                        help="stop a fine-tune once its fit_follow is within this of the kept follow rate at every step "
                             "(--finetune-steps is then a cap)")
    parser.add_argument("--threads", type=int,
                        help="CPU threads for torch (default: torch's choice, every core). The book's numbers are "
                             "one thread's: other counts split sums differently, and the last digits grow apart")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    overrides = {
        name: getattr(args, name)
        for name in ("delta", "zero_step", "temperature", "context", "max_iterations", "finetune_steps",
                     "finetune_learning_rate", "finetune_batch_rows", "finetune_fit_tolerance")
        if getattr(args, name) is not None
    }
    config = replace(CONFIGS[args.config], **overrides)
    if args.threads is not None:
        if args.threads < 1:
            parser.exit(2, f"error: --threads must be at least 1; got {args.threads}\n")
        import torch

        torch.set_num_threads(args.threads)
    if args.out and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        parser.exit(2, f"error: the folder of --out {args.out} does not exist\n")
    try:
        results = run_experiment(config, args.seed, args.device, progress=not args.no_progress)
    except (ValueError, NoKeptChainsError) as err:
        parser.exit(2, f"error: {err}\n")
    from .star_loop import budget_table, iteration_table

    print(iteration_table(results["iterations"]))
    if len(results["iterations"]) > 1:
        print("deviation budget, one step from the previous iteration (accuracy):")
        print(budget_table(results["iterations"]))
    print(f"{results['device']}, {results['seconds']:.1f} s")
    if args.out:
        try:
            with open(args.out, "w") as handle:
                json.dump(results, handle, indent=1)
        except OSError as err:
            parser.exit(2, f"error: cannot write {args.out}: {err}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
