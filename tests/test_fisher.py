"""The Fisher-vector product against the full Hessian of the mean KL (torch.autograd.functional.hessian) and,
for a categorical policy, against the Fisher matrix E[∇log π ∇log πᵀ] summed over every action."""

import pytest
import torch as th
from stable_baselines3.common.distributions import CategoricalDistribution, DiagGaussianDistribution
from torch.autograd.functional import hessian

from sb3_notes.common.fisher import fisher_vector_product, flat_grad, flat_params, set_flat_params
from sb3_notes.common.kl import DistributionParams, analytic_kl, distribution_params

OBS_DIM, HIDDEN, N_ACTIONS, ACTION_DIM, BATCH = 3, 4, 3, 2, 6
DAMPING = 0.1


def shapes(kind: str) -> list[tuple[int, ...]]:
    out_dim = N_ACTIONS if kind == "categorical" else ACTION_DIM
    layers = [(OBS_DIM, HIDDEN), (HIDDEN,), (HIDDEN, out_dim), (out_dim,)]
    return [*layers, (ACTION_DIM,)] if kind == "gaussian" else layers


def unflatten(theta: th.Tensor, kind: str) -> list[th.Tensor]:
    params, offset = [], 0
    for shape in shapes(kind):
        n = int(th.tensor(shape).prod())
        params.append(theta[offset : offset + n].view(shape))
        offset += n
    return params


def distribution(params: list[th.Tensor], obs: th.Tensor, kind: str):
    """A tiny two-layer policy: logits (categorical) or mean and state-independent log_std (Gaussian)."""
    w1, b1, w2, b2 = params[:4]
    out = th.tanh(obs @ w1 + b1) @ w2 + b2
    if kind == "categorical":
        return CategoricalDistribution(N_ACTIONS).proba_distribution(out)
    return DiagGaussianDistribution(ACTION_DIM).proba_distribution(out, params[4])


def detached(params: DistributionParams) -> DistributionParams:
    return DistributionParams(params.first.detach(), None if params.second is None else params.second.detach())


@pytest.fixture
def case(request):
    gen = th.Generator().manual_seed(0)
    kind = request.param
    n = sum(int(th.tensor(s).prod()) for s in shapes(kind))
    theta0 = th.randn(n, generator=gen, dtype=th.float64)
    obs = th.randn(BATCH, OBS_DIM, generator=gen, dtype=th.float64)
    return kind, theta0, obs, gen


@pytest.mark.parametrize("case", ["categorical", "gaussian"], indirect=True)
def test_fisher_vector_product_equals_hessian_of_mean_kl_times_v(case):
    kind, theta0, obs, gen = case
    old = detached(distribution_params(distribution(unflatten(theta0, kind), obs, kind)))

    def mean_kl(theta: th.Tensor) -> th.Tensor:
        return analytic_kl(old, distribution(unflatten(theta, kind), obs, kind)).mean()

    full_hessian = hessian(mean_kl, theta0)

    params = [p.clone().requires_grad_(True) for p in unflatten(theta0, kind)]
    fvp = fisher_vector_product(analytic_kl(old, distribution(params, obs, kind)).mean(), params, DAMPING)
    for _ in range(3):  # the graph is kept: several products from one call
        v = th.randn(len(theta0), generator=gen, dtype=th.float64)
        th.testing.assert_close(fvp(v), full_hessian @ v + DAMPING * v)


@pytest.mark.parametrize("case", ["categorical"], indirect=True)
def test_hessian_of_kl_at_old_policy_is_the_fisher_matrix(case):
    kind, theta0, obs, _ = case
    params = [p.clone().requires_grad_(True) for p in unflatten(theta0, kind)]
    dist = distribution(params, obs, kind)
    # F = mean over states of Σ_a π(a|s) ∇log π(a|s) ∇log π(a|s)ᵀ, by enumeration of the actions
    log_p = dist.distribution.logits.log_softmax(-1)
    fisher = th.zeros(len(theta0), len(theta0), dtype=th.float64)
    for s in range(BATCH):
        for a in range(N_ACTIONS):
            grad = flat_grad(log_p[s, a], params, retain_graph=True)
            fisher += log_p[s, a].exp().detach() * th.outer(grad, grad) / BATCH
    fvp = fisher_vector_product(analytic_kl(detached(distribution_params(dist)), dist).mean(), params, 0.0)
    eye = th.eye(len(theta0), dtype=th.float64)
    th.testing.assert_close(th.stack([fvp(e) for e in eye], dim=1), fisher)


def test_fvp_of_a_kl_independent_of_params_is_damping_only():
    p = th.ones(3, requires_grad=True)
    constant_kl = th.tensor(0.0)
    fvp = fisher_vector_product(constant_kl.requires_grad_(True), [p], 0.5)
    th.testing.assert_close(fvp(th.tensor([1.0, 2.0, 3.0])), th.tensor([0.5, 1.0, 1.5]))


def test_flat_grad_fills_unused_params_with_zeros():
    a, b = th.tensor([1.0, 2.0], requires_grad=True), th.ones(2, 2, requires_grad=True)
    th.testing.assert_close(flat_grad((3 * a).sum(), [a, b]), th.tensor([3.0, 3.0, 0.0, 0.0, 0.0, 0.0]))


def test_set_flat_params_restores_bit_for_bit():
    params = [th.nn.Parameter(th.randn(2, 3)), th.nn.Parameter(th.randn(4))]
    saved = [p.detach().clone() for p in params]
    flat = flat_params(params)
    set_flat_params(params, flat + 0.1234567)
    assert not th.equal(params[0], saved[0])
    set_flat_params(params, flat)
    assert all(th.equal(p, s) for p, s in zip(params, saved, strict=True))
    with pytest.raises(ValueError, match="entries"):
        set_flat_params(params, th.zeros(11))
