import random
from typing import ClassVar

import numpy as np

from sb3_notes.common.td_targets import double_q_learning_target, double_q_learning_target_one
from sb3_notes.tabular.base import TabularAlgorithm, with_base_params


class DoubleQLearning(TabularAlgorithm):
    """
    Tabular Double Q-learning: two tables Q_A, Q_B; each transition updates one of them, chosen by a fair
    coin, towards y = r + γ · Q_B(s', argmax_a' Q_A(s', a')) (roles swapped when Q_B is updated). Acting
    (ε-greedy and ``predict``) uses the mean (Q_A + Q_B) / 2.

    Paper: van Hasselt, "Double Q-learning", NeurIPS 2010.
    https://papers.nips.cc/paper/2010/hash/091d584fced301b442654dd8c23b3fc9-Abstract.html
    """

    __doc__ = with_base_params(__doc__)
    n_tables: ClassVar[int] = 2

    def _update_tables(self, n: int) -> np.ndarray | None:
        return np.random.randint(2, size=n)

    def _update_table_one(self) -> int:
        return int(random.random() < 0.5)

    def _td_target(self, q, tables, rewards, next_states, next_actions, terminated) -> np.ndarray:
        assert tables is not None
        # Q_A (updated, selects a') and Q_B (evaluates it), each transition's own coin flip
        return double_q_learning_target(rewards, q[tables, next_states], q[1 - tables, next_states], terminated, self.gamma)

    def _td_target_one(self, q, table, reward, next_state, next_action, terminated) -> float:
        select, evaluate = q[table, next_state].tolist(), q[1 - table, next_state].tolist()
        return double_q_learning_target_one(reward, select, evaluate, terminated, self.gamma)


__all__ = ["DoubleQLearning"]
