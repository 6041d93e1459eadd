"""Conjugate gradient against numbers worked out by hand and against a dense solve."""

import numpy as np
import torch as th

from sb3_notes.common.conjugate_gradient import conjugate_gradient


def matvec(matrix: th.Tensor):
    return lambda v: matrix @ v


def test_one_step_by_hand():
    # A = [[4, 1], [1, 3]], b = (1, 2): r0 = p0 = b, A p0 = (6, 7), α = bᵀb / p0ᵀAp0 = 5 / 20 = 1/4,
    # x1 = (1/4, 1/2), r1 = b − α A p0 = (−1/2, 1/4), ‖r1‖ = sqrt(5/16).
    a = th.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=th.float64)
    b = th.tensor([1.0, 2.0], dtype=th.float64)
    x, residual = conjugate_gradient(matvec(a), b, max_steps=1)
    th.testing.assert_close(x, th.tensor([0.25, 0.5], dtype=th.float64))
    th.testing.assert_close(residual, th.tensor(np.sqrt(5 / 16), dtype=th.float64))


def test_two_by_two_is_exact_after_two_steps():
    # Exact solution of [[4, 1], [1, 3]] x = (1, 2): x = (1/11, 7/11)
    a = th.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=th.float64)
    b = th.tensor([1.0, 2.0], dtype=th.float64)
    x, residual = conjugate_gradient(matvec(a), b, max_steps=2)
    th.testing.assert_close(x, th.tensor([1 / 11, 7 / 11], dtype=th.float64))
    assert residual < 1e-12


def test_random_spd_system_matches_dense_solve():
    gen = th.Generator().manual_seed(0)
    n = 12
    q, _ = th.linalg.qr(th.randn(n, n, generator=gen, dtype=th.float64))
    a = q @ th.diag(th.linspace(0.5, 20.0, n, dtype=th.float64)) @ q.T
    b = th.randn(n, generator=gen, dtype=th.float64)
    x, residual = conjugate_gradient(matvec(a), b, max_steps=n, residual_tol=1e-30)
    expected = th.from_numpy(np.linalg.solve(a.numpy(), b.numpy()))
    th.testing.assert_close(x, expected, rtol=1e-9, atol=1e-9)
    # the returned residual is the true one, ‖b − A x‖
    th.testing.assert_close(residual, th.linalg.norm(b - a @ x), atol=1e-9, rtol=0)


def test_converges_in_as_many_steps_as_distinct_eigenvalues():
    # diag(1, 1, 2, 2, 5) has 3 distinct eigenvalues: CG is exact after 3 products
    a = th.diag(th.tensor([1.0, 1.0, 2.0, 2.0, 5.0], dtype=th.float64))
    b = th.tensor([1.0, -2.0, 3.0, 0.5, 5.0], dtype=th.float64)
    calls = []

    def fvp(v):
        calls.append(1)
        return a @ v

    x, residual = conjugate_gradient(fvp, b, max_steps=10)
    th.testing.assert_close(x, b / th.diag(a))
    assert residual < 1e-5  # below sqrt(residual_tol)
    assert len(calls) == 3


def test_partial_solve_reports_a_nonzero_residual():
    n = 6
    a = th.diag(th.arange(1.0, n + 1, dtype=th.float64))
    b = th.ones(n, dtype=th.float64)
    x, residual = conjugate_gradient(matvec(a), b, max_steps=2)
    th.testing.assert_close(residual, th.linalg.norm(b - a @ x))
    assert residual > 1e-3


def test_zero_right_hand_side_returns_zero_without_products():
    def fvp(v):
        raise AssertionError("no product needed")

    x, residual = conjugate_gradient(fvp, th.zeros(4), max_steps=5)
    assert th.equal(x, th.zeros(4)) and residual == 0


def test_stops_on_non_positive_curvature():
    # A = 0: pᵀAp = 0 at the first step; the solver returns x = 0 instead of dividing by zero
    x, residual = conjugate_gradient(lambda v: th.zeros_like(v), th.ones(3), max_steps=5)
    assert th.equal(x, th.zeros(3))
    th.testing.assert_close(residual, th.tensor(3.0).sqrt())
