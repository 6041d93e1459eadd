"""Each TD target against a number worked out by hand on a fixed transition (terminated and truncated)."""

import numpy as np
import pytest

from sb3_notes.common.td_targets import (
    double_q_learning_target,
    epsilon_greedy_probs,
    expected_sarsa_target,
    q_learning_target,
    q_rows,
    row_argmax,
    row_max,
    row_mean,
    row_pick,
    sarsa_target,
    td_errors,
)

# Two transitions with the same r and Q(s', ·) = [1, 3, 2]: the first truncated (bootstraps), the second terminated.
REWARDS = np.array([0.5, 0.5])
NEXT_Q = np.array([[1.0, 3.0, 2.0], [1.0, 3.0, 2.0]])
TERMINATED = np.array([False, True])
GAMMA = 0.9


def test_q_learning_target_by_hand():
    # 0.5 + 0.9 * max(1, 3, 2) = 3.2; terminated: 0.5
    np.testing.assert_allclose(q_learning_target(REWARDS, NEXT_Q, TERMINATED, GAMMA), [3.2, 0.5])


def test_sarsa_target_uses_the_next_action_taken():
    # a' = 2: 0.5 + 0.9 * 2 = 2.3; a' = 1 but terminated: 0.5
    np.testing.assert_allclose(sarsa_target(REWARDS, NEXT_Q, np.array([2, 1]), TERMINATED, GAMMA), [2.3, 0.5])


def test_expected_sarsa_target_by_hand():
    # ε = 0.3 on 3 actions: π = [0.1, 0.8, 0.1]; E[Q] = 0.1 + 2.4 + 0.2 = 2.7; 0.5 + 0.9 * 2.7 = 2.93
    np.testing.assert_allclose(expected_sarsa_target(REWARDS, NEXT_Q, 0.3, TERMINATED, GAMMA), [2.93, 0.5])


@pytest.mark.parametrize("epsilon", [0.0, 0.3, 1.0])
def test_expected_sarsa_target_is_the_expectation_under_epsilon_greedy_probs(epsilon):
    # the target's closed form against the explicit sum Σ_a' π(a'|s') Q(s', a'), on rows with ties and without
    rows = np.random.default_rng(0).normal(size=(20, 5))
    rows[:5, 1] = rows[:5, 3] = rows[:5].max(axis=1) + 1.0  # tied maxima
    expected = 0.5 + GAMMA * (epsilon_greedy_probs(rows, epsilon) * rows).sum(axis=1)
    np.testing.assert_allclose(expected_sarsa_target(np.full(20, 0.5), rows, epsilon, None, GAMMA), expected, rtol=1e-12)


def test_double_q_target_selects_with_one_table_and_evaluates_with_the_other():
    other = np.array([[10.0, -4.0, 7.0], [10.0, -4.0, 7.0]])
    # argmax of the selecting table is action 1; the other table values it at -4: 0.5 + 0.9 * -4 = -3.1
    np.testing.assert_allclose(double_q_learning_target(REWARDS, NEXT_Q, other, TERMINATED, GAMMA), [-3.1, 0.5])


def test_expected_sarsa_with_epsilon_zero_equals_q_learning():
    np.testing.assert_allclose(
        expected_sarsa_target(REWARDS, NEXT_Q, 0.0, TERMINATED, GAMMA), q_learning_target(REWARDS, NEXT_Q, TERMINATED, GAMMA)
    )


def test_epsilon_greedy_probs_by_hand():
    # ε = 0.3, 3 actions: 0.1 each, plus 0.7 on the greedy action; ties go to the first maximum
    np.testing.assert_allclose(epsilon_greedy_probs(np.array([[1.0, 3.0, 2.0]]), 0.3), [[0.1, 0.8, 0.1]])
    np.testing.assert_allclose(epsilon_greedy_probs(np.array([[5.0, 5.0]]), 0.5), [[0.75, 0.25]])


def test_terminated_ignores_infinite_optimistic_values():
    y = q_learning_target(np.array([1.0]), np.array([[np.inf, 0.0]]), np.array([True]), 0.99)
    assert y[0] == 1.0


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_gamma_edges(gamma):
    y = q_learning_target(REWARDS, NEXT_Q, TERMINATED, gamma)
    np.testing.assert_allclose(y, [0.5 + 3.0 * gamma, 0.5])


def test_td_error_is_target_minus_estimate():
    np.testing.assert_allclose(td_errors(np.array([3.2, 0.5]), np.array([1.0, 1.5])), [2.2, -1.0])


# --- one transition in plain Python numbers (the one-env loop), against the same hand-worked numbers --------
ROW = [1.0, 3.0, 2.0]


@pytest.mark.parametrize(("terminated", "expected"), [(False, 3.2), (True, 0.5)])
def test_q_learning_target_of_one_transition_by_hand(terminated, expected):
    y = q_learning_target(0.5, ROW, terminated, GAMMA)
    assert type(y) is float and y == pytest.approx(expected)


@pytest.mark.parametrize(("terminated", "expected"), [(False, 2.3), (True, 0.5)])
def test_sarsa_target_of_one_transition_by_hand(terminated, expected):
    assert sarsa_target(0.5, ROW, 2, terminated, GAMMA) == pytest.approx(expected)


@pytest.mark.parametrize(("terminated", "expected"), [(False, 2.93), (True, 0.5)])
def test_expected_sarsa_target_of_one_transition_by_hand(terminated, expected):
    assert expected_sarsa_target(0.5, ROW, 0.3, terminated, GAMMA) == pytest.approx(expected)


@pytest.mark.parametrize(("terminated", "expected"), [(False, -3.1), (True, 0.5)])
def test_double_q_target_of_one_transition_by_hand(terminated, expected):
    assert double_q_learning_target(0.5, ROW, [10.0, -4.0, 7.0], terminated, GAMMA) == pytest.approx(expected)


def test_double_q_target_breaks_ties_on_the_first_maximum_in_both_forms():
    # both actions 0 and 1 are maximal in the selecting table: argmax picks 0, valued at 10 by the other
    assert double_q_learning_target(0.0, [3.0, 3.0, 1.0], [10.0, -4.0, 7.0], False, 1.0) == 10.0
    y = double_q_learning_target(np.zeros(1), np.array([[3.0, 3.0, 1.0]]), np.array([[10.0, -4.0, 7.0]]), None, 1.0)
    assert y.tolist() == [10.0]


def test_one_transition_ignores_infinite_optimistic_values_when_terminated():
    assert q_learning_target(1.0, [np.inf, 0.0], True, 0.99) == 1.0


def test_row_operations_agree_on_lists_and_arrays():
    rows = np.random.default_rng(1).normal(size=(30, 4))
    rows[:6, 0] = rows[:6, 2] = rows[:6].max(axis=1) + 1.0  # tied maxima: the first one wins in both forms
    actions = np.random.default_rng(2).integers(4, size=30)
    for op, args in ((row_max, ()), (row_mean, ()), (row_argmax, ()), (row_pick, (actions,))):
        batched = op(rows, *args)
        one = [op(row.tolist(), *(int(a[i]) for a in args)) for i, row in enumerate(rows)]
        np.testing.assert_allclose(one, batched, rtol=1e-12, err_msg=op.__name__)
    np.testing.assert_array_equal(row_argmax(rows[:6]), np.zeros(6))


def test_q_rows_reads_the_same_rows_in_both_forms():
    q = np.arange(2 * 5 * 3, dtype=float).reshape(2, 5, 3)
    states, tables = np.array([4, 0, 2]), np.array([1, 0, 1])
    np.testing.assert_array_equal(q_rows(q, 0, states), q[0, [4, 0, 2]])
    np.testing.assert_array_equal(q_rows(q, tables, states), [q[1, 4], q[0, 0], q[1, 2]])
    assert q_rows(q, 1, 4) == q[1, 4].tolist() and type(q_rows(q, 1, 4)) is list


def test_terminated_none_means_none_terminated():
    none_ended = np.array([False, False])
    other = np.array([[10.0, -4.0, 7.0], [10.0, -4.0, 7.0]])
    actions = np.array([2, 0])
    for target, args in (
        (q_learning_target, (NEXT_Q,)),
        (sarsa_target, (NEXT_Q, actions)),
        (expected_sarsa_target, (NEXT_Q, 0.3)),
        (double_q_learning_target, (NEXT_Q, other)),
    ):
        np.testing.assert_array_equal(target(REWARDS, *args, None, GAMMA), target(REWARDS, *args, none_ended, GAMMA))
