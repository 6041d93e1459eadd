import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    BaseModel,
    BasePolicy,
    MultiInputActorCriticPolicy,
)
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, PyTorchObs, Schedule
from stable_baselines3.common.utils import explained_variance, obs_as_tensor, safe_mean
from stable_baselines3.common.vec_env import VecEnv
from torch import nn
from torch.nn import functional as F

from sb3_notes.base_class import NotesAlgorithm
from sb3_notes.common.finite import check_env_step, check_finite
from sb3_notes.common.returns import BASELINES, RETURNS, batch_returns_and_advantages
from sb3_notes.common.validation import check_choice, check_float_or_schedule, check_range, check_type
from sb3_notes.on_policy.lean_policy import LeanActorCritic, lean_view
from sb3_notes.reinforce.episode_store import EpisodeStore

SelfREINFORCE = TypeVar("SelfREINFORCE", bound="REINFORCE")


@dataclass
class PolicyGradientBatch:
    """Whole episodes as tensors: s_t, a_t, the return estimate, its baseline-corrected advantage."""

    observations: PyTorchObs
    actions: th.Tensor
    returns: th.Tensor  # reward_to_go or R(τ); with baseline="value" the critic's regression target
    advantages: th.Tensor  # return − baseline (not normalised)
    baseline: th.Tensor  # the b subtracted from each step (0, the batch mean, or V(s_t) with λ = 1)
    n_episodes: int


class REINFORCE(NotesAlgorithm):
    """
    REINFORCE: the vanilla policy gradient of whole episodes (notes §2), with the notes' two improvements, reward-to-go
    (``returns``) and a baseline (``baseline``), as switches. One gradient step per batch of ``n_episodes`` finished
    episodes; how batches, time limits and stopping work is on the docs page (docs/algorithms/reinforce.md).

    A subclass of SB3's ``BaseAlgorithm``, not of ``OnPolicyAlgorithm``: a batch is a number of whole episodes, not
    ``n_steps`` steps of each env, so SB3's fixed-size rollout buffer and loop do not apply. It uses SB3's
    ``ActorCriticPolicy`` (the critic is the ``baseline="value"``), logger keys and ``dump_logs`` layout.

    Paper: https://link.springer.com/article/10.1007/BF00992696 (Williams, 1992)

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function
        of the current progress remaining (from 1 to 0)
    :param n_episodes: Minimum number of finished episodes in one batch (summed over the envs)
    :param gamma: Discount factor
    :param returns: Return estimator: ``"reward_to_go"`` (default) or ``"total"`` (R(τ) for every step)
    :param baseline: ``"value"`` (default, a learned V(s)), ``"mean"`` (mean return of the batch) or ``"none"``
    :param gae_lambda: λ of Generalized Advantage Estimation for ``baseline="value"``; 1.0 (default) is Monte Carlo.
        Values below 1 need ``baseline="value"`` and ``returns="reward_to_go"``
    :param normalize_advantage: Whether to normalize the advantages of a batch (mean 0, std 1); this subtracts the
        batch mean too, like ``baseline="mean"``, and rescales the step
    :param ent_coef: Entropy coefficient for the loss calculation
    :param vf_coef: Value function coefficient for the loss calculation
    :param max_grad_norm: The maximum value for the gradient clipping
    :param n_epochs: Number of full-batch regression steps of the critic per batch (``baseline="value"`` only); the
        first is taken with the policy's single step
    :param max_episode_steps: Safety bound: an episode longer than this raises ``RuntimeError`` (REINFORCE needs
        episodes that end; wrap an endless env in ``gymnasium.wrappers.TimeLimit``)
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param fast_rollout: Sample actions with ``sb3_notes.on_policy``'s lean path when the policy is SB3's own
        (the same action distribution, without distribution objects). ``False`` always uses SB3's code; other
        policies and unknown distributions fall back automatically.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }
    supported_action_spaces = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
    policy: ActorCriticPolicy

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-3,
        n_episodes: int = 8,
        gamma: float = 0.99,
        returns: str = "reward_to_go",
        baseline: str = "value",
        gae_lambda: float = 1.0,
        normalize_advantage: bool = False,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        n_epochs: int = 5,
        max_episode_steps: int = 100_000,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        fast_rollout: bool = True,
        _init_setup_model: bool = True,
    ):
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            use_sde=False,
            sde_sample_freq=-1,
            support_multi_env=True,
            seed=seed,
        )
        self.gamma = gamma
        self.gae_lambda = gae_lambda
        self.ent_coef = ent_coef
        self.vf_coef = vf_coef
        self.max_grad_norm = max_grad_norm
        self.n_episodes = n_episodes
        self.returns = returns
        self.baseline = baseline
        self.normalize_advantage = normalize_advantage
        self.n_epochs = n_epochs
        self.max_episode_steps = max_episode_steps
        self.fast_rollout = fast_rollout
        # Steps of episodes not yet used in an update. Not saved (like SB3's rollout buffer): it belongs to the env's
        # current episodes, which a reload does not continue.
        self._episode_store: EpisodeStore | None = None
        self._lean_cache: LeanActorCritic | None = None
        self._validate()

        if _init_setup_model:
            self._setup_model()

    def _validate(self) -> None:
        self._check_spaces()
        check_float_or_schedule("learning_rate", self.learning_rate)
        for name in ("n_episodes", "n_epochs", "max_episode_steps"):
            check_type(name, getattr(self, name), int)
            check_range(name, getattr(self, name), 1)
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_choice("returns", self.returns, RETURNS)
        check_choice("baseline", self.baseline, BASELINES)
        check_range("gae_lambda", self.gae_lambda, 0.0, 1.0)
        if self.gae_lambda != 1.0 and (self.baseline != "value" or self.returns != "reward_to_go"):
            raise ValueError(
                f"`gae_lambda`={self.gae_lambda!r} needs baseline='value' and returns='reward_to_go' (GAE needs a "
                f"learned V(s) and per-step returns); got baseline={self.baseline!r}, returns={self.returns!r}. "
                "Accepted: gae_lambda=1.0 for any estimator"
            )
        check_type("normalize_advantage", self.normalize_advantage, bool)
        check_type("fast_rollout", self.fast_rollout, bool)
        check_range("ent_coef", self.ent_coef, 0.0)
        check_range("vf_coef", self.vf_coef, 0.0)
        if self.baseline == "value" and self.vf_coef == 0:
            raise ValueError(
                "`vf_coef`=0 with baseline='value' would never train the critic; accepted: vf_coef > 0, or "
                "baseline='none'/'mean'"
            )
        check_range("max_grad_norm", self.max_grad_norm, 0.0, low_inclusive=False, finite=False)  # inf: no clipping
        if "use_sde" in self.policy_kwargs:
            raise ValueError(
                f"`policy_kwargs`={self.policy_kwargs!r} sets use_sde; REINFORCE does not support gSDE. Accepted: "
                "policy_kwargs without use_sde"
            )

    def _setup_model(self) -> None:
        # SB3 A2C/PPO's setup (OnPolicyAlgorithm._setup_model) without its fixed-size RolloutBuffer: an EpisodeStore is
        # made by learn()
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, use_sde=False, **self.policy_kwargs
        )
        self.policy = self.policy.to(self.device)
        if self.baseline == "value" and not isinstance(getattr(self.policy, "value_net", None), nn.Module):
            raise ValueError(
                f"baseline='value' needs a policy with a value head (`value_net`); {type(self.policy).__name__} has "
                f"none. Accepted baselines without one: 'none', 'mean'"
            )
        if self.device != th.device("cpu") and self.policy_class is ActorCriticPolicy:
            # SB3's advice for A2C/PPO (OnPolicyAlgorithm._maybe_recommend_cpu): small MLPs run best on the CPU
            warnings.warn(
                "You are trying to run REINFORCE on the GPU with an MlpPolicy; it is primarily intended to run on the CPU "
                "when not using a CNN policy (see https://github.com/DLR-RM/stable-baselines3/issues/1245). Pass "
                "device='cpu' to use the CPU.",
                UserWarning,
                stacklevel=2,
            )

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "policy.optimizer"], []  # as SB3's on-policy algorithms: the file keeps Adam's state

    def _excluded_save_params(self) -> list[str]:
        # the lean view holds references to the policy's parameters; it is rebuilt at the next rollout
        return [*super()._excluded_save_params(), "_episode_store", "_lean_cache"]

    @property
    def _has_critic(self) -> bool:
        return self.baseline == "value"

    def collect_episodes(self, env: VecEnv, callback: BaseCallback, n_episodes: int, total_timesteps: int) -> bool:
        """
        Step ``env`` with the current policy until at least ``n_episodes`` finished episodes are in the episode store,
        or ``num_timesteps`` reaches ``total_timesteps``.

        :param env: The training environment
        :param callback: Callback that will be called at each step (and at the beginning and end of the rollout)
        :param n_episodes: Finished episodes wanted
        :param total_timesteps: Stop when ``num_timesteps`` reaches it, even with fewer finished episodes
        :return: False if the callback stopped training, True otherwise
        """
        assert self._last_obs is not None, "No previous observation was provided"
        assert self._episode_store is not None
        store = self._episode_store
        self.policy.set_training_mode(False)
        self._lean_cache = lean = lean_view(self, self._lean_cache, refresh=True)
        callback.on_rollout_start()

        while store.n_finished < n_episodes and self.num_timesteps < total_timesteps:
            if lean is not None:  # SB3's own policy: the same action distribution without distribution objects
                actions, _, _ = lean.step(self._last_obs)  # type: ignore[arg-type]
            else:
                with th.no_grad():
                    obs_tensor = obs_as_tensor(self._last_obs, self.device)  # type: ignore[arg-type]
                    actions = self.policy.get_distribution(obs_tensor).get_actions().cpu().numpy()
            actions = actions.reshape((-1, *self.action_space.shape))  # type: ignore[arg-type, misc]
            clipped_actions = actions
            if isinstance(self.action_space, spaces.Box):
                if self.policy.squash_output:
                    clipped_actions = self.policy.unscale_action(clipped_actions)
                else:
                    clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high)

            new_obs, rewards, dones, infos = env.step(clipped_actions)
            self.num_timesteps += env.num_envs
            check_env_step("REINFORCE", self.num_timesteps, new_obs, rewards)

            callback.update_locals(locals())
            if not callback.on_step():
                # This step's transition is not stored and the env may have reset: drop the partial episodes and
                # force a reset at the next learn(), so that no episode is ever stitched to the next one.
                self._episode_store = None
                self._last_obs = None
                return False

            # This step is step `running + 1` of every env's episode, whether or not the episode ends with it
            longest = int(store.running_lengths().max()) + 1
            if longest > self.max_episode_steps:
                raise RuntimeError(
                    f"An episode has run for {longest} steps, more than max_episode_steps={self.max_episode_steps}. "
                    "REINFORCE learns from whole episodes: make the env's episodes end (e.g. gymnasium.wrappers."
                    "TimeLimit) or raise max_episode_steps."
                )
            self._update_info_buffer(infos, dones)
            store.add(self._last_obs, actions, rewards, dones, infos)  # type: ignore[arg-type]
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones

        self.logger.record("rollout/episodes_per_update", store.n_finished)
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def _values(self, obs: PyTorchObs) -> th.Tensor:
        """V(s) of a batch, without gradient."""
        with th.no_grad():
            return self.policy.predict_values(obs).flatten()

    def _critic_values(self, obs: PyTorchObs) -> th.Tensor:
        """V(s) with gradients only into the critic: a features extractor shared with the actor is not moved."""
        policy = self.policy
        with th.set_grad_enabled(not policy.share_features_extractor):
            features = BaseModel.extract_features(policy, obs, policy.vf_features_extractor)
        return policy.value_net(policy.mlp_extractor.forward_critic(features)).flatten()

    def _episode_batch(self) -> PolicyGradientBatch:
        """Take the finished episodes out of the store and compute their returns and advantages (notes §2)."""
        assert self._episode_store is not None
        episodes = self._episode_store.pop_finished()
        observations = obs_as_tensor(episodes.observations, self.device)  # type: ignore[arg-type]
        actions = th.as_tensor(episodes.actions, device=self.device)
        lengths = [len(r) for r in episodes.rewards]

        values = last_values = None
        if self._has_critic:
            self.policy.set_training_mode(False)
            all_values = self._values(observations).cpu().numpy()
            values = np.split(all_values, np.cumsum(lengths)[:-1])
            # Time-limit bootstrap: a truncated episode continues with γ·V(s_T); a terminated one with 0. Only for
            # reward-to-go: with returns="total" V is fitted on R(τ), not on the return from s_T.
            if self.returns == "reward_to_go":
                last_values = [
                    0.0 if s_T is None else self._values(self.policy.obs_to_tensor(s_T)[0]).item()
                    for s_T in episodes.terminal_observations
                ]
        returns, advantages = batch_returns_and_advantages(
            episodes.rewards, self.gamma, self.returns, self.baseline, values, last_values, self.gae_lambda
        )

        def tensor(x: np.ndarray) -> th.Tensor:
            return th.as_tensor(x, dtype=th.float32, device=self.device)

        return PolicyGradientBatch(
            observations, actions, tensor(returns), tensor(advantages), tensor(returns - advantages), len(lengths)
        )

    def _evaluate(self, batch: PolicyGradientBatch) -> tuple[th.Tensor | None, th.Tensor, th.Tensor]:
        """V(s_t) (with a critic), log π(a_t|s_t) and the entropy (or its estimate −log π) of every step."""
        if self._has_critic:
            values, log_prob, entropy = self.policy.evaluate_actions(batch.observations, batch.actions)
            values = values.flatten()
        else:
            distribution = self.policy.get_distribution(batch.observations)
            values, log_prob, entropy = None, distribution.log_prob(batch.actions), distribution.entropy()
        return values, log_prob, (-log_prob if entropy is None else entropy)

    def policy_loss(self, batch: PolicyGradientBatch, log_prob: th.Tensor) -> th.Tensor:
        """
        −mean_t(A_t · log π(a_t|s_t)): its gradient is minus the notes' estimate of ∇R̄_θ (up to 1/N vs 1/steps).

        :param batch: The batch (its advantages are normalized here when ``normalize_advantage``)
        :param log_prob: log π_θ(a_t|s_t), with gradient
        """
        advantages = batch.advantages
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        return -(advantages * log_prob).mean()

    def train(self) -> None:
        """One gradient step of the policy on a batch of whole episodes, then the critic's remaining regression steps."""
        self._update_learning_rate(self.policy.optimizer)
        batch = self._episode_batch()
        self.policy.set_training_mode(True)

        values, log_prob, entropy = self._evaluate(batch)
        policy_loss = self.policy_loss(batch, log_prob)
        entropy_loss = -entropy.mean()
        loss = policy_loss + self.ent_coef * entropy_loss
        value_loss = None
        if values is not None:
            value_loss = F.mse_loss(values, batch.returns)
            loss = loss + self.vf_coef * value_loss
        self._step(loss)

        # The critic's extra regression steps on the same batch; the actor's gradients stay None, so Adam skips it.
        for _ in range(self.n_epochs - 1 if self._has_critic else 0):
            self._step(self.vf_coef * F.mse_loss(self._critic_values(batch.observations), batch.returns))
        self._n_updates += 1

        self.logger.record("train/policy_loss", policy_loss.item())
        self.logger.record("train/entropy", -entropy_loss.item())
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/advantage_std", batch.advantages.std().item() if len(batch.advantages) > 1 else 0.0)
        # What a baseline shrinks is the size of the advantages, not their spread: subtracting a constant ("mean")
        # leaves the std unchanged but lowers √mean(A²), which sets the variance of the gradient estimate.
        self.logger.record("train/advantage_rms", batch.advantages.square().mean().sqrt().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if self.baseline == "mean":
            self.logger.record("train/baseline", batch.baseline[0].item())
        if value_loss is not None:
            self.logger.record("train/value_loss", value_loss.item())
            self.logger.record(
                "train/explained_variance", explained_variance(batch.baseline.cpu().numpy(), batch.returns.cpu().numpy())
            )

    def _step(self, loss: th.Tensor) -> None:
        where = f"update {self._n_updates + 1}"
        check_finite("REINFORCE", where, loss=loss)
        self.policy.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
        check_finite("REINFORCE", where, grad_norm=grad_norm)  # a finite loss can still have an overflowing gradient
        self.policy.optimizer.step()

    def learn(
        self: SelfREINFORCE,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "REINFORCE",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfREINFORCE:
        """
        Return a trained model (SB3's ``learn``).

        :param total_timesteps: The total number of samples (env steps) to train on
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts (updates) before logging.
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        store = self._episode_store
        if reset_num_timesteps or self._last_obs is None or store is None or store.n_envs != self.n_envs:
            # The env restarts (or its running episodes are unknown, e.g. after load): their steps are dropped.
            self._last_obs = None
            self._episode_store = None
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        assert self.env is not None
        if self._episode_store is None:
            self._episode_store = EpisodeStore(self.env.num_envs)
        callback.on_training_start(locals(), globals())

        iteration = 0
        while self.num_timesteps < total_timesteps:
            if not self.collect_episodes(self.env, callback, self.n_episodes, total_timesteps):
                break
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
            if self._episode_store.n_finished < self.n_episodes:
                break  # the budget ran out mid-batch: no update; the episodes wait for the next learn() call
            iteration += 1
            if log_interval is not None and iteration % log_interval == 0:
                self.dump_logs(iteration)
            self.train()

        callback.on_training_end()
        return self

    def dump_logs(self, iteration: int = 0) -> None:
        """
        Write log data: SB3's on-policy keys (``OnPolicyAlgorithm.dump_logs``), an iteration being one update.

        :param iteration: Current logging iteration (updates so far in this ``learn`` call)
        """
        assert self.ep_info_buffer is not None and self.ep_success_buffer is not None
        time_elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        fps = int((self.num_timesteps - self._num_timesteps_at_start) / time_elapsed)
        if iteration > 0:
            self.logger.record("time/iterations", iteration, exclude="tensorboard")
        if len(self.ep_info_buffer) > 0 and len(self.ep_info_buffer[0]) > 0:
            self.logger.record("rollout/ep_rew_mean", safe_mean([ep_info["r"] for ep_info in self.ep_info_buffer]))
            self.logger.record("rollout/ep_len_mean", safe_mean([ep_info["l"] for ep_info in self.ep_info_buffer]))
        self.logger.record("time/fps", fps)
        self.logger.record("time/time_elapsed", int(time_elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        if len(self.ep_success_buffer) > 0:
            self.logger.record("rollout/success_rate", safe_mean(self.ep_success_buffer))
        self.logger.dump(step=self.num_timesteps)
