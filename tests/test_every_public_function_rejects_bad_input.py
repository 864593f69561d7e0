"""Every public function and class of starlib rejects bad input with a ValueError naming the argument.

The table ``CASES`` holds, per public name, one valid call (its keyword
arguments) and, per argument, the bad values a careful user would try: NaN and
infinities, negative or zero counts, floats, bools and fractions where an
integer count is needed, counts beyond int64, wrong shapes, strings,
probabilities outside [0, 1], temperatures and learning rates <= 0 or not
finite, unknown method or context names. Each bad value replaces one argument
of the valid call, and the call must raise ValueError whose message names that
argument. A meta-test fails when a public name has no entry, so a new function
cannot be forgotten.
"""

import functools
import importlib
import inspect
import re
from fractions import Fraction

import numpy as np
import pytest

import starlib as sl
from starlib import experiment, plan, star_loop, tables, zip_task

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny models; threads only contend
from starlib import training, transformer  # noqa: E402

NAN, INF = float("nan"), float("inf")
HUGE = 2**63  # one past int64: NumPy's samplers cannot take it

# --- bad values by kind of argument -----------------------------------------------------------

COUNT = [0, -1, 2.5, True, NAN, "8", None]  # a count >= 1 (chains, runs, group size, questions)
SAMPLES = COUNT + [HUGE]  # a count that feeds a NumPy sampler
ITERATIONS = [-1, 2.5, True, NAN, "3", None]  # a count >= 0
STATES = [1, 0, -3, 2.5, True, NAN, "3", None]  # M, an integer >= 2
RNG = [None, 0, "seed", np.random.RandomState(0)]
TEMPERATURE = [0, -1.0, NAN, INF, -INF, "1", True, None]
LEARNING_RATE = [0, -0.1, NAN, INF, "0.1", True, None]
ACCURACY = [NAN, INF, -0.1, 1.5, "0.5", None]  # one number in [0, 1]
POSITIVE = [0, -1.0, NAN, INF, "1", None]  # a finite number > 0
FLAG = ["yes", 2, None]
NAME = ["bogus", 3, None]  # a method, context or std name
SEED = [-1, 2.5, NAN, "0", None]


def probabilities(valid):
    """Bad arrays of probabilities made from a valid one: one entry NaN, inf, < 0, > 1; a string; empty."""
    out = []
    for bad in (NAN, INF, -0.1, 1.5):
        arr = np.array(valid, dtype=float)
        arr.reshape(-1)[-1] = bad
        out.append(arr)
    return out + ["abc", [], None]


def optional(values):
    """The bad values of an optional argument: None is its default, so not bad."""
    return [v for v in values if v is not None]


def exact_probabilities(valid):
    """Bad exact arrays made from a valid one: one entry a Fraction < 0 or > 1, or a float; a string; empty."""
    out = []
    for bad in (Fraction(-1, 7), Fraction(3, 2), 0.5):
        arr = np.array(valid, dtype=object)
        arr.reshape(-1)[-1] = bad
        out.append(arr)
    return out + ["abc", [], None]


def numbers(valid):
    """Bad arrays of finite numbers made from a valid one: one entry NaN or inf; a string."""
    out = []
    for bad in (NAN, INF):
        arr = np.array(valid, dtype=float)
        arr.reshape(-1)[-1] = bad
        out.append(arr)
    return out + ["abc", None]


def kernels(valid):
    """Bad kernels: an entry NaN or > 1, a row not summing to 1, a 2-D array, a string."""
    out = probabilities(valid)[:4]
    arr = np.array(valid, dtype=float)
    arr.reshape(-1)[0] += 0.1  # its row no longer sums to 1
    return out + [arr, np.array(valid)[0], "abc", None]


def ground_truths(valid):
    """Bad ground truths: a state out of range, negative, fractional, wrong shape, string."""
    arr = np.array(valid)
    out = []
    for bad in (arr.shape[1], -1, 0.5):
        g = arr.astype(float)
        g.reshape(-1)[-1] = bad
        out.append(g)
    return out + [arr[:, :-1], "abc", None]


def states(valid):
    """Bad integer state arrays: out of range, negative, fractional, string."""
    arr = np.array(valid)
    out = []
    for bad in (10**6, -1, 0.5):
        a = arr.astype(float)
        a.reshape(-1)[-1] = bad
        out.append(a)
    return out + ["abc", None]


def counts(valid):
    """Bad transition counts: NaN, inf, negative, wrong number of axes, string."""
    out = []
    for bad in (NAN, INF, -1.0):
        arr = np.array(valid, dtype=float)
        arr.reshape(-1)[-1] = bad
        out.append(arr)
    return out + [np.array(valid)[0], "abc", None]


# --- a small instance ------------------------------------------------------------------------

M = 3
P = [0.6, 0.7]
P_EXACT = [Fraction(3, 5), Fraction(7, 10)]
G = [[0, 1, 2], [1, 2, 0]]
Q0 = [0.5, 0.25, 0.25]
KERNELS = sl.tied_kernels(P, M, G)
FOLLOW = [[0.6, 0.5, 0.7], [0.8, 0.6, 0.5]]  # per-state follow rates (T, M) for the group-RL model
CORRECT = [[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0]]  # two groups' rewards


def rng():
    return np.random.default_rng(0)


@functools.cache
def tiny_task():
    return zip_task.ZipTask(1)


@functools.cache
def tiny_config():
    return transformer.ModelConfig(d_model=8, n_layers=1, n_heads=2, d_mlp=16, pretrain_steps=2, batch_rows=2,
                                   finetune_steps=2, finetune_batch_rows=2)


@functools.cache
def tiny_pretrained():
    return training.pretrain(tiny_task(), [0.2], 4, config=tiny_config(), device="cpu")


@functools.cache
def tiny_run():
    return star_loop.run_star(tiny_pretrained(), 4, 0.5, 2, 0)


@functools.cache
def tiny_counts():
    task = tiny_task()
    return zip_task.pretraining_counts(task, [0.2], 4, rng())


def tiny_ground_truth():
    return np.asarray(tiny_task().ground_truth)


@functools.cache
def tiny_experiment():
    return experiment.ExperimentConfig(n_bits=1, delta=0.2, chains_per_problem=4, samples_per_problem=4,
                                       max_iterations=1, pretrain_steps=2, finetune_steps=2)


def bad_runs():
    """Bad dicts from a label to a run's records: empty, an empty run, a record lacking fields, not records."""
    return [{}, {0.2: []}, {0.2: [{"iteration": 0}]}, {0.2: "ab"}, [tiny_run()], "ab", None, 3]


def bad_temperature_keys():
    """Runs keyed by something other than a (delta, temperature > 0) pair."""
    return [{0.2: tiny_run()}, {(0.2, 0.0): tiny_run()}, {(0.2, NAN): tiny_run()}, {(0.2, 0.5, 1): tiny_run()}]


def checked_config(**fields):
    """An ExperimentConfig is checked when it runs (experiment.check_config), not when it is made."""
    experiment.check_config(experiment.ExperimentConfig(**fields))


def case(function, valid, bad, names=None, xfail=None):
    """One table entry: ``valid()`` gives the keyword arguments of a valid call; ``bad`` maps an argument
    to its bad values; ``names`` maps an argument to the name its message must show, where it differs;
    ``xfail`` maps an argument to the reason it still slips."""
    return dict(function=function, valid=valid, bad=bad, names=names or {}, xfail=xfail or {})


# --- the table: one entry per public name -----------------------------------------------------

CASES = {
    # chain, theory: Chapter 1 to 6
    "accuracy": case(sl.accuracy, lambda: dict(p=P, M=M), dict(p=probabilities(P), M=STATES)),
    "accuracy_gradient": case(sl.accuracy_gradient, lambda: dict(p=P, M=M), dict(p=probabilities(P), M=STATES)),
    "kept_wrong_rate": case(sl.kept_wrong_rate, lambda: dict(p=P, M=M), dict(p=probabilities(P), M=STATES)),
    "margin": case(sl.margin, lambda: dict(p=P, M=M), dict(p=probabilities(P), M=STATES)),
    "prob_from_margin": case(sl.prob_from_margin, lambda: dict(delta=[0.1, 0.2], M=M),
                             dict(delta=[[0.1, NAN], [0.1, INF], [0.1, 2.0], [0.1, -1.0], "abc", None], M=STATES)),
    "tempered": case(sl.tempered, lambda: dict(p=P, M=M, temperature=0.5),
                     dict(p=probabilities(P), M=STATES, temperature=TEMPERATURE)),
    "tied_kernels": case(sl.tied_kernels, lambda: dict(p=P, M=M, g=G),
                         dict(p=probabilities(P), M=STATES, g=optional(ground_truths(G)))),
    "answers": case(sl.answers, lambda: dict(g=G), dict(g=[[[0, 3, 1]], [[0, -1, 2]], [[0.5, 1, 2]], "abc", None])),
    "enumerate_chains": case(sl.enumerate_chains, lambda: dict(P=KERNELS, q0=Q0),
                             dict(P=kernels(KERNELS), q0=probabilities(Q0) + [[0.5, 0.5, 0.5], [0.5, 0.5]])),
    "chain_outcomes": case(sl.chain_outcomes, lambda: dict(P=KERNELS, g=G, q0=Q0),
                           dict(P=kernels(KERNELS), g=ground_truths(G), q0=probabilities(Q0) + [[0.5, 0.5]])),
    "star_by_enumeration": case(sl.star_by_enumeration, lambda: dict(P=KERNELS, g=G, q0=Q0),
                                dict(P=kernels(KERNELS), g=ground_truths(G), q0=probabilities(Q0) + [[0.5, 0.5]])),
    "random_tied_instance": case(sl.random_tied_instance, lambda: dict(rng=rng(), M_range=(2, 3), T_range=(1, 2),
                                                                       denominators=(4,), max_chains=None),
                                 dict(rng=RNG, M_range=[(1, 3), (3, 2), (2.5, 3), "ab", None],
                                      T_range=[(0, 2), (2, 1), (1, 2.5), "ab", None],
                                      denominators=[(0,), (-4,), (2.5,), (), "x", None],
                                      max_chains=[0, -1, 2.5, NAN, "9"])),
    "star_step": case(sl.star_step, lambda: dict(p=P, M=M, temperature=1.0),
                      dict(p=probabilities(P), M=STATES, temperature=TEMPERATURE)),
    "star_step_eps": case(sl.star_step_eps, lambda: dict(eps=[0.4, 0.3], M=M, temperature=1.0),
                          dict(eps=probabilities([0.4, 0.3]), M=STATES, temperature=TEMPERATURE)),
    "star_iterates": case(sl.star_iterates, lambda: dict(p0=P, M=M, iterations=3, temperature=1.0),
                          dict(p0=probabilities(P), M=STATES, iterations=ITERATIONS, temperature=TEMPERATURE)),
    "star_limit": case(sl.star_limit, lambda: dict(p0=P, M=M, max_iterations=50, tol=1e-12, temperature=1.0),
                       dict(p0=probabilities(P), M=STATES, max_iterations=ITERATIONS, tol=POSITIVE[1:],
                            temperature=TEMPERATURE)),
    "iterations_to_accuracy": case(sl.iterations_to_accuracy,
                                   lambda: dict(p0=P, M=M, target=0.9, max_iterations=50, temperature=1.0),
                                   dict(p0=probabilities(P), M=STATES, target=ACCURACY + [0.0],
                                        max_iterations=ITERATIONS, temperature=TEMPERATURE)),
    "margin_for_accuracy": case(sl.margin_for_accuracy, lambda: dict(A=0.5, M=M, T=2),
                                dict(A=ACCURACY, M=STATES, T=COUNT)),
    "detectable_accuracy": case(sl.detectable_accuracy, lambda: dict(M=M, N=100, z=2.0),
                                dict(M=STATES, N=COUNT, z=POSITIVE)),
    "equal_margin_star_map": case(sl.equal_margin_star_map, lambda: dict(delta=0.2, M=M, T=3, temperature=1.0),
                                  dict(delta=[NAN, INF, 2.0, -1.0, "a", None], M=STATES, T=COUNT,
                                       temperature=TEMPERATURE)),
    "equal_steps_accuracy": case(sl.equal_steps_accuracy, lambda: dict(delta=0.2, M=M, T=3),
                                 dict(delta=[NAN, INF, 2.0, -1.0, "a", None], M=STATES, T=COUNT)),
    "logit_natural_step": case(sl.logit_natural_step, lambda: dict(p=P, M=M, step_size=1.0),
                               dict(p=probabilities(P), M=STATES, step_size=POSITIVE)),
    "margin_requirements": case(sl.margin_requirements,
                                lambda: dict(M=M, lengths=[1, 2], targets=[0.5, 0.9], N=100, z=2.0),
                                dict(M=STATES, lengths=[[0, 2], [1.5], [], "ab", None],
                                     targets=[[NAN], [1.5], [-0.1], [], "ab", None], N=COUNT, z=POSITIVE)),
    "star_gradient_cosine": case(sl.star_gradient_cosine, lambda: dict(p=P, M=M),
                                 dict(p=probabilities(P), M=STATES)),
    "star_gradient_cosine_bound": case(sl.star_gradient_cosine_bound, lambda: dict(p=P),
                                       dict(p=probabilities(P))),
    "collapse_probability": case(sl.collapse_probability, lambda: dict(p=P, M=M, n=8, temperature=1.0),
                                 dict(p=probabilities(P), M=STATES, n=COUNT, temperature=TEMPERATURE)),
    "escape_samples": case(sl.escape_samples, lambda: dict(delta0=0.1, M=M, T=2, near_chance=False),
                           dict(delta0=[NAN, INF, -0.1, 0.0, 2.0, "a", None], M=STATES, T=COUNT, near_chance=FLAG)),
    "mean_inverse_kept": case(sl.mean_inverse_kept, lambda: dict(n=8, A=0.5),
                              dict(n=SAMPLES, A=ACCURACY)),
    "star_step_mc_variance": case(sl.star_step_mc_variance, lambda: dict(p=P, M=M, n=8, temperature=1.0, exact=True),
                                  dict(p=probabilities(P), M=STATES, n=SAMPLES, temperature=TEMPERATURE,
                                       exact=FLAG)),
    "wrong_way_probability": case(sl.wrong_way_probability, lambda: dict(p=P, M=M, n=8, temperature=1.0),
                                  dict(p=probabilities(P), M=STATES, n=SAMPLES, temperature=TEMPERATURE)),
    "quadratic_convergence": case(sl.quadratic_convergence,
                                  lambda: dict(eps0=0.3, M=M, T=2, floor=1e-300, max_iterations=100),
                                  dict(eps0=[NAN, INF, -0.1, 1.5, "a", None], M=STATES, T=COUNT,
                                       floor=POSITIVE, max_iterations=COUNT)),
    "quadratic_recurrence_iterations": case(sl.quadratic_recurrence_iterations,
                                            lambda: dict(eps0=0.3, M=M, T=2, target=1e-6),
                                            dict(eps0=[NAN, INF, -0.1, 1.5, "a", None], M=STATES, T=COUNT,
                                                 target=POSITIVE)),
    "plateau_lengths": case(sl.plateau_lengths,
                            lambda: dict(M=M, offsets={2: [0.1, 0.2]}, target=0.9, max_iterations=200),
                            dict(M=STATES, offsets=[{1: [0.1, 0.2]}, {2: [0.1]}, {2: [0.1, NAN]}, {2: [0.1, -0.1]},
                                                    {2: [0.1, 0.9]}, "ab", None],
                                 target=ACCURACY + [0.0], max_iterations=COUNT)),
    "below_chance_starts": case(sl.below_chance_starts, lambda: dict(rng=rng(), n=4, M=M, T=2),
                                dict(rng=RNG, n=SAMPLES, M=STATES, T=COUNT)),
    "limit_changes": case(sl.limit_changes,
                          lambda: dict(p0=[[0.2, 0.9]], M=M, temperature=0.5, reference=1.0, max_iterations=200),
                          dict(p0=probabilities([[0.2, 0.9]]), M=STATES, temperature=TEMPERATURE,
                               reference=TEMPERATURE, max_iterations=ITERATIONS)),
    "sign_rule_vertex": case(sl.sign_rule_vertex, lambda: dict(p0=[0.2, 0.9], M=M, temperature=1, max_iterations=5),
                             dict(p0=probabilities([0.2, 0.9]), M=STATES, temperature=TEMPERATURE,
                                  max_iterations=ITERATIONS)),
    "star_curve": case(sl.star_curve, lambda: dict(p0=P, M=M, iterations=3, temperature=1),
                       dict(p0=probabilities(P), M=STATES, iterations=ITERATIONS, temperature=TEMPERATURE)),
    "two_step_portrait": case(sl.two_step_portrait, lambda: dict(M=M, grid_points=8, arrow_points=3),
                              dict(M=STATES, grid_points=COUNT, arrow_points=COUNT)),
    "vertex_limit": case(sl.vertex_limit, lambda: dict(p0=P, M=M, temperature=1.0, max_iterations=200, tol=1e-13),
                         dict(p0=probabilities(P), M=STATES, temperature=TEMPERATURE, max_iterations=ITERATIONS,
                              tol=POSITIVE[1:])),
    # sampling, finite samples
    "follow_counts": case(sl.follow_counts, lambda: dict(p=P, M=M, n=8, rng=rng(), temperature=1.0),
                          dict(p=probabilities(P), M=STATES, n=SAMPLES, rng=RNG, temperature=TEMPERATURE)),
    "sample_chains": case(sl.sample_chains,
                          lambda: dict(p=P, M=M, n=8, rng=rng(), temperature=1.0, backend="numpy", device="auto"),
                          dict(p=probabilities(P), M=STATES, n=SAMPLES, rng=RNG, temperature=TEMPERATURE,
                               backend=NAME, device=["tpu", 3])),
    "sample_tabular_chains": case(sl.sample_tabular_chains, lambda: dict(P=KERNELS, g=G, q0=Q0, n=8, rng=rng()),
                                  dict(P=kernels(KERNELS), g=ground_truths(G), q0=probabilities(Q0), n=SAMPLES,
                                       rng=RNG)),
    "star_step_mc": case(sl.star_step_mc, lambda: dict(p=P, M=M, n=8, rng=rng(), temperature=1.0),
                         dict(p=probabilities(P), M=STATES, n=SAMPLES, rng=RNG, temperature=TEMPERATURE)),
    "star_iterates_mc": case(sl.star_iterates_mc,
                             lambda: dict(p0=P, M=M, n=8, iterations=2, rng=rng(), temperature=1.0),
                             dict(p0=probabilities(P), M=STATES, n=SAMPLES, iterations=ITERATIONS, rng=RNG,
                                  temperature=TEMPERATURE)),
    "rationalized_star_iterates_mc": case(sl.rationalized_star_iterates_mc,
                                          lambda: dict(p0=P, M=M, n=8, iterations=2, rng=rng(), temperature=1.0),
                                          dict(p0=probabilities(P), M=STATES, n=SAMPLES, iterations=ITERATIONS,
                                               rng=RNG, temperature=TEMPERATURE)),
    "accuracy_runs": case(sl.accuracy_runs,
                          lambda: dict(p0=P, M=M, n=8, iterations=2, runs=2, rng=rng(), temperature=1.0),
                          dict(p0=probabilities(P), M=STATES, n=SAMPLES, iterations=ITERATIONS, runs=SAMPLES,
                               rng=RNG, temperature=TEMPERATURE)),
    "escape_fraction": case(sl.escape_fraction,
                            lambda: dict(p0=P, M=M, n=8, iterations=2, target=0.9, runs=2, rng=rng(), temperature=1.0),
                            dict(p0=probabilities(P), M=STATES, n=SAMPLES, iterations=ITERATIONS,
                                 target=ACCURACY, runs=SAMPLES, rng=RNG, temperature=TEMPERATURE)),
    "samples_to_escape": case(sl.samples_to_escape,
                              lambda: dict(p0=P, M=M, target=0.9, iterations=2, grid=[4, 8], runs=2, rng=rng(),
                                           fraction=0.9, temperature=1.0),
                              dict(p0=probabilities(P), M=STATES, target=ACCURACY, iterations=ITERATIONS,
                                   grid=[[0, 4], [4.5], [8, 4], [HUGE], [], "ab", None], runs=SAMPLES, rng=RNG,
                                   fraction=ACCURACY + [0.0], temperature=TEMPERATURE)),
    "step_estimates": case(sl.step_estimates, lambda: dict(p=P, M=M, n=8, runs=2, rng=rng(), temperature=1.0),
                           dict(p=probabilities(P), M=STATES, n=SAMPLES, runs=SAMPLES, rng=RNG,
                                temperature=TEMPERATURE)),
    "accuracy_bands": case(sl.accuracy_bands, lambda: dict(p0=P, M=M, sizes=[4, 8], iterations=2, runs=2, seed=0),
                           dict(p0=probabilities(P), M=STATES, sizes=[[0, 4], [4.5], [HUGE], [], "ab", None],
                                iterations=ITERATIONS, runs=SAMPLES, seed=SEED)),
    "exact_estimate_moments": case(sl.exact_estimate_moments, lambda: dict(p=P_EXACT, M=M, n=4, g=None),
                                   dict(p=exact_probabilities(P_EXACT), M=STATES, n=COUNT, g=optional(ground_truths(G)))),
    "false_alarm_probability": case(sl.false_alarm_probability, lambda: dict(tests=10, threshold=3.0),
                                    dict(tests=COUNT, threshold=POSITIVE)),
    "first_matching_run": case(sl.first_matching_run,
                               lambda: dict(p0=P, M=M, n=8, iterations=2, condition=lambda run: True, seeds=3),
                               dict(p0=probabilities(P), M=STATES, n=SAMPLES, iterations=ITERATIONS,
                                    condition=[None, 3, "x"], seeds=COUNT)),
    "iterations_to_exact_optimum": case(sl.iterations_to_exact_optimum,
                                        lambda: dict(p0=P, M=M, n=8, iterations=2, runs=2, rng=rng()),
                                        dict(p0=probabilities(P), M=STATES, n=SAMPLES, iterations=ITERATIONS,
                                             runs=SAMPLES, rng=RNG)),
    "measure_escape": case(sl.measure_escape, lambda: dict(delta0=0.3, M=M, T=2, target=0.9, runs=2, rng=rng(),
                                                           fraction=0.5),
                           dict(delta0=[NAN, INF, -0.1, 0.0, 2.0, "a", None], M=STATES, T=COUNT,
                                target=ACCURACY + [0.0], runs=SAMPLES, rng=RNG, fraction=ACCURACY + [0.0])),
    "one_step_escape_samples": case(sl.one_step_escape_samples, lambda: dict(delta0=0.1, M=M, T=2),
                                    dict(delta0=[NAN, INF, -0.1, 0.0, 2.0, "a", None], M=STATES, T=COUNT)),
    "step_moment_z_scores": case(sl.step_moment_z_scores, lambda: dict(p=P, M=M, n=4, runs=4, rng=rng()),
                                 dict(p=probabilities(P), M=STATES, n=SAMPLES, runs=SAMPLES, rng=RNG)),
    "wrong_way_rates": case(sl.wrong_way_rates, lambda: dict(p=P, M=M, n=4, runs=4, rng=rng()),
                            dict(p=probabilities(P), M=STATES, n=SAMPLES, runs=SAMPLES, rng=RNG)),
    # policy gradient and comparisons
    "batch_step": case(sl.batch_step,
                       lambda: dict(method="reinforce", x=[[0.6, 0.6], [0.7, 0.7]], M=M, n=8, rng=rng(),
                                    learning_rates=[0.1, 0.2]),
                       dict(method=NAME, x=probabilities([[0.6, 0.6], [0.7, 0.7]]) + [[0.6, 0.7]], M=STATES,
                            n=SAMPLES, rng=RNG, learning_rates=[[0.1, NAN], [0.1, -1.0], [0.1, True], [0.1],
                                                                "ab", None])),
    "reinforce_step": case(sl.reinforce_step,
                           lambda: dict(p=P, M=M, n=8, rng=rng(), learning_rate=0.1, temperature=1.0),
                           dict(p=probabilities(P), M=STATES, n=SAMPLES, rng=RNG, learning_rate=LEARNING_RATE,
                                temperature=TEMPERATURE)),
    "reinforce_iterates": case(sl.reinforce_iterates,
                               lambda: dict(p0=P, M=M, n=8, iterations=2, rng=rng(), learning_rate=0.1,
                                            temperature=1.0),
                               dict(p0=probabilities(P), M=STATES, n=SAMPLES, iterations=ITERATIONS, rng=RNG,
                                    learning_rate=LEARNING_RATE, temperature=TEMPERATURE)),
    "logit_policy": case(sl.logit_policy, lambda: dict(theta=[0.1, 0.2], M=M), dict(theta=numbers([0.1, 0.2]),
                                                                                   M=STATES)),
    "policy_logits": case(sl.policy_logits, lambda: dict(p=P, M=M), dict(p=probabilities(P), M=STATES)),
    "logit_reinforce_step": case(sl.logit_reinforce_step,
                                 lambda: dict(theta=[0.1, 0.2], M=M, n=8, rng=rng(), learning_rate=0.1,
                                              temperature=1.0),
                                 dict(theta=numbers([0.1, 0.2]), M=STATES, n=SAMPLES, rng=RNG,
                                      learning_rate=LEARNING_RATE, temperature=TEMPERATURE)),
    "logit_reinforce_iterates": case(sl.logit_reinforce_iterates,
                                     lambda: dict(theta0=[0.1, 0.2], M=M, n=8, iterations=2, rng=rng(),
                                                  learning_rate=0.1, temperature=1.0),
                                     dict(theta0=numbers([0.1, 0.2]), M=STATES, n=SAMPLES, iterations=ITERATIONS,
                                          rng=RNG, learning_rate=LEARNING_RATE, temperature=TEMPERATURE)),
    "expected_logit_reinforce_step": case(sl.expected_logit_reinforce_step,
                                          lambda: dict(p=P, M=M, n=8, learning_rate=0.1, temperature=1.0),
                                          dict(p=probabilities(P), M=STATES, n=COUNT, learning_rate=LEARNING_RATE,
                                               temperature=TEMPERATURE)),
    "expected_reinforce_step": case(sl.expected_reinforce_step,
                                    lambda: dict(p=P, M=M, n=8, learning_rate=0.1, natural=False),
                                    dict(p=probabilities(P), M=STATES, n=COUNT, learning_rate=LEARNING_RATE,
                                         natural=FLAG)),
    "expected_star_mc_step": case(sl.expected_star_mc_step, lambda: dict(p=P, M=M, n=8),
                                  dict(p=probabilities(P), M=STATES, n=COUNT)),
    "expected_steps_by_enumeration": case(sl.expected_steps_by_enumeration,
                                          lambda: dict(p=P_EXACT, M=M, n=2, learning_rate=Fraction(1, 10)),
                                          dict(p=exact_probabilities(P_EXACT), M=STATES, n=COUNT, learning_rate=LEARNING_RATE)),
    "natural_reinforce_step": case(sl.natural_reinforce_step,
                                   lambda: dict(p=P, M=M, n=8, rng=rng(), learning_rate=0.1, baseline=True),
                                   dict(p=probabilities(P), M=STATES, n=SAMPLES, rng=RNG,
                                        learning_rate=LEARNING_RATE, baseline=FLAG)),
    "natural_reinforce_iterates": case(sl.natural_reinforce_iterates,
                                       lambda: dict(p0=P, M=M, n=8, iterations=2, rng=rng(), learning_rate=0.1,
                                                    baseline=True),
                                       dict(p0=probabilities(P), M=STATES, n=SAMPLES, iterations=ITERATIONS,
                                            rng=RNG, learning_rate=LEARNING_RATE, baseline=FLAG)),
    "natural_reinforce_iterates(iterations=0)": case(
        sl.natural_reinforce_iterates,
        lambda: dict(p0=P, M=M, n=8, iterations=0, rng=rng(), learning_rate=0.1, baseline=True),
        dict(p0=probabilities(P), M=STATES, n=SAMPLES, rng=RNG, learning_rate=LEARNING_RATE, baseline=FLAG)),
    "policy_gradient_estimate": case(sl.policy_gradient_estimate,
                                     lambda: dict(p=P, counts=sl.follow_counts(P, M, 16, rng()), baseline=True),
                                     dict(p=probabilities(P),
                                          counts=[sl.FollowCounts(NAN, [1, 1], 3, [1, 1]),
                                                  sl.FollowCounts(2.5, [1, 1], 3, [1, 1]),
                                                  sl.FollowCounts(2, [1, NAN], 3, [1, 1]),
                                                  sl.FollowCounts(2, [1, 1.5], 3, [1, 1]),
                                                  sl.FollowCounts(2, [1, 1], -3, [1, 1]),
                                                  sl.FollowCounts(2, [1, 1], 3, [1, INF]),
                                                  sl.FollowCounts(2, [3, 1], 3, [1, 1]),
                                                  sl.FollowCounts(2, [1, 1, 1], 3, [1, 1]),
                                                  "abc", None],
                                          baseline=FLAG)),
    "iterations_to_target": case(sl.iterations_to_target,
                                 lambda: dict(method="reinforce", p0=P, M=M, n=8, target=0.9, max_iterations=2,
                                              rng=rng(), runs=2, learning_rate=0.1),
                                 dict(method=NAME, p0=probabilities(P), M=STATES, n=SAMPLES,
                                      target=ACCURACY + [0.0], max_iterations=ITERATIONS, rng=RNG, runs=SAMPLES,
                                      learning_rate=LEARNING_RATE[:-1])),
    "run_summary": case(sl.run_summary, lambda: dict(iterations=[1, 2, -1], low=0.1, high=0.9),
                        dict(iterations=[[1, NAN], [1, -2], [1, 2.5], [], "ab", None], low=ACCURACY + [0.95],
                             high=ACCURACY + [0.05])),
    "compare_methods": case(sl.compare_methods,
                            lambda: dict(p0=P, M=M, n=8, methods=[("R", "reinforce", 0.1), ("S", "star", None)],
                                         target=0.9, max_iterations=2, rng=rng(), runs=2),
                            dict(p0=probabilities(P), M=STATES, n=SAMPLES,
                                 methods=[[("R", "bogus", 0.1)], [("R", "reinforce", NAN)], [("R", "reinforce")],
                                          [], "ab", None],
                                 target=ACCURACY + [0.0], max_iterations=ITERATIONS, rng=RNG, runs=SAMPLES)),
    "comparison_table": case(sl.comparison_table,
                             lambda: dict(results=sl.compare_methods(P, M, 8, [("S", "star", None)], 0.9, 2, rng(), 2),
                                          n=8),
                             dict(results=[[1, 2], "ab", None], n=COUNT)),
    "learning_rate_sweep": case(sl.learning_rate_sweep,
                                lambda: dict(p0=P, M=M, n=8, methods=["reinforce"], rates=[0.1, 0.2], target=0.9,
                                             max_iterations=2, rng=rng(), runs=2),
                                dict(p0=probabilities(P), M=STATES, n=SAMPLES, methods=[["bogus"], [], "ab", None],
                                     rates=[[0.1, NAN], [0.1, -0.1], [0.1, 0.0], [], "ab", None],
                                     target=ACCURACY + [0.0], max_iterations=ITERATIONS, rng=RNG, runs=SAMPLES)),
    "sweep_table": case(sl.sweep_table,
                        lambda: dict(sweep=sl.learning_rate_sweep(P, M, 8, ["reinforce"], [0.1], 0.9, 2, rng(), 2),
                                     methods=["reinforce"], rates=[0.1], short_names={"reinforce": "p"}),
                        dict(sweep=[{}, "ab", None], methods=[["bogus"], "ab", None], rates=[[0.3], [NAN], "ab", None],
                             short_names=[{}, "ab", None])),
    # tabular
    "tabular_accuracy": case(sl.tabular_accuracy, lambda: dict(P=KERNELS, g=G, q0=Q0),
                             dict(P=kernels(KERNELS), g=ground_truths(G), q0=probabilities(Q0))),
    "tabular_star_step": case(sl.tabular_star_step, lambda: dict(P=KERNELS, g=G, q0=Q0),
                              dict(P=kernels(KERNELS), g=ground_truths(G), q0=probabilities(Q0))),
    "history_star_step": case(sl.history_star_step, lambda: dict(H=sl.markov_as_history(KERNELS), g=G, q0=Q0),
                              dict(H=kernels(sl.markov_as_history(KERNELS)), g=ground_truths(G),
                                   q0=probabilities(Q0))),
    "markov_as_history": case(sl.markov_as_history, lambda: dict(P=KERNELS), dict(P=kernels(KERNELS))),
    "measure_policy": case(sl.measure_policy, lambda: dict(policy=KERNELS, g=G, q0=Q0),
                           dict(policy=kernels(KERNELS), g=ground_truths(G), q0=probabilities(Q0))),
    "rationalized_star_step": case(sl.rationalized_star_step, lambda: dict(policy=KERNELS, g=G, q0=Q0),
                                   dict(policy=kernels(KERNELS), g=ground_truths(G), q0=probabilities(Q0))),
    "refit_on_counts": case(sl.refit_on_counts, lambda: dict(policy=KERNELS, counts=np.ones(KERNELS.shape, dtype=int)),
                            dict(policy=kernels(KERNELS), counts=counts(np.ones_like(KERNELS)) + [
                                np.full_like(KERNELS, 0.5)])),
    "tempered_policy": case(sl.tempered_policy, lambda: dict(policy=KERNELS, temperature=0.5),
                            dict(policy=kernels(KERNELS), temperature=TEMPERATURE)),
    "tied_spread": case(sl.tied_spread, lambda: dict(P=KERNELS, g=G), dict(P=kernels(KERNELS), g=ground_truths(G))),
    # group RL
    "chain_scores": case(sl.chain_scores, lambda: dict(p=P, M=M, followed=[[1, 0], [0, 1]], temperature=1.0),
                         dict(p=probabilities(P) + [[0.0, 0.5]], M=STATES,
                              followed=[[[1, 2]], [[1, 0.5]], [[1, 0, 1]], "ab", None], temperature=TEMPERATURE)),
    "dr_grpo_weight": case(sl.dr_grpo_weight, lambda: dict(A=0.5, G=4), dict(A=ACCURACY, G=COUNT)),
    "grpo_weight": case(sl.grpo_weight, lambda: dict(A=0.5, G=4, std="population"),
                        dict(A=ACCURACY, G=COUNT, std=NAME)),
    "rft_weight": case(sl.rft_weight, lambda: dict(A=0.5, G=4), dict(A=ACCURACY, G=COUNT)),
    "reinforce_rej_weight": case(sl.reinforce_rej_weight, lambda: dict(A=0.5, G=4), dict(A=ACCURACY, G=COUNT)),
    "star_refit_weight": case(sl.star_refit_weight, lambda: dict(A=0.5), dict(A=ACCURACY + [0.0])),
    "zero_signal_probability": case(sl.zero_signal_probability, lambda: dict(A=0.5, G=4), dict(A=ACCURACY, G=COUNT)),
    "group_weight": case(sl.group_weight, lambda: dict(A=0.5, G=4, method="grpo", std="population"),
                         dict(A=ACCURACY, G=COUNT, method=NAME, std=NAME)),
    "informative_groups": case(sl.informative_groups, lambda: dict(A=0.5, G=4, questions=8),
                               dict(A=ACCURACY, G=COUNT, questions=COUNT)),
    "group_size_for_signal": case(sl.group_size_for_signal, lambda: dict(A=0.5, informative=0.5, max_group_size=100),
                                  dict(A=ACCURACY + [0.0], informative=ACCURACY + [0.0], max_group_size=COUNT)),
    "weight_curves": case(sl.weight_curves, lambda: dict(accuracies=[0.2, 0.5], G=4, std="population"),
                          dict(accuracies=probabilities([0.2, 0.5]), G=COUNT, std=NAME)),
    "group_advantages": case(sl.group_advantages, lambda: dict(rewards=CORRECT, method="grpo", std="population"),
                             dict(rewards=numbers(CORRECT) + [[0.5, 1.0], [[1, 0], [1]]], method=NAME, std=NAME)),
    "expected_group_step": case(sl.expected_group_step,
                                lambda: dict(p=P, M=M, G=4, method="grpo", temperature=1.0, learning_rate=1.0,
                                             std="population"),
                                dict(p=probabilities(P), M=STATES, G=COUNT, method=NAME, temperature=TEMPERATURE,
                                     learning_rate=LEARNING_RATE, std=NAME)),
    "group_step_by_enumeration": case(sl.group_step_by_enumeration,
                                      lambda: dict(p=[Fraction(3, 5)], M=2, G=2, method="rft", temperature=1, std="population"),
                                      dict(p=exact_probabilities([Fraction(3, 5)]), M=STATES, G=COUNT, method=NAME,
                                           temperature=TEMPERATURE, std=NAME)),
    "sample_groups": case(sl.sample_groups, lambda: dict(p=P, M=M, G=4, questions=3, rng=rng(), temperature=1.0),
                          dict(p=probabilities(P), M=STATES, G=SAMPLES, questions=SAMPLES, rng=RNG,
                               temperature=TEMPERATURE)),
    "sampled_group_step": case(sl.sampled_group_step,
                               lambda: dict(p=P, M=M, G=4, questions=3, rng=rng(), method="grpo", temperature=1.0,
                                            learning_rate=1.0, std="population"),
                               dict(p=probabilities(P), M=STATES, G=SAMPLES, questions=SAMPLES, rng=RNG,
                                    method=NAME, temperature=TEMPERATURE, learning_rate=LEARNING_RATE, std=NAME)),
    "surrogate_loss": case(sl.surrogate_loss,
                           lambda: dict(p=P, p_old=P, followed=[[1, 0], [0, 1]], advantages=[0.5, -0.5]),
                           dict(p=probabilities(P), p_old=probabilities(P),
                                followed=[[[1, 2]], [[1, 0.5]], [[1, 0, 1]], "ab", None],
                                advantages=numbers([0.5, -0.5]) + [[0.5]])),
    "row_follow_policy": case(sl.row_follow_policy, lambda: dict(follow=FOLLOW),
                              dict(follow=probabilities(FOLLOW) + [[0.5, 0.5]])),
    "question_accuracy_gradient": case(sl.question_accuracy_gradient, lambda: dict(follow=FOLLOW),
                                       dict(follow=probabilities(FOLLOW) + [[0.5, 0.5]])),
    "per_question_weights": case(sl.per_question_weights,
                                 lambda: dict(c=[0.2, 0.5, 0.9], G=4, method="grpo", q0=Q0, std="population"),
                                 dict(c=probabilities([0.2, 0.5, 0.9]), G=COUNT, method=NAME,
                                      q0=optional(probabilities(Q0)) + [[0.5, 0.5]], std=NAME)),
    "tabular_group_step": case(sl.tabular_group_step,
                               lambda: dict(follow=FOLLOW, q0=Q0, G=4, method="grpo", learning_rate=1.0,
                                            std="population"),
                               dict(follow=probabilities(FOLLOW), q0=probabilities(Q0) + [[0.5, 0.5]], G=COUNT,
                                    method=NAME, learning_rate=LEARNING_RATE, std=NAME)),
    "tabular_group_step_by_enumeration": case(sl.tabular_group_step_by_enumeration,
                                              lambda: dict(follow=[[Fraction(3, 5), Fraction(7, 10)]], q0=[Fraction(1, 2)] * 2, G=2, method="rft",
                                                           std="population"),
                                              dict(follow=exact_probabilities([[Fraction(3, 5), Fraction(7, 10)]]),
                                                   q0=exact_probabilities([Fraction(1, 2)] * 2) + [[1]], G=COUNT, method=NAME,
                                                   std=NAME)),
    "difficulty_iterates": case(sl.difficulty_iterates,
                                lambda: dict(follow0=FOLLOW, q0=Q0, G=4, method="grpo", iterations=2,
                                             learning_rate=0.5),
                                dict(follow0=probabilities(FOLLOW), q0=probabilities(Q0) + [[0.5, 0.5]], G=COUNT,
                                     method=NAME, iterations=ITERATIONS, learning_rate=LEARNING_RATE)),
    "difficulty_runs": case(sl.difficulty_runs,
                            lambda: dict(follow0=FOLLOW, q0=Q0, G=4, iterations=2, star_iterations=2,
                                         learning_rates=None),
                            dict(follow0=probabilities(FOLLOW), q0=probabilities(Q0) + [[0.5, 0.5]], G=COUNT,
                                 iterations=ITERATIONS, star_iterations=ITERATIONS,
                                 learning_rates=[{"grpo": NAN}, {"grpo": -1.0}, {"bogus": 1.0}, "ab", 3])),
    "difficulty_summary": case(sl.difficulty_summary,
                               lambda: dict(accuracies=sl.difficulty_runs(FOLLOW, Q0, 4, 2, 2)[0], easy=[0],
                                            hard=[1, 2], hard_level=0.5, easy_level=0.9),
                               dict(accuracies=[{"grpo": [[NAN, 0.5, 0.5]]}, {"grpo": [0.5]}, "ab", None],
                                    easy=[[3], [], "ab", None], hard=[[-4], [], "ab", None],
                                    hard_level=ACCURACY, easy_level=ACCURACY)),
    # pass@k
    "pass_at_k": case(sl.pass_at_k, lambda: dict(question_accuracy=[0.2, 0.9], k=4, question_weights=[0.5, 0.5]),
                      dict(question_accuracy=probabilities([0.2, 0.9]), k=COUNT + [[1, 0]],
                           question_weights=optional(probabilities([0.5, 0.5])) + [[0.5, 0.6], [1.0]])),
    "pass_at_infinity": case(sl.pass_at_infinity, lambda: dict(question_accuracy=[0.2, 0.9], question_weights=None),
                             dict(question_accuracy=probabilities([0.2, 0.9]),
                                  question_weights=optional(probabilities([0.5, 0.5])) + [[0.5, 0.6], [1.0]])),
    "pass_at_k_estimate": case(sl.pass_at_k_estimate, lambda: dict(n=8, c=3, k=2, exact=False),
                               dict(n=COUNT, c=[-1, 9, 2.5, NAN, True, "3", None], k=COUNT + [9], exact=FLAG)),
    "crossover_k": case(sl.crossover_k,
                        lambda: dict(base_accuracy=[0.5, 0.5], trained_accuracy=[0.99, 0.1], question_weights=None,
                                     max_k=100),
                        dict(base_accuracy=probabilities([0.5, 0.5]) + [[0.5]],
                             trained_accuracy=probabilities([0.99, 0.1]) + [[0.5]],
                             question_weights=optional(probabilities([0.5, 0.5])) + [[0.5, 0.6]], max_k=COUNT)),
    "question_chain_accuracy": case(sl.question_chain_accuracy, lambda: dict(policy=KERNELS, g=G),
                                    dict(policy=kernels(KERNELS), g=ground_truths(G))),
    "support_fraction": case(sl.support_fraction, lambda: dict(policy=KERNELS, base=KERNELS),
                             dict(policy=kernels(KERNELS) + [sl.markov_as_history(KERNELS)], base=kernels(KERNELS))),
    "sampled_pass_at_k": case(sl.sampled_pass_at_k,
                              lambda: dict(policy=KERNELS, g=G, n=8, k=2, rng=rng(), question_weights=None),
                              dict(policy=kernels(KERNELS), g=ground_truths(G), n=SAMPLES, k=COUNT + [9], rng=RNG,
                                   question_weights=optional(probabilities(Q0)) + [[0.5, 0.5]])),
    "pass_at_k_trajectory": case(sl.pass_at_k_trajectory, lambda: dict(policy=KERNELS, g=G, q0=Q0, iterations=2),
                                 dict(policy=kernels(KERNELS), g=ground_truths(G), q0=probabilities(Q0),
                                      iterations=ITERATIONS)),
    "finite_sample_pass_at_k_trajectory": case(sl.finite_sample_pass_at_k_trajectory,
                                               lambda: dict(policy=KERNELS, g=G, n=4, iterations=2, rng=rng()),
                                               dict(policy=kernels(KERNELS), g=ground_truths(G), n=SAMPLES,
                                                    iterations=ITERATIONS, rng=RNG)),
    "finite_sample_pass_at_k_runs": case(sl.finite_sample_pass_at_k_runs,
                                         lambda: dict(policy=KERNELS, g=G, n=4, iterations=2, runs=2, rng=rng(),
                                                      max_k=100),
                                         dict(policy=kernels(KERNELS), g=ground_truths(G), n=SAMPLES,
                                              iterations=ITERATIONS, runs=COUNT, rng=RNG, max_k=COUNT)),
    # tables, devices
    "format_table": case(sl.format_table, lambda: dict(rows=[(1, 2.5)], headers=["a", "b"], formats=None, width=80),
                         dict(rows=[[(1,)], [(1, 2, 3)], 3, None], headers=[["a"], "ab", None, [1.5, 2], ["a", None]],
                              formats=[[".2f"], 3, ["q", "q"]], width=COUNT)),
    "resolve_device": case(sl.resolve_device, lambda: dict(device="cpu"), dict(device=["tpu", 3, None])),
    # the real model: task, network, training, the STaR loop, its tables, the experiment, the planner
    "ZipTask": case(zip_task.ZipTask, lambda: dict(n_bits=1), dict(n_bits=[0, -1, 7, 1.5, True, "2", None])),
    "generator_follow": case(zip_task.generator_follow, lambda: dict(deltas=[0.1, 0.2], M=4),
                             dict(deltas=[[0.1, NAN], [0.1, INF], [0.1, 0.9], [0.1, -0.5], [], "ab", None], M=STATES)),
    "independent_digits_follow": case(zip_task.independent_digits_follow, lambda: dict(p=P, n_bits=1),
                                      dict(p=probabilities(P), n_bits=[0, -1, 1.5, True, "2", None])),
    "transition_counts": case(zip_task.transition_counts,
                              lambda: dict(chains=[[0, 1, 2], [1, 2, 0]], M=M, context="markov"),
                              dict(chains=states([[0, 1, 2], [1, 2, 0]]) + [[0, 1, 2]], M=STATES, context=NAME)),
    "pretraining_counts": case(zip_task.pretraining_counts,
                               lambda: dict(task=tiny_task(), deltas=[0.2], chains_per_problem=4, rng=rng(),
                                            context="markov"),
                               dict(task=[1, "ab", None], deltas=[[0.2, 0.2], [NAN], [0.9], "ab", None],
                                    chains_per_problem=SAMPLES, rng=RNG, context=NAME)),
    "ModelConfig": case(transformer.ModelConfig, lambda: dict(**vars(tiny_config())),
                        dict(d_model=COUNT, n_layers=COUNT, n_heads=COUNT, d_mlp=COUNT, learning_rate=LEARNING_RATE,
                             pretrain_steps=ITERATIONS, batch_rows=COUNT, finetune_learning_rate=LEARNING_RATE,
                             finetune_steps=ITERATIONS, finetune_batch_rows=COUNT, sharpen_to=ACCURACY + [0.0],
                             finetune_fit_tolerance=[0, -1.0, NAN, INF, "a"], finetune_check_every=COUNT)),
    "TinyTransformer": case(transformer.TinyTransformer,
                            lambda: dict(vocab_size=7, max_len=16, d_model=8, n_layers=1, n_heads=2, d_mlp=16),
                            dict(vocab_size=COUNT, max_len=COUNT, d_model=COUNT, n_layers=COUNT, n_heads=COUNT,
                                 d_mlp=COUNT)),
    "check_context": case(transformer.check_context, lambda: dict(context="markov"), dict(context=NAME)),
    "check_model": case(transformer.check_model, lambda: dict(model=tiny_pretrained().model, name="model"),
                        dict(model=[1, "ab", None])),
    "check_positive_number": case(transformer.check_positive_number,
                                  lambda: dict(value=0.1, name="learning_rate"), dict(value=LEARNING_RATE),
                                  names=dict(value="learning_rate")),
    "check_seed": case(transformer.check_seed, lambda: dict(seed=0, name="seed"), dict(seed=SEED + [HUGE])),
    "new_model": case(transformer.new_model,
                      lambda: dict(task=tiny_task(), context="markov", config=tiny_config(), seed=0, device="cpu"),
                      dict(task=[1, "ab", None], context=NAME, config=[1, "ab"], seed=SEED, device=["tpu", 3, None])),
    "candidate_scores": case(transformer.candidate_scores,
                             lambda: dict(model=tiny_pretrained().model, chunk_rows=8),
                             dict(model=[1, "ab", None], chunk_rows=COUNT)),
    "score_candidates": case(transformer.score_candidates,
                             lambda: dict(model=tiny_pretrained().model.network,
                                          packed=tiny_pretrained().model.packed[0], rows=torch.arange(2)),
                             dict(model=[1, None], packed=[1, None],
                                  rows=[torch.tensor([10**6]), torch.tensor([-1]), torch.zeros(2), [0, 1], None])),
    "kernels_from_scores": case(transformer.kernels_from_scores,
                                lambda: dict(scores=transformer.candidate_scores(tiny_pretrained().model),
                                             context="markov", temperature=0.5),
                                dict(scores=[[np.full((4, 4), NAN)] * 2, [np.zeros((4, 1))] * 2, [], "ab", None],
                                     context=NAME, temperature=TEMPERATURE)),
    "model_kernels": case(transformer.model_kernels, lambda: dict(model=tiny_pretrained().model, temperature=0.5),
                          dict(model=[1, "ab", None], temperature=TEMPERATURE)),
    "check_counts": case(training.check_counts, lambda: dict(counts=tiny_counts(), shape=None, name="counts"),
                         dict(counts=counts(tiny_counts()))),
    "count_follow": case(training.count_follow, lambda: dict(counts=tiny_counts(), g=tiny_ground_truth()),
                         dict(counts=counts(tiny_counts()), g=ground_truths(tiny_ground_truth()))),
    "fit_follow": case(training.fit_follow,
                       lambda: dict(policy=transformer.model_kernels(tiny_pretrained().model), counts=tiny_counts(),
                                    g=tiny_ground_truth()),
                       dict(policy=kernels(transformer.model_kernels(tiny_pretrained().model)),
                            counts=counts(tiny_counts()), g=ground_truths(tiny_ground_truth()))),
    "target_loss": case(training.target_loss, lambda: dict(model=tiny_pretrained().model, counts=tiny_counts()),
                        dict(model=[1, "ab", None], counts=counts(tiny_counts()))),
    "fit": case(training.fit,
                lambda: dict(model=transformer.new_model(tiny_task(), config=tiny_config(), device="cpu"),
                             counts=tiny_counts(), steps=1, learning_rate=0.01, batch_rows=2, seed=0, sharpen=False,
                             progress=False, description="fit", fit_tolerance=None, check_every=1),
                dict(model=[1, None], counts=counts(tiny_counts()), steps=ITERATIONS, learning_rate=LEARNING_RATE,
                     batch_rows=COUNT, seed=SEED, sharpen=FLAG, progress=FLAG, description=[3, None],
                     fit_tolerance=[0, -1.0, NAN, INF, "a"], check_every=COUNT)),
    "pretrain": case(training.pretrain,
                     lambda: dict(task=tiny_task(), deltas=[0.2], chains_per_problem=4, seed=0, context="markov",
                                  config=tiny_config(), device="cpu", progress=False, start_from=None),
                     dict(task=[1, None], deltas=[[0.2, 0.2], [NAN], [0.9], "ab", None],
                          chains_per_problem=SAMPLES, seed=SEED, context=NAME, config=[1, "ab"],
                          device=["tpu", 3, None], progress=FLAG, start_from=[1, "ab"])),
    "run_star": case(star_loop.run_star,
                     lambda: dict(pretrained=tiny_pretrained(), samples_per_problem=4, temperature=0.5,
                                  max_iterations=1, seed=0, progress=False),
                     dict(pretrained=[1, "ab", None], samples_per_problem=SAMPLES, temperature=TEMPERATURE,
                          max_iterations=ITERATIONS, seed=SEED, progress=FLAG)),
    "follow_text": case(star_loop.follow_text, lambda: dict(values=[0.1, 0.2]),
                        dict(values=probabilities([0.1, 0.2])[:-1])),
    "iteration_table": case(star_loop.iteration_table, lambda: dict(iterations=tiny_run()),
                            dict(iterations=[[], [{"iteration": 0}], "ab", None, 3])),
    "deviation_budget": case(star_loop.deviation_budget, lambda: dict(iterations=tiny_run()),
                             dict(iterations=[[], tiny_run()[:1], [{"iteration": 0}], "ab", None, 3])),
    "seed_band": case(star_loop.seed_band, lambda: dict(runs=[tiny_run(), tiny_run()], key="accuracy"),
                      dict(runs=[[], [[]], [[{"iteration": 0}]], "ab", None, 3],
                           key=["kept_follow", "kept", "nothing", 3, None])),
    "budget_table": case(star_loop.budget_table, lambda: dict(iterations=tiny_run()),
                         dict(iterations=[[], tiny_run()[:1], "ab", None, 3])),
    "pretraining_summary": case(star_loop.pretraining_summary, lambda: dict(pretrained=tiny_pretrained()),
                                dict(pretrained=[tiny_pretrained().model, 1, "ab", None])),
    "pretraining_table": case(star_loop.pretraining_table, lambda: dict(pretrained={0.2: tiny_pretrained()}),
                              dict(pretrained=[{}, {0.2: 1}, {0.2: None}, [tiny_pretrained()], "ab", None, 3])),
    "theory_gap_table": case(star_loop.theory_gap_table, lambda: dict(runs={0.2: tiny_run()}),
                             dict(runs=bad_runs())),
    "kept_wrong_table": case(star_loop.kept_wrong_table, lambda: dict(runs={0.2: tiny_run()}),
                             dict(runs=bad_runs())),
    "planner_forecasts": case(star_loop.planner_forecasts,
                              lambda: dict(runs={(0.2, 0.5): tiny_run()}, M=4, target=0.9),
                              dict(runs=bad_runs() + bad_temperature_keys(), M=STATES, target=ACCURACY + [0.0])),
    "planner_table": case(star_loop.planner_table, lambda: dict(runs={(0.2, 0.5): tiny_run()}, M=4, target=0.9),
                          dict(runs=bad_runs() + bad_temperature_keys(), M=STATES, target=ACCURACY + [0.0])),
    "plan": case(plan.plan, lambda: dict(follow=P, M=M, temperature=1.0, target=0.9, max_iterations=3, samples=8),
                 dict(follow=probabilities(P), M=STATES, temperature=TEMPERATURE, target=optional(ACCURACY) + [0.0],
                      max_iterations=ITERATIONS, samples=optional(SAMPLES))),
    "format_plan": case(plan.format_plan, lambda: dict(forecast=plan.plan(P, M, max_iterations=2)),
                        dict(forecast=[{}, {"M": 3}, "ab", None, 3])),
    "ExperimentConfig": case(checked_config, lambda: dict(**vars(tiny_experiment())),
                             dict(n_bits=[0, 7, 1.5, "2"], delta=[NAN, INF, 2.0, "a"], zero_step=[0, 9, 1.5],
                                  chains_per_problem=SAMPLES[:-1], samples_per_problem=SAMPLES[:-1],
                                  temperature=TEMPERATURE[:-1], max_iterations=ITERATIONS[:-1], context=NAME[:-1],
                                  pretrain_steps=ITERATIONS[:-1], finetune_steps=ITERATIONS[:-1],
                                  finetune_learning_rate=LEARNING_RATE[:-1], finetune_batch_rows=COUNT[:-1],
                                  finetune_fit_tolerance=[0, -1.0, NAN, "a"])),
    "check_config": case(experiment.check_config, lambda: dict(config=tiny_experiment()),
                         dict(config=[1, "ab", None])),
    "run_experiment": case(experiment.run_experiment,
                           lambda: dict(config=tiny_experiment(), seed=0, device="cpu", progress=False),
                           dict(config=[1, "ab", None], seed=SEED, device=["tpu", 3, None], progress=FLAG)),
}


# Names that take no input to check: result records (NamedTuples, dataclasses, an exception), the command
# lines (their options are tested in test_real_model.py and test_plan.py) and a module accessor.
NO_INPUT = {
    "EnumeratedStar", "FollowCounts", "NoKeptChainsError", "StarLimit", "LimitChanges", "SignRuleVertex",
    "StarCurve", "TwoStepPortrait", "PlateauLengths", "ChainOutcome", "MarginRequirements", "EscapeMeasurement",
    "StepEstimates", "AccuracyBands", "EscapeRow", "EstimateMoments", "ExactOptimum", "FalseAlarm", "MatchingRun",
    "MomentCheck", "WrongWay", "QuadraticConvergence", "RunSummary", "TargetRuns", "EnumeratedSteps", "MethodRuns",
    "PolicyMeasurement", "DifficultySummary", "FiniteSampleRuns", "PassAtKTrajectory",
    "FitResult", "Pretrained", "StarIteration", "RealModel",
    "main", "torch_module",
}

REAL_MODEL_MODULES = ["starlib.transformer", "starlib.training", "starlib.star_loop",
                      "starlib.zip_task", "starlib.plan", "starlib.experiment", "starlib.devices", "starlib.tables"]


def public_names():
    """Every name of ``starlib.__all__`` and every public function or class defined in the real-model modules."""
    names = set(sl.__all__)
    for module_name in REAL_MODEL_MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if value.__module__.startswith("starlib.") and value.__module__ in REAL_MODEL_MODULES:
                qualified = f"{module_name.removeprefix('starlib.')}.{name}"
                names.add(qualified if name in sl.__all__ and getattr(sl, name) is not value else name)
    return names


def test_every_public_name_has_an_entry():
    missing = sorted(name for name in public_names() if name not in CASES and name not in NO_INPUT)
    assert not missing, f"add a valid call and bad values to CASES (or the name to NO_INPUT): {missing}"


def test_no_input_names_are_records_or_command_lines():
    for name in NO_INPUT:
        value = getattr(sl, name, None) or next(
            getattr(importlib.import_module(m), name) for m in REAL_MODEL_MODULES
            if hasattr(importlib.import_module(m), name))
        if inspect.isclass(value):
            is_record = issubclass(value, (tuple, Exception)) or hasattr(value, "__dataclass_fields__")
            assert is_record, name
        else:
            assert name in ("main", "torch_module"), name


def test_every_argument_has_bad_values():
    """Each entry tries every argument of its function, except free-text and output-only ones."""
    free = {"name", "description"}
    problems = {}
    for label, entry in CASES.items():
        signature = inspect.signature(entry["function"])
        if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            continue  # a wrapper; its entry lists the fields it checks
        parameters = set(signature.parameters) - free
        allowed = SKIPPED_ARGUMENTS.get(label, set())
        untested = parameters - set(entry["bad"]) - set(entry["valid"]()) - allowed
        skipped = (parameters & set(entry["valid"]())) - set(entry["bad"]) - allowed
        if untested | skipped:
            problems[label] = untested | skipped
    assert not problems, f"arguments without bad values (add them, or to SKIPPED_ARGUMENTS): {problems}"


# Arguments left without bad values, and why.
SKIPPED_ARGUMENTS = {
    "natural_reinforce_iterates(iterations=0)": {"iterations"},
    "check_counts": {"shape"},  # the expected shape, chosen by the caller
    "plateau_lengths": {"curves_for", "curve_length"},  # added while this table was written; not yet tried  # the entry's point is iterations = 0
}


# Slips still open: (entry, argument) -> what each bad value does today. They run as non-strict xfails,
# so the table shows what is left; remove an entry once its function raises the ValueError.
KNOWN_SLIPS = {
}


def _bad_calls():
    for label, entry in CASES.items():
        for argument, values in entry["bad"].items():
            for i, value in enumerate(values):
                marks = []
                reason = entry["xfail"].get(argument) or _known_slip(label, argument, value)
                if reason:
                    marks.append(pytest.mark.xfail(reason=reason, strict=False))
                yield pytest.param(label, argument, i, id=f"{label}-{argument}-{_short(value)}", marks=marks)


def _known_slip(label, argument, value):
    """What the bad value does today, if KNOWN_SLIPS lists it; else None."""
    listed = KNOWN_SLIPS.get((label, argument), "")
    outcomes = dict(item.split(" -> ", 1) for item in listed.split("; ") if item)
    what = outcomes.get(_short(value))
    return f"{label}({argument}={_short(value)}) slips: {what}" if what else None


def _short(value):
    text = re.sub(r"\s+", " ", repr(value))
    return text if len(text) <= 24 else text[:21] + "..."


def names_argument(message, name):
    """The argument's name appears as a word (so 'p' does not match 'p0')."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


@pytest.mark.parametrize("label", sorted(CASES))
def test_the_valid_call_runs(label):
    entry = CASES[label]
    entry["function"](**entry["valid"]())


@pytest.mark.parametrize("label, argument, index", list(_bad_calls()))
def test_bad_value_raises_value_error_naming_the_argument(label, argument, index):
    entry = CASES[label]
    kwargs = entry["valid"]()
    bad = entry["bad"][argument][index]
    kwargs[argument] = bad
    with pytest.raises(ValueError) as info:
        entry["function"](**kwargs)
    name = entry["names"].get(argument, argument)
    assert names_argument(str(info.value), name), f"{label}({argument}={bad!r}): {info.value}"
