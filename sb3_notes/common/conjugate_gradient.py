"""Conjugate gradient: solve A x = b for a symmetric positive-definite A known only through x ↦ A x (notes §4).

TRPO needs the natural direction s = F⁻¹ g without ever forming the Fisher matrix F; a few conjugate-gradient
steps with Fisher-vector products (:mod:`sb3_notes.common.fisher`) give it.
"""

from collections.abc import Callable

import torch as th


def conjugate_gradient(
    fvp: Callable[[th.Tensor], th.Tensor],
    b: th.Tensor,
    max_steps: int = 10,
    residual_tol: float = 1e-10,
) -> tuple[th.Tensor, th.Tensor]:
    """
    Approximate solution of A x = b by at most ``max_steps`` conjugate-gradient steps from x₀ = 0.

    Starting from zero (sb3-contrib starts from small Gaussian noise) keeps the solver deterministic and leaves
    torch's random generator untouched, so seeding one algorithm never depends on how often another solved.
    The iteration stops early when ‖r‖² < ``residual_tol`` or when pᵀAp is not positive (A not positive-definite
    along p, e.g. a zero-damping Fisher matrix in a flat direction): the x reached so far is returned.

    Reference: Nocedal & Wright, Numerical Optimization, algorithm 5.2.

    :param fvp: The product v ↦ A v (for TRPO the Fisher-vector product, damping included)
    :param b: Right-hand side, a flat vector
    :param max_steps: Maximum number of conjugate-gradient steps (products with A)
    :param residual_tol: Stop once the squared residual norm ‖b − A x‖² is below this
    :return: The solution x and the norm of the final residual ‖b − A x‖ (a 0-dim tensor; kept by the recursion
        r ← r − α A p, so it costs no extra product)
    """
    x = th.zeros_like(b)
    residual = b.clone()
    residual_sq = residual @ residual
    direction = residual.clone()
    for _ in range(max_steps):
        if residual_sq < residual_tol:
            break
        a_direction = fvp(direction)
        curvature = direction @ a_direction
        if not curvature > 0:  # also catches NaN
            break
        alpha = residual_sq / curvature
        x += alpha * direction
        residual -= alpha * a_direction
        new_residual_sq = residual @ residual
        direction = residual + (new_residual_sq / residual_sq) * direction
        residual_sq = new_residual_sq
    return x, residual_sq.sqrt()


__all__ = ["conjugate_gradient"]
