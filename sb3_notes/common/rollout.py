"""Fast rollout collection for the on-policy algorithms (PPOPenalty, TRPO, REINFORCE).

SB3's ``OnPolicyAlgorithm.collect_rollouts`` spends most of each environment step in the policy call: tensor
conversion, one ``nn.Module`` call per layer, a torch ``Distribution`` object, sampling by ``torch.multinomial``
and the log-probability through that object. For SB3's own ``ActorCriticPolicy`` with a Categorical,
MultiCategorical, Bernoulli or diagonal-Gaussian distribution, :class:`LeanActorCritic` computes the same action,
V(s) and log π(a|s) under ``torch.inference_mode()`` from the policy's own weights, without distribution objects,
and :class:`FastRolloutMixin` fills the buffer exactly as SB3's loop does (same steps, callbacks, time-limit
bootstrap, episode starts, clipping). ``LeanActorCritic.evaluate`` is the differentiable twin for ``train()``.

Everything else (custom policy classes, gSDE, squashed or unknown distributions, custom MLP extractors, hooks)
falls back to SB3's own code, so a policy that this module does not know is never mis-sampled.

The per-distribution helpers are pure functions (tensors in, tensors out); log-probabilities and entropies are
summed over action dimensions, as SB3's ``Distribution.log_prob`` / ``entropy`` do.
"""

import math
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import stable_baselines3
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import FlattenExtractor, MlpExtractor
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv
from torch import nn
from torch.nn import functional as F

from sb3_notes.common.finite import check_env_step
from sb3_notes.common.kl import DistributionParams, params_kl

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
_KNOWN_POLICIES = (ActorCriticPolicy, ActorCriticCnnPolicy, MultiInputActorCriticPolicy)
_KNOWN_DISTRIBUTIONS = (CategoricalDistribution, MultiCategoricalDistribution, BernoulliDistribution, DiagGaussianDistribution)

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


def fast_rollout_fallback_reason(model: OnPolicyAlgorithm) -> str | None:
    """
    Why the fast path cannot be used for this model, or ``None`` if it can.

    :param model: An SB3 on-policy algorithm (with ``fast_rollout`` set, or ``True`` by default)
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
    if type(policy.action_dist) not in _KNOWN_DISTRIBUTIONS:
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
        if type(dist) not in _KNOWN_DISTRIBUTIONS:
            raise ValueError(f"LeanActorCritic does not know {type(dist).__name__}; use the policy itself")
        self.policy = policy
        self.device = policy.device
        self.kind = type(dist)
        self.action_dims: list[int] = list(dist.action_dims) if isinstance(dist, MultiCategoricalDistribution) else []
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
            if self.kind is CategoricalDistribution:
                actions, log_prob = categorical_sample(head, deterministic)
            elif self.kind is MultiCategoricalDistribution:
                actions, log_prob = multi_categorical_sample(head, self.action_dims, deterministic)
            elif self.kind is BernoulliDistribution:
                actions, log_prob = bernoulli_sample(head, deterministic)
            else:
                actions, log_prob = diag_gaussian_sample(head, self.policy.log_std, deterministic)
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
        if self.kind is CategoricalDistribution:
            log_prob, entropy = categorical_log_prob_entropy(head, actions)
            params = DistributionParams(head)
        elif self.kind is MultiCategoricalDistribution:
            log_prob, entropy = multi_categorical_log_prob_entropy(head, actions, self.action_dims)
            params = DistributionParams(head)
        elif self.kind is BernoulliDistribution:
            log_prob, entropy = bernoulli_log_prob_entropy(head, actions)
            params = DistributionParams(head)
        else:
            log_std = self.policy.log_std
            log_prob, entropy = diag_gaussian_log_prob_entropy(head, log_std, actions)
            params = DistributionParams(head, log_std.exp().expand_as(head))
        return values.flatten(), log_prob, entropy, params

    def kl(self, old: DistributionParams, new: DistributionParams) -> th.Tensor:
        """
        KL(π_old ‖ π_new) per sample, in closed form (``sb3_notes.common.kl.params_kl``).

        :param old: Parameters of the old distributions (as ``distribution_params`` gives them)
        :param new: Parameters of the new ones, from :meth:`evaluate`
        :return: KL per sample, shape (batch,)
        """
        return params_kl(self.kind, old, new, self.action_dims)


class FastRolloutMixin:
    """
    Put before ``OnPolicyAlgorithm`` in an algorithm's bases (after ``CheckedLoadMixin``).
    ``collect_rollouts`` takes the fast path when :func:`fast_rollout_fallback_reason` allows it and SB3's own
    loop otherwise; the path taken is kept in ``self.fast_path_taken`` and logged as ``rollout/fast_path``
    (1 fast, 0 SB3). :meth:`lean_policy` gives the same lean view to an algorithm's ``train()``. The algorithm
    sets ``self.fast_rollout`` (its constructor switch) in ``__init__``; it is saved with the model.
    """

    fast_rollout: bool = True
    fast_path_taken: bool | None = None
    _lean_cache: LeanActorCritic | None = None
    # Tests only: collect with each distribution's mode, to compare buffers with SB3's deterministic forward.
    _deterministic_rollout: bool = False

    def lean_policy(self, refresh: bool = False) -> LeanActorCritic | None:
        """
        The lean view of ``self.policy``, or ``None`` when the model must use SB3's own path (see
        :func:`fast_rollout_fallback_reason`).

        :param refresh: Rebuild the view (call at the start of a rollout or an update, when modules may have
            been replaced since the last one)
        :return: The cached view for the current policy, or ``None``
        """
        model: Any = self
        if fast_rollout_fallback_reason(model) is not None:
            return None
        if refresh or self._lean_cache is None or self._lean_cache.policy is not model.policy:
            self._lean_cache = LeanActorCritic(model.policy)
        return self._lean_cache

    def _excluded_save_params(self) -> list[str]:
        # The view holds references to the policy's parameters; it is rebuilt after loading.
        return [*super()._excluded_save_params(), "_lean_cache"]  # type: ignore[misc]

    def collect_rollouts(
        self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
    ) -> bool:
        """
        Collect experiences using the current policy and fill a ``RolloutBuffer``, as SB3's
        ``OnPolicyAlgorithm.collect_rollouts`` (same arguments, same result).

        :param env: The training environment
        :param callback: Callback that will be called at each step
            (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with rollouts
        :param n_rollout_steps: Number of experiences to collect per environment
        :return: True if function returned with at least `n_rollout_steps`
            collected, False if callback terminated rollout prematurely.
        """
        model: Any = self
        lean = self.lean_policy(refresh=True)
        self.fast_path_taken = lean is not None
        model.logger.record("rollout/fast_path", int(self.fast_path_taken))
        if lean is None:
            checked = StepCheckCallback(callback, type(self).__name__)
            return super().collect_rollouts(env, checked, rollout_buffer, n_rollout_steps)  # type: ignore[misc]
        return _collect_fast(model, lean, env, callback, rollout_buffer, n_rollout_steps)


class StepCheckCallback(BaseCallback):
    """
    The user's callback, for SB3's own rollout loop, with every env step checked first for a non-finite reward or
    observation (:func:`~sb3_notes.common.finite.check_env_step`). SB3's loop hands its locals to the callback right
    after ``env.step`` and before it stores the step, so the check runs before the buffer or the policy sees the
    numbers, as the fast path's does.

    :param callback: The callback of ``learn`` (already initialised)
    :param algorithm: The algorithm's name, for the message
    """

    def __init__(self, callback: BaseCallback, algorithm: str):
        super().__init__()
        self.callback, self.algorithm = callback, algorithm

    def update_locals(self, locals_: dict[str, Any]) -> None:
        self.locals = locals_
        self.callback.update_locals(locals_)

    def on_step(self) -> bool:
        step = self.locals["self"].num_timesteps
        check_env_step(self.algorithm, step, self.locals["new_obs"], self.locals["rewards"])
        return self.callback.on_step()

    def _on_step(self) -> bool:  # pragma: no cover - on_step is overridden
        return True

    def on_rollout_start(self) -> None:
        self.callback.on_rollout_start()

    def on_rollout_end(self) -> None:
        self.callback.on_rollout_end()


def _collect_fast(
    self: Any, lean: LeanActorCritic, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
) -> bool:
    # Written as SB3's loop, step for step, with the same local names (callbacks read them via ``locals()``).
    assert self._last_obs is not None, "No previous observation was provided"
    self.policy.set_training_mode(False)
    deterministic = self._deterministic_rollout
    box = isinstance(self.action_space, spaces.Box)
    discrete = isinstance(self.action_space, spaces.Discrete)

    n_steps = 0
    rollout_buffer.reset()
    callback.on_rollout_start()

    while n_steps < n_rollout_steps:
        actions, values, log_probs = lean.step(self._last_obs, deterministic)
        # Unbounded Gaussian samples are clipped for the env; the buffer keeps the unclipped action.
        clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high) if box else actions

        new_obs, rewards, dones, infos = env.step(clipped_actions)

        self.num_timesteps += env.num_envs
        check_env_step(type(self).__name__, self.num_timesteps, new_obs, rewards)  # before the policy or buffer sees them

        callback.update_locals(locals())
        if not callback.on_step():
            return False

        self._update_info_buffer(infos, dones)
        n_steps += 1

        if discrete:
            actions = actions.reshape(-1, 1)

        if dones.any():
            bootstrap_truncated(self.policy, rewards, dones, infos, self.gamma)

        add_to_buffer(rollout_buffer, self._last_obs, actions, rewards, self._last_episode_starts, values, log_probs)
        self._last_obs = new_obs
        self._last_episode_starts = dones

    with th.no_grad():
        # Compute value for the last timestep
        values = self.policy.predict_values(obs_as_tensor(new_obs, self.device))  # type: ignore[arg-type]

    rollout_buffer.compute_returns_and_advantage(last_values=values, dones=dones)

    callback.update_locals(locals())

    callback.on_rollout_end()

    return True


def add_to_buffer(
    rollout_buffer: RolloutBuffer,
    obs: Any,
    actions: np.ndarray,
    rewards: np.ndarray,
    episode_starts: np.ndarray,
    values: th.Tensor,
    log_probs: th.Tensor,
) -> None:
    """
    ``rollout_buffer.add(...)``; for SB3's plain ``RolloutBuffer`` the same writes without its defensive
    copies and tensor clones (a third of the per-step cost of the lean loop). Subclasses keep their own ``add``.

    :param rollout_buffer: The buffer to write to
    :param obs: Observations s_t the actions were chosen on
    :param actions: Actions a_t
    :param rewards: Rewards r_t (time-limit bootstrap already added)
    :param episode_starts: Whether s_t starts an episode
    :param values: V(s_t), shape (n_envs, 1)
    :param log_probs: log π(a_t|s_t), shape (n_envs,)
    """
    if type(rollout_buffer) is not RolloutBuffer:
        rollout_buffer.add(obs, actions, rewards, episode_starts, values, log_probs)
        return
    buf, pos = rollout_buffer, rollout_buffer.pos
    if isinstance(buf.observation_space, spaces.Discrete):
        obs = obs.reshape((buf.n_envs, *buf.obs_shape))
    buf.observations[pos] = obs
    buf.actions[pos] = actions.reshape((buf.n_envs, buf.action_dim))
    buf.rewards[pos] = rewards
    buf.episode_starts[pos] = episode_starts
    buf.values[pos] = values.cpu().numpy().ravel()
    buf.log_probs[pos] = log_probs.cpu().numpy()
    buf.pos = pos + 1
    if buf.pos == buf.buffer_size:
        buf.full = True


def bootstrap_truncated(
    policy: ActorCriticPolicy, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]], gamma: float
) -> None:
    """
    Time-limit bootstrap (SB3 issue #633): for every env whose episode was cut by a time limit, add
    γ·V(terminal observation) to its reward, in place. One forward per truncated env, as SB3 does: a batched
    forward would differ from SB3 in the last bit, and truncations are rare enough not to matter for speed.

    :param policy: The policy whose value function is used
    :param rewards: Rewards of this step (float32, shape (n_envs,)), modified in place
    :param dones: Episode ends of this step
    :param infos: The VecEnv's infos of this step (``terminal_observation``, ``TimeLimit.truncated``)
    :param gamma: Discount factor γ
    """
    for idx in np.flatnonzero(dones):
        info = infos[idx]
        if info.get("terminal_observation") is not None and info.get("TimeLimit.truncated", False):
            terminal_obs = policy.obs_to_tensor(info["terminal_observation"])[0]
            with th.inference_mode():
                terminal_value = policy.predict_values(terminal_obs)[0]  # type: ignore[arg-type]
            rewards[idx] += (gamma * terminal_value).item()  # float32 product, as SB3 computes it


__all__ = [
    "FastRolloutMixin",
    "LeanActorCritic",
    "add_to_buffer",
    "bernoulli_sample",
    "bootstrap_truncated",
    "categorical_sample",
    "diag_gaussian_sample",
    "fast_rollout_fallback_reason",
    "multi_categorical_sample",
]
