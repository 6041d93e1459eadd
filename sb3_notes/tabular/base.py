"""The shared base of the tabular TD learners: SB3's ``BaseAlgorithm`` with an online, per-step table update."""

import sys
import time
from operator import itemgetter
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback, ConvertCallback
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import LinearSchedule

from sb3_notes.base_class import NotesAlgorithm
from sb3_notes.common.finite import check_env_step
from sb3_notes.common.state_encoding import StateEncoder, check_tabular_space
from sb3_notes.common.td_targets import td_errors
from sb3_notes.common.validation import check_float_or_schedule, check_range, check_type
from sb3_notes.tabular.one_env import learn_one_env
from sb3_notes.tabular.policies import RandomDraws, TabularPolicy, action_values, epsilon_greedy

SelfTabular = TypeVar("SelfTabular", bound="TabularAlgorithm")


# Tables up to this many entries count collisions with one np.bincount over the whole table (O(entries), a
# microsecond at this size); larger ones compare the step's entries with each other instead.
_BINCOUNT_MAX_ENTRIES = 4096


def _collision_counts(flat: np.ndarray, n_entries: int) -> np.ndarray:
    """For each transition, how many transitions of the same step update its table entry (itself included)."""
    if n_entries <= _BINCOUNT_MAX_ENTRIES:
        return np.bincount(flat)[flat]
    if len(flat) <= 64:  # all-pairs comparison: cheaper than np.unique for a handful of envs
        return (flat[:, None] == flat[None, :]).sum(axis=1)
    _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    return counts[inverse.reshape(-1)]


def with_base_params(doc: str | None) -> str:
    """
    A learner's docstring followed by the ``:param`` list of :class:`TabularAlgorithm` (one source for both).

    :param doc: The learner's own docstring
    :return: The docstring with the shared parameter list appended
    """
    params = (TabularAlgorithm.__doc__ or "").split(":param policy:", 1)[1]
    return (doc or "").rstrip() + "\n\n    :param policy:" + params


class TabularAlgorithm(NotesAlgorithm):
    """
    Base of the tabular TD learners (notes §5): Q(s, a) in a table, updated after every env step by
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
    # α > 1 overshoots the target and α ≥ 2 diverges: the table update is a convex combination only for α ≤ 1
    learning_rate_bounds: ClassVar[tuple[float | None, float | None]] = (0.0, 1.0)
    supported_action_spaces = (spaces.Discrete,)
    action_space_hint = "A table needs a finite action set: discretise continuous actions first."
    # Number of Q-tables (Double Q-learning keeps two); with several, each transition updates one, drawn uniformly
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
        self._check_spaces()
        if getattr(self, "observation_space", None) is not None:
            check_tabular_space(self.observation_space)
        low, high = self.learning_rate_bounds
        check_float_or_schedule("learning_rate", self.learning_rate, low, high=high)
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_type("learning_starts", self.learning_starts, int)
        check_range("learning_starts", self.learning_starts, 0)
        for name in ("exploration_fraction", "exploration_initial_eps", "exploration_final_eps"):
            check_range(name, getattr(self, name), 0.0, 1.0)
        check_range("initial_q", self.initial_q)  # an infinite entry turns δ = y − Q into NaN

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self._encode = StateEncoder(self.observation_space)  # observation(s) -> row(s) of the table
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

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_encode"]  # rebuilt from the space by _setup_model

    # --- the TD target: what the learners differ in -------------------------------------------------

    def _td_target(
        self, q: np.ndarray, tables: Any, rewards: Any, next_states: Any, next_actions: Any, terminated: Any
    ) -> Any:
        """
        y for each transition: the one method a learner writes. Both loops call it, the batched one with arrays
        and the one-env loop with one transition's Python numbers; :func:`q_rows` and the row operations of
        :mod:`sb3_notes.common.td_targets` take either form, so one body serves both.

        :param q: The tables, shape (n_tables, n_states, n_actions), read only here
        :param tables: The table each transition updates: shape (n,), or an int (one table, or one transition)
        :param rewards: r, shape (n,), or a float
        :param next_states: Row of s' (the true final observation when truncated), shape (n,), or an int
        :param next_actions: a' (only for ``needs_next_action``, else ``None``), shape (n,), or an int
        :param terminated: Whether s' is terminal, shape (n,) or a bool; ``None`` when none is
        """
        raise NotImplementedError

    # --- one step of learning ---------------------------------------------------------------------------

    def _behaviour_actions(self, q: np.ndarray, states: np.ndarray, draws: RandomDraws | None = None) -> np.ndarray:
        """ε-greedy on the table; uniformly random before ``learning_starts`` (as DQN). ``draws``: pre-drawn."""
        if self.num_timesteps < self.learning_starts:
            return draws.next()[1].copy() if draws is not None else np.random.randint(q.shape[2], size=len(states))
        return epsilon_greedy(action_values(q, states), self.exploration_rate, None if draws is None else draws.next())

    def _td_update(
        self,
        q: np.ndarray,
        states: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_states: np.ndarray,
        next_actions: np.ndarray | None,
        terminated: np.ndarray | None,
        learning_rate: float | None = None,
    ) -> np.ndarray:
        """
        Q(s, a) ← Q(s, a) + α (y − Q(s, a)) for every env at once; returns δ. ``learning_rate``: α if the
        caller has it already, else read from the schedule at the current progress.
        """
        # with several tables (Double Q-learning) each transition updates one, drawn uniformly
        tables = np.random.randint(self.n_tables, size=len(states)) if self.n_tables > 1 else 0
        targets = self._td_target(q, tables, rewards, next_states, next_actions, terminated)
        n_states, n_actions = q.shape[1:]
        flat = states * n_actions + actions  # entry (table, s, a) of the flattened tables
        if self.n_tables > 1:
            flat = flat + tables * (n_states * n_actions)
        q_flat = q.reshape(-1)  # a view: writing it writes the policy's buffer
        q_sa = q_flat[flat]
        delta = td_errors(targets, q_sa)
        if learning_rate is None:
            learning_rate = self.lr_schedule(self._current_progress_remaining)
        step = learning_rate * delta
        entries = flat.tolist()
        if len(set(entries)) == len(entries):  # the common case, every env on its own entry: one assignment
            q_flat[flat] = q_sa + step
        else:
            # envs that hit the same entry in one step share one mean step (a sum would overshoot)
            np.add.at(q_flat, flat, step / _collision_counts(flat, q_flat.size))
        return delta

    def _loop_constants(self, callback: BaseCallback) -> tuple[bool, float | None]:
        """
        What the training loops can work out once rather than every step: whether the callback does anything
        (not when ``learn`` got no callback: SB3 then wraps ``None`` in a ``ConvertCallback`` that never reads
        the locals and whose ``on_step`` only returns True, so the loops skip both), and α when it is a constant
        (``None``: a schedule).
        The loops also stop evaluating ε once DQN's linear schedule has reached its final value (past
        ``exploration_fraction``; within one ``learn`` the progress only moves forward).
        """
        callback_active = not (type(callback) is ConvertCallback and callback.callback is None)
        constant_lr = None if callable(self.learning_rate) else float(self.learning_rate)
        return callback_active, constant_lr

    def _rows(self, obs: Any) -> np.ndarray:
        """Table rows of a VecEnv's observations; ``ValueError`` naming the step for one outside the space."""
        try:
            return self._encode(obs)
        except ValueError as err:
            raise ValueError(f"{type(self).__name__} step {self.num_timesteps}: {err}") from err

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
        for i, done in enumerate(dones.tolist()):  # reading the envs' info dicts; the update stays vectorised
            if done:
                next_states[i] = self._encode.one(infos[i]["terminal_observation"])
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
            callback.on_rollout_start()
            # the plain-Python loop for one env, unless the learner changed the update itself (it then runs batched)
            if self.env.num_envs == 1 and type(self)._td_update is TabularAlgorithm._td_update:
                learn_one_env(self, total_timesteps, callback, log_interval)
            else:
                self._learn_loop(total_timesteps, callback, log_interval)
            callback.on_rollout_end()
        finally:
            self.policy.exploration_rate = self.exploration_rate
        callback.on_training_end()
        return self

    def _on_episodes_end(self, n_done: int, dones: np.ndarray, infos: list[dict[str, Any]], log_interval: int | None) -> None:
        """
        SB3's bookkeeping at the end of a step where ``n_done`` episodes ended: episode statistics, episode
        count and logs. Called only on such steps: Monitor/VecMonitor write ``"episode"`` only on the step an
        episode ends and SB3 reads ``"is_success"`` only where done, so the other steps have nothing to record.
        """
        if len(dones) > 1:  # the other envs' infos have nothing to record
            infos = [info for info, done in zip(infos, dones.tolist(), strict=True) if done]
            dones = np.ones(len(infos), dtype=bool)
        self._update_info_buffer(infos, dones)
        for _ in range(n_done):
            self._episode_num += 1
            if log_interval is not None and self._episode_num % log_interval == 0:
                self.dump_logs()

    def _learn_loop(self, total_timesteps: int, callback: BaseCallback, log_interval: int | None) -> None:
        """The loop over a VecEnv of several envs: every step is a handful of NumPy calls over all envs."""
        assert self.env is not None and self._last_obs is not None
        env = self.env
        n_envs = env.num_envs
        encode = self._encode
        q = self.policy.q_table.numpy()  # shares memory with the torch buffer that get_parameters/save read
        draws = RandomDraws(n_envs, q.shape[2])
        callback_active, constant_lr = self._loop_constants(callback)
        eps_moving = True  # see _loop_constants
        total = float(self._total_timesteps)
        states = self._rows(self._last_obs)
        while self.num_timesteps < total_timesteps:
            if self._next_actions is not None:
                actions = self._next_actions  # SARSA: the a' its last target used is the action taken now
            else:
                actions = self._behaviour_actions(q, states, draws)
            new_obs, rewards, dones, infos = env.step(actions)

            self.num_timesteps += n_envs
            # finite iff every reward is, bar an overflow (then the scan decides); for a handful of envs a Python
            # sum is cheaper than NumPy's
            reward_sum = sum(rewards.tolist())
            if reward_sum - reward_sum != 0.0:  # before the table sees it: a NaN entry wins every argmax after
                check_env_step(type(self).__name__, self.num_timesteps, new_obs, rewards)
            if callback_active:  # else the callback is SB3's no-op wrapper of None: on_step would only return True
                callback.update_locals(locals())
                if not callback.on_step():
                    self._last_obs = new_obs  # type: ignore[assignment]
                    self._next_actions = None
                    break
            n_done = int(np.count_nonzero(dones))
            new_states = self._rows(new_obs)
            next_states, terminated = self._next_states(new_states, dones, infos) if n_done else (new_states, dones)
            # progress and ε move before the update, which reads α and (Expected SARSA) ε at the new progress
            progress = 1.0 - float(self.num_timesteps) / total  # _update_current_progress_remaining, inlined
            self._current_progress_remaining = progress if progress > 0.0 else 0.0  # the last step may overshoot
            if eps_moving:
                self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
                eps_moving = 1.0 - self._current_progress_remaining <= self.exploration_fraction
            next_actions = None
            if self.needs_next_action:
                # a' is chosen now, before the update, and is the action taken in new_obs next step. Where the
                # episode ended, the target (if it bootstraps at all: truncated) uses a fresh behaviour action
                # in the true final state, which the agent never takes.
                self._next_actions = next_actions = self._behaviour_actions(q, new_states, draws)
                if n_done:
                    next_actions = np.where(dones, self._behaviour_actions(q, next_states, draws), next_actions)

            if self.num_timesteps > self.learning_starts:
                delta = self._td_update(
                    q, states, actions, rewards, next_states, next_actions, terminated if n_done else None, constant_lr
                )
                self._td_error_sum += sum(map(abs, delta.tolist()))  # for a handful of envs, cheaper than NumPy
                self._td_error_count += n_envs
                self._n_updates += 1

            states = new_states
            self._last_obs = new_obs  # type: ignore[assignment]
            if n_done:
                self._on_episodes_end(n_done, dones, infos, log_interval)

    def dump_logs(self) -> None:
        """Write log data (SB3's off-policy keys, plus ε, α and the mean |δ| since the last dump)."""
        assert self.ep_info_buffer is not None and self.ep_success_buffer is not None
        time_elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        fps = int((self.num_timesteps - self._num_timesteps_at_start) / time_elapsed)
        self.logger.record("time/episodes", self._episode_num, exclude="tensorboard")
        # Plain-Python means (not SB3's safe_mean, np.mean over a fresh list): with short episodes this runs
        # every few steps, and the NumPy conversion of 100 entries would be a sizeable share of the step
        if len(self.ep_info_buffer) > 0 and len(self.ep_info_buffer[0]) > 0:
            n_episodes = len(self.ep_info_buffer)
            self.logger.record("rollout/ep_rew_mean", sum(map(itemgetter("r"), self.ep_info_buffer)) / n_episodes)
            self.logger.record("rollout/ep_len_mean", sum(map(itemgetter("l"), self.ep_info_buffer)) / n_episodes)
        if len(self.ep_success_buffer) > 0:
            self.logger.record("rollout/success_rate", sum(self.ep_success_buffer) / len(self.ep_success_buffer))
        self.logger.record("rollout/exploration_rate", self.exploration_rate)
        self.logger.record("time/fps", fps)
        self.logger.record("time/time_elapsed", int(time_elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.record("train/learning_rate", self.lr_schedule(self._current_progress_remaining))
        if self._td_error_count > 0:
            self.logger.record("train/td_error", float(self._td_error_sum) / self._td_error_count)
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
