"""The deviation budget of a STaR run on the transformer, the fit measure, and bad input to every public function."""

import json
from dataclasses import replace

import numpy as np
import pytest

import starlib as sl
from starlib import experiment, zip_task
from starlib.sampling import sample_chains_per_question

import exact_reference as ref

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # the tests are small; threads only contend
from starlib import star_loop, training, transformer  # noqa: E402

TINY = experiment.ExperimentConfig(
    n_bits=2, delta=0.3, chains_per_problem=64, samples_per_problem=64,
    max_iterations=2, pretrain_steps=8, finetune_steps=4,
)
TASK = zip_task.ZipTask(2)
M, T = TASK.num_states, TASK.num_steps


@pytest.fixture(scope="module")
def tiny():
    pre = training.pretrain(TASK, TINY.deltas, TINY.chains_per_problem, 0, config=TINY.model_config(), device="cpu")
    return pre, star_loop.run_star(pre, TINY.samples_per_problem, 0.5, TINY.max_iterations, seed=0)


# --- the fit measure, against loops over the chains -------------------------------------------


def test_fit_follow_and_count_follow_are_the_definitions():
    rng = np.random.default_rng(2)
    chains = rng.integers(0, 5, size=(300, 3))
    g = np.array([[1, 2, 3, 4, 0], [0, 1, 2, 3, 4]])
    P = rng.dirichlet(np.ones(5), size=(2, 5))
    for context in ("markov", "history"):
        counts = zip_task.transition_counts(chains, 5, context)
        policy = P if context == "markov" else np.repeat(P[:, None], 5, axis=1) * 0 + P[:, None]
        if context == "history":  # make the rows depend on the question too
            policy = rng.dirichlet(np.ones(5), size=(2, 5, 5))
        for t in range(2):
            follow = np.mean([c[t + 1] == g[t][c[t]] for c in chains])
            on_g = [policy[t][c[t], g[t][c[t]]] if context == "markov" else policy[t][c[0], c[t], g[t][c[t]]] for c in chains]
            assert training.count_follow(counts, g)[t] == pytest.approx(follow)
            assert training.fit_follow(policy, counts, g)[t] == pytest.approx(np.mean(on_g))


def test_a_maximum_likelihood_refit_fits_exactly():
    rng = np.random.default_rng(3)
    chains = rng.integers(0, 4, size=(50, 3))
    counts = zip_task.transition_counts(chains, 4)
    refit = sl.refit_on_counts(np.full((2, 4, 4), 0.25), counts)
    g = np.tile(np.arange(4), (2, 1))
    assert np.allclose(training.fit_follow(refit, counts, g), training.count_follow(counts, g))


def test_the_stopping_rule_stops_once_the_fit_is_within_tolerance():
    task = zip_task.ZipTask(1)
    counts = np.zeros((1, 4, 4), dtype=int)
    counts[0, np.arange(4), np.arange(4)] = 10
    counts[0, 0, 1] = 10
    g = task.ground_truth
    model = transformer.new_model(task, seed=0, device="cpu")
    result = training.fit(model, counts, 400, 1e-2, 4, fit_tolerance=0.05, check_every=10)
    assert result.steps < 400 and result.steps % 10 == 0
    miss = np.abs(training.fit_follow(transformer.model_kernels(model), counts, g) - training.count_follow(counts, g))
    assert miss.max() <= 0.05


# --- the budget fields of every record --------------------------------------------------------


def test_iteration_zero_has_no_budget_and_later_ones_have_every_field(tiny):
    _, run = tiny
    budget = ("tied_accuracy", "tied_follow", "tabular_accuracy", "tabular_follow", "sample_accuracy",
              "sample_follow", "fit_follow")
    assert all(getattr(run[0], name) is None for name in budget)
    assert len(run) >= 2
    for r in run[1:]:
        for name in budget:
            value = getattr(r, name)
            assert value is not None and np.all(np.isfinite(value))
            assert np.all((0 <= np.asarray(value)) & (np.asarray(value) <= 1))


def test_budget_of_iteration_one_against_enumeration(tiny):
    """tied: the tied map of p; tabular: the exact refit of the sampling kernel; sample: the refit on the kept chains."""
    pre, run = tiny
    before, after = run[0], run[1]
    tied = ref.tied_star_step(before.step_follow, M, power=2)
    assert after.tied_follow == pytest.approx(tied, abs=1e-9)
    sampling = transformer.model_kernels(pre.model, 0.5)
    g, q0 = ref.identity_g(T, M), ref.uniform_q0(M)
    g, q0 = np.array(g), [float(x) for x in q0]
    exact = ref.tabular_star_step(sampling.tolist(), g.tolist(), q0)
    accuracy, _, follow, _, _ = ref.measure(ref.markov_rows(exact), g.tolist(), q0)
    assert after.tabular_accuracy == pytest.approx(accuracy, abs=1e-9)
    assert after.tabular_follow == pytest.approx(follow, abs=1e-9)
    # the kept chains of iteration 0 are the first draw of the run's generator
    chains = sample_chains_per_question(sampling, TINY.samples_per_problem, np.random.default_rng(0))
    kept = chains[chains[:, -1] == chains[:, 0]]
    assert len(kept) == before.kept
    refit = sampling.copy()
    for t in range(T):
        for s in range(M):
            rows = kept[kept[:, t] == s]
            if len(rows):
                refit[t, s] = np.bincount(rows[:, t + 1], minlength=M) / len(rows)
    accuracy, _, follow, _, _ = ref.measure(ref.markov_rows(refit.tolist()), g.tolist(), q0)
    assert after.sample_accuracy == pytest.approx(accuracy, abs=1e-9)
    assert after.sample_follow == pytest.approx(follow, abs=1e-9)
    assert np.allclose(training.count_follow(zip_task.transition_counts(kept, M), g), before.kept_follow)


def test_tabular_trajectory_iterates_the_exact_map_of_the_first_kernel(tiny):
    pre, run = tiny
    g, q0 = TASK.ground_truth, np.full(M, 1 / M)
    policy = transformer.model_kernels(pre.model)
    for r in run:
        seen = sl.measure_policy(policy, g, q0)
        assert r.tabular_theory_accuracy == pytest.approx(seen.accuracy)
        assert r.tabular_theory_follow == pytest.approx(seen.step_follow)
        policy = sl.tabular_star_step(sl.tempered_policy(policy, 0.5), g, q0)


def test_deviation_budget_parts_add_up(tiny):
    _, run = tiny
    b = star_loop.deviation_budget(run)
    assert list(b["iteration"]) == [r.iteration for r in run[1:]]
    assert np.allclose(b["shape"] + b["finite_sample"] + b["fit"], b["accuracy"] - b["tied"])
    for i, r in enumerate(run[1:]):
        assert b["fit_miss"][i] == pytest.approx(np.max(np.abs(np.subtract(r.fit_follow, run[i].kept_follow))))
    table = star_loop.budget_table(run)
    assert len(table.splitlines()) == len(run) + 1 and max(map(len, table.splitlines())) <= 80
    table = star_loop.iteration_table(run)
    assert len(table.splitlines()) == len(run) + 2 and max(map(len, table.splitlines())) <= 80


def test_seed_band_is_the_spread_over_the_runs_per_iteration():
    runs = [[{"iteration": n, "accuracy": a, "theory_accuracy": 0.0, "step_follow": [0.1], "kept": 1}
             for n, a in enumerate(values)] for values in ([0.1, 0.5, 0.9], [0.3, 0.2], [0.2, 0.4, 1.0])]
    band = star_loop.seed_band(runs, "accuracy")
    assert list(band["iteration"]) == [0, 1]  # the iterations every run reaches
    assert np.allclose(band["low"], [0.1, 0.2]) and np.allclose(band["high"], [0.3, 0.5])
    assert np.allclose(band["median"], [0.2, 0.4])


def test_command_line_json_holds_the_budget(tmp_path, monkeypatch):
    monkeypatch.setitem(experiment.CONFIGS, "quick", TINY)
    out = tmp_path / "results.json"
    assert experiment.main(["--config", "quick", "--device", "cpu", "--out", str(out), "--no-progress",
                            "--fit-tolerance", "0.5"]) == 0
    results = json.loads(out.read_text())
    assert results["config"]["finetune_fit_tolerance"] == 0.5
    later = results["iterations"][1]
    assert set(later) >= {"tied_follow", "tied_accuracy", "tabular_follow", "tabular_accuracy", "sample_follow",
                          "sample_accuracy", "fit_follow", "kept_follow", "step_follow", "fit_steps",
                          "tabular_theory_accuracy"}
    assert star_loop.budget_table(results["iterations"]) == star_loop.budget_table(results["iterations"])


# --- bad input: every public function of the real-model modules names its argument ----------


def _model():
    return transformer.new_model(TASK, device="cpu")


def _counts():
    return zip_task.transition_counts(np.zeros((4, T + 1), dtype=int), M)


NAN_COUNTS = np.full((T, M, M), np.nan)
NEG_COUNTS = -np.ones((T, M, M))
POLICY = np.full((T, M, M), 1 / M)
G = TASK.ground_truth

BAD_CALLS = [
    ("d_model", lambda: transformer.TinyTransformer(d_model=0)),
    ("n_heads", lambda: transformer.TinyTransformer(n_heads=2.5)),
    ("learning_rate", lambda: transformer.ModelConfig(learning_rate=float("nan"))),
    ("finetune_learning_rate", lambda: transformer.ModelConfig(finetune_learning_rate=-1e-3)),
    ("finetune_batch_rows", lambda: transformer.ModelConfig(finetune_batch_rows=0)),
    ("pretrain_steps", lambda: transformer.ModelConfig(pretrain_steps=-1)),
    ("finetune_fit_tolerance", lambda: transformer.ModelConfig(finetune_fit_tolerance=0.0)),
    ("sharpen_to", lambda: transformer.ModelConfig(sharpen_to=1.5)),
    ("task", lambda: transformer.new_model("zip", device="cpu")),
    ("context", lambda: transformer.new_model(TASK, "full", device="cpu")),
    ("config", lambda: transformer.new_model(TASK, config={"d_model": 64}, device="cpu")),
    ("seed", lambda: transformer.new_model(TASK, seed=-1, device="cpu")),
    ("seed", lambda: transformer.new_model(TASK, seed=1.5, device="cpu")),
    ("device", lambda: transformer.new_model(TASK, device="tpu")),
    ("model", lambda: transformer.score_candidates("net", _model().packed[0], torch.arange(2))),
    ("packed", lambda: transformer.score_candidates(_model().network, None, torch.arange(2))),
    ("rows", lambda: transformer.score_candidates(_model().network, _model().packed[0], torch.tensor([0, 99]))),
    ("rows", lambda: transformer.score_candidates(_model().network, _model().packed[0], torch.tensor([0.5]))),
    ("model", lambda: transformer.candidate_scores(_model().network)),
    ("chunk_rows", lambda: transformer.candidate_scores(_model(), chunk_rows=0)),
    ("scores", lambda: transformer.kernels_from_scores([np.full((M, M), np.nan)] * T, "markov")),
    ("scores", lambda: transformer.kernels_from_scores([np.zeros((M, M))] * T, "history")),
    ("scores", lambda: transformer.kernels_from_scores([], "markov")),
    ("context", lambda: transformer.kernels_from_scores([np.zeros((M, M))] * T, "full")),
    ("temperature", lambda: transformer.kernels_from_scores([np.zeros((M, M))] * T, "markov", 0.0)),
    ("temperature", lambda: transformer.model_kernels(_model(), float("inf"))),
    ("model", lambda: transformer.model_kernels(None)),
    ("context", lambda: transformer.check_context(None)),
    ("model", lambda: transformer.check_model(3)),
    ("seed", lambda: transformer.check_seed(True)),
    ("seed", lambda: transformer.check_seed(2**63)),
    ("progress", lambda: training.fit(_model(), _counts(), 1, 1e-3, 4, progress=1)),
    ("learning_rate", lambda: transformer.check_positive_number(0.0, "learning_rate")),
    ("counts", lambda: training.check_counts(NAN_COUNTS)),
    ("counts", lambda: training.check_counts(np.ones((T, M)))),
    ("counts", lambda: training.count_follow(NEG_COUNTS, G)),
    ("g", lambda: training.count_follow(_counts(), G[:1])),
    ("policy", lambda: training.fit_follow(np.ones((T, M, M)), _counts(), G)),
    ("counts", lambda: training.fit_follow(POLICY, np.ones((T, M, M, M)), G)),
    ("counts", lambda: training.fit_follow(POLICY, NAN_COUNTS, G)),
    ("model", lambda: training.target_loss("model", _counts())),
    ("counts", lambda: training.target_loss(_model(), np.ones((T, M, M, M)))),
    ("counts", lambda: training.fit(_model(), NAN_COUNTS, 1, 1e-3, 4)),
    ("counts", lambda: training.fit(_model(), NEG_COUNTS, 1, 1e-3, 4)),
    ("counts", lambda: training.fit(_model(), np.ones((T + 1, M, M)), 1, 1e-3, 4)),
    ("steps", lambda: training.fit(_model(), _counts(), -1, 1e-3, 4)),
    ("learning_rate", lambda: training.fit(_model(), _counts(), 1, 0.0, 4)),
    ("learning_rate", lambda: training.fit(_model(), _counts(), 1, float("nan"), 4)),
    ("batch_rows", lambda: training.fit(_model(), _counts(), 1, 1e-3, 0)),
    ("seed", lambda: training.fit(_model(), _counts(), 1, 1e-3, 4, seed=-2)),
    ("fit_tolerance", lambda: training.fit(_model(), _counts(), 1, 1e-3, 4, fit_tolerance=-0.1)),
    ("check_every", lambda: training.fit(_model(), _counts(), 1, 1e-3, 4, check_every=0)),
    ("model", lambda: training.fit(None, _counts(), 1, 1e-3, 4)),
    ("task", lambda: training.pretrain(None, [0.1, 0.1], 4, device="cpu")),
    ("deltas", lambda: training.pretrain(TASK, [0.1], 4, device="cpu")),
    ("deltas", lambda: training.pretrain(TASK, [np.nan, 0.1], 4, device="cpu")),
    ("chains_per_problem", lambda: training.pretrain(TASK, [0.1, 0.1], 0, device="cpu")),
    ("seed", lambda: training.pretrain(TASK, [0.1, 0.1], 4, seed=-1, device="cpu")),
    ("context", lambda: training.pretrain(TASK, [0.1, 0.1], 4, context="x", device="cpu")),
    ("config", lambda: training.pretrain(TASK, [0.1, 0.1], 4, config="big", device="cpu")),
    ("start_from", lambda: training.pretrain(TASK, [0.1, 0.1], 4, device="cpu", start_from=_model())),
    ("rng", lambda: zip_task.pretraining_counts(TASK, [0.1, 0.1], 4, 0)),
    ("chains_per_problem", lambda: zip_task.pretraining_counts(TASK, [0.1, 0.1], 2.5, np.random.default_rng(0))),
    ("context", lambda: zip_task.pretraining_counts(TASK, [0.1, 0.1], 4, np.random.default_rng(0), "x")),
    ("task", lambda: zip_task.pretraining_counts(4, [0.1, 0.1], 4, np.random.default_rng(0))),
    ("pretrained", lambda: star_loop.run_star(_model(), 4)),
    ("iterations", lambda: star_loop.iteration_table([{"iteration": 0}])),
    ("iterations", lambda: star_loop.iteration_table([])),
    ("iterations", lambda: star_loop.deviation_budget(5)),
    ("runs", lambda: star_loop.seed_band([], "accuracy")),
    ("key", lambda: star_loop.seed_band([[{"iteration": 0, "accuracy": 0.1, "theory_accuracy": 0.1,
                                           "step_follow": [0.1], "kept": 1}]], "kept")),
    ("iterations", lambda: star_loop.budget_table([])),
    ("pretrained", lambda: star_loop.pretraining_summary(_model())),
    ("pretrained", lambda: star_loop.pretraining_table({0.3: _model()})),
    ("pretrained", lambda: star_loop.pretraining_table({})),
    ("runs", lambda: star_loop.theory_gap_table([])),
    ("runs", lambda: star_loop.theory_gap_table({0.3: [{"iteration": 0}]})),
    ("runs", lambda: star_loop.kept_wrong_table({0.3: "ab"})),
    ("runs", lambda: star_loop.planner_forecasts({0.3: []}, M)),
    ("M", lambda: star_loop.planner_forecasts({(0.3, 0.5): [{}]}, 1)),
    ("target", lambda: star_loop.planner_table({(0.3, 0.5): [{}]}, M, target=0.0)),
    ("config", lambda: experiment.run_experiment("quick")),
    ("finetune_learning_rate", lambda: experiment.check_config(replace(TINY, finetune_learning_rate=0.0))),
    ("finetune_batch_rows", lambda: experiment.check_config(replace(TINY, finetune_batch_rows=0))),
    ("seed", lambda: experiment.run_experiment(TINY, seed=-1, device="cpu")),
]


@pytest.mark.parametrize("argument, call", BAD_CALLS, ids=[f"{i}-{a}" for i, (a, _) in enumerate(BAD_CALLS)])
def test_bad_input_names_the_argument(argument, call):
    with pytest.raises(ValueError, match=argument):
        call()


@pytest.fixture(scope="module")
def tiny_pre():
    return training.pretrain(TASK, TINY.deltas, 8, 0, config=TINY.model_config(), device="cpu")


@pytest.mark.parametrize("kwargs, argument", [
    (dict(samples_per_problem=0), "samples_per_problem"),
    (dict(samples_per_problem=4, temperature=-1.0), "temperature"),
    (dict(samples_per_problem=4, max_iterations=-1), "max_iterations"),
    (dict(samples_per_problem=4, seed=-1), "seed"),
])
def test_run_star_names_its_bad_argument(tiny_pre, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        star_loop.run_star(tiny_pre, **kwargs)


def test_every_public_function_is_covered():
    """Each public function and class of the real-model modules appears in the bad-input tests above."""
    import inspect

    source = inspect.getsource(inspect.getmodule(test_every_public_function_is_covered))
    for module in (transformer, training, star_loop):
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(value) or (inspect.isclass(value) and name not in ("StarIteration", "Pretrained", "FitResult", "RealModel")):
                assert f"{module.__name__.split('.')[-1]}.{name}(" in source, name


def test_a_diverging_fit_raises_instead_of_training_on_nan():
    model = _model()
    with torch.no_grad():
        model.network.head.bias.fill_(float("nan"))  # a network that has diverged
    with pytest.raises(ValueError, match="learning_rate"):
        training.fit(model, _counts(), 5, 1e-3, 4)


# --- the chapter's tables, against loops over the records and the kernels --------------------


def _table_rows(table):
    """The body of a format_table text: one list of cells per row."""
    return [line.split() for line in table.splitlines()[2:]]


def test_pretraining_summary_against_loops(tiny):
    pre, _ = tiny
    s = star_loop.pretraining_summary(pre)
    kernels = transformer.model_kernels(pre.model)
    g, q0 = ref.identity_g(T, M), [1 / M] * M
    _, _, follow, _, _ = ref.measure(ref.markov_rows(kernels.tolist()), g, q0)
    assert s["model"] == pytest.approx(follow, abs=1e-12)
    for t in range(T):
        counts = pre.counts[t]
        followed = sum(counts[i, i] for i in range(M))
        assert s["data"][t] == pytest.approx(followed / counts.sum())
        rows = [kernels[t][i][i] for i in range(M)]
        assert s["row_min"][t] == min(rows) and s["row_max"][t] == max(rows)
    assert np.allclose(s["stall"], zip_task.independent_digits_follow(s["data"], TASK.n_bits))
    assert s["loss"] == pre.loss
    table = star_loop.pretraining_table({0.3: pre, "again": pre})
    rows = _table_rows(table)
    assert len(rows) == 2 * T and max(map(len, table.splitlines())) <= 80
    for t, row in enumerate(rows[:T]):
        assert row[:2] == ["0.3", str(t + 1)]
        assert float(row[3]) == pytest.approx(s["model"][t], abs=5e-5)
        assert float(row[7]) == pytest.approx(pre.loss, abs=5e-5)
    assert rows[T][0] == "again"


def test_a_history_model_has_no_pretraining_summary():
    pre = training.pretrain(TASK, TINY.deltas, 8, 0, context="history", config=TINY.model_config(), device="cpu")
    with pytest.raises(ValueError, match="pretrained"):
        star_loop.pretraining_summary(pre)


def test_theory_gap_and_kept_wrong_tables_print_the_records(tiny):
    _, run = tiny
    gap = _table_rows(star_loop.theory_gap_table({0.3: run}))
    wrong = _table_rows(star_loop.kept_wrong_table({0.3: run}))
    assert len(gap) == len(wrong) == len(run)
    for r, g_row, w_row in zip(run, gap, wrong):
        assert g_row[:2] == w_row[:2] == ["0.3", str(r.iteration)]
        assert float(g_row[2]) == pytest.approx(r.accuracy - r.theory_accuracy, abs=5e-5)
        assert float(g_row[3]) == pytest.approx(r.sampling_accuracy - r.theory_sampling_accuracy, abs=5e-5)
        assert [float(x) for x in g_row[4:4 + T]] == pytest.approx(r.kept_follow, abs=5e-4)
        assert [float(x) for x in g_row[4 + T:]] == pytest.approx(r.step_follow, abs=5e-4)
        assert int(w_row[2]) == r.kept
        assert [float(x) for x in w_row[3:]] == pytest.approx(
            [r.kept_wrong_rate, r.sampled_kept_wrong_rate, r.theory_kept_wrong_rate], abs=5e-5)


def test_planner_forecasts_against_the_enumerated_tied_map(tiny):
    _, run = tiny
    g, q0 = ref.identity_g(T, M), [1 / M] * M
    for target in (0.9, run[-1].accuracy):
        p, forecast = list(run[0].step_follow), None
        for n in range(31):
            if ref.accuracy(ref.tied_kernel(p, M), g, q0) >= target:
                forecast = n
                break
            p = ref.tied_star_step(p, M, power=2)
        reached = next((r.iteration for r in run if r.accuracy >= target), None)
        found = star_loop.planner_forecasts({(0.3, 0.5): run}, M, target)
        assert found == {(0.3, 0.5): (forecast, reached)}
    assert found[0.3, 0.5][1] is not None  # the last target is the run's own final accuracy
    rows = _table_rows(star_loop.planner_table({(0.3, 0.5): run}, M))
    forecast, reached = star_loop.planner_forecasts({(0.3, 0.5): run}, M)[0.3, 0.5]
    shown = ["-" if n is None else str(n) for n in (forecast, reached)]
    assert rows == [["0.3", "0.5"] + shown]
    with pytest.raises(ValueError, match="runs"):
        star_loop.planner_forecasts({0.3: run}, M)
    with pytest.raises(ValueError, match="runs"):
        star_loop.planner_forecasts({(0.3, 0.0): run}, M)


def test_follow_text_is_three_decimals_per_step():
    assert star_loop.follow_text([0.0721, 0.5, 1]) == "0.072 0.500 1.000"
    assert star_loop.follow_text(None) is None
