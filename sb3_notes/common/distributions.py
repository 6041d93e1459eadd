"""The action distributions of SB3's actor-critic policies as pure functions of the action net's output.

For SB3's Categorical, MultiCategorical, Bernoulli and diagonal-Gaussian distributions: sampling (the same random
draws as torch's distributions, so a run is SB3's own), log-probability and entropy (summed over action dimensions,
as SB3's ``Distribution.log_prob`` / ``entropy``), and :func:`distribution_ops`, the one dispatch from an SB3
distribution class to those operations and its closed-form KL (``sb3_notes.common.kl``). Tensors in, tensors out.
"""

import math
from collections.abc import Callable
from typing import NamedTuple

import torch as th
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    MultiCategoricalDistribution,
)
from torch.nn import functional as F

from sb3_notes.common.kl import DistributionParams, params_kl

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
# The distributions whose sampling, log-probability and entropy are written here (gSDE and squashed Gaussians are not)
LEAN_DISTRIBUTIONS = (CategoricalDistribution, MultiCategoricalDistribution, BernoulliDistribution, DiagGaussianDistribution)


def categorical_sample(logits: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor]:
    """
    Draw a ~ Categorical(softmax(logits)) and return (a, log π(a)).

    Sampling is the exponential race a = argmin_k E_k / p_k with E_k ~ Exp(1) i.i.d., which is exactly
    Categorical(p) (the first of independent exponential clocks with rates p_k to ring is k with probability
    p_k); a category with p_k = 0 is never drawn. It costs four small kernels against ``torch.multinomial``'s
    one slow one. ``deterministic`` gives the mode, as SB3's ``get_actions(deterministic=True)``.

    :param logits: Unnormalised log-probabilities, shape (batch, n)
    :param deterministic: Return the most likely action instead of a sample
    :return: actions (long, shape (batch,)) and their log-probabilities (shape (batch,))
    """
    log_p = th.log_softmax(logits, dim=-1)
    if deterministic:
        actions = log_p.argmax(dim=-1)
    else:
        actions = (th.empty_like(log_p).exponential_() / log_p.exp()).argmin(dim=-1)
    return actions, log_p.gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def multi_categorical_sample(
    logits: th.Tensor, action_dims: list[int], deterministic: bool = False
) -> tuple[th.Tensor, th.Tensor]:
    """
    Independent categoricals, one per ``MultiDiscrete`` component; log π(a) is the sum over components.

    :param logits: Concatenated logits of all components, shape (batch, sum(action_dims))
    :param action_dims: Number of choices of each component
    :param deterministic: Return the mode of each component
    :return: actions (long, shape (batch, len(action_dims))) and log-probabilities (shape (batch,))
    """
    parts = [categorical_sample(part, deterministic) for part in th.split(logits, action_dims, dim=1)]
    return th.stack([a for a, _ in parts], dim=1), th.stack([lp for _, lp in parts], dim=1).sum(dim=1)


def bernoulli_sample(logits: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor]:
    """
    Independent bits a_i ~ Bernoulli(σ(logit_i)) (a ``MultiBinary`` action); log π(a) is summed over bits,
    computed from the logits as torch's ``Bernoulli.log_prob`` does.

    :param logits: Logits, shape (batch, n_bits)
    :param deterministic: Return round(σ(logit)) (SB3's mode) instead of a sample
    :return: actions (float 0/1, shape (batch, n_bits)) and log-probabilities (shape (batch,))
    """
    probs = th.sigmoid(logits)
    actions = th.round(probs) if deterministic else (th.rand_like(probs) < probs).to(probs.dtype)
    log_prob = -F.binary_cross_entropy_with_logits(logits, actions, reduction="none").sum(dim=1)
    return actions, log_prob


def diag_gaussian_sample(mean: th.Tensor, log_std: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor]:
    """
    a = μ + σ·ε with ε ~ N(0, I) (the unclipped action, as SB3 stores it) and
    log π(a) = Σ_i [−ε_i²/2 − log σ_i − log √(2π)], written with ε so that no division by σ is needed.

    :param mean: Means μ, shape (batch, d)
    :param log_std: log σ, shape (d,) (state-independent, SB3's ``policy.log_std``)
    :param deterministic: Return μ instead of a sample
    :return: actions (shape (batch, d)) and log-probabilities (shape (batch,))
    """
    log_norm = -(log_std + _LOG_SQRT_2PI).sum()
    if deterministic:
        return mean, log_norm.expand(mean.shape[0])
    noise = th.randn_like(mean)
    return th.addcmul(mean, noise, log_std.exp()), log_norm - 0.5 * noise.square().sum(dim=1)


def categorical_log_prob_entropy(logits: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    """
    log π(a) and the entropy H = −Σ_k p_k log p_k of Categorical(softmax(logits)), differentiable.

    :param logits: Unnormalised log-probabilities, shape (batch, n)
    :param actions: Action indices, shape (batch,)
    :return: log-probabilities and entropies, each of shape (batch,)
    """
    log_p = th.log_softmax(logits, dim=-1)
    log_prob = log_p.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    return log_prob, -(log_p.exp() * log_p).sum(dim=-1)


def multi_categorical_log_prob_entropy(
    logits: th.Tensor, actions: th.Tensor, action_dims: list[int]
) -> tuple[th.Tensor, th.Tensor]:
    """
    :func:`categorical_log_prob_entropy` of each ``MultiDiscrete`` component, summed over components.

    :param logits: Concatenated logits, shape (batch, sum(action_dims))
    :param actions: Actions, shape (batch, len(action_dims))
    :param action_dims: Number of choices of each component
    :return: log-probabilities and entropies, each of shape (batch,)
    """
    parts = [
        categorical_log_prob_entropy(part, a)
        for part, a in zip(th.split(logits, action_dims, dim=1), th.unbind(actions, dim=1), strict=True)
    ]
    return th.stack([lp for lp, _ in parts], dim=1).sum(dim=1), th.stack([h for _, h in parts], dim=1).sum(dim=1)


def bernoulli_log_prob_entropy(logits: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    """
    log π(a) and entropy of independent Bernoulli(σ(logit)) bits, summed over bits (torch's formulas).

    :param logits: Logits, shape (batch, n_bits)
    :param actions: 0/1 actions, shape (batch, n_bits)
    :return: log-probabilities and entropies, each of shape (batch,)
    """
    log_prob = -F.binary_cross_entropy_with_logits(logits, actions, reduction="none").sum(dim=1)
    entropy = F.binary_cross_entropy_with_logits(logits, th.sigmoid(logits), reduction="none").sum(dim=1)
    return log_prob, entropy


def diag_gaussian_log_prob_entropy(mean: th.Tensor, log_std: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    """
    log N(a; μ, diag σ²) = Σ_i [−z_i²/2 − log σ_i − log √(2π)], z = (a − μ)/σ, and the entropy
    Σ_i [½ + log √(2π) + log σ_i] (the same for every state, expanded to the batch).

    :param mean: Means μ, shape (batch, d)
    :param log_std: log σ, shape (d,)
    :param actions: Actions, shape (batch, d)
    :return: log-probabilities and entropies, each of shape (batch,)
    """
    z = (actions - mean) * th.exp(-log_std)
    log_prob = (-0.5 * z.square() - log_std - _LOG_SQRT_2PI).sum(dim=1)
    entropy = (0.5 + _LOG_SQRT_2PI + log_std).sum().expand(mean.shape[0])
    return log_prob, entropy


class DistributionOps(NamedTuple):
    """What the lean path does with one distribution class, given the action net's output ``head`` (logits, or
    Gaussian means)."""

    sample: Callable[[th.Tensor, bool], tuple[th.Tensor, th.Tensor]]  # (head, deterministic) -> (actions, log π(a))
    log_prob_entropy: Callable[[th.Tensor, th.Tensor], tuple[th.Tensor, th.Tensor]]  # (head, actions) -> (log π(a), H)
    params: Callable[[th.Tensor], DistributionParams]  # head -> the parameters the KL is computed from
    kl: Callable[[DistributionParams, DistributionParams], th.Tensor]  # (old, new) -> KL(old ‖ new) per sample


def distribution_ops(
    kind: type[Distribution], action_dims: list[int] | None = None, log_std: th.Tensor | None = None
) -> DistributionOps:
    """
    The one dispatch from an SB3 distribution class to its operations (the KL's own dispatch on the parameters is
    :func:`sb3_notes.common.kl.params_kl`, which ``kl`` calls).

    :param kind: The SB3 distribution class (``type(policy.action_dist)``), one of :data:`LEAN_DISTRIBUTIONS`
    :param action_dims: Number of choices of each component (MultiCategorical only)
    :param log_std: The policy's state-independent log σ (diagonal Gaussian only; read at every call, so in-place
        updates of the parameter are seen)
    :return: Its operations
    """
    dims = list(action_dims or [])

    def kl(old: DistributionParams, new: DistributionParams) -> th.Tensor:
        return params_kl(kind, old, new, dims)

    if kind is DiagGaussianDistribution:
        if log_std is None:
            raise ValueError("a diagonal Gaussian needs the policy's log_std")
        std = log_std
        return DistributionOps(
            lambda mean, deterministic: diag_gaussian_sample(mean, std, deterministic),
            lambda mean, actions: diag_gaussian_log_prob_entropy(mean, std, actions),
            lambda mean: DistributionParams(mean, std.exp().expand_as(mean)),
            kl,
        )
    if kind is MultiCategoricalDistribution:
        return DistributionOps(
            lambda logits, deterministic: multi_categorical_sample(logits, dims, deterministic),
            lambda logits, actions: multi_categorical_log_prob_entropy(logits, actions, dims),
            DistributionParams,
            kl,
        )
    if kind is BernoulliDistribution:
        return DistributionOps(bernoulli_sample, bernoulli_log_prob_entropy, DistributionParams, kl)
    if kind is CategoricalDistribution:
        return DistributionOps(categorical_sample, categorical_log_prob_entropy, DistributionParams, kl)
    raise NotImplementedError(f"No lean operations for {kind.__name__}; use the distribution object itself")


__all__ = [
    "LEAN_DISTRIBUTIONS",
    "DistributionOps",
    "bernoulli_log_prob_entropy",
    "bernoulli_sample",
    "categorical_log_prob_entropy",
    "categorical_sample",
    "diag_gaussian_log_prob_entropy",
    "diag_gaussian_sample",
    "distribution_ops",
    "multi_categorical_log_prob_entropy",
    "multi_categorical_sample",
]
