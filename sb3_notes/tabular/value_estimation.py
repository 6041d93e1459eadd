"""Estimating the critic V^π(s) from experience (notes §5): Monte Carlo returns or temporal differences.

- MC: run episodes with π; V(s) is the average of the returns G_t observed after visiting s.
  Unbiased, but G_t sums many random rewards (high variance).
- TD(0): after each step, V(s_t) ← V(s_t) + α (r_t + γ V(s_{t+1}) − V(s_t)), i.e. make
  V(s_t) − γ V(s_{t+1}) match r_t. Lower variance, biased by the current estimate of V(s_{t+1}).
"""

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from sb3_notes.common.returns import reward_to_go
from sb3_notes.common.state_encoding import check_tabular_space, encode, n_states
from sb3_notes.common.validation import check_choice, check_range, check_type


def _as_policy(policy: Any, n_actions: int, rng: np.random.Generator) -> Callable[[int, Any], int]:
    """(state index, raw observation) -> action, from the forms :func:`estimate_v` accepts."""
    if isinstance(policy, np.ndarray):
        if policy.ndim == 1:
            return lambda s, obs: int(policy[s])
        if policy.ndim == 2 and policy.shape[1] == n_actions:
            cumulative = np.cumsum(policy, axis=1)
            # inverse-CDF sampling from π(·|s); min() guards rows that sum to 1 - 1e-16
            return lambda s, obs: min(int(np.searchsorted(cumulative[s], rng.random(), side="right")), n_actions - 1)
        raise ValueError(f"`policy` array of shape {policy.shape} must be (n_states,) actions or (n_states, {n_actions})")
    if hasattr(policy, "predict"):
        return lambda s, obs: int(policy.predict(obs, deterministic=True)[0])
    if callable(policy):
        return lambda s, obs: int(policy(obs))
    raise TypeError(
        f"`policy`={policy!r} must be an array (actions or π(a|s) per state), a model with predict(), or a callable"
    )


def estimate_v(
    policy: Any,
    env: gym.Env,
    method: str = "mc",
    n_episodes: int = 1000,
    gamma: float = 1.0,
    learning_rate: float | Callable[[int], float] = 0.05,
    first_visit: bool = True,
    seed: int | None = None,
) -> np.ndarray:
    """
    Estimate the state values V^π(s) of ``policy`` on ``env`` from ``n_episodes`` episodes.

    :param policy: π as deterministic actions per state (n_states,), a matrix π(a|s) (n_states, n_actions),
        a model or policy with SB3's ``predict`` (its greedy action is used), or a callable obs -> action
    :param env: A (non-vectorised) gymnasium env with a tabular observation space and Discrete actions
    :param method: ``"mc"`` (Monte Carlo returns) or ``"td"`` (TD(0))
    :param n_episodes: Number of episodes to run
    :param gamma: Discount factor
    :param learning_rate: TD(0) step size α: a float, or a function of the state's visit count n (e.g.
        ``lambda n: n ** -0.7``, which satisfies Robbins-Monro and so converges). Unused by MC, whose step
        is 1/n (the running mean)
    :param first_visit: MC only: average the return after the first visit of s in each episode (True) or
        after every visit (False)
    :param seed: Seeds the first ``env.reset`` and the sampling of stochastic policies
    :return: V(s) for every state index of :func:`~sb3_notes.common.state_encoding.encode`; 0 where s was never
        visited (including terminal states, whose value is 0). A time-limit truncation bootstraps from V of the
        final state in TD(0); MC's return simply stops there
    """
    check_choice("method", method, ("mc", "td"))
    check_type("n_episodes", n_episodes, int)
    check_range("n_episodes", n_episodes, 1)
    check_range("gamma", gamma, 0.0, 1.0)
    if not callable(learning_rate):
        check_range("learning_rate", learning_rate, 0.0, 1.0, low_inclusive=False)
    check_tabular_space(env.observation_space)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ValueError(f"`env.action_space`={env.action_space} is not supported; accepted: Discrete")
    rng = np.random.default_rng(seed)
    act = _as_policy(policy, int(env.action_space.n), rng)
    space = env.observation_space
    v = np.zeros(n_states(space))
    visits = np.zeros(len(v), dtype=np.int64)

    obs, _ = env.reset(seed=seed)
    for _ in range(n_episodes):
        states, rewards = [], []
        done = False
        while not done:
            s = int(encode(space, obs))
            next_obs, reward, terminated, truncated, _ = env.step(act(s, obs))
            if method == "td":
                next_s = int(encode(space, next_obs))
                target = float(reward) + (0.0 if terminated else gamma * v[next_s])  # TD target r + γ V(s')
                visits[s] += 1
                alpha = learning_rate(int(visits[s])) if callable(learning_rate) else learning_rate
                v[s] += alpha * (target - v[s])
            states.append(s)
            rewards.append(float(reward))
            obs = next_obs
            done = terminated or truncated
        if method == "mc":
            _mc_update(v, visits, states, rewards, gamma, first_visit)
        obs, _ = env.reset()
    return v


def _mc_update(
    v: np.ndarray, visits: np.ndarray, states: list[int], rewards: list[float], gamma: float, first_visit: bool
) -> None:
    """Running mean of the returns G_t = r_t + γ G_{t+1} (the notes' reward-to-go) of one episode."""
    returns = reward_to_go(rewards, gamma)
    seen: set[int] = set()
    for t, s in enumerate(states):
        if first_visit:
            if s in seen:
                continue
            seen.add(s)
        visits[s] += 1
        v[s] += (returns[t] - v[s]) / visits[s]


__all__ = ["estimate_v"]
