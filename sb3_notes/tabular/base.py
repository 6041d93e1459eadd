"""The shared base of the tabular TD learners: SB3's ``BaseAlgorithm`` with an online, per-step table update."""

import sys
import time
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import LinearSchedule, safe_mean

from sb3_notes.common.save_util import CheckedLoadMixin
from sb3_notes.common.state_encoding import check_tabular_space, encode
from sb3_notes.common.td_targets import td_errors
from sb3_notes.common.validation import check_float_or_schedule, check_range, check_space, check_type
from sb3_notes.tabular.policies import TabularPolicy, action_values, epsilon_greedy

SelfTabular = TypeVar("SelfTabular", bound="TabularAlgorithm")


def _collision_counts(flat: np.ndarray) -> np.ndarray:
    """For each transition, how many transitions of the same step update its table entry (itself included)."""
    if len(flat) <= 64:  # all-pairs comparison: cheaper than np.unique for a handful of envs
        return (flat[:, None] == flat[None, :]).sum(axis=1)
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    return counts[inverse.reshape(-1)]


def with_base_params(doc: str | None) -> str:
    """A learner's docstring followed by the ``:param`` list of :class:`TabularAlgorithm` (one source for both)."""
    params = (TabularAlgorithm.__doc__ or "").split(":param policy:", 1)[1]
    return (doc or "").rstrip() + "\n\n    :param policy:" + params


class TabularAlgorithm(CheckedLoadMixin, BaseAlgorithm):
    """
    Base of the tabular TD learners (notes §五): Q(s, a) in a table, updated after every env step by
    Q(s, a) ← Q(s, a) + α · (y − Q(s, a)), the subclasses differing only in the target y (``_td_target``).

    Acting is ε-greedy on the table with DQN's ε schedule. The update is vectorised over the envs of the
    VecEnv; when several envs update the same entry in one step, the entry moves by α times the *mean* of
    their TD errors (a sum would overshoot: with α = 1 and k envs, k times the error).

    :param policy: The policy model to use (``"TabularPolicy"``)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: α, the step size of the table update, it can be a function
        of the current progress remaining (from 1 to 0)
    :param gamma: The discount factor
    :param learning_starts: How many steps of uniformly random actions to collect before learning starts
    :param exploration_fraction: Fraction of entire training period over which the exploration rate is reduced
    :param exploration_initial_eps: Initial value of random action probability
    :param exploration_final_eps: Final value of random action probability
    :param initial_q: Initial value of every table entry; above the largest return it is "optimistic" and
        drives exploration by itself
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device SB3 reports (``model.device``); accepted for the common API, the table itself always
        lives on the CPU, where a per-step NumPy update is fastest
    :param _init_setup_model: Whether or not to build the table at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"TabularPolicy": TabularPolicy}
    policy: TabularPolicy
    # Number of Q-tables (Double Q-learning keeps two)
    n_tables: ClassVar[int] = 1
    # Whether the target needs a', the action the behaviour policy takes next (SARSA)
    needs_next_action: ClassVar[bool] = False

    def __init__(
        self,
        policy: str | type[TabularPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 0.1,
        gamma: float = 0.99,
        learning_starts: int = 0,
        exploration_fraction: float = 0.5,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.05,
        initial_q: float = 0.0,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
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
            support_multi_env=True,
            seed=seed,
        )
        self.gamma = gamma
        self.learning_starts = learning_starts
        self.exploration_fraction = exploration_fraction
        self.exploration_initial_eps = exploration_initial_eps
        self.exploration_final_eps = exploration_final_eps
        self.initial_q = initial_q
        # Training state, set here (not in _setup_model) so that load() keeps the saved values
        self.exploration_rate = exploration_initial_eps
        self._next_actions: np.ndarray | None = None  # a' already chosen for _last_obs (SARSA)
        self._td_error_sum = 0.0  # Σ|δ| and count since the last log dump, for train/td_error
        self._td_error_count = 0
        self._validate()

        if _init_setup_model:
            self._setup_model()

    def _validate(self) -> None:
        if getattr(self, "observation_space", None) is not None:
            check_tabular_space(self.observation_space)
        check_space(
            "action_space",
            getattr(self, "action_space", None),
            (spaces.Discrete,),
            "A table needs a finite action set: discretise continuous actions first.",
        )
        check_float_or_schedule("learning_rate", self.learning_rate)
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_type("learning_starts", self.learning_starts, int)
        check_range("learning_starts", self.learning_starts, 0)
        for name in ("exploration_fraction", "exploration_initial_eps", "exploration_final_eps"):
            check_range(name, getattr(self, name), 0.0, 1.0)
        check_range("initial_q", self.initial_q)

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        self.exploration_schedule = LinearSchedule(
            self.exploration_initial_eps, self.exploration_final_eps, self.exploration_fraction
        )
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space,
            self.action_space,
            self.lr_schedule,
            n_tables=self.n_tables,
            initial_q=self.initial_q,
            **self.policy_kwargs,
        )
        self.policy.exploration_rate = self.exploration_rate

    # --- the TD target: what the four learners differ in -------------------------------------------------

    def _update_tables(self, n: int) -> np.ndarray | None:
        """Which table each of the ``n`` transitions updates (``None``: the only one)."""
        return None

    def _td_target(
        self,
        q: np.ndarray,
        tables: np.ndarray | None,
        rewards: np.ndarray,
        next_states: np.ndarray,
        next_actions: np.ndarray | None,
        terminated: np.ndarray,
    ) -> np.ndarray:
        """
        y for each transition.

        :param q: The tables, shape (n_tables, n_states, n_actions), read only here
        :param tables: The table each transition updates, shape (n,), or ``None`` with one table
        :param rewards: r, shape (n,)
        :param next_states: Row of s' (the true final observation when truncated), shape (n,)
        :param next_actions: a' (only for ``needs_next_action``), shape (n,)
        :param terminated: Whether s' is terminal, shape (n,)
        """
        raise NotImplementedError

    # --- one step of learning ---------------------------------------------------------------------------

    def _behaviour_actions(self, q: np.ndarray, states: np.ndarray) -> np.ndarray:
        """ε-greedy on the table; uniformly random before ``learning_starts`` (as DQN)."""
        if self.num_timesteps < self.learning_starts:
            return np.random.randint(q.shape[2], size=len(states))
        return epsilon_greedy(action_values(q, states), self.exploration_rate)

    def _td_update(
        self,
        q: np.ndarray,
        states: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_states: np.ndarray,
        next_actions: np.ndarray | None,
        terminated: np.ndarray,
    ) -> np.ndarray:
        """Q(s, a) ← Q(s, a) + α (y − Q(s, a)) for every env at once; returns δ."""
        tables = self._update_tables(len(states))
        targets = self._td_target(q, tables, rewards, next_states, next_actions, terminated)
        n_states, n_actions = q.shape[1:]
        flat = states * n_actions + actions  # entry (table, s, a) of the flattened tables
        if tables is not None:
            flat = flat + tables * (n_states * n_actions)
        q_flat = q.reshape(-1)  # a view: writing it writes the policy's buffer
        delta = td_errors(targets, q_flat[flat])
        step = self.lr_schedule(self._current_progress_remaining) * delta
        if len(flat) > 1:
            # envs that hit the same entry in one step share one mean step (a sum would overshoot)
            np.add.at(q_flat, flat, step / _collision_counts(flat))
        else:
            q_flat[flat] += step
        return delta

    def _next_states(
        self, new_states: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """
        Rows of s' and the ``terminated`` flags, from the rows of the observations the VecEnv returned. Where
        an episode ended the VecEnv has already reset, so s' is read from ``infos[i]["terminal_observation"]``:
        a truncated transition bootstraps from the true final state, never from the reset one.
        """
        if not np.count_nonzero(dones):
            return new_states, dones  # all False: nothing terminated
        next_states = new_states.copy()
        terminated = dones.copy()
        for i in np.flatnonzero(dones):  # reading the envs' info dicts; the update itself stays vectorised
            next_states[i] = encode(self.observation_space, infos[i]["terminal_observation"], check=False)
            terminated[i] = not infos[i].get("TimeLimit.truncated", False)
        return next_states, terminated

    def learn(
        self: SelfTabular,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "run",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfTabular:
        """
        Return a trained model.

        :param total_timesteps: The total number of samples (env steps) to train on
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of episodes before logging.
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        if reset_num_timesteps or self._last_obs is None:
            self._next_actions = None  # the env is about to reset: a' chosen for the old observation is void
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        assert self.env is not None, "You must set the environment before calling learn()"
        try:
            self._learn_loop(total_timesteps, callback, log_interval)
        finally:
            self.policy.exploration_rate = self.exploration_rate
        callback.on_training_end()
        return self

    def _learn_loop(self, total_timesteps: int, callback: BaseCallback, log_interval: int | None) -> None:
        assert self.env is not None and self._last_obs is not None
        env = self.env
        n_envs = env.num_envs
        space = self.observation_space
        q = self.policy.q_table.numpy()  # shares memory with the torch buffer that get_parameters/save read
        states = encode(space, self._last_obs, check=False)
        callback.on_rollout_start()
        while self.num_timesteps < total_timesteps:
            if self._next_actions is not None:
                actions = self._next_actions  # SARSA: the a' its last target used is the action taken now
            else:
                actions = self._behaviour_actions(q, states)
            new_obs, rewards, dones, infos = env.step(actions)

            self.num_timesteps += n_envs
            callback.update_locals(locals())
            if not callback.on_step():
                self._last_obs = new_obs  # type: ignore[assignment]
                self._next_actions = None
                break
            self._update_info_buffer(infos, dones)
            self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
            self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)

            new_states = encode(space, new_obs, check=False)
            next_states, terminated = self._next_states(new_states, dones, infos)
            next_actions = None
            if self.needs_next_action:
                # a' is chosen now, before the update, and is the action taken in new_obs next step. Where the
                # episode ended, the target (if it bootstraps at all: truncated) uses a fresh behaviour action
                # in the true final state, which the agent never takes.
                self._next_actions = next_actions = self._behaviour_actions(q, new_states)
                if np.count_nonzero(dones):
                    next_actions = np.where(dones, self._behaviour_actions(q, next_states), next_actions)

            if self.num_timesteps > self.learning_starts:
                delta = self._td_update(q, states, actions, rewards, next_states, next_actions, terminated)
                self._td_error_sum += float(np.abs(delta).sum())
                self._td_error_count += len(delta)
                self._n_updates += 1

            states = new_states
            self._last_obs = new_obs  # type: ignore[assignment]
            n_done = np.count_nonzero(dones)
            if n_done:
                for _ in range(n_done):
                    self._episode_num += 1
                    if log_interval is not None and self._episode_num % log_interval == 0:
                        self.dump_logs()
        callback.on_rollout_end()

    def dump_logs(self) -> None:
        """Write log data (SB3's off-policy keys, plus ε, α and the mean |δ| since the last dump)."""
        assert self.ep_info_buffer is not None and self.ep_success_buffer is not None
        time_elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        fps = int((self.num_timesteps - self._num_timesteps_at_start) / time_elapsed)
        self.logger.record("time/episodes", self._episode_num, exclude="tensorboard")
        if len(self.ep_info_buffer) > 0 and len(self.ep_info_buffer[0]) > 0:
            self.logger.record("rollout/ep_rew_mean", safe_mean([ep_info["r"] for ep_info in self.ep_info_buffer]))
            self.logger.record("rollout/ep_len_mean", safe_mean([ep_info["l"] for ep_info in self.ep_info_buffer]))
        if len(self.ep_success_buffer) > 0:
            self.logger.record("rollout/success_rate", safe_mean(self.ep_success_buffer))
        self.logger.record("rollout/exploration_rate", self.exploration_rate)
        self.logger.record("time/fps", fps)
        self.logger.record("time/time_elapsed", int(time_elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.record("train/learning_rate", self.lr_schedule(self._current_progress_remaining))
        if self._td_error_count > 0:
            self.logger.record("train/td_error", self._td_error_sum / self._td_error_count)
            self._td_error_sum, self._td_error_count = 0.0, 0
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.dump(step=self.num_timesteps)

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        Greedy (``deterministic=True``) or ε-greedy action(s) at the current exploration rate.

        :param observation: the input observation (one, or a batch with a leading axis)
        :param state: The last hidden states (unused, no recurrence)
        :param episode_start: The last masks (unused)
        :param deterministic: Whether or not to return deterministic actions.
        :return: the model's action and the next hidden state (``state``, unchanged)
        """
        self.policy.exploration_rate = self.exploration_rate
        return self.policy.predict(observation, state, episode_start, deterministic)


__all__ = ["TabularAlgorithm"]
