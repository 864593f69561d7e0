"""starlib.sampling.step_major_counts, the count sampler other modules call, and the NumPy backend's device."""

import numpy as np
import pytest

import starlib as sl
from starlib import sampling, theory

P = np.array([[0.6, 0.3, 0.9], [0.2, 0.5, 0.99]])


def test_step_major_counts_are_follow_counts():
    """The same generator state gives the same counts as follow_counts, laid out step-major."""
    x = theory.step_major(P)
    kept, followed_kept, followed_failed = sampling.step_major_counts(x, 1.0 - x, 4, 500, np.random.default_rng(3))
    counts = sl.follow_counts(P, 4, 500, np.random.default_rng(3))
    assert np.array_equal(kept, counts.kept)
    assert np.array_equal(theory.from_step_major(followed_kept, P.shape), counts.followed_kept)
    assert np.array_equal(theory.from_step_major(followed_failed, P.shape), counts.followed_failed)


@pytest.mark.parametrize("kwargs, name", [
    (dict(x=P.T.copy() * 2), "x"),
    (dict(x=[[0.5, 0.5]]), "x"),
    (dict(eps=np.full((3, 2), np.nan)), "eps"),
    (dict(eps=np.full((2, 3), 0.5)), "eps"),
    (dict(M=1), "M"),
    (dict(n=2**63), "n"),
    (dict(n=0), "n"),
    (dict(rng=0), "rng"),
])
def test_step_major_counts_reject_bad_input(kwargs, name):
    x = P.T.copy()
    call = dict(x=x, eps=1.0 - x, M=4, n=10, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        sampling.step_major_counts(**call)


@pytest.mark.parametrize("device", ["tpu", "cuda", 3, None])
def test_numpy_backend_takes_only_the_cpu(device):
    with pytest.raises(ValueError, match=r"\bdevice\b"):
        sl.sample_chains([0.5, 0.7], 3, 10, np.random.default_rng(0), device=device)


def test_numpy_backend_on_the_cpu_is_the_default():
    auto = sl.sample_chains([0.5, 0.7], 3, 10, np.random.default_rng(0))
    assert np.array_equal(auto, sl.sample_chains([0.5, 0.7], 3, 10, np.random.default_rng(0), device="cpu"))
