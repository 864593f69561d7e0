"""Planning a STaR run with the exact map, from the command line.

::

    python -m starlib.plan --M 64 --follow 0.1156,0.1156,0.1156 \\
        --temperature 1.0 --target 0.9 [--samples N] [--json]

From measured follow probabilities p_t of a pre-trained model (one per step)
and the number M of possible next states, :func:`plan` iterates the exact tied
map (:func:`starlib.theory.star_step`) at the sampling temperature and predicts,
per iteration from iteration 0, the accuracy (:func:`starlib.theory.accuracy`),
the accuracy at the sampling temperature, the follow rates and the kept-wrong
rate of the sampled chains (:func:`starlib.theory.kept_wrong_rate`), and the
first iteration at or above a target accuracy. With ``samples`` (N chains per
iteration) it adds the finite-sample forecasts of :doc:`/chapters/07_finite_samples`:
per iteration and step the probability that no kept chain follows the step
(:func:`starlib.finite_samples.collapse_probability`) and the standard deviation of the
refit (:func:`starlib.finite_samples.star_step_mc_variance`), and the sample size that
escapes the plateau (:func:`starlib.finite_samples.escape_samples`, at the smallest
starting margin). Without ``--json`` it prints a table. Bad arguments get one
line and exit status 2. Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
"""

import argparse
import json
import sys

import numpy as np

from . import _checks
from .chain import NoKeptChainsError, margin, tempered
from .tables import format_table
from .finite_samples import collapse_probability, escape_samples, star_step_mc_variance
from .theory import accuracy, kept_wrong_rate, star_step


def plan(follow, M, temperature=1.0, target=0.9, max_iterations=30, samples=None):
    """The exact map's forecast for a run started at ``follow``; a JSON-ready dict.

    Iterates until the accuracy reaches ``target`` (None: never stop early) or
    for ``max_iterations`` iterations. Keys: ``M``, ``temperature``, ``target``,
    ``samples``; per iteration ``accuracy``, ``sampling_accuracy``, ``follow``
    (one list per iteration) and ``kept_wrong_rate`` (of the chains kept at the
    sampling temperature); ``iterations_to_target`` (None if not reached). With
    ``samples``: ``collapse_probability`` and ``refit_sd`` (per iteration and
    step, for the update from that iteration) and ``escape_samples``.
    """
    p = np.array(_checks.one_policy(follow, "follow"), dtype=float)
    M = _checks.num_states(M)
    tau = float(_checks.temperature(temperature, _checks.FLOAT))
    if target is not None:
        target = _checks.target_accuracy(target)
    max_iterations = _checks.integer(max_iterations, "max_iterations", 0, "a number of iterations >= 0")
    if samples is not None:
        samples = _checks.sampled_size(samples, "samples")
    out = dict(M=M, temperature=tau, target=target, samples=samples, accuracy=[], sampling_accuracy=[],
               follow=[], kept_wrong_rate=[], iterations_to_target=None)
    if samples is not None:
        out.update(collapse_probability=[], refit_sd=[])
    for n in range(max_iterations + 1):
        sampled = tempered(p, M, tau)
        out["accuracy"].append(float(accuracy(p, M)))
        out["sampling_accuracy"].append(float(accuracy(sampled, M)))
        out["follow"].append([float(x) for x in p])
        try:
            out["kept_wrong_rate"].append(float(kept_wrong_rate(sampled, M)))
        except NoKeptChainsError:
            raise ValueError(f"follow = {list(p)} keeps no chain: the accuracy is 0") from None
        if samples is not None:
            out["collapse_probability"].append([float(x) for x in collapse_probability(p, M, samples, tau)])
            out["refit_sd"].append([float(x) for x in np.sqrt(star_step_mc_variance(p, M, samples, tau))])
        if target is not None and out["accuracy"][-1] >= target:
            out["iterations_to_target"] = n
            break
        if n < max_iterations:
            p = star_step(p, M, tau)
    if samples is not None:
        start = float(margin(min(out["follow"][0]), M))
        out["escape_samples"] = float(escape_samples(start, M, len(p))) if start > 0 else None
    return out


def format_plan(forecast):
    """A :func:`plan` forecast as a text table, one row per iteration."""
    if not isinstance(forecast, dict) or "accuracy" not in forecast:
        raise ValueError("forecast must be the dict that plan() returns")
    with_samples = forecast.get("samples") is not None
    headers = ["iter", "accuracy", "at tau", "kept-wrong", "follow p_t"] + (["P(collapse)", "refit sd"] if with_samples else [])
    rows = []
    for n, acc in enumerate(forecast["accuracy"]):
        row = [n, acc, forecast["sampling_accuracy"][n], forecast["kept_wrong_rate"][n],
               " ".join(f"{x:.3f}" for x in forecast["follow"][n])]
        if with_samples:
            row += [f"{max(forecast['collapse_probability'][n]):.2e}", f"{max(forecast['refit_sd'][n]):.4f}"]
        rows.append(row)
    lines = [format_table(rows, headers, ["d", ".4f", ".4f", ".4f", "", "", ""][: len(headers)])]
    hit = forecast["iterations_to_target"]
    lines.append(f"iterations to accuracy {forecast['target']}: {'not reached' if hit is None else hit}")
    if with_samples:
        escape = forecast["escape_samples"]
        lines.append(f"chains per iteration to leave the plateau: {'-' if escape is None else f'{escape:.0f}'}"
                     f" (with {forecast['samples']})")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def _follow(text):
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--follow must be comma-separated numbers; got {text!r}") from None


def main(argv=None):
    parser = _Parser(prog="python -m starlib.plan", description="Forecast a STaR run with the exact map.")
    parser.add_argument("--M", type=int, required=True, help="possible next states per step")
    parser.add_argument("--follow", type=_follow, required=True, help="measured p_t per step, comma-separated")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    parser.add_argument("--target", type=float, default=0.9, help="target accuracy")
    parser.add_argument("--max-iterations", type=int, default=30)
    parser.add_argument("--samples", type=int, help="chains per iteration: adds the finite-sample forecasts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        forecast = plan(args.follow, args.M, args.temperature, args.target, args.max_iterations, args.samples)
    except ValueError as err:
        parser.error(str(err))
    print(json.dumps(forecast, indent=1) if args.json else format_plan(forecast))
    return 0


if __name__ == "__main__":
    sys.exit(main())
