"""Small helpers shared by several test files."""

import torch as th


def perturb(policy: th.nn.Module, scale: float, seed: int) -> None:
    """Add N(0, scale²) noise to every parameter, from a generator of its own (the global RNG is left alone)."""
    gen = th.Generator().manual_seed(seed)
    with th.no_grad():
        for p in policy.parameters():
            p.add_(th.randn(p.shape, generator=gen) * scale)
