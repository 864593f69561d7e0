"""The torch backend of sample_chains draws the same distribution as the NumPy one.

CI has no GPU, so these run on the CPU device; on a machine with CUDA, "auto"
picks it and the same tests check the GPU.
"""

import numpy as np
import pytest

import starlib as sl
from starlib.devices import resolve_device

torch = pytest.importorskip("torch")


def _rates(chains, T):
    """Fraction correct and per-step follow fractions of sampled chains."""
    correct = float(np.mean(chains[:, -1] == chains[:, 0]))
    follows = [float(np.mean(chains[:, t + 1] == chains[:, t])) for t in range(T)]
    return correct, follows


@pytest.mark.parametrize(
    "p, M, temperature",
    [([0.3, 0.6, 0.9], 5, 1.0), ([0.1, 0.05], 3, 1.0), ([0.2, 0.7, 0.5, 1.0], 64, 0.5), ([0.0, 0.4], 2, 1.0)],
)
def test_torch_backend_matches_exact_rates(p, M, temperature):
    n = 200_000
    chains = sl.sample_chains(p, M, n, np.random.default_rng(3), temperature, backend="torch").cpu().numpy()
    assert chains.shape == (n, len(p) + 1) and chains.min() >= 0 and chains.max() < M
    correct, follows = _rates(chains, len(p))
    tempered = sl.tempered(p, M, temperature)
    A = sl.accuracy(tempered, M)
    assert abs(correct - A) <= 5 * np.sqrt(A * (1 - A) / n) + 1e-12
    for rate, pt in zip(follows, tempered):
        assert abs(rate - pt) <= 5 * np.sqrt(pt * (1 - pt) / n) + 1e-12


def test_torch_backend_wrong_moves_are_uniform_over_the_other_states():
    M, n = 7, 140_000
    chains = sl.sample_chains([0.0], M, n, np.random.default_rng(5), backend="torch").cpu().numpy()
    offsets = (chains[:, 1] - chains[:, 0]) % M
    counts = np.bincount(offsets, minlength=M)
    assert counts[0] == 0  # p = 0 never keeps the state
    expected = n / (M - 1)
    assert np.all(np.abs(counts[1:] - expected) <= 5 * np.sqrt(expected))


def test_torch_backend_is_seeded_by_rng():
    first = sl.sample_chains([0.5, 0.5], 4, 1000, np.random.default_rng(9), backend="torch")
    again = sl.sample_chains([0.5, 0.5], 4, 1000, np.random.default_rng(9), backend="torch")
    other = sl.sample_chains([0.5, 0.5], 4, 1000, np.random.default_rng(10), backend="torch")
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert first.dtype == torch.int64 and first.device == resolve_device("auto")


def test_backend_and_device_are_checked():
    with pytest.raises(ValueError, match="backend"):
        sl.sample_chains([0.5], 3, 10, np.random.default_rng(0), backend="jax")
    with pytest.raises(ValueError, match="device"):
        sl.sample_chains([0.5], 3, 10, np.random.default_rng(0), backend="torch", device="nowhere")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")
