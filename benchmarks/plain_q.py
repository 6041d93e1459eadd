"""The tabular peer: the plain-Python Q-learning loop people write by hand (Gymnasium's tutorials' style).

One ``gym.make`` env, the table as a ``defaultdict`` keyed by the observation itself (an int, or Blackjack's
tuple), ε-greedy with DQN's linear ε schedule, the textbook update. Nothing of SB3: no VecEnv, Monitor,
logger or callbacks. It takes the learners' hyperparameter names, so a benchmark case can hand both sides the
same values.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np


def plain_q_learning(
    env_id: str,
    total_timesteps: int,
    seed: int,
    learning_rate: float | Callable[[float], float] = 0.1,
    gamma: float = 0.99,
    exploration_fraction: float = 0.5,
    exploration_initial_eps: float = 1.0,
    exploration_final_eps: float = 0.05,
    initial_q: float = 0.0,
    callback: Callable[[int, dict[Any, np.ndarray]], None] | None = None,
    callback_every: int = 1,
) -> dict[Any, np.ndarray]:
    """
    Q-learning for ``total_timesteps`` env steps; returns the table (observation → action values).

    :param learning_rate: α, or a function of the progress remaining (1 → 0), as SB3 schedules
    :param callback: Called as ``callback(steps_done, table)`` every ``callback_every`` steps (the benchmark's
        evaluation hook)
    """
    env = gym.make(env_id)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    q: dict[Any, np.ndarray] = defaultdict(lambda: np.full(n_actions, initial_q, dtype=float))
    rng = np.random.default_rng(seed)
    decay_steps = max(exploration_fraction * total_timesteps, 1.0)
    schedule = learning_rate if callable(learning_rate) else None
    alpha = 0.0 if callable(learning_rate) else learning_rate
    state, _ = env.reset(seed=seed)
    for t in range(total_timesteps):
        epsilon = exploration_initial_eps + (exploration_final_eps - exploration_initial_eps) * min(1.0, t / decay_steps)
        if schedule is not None:  # as SB3: the progress after this step, when the update is made
            alpha = schedule(1.0 - (t + 1) / total_timesteps)
        action = int(rng.integers(n_actions)) if rng.random() < epsilon else int(np.argmax(q[state]))
        next_state, reward, terminated, truncated, _ = env.step(action)
        target = reward if terminated else reward + gamma * np.max(q[next_state])
        q[state][action] += alpha * (target - q[state][action])
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
        if callback is not None and (t + 1) % callback_every == 0:
            callback(t + 1, q)
    env.close()
    return q
