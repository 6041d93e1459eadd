"""The TD targets of the tabular learners (notes §五), as pure NumPy functions over a batch of transitions.

Every target is y = r + γ · bootstrap(s'), with no bootstrap when the transition ``terminated`` (the episode
really ended: V(terminal) = 0). A time-limit truncation is *not* a termination: the caller passes the true final
observation's row as ``next_q`` and ``terminated=False``, so the target still bootstraps from it.

Shapes: ``rewards`` and ``terminated`` are (n,); ``next_q`` is (n, n_actions), the Q-values Q(s'_i, ·).
"""

import numpy as np


def _bootstrap(rewards: np.ndarray, next_value: np.ndarray, terminated: np.ndarray, gamma: float) -> np.ndarray:
    # np.where rather than (1 - terminated) * ...: an infinite optimistic Q(s', ·) must not turn into NaN
    return np.asarray(rewards, dtype=np.float64) + gamma * np.where(terminated, 0.0, next_value)


def q_learning_target(rewards: np.ndarray, next_q: np.ndarray, terminated: np.ndarray, gamma: float) -> np.ndarray:
    """
    Q-learning (Watkins, 1989): y = r + γ · max_a' Q(s', a').

    :param rewards: r, shape (n,)
    :param next_q: Q(s', ·), shape (n, n_actions)
    :param terminated: Whether s' is terminal, shape (n,)
    :param gamma: Discount factor γ
    :return: y, shape (n,)
    """
    return _bootstrap(rewards, next_q.max(axis=-1), terminated, gamma)


def sarsa_target(
    rewards: np.ndarray, next_q: np.ndarray, next_actions: np.ndarray, terminated: np.ndarray, gamma: float
) -> np.ndarray:
    """
    SARSA (Rummery & Niranjan, 1994): y = r + γ · Q(s', a'), a' the action the behaviour policy takes in s'.

    :param rewards: r, shape (n,)
    :param next_q: Q(s', ·), shape (n, n_actions)
    :param next_actions: a', shape (n,)
    :param terminated: Whether s' is terminal, shape (n,)
    :param gamma: Discount factor γ
    :return: y, shape (n,)
    """
    next_value = np.take_along_axis(next_q, np.asarray(next_actions, dtype=np.int64)[:, None], axis=-1)[:, 0]
    return _bootstrap(rewards, next_value, terminated, gamma)


def expected_sarsa_target(
    rewards: np.ndarray, next_q: np.ndarray, next_probs: np.ndarray, terminated: np.ndarray, gamma: float
) -> np.ndarray:
    """
    Expected SARSA (van Seijen et al., 2009): y = r + γ · Σ_a' π(a'|s') Q(s', a').

    :param rewards: r, shape (n,)
    :param next_q: Q(s', ·), shape (n, n_actions)
    :param next_probs: π(· | s'), shape (n, n_actions), e.g. from :func:`epsilon_greedy_probs`
    :param terminated: Whether s' is terminal, shape (n,)
    :param gamma: Discount factor γ
    :return: y, shape (n,)
    """
    return _bootstrap(rewards, (next_probs * next_q).sum(axis=-1), terminated, gamma)


def double_q_learning_target(
    rewards: np.ndarray, next_q_select: np.ndarray, next_q_evaluate: np.ndarray, terminated: np.ndarray, gamma: float
) -> np.ndarray:
    """
    Double Q-learning (van Hasselt, 2010): y = r + γ · Q_B(s', argmax_a' Q_A(s', a')), where Q_A is the table
    being updated (it selects a') and Q_B the other one (it evaluates a'), which removes max's upward bias.

    :param rewards: r, shape (n,)
    :param next_q_select: Q_A(s', ·), shape (n, n_actions)
    :param next_q_evaluate: Q_B(s', ·), shape (n, n_actions)
    :param terminated: Whether s' is terminal, shape (n,)
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
    "epsilon_greedy_probs",
    "expected_sarsa_target",
    "q_learning_target",
    "sarsa_target",
    "td_errors",
]
