"""starlib: the one home of every formula and simulation in the STaR companion book.

One module per concept:

- :mod:`starlib.chain`: the chain model and the pre-trained policy family (Chapter 1).
- :mod:`starlib.theory`: exact, infinite-sample STaR dynamics (Chapter 1 and Part II).
- :mod:`starlib.tabular`: exact STaR for general tabular policies, Markov and history-aware,
  measurements of any policy, and rationalization (Chapter 1 and "Where the idealised theory stops").
- :mod:`starlib.sampling`: finite-sample STaR, sampled chains and counts ("Finite samples").
- :mod:`starlib.finite_samples`: Monte Carlo measurements over many runs ("Finite samples").
- :mod:`starlib.policy_gradient`: REINFORCE on the tied policy, in p and on the logits ("STaR
  versus policy gradient").
- :mod:`starlib.comparisons`: expected steps, natural-gradient REINFORCE and runs to a target
  accuracy ("STaR versus policy gradient").
- :mod:`starlib.group_rl`: RFT, Dr. GRPO, GRPO and Reinforce-Rej, one gradient with different
  weights ("One gradient, different weights").
- :mod:`starlib.tables`: plain-text tables that fit the page (every chapter).
- :mod:`starlib.devices`: the torch device, CUDA when present, else the CPU ("Finite samples").
- :mod:`starlib.zip_task`: the authors' zip task, its states, tokens and pre-training data
  ("STaR on a real transformer").
- :mod:`starlib.transformer` (the network and its packed scoring), :mod:`starlib.training`
  (training on counts, the fit measure) and :mod:`starlib.star_loop` (the STaR loop, its records,
  the deviation budget and their tables): STaR on a small transformer. They import torch at import
  time, so they are not imported here; :mod:`starlib.real_model` re-exports their names for older
  imports ("STaR on a real transformer").
- :mod:`starlib.experiment`: the experiment's command line, ``python -m starlib.experiment``.
- :mod:`starlib.plan`: the exact map as a planning tool, ``python -m starlib.plan``.

The main names are re-exported here, so ``import starlib as sl`` gives
``sl.accuracy``, ``sl.star_step`` and the rest.
"""

from .chain import (
    ChainOutcome,
    EnumeratedStar,
    NoKeptChainsError,
    answers,
    chain_outcomes,
    random_tied_instance,
    enumerate_chains,
    margin,
    prob_from_margin,
    star_by_enumeration,
    tempered,
    tied_kernels,
)
from .sampling import (
    FollowCounts,
    follow_counts,
    sample_chains,
    rationalized_star_iterates_mc,
    sample_tabular_chains,
    star_iterates_mc,
    star_step_mc,
)
from .finite_samples import (
    EscapeMeasurement,
    StepEstimates,
    accuracy_runs,
    escape_fraction,
    samples_to_escape,
    step_estimates,
)
from .devices import resolve_device
from .tables import format_table
from .policy_gradient import (
    expected_logit_reinforce_step,
    logit_policy,
    logit_reinforce_iterates,
    logit_reinforce_step,
    policy_logits,
    reinforce_iterates,
    reinforce_step,
)
from .comparisons import (
    EnumeratedSteps,
    MethodRuns,
    RunSummary,
    TargetRuns,
    compare_methods,
    comparison_table,
    expected_reinforce_step,
    expected_star_mc_step,
    expected_steps_by_enumeration,
    iterations_to_target,
    learning_rate_sweep,
    natural_reinforce_iterates,
    natural_reinforce_step,
    policy_gradient_estimate,
    run_summary,
    sweep_table,
)
from .theory import (
    MarginRequirements,
    detectable_accuracy,
    equal_margin_star_map,
    equal_steps_accuracy,
    logit_natural_step,
    margin_requirements,
    star_gradient_cosine,
    star_gradient_cosine_bound,
    LimitChanges,
    SignRuleVertex,
    StarLimit,
    below_chance_starts,
    limit_changes,
    sign_rule_vertex,
    vertex_limit,
    accuracy,
    accuracy_gradient,
    collapse_probability,
    escape_samples,
    iterations_to_accuracy,
    kept_wrong_rate,
    margin_for_accuracy,
    mean_inverse_kept,
    star_iterates,
    star_limit,
    star_step,
    star_step_eps,
    star_step_mc_variance,
    wrong_way_probability,
)
from .tabular import (
    PolicyMeasurement,
    history_star_step,
    markov_as_history,
    measure_policy,
    rationalized_star_step,
    refit_on_counts,
    tabular_accuracy,
    tabular_star_step,
    tempered_policy,
    tied_spread,
)
from .group_rl import (
    chain_scores,
    difficulty_iterates,
    difficulty_runs,
    dr_grpo_weight,
    expected_group_step,
    group_advantages,
    group_size_for_signal,
    group_step_by_enumeration,
    group_weight,
    grpo_weight,
    informative_groups,
    per_question_weights,
    question_accuracy_gradient,
    reinforce_rej_weight,
    rft_weight,
    row_follow_policy,
    sample_groups,
    sampled_group_step,
    star_refit_weight,
    surrogate_loss,
    tabular_group_step,
    tabular_group_step_by_enumeration,
    weight_curves,
    zero_signal_probability,
)

__all__ = [
    "EnumeratedStar",
    "FollowCounts",
    "NoKeptChainsError",
    "StarLimit",
    # Chapters 4 and 6: where STaR ends, and at which temperature
    "LimitChanges",
    "SignRuleVertex",
    "below_chance_starts",
    "limit_changes",
    "sign_rule_vertex",
    "vertex_limit",
    "accuracy",
    "accuracy_gradient",
    "answers",
    "enumerate_chains",
    "follow_counts",
    "format_table",
    "iterations_to_accuracy",
    "kept_wrong_rate",
    "margin",
    "margin_for_accuracy",
    "prob_from_margin",
    "reinforce_iterates",
    "reinforce_step",
    "resolve_device",
    "sample_chains",
    "sample_tabular_chains",
    "star_by_enumeration",
    "star_iterates",
    "star_iterates_mc",
    "star_limit",
    "star_step",
    "star_step_eps",
    "star_step_mc",
    "tabular_accuracy",
    "tabular_star_step",
    "tempered",
    "tied_kernels",
    # Chapters 1 to 3: instances, enumerated chains, equal steps, the direction of a step
    "ChainOutcome",
    "MarginRequirements",
    "chain_outcomes",
    "detectable_accuracy",
    "equal_margin_star_map",
    "equal_steps_accuracy",
    "logit_natural_step",
    "margin_requirements",
    "random_tied_instance",
    "star_gradient_cosine",
    "star_gradient_cosine_bound",
    # the chapter "Finite samples"
    "EscapeMeasurement",
    "StepEstimates",
    "accuracy_runs",
    "collapse_probability",
    "escape_fraction",
    "escape_samples",
    "mean_inverse_kept",
    "samples_to_escape",
    "star_step_mc_variance",
    "step_estimates",
    "wrong_way_probability",
    "RunSummary",
    "TargetRuns",
    "expected_reinforce_step",
    "expected_star_mc_step",
    "iterations_to_target",
    "natural_reinforce_iterates",
    "natural_reinforce_step",
    "policy_gradient_estimate",
    "run_summary",
    "EnumeratedSteps",
    "MethodRuns",
    "compare_methods",
    "comparison_table",
    "expected_logit_reinforce_step",
    "expected_steps_by_enumeration",
    "learning_rate_sweep",
    "logit_policy",
    "logit_reinforce_iterates",
    "logit_reinforce_step",
    "policy_logits",
    "sweep_table",
    # the chapter "Where the idealised theory stops"
    "PolicyMeasurement",
    "history_star_step",
    "markov_as_history",
    "measure_policy",
    "rationalized_star_iterates_mc",
    "rationalized_star_step",
    "refit_on_counts",
    "tempered_policy",
    "tied_spread",
    # the chapter "One gradient, different weights"
    "chain_scores",
    "difficulty_iterates",
    "difficulty_runs",
    "dr_grpo_weight",
    "expected_group_step",
    "group_advantages",
    "group_size_for_signal",
    "group_step_by_enumeration",
    "group_weight",
    "grpo_weight",
    "informative_groups",
    "per_question_weights",
    "question_accuracy_gradient",
    "reinforce_rej_weight",
    "rft_weight",
    "row_follow_policy",
    "sample_groups",
    "sampled_group_step",
    "star_refit_weight",
    "surrogate_loss",
    "tabular_group_step",
    "tabular_group_step_by_enumeration",
    "weight_curves",
    "zero_signal_probability",
]
__version__ = "0.1.0"
