"""The TD targets of the tabular learners (notes §5), as pure functions over one transition or a batch.

Every target is y = r + γ · V(s'), with no bootstrap when the transition ``terminated`` (the episode really
ended: V(terminal) = 0). A time-limit truncation is *not* a termination: the caller passes the true final
observation's row as ``next_q`` and ``terminated=False``, so the target still bootstraps from it.

Each target is written once, over the *rows* Q(s', ·), and takes either form of a transition:

- a batch: ``rewards`` and ``terminated`` of shape (n,), ``next_q`` a NumPy array of shape (n, n_actions)
  (``terminated=None``: none terminated, most steps of a training loop, which knows it already);
- one transition: ``rewards`` a float, ``terminated`` a bool, ``next_q`` a list of Q(s', ·) (the one-env loop:
  there a handful of tiny NumPy calls per step would cost more than the env step itself).

The row operations below (:func:`row_max`, :func:`row_mean`, :func:`row_argmax`, :func:`row_pick`) are the one
place that tells the two forms apart, so a new target is one function built from them.
"""

from typing import Any

import numpy as np

# A transition's Q(s', ·): a list (one transition) or an (n, n_actions) array (a batch)
Rows = Any


def q_rows(q: np.ndarray, tables: Any, states: Any) -> Rows:
    """
    Q(s, ·) from the tables, in the form the targets take: a list for one transition (``states`` an int), an
    (n, n_actions) array for a batch.

    :param q: The tables, shape (n_tables, n_states, n_actions)
    :param tables: The table of each transition: an int (the same for all), or shape (n,)
    :param states: The rows: an int, or shape (n,)
    :return: The rows Q_table(s, ·)
    """
    if type(states) is int:
        return q[tables, states].tolist()
    if type(tables) is int:
        return q[tables].take(states, axis=0)  # one table: cheaper than fancy indexing on both axes
    return q[tables, states]


def row_max(next_q: Rows) -> Any:
    """max_a' Q(s', a') of each row."""
    if type(next_q) is list:
        return max(next_q)
    return np.maximum.reduce(next_q, axis=-1)  # the ufunc's reduce directly: .max() adds a layer that shows


def row_mean(next_q: Rows) -> Any:
    """The mean over actions of each row."""
    if type(next_q) is list:
        return sum(next_q) / len(next_q)
    return next_q.mean(axis=-1)


def row_argmax(next_q: Rows) -> Any:
    """The first maximising action of each row (``argmax``'s tie-break)."""
    if type(next_q) is list:
        return next_q.index(max(next_q))
    return next_q.argmax(axis=-1)


def row_pick(next_q: Rows, actions: Any) -> Any:
    """Q(s', a) for each row's own action ``a``."""
    if type(next_q) is list:
        return next_q[actions]
    return np.take_along_axis(next_q, np.asarray(actions, dtype=np.int64)[:, None], axis=-1)[:, 0]


def bootstrap(rewards: Any, next_value: Any, terminated: Any, gamma: float) -> Any:
    """
    y = r + γ · V(s'), and y = r where ``terminated``.

    :param rewards: r, shape (n,), or a float
    :param next_value: V(s'), of the same form
    :param terminated: Whether s' is terminal, shape (n,) or a bool; ``None``: none is
    :param gamma: Discount factor γ
    :return: y, of the same form
    """
    if terminated is None or terminated is False:  # the common step: nothing ended, every target bootstraps
        return rewards + gamma * next_value
    if terminated is True:
        return rewards
    # np.where rather than (1 - terminated) * ...: an infinite optimistic Q(s', ·) must not turn into NaN.
    # np.asarray: float32 rewards from a VecEnv upcast when added to float64 values, no separate copy
    return np.asarray(rewards) + gamma * np.where(terminated, 0.0, next_value)


def q_learning_target(rewards: Any, next_q: Rows, terminated: Any, gamma: float) -> Any:
    """
    Q-learning (Watkins, 1989): y = r + γ · max_a' Q(s', a').

    :param rewards: r, shape (n,) (or a float: one transition, as in the module's docstring)
    :param next_q: Q(s', ·), shape (n, n_actions) (or a list)
    :param terminated: Whether s' is terminal, shape (n,) (or a bool); ``None``: none is
    :param gamma: Discount factor γ
    :return: y, shape (n,) (or a float)
    """
    return bootstrap(rewards, row_max(next_q), terminated, gamma)


def sarsa_target(rewards: Any, next_q: Rows, next_actions: Any, terminated: Any, gamma: float) -> Any:
    """
    SARSA (Rummery & Niranjan, 1994): y = r + γ · Q(s', a'), a' the action the behaviour policy takes in s'.

    :param rewards: r, shape (n,) (or a float)
    :param next_q: Q(s', ·), shape (n, n_actions) (or a list)
    :param next_actions: a', shape (n,) (or an int)
    :param terminated: Whether s' is terminal, shape (n,) (or a bool); ``None``: none is
    :param gamma: Discount factor γ
    :return: y, shape (n,) (or a float)
    """
    return bootstrap(rewards, row_pick(next_q, next_actions), terminated, gamma)


def expected_sarsa_target(rewards: Any, next_q: Rows, epsilon: float, terminated: Any, gamma: float) -> Any:
    """
    Expected SARSA (van Seijen et al., 2009) under the ε-greedy policy: y = r + γ · Σ_a' π(a'|s') Q(s', a')
    = r + γ · (ε · mean_a' Q(s', a') + (1 − ε) · max_a' Q(s', a')), the expectation of
    :func:`epsilon_greedy_probs` written out.

    :param rewards: r, shape (n,) (or a float)
    :param next_q: Q(s', ·), shape (n, n_actions) (or a list)
    :param epsilon: Exploration rate ε of the policy the expectation is taken under
    :param terminated: Whether s' is terminal, shape (n,) (or a bool); ``None``: none is
    :param gamma: Discount factor γ
    :return: y, shape (n,) (or a float)
    """
    return bootstrap(rewards, epsilon * row_mean(next_q) + (1.0 - epsilon) * row_max(next_q), terminated, gamma)


def double_q_learning_target(rewards: Any, next_q_select: Rows, next_q_evaluate: Rows, terminated: Any, gamma: float) -> Any:
    """
    Double Q-learning (van Hasselt, 2010): y = r + γ · Q_B(s', argmax_a' Q_A(s', a')), where Q_A is the table
    being updated (it selects a') and Q_B the other one (it evaluates a'), which removes max's upward bias.

    :param rewards: r, shape (n,) (or a float)
    :param next_q_select: Q_A(s', ·), shape (n, n_actions) (or a list)
    :param next_q_evaluate: Q_B(s', ·), of the same form
    :param terminated: Whether s' is terminal, shape (n,) (or a bool); ``None``: none is
    :param gamma: Discount factor γ
    :return: y, shape (n,) (or a float)
    """
    return bootstrap(rewards, row_pick(next_q_evaluate, row_argmax(next_q_select)), terminated, gamma)


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


def td_errors(targets: Any, q_values: Any) -> Any:
    """
    δ = y − Q(s, a), the step the table takes towards the target (times the learning rate).

    :param targets: y, shape (n,) (or a float)
    :param q_values: Q(s, a) of the transitions, of the same form
    :return: δ, of the same form
    """
    return targets - q_values


__all__ = [
    "bootstrap",
    "double_q_learning_target",
    "epsilon_greedy_probs",
    "expected_sarsa_target",
    "q_learning_target",
    "q_rows",
    "row_argmax",
    "row_max",
    "row_mean",
    "row_pick",
    "sarsa_target",
    "td_errors",
]
