"""Fisher-vector products and flat-parameter helpers for natural-gradient steps (notes §4, TRPO).

At θ = θ_old the Hessian of the mean KL(π_old ‖ π_θ) is the Fisher information matrix F of the policy, so
F v is one more backward pass through the gradient of the KL (Pearlmutter's trick), without forming F.
"""

from collections.abc import Callable, Sequence

import torch as th


def flat_grad(
    output: th.Tensor, params: Sequence[th.Tensor], retain_graph: bool | None = None, create_graph: bool = False
) -> th.Tensor:
    """
    Gradient of a scalar with respect to ``params``, concatenated into one flat vector.
    A parameter the output does not depend on contributes zeros (not an error).

    :param output: Scalar tensor
    :param params: Parameters, in the order of the flat vector
    :param retain_graph: Keep the graph for another backward pass (default: ``create_graph``)
    :param create_graph: Build the graph of the gradient itself (needed to differentiate it again)
    :return: Flat gradient, shape (sum of the parameters' sizes,)
    """
    grads = th.autograd.grad(output, params, retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)
    return th.cat([(th.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(params, grads, strict=True)])


def fisher_vector_product(mean_kl: th.Tensor, params: Sequence[th.Tensor], damping: float) -> Callable[[th.Tensor], th.Tensor]:
    """
    The map v ↦ (∇²_θ KL̄ + damping·I) v, where KL̄ = mean KL(π_old ‖ π_θ) over a batch of states.

    Evaluated at θ = θ_old (π_old the detached copy of π_θ) the Hessian is the Fisher matrix F; ``damping`` keeps
    F + damping·I positive-definite for conjugate gradient (F is singular in over-parameterised networks).
    The graph of ``mean_kl`` is kept, so the returned function may be called many times.

    :param mean_kl: Mean KL(π_old ‖ π_θ), a scalar still attached to ``params``
    :param params: The policy parameters θ the Fisher matrix is taken over (the actor's)
    :param damping: Multiple of the identity added to the Hessian (``cg_damping``)
    :return: The Fisher-vector product, flat vector in, flat vector out
    """
    grad_kl = flat_grad(mean_kl, params, create_graph=True)

    def fvp(vector: th.Tensor) -> th.Tensor:
        if not grad_kl.requires_grad:  # the KL does not depend on params: zero Hessian
            return damping * vector
        return flat_grad(grad_kl @ vector.detach(), params, retain_graph=True) + damping * vector

    return fvp


def flat_params(params: Sequence[th.Tensor]) -> th.Tensor:
    """
    The parameters' current values concatenated into one detached flat vector (a copy).

    :param params: The parameters, in a fixed order
    :return: Their values, flattened and concatenated
    """
    return th.cat([p.detach().reshape(-1) for p in params]).clone()


@th.no_grad()
def set_flat_params(params: Sequence[th.Tensor], flat: th.Tensor) -> None:
    """
    Write a flat vector back into the parameters, in place (the inverse of :func:`flat_params`).
    Values are copied, so writing back an earlier :func:`flat_params` restores the parameters bit for bit.

    :param params: Parameters, in the order of ``flat``
    :param flat: Flat vector with one entry per parameter element
    """
    offset = 0
    for p in params:
        n = p.numel()
        p.copy_(flat[offset : offset + n].view_as(p))
        offset += n
    if offset != flat.numel():
        raise ValueError(f"flat vector has {flat.numel()} entries but the parameters have {offset}")


__all__ = ["fisher_vector_product", "flat_grad", "flat_params", "set_flat_params"]
