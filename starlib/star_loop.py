"""The authors' STaR loop on a pre-trained transformer, and what each iteration measures.

- :func:`run_star`: sample from the model's exact kernel, keep the correct
  chains, fine-tune a fresh copy of the pre-trained weights on them; a list of
  :class:`StarIteration` records, each built in one pass.
- The **deviation budget** of every iteration n >= 1, three one-step
  predictions from iteration n - 1: the tied map from the measured p_t (the
  paper's theory), the exact map of the model's own sampling kernel (a perfect
  learner with infinite samples) and the maximum-likelihood refit on the chains
  actually kept (a perfect learner on the finite sample). The successive
  differences in accuracy are the kernel's shape, the finite sample, and the
  network's fit and generalisation (:func:`deviation_budget`).
- :func:`seed_band`: the spread of a record field over runs with different
  seeds, for the chapter's bands.
- :func:`iteration_table` and :func:`budget_table`: the records as text tables
  (:func:`starlib.tables.format_table`); the chapter's other tables, from
  :func:`pretraining_table` to :func:`planner_table`, at the end.

Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
"""

from dataclasses import asdict, dataclass, is_dataclass

import numpy as np

from . import _checks
from .chain import NoKeptChainsError
from .tables import format_table
from .training import Pretrained, fit, fit_follow
from .transformer import candidate_scores, check_seed, kernels_from_scores
from .zip_task import transition_counts


@dataclass
class StarIteration:
    """What one STaR iteration measures.

    **The network** (iteration n's model). ``accuracy``, ``step_follow``
    (Pr(step t follows the ground truth), the p_t of the theory) and
    ``recovery_rate`` (Pr(correct answer | the state before the last step is
    wrong), see :class:`~starlib.tabular.PolicyMeasurement`) are exact for the
    model's policy, its kernel at temperature 1. ``sampling_accuracy`` and
    ``kept_wrong_rate`` are exact for the kernel at the sampling temperature,
    the chains STaR actually draws; ``sampled_accuracy`` and
    ``sampled_kept_wrong_rate`` are the fractions among the chains drawn.
    ``sampled_follow`` is the fraction of all sampled chains that follow each
    step, ``kept_follow`` that of the kept chains: the target of the next
    fine-tune. ``loss`` and ``fit_steps`` come from the fit that produced the
    model (for iteration 0, the pre-training).

    **The overlays**, iterated from iteration 0. ``theory_*``: the exact map of
    a perfect learner of the model's kind: for a Markov model the tied map
    (:func:`starlib.theory.star_step`) from iteration 0's ``step_follow``, the
    paper's theory; for a history-aware model, which the tied family cannot
    describe, :func:`starlib.tabular.history_star_step` from iteration 0's
    kernel. ``tabular_theory_accuracy`` and ``tabular_theory_follow``: the exact
    map of iteration 0's own kernel, not tied, iterated
    (:func:`starlib.tabular.tabular_star_step` or ``history_star_step`` of the
    kernel at the sampling temperature).

    **The deviation budget** (None at iteration 0), one step from iteration n - 1:
    ``tied_*`` the tied map from its measured ``step_follow``; ``tabular_*`` the
    exact map of its sampling kernel; ``sample_*`` the maximum-likelihood refit
    (:func:`starlib.tabular.refit_on_counts`) of that kernel on its kept chains;
    ``fit_follow`` this model's :func:`starlib.training.fit_follow` on those
    kept chains, to compare with iteration n - 1's ``kept_follow``.
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
    fit_steps: int
    theory_accuracy: float
    theory_sampling_accuracy: float
    theory_step_follow: list
    theory_kept_wrong_rate: float
    theory_recovery_rate: float
    tabular_theory_accuracy: float
    tabular_theory_follow: list
    tied_accuracy: float = None
    tied_follow: list = None
    tabular_accuracy: float = None
    tabular_follow: list = None
    sample_accuracy: float = None
    sample_follow: list = None
    fit_follow: list = None


def _floats(values):
    return [float(x) for x in values]


class _Overlays:
    """The exact maps started at iteration 0, advanced one iteration at a time."""

    def __init__(self, task, context, temperature, step_follow, policy):
        self.task, self.context, self.tau = task, context, temperature
        self.q0 = np.full(task.num_states, 1.0 / task.num_states)
        self.p = np.array(step_follow)  # the tied map's follow probabilities
        self.policy = policy  # the exact map of iteration 0's kernel
        self.started = False

    def _refit(self, policy):
        from .tabular import history_star_step, tabular_star_step, tempered_policy

        step = tabular_star_step if policy.ndim == 3 else history_star_step
        return step(tempered_policy(policy, self.tau), self.task.ground_truth, self.q0)

    def advance(self):
        """The overlay fields of the next iteration (the first call gives iteration 0's)."""
        from .chain import tempered, tied_kernels
        from .tabular import measure_policy
        from .theory import accuracy, kept_wrong_rate, star_step

        M, g = self.task.num_states, self.task.ground_truth
        if self.started:
            self.p = star_step(self.p, M, self.tau)
            self.policy = self._refit(self.policy)
        self.started = True
        exact = measure_policy(self.policy, g, self.q0)
        fields = dict(tabular_theory_accuracy=exact.accuracy, tabular_theory_follow=_floats(exact.step_follow))
        if self.context == "history":
            sampling = measure_policy(self._tempered(self.policy), g, self.q0)
            return dict(fields, theory_accuracy=exact.accuracy, theory_sampling_accuracy=sampling.accuracy,
                        theory_step_follow=_floats(exact.step_follow),
                        theory_kept_wrong_rate=sampling.kept_wrong_rate, theory_recovery_rate=exact.recovery_rate)
        sampled_p = tempered(self.p, M, self.tau)
        return dict(
            fields,
            theory_accuracy=float(accuracy(self.p, M)),
            theory_sampling_accuracy=float(accuracy(sampled_p, M)),
            theory_step_follow=_floats(self.p),
            theory_kept_wrong_rate=float(kept_wrong_rate(sampled_p, M)),
            theory_recovery_rate=measure_policy(tied_kernels(self.p, M, g), g, self.q0).recovery_rate,
        )

    def _tempered(self, policy):
        from .tabular import tempered_policy

        return tempered_policy(policy, self.tau)


def _measure(model, temperature, samples_per_problem, rng):
    """One pass over a model: exact measurements, one sampling round, its kept counts, and both kernels."""
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
        step_follow=_floats(at_one.step_follow),
        recovery_rate=at_one.recovery_rate,
        kept_wrong_rate=at_sampling.kept_wrong_rate,
        sampled_kept_wrong_rate=float(1.0 - followed_all.mean()) if len(kept) else None,
        sampled_follow=_floats((chains[:, 1:] == chains[:, :-1]).mean(axis=0)),
        kept_follow=_floats((kept[:, 1:] == kept[:, :-1]).mean(axis=0)) if len(kept) else None,
        kept=len(kept),
        sampled=len(chains),
    )
    return record, transition_counts(kept, task.num_states, model.context), policy, sampling_kernels


def _budget(task, previous, policy, temperature):
    """The deviation budget of an iteration from the previous one's (step_follow, sampling kernel, kept counts)."""
    from .tabular import history_star_step, measure_policy, refit_on_counts, tabular_star_step
    from .theory import accuracy, star_step

    M, g, q0 = task.num_states, task.ground_truth, np.full(task.num_states, 1.0 / task.num_states)
    step_follow, sampling, kept_counts = previous
    tied = star_step(np.array(step_follow), M, temperature)
    exact_step = tabular_star_step if sampling.ndim == 3 else history_star_step
    tabular = measure_policy(exact_step(sampling, g, q0), g, q0)
    sample = measure_policy(refit_on_counts(sampling, kept_counts), g, q0)
    return dict(
        tied_accuracy=float(accuracy(tied, M)), tied_follow=_floats(tied),
        tabular_accuracy=tabular.accuracy, tabular_follow=_floats(tabular.step_follow),
        sample_accuracy=sample.accuracy, sample_follow=_floats(sample.step_follow),
        fit_follow=_floats(fit_follow(policy, kept_counts, g)),
    )


def run_star(pretrained, samples_per_problem, temperature=0.5, max_iterations=10, seed=0, progress=False):
    """The STaR loop of the authors' experiment on a pre-trained model; a list of :class:`StarIteration`.

    Each iteration samples ``samples_per_problem`` chains per problem from the
    model's exact kernel at ``temperature`` (restricted to valid next states),
    keeps the correct ones, and fine-tunes a fresh copy of the pre-trained
    weights on them with the model's ``config`` (``finetune_steps``, its
    learning rate and batch, and the stopping rule ``finetune_fit_tolerance``
    of :func:`starlib.training.fit`). Iteration 0 is the pre-trained model.
    Stops when every sampled chain is correct or after ``max_iterations``
    fine-tunes, or raises :class:`~starlib.chain.NoKeptChainsError` if no chain
    is kept. Every record holds the overlays and the deviation budget of
    :class:`StarIteration`.
    """
    from tqdm import tqdm

    if not isinstance(pretrained, Pretrained):
        raise ValueError(f"pretrained must be a starlib.training.Pretrained (see pretrain); got pretrained = {pretrained!r:.80}")
    samples_per_problem = _checks.sampled_size(samples_per_problem, "samples_per_problem")
    max_iterations = _checks.integer(max_iterations, "max_iterations", 0, "a number of iterations >= 0")
    tau = float(_checks.temperature(temperature, _checks.FLOAT))
    seed = check_seed(seed)
    _checks.flag(progress, "progress")
    rng = np.random.default_rng(seed)
    model, loss, fit_steps = pretrained.model, pretrained.loss, pretrained.model.config.pretrain_steps
    task, history, previous, overlays = model.task, [], None, None
    bar = tqdm(total=max_iterations, desc="STaR iterations", disable=not progress)
    for n in range(max_iterations + 1):
        record, kept_counts, policy, sampling = _measure(model, tau, samples_per_problem, rng)
        if overlays is None:
            overlays = _Overlays(task, model.context, tau, record["step_follow"], policy)
        record.update(overlays.advance())
        if previous is not None:
            record.update(_budget(task, previous, policy, tau))
        history.append(StarIteration(iteration=n, loss=loss, fit_steps=fit_steps, **record))
        if record["kept"] == 0:
            bar.close()
            raise NoKeptChainsError(f"iteration {n} kept no chain out of {record['sampled']}")
        if record["kept"] == record["sampled"] or n == max_iterations:
            break
        previous = (record["step_follow"], sampling, kept_counts)
        model = pretrained.model.clone()
        c = model.config
        result = fit(model, kept_counts, c.finetune_steps, c.finetune_learning_rate, c.finetune_batch_rows,
                     seed + n + 1, progress=progress, description=f"fine-tune {n + 1}",
                     fit_tolerance=c.finetune_fit_tolerance, check_every=c.finetune_check_every)
        loss, fit_steps = result.loss, result.steps
        bar.update()
    bar.close()
    return history


# --- the records as tables and figure data ----------------------------------------------------


def _records(iterations, name="iterations"):
    try:
        rows = [asdict(r) if is_dataclass(r) else dict(r) for r in iterations]
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be StarIteration records or their dicts; got {iterations!r:.80}") from err
    needed = ("iteration", "accuracy", "theory_accuracy", "step_follow", "kept")
    for i, r in enumerate(rows):
        missing = [k for k in needed if k not in r]
        if missing:
            raise ValueError(f"{name}[{i}] lacks the fields {missing} of a StarIteration")
    if not rows:
        raise ValueError(f"{name} must hold at least one record; got none")
    return rows


def iteration_table(iterations):
    """The per-iteration table of a run: accuracy and its theory, at the sampling temperature, p_t, kept chains.

    Columns: iteration n; the policy's accuracy and the ``theory_accuracy``
    overlay; the accuracy at the sampling temperature and its overlay; the
    measured p_t; the kept chains, their exact kept-wrong rate and the loss.

    ``iterations`` are :class:`StarIteration` records or their dicts (the JSON
    of ``python -m starlib.experiment``). Built on :func:`starlib.tables.format_table`.
    """
    rows = _records(iterations)
    return format_table(
        [(r["iteration"], r["accuracy"], r["theory_accuracy"], r["sampling_accuracy"], r["theory_sampling_accuracy"],
          " ".join(f"{p:.3f}" for p in r["step_follow"]), r["kept"], r["kept_wrong_rate"], r["loss"])
         for r in rows],
        ["n", "acc", "theory", "at tau", "theory", "step follow p_t", "kept", "wrong", "loss"],
        ["d", ".4f", ".4f", ".4f", ".4f", "", "d", ".3f", ".4f"],
    )


def deviation_budget(iterations):
    """The deviation budget of a run as arrays over iterations n >= 1, for a table or a figure.

    Returns a dict: ``iteration``; the network's ``accuracy``; the one-step
    predictions ``tied``, ``tabular`` and ``sample`` (see :class:`StarIteration`);
    the parts ``shape`` = tabular - tied, ``finite_sample`` = sample - tabular and
    ``fit`` = accuracy - sample, which sum to accuracy - tied; and ``fit_miss``,
    the largest abs(fit_follow - kept_follow) over the steps.
    """
    rows = _records(iterations)
    pairs = [(before, after) for before, after in zip(rows, rows[1:])]
    if not pairs:
        raise ValueError("iterations must hold at least two records (a budget starts at iteration 1)")
    for _, after in pairs:
        if after.get("tied_accuracy") is None:
            raise ValueError(f"iteration {after['iteration']} has no deviation budget fields")
    get = lambda key: np.array([after[key] for _, after in pairs], dtype=float)  # noqa: E731
    out = dict(iteration=get("iteration").astype(int), accuracy=get("accuracy"), tied=get("tied_accuracy"),
               tabular=get("tabular_accuracy"), sample=get("sample_accuracy"))
    out["shape"] = out["tabular"] - out["tied"]
    out["finite_sample"] = out["sample"] - out["tabular"]
    out["fit"] = out["accuracy"] - out["sample"]
    out["fit_miss"] = np.array([np.max(np.abs(np.subtract(after["fit_follow"], before["kept_follow"])))
                                for before, after in pairs])
    return out


def seed_band(runs, key):
    """The spread over seeds of one record field: per iteration, its smallest, median and largest value.

    ``runs`` is a list of runs (each :func:`run_star`'s records, or their
    dicts) of the same setting with different seeds, and ``key`` a float field
    of :class:`StarIteration` such as ``"accuracy"`` or ``"tabular_theory_accuracy"``.
    Returns a dict of arrays ``iteration``, ``low``, ``median`` and ``high``
    over the iterations that every run reaches (a run stops early once every
    sampled chain is correct).
    """
    if not isinstance(runs, (list, tuple)) or not runs:
        raise ValueError(f"runs must be a non-empty list of runs, one per seed; got runs = {runs!r:.80}")
    rows = [_records(run, f"runs[{i}]") for i, run in enumerate(runs)]
    if not isinstance(key, str) or not all(isinstance(r.get(key), float) for run in rows for r in run):
        raise ValueError(f"key must name a float field of every record, such as 'accuracy'; got key = {key!r:.80}")
    common = min(len(run) for run in rows)
    values = np.array([[r[key] for r in run[:common]] for run in rows])
    low, median, high = np.percentile(values, [0, 50, 100], axis=0)
    return dict(iteration=np.arange(common), low=low, median=median, high=high)


def budget_table(iterations):
    """The deviation budget of a run (:func:`deviation_budget`) as a text table, one row per iteration n >= 1.

    Columns: the one-step predictions tied, tabular and sample, the network's
    accuracy, the parts d shape = tabular - tied, d sample = sample - tabular,
    d fit = network - sample, and the fit miss max_t abs(fit_follow - kept_follow).
    """
    b = deviation_budget(iterations)
    return format_table(
        zip(b["iteration"], b["tied"], b["tabular"], b["sample"], b["accuracy"], b["shape"], b["finite_sample"],
            b["fit"], b["fit_miss"]),
        ["n", "tied", "tabular", "sample", "network", "d shape", "d sample", "d fit", "fit miss"],
        ["d", ".4f", ".4f", ".4f", ".4f", "+.4f", "+.4f", "+.4f", ".4f"],
    )


# --- the tables of the chapter on the transformer ---------------------------------------------


def _mapping(value, name, what):
    if not hasattr(value, "items") or isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a dict from a label to {what}; got {name} = {value!r:.80}")
    if not value:
        raise ValueError(f"{name} must hold at least one entry; got {name} = {value!r}")
    return value


def _runs(runs, fields=()):
    """Validate a dict from a label to a run's records; the records as dicts."""
    out = {}
    for key, run in _mapping(runs, "runs", "a run's StarIteration records").items():
        rows = _records(run, f"runs[{key!r}]")
        for i, r in enumerate(rows):
            missing = [k for k in fields if k not in r]
            if missing:
                raise ValueError(f"runs[{key!r}][{i}] lacks the fields {missing} of a StarIteration")
        out[key] = rows
    return out


def follow_text(values):
    """Per-step follow rates as one table cell, ``"0.072 0.091 0.085"``; None stays None (a "-" cell)."""
    if values is None:
        return None
    return " ".join(f"{x:.3f}" for x in _checks.probabilities(values, "values", kind=_checks.FLOAT)[0])


def pretraining_summary(pretrained):
    """What a pre-trained Markov model learned, step by step, against its data.

    Parameters
    ----------
    pretrained : starlib.training.Pretrained
        A model from :func:`starlib.training.pretrain` with the Markov context.

    Returns
    -------
    dict
        Arrays over the steps t = 1..T: ``data``, the fraction of the
        pre-training transitions that follow the ground truth
        (:func:`starlib.training.count_follow`); ``model``, the model's p_t,
        the follow rate of its kernel from the uniform start
        (:func:`starlib.tabular.measure_policy`); ``row_min`` and ``row_max``,
        the smallest and largest follow probability over the M states;
        ``stall``, the follow rate of the "independent digits" policy for the
        data's rates (:func:`starlib.zip_task.independent_digits_follow`).
        ``loss`` is the final pre-training loss.

    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    from .tabular import measure_policy
    from .training import count_follow
    from .transformer import model_kernels
    from .zip_task import independent_digits_follow

    if not isinstance(pretrained, Pretrained):
        raise ValueError(f"pretrained must be a starlib.training.Pretrained (see pretrain); "
                         f"got pretrained = {pretrained!r:.80}")
    if pretrained.model.context != "markov":
        raise ValueError(f"pretrained must be a Markov model; got context {pretrained.model.context!r}")
    task = pretrained.model.task
    g = np.asarray(task.ground_truth)
    kernels = model_kernels(pretrained.model)
    follow_rows = np.take_along_axis(kernels, g[:, :, None], axis=2)[:, :, 0]
    data = count_follow(pretrained.counts, g)
    model = measure_policy(kernels, g, np.full(task.num_states, 1.0 / task.num_states)).step_follow
    return dict(data=data, model=np.asarray(model), row_min=follow_rows.min(axis=1),
                row_max=follow_rows.max(axis=1), stall=independent_digits_follow(data, task.n_bits),
                loss=float(pretrained.loss))


def pretraining_table(pretrained):
    """The pre-trained models against their data (:func:`pretraining_summary`), one row per model and step.

    Parameters
    ----------
    pretrained : dict
        From a label (the pre-training delta, or a pair of it and the seed) to
        a :class:`starlib.training.Pretrained`.

    Returns
    -------
    str
        Columns run (the label), step, data, model, row min, row max, stall
        and loss; built on :func:`starlib.tables.format_table`.

    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    rows = []
    for label, pre in _mapping(pretrained, "pretrained", "a Pretrained model").items():
        if not isinstance(pre, Pretrained):
            raise ValueError(f"pretrained[{label!r}] must be a starlib.training.Pretrained; got {pre!r:.80}")
        s = pretraining_summary(pre)
        rows += [(label, t + 1, s["data"][t], s["model"][t], s["row_min"][t], s["row_max"][t], s["stall"][t],
                  s["loss"]) for t in range(len(s["data"]))]
    return format_table(rows, ["run", "step", "data", "model", "row min", "row max", "stall", "loss"],
                        ["", "d", ".4f", ".4f", ".3f", ".3f", ".4f", ".4f"])


def theory_gap_table(runs):
    """Measured minus theory, per run and iteration, with the follow rates of the kept chains and the network.

    Parameters
    ----------
    runs : dict
        From a label (the pre-training delta) to a run's records
        (:func:`run_star`, or their dicts).

    Returns
    -------
    str
        Columns delta (the label), n, policy (``accuracy`` -
        ``theory_accuracy``), at tau (``sampling_accuracy`` -
        ``theory_sampling_accuracy``), kept follow and network p_t
        (``step_follow``); built on :func:`starlib.tables.format_table`.

    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    fields = ("sampling_accuracy", "theory_sampling_accuracy", "kept_follow")
    rows = [(delta, r["iteration"], r["accuracy"] - r["theory_accuracy"],
             r["sampling_accuracy"] - r["theory_sampling_accuracy"], follow_text(r["kept_follow"]),
             follow_text(r["step_follow"]))
            for delta, run in _runs(runs, fields).items() for r in run]
    return format_table(rows, ["delta", "n", "policy", "at tau", "kept follow", "network p_t"],
                        ["", "d", "+.4f", "+.4f", "", ""])


def kept_wrong_table(runs):
    """The kept-wrong rate per run and iteration: exact, among the chains sampled, and the theory's.

    ``runs`` maps a label (the pre-training delta) to a run's records, as for
    :func:`theory_gap_table`. The table (:func:`starlib.tables.format_table`) has
    the columns delta, n, kept, wrong exact (``kept_wrong_rate``), sampled
    (``sampled_kept_wrong_rate``) and theory (``theory_kept_wrong_rate``).
    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    fields = ("kept_wrong_rate", "sampled_kept_wrong_rate", "theory_kept_wrong_rate")
    rows = [(delta, r["iteration"], r["kept"], r["kept_wrong_rate"], r["sampled_kept_wrong_rate"],
             r["theory_kept_wrong_rate"])
            for delta, run in _runs(runs, fields).items() for r in run]
    return format_table(rows, ["delta", "n", "kept", "wrong, exact", "sampled", "theory"],
                        ["", "d", "d", ".4f", ".4f", ".4f"])


def planner_forecasts(runs, M, target=0.9):
    """The planner's forecast of the iterations to ``target`` against the iteration each run reached it.

    Parameters
    ----------
    runs : dict
        From a pair (delta, temperature) to a run's records (:func:`run_star`
        at that sampling temperature, or their dicts).
    M : int
        The number of states of the run's task.
    target : float, optional
        The accuracy to reach, in (0, 1]. Default 0.9.

    Returns
    -------
    dict
        From each pair to (forecast, reached): the
        ``iterations_to_target`` of :func:`starlib.plan.plan` started at
        iteration 0's ``step_follow``, and the first iteration whose
        ``accuracy`` is at least ``target``; either is None if not reached.

    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    from .plan import plan

    M = _checks.num_states(M)
    target = _checks.target_accuracy(target)
    out = {}
    for key, run in _runs(runs).items():
        try:
            _, tau = key
            tau = float(_checks.temperature(tau, _checks.FLOAT))
        except (TypeError, ValueError) as err:
            raise ValueError(f"runs must be keyed by (delta, temperature) pairs with a temperature > 0; "
                             f"got the key {key!r}") from err
        forecast = plan(run[0]["step_follow"], M, temperature=tau, target=target)["iterations_to_target"]
        reached = next((r["iteration"] for r in run if r["accuracy"] >= target), None)
        out[key] = (forecast, reached)
    return out


def planner_table(runs, M, target=0.9):
    """:func:`planner_forecasts` as a table: the planner's forecast against each run.

    Parameters are those of :func:`planner_forecasts`. Columns delta, tau,
    the planner's iterations to ``target`` and the transformer's ("-" where
    never reached); built on :func:`starlib.tables.format_table`.

    Introduced in :doc:`/chapters/10_star_on_a_real_transformer`.
    """
    found = planner_forecasts(runs, M, target)
    rows = [(delta, tau, forecast, reached) for (delta, tau), (forecast, reached) in found.items()]
    return format_table(rows, ["delta", "tau", f"planner: iterations to {target:g}", "transformer"],
                        ["", "", "", ""])
