"""The zip task, the per-question sampler, the transformer's packed scoring, training and the STaR loop."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

import starlib as sl
from starlib import experiment, zip_task
from starlib.sampling import sample_chains_per_question

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # the tests are small; threads only contend
from starlib import star_loop, training, transformer  # noqa: E402

TINY = experiment.ExperimentConfig(
    n_bits=2, delta=0.3, chains_per_problem=64, samples_per_problem=64,
    max_iterations=2, pretrain_steps=8, finetune_steps=4,
)


# --- the task and its data -------------------------------------------------------------------


def test_states_follow_the_authors_layout():
    task = zip_task.ZipTask(3)
    problem = 0b110 * 8 + 0b001  # a = 110, b = 001
    assert task.ground_truth_chain(problem) == [
        "[x] 1 1 0 [.] 0 0 1",
        "[x] 1 1 [.] 0 0 [y] 0 1",
        "[x] 1 [.] 0 [y] 1 0 [.] 0 1",
        "[x] [.] [y] 1 0 [.] 1 0 [.] 0 1",
    ]
    assert (task.num_states, task.num_steps) == (64, 3)


@pytest.mark.parametrize("n_bits", [1, 2, 3, 4])
def test_every_step_is_a_bijection(n_bits):
    task = zip_task.ZipTask(n_bits)
    for t in range(n_bits + 1):
        ids = task.state_ids(t)
        assert len({tuple(row) for row in ids}) == task.num_states
        # every state keeps all 2n digits, so it names its problem
        assert ((ids == zip_task.TOKEN_ID["0"]) | (ids == zip_task.TOKEN_ID["1"])).sum(axis=1).tolist() == [2 * n_bits] * task.num_states


def test_generator_follow_is_the_authors_convention():
    p = zip_task.generator_follow([0.1, 0.2, 0.0], 64)
    assert np.allclose(p, [1 / 64 + 0.1, 1 / 64 + 0.2, 1 / 64])
    assert float(sl.margin(p[0], 64)) == pytest.approx(0.1 * 64 / 63)


@pytest.mark.parametrize("bad", [[1.0], [-0.1], [float("nan")], [], "x"])
def test_generator_follow_rejects_impossible_deltas(bad):
    with pytest.raises(ValueError, match="delta"):
        zip_task.generator_follow(bad, 64)


@pytest.mark.parametrize("bad", [0, 7, 2.5, True])
def test_task_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_bits"):
        zip_task.ZipTask(bad)


def test_transition_counts_match_a_loop():
    rng = np.random.default_rng(0)
    M, T = 5, 3
    chains = rng.integers(0, M, size=(200, T + 1))
    markov = zip_task.transition_counts(chains, M)
    history = zip_task.transition_counts(chains, M, "history")
    expect_m = np.zeros((T, M, M), dtype=int)
    expect_h = np.zeros((T, M, M, M), dtype=int)
    for chain in chains:
        for t in range(T):
            expect_m[t, chain[t], chain[t + 1]] += 1
            expect_h[t, chain[0], chain[t], chain[t + 1]] += 1
    assert (markov == expect_m).all() and (history == expect_h).all()
    with pytest.raises(ValueError, match="context"):
        zip_task.transition_counts(chains, M, "full")
    with pytest.raises(ValueError, match="outside"):
        zip_task.transition_counts(chains, 3)


# --- sampling a fixed number of chains per question -------------------------------------------


def test_per_question_sampler_statistics():
    p, M, n = np.array([0.6, 0.3, 0.8]), 6, 20_000
    kernels = sl.tied_kernels(p, M).astype(float)
    chains = sample_chains_per_question(kernels, n, np.random.default_rng(1))
    assert chains.shape == (M * n, 4)
    assert (chains[:, 0] == np.repeat(np.arange(M), n)).all()
    follow = (chains[:, 1:] == chains[:, :-1]).mean(axis=0)
    assert np.all(np.abs(follow - p) < 5 * np.sqrt(p * (1 - p) / (M * n)))
    correct = (chains[:, -1] == chains[:, 0]).mean()
    A = float(sl.accuracy(p, M))
    assert abs(correct - A) < 5 * np.sqrt(A * (1 - A) / (M * n))


def test_per_question_sampler_history_layout():
    p, M = np.array([0.5, 0.7]), 4
    kernels = sl.tied_kernels(p, M).astype(float)
    history = sl.markov_as_history(kernels)
    a = sample_chains_per_question(kernels, 500, np.random.default_rng(3))
    b = sample_chains_per_question(history, 500, np.random.default_rng(3))
    assert (a == b).all()
    # a history-aware kernel that jumps to the answer at the last step, whatever the current state
    H = history.copy()
    H[-1] = 0.0
    for s0 in range(M):
        H[-1, s0, :, s0] = 1.0
    chains = sample_chains_per_question(H, 200, np.random.default_rng(4))
    assert (chains[:, -1] == chains[:, 0]).all()


@pytest.mark.parametrize("policy", [np.ones((2, 3)), np.full((1, 3, 3), 0.5), np.ones((1, 2, 3, 3)) / 3])
def test_per_question_sampler_rejects_bad_kernels(policy):
    with pytest.raises(ValueError):
        sample_chains_per_question(policy, 10, np.random.default_rng(0))


# --- the transformer ---------------------------------------------------------------------------


def _unpacked_scores(model, packed, row, candidates):
    """log Pr(candidate | context) from one ordinary causal sequence per candidate."""
    context = packed.contexts[row]
    scores = []
    for cand in candidates:
        tokens = torch.cat([context, torch.as_tensor(cand)])[None]
        L, C = tokens.shape[1], len(context)
        # the context keeps its layout's positions; the candidate follows the last one
        positions = torch.cat([packed.positions[:C], packed.positions[C - 1] + 1 + torch.arange(len(cand))])
        mask = torch.tril(torch.ones(L, L, dtype=torch.bool))
        logp = torch.log_softmax(model.network(tokens, positions, mask)[0], dim=-1)
        scores.append(sum(float(logp[C - 1 + k, tok]) for k, tok in enumerate(cand)))
    return np.array(scores)


@pytest.mark.parametrize("context", ["markov", "history"])
def test_packed_scores_equal_separate_sequences(context):
    task = zip_task.ZipTask(2)
    model = transformer.new_model(task, context, seed=3, device="cpu")
    with torch.no_grad():
        for step, packed in enumerate(model.packed, start=1):
            rows = [0, 5, len(packed.contexts) - 1]
            packed_scores = transformer.score_candidates(model.network, packed, torch.as_tensor(rows)).numpy()
            for i, row in enumerate(rows):
                expect = _unpacked_scores(model, packed, row, task.state_ids(step))
                assert np.max(np.abs(packed_scores[i] - expect)) < 1e-4


@pytest.mark.parametrize("context", ["markov", "history"])
def test_training_layout_keeps_only_the_needed_paths_and_their_scores(context):
    """Each row keeps the tree nodes on the paths to its needed candidates, and the
    count-weighted objective equals the one from separate sequences."""
    task = zip_task.ZipTask(2)
    model = transformer.new_model(task, context, seed=4, device="cpu")
    rng = np.random.default_rng(0)
    for step, packed in enumerate(model.packed, start=1):
        rows = np.array([0, 3, len(packed.contexts) - 1])
        weight = rng.integers(0, 3, size=(len(rows), task.num_states)) * (rng.random((len(rows), task.num_states)) < 0.3)
        weight[0] = 0
        weight[0, 2] = 5  # one row with a single candidate
        layout = training._row_layout(packed, rows, weight > 0)
        assert layout.input_length[0] == len(packed.contexts[0]) + packed.length - 1  # one path, its leaf left out
        with torch.no_grad():
            log_probs, nodes = training._node_log_probs(model.network, layout, np.arange(len(rows)), packed.tree_tokens)
        node_weight = (torch.as_tensor(weight, dtype=torch.float32) @ layout.incidence).gather(1, nodes)
        got = (node_weight * log_probs).sum(dim=1).numpy()
        for i, row in enumerate(rows):
            with torch.no_grad():
                expect = weight[i] @ _unpacked_scores(model, packed, row, task.state_ids(step))
            assert abs(got[i] - expect) < 1e-3 * max(1.0, abs(expect))


def test_history_model_starts_from_markov_weights():
    """Step 1 of a history-aware model is the Markov model; later steps see the question too."""
    task = zip_task.ZipTask(2)
    markov = training.pretrain(task, [0.3, 0.3], 16, config=TINY.model_config(), device="cpu")
    config = replace(TINY.model_config(), pretrain_steps=0)  # the loaded weights, untouched
    history = training.pretrain(task, [0.3, 0.3], 16, context="history", config=config, device="cpu", start_from=markov)
    assert history.model.context == "history"
    h_step1 = transformer.model_kernels(history.model)[0][np.arange(16), np.arange(16)]
    assert np.allclose(h_step1, transformer.model_kernels(markov.model)[0], atol=1e-6)


def test_history_contexts_hold_question_and_state():
    task = zip_task.ZipTask(2)
    model = transformer.new_model(task, "history", device="cpu")
    M, sep = task.num_states, zip_task.SEPARATOR
    step2 = model.packed[1].contexts.numpy()
    s0, s = 7, 11
    expect = np.concatenate([task.state_ids(0)[s0], [sep], task.state_ids(1)[s], [sep]])
    assert (step2[s0 * M + s] == expect).all()


def test_kernels_are_distributions_and_temper_correctly():
    task = zip_task.ZipTask(2)
    for context, shape in [("markov", (2, 16, 16)), ("history", (2, 16, 16, 16))]:
        model = transformer.new_model(task, context, seed=1, device="cpu")
        k1 = transformer.model_kernels(model)
        k_half = transformer.model_kernels(model, 0.5)
        assert k1.shape == shape and np.allclose(k1.sum(axis=-1), 1.0)
        sharpened = k1**2 / (k1**2).sum(axis=-1, keepdims=True)
        assert np.allclose(k_half, sharpened)
        if context == "history":  # step 1 depends on the question only
            assert np.allclose(k1[0], k1[0][:, :1, :])


def test_fit_loss_is_the_mean_target_cross_entropy():
    """The objective: the mean of -log Pr(target) per target token; a fit of 0 steps reports it too."""
    task = zip_task.ZipTask(2)
    model = transformer.new_model(task, "markov", seed=2, device="cpu")
    rng = np.random.default_rng(0)
    chains = sample_chains_per_question(sl.tied_kernels([0.5, 0.5], 16).astype(float), 3, rng)
    counts = zip_task.transition_counts(chains, 16)
    loss = training.target_loss(model, counts)
    assert training.fit(model, counts, 0, learning_rate=1e-3, batch_rows=4).loss == loss
    with torch.no_grad():
        per_token = []
        for chain in chains:
            for t in range(2):
                packed = model.packed[t]
                score = _unpacked_scores(model, packed, chain[t], [task.state_ids(t + 1)[chain[t + 1]]])[0]
                per_token.append(-score / packed.length)
    assert loss == pytest.approx(np.mean(per_token), rel=1e-5)


def test_fit_learns_a_deterministic_step():
    task = zip_task.ZipTask(1)
    model = transformer.new_model(task, "markov", seed=0, device="cpu")
    counts = np.zeros((1, 4, 4), dtype=int)
    counts[0, np.arange(4), np.arange(4)] = 10
    before = np.diag(transformer.model_kernels(model)[0]).mean()
    training.fit(model, counts, 60, learning_rate=1e-2, batch_rows=4)
    after = np.diag(transformer.model_kernels(model)[0]).mean()
    assert before < 0.5 < 0.9 < after
    with pytest.raises(sl.NoKeptChainsError):
        training.fit(model, np.zeros_like(counts), 1, learning_rate=1e-3, batch_rows=4)


# --- the STaR loop and the command line ------------------------------------------------------------


def _tiny_run(seed=0, temperature=0.5):
    task = zip_task.ZipTask(TINY.n_bits)
    pre = training.pretrain(task, TINY.deltas, TINY.chains_per_problem, seed, config=TINY.model_config(), device="cpu")
    return star_loop.run_star(pre, TINY.samples_per_problem, temperature, TINY.max_iterations, seed)


def test_run_star_records_and_theory_overlay():
    run = _tiny_run()
    first = run[0]
    assert first.iteration == 0 and first.theory_step_follow == pytest.approx(first.step_follow)
    M = 16
    for r in run:
        assert 0 <= r.accuracy <= 1 and 0 <= r.sampling_accuracy <= 1
        assert r.sampled == M * TINY.samples_per_problem and 0 < r.kept <= r.sampled
        assert r.sampled_accuracy == r.kept / r.sampled
        assert len(r.sampled_follow) == len(r.kept_follow) == TINY.n_bits
        assert all(0 <= x <= 1 for x in r.sampled_follow + r.kept_follow)
        expect = sl.star_iterates(np.array(first.step_follow), M, r.iteration, 0.5)[-1]
        assert r.theory_step_follow == pytest.approx(expect)
        assert r.theory_accuracy == pytest.approx(float(sl.accuracy(expect, M)))
        assert 0 <= r.recovery_rate <= 1
        assert r.theory_recovery_rate == pytest.approx((1 - expect[-1]) / (M - 1))
    assert len(run) <= TINY.max_iterations + 1


def test_history_aware_run_overlays_the_exact_history_aware_map():
    task = zip_task.ZipTask(TINY.n_bits)
    g, q0 = task.ground_truth, np.full(task.num_states, 1 / task.num_states)
    markov = training.pretrain(task, TINY.deltas, TINY.chains_per_problem, 0, config=TINY.model_config(), device="cpu")
    history = training.pretrain(task, TINY.deltas, TINY.chains_per_problem, 0, context="history",
                                  config=replace(TINY.model_config(), pretrain_steps=5), device="cpu", start_from=markov)
    run = star_loop.run_star(history, TINY.samples_per_problem, 0.5, 2, seed=0)
    policy = transformer.model_kernels(history.model)
    assert policy.shape == (TINY.n_bits,) + (task.num_states,) * 3
    for r in run:
        seen = sl.measure_policy(policy, g, q0)
        assert r.theory_accuracy == pytest.approx(seen.accuracy)
        assert r.theory_step_follow == pytest.approx(seen.step_follow)
        assert r.theory_recovery_rate == pytest.approx(seen.recovery_rate)
        sampling = sl.measure_policy(sl.tempered_policy(policy, 0.5), g, q0)
        assert r.theory_sampling_accuracy == pytest.approx(sampling.accuracy)
        assert r.theory_kept_wrong_rate == pytest.approx(sampling.kept_wrong_rate)
        policy = sl.history_star_step(sl.tempered_policy(policy, 0.5), g, q0)
    assert len(run) == 3 and run[1].theory_accuracy > 0.99  # a perfect history-aware learner is done in one step


def test_run_star_is_deterministic_for_a_seed():
    a, b = _tiny_run(seed=5), _tiny_run(seed=5)
    assert [r.__dict__ for r in a] == [r.__dict__ for r in b]


def test_command_line_writes_the_documented_json(tmp_path, monkeypatch):
    monkeypatch.setitem(experiment.CONFIGS, "quick", TINY)
    out = tmp_path / "results.json"
    assert experiment.main(["--config", "quick", "--device", "cpu", "--seed", "1", "--out", str(out), "--no-progress"]) == 0
    results = json.loads(out.read_text())
    assert set(results) >= {"config", "device", "seconds", "iterations"}
    assert results["device"] == "cpu" and results["config"]["delta"] == TINY.delta
    first = results["iterations"][0]
    assert set(first) >= {"iteration", "accuracy", "step_follow", "kept_wrong_rate", "kept", "theory_accuracy"}
    assert len(first["step_follow"]) == TINY.n_bits


@pytest.mark.parametrize(
    "args, message",
    [
        (["--delta", "2"], "outside"),
        (["--zero-step", "5"], "zero_step"),
        (["--temperature", "0"], "temperature"),
        (["--max-iterations", "-1"], "max_iterations"),
        (["--device", "tpu"], "device"),
        (["--config", "huge"], "invalid choice"),
        (["--finetune-learning-rate", "0"], "finetune_learning_rate"),
        (["--finetune-batch-rows", "0"], "finetune_batch_rows"),
        (["--finetune-steps", "-5"], "finetune_steps"),
        (["--fit-tolerance", "nan"], "finetune_fit_tolerance"),
        (["--threads", "0"], "--threads"),
    ],
)
def test_command_line_rejects_bad_options_without_a_traceback(args, message):
    done = subprocess.run([sys.executable, "-m", "starlib.experiment", *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_command_line_refuses_cuda_where_there_is_none():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = subprocess.run([sys.executable, "-m", "starlib.experiment", "--device", "cuda"], capture_output=True, text=True)
    assert done.returncode == 2 and "CUDA" in done.stderr and "Traceback" not in done.stderr


def test_configs_have_the_documented_sizes():
    paper = experiment.CONFIGS["paper"]
    assert (paper.chains_per_problem, paper.samples_per_problem, paper.max_iterations) == (4096, 4096, 10)
    assert paper.temperature == 0.5 and experiment.CONFIGS["quick"].temperature == 0.5
    assert replace(TINY, zero_step=2).deltas == (0.3, 0.0)


def test_independent_digits_follow_by_enumeration():
    """Per-digit marginals of the delta-mixture, multiplied over the digits, for n = 2."""
    task, p = zip_task.ZipTask(2), 0.3
    M = task.num_states
    ids = task.state_ids(1)
    true = ids[5]
    weights = np.full(M, (1 - p) / (M - 1))
    weights[5] = p
    digits = (true == zip_task.TOKEN_ID["0"]) | (true == zip_task.TOKEN_ID["1"])
    marginals = [(weights * (ids[:, k] == true[k])).sum() for k in np.flatnonzero(digits)]
    assert zip_task.independent_digits_follow(p, 2) == pytest.approx(np.prod(marginals))
