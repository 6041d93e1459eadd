"""KL divergence between the policy that collected a rollout and the current one (notes §4).

The notes measure how far θ moved from θ' by KL(θ, θ'). We use the direction KL(π_old ‖ π_new), as the TRPO
paper's practical algorithm and the PPO paper's adaptive-penalty variant do: the expectation is taken under
the old policy, which generated the data.

Functions are pure: tensors in, tensors out, one KL value per sample (summed over action dimensions).
"""

from typing import NamedTuple

import torch as th
import torch.nn.functional as F
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    MultiCategoricalDistribution,
    StateDependentNoiseDistribution,
)


def categorical_kl(old_logits: th.Tensor, new_logits: th.Tensor) -> th.Tensor:
    """
    KL(p_old ‖ p_new) = Σ_a p_old(a) (log p_old(a) − log p_new(a)) for categorical distributions.

    :param old_logits: Unnormalised log-probabilities of the old policy, shape (batch, n)
    :param new_logits: Same for the new policy
    :return: KL per sample, shape (batch,)
    """
    old_log_p = F.log_softmax(old_logits, dim=-1)
    new_log_p = F.log_softmax(new_logits, dim=-1)
    return (old_log_p.exp() * (old_log_p - new_log_p)).sum(dim=-1)


def multi_categorical_kl(old_logits: th.Tensor, new_logits: th.Tensor, action_dims: list[int]) -> th.Tensor:
    """
    KL of independent categoricals (a ``MultiDiscrete`` action): the sum of each component's KL.

    :param old_logits: Old logits of all components, concatenated, shape (batch, sum(action_dims))
    :param new_logits: Same for the new policy
    :param action_dims: Number of choices of each component
    :return: KL per sample, shape (batch,)
    """
    pairs = zip(th.split(old_logits, action_dims, dim=-1), th.split(new_logits, action_dims, dim=-1), strict=True)
    return th.stack([categorical_kl(old, new) for old, new in pairs], dim=-1).sum(dim=-1)


def bernoulli_kl(old_logits: th.Tensor, new_logits: th.Tensor) -> th.Tensor:
    """
    KL of independent Bernoullis (a ``MultiBinary`` action), summed over the bits.
    Written with log-sigmoids so that saturated logits stay finite.

    :param old_logits: Old logits, shape (batch, n_bits)
    :param new_logits: New logits, shape (batch, n_bits)
    :return: KL per sample, shape (batch,)
    """
    old_log_p1, old_log_p0 = F.logsigmoid(old_logits), F.logsigmoid(-old_logits)
    new_log_p1, new_log_p0 = F.logsigmoid(new_logits), F.logsigmoid(-new_logits)
    kl = old_log_p1.exp() * (old_log_p1 - new_log_p1) + old_log_p0.exp() * (old_log_p0 - new_log_p0)
    return kl.sum(dim=-1)


def diag_gaussian_kl(old_mean: th.Tensor, old_std: th.Tensor, new_mean: th.Tensor, new_std: th.Tensor) -> th.Tensor:
    """
    KL(N(μ₀, σ₀²) ‖ N(μ₁, σ₁²)) = log(σ₁/σ₀) + (σ₀² + (μ₀ − μ₁)²) / (2σ₁²) − ½, summed over action dimensions.
    A tanh squashing (``squash_output=True``) is a bijection and leaves the KL unchanged.

    :param old_mean: Old means, shape (batch, d)
    :param old_std: Old standard deviations, broadcastable to (batch, d)
    :param new_mean: New means, shape (batch, d)
    :param new_std: New standard deviations, broadcastable to (batch, d)
    :return: KL per sample, shape (batch,)
    """
    var_ratio = (old_std / new_std) ** 2
    kl = 0.5 * (var_ratio + ((old_mean - new_mean) / new_std) ** 2 - 1.0 - th.log(var_ratio))
    return kl.sum(dim=-1)


def sample_kl(log_ratio: th.Tensor) -> th.Tensor:
    """
    Unbiased, non-negative sample estimator of KL(π_old ‖ π_new) from actions drawn by π_old:
    E_old[(r − 1) − log r] with r = π_new(a|s) / π_old(a|s) (Schulman, "Approximating KL divergence", k3).
    Used where no closed form exists.

    :param log_ratio: log π_new(a|s) − log π_old(a|s) for actions sampled from π_old, shape (batch,)
    :return: Per-sample estimate, shape (batch,)
    """
    return th.expm1(log_ratio) - log_ratio


# A KL is never negative, but a float32 KL between two policies that barely differ (a learning rate of 1e-8, or one
# that a schedule took to -1e-7 on SB3's last rollout) rounds to about -1e-9. Down to this margin it counts as 0.
KL_ROUNDING_TOLERANCE = 1e-6


def nonnegative_kl(kl: float) -> float:
    """
    A measured mean KL with its rounding below 0 removed: values in [−``KL_ROUNDING_TOLERANCE``, 0) become 0.0.
    NaN and larger negative values are returned as they are, for the caller to refuse.

    :param kl: A KL divergence computed in floating point
    :return: ``kl``, or 0.0 where it is negative only by rounding
    """
    return 0.0 if -KL_ROUNDING_TOLERANCE <= kl < 0 else kl


class DistributionParams(NamedTuple):
    """
    Detached parameters of a batch of action distributions, enough to recompute the KL analytically.

    ``first`` holds logits (categorical kinds) or means (Gaussian kinds); ``second`` holds the standard
    deviations of Gaussian kinds and is ``None`` otherwise.
    """

    first: th.Tensor
    second: th.Tensor | None = None

    def take(self, idx: th.Tensor | slice) -> "DistributionParams":
        """
        Rows ``idx`` of every parameter (for a minibatch).

        :param idx: Row indices or a slice
        :return: The selected rows
        """
        return DistributionParams(self.first[idx], None if self.second is None else self.second[idx])


def has_analytic_kl(distribution: Distribution) -> bool:
    """
    Whether :func:`analytic_kl` has a closed form for this SB3 distribution.

    :param distribution: An SB3 distribution
    :return: ``True`` for Categorical, MultiCategorical, Bernoulli, (squashed) diagonal Gaussian and gSDE
    """
    return isinstance(
        distribution,
        (
            CategoricalDistribution,
            MultiCategoricalDistribution,
            BernoulliDistribution,
            DiagGaussianDistribution,  # SquashedDiagGaussianDistribution is a subclass
            StateDependentNoiseDistribution,
        ),
    )


def distribution_params(distribution: Distribution) -> DistributionParams:
    """
    The parameters of an SB3 distribution on which :func:`analytic_kl` works (not detached).

    :param distribution: SB3 distribution after ``proba_distribution(...)``
    :return: logits, or (mean, std) expanded to the batch shape
    """
    torch_dist = distribution.distribution
    if isinstance(distribution, (DiagGaussianDistribution, StateDependentNoiseDistribution)):
        return DistributionParams(torch_dist.mean, torch_dist.stddev.expand_as(torch_dist.mean))  # type: ignore[union-attr]
    if isinstance(distribution, MultiCategoricalDistribution):
        return DistributionParams(th.cat([d.logits for d in torch_dist], dim=-1))  # type: ignore[union-attr]
    if isinstance(distribution, (CategoricalDistribution, BernoulliDistribution)):
        return DistributionParams(torch_dist.logits)  # type: ignore[union-attr]
    raise NotImplementedError(f"No closed-form KL for {type(distribution).__name__}; use sample_kl")


def params_kl(kind: type[Distribution], old: DistributionParams, new: DistributionParams, action_dims: list[int]) -> th.Tensor:
    """
    KL(π_old ‖ π_new) per sample from the two distributions' parameters, for an SB3 distribution class.

    :param kind: The SB3 distribution class (Categorical, MultiCategorical, Bernoulli, (squashed) diagonal
        Gaussian or gSDE)
    :param old: Parameters of the old distributions (detached)
    :param new: Parameters of the new distributions on the same states
    :param action_dims: Number of choices of each component (MultiCategorical only)
    :return: KL per sample, shape (batch,)
    """
    if issubclass(kind, (DiagGaussianDistribution, StateDependentNoiseDistribution)):
        assert old.second is not None and new.second is not None
        return diag_gaussian_kl(old.first, old.second, new.first, new.second)
    if issubclass(kind, MultiCategoricalDistribution):
        return multi_categorical_kl(old.first, new.first, action_dims)
    if issubclass(kind, BernoulliDistribution):
        return bernoulli_kl(old.first, new.first)
    if issubclass(kind, CategoricalDistribution):
        return categorical_kl(old.first, new.first)
    raise NotImplementedError(f"No closed-form KL for {kind.__name__}; use sample_kl")


def analytic_kl(old: DistributionParams, new_distribution: Distribution) -> th.Tensor:
    """
    KL(π_old ‖ π_new) per sample, in closed form, for SB3's Categorical, MultiCategorical, Bernoulli,
    diagonal Gaussian (squashed or not) and gSDE distributions.

    :param old: Parameters of the old distributions (from :func:`distribution_params`, detached)
    :param new_distribution: The current SB3 distribution on the same states
    :return: KL per sample, shape (batch,)
    """
    multi = isinstance(new_distribution, MultiCategoricalDistribution)
    action_dims = list(new_distribution.action_dims) if multi else []  # type: ignore[attr-defined]
    return params_kl(type(new_distribution), old, distribution_params(new_distribution), action_dims)
