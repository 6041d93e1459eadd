"""The TD targets of the tabular learners (notes §5), as pure NumPy functions over a batch of transitions.

Every target is y = r + γ · bootstrap(s'), with no bootstrap when the transition ``terminated`` (the episode
really ended: V(terminal) = 0). A time-limit truncation is *not* a termination: the caller passes the true final
observation's row as ``next_q`` and ``terminated=False``, so the target still bootstraps from it.

Shapes: ``rewards`` and ``terminated`` are (n,); ``next_q`` is (n, n_actions), the Q-values Q(s'_i, ·).
``terminated=None`` says that none terminated (most steps of a training loop, which knows it already).

Each target also has a ``*_one`` twin for a single transition in plain Python floats (``next_q`` a list of
Q(s', ·)): with one env, a handful of tiny NumPy calls per step would cost more than the env step itself. The
twins compute the same numbers (the tests check both against the same hand-worked values).
"""

from collections.abc import Sequence

import numpy as np


def _bootstrap(rewards: np.ndarray, next_value: np.ndarray, terminated: np.ndarray | None, gamma: float) -> np.ndarray:
    rewards = np.asarray(rewards)  # float32 from a VecEnv: adding float64 values upcasts, no separate copy
    if terminated is None:  # the common step: nothing ended, every target bootstraps
        return rewards + gamma * next_value
    # np.where rather than (1 - terminated) * ...: an infinite optimistic Q(s', ·) must not turn into NaN
    return rewards + gamma * np.where(terminated, 0.0, next_value)


def q_learning_target(rewards: np.ndarray, next_q: np.ndarray, terminated: np.ndarray | None, gamma: float) -> np.ndarray:
    """
    Q-learning (Watkins, 1989): y = r + γ · max_a' Q(s', a').

    :param rewards: r, shape (n,)
    :param next_q: Q(s', ·), shape (n, n_actions)
    :param terminated: Whether s' is terminal, shape (n,); ``None``: none is
    :param gamma: Discount factor γ
    :return: y, shape (n,)
    """
    # max_a' Q(s', a'), by the ufunc's reduce directly (.max() adds a layer that shows at a few envs)
    return _bootstrap(rewards, np.maximum.reduce(next_q, axis=-1), terminated, gamma)


def sarsa_target(
    rewards: np.ndarray, next_q: np.ndarray, next_actions: np.ndarray, terminated: np.ndarray | None, gamma: float
) -> np.ndarray:
    """
    SARSA (Rummery & Niranjan, 1994): y = r + γ · Q(s', a'), a' the action the behaviour policy takes in s'.

    :param rewards: r, shape (n,)
    :param next_q: Q(s', ·), shape (n, n_actions)
    :param next_actions: a', shape (n,)
    :param terminated: Whether s' is terminal, shape (n,); ``None``: none is
    :param gamma: Discount factor γ
    :return: y, shape (n,)
    """
    next_value = np.take_along_axis(next_q, np.asarray(next_actions, dtype=np.int64)[:, None], axis=-1)[:, 0]
    return _bootstrap(rewards, next_value, terminated, gamma)


def expected_sarsa_target(
    rewards: np.ndarray, next_q: np.ndarray, next_probs: np.ndarray, terminated: np.ndarray | None, gamma: float
) -> np.ndarray:
    """
    Expected SARSA (van Seijen et al., 2009): y = r + γ · Σ_a' π(a'|s') Q(s', a').

    :param rewards: r, shape (n,)
    :param next_q: Q(s', ·), shape (n, n_actions)
    :param next_probs: π(· | s'), shape (n, n_actions), e.g. from :func:`epsilon_greedy_probs`
    :param terminated: Whether s' is terminal, shape (n,); ``None``: none is
    :param gamma: Discount factor γ
    :return: y, shape (n,)
    """
    return _bootstrap(rewards, (next_probs * next_q).sum(axis=-1), terminated, gamma)


def double_q_learning_target(
    rewards: np.ndarray, next_q_select: np.ndarray, next_q_evaluate: np.ndarray, terminated: np.ndarray | None, gamma: float
) -> np.ndarray:
    """
    Double Q-learning (van Hasselt, 2010): y = r + γ · Q_B(s', argmax_a' Q_A(s', a')), where Q_A is the table
    being updated (it selects a') and Q_B the other one (it evaluates a'), which removes max's upward bias.

    :param rewards: r, shape (n,)
    :param next_q_select: Q_A(s', ·), shape (n, n_actions)
    :param next_q_evaluate: Q_B(s', ·), shape (n, n_actions)
    :param terminated: Whether s' is terminal, shape (n,); ``None``: none is
    :param gamma: Discount factor γ
    :return: y, shape (n,)
    """
    best = next_q_select.argmax(axis=-1)
    next_value = np.take_along_axis(next_q_evaluate, best[:, None], axis=-1)[:, 0]
    return _bootstrap(rewards, next_value, terminated, gamma)


def epsilon_greedy_probs(q_values: np.ndarray, epsilon: float) -> np.ndarray:
    """
    π(a|s) of the ε-greedy policy: ε/|A| on every action plus 1 − ε on the greedy one (the first maximum,
    as ``argmax`` and the learners' action choice break ties).

    :param q_values: Q(s, ·), shape (..., n_actions)
    :param epsilon: Exploration rate ε in [0, 1]
    :return: Probabilities of the same shape, each row summing to 1
    """
    n_actions = q_values.shape[-1]
    probs = np.full(q_values.shape, epsilon / n_actions)
    np.put_along_axis(probs, q_values.argmax(axis=-1)[..., None], 1.0 - epsilon + epsilon / n_actions, axis=-1)
    return probs


def q_learning_target_one(reward: float, next_q: Sequence[float], terminated: bool, gamma: float) -> float:
    """
    :func:`q_learning_target` for one transition: y = r + γ · max_a' Q(s', a').

    :param reward: r
    :param next_q: Q(s', ·), one value per action
    :param terminated: Whether s' is terminal
    :param gamma: Discount factor γ
    :return: y
    """
    return reward if terminated else reward + gamma * max(next_q)


def sarsa_target_one(reward: float, next_q: Sequence[float], next_action: int, terminated: bool, gamma: float) -> float:
    """
    :func:`sarsa_target` for one transition: y = r + γ · Q(s', a').

    :param reward: r
    :param next_q: Q(s', ·), one value per action
    :param next_action: a'
    :param terminated: Whether s' is terminal
    :param gamma: Discount factor γ
    :return: y
    """
    return reward if terminated else reward + gamma * next_q[next_action]


def expected_sarsa_target_one(reward: float, next_q: Sequence[float], epsilon: float, terminated: bool, gamma: float) -> float:
    """
    :func:`expected_sarsa_target` for one transition under the ε-greedy policy:
    y = r + γ · (ε/|A| · Σ_a' Q(s', a') + (1 − ε) · max_a' Q(s', a')), the expectation of
    :func:`epsilon_greedy_probs` written out.

    :param reward: r
    :param next_q: Q(s', ·), one value per action
    :param epsilon: Exploration rate ε of the policy the expectation is taken under
    :param terminated: Whether s' is terminal
    :param gamma: Discount factor γ
    :return: y
    """
    if terminated:
        return reward
    return reward + gamma * (epsilon / len(next_q) * sum(next_q) + (1.0 - epsilon) * max(next_q))


def double_q_learning_target_one(
    reward: float, next_q_select: list[float], next_q_evaluate: Sequence[float], terminated: bool, gamma: float
) -> float:
    """
    :func:`double_q_learning_target` for one transition: y = r + γ · Q_B(s', argmax_a' Q_A(s', a')), the first
    maximum on ties (as ``argmax``).

    :param reward: r
    :param next_q_select: Q_A(s', ·), the table being updated
    :param next_q_evaluate: Q_B(s', ·), the other table
    :param terminated: Whether s' is terminal
    :param gamma: Discount factor γ
    :return: y
    """
    if terminated:
        return reward
    best = next_q_select.index(max(next_q_select))
    return reward + gamma * next_q_evaluate[best]


def td_errors(targets: np.ndarray, q_values: np.ndarray) -> np.ndarray:
    """
    δ = y − Q(s, a), the step the table takes towards the target (times the learning rate).

    :param targets: y, shape (n,)
    :param q_values: Q(s, a) of the transitions, shape (n,)
    :return: δ, shape (n,)
    """
    return targets - q_values


__all__ = [
    "double_q_learning_target",
    "double_q_learning_target_one",
    "epsilon_greedy_probs",
    "expected_sarsa_target",
    "expected_sarsa_target_one",
    "q_learning_target",
    "q_learning_target_one",
    "sarsa_target",
    "sarsa_target_one",
    "td_errors",
]
