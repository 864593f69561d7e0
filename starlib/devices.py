"""Where torch code runs: the accelerator when there is one, the CPU otherwise.

torch is imported lazily, so the rest of starlib (the theory, the NumPy
samplers) runs without it. Introduced in :doc:`/chapters/07_finite_samples`.
"""


def torch_module():
    """Import torch, with a clear error where it is missing."""
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is pinned in requirements.txt
        raise ValueError("this needs torch; install it with `pip install -r requirements.txt`") from err
    return torch


def resolve_device(device="auto"):
    """The torch device to use: ``"auto"`` is CUDA when present, otherwise the CPU.

    Any other value (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``) is
    checked and returned as a ``torch.device``. Introduced in :doc:`/chapters/07_finite_samples`.
    """
    torch = torch_module()
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or a torch.device; got device = {device!r}") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device = {device!r} asks for CUDA, but torch sees no CUDA device here")
    return resolved
