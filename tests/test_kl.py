"""Analytic KL(π_old ‖ π_new) against torch.distributions.kl_divergence, an independent implementation."""

import pytest
import torch as th
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
    SquashedDiagGaussianDistribution,
    StateDependentNoiseDistribution,
)
from torch.distributions import Bernoulli, Categorical, Normal, kl_divergence

from sb3_notes.common.kl import (
    analytic_kl,
    bernoulli_kl,
    categorical_kl,
    diag_gaussian_kl,
    distribution_params,
    has_analytic_kl,
    multi_categorical_kl,
    sample_kl,
)

BATCH = 7


@pytest.fixture(autouse=True)
def _seed():
    th.manual_seed(0)


def test_categorical_kl_matches_torch():
    old, new = th.randn(BATCH, 5) * 2, th.randn(BATCH, 5) * 2
    expected = kl_divergence(Categorical(logits=old), Categorical(logits=new))
    th.testing.assert_close(categorical_kl(old, new), expected)


def test_categorical_kl_by_hand():
    # p = (1/2, 1/2), q = (1/4, 3/4): KL = ½ log 2 + ½ log(2/3)
    old = th.log(th.tensor([[0.5, 0.5]]))
    new = th.log(th.tensor([[0.25, 0.75]]))
    expected = 0.5 * th.log(th.tensor(2.0)) + 0.5 * th.log(th.tensor(2.0 / 3.0))
    th.testing.assert_close(categorical_kl(old, new), expected.reshape(1))


def test_multi_categorical_kl_is_sum_of_components():
    dims = [3, 2, 4]
    old, new = th.randn(BATCH, sum(dims)), th.randn(BATCH, sum(dims))
    expected = sum(
        kl_divergence(Categorical(logits=o), Categorical(logits=n))
        for o, n in zip(th.split(old, dims, dim=1), th.split(new, dims, dim=1), strict=True)
    )
    th.testing.assert_close(multi_categorical_kl(old, new, dims), expected)


def test_bernoulli_kl_matches_torch_and_stays_finite_when_saturated():
    old, new = th.randn(BATCH, 3) * 3, th.randn(BATCH, 3) * 3
    expected = kl_divergence(Bernoulli(logits=old), Bernoulli(logits=new)).sum(dim=1)
    th.testing.assert_close(bernoulli_kl(old, new), expected)
    assert th.isfinite(bernoulli_kl(th.full((1, 2), 60.0), th.full((1, 2), -60.0))).all()


def test_diag_gaussian_kl_matches_torch():
    mu0, mu1 = th.randn(BATCH, 2), th.randn(BATCH, 2)
    s0, s1 = th.rand(BATCH, 2) + 0.1, th.rand(BATCH, 2) + 0.1
    expected = kl_divergence(Normal(mu0, s0), Normal(mu1, s1)).sum(dim=1)
    th.testing.assert_close(diag_gaussian_kl(mu0, s0, mu1, s1), expected)


def _sb3_distribution_pairs():
    """(old SB3 distribution, new SB3 distribution, torch KL per sample) for each supported kind."""
    cat_old, cat_new = CategoricalDistribution(4), CategoricalDistribution(4)
    lo, ln = th.randn(BATCH, 4), th.randn(BATCH, 4)
    yield "categorical", cat_old.proba_distribution(lo), cat_new.proba_distribution(ln)

    multi = [3, 2]
    yield (
        "multi_categorical",
        MultiCategoricalDistribution(multi).proba_distribution(th.randn(BATCH, 5)),
        MultiCategoricalDistribution(multi).proba_distribution(th.randn(BATCH, 5)),
    )
    yield (
        "bernoulli",
        BernoulliDistribution(3).proba_distribution(th.randn(BATCH, 3)),
        BernoulliDistribution(3).proba_distribution(th.randn(BATCH, 3)),
    )
    yield (
        "diag_gaussian",
        DiagGaussianDistribution(2).proba_distribution(th.randn(BATCH, 2), th.randn(2) * 0.3),
        DiagGaussianDistribution(2).proba_distribution(th.randn(BATCH, 2), th.randn(2) * 0.3),
    )
    yield (
        "squashed_gaussian",
        SquashedDiagGaussianDistribution(2).proba_distribution(th.randn(BATCH, 2), th.randn(2) * 0.3),
        SquashedDiagGaussianDistribution(2).proba_distribution(th.randn(BATCH, 2), th.randn(2) * 0.3),
    )
    sde = StateDependentNoiseDistribution(2)
    sde.proba_distribution_net(latent_dim=3)
    latent = th.randn(BATCH, 3)
    yield (
        "gsde",
        sde.proba_distribution(th.randn(BATCH, 2), th.randn(3, 2) * 0.3, latent),
        StateDependentNoiseDistribution(2).proba_distribution(th.randn(BATCH, 2), th.randn(3, 2) * 0.3, latent),
    )


def _torch_kl(old, new) -> th.Tensor:
    if isinstance(old.distribution, list):
        return sum(kl_divergence(o, n) for o, n in zip(old.distribution, new.distribution, strict=True))
    kl = kl_divergence(old.distribution, new.distribution)
    return kl if kl.dim() == 1 else kl.sum(dim=1)


@pytest.mark.parametrize("kind", [pair[0] for pair in _sb3_distribution_pairs()])
def test_analytic_kl_on_sb3_distributions_matches_torch(kind):
    th.manual_seed(1)
    _, old, new = next(p for p in _sb3_distribution_pairs() if p[0] == kind)
    assert has_analytic_kl(new)
    old_params = distribution_params(old)
    th.testing.assert_close(analytic_kl(old_params, new), _torch_kl(old, new))
    # an unchanged policy is at KL 0
    th.testing.assert_close(analytic_kl(old_params, old), th.zeros(BATCH), atol=1e-6, rtol=0)


def test_sample_estimator_has_the_kl_as_its_exact_expectation():
    # E_{a~p_old}[(r − 1) − log r] = Σ_a p_old (p_new/p_old − 1) − Σ_a p_old log(p_new/p_old) = 0 + KL
    old, new = th.randn(1, 6), th.randn(1, 6)
    p_old = th.softmax(old, dim=-1)
    log_ratio = th.log_softmax(new, dim=-1) - th.log_softmax(old, dim=-1)
    expectation = (p_old * sample_kl(log_ratio)).sum(dim=-1)
    th.testing.assert_close(expectation, categorical_kl(old, new))
    assert (sample_kl(th.randn(100) * 3) >= 0).all()
