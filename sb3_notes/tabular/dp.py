"""Dynamic programming on a known model: the exact references the tabular learners are tested against.

The model is gymnasium's toy-text format, ``env.unwrapped.P[s][a] = [(prob, next_state, reward, terminated), ...]``
(FrozenLake, Taxi, CliffWalking expose it). A ``terminated`` transition has no future value.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TabularModel:
    """
    The model as arrays: ``prob[s, a, s']`` = P(s' | s, a) over transitions that do *not* terminate (the
    terminating ones carry no future value), and ``reward[s, a]`` = E[r | s, a].
    """

    prob: np.ndarray
    reward: np.ndarray

    @property
    def n_states(self) -> int:
        """Number of states."""
        return self.prob.shape[0]

    @property
    def n_actions(self) -> int:
        """Number of actions."""
        return self.prob.shape[1]


@dataclass(frozen=True)
class DPSolution:
    """V*, Q* and the greedy optimal policy (first maximum on ties), from :func:`value_iteration`."""

    v: np.ndarray
    q: np.ndarray
    policy: np.ndarray
    iterations: int


def tabular_model(env_or_p: Any) -> TabularModel:
    """
    Read ``P`` (from an env, via ``env.unwrapped.P``, or given directly) into arrays.

    :param env_or_p: A gymnasium env exposing ``unwrapped.P``, or the ``P`` dict itself
    :return: The model as arrays
    """
    p = env_or_p if isinstance(env_or_p, dict) else getattr(getattr(env_or_p, "unwrapped", env_or_p), "P", None)
    if p is None:
        raise ValueError(f"{env_or_p!r} exposes no model `unwrapped.P`; DP needs P[s][a] = [(prob, s', r, terminated)]")
    n_states = len(p)
    n_actions = len(p[0])
    prob = np.zeros((n_states, n_actions, n_states))
    reward = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for transition_prob, next_state, r, terminated in p[s][a]:
                reward[s, a] += transition_prob * r
                if not terminated:
                    prob[s, a, next_state] += transition_prob
    return TabularModel(prob, reward)


def q_from_v(model: TabularModel, v: np.ndarray, gamma: float) -> np.ndarray:
    """
    Q(s, a) = E[r | s, a] + γ Σ_s' P(s' | s, a) V(s').

    :param model: The MDP (transition probabilities and expected rewards)
    :param v: V(s), shape (n_states,)
    :param gamma: Discount factor γ
    :return: Q, shape (n_states, n_actions)
    """
    return model.reward + gamma * model.prob @ v


def value_iteration(env_or_p: Any, gamma: float = 1.0, tol: float = 1e-10, max_iterations: int = 100_000) -> DPSolution:
    """
    Bellman optimality backups V(s) ← max_a Q(s, a) until the largest change is below ``tol``.

    :param env_or_p: Env exposing ``unwrapped.P``, or ``P`` itself
    :param gamma: Discount factor (1 is fine when every policy's episodes end, as in FrozenLake)
    :param tol: Stopping threshold on max_s |ΔV(s)|
    :param max_iterations: Raise ``RuntimeError`` if not converged by then
    :return: V*, Q*, greedy policy and the number of sweeps
    """
    model = env_or_p if isinstance(env_or_p, TabularModel) else tabular_model(env_or_p)
    v = np.zeros(model.n_states)
    for iteration in range(1, max_iterations + 1):
        q = q_from_v(model, v, gamma)
        new_v = q.max(axis=1)
        change = np.abs(new_v - v).max()
        v = new_v
        if change < tol:
            q = q_from_v(model, v, gamma)
            return DPSolution(v, q, q.argmax(axis=1), iteration)
    raise RuntimeError(f"value iteration did not converge in {max_iterations} sweeps (last change {change:g})")


def optimal_values_within(env_or_p: Any, horizon: int, gamma: float = 1.0) -> np.ndarray:
    """
    V*_H(s): the best expected return of the first H steps, over every policy, time-dependent ones included
    (H Bellman optimality backups from V = 0). Under a time limit H this is the optimum; a stationary policy
    (a table's greedy policy) may fall short of it, since the best action can depend on the steps left.

    :param env_or_p: Env exposing ``unwrapped.P``, ``P`` itself, or a :class:`TabularModel`
    :param horizon: H, the number of steps
    :param gamma: Discount factor
    :return: V*_H, shape (n_states,)
    """
    model = env_or_p if isinstance(env_or_p, TabularModel) else tabular_model(env_or_p)
    v = np.zeros(model.n_states)
    for _ in range(horizon):
        v = q_from_v(model, v, gamma).max(axis=1)
    return v


def policy_matrix(policy: np.ndarray, n_actions: int) -> np.ndarray:
    """
    π(a|s) as an (n_states, n_actions) matrix, from deterministic actions (n_states,) or the matrix itself.

    :param policy: One action per state, or π(a|s) already as a matrix
    :param n_actions: Number of actions
    :return: π(a|s), shape (n_states, n_actions)
    """
    policy = np.asarray(policy)
    if policy.ndim == 1:
        return np.eye(n_actions)[policy.astype(np.int64)]
    return policy.astype(np.float64)


def policy_evaluation(env_or_p: Any, policy: np.ndarray, gamma: float = 1.0, horizon: int | None = None) -> np.ndarray:
    """
    V^π exactly: solve (I − γ P_π) V = r_π, or, with a ``horizon`` H, the value of the first H steps
    (H backups from V = 0), e.g. FrozenLake's success probability within its 100-step time limit.

    :param env_or_p: Env exposing ``unwrapped.P``, or ``P`` itself
    :param policy: Deterministic actions, shape (n_states,), or π(a|s), shape (n_states, n_actions)
    :param gamma: Discount factor
    :param horizon: Number of steps, or ``None`` for the infinite-horizon value
    :return: V^π, shape (n_states,)
    """
    model = env_or_p if isinstance(env_or_p, TabularModel) else tabular_model(env_or_p)
    pi = policy_matrix(policy, model.n_actions)
    p_pi = np.einsum("sa,sat->st", pi, model.prob)
    r_pi = (pi * model.reward).sum(axis=1)
    if horizon is None:
        return np.linalg.solve(np.eye(model.n_states) - gamma * p_pi, r_pi)
    v = np.zeros(model.n_states)
    for _ in range(horizon):
        v = r_pi + gamma * p_pi @ v
    return v


__all__ = [
    "DPSolution",
    "TabularModel",
    "optimal_values_within",
    "policy_evaluation",
    "policy_matrix",
    "q_from_v",
    "tabular_model",
    "value_iteration",
]
