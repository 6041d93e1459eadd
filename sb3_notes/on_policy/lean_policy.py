"""A lean view of SB3's own actor-critic policy, for rollouts and updates without distribution objects.

SB3's ``OnPolicyAlgorithm.collect_rollouts`` spends most of each environment step in the policy call: tensor
conversion, one ``nn.Module`` call per layer, a torch ``Distribution`` object, sampling, and the log-probability
through that object. For SB3's own ``ActorCriticPolicy`` with a Categorical, MultiCategorical, Bernoulli or
diagonal-Gaussian distribution, :class:`LeanActorCritic` computes the same action, V(s) and log π(a|s) from the
policy's own weights (``sb3_notes.common.distributions``). :func:`fast_rollout_fallback_reason` says when it cannot:
custom policy classes, gSDE, squashed or unknown distributions, custom MLP extractors, hooks, an untested SB3.
"""

import warnings
from collections.abc import Callable
from functools import partial

import numpy as np
import stable_baselines3
import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.distributions import DiagGaussianDistribution, MultiCategoricalDistribution
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import FlattenExtractor, MlpExtractor
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.common.utils import obs_as_tensor
from torch import nn
from torch.nn import functional as F

from sb3_notes.common.distributions import LEAN_DISTRIBUTIONS, distribution_ops
from sb3_notes.common.kl import DistributionParams

_KNOWN_POLICIES = (ActorCriticPolicy, ActorCriticCnnPolicy, MultiInputActorCriticPolicy)

Layer = Callable[[th.Tensor], th.Tensor]

# The fast path writes SB3's buffer fields and drives OnPolicyAlgorithm's rollout state directly, step for step as
# SB3's own loop; it is checked against that loop (tests/test_rollout.py) on these SB3 releases only. Any other
# release falls back to SB3's code, with one warning.
TESTED_SB3_RELEASES = ("2.9",)
_warned_untested: set[str] = set()


def _untested_sb3(version: str) -> bool:
    release = ".".join(version.split(".")[:2])
    if release in TESTED_SB3_RELEASES:
        return False
    if version not in _warned_untested:
        _warned_untested.add(version)
        warnings.warn(
            f"sb3-notes' fast rollout is tested with stable-baselines3 {', '.join(TESTED_SB3_RELEASES)}.x, not {version}: "
            "rollouts use SB3's own code (same results, slower). Install a tested release for the fast path."
        )
    return True


def _has_hooks(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks)


def _lean_layers(module: nn.Module) -> list[Layer]:
    """
    The layers of an MLP as plain callables on the module's own parameters. ``F.linear`` and ``th.tanh`` are
    what ``nn.Linear`` / ``nn.Tanh`` compute, without ``nn.Module.__call__``'s bookkeeping (about half the
    cost of a small layer). A module that is not a plain layer, or carries hooks, is kept as a module call.
    """
    if _has_hooks(module):
        return [module]
    if type(module) is nn.Sequential:
        return [layer for child in module for layer in _lean_layers(child)]
    if type(module) is nn.Linear:
        return [partial(F.linear, weight=module.weight, bias=module.bias)]
    if type(module) is nn.Tanh:
        return [th.tanh]
    if type(module) is nn.ReLU and not module.inplace:
        return [th.relu]
    if type(module) is nn.Identity:
        return []
    return [module]


def _flat_box_features(policy: ActorCriticPolicy) -> bool:
    """Whether ``extract_features`` is just ``obs.float().flatten(1)`` (SB3's default for vector Box inputs)."""
    space = policy.observation_space
    extractors = (policy.pi_features_extractor, policy.vf_features_extractor)
    return (
        isinstance(space, spaces.Box)
        and not (policy.normalize_images and is_image_space(space))
        and all(type(e) is FlattenExtractor and not _has_hooks(e) and not _has_hooks(e.flatten) for e in extractors)
    )


def fast_rollout_fallback_reason(model: BaseAlgorithm) -> str | None:
    """
    Why the fast path cannot be used for this model, or ``None`` if it can.

    :param model: An SB3 algorithm with an actor-critic policy (``fast_rollout`` set, or ``True`` by default)
    :return: A short reason (for logs and tests), or ``None``
    """
    policy = model.policy
    if not getattr(model, "fast_rollout", True):
        return "fast_rollout=False"
    if _untested_sb3(stable_baselines3.__version__):
        return f"stable-baselines3 {stable_baselines3.__version__} is not among the tested releases"
    # Exact classes: a subclass may override forward / _get_action_dist_from_latent / extract_features.
    if type(policy) not in _KNOWN_POLICIES:
        return f"custom policy class {type(policy).__name__}"
    if model.use_sde or getattr(policy, "use_sde", False):
        return "gSDE"
    if policy.squash_output:
        return "squash_output=True"
    if type(policy.action_dist) not in LEAN_DISTRIBUTIONS:
        return f"distribution {type(policy.action_dist).__name__}"
    if type(policy.mlp_extractor) is not MlpExtractor or _has_hooks(policy.mlp_extractor) or _has_hooks(policy):
        return "custom mlp_extractor or forward hooks"
    return None


class LeanActorCritic:
    """
    A lean view of an SB3 ``ActorCriticPolicy`` with Categorical, MultiCategorical, Bernoulli or diagonal
    Gaussian actions, on the policy's own modules and weights:

    - :meth:`step` (rollouts, under ``torch.inference_mode()``): action, V(s) and log π(a|s) from one pass, the
      numbers of ``policy(obs)`` (log-probabilities up to float rounding), actions drawn from the same
      distribution;
    - :meth:`evaluate` (updates, differentiable): ``evaluate_actions`` plus the distribution's parameters for
      :meth:`kl`, without building distribution objects.

    It holds references to the parameters (in-place updates and ``load_state_dict`` are seen, a replaced
    module is not): build it again when modules may have changed.

    :param policy: The policy; check :func:`fast_rollout_fallback_reason` first
    """

    def __init__(self, policy: ActorCriticPolicy):
        dist = policy.action_dist
        if type(dist) not in LEAN_DISTRIBUTIONS:
            raise ValueError(f"LeanActorCritic does not know {type(dist).__name__}; use the policy itself")
        self.policy = policy
        self.device = policy.device
        self.kind = type(dist)
        self.action_dims: list[int] = list(dist.action_dims) if isinstance(dist, MultiCategoricalDistribution) else []
        log_std = policy.log_std if isinstance(dist, DiagGaussianDistribution) else None
        self.ops = distribution_ops(self.kind, self.action_dims, log_std)  # type: ignore[arg-type]
        self.action_shape: tuple[int, ...] = tuple(policy.action_space.shape or ())
        self.flat_box = _flat_box_features(policy)
        self.actor: list[Layer] = [*_lean_layers(policy.mlp_extractor.policy_net), *_lean_layers(policy.action_net)]
        self.critic: list[Layer] = [*_lean_layers(policy.mlp_extractor.value_net), *_lean_layers(policy.value_net)]

    def forward(self, obs: PyTorchObs) -> tuple[th.Tensor, th.Tensor]:
        """
        :param obs: Observations as tensors (SB3's ``obs_as_tensor`` of the VecEnv's batch)
        :return: the action net's output (logits, or Gaussian means) and the values, shape (batch, 1)
        """
        if self.flat_box:
            pi_x = vf_x = obs.float().flatten(1)  # type: ignore[union-attr]  # preprocess_obs + FlattenExtractor
        else:
            features = self.policy.extract_features(obs)
            pi_x, vf_x = (features, features) if self.policy.share_features_extractor else features
        for layer in self.actor:
            pi_x = layer(pi_x)
        for layer in self.critic:
            vf_x = layer(vf_x)
        return pi_x, vf_x

    def step(
        self, obs: np.ndarray | dict[str, np.ndarray], deterministic: bool = False
    ) -> tuple[np.ndarray, th.Tensor, th.Tensor]:
        """
        :param obs: A batch of observations as the VecEnv returns them
        :param deterministic: Take the distribution's mode instead of sampling
        :return: actions (NumPy, shape (n_envs, *action_space.shape)), values (shape (n_envs, 1)) and
            log-probabilities (shape (n_envs,)), the latter two as inference-mode tensors
        """
        with th.inference_mode():
            head, values = self.forward(obs_as_tensor(obs, self.device))  # type: ignore[arg-type]
            actions, log_prob = self.ops.sample(head, deterministic)
        return actions.cpu().numpy().reshape((-1, *self.action_shape)), values, log_prob

    def evaluate(self, obs: PyTorchObs, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor, DistributionParams]:
        """
        SB3's ``evaluate_actions`` (same values, log-probabilities and entropies up to float rounding), plus the
        distribution's parameters, all differentiable.

        :param obs: Observations (tensors on the policy's device)
        :param actions: Actions as the distribution takes them (long indices for ``Discrete``)
        :return: values (shape (batch,)), log-probabilities, entropies, and the parameters for :meth:`kl`
        """
        head, values = self.forward(obs)
        log_prob, entropy = self.ops.log_prob_entropy(head, actions)
        params = self.ops.params(head)
        return values.flatten(), log_prob, entropy, params

    def kl(self, old: DistributionParams, new: DistributionParams) -> th.Tensor:
        """
        KL(π_old ‖ π_new) per sample, in closed form.

        :param old: Parameters of the old distributions (as ``distribution_params`` gives them)
        :param new: Parameters of the new ones, from :meth:`evaluate`
        :return: KL per sample, shape (batch,)
        """
        return self.ops.kl(old, new)


def lean_view(model: BaseAlgorithm, cached: "LeanActorCritic | None", refresh: bool = False) -> "LeanActorCritic | None":
    """
    The lean view of ``model.policy``, or ``None`` when the model must use SB3's own code.

    :param model: The algorithm
    :param cached: The view built last time, reused while it still views ``model.policy``
    :param refresh: Rebuild it (at the start of a rollout or an update, when modules may have been replaced)
    :return: The view, or ``None`` (see :func:`fast_rollout_fallback_reason`)
    """
    if fast_rollout_fallback_reason(model) is not None:
        return None
    if refresh or cached is None or cached.policy is not model.policy:
        return LeanActorCritic(model.policy)  # type: ignore[arg-type]
    return cached


__all__ = ["TESTED_SB3_RELEASES", "LeanActorCritic", "fast_rollout_fallback_reason", "lean_view"]
