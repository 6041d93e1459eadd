"""Returns and baselines of the policy gradient (notes §2), one episode or one batch of whole episodes at a time.

All functions take and return NumPy arrays (float64), so that they can be checked against numbers worked out by
hand. An episode is the list of its rewards r_0 … r_{T-1}; ``last_value`` is what follows the last reward:
0 for an episode that *terminated*, V(s_T) for one cut by a time limit (*truncated*) when a learned value exists.
"""

from collections.abc import Sequence

import numpy as np

from sb3_notes.common.validation import check_choice, check_range

RETURNS = ("total", "reward_to_go")
BASELINES = ("none", "mean", "value")


def _as_rewards(rewards: Sequence[float] | np.ndarray) -> np.ndarray:
    rewards = np.asarray(rewards, dtype=np.float64)
    if rewards.ndim != 1 or len(rewards) == 0:
        raise ValueError(f"An episode's rewards must be a non-empty 1-D sequence, got shape {rewards.shape}")
    return rewards


def reward_to_go(rewards: Sequence[float] | np.ndarray, gamma: float, last_value: float = 0.0) -> np.ndarray:
    """
    Discounted reward-to-go of every step (notes §2, improvement 2):
    G_t = Σ_{t'=t}^{T-1} γ^{t'-t} r_{t'} + γ^{T-t} · last_value.

    :param rewards: r_0 … r_{T-1} of one episode
    :param gamma: Discount factor γ
    :param last_value: Value of the state after the last step (0 if the episode terminated)
    :return: G_0 … G_{T-1}
    """
    rewards = _as_rewards(rewards)
    returns = np.empty_like(rewards)
    future = float(last_value)
    for t in range(len(rewards) - 1, -1, -1):
        future = rewards[t] + gamma * future
        returns[t] = future
    return returns


def total_return(rewards: Sequence[float] | np.ndarray, gamma: float, last_value: float = 0.0) -> np.ndarray:
    """
    The whole-trajectory return R(τ) = Σ_t γ^t r_t (+ γ^T · last_value), given to every step of τ (the notes' first
    estimator weighs every ∇log π(a_t|s_t) by the same R(τ); the notes write γ = 1).

    :param rewards: r_0 … r_{T-1} of one episode
    :param gamma: Discount factor γ
    :param last_value: Value of the state after the last step (0 if the episode terminated)
    :return: An array of length T, every entry R(τ)
    """
    return np.full(len(_as_rewards(rewards)), reward_to_go(rewards, gamma, last_value)[0])


def mean_baseline(returns: np.ndarray) -> float:
    """
    The notes' baseline b ≈ E[R]: the mean of the return estimates over every step of the batch.

    It is computed from the same batch it is subtracted from, so the estimator is biased by O(1/N): with N one-step
    episodes its expectation is exactly (1 − 1/N) times the true gradient (each episode's own return is part of b).

    :param returns: The return estimate of every step of the batch
    :return: b
    """
    return float(np.mean(returns))


def gae(
    rewards: Sequence[float] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    gamma: float,
    gae_lambda: float,
    last_value: float = 0.0,
) -> np.ndarray:
    """
    Generalized Advantage Estimation over one episode: δ_t = r_t + γ V(s_{t+1}) − V(s_t) with V(s_T) = ``last_value``,
    A_t = Σ_k (γλ)^k δ_{t+k}. With λ = 1 this is reward_to_go(rewards, γ, last_value) − V(s_t) (Monte Carlo).

    :param rewards: r_0 … r_{T-1}
    :param values: V(s_0) … V(s_{T-1})
    :param gamma: Discount factor γ
    :param gae_lambda: λ in [0, 1]
    :param last_value: V(s_T) for a truncated episode, 0 for one that terminated
    :return: A_0 … A_{T-1}
    """
    rewards = _as_rewards(rewards)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != rewards.shape:
        raise ValueError(f"`values` has shape {values.shape}, the rewards {rewards.shape}")
    next_values = np.append(values[1:], float(last_value))
    deltas = rewards + gamma * next_values - values
    advantages = np.empty_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = deltas[t] + gamma * gae_lambda * running
        advantages[t] = running
    return advantages


def batch_returns_and_advantages(
    rewards: Sequence[Sequence[float] | np.ndarray],
    gamma: float,
    returns: str = "reward_to_go",
    baseline: str = "none",
    values: Sequence[Sequence[float] | np.ndarray] | None = None,
    last_values: Sequence[float] | None = None,
    gae_lambda: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Return estimates and advantages of a batch of whole episodes, concatenated in episode order.

    - ``returns="total"``: R(τ) for every step; ``"reward_to_go"``: G_t (see :func:`reward_to_go`).
    - ``baseline="none"``: A = return; ``"mean"``: A = return − :func:`mean_baseline`;
      ``"value"``: A = GAE(λ) with the given V(s_t) (with ``"total"``, λ must be 1 and A = R(τ) − V(s_t)).

    :param rewards: One reward sequence per episode
    :param gamma: Discount factor γ
    :param returns: ``"total"`` or ``"reward_to_go"``
    :param baseline: ``"none"``, ``"mean"`` or ``"value"``
    :param values: V(s_t) of every step, one sequence per episode (needed by ``baseline="value"``)
    :param last_values: Per episode, what follows its last reward: 0 if it terminated, V(s_T) if it was truncated
        and is to be bootstrapped. ``None``: all 0
    :param gae_lambda: λ of GAE (``baseline="value"`` only)
    :return: (returns, advantages); the returns are the critic's regression targets (with λ < 1: A + V, the λ-return)
    """
    check_choice("returns", returns, RETURNS)
    check_choice("baseline", baseline, BASELINES)
    check_range("gamma", gamma, 0.0, 1.0)
    check_range("gae_lambda", gae_lambda, 0.0, 1.0)
    if last_values is None:
        last_values = [0.0] * len(rewards)
    if len(last_values) != len(rewards):
        raise ValueError(f"{len(last_values)} `last_values` for {len(rewards)} episodes")
    estimator = total_return if returns == "total" else reward_to_go
    episode_returns = [estimator(r, gamma, v) for r, v in zip(rewards, last_values, strict=True)]
    all_returns = np.concatenate(episode_returns)

    if baseline == "none":
        return all_returns, all_returns.copy()
    if baseline == "mean":
        return all_returns, all_returns - mean_baseline(all_returns)

    if values is None or len(values) != len(rewards):
        raise ValueError('baseline="value" needs `values`, one sequence per episode')
    all_values = np.concatenate([np.asarray(v, dtype=np.float64) for v in values])
    if len(all_values) != len(all_returns):
        raise ValueError(f"{len(all_values)} values for {len(all_returns)} steps")
    if gae_lambda == 1.0 or returns == "total":
        if returns == "total" and gae_lambda != 1.0:
            raise ValueError(f'`gae_lambda`={gae_lambda!r} needs returns="reward_to_go"; with returns="total" use 1.0')
        return all_returns, all_returns - all_values
    advantages = np.concatenate(
        [gae(r, v, gamma, gae_lambda, last) for r, v, last in zip(rewards, values, last_values, strict=True)]
    )
    return advantages + all_values, advantages
