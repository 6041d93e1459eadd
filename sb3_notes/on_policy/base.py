"""The base class of the on-policy algorithms (PPOPenalty, TRPO): SB3's ``OnPolicyAlgorithm`` with a fast rollout.

:class:`FastOnPolicyAlgorithm` sits between SB3's ``OnPolicyAlgorithm`` and the algorithm. Its ``collect_rollouts``
fills SB3's ``RolloutBuffer`` exactly as SB3's loop does (same steps, callbacks, time-limit bootstrap, episode
starts, clipping, random draws) with the lean view of SB3's own policy (:mod:`sb3_notes.on_policy.lean_policy`),
and hands every other policy to SB3's own loop. Either way each env step is checked for non-finite numbers first.
"""

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from sb3_notes.base_class import NotesAlgorithm
from sb3_notes.common.finite import check_env_step
from sb3_notes.on_policy.lean_policy import LeanActorCritic, lean_view


class FastOnPolicyAlgorithm(NotesAlgorithm, OnPolicyAlgorithm):
    """
    SB3's ``OnPolicyAlgorithm`` with the fast rollout. ``collect_rollouts`` takes the fast path when
    :func:`~sb3_notes.on_policy.lean_policy.fast_rollout_fallback_reason` allows it and SB3's own loop otherwise; the
    path taken is kept in ``self.fast_path_taken`` and logged as ``rollout/fast_path`` (1 fast, 0 SB3).
    :meth:`lean_policy` gives the same lean view to an algorithm's ``train()``. The algorithm sets
    ``self.fast_rollout`` (its constructor switch) in ``__init__``; it is saved with the model.
    """

    fast_rollout: bool = True
    fast_path_taken: bool | None = None
    _lean_cache: LeanActorCritic | None = None
    # Tests only: collect with each distribution's mode, to compare buffers with SB3's deterministic forward.
    _deterministic_rollout: bool = False

    def lean_policy(self, refresh: bool = False) -> LeanActorCritic | None:
        """
        The lean view of ``self.policy``, or ``None`` when the model must use SB3's own path.

        :param refresh: Rebuild the view (at the start of a rollout or an update, when modules may have been
            replaced since the last one)
        :return: The cached view for the current policy, or ``None``
        """
        self._lean_cache = lean_view(self, self._lean_cache, refresh)
        return self._lean_cache

    def _excluded_save_params(self) -> list[str]:
        # The view holds references to the policy's parameters; it is rebuilt after loading.
        return [*super()._excluded_save_params(), "_lean_cache"]

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
        lean = self.lean_policy(refresh=True)
        self.fast_path_taken = lean is not None
        self.logger.record("rollout/fast_path", int(self.fast_path_taken))
        if lean is None:
            checked = StepCheckCallback(callback, type(self).__name__)
            return super().collect_rollouts(env, checked, rollout_buffer, n_rollout_steps)
        return self._collect_fast(lean, env, callback, rollout_buffer, n_rollout_steps)

    def _collect_fast(
        self, lean: LeanActorCritic, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
    ) -> bool:
        # Written as SB3's loop, step for step, with the same local names (callbacks read them via ``locals()``).
        assert self._last_obs is not None, "No previous observation was provided"
        self.policy.set_training_mode(False)
        deterministic = self._deterministic_rollout
        box = isinstance(self.action_space, spaces.Box)
        low, high = (self.action_space.low, self.action_space.high) if isinstance(self.action_space, spaces.Box) else (0, 0)
        discrete = isinstance(self.action_space, spaces.Discrete)

        n_steps = 0
        rollout_buffer.reset()
        callback.on_rollout_start()

        while n_steps < n_rollout_steps:
            actions, values, log_probs = lean.step(self._last_obs, deterministic)  # type: ignore[arg-type]
            # Unbounded Gaussian samples are clipped for the env; the buffer keeps the unclipped action.
            clipped_actions = np.clip(actions, low, high) if box else actions

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

            add_to_buffer(rollout_buffer, self._last_obs, actions, rewards, self._last_episode_starts, values, log_probs)  # type: ignore[arg-type]
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones

        with th.no_grad():
            # Compute value for the last timestep
            values = self.policy.predict_values(obs_as_tensor(new_obs, self.device))  # type: ignore[arg-type]

        rollout_buffer.compute_returns_and_advantage(last_values=values, dones=dones)

        callback.update_locals(locals())

        callback.on_rollout_end()

        return True


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


__all__ = ["FastOnPolicyAlgorithm", "StepCheckCallback", "add_to_buffer", "bootstrap_truncated"]
