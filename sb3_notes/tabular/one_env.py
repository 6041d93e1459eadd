"""
The one-env loop of the tabular learners, on Python ints and floats.

With a single env the NumPy calls of the batched loop (:meth:`TabularAlgorithm._learn_loop`), a microsecond
each, would cost more than the env step. This loop keeps the same order of events and the same arithmetic on
one transition's plain numbers, and calls the learner's own ``_td_target`` with them (the targets of
:mod:`sb3_notes.common.td_targets` take either form), so a learner writes its target once, for both loops.
The random draws come from Python's ``random``, which SB3's ``set_random_seed`` seeds with the same seed.
"""

import random
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback

from sb3_notes.common.finite import check_env_step
from sb3_notes.tabular.policies import epsilon_greedy_one

if TYPE_CHECKING:
    from sb3_notes.tabular.base import TabularAlgorithm


def behaviour_action_one(model: "TabularAlgorithm", q: np.ndarray, state: int) -> int:
    """:meth:`TabularAlgorithm._behaviour_actions` for one state, in plain Python."""
    if model.num_timesteps < model.learning_starts:
        return int(random.random() * q.shape[2])
    values = q[0, state] if len(q) == 1 else q[:, state].mean(axis=0)
    return epsilon_greedy_one(values.tolist(), model.exploration_rate)


def td_update_one(
    model: "TabularAlgorithm",
    q: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    next_action: int | None,
    terminated: bool,
    learning_rate: float | None = None,
) -> float:
    """:meth:`TabularAlgorithm._td_update` for one transition, in plain Python floats; returns δ."""
    n_tables = len(q)
    table = int(random.random() * n_tables) if n_tables > 1 else 0
    target = model._td_target(q, table, reward, next_state, next_action, terminated)
    q_sa = float(q[table, state, action])
    delta = target - q_sa
    if learning_rate is None:
        learning_rate = model.lr_schedule(model._current_progress_remaining)
    q[table, state, action] = q_sa + learning_rate * delta
    return delta


def _first_row_reader(model: "TabularAlgorithm", start: int | None, n_rows: int) -> Callable[[Any], int]:
    """The row of the only env's observation in a VecEnv batch (``start``: the ``Discrete`` space's, else ``None``)."""

    def first_row(obs: Any) -> int:
        if start is not None:
            row = int(obs[0]) - start
            if 0 <= row < n_rows:
                return row
        return int(model._rows(obs)[0])  # raises for a Discrete observation outside the space, naming the step

    return first_row


def learn_one_env(model: "TabularAlgorithm", total_timesteps: int, callback: BaseCallback, log_interval: int | None) -> None:
    """
    :meth:`TabularAlgorithm._learn_loop` for a VecEnv of one env.

    :param model: The learner, set up by ``_setup_learn``
    :param total_timesteps: Stop when ``model.num_timesteps`` reaches it
    :param callback: The callback of ``learn``
    :param log_interval: Dump the logs every this many episodes (``None``: never)
    """
    assert model.env is not None and model._last_obs is not None
    env = model.env
    space, encode = model.observation_space, model._encode
    q = model.policy.q_table.numpy()  # shares memory with the torch buffer that get_parameters/save read
    # fixed settings and bound methods in locals: at a few microseconds per step, attribute lookups show
    behaviour, td_update = partial(behaviour_action_one, model, q), partial(td_update_one, model, q)
    exploration_schedule = model.exploration_schedule
    needs_next_action, learning_starts = model.needs_next_action, model.learning_starts
    callback_active, constant_lr = model._loop_constants(callback)
    eps_moving = True  # see TabularAlgorithm._loop_constants
    start = int(space.start) if isinstance(space, spaces.Discrete) else None
    # the (1,)-shaped action batch of each action, made once and read-only (nothing may change it in place)
    action_batches = [np.array((a,)) for a in range(q.shape[2])]
    for batch in action_batches:
        batch.flags.writeable = False
    first_row, total = _first_row_reader(model, start, q.shape[1]), float(model._total_timesteps)

    state = first_row(model._last_obs)
    while model.num_timesteps < total_timesteps:
        if model._next_actions is not None:
            action = int(model._next_actions[0])  # SARSA: the a' its last target used is the action taken now
        else:
            action = behaviour(state)
        actions = action_batches[action]
        new_obs, rewards, dones, infos = env.step(actions)

        model.num_timesteps += 1
        reward = float(rewards[0])
        if reward - reward != 0.0:  # NaN or ±inf, before the table sees it
            check_env_step(type(model).__name__, model.num_timesteps, new_obs, rewards)
        if callback_active:  # else the callback is SB3's no-op wrapper of None: on_step would only return True
            callback.update_locals(locals())
            if not callback.on_step():
                model._last_obs = new_obs  # type: ignore[assignment]
                model._next_actions = None
                break
        done = bool(dones[0])
        new_state = next_state = first_row(new_obs)
        terminated = False
        if done:  # s' is the true final observation, not the reset one (see TabularAlgorithm._next_states)
            next_state = encode.one(infos[0]["terminal_observation"])
            terminated = not infos[0].get("TimeLimit.truncated", False)
        # _update_current_progress_remaining inlined; with one env num_timesteps never passes the total (no clamp)
        model._current_progress_remaining = 1.0 - float(model.num_timesteps) / total
        if eps_moving:
            model.exploration_rate = exploration_schedule(model._current_progress_remaining)
            eps_moving = 1.0 - model._current_progress_remaining <= model.exploration_fraction
        next_action = None
        if needs_next_action:
            next_action = behaviour(new_state)
            model._next_actions = action_batches[next_action]
            if done:
                next_action = behaviour(next_state)

        if model.num_timesteps > learning_starts:
            delta = td_update(state, action, reward, next_state, next_action, terminated, constant_lr)
            model._td_error_sum += abs(delta)
            model._td_error_count += 1
            model._n_updates += 1

        state = new_state
        model._last_obs = new_obs  # type: ignore[assignment]
        if done:
            model._on_episodes_end(1, dones, infos, log_interval)


__all__ = ["behaviour_action_one", "learn_one_env", "td_update_one"]
