from typing import Any, ClassVar

import numpy as np

from sb3_notes.common.td_targets import double_q_learning_target, q_rows
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
    n_tables: ClassVar[int] = 2  # the base draws each transition's table, the fair coin

    def _td_target(
        self, q: np.ndarray, tables: Any, rewards: Any, next_states: Any, next_actions: Any, terminated: Any
    ) -> Any:
        # Q_A (updated, selects a') and Q_B (evaluates it), each transition's own coin flip
        select, evaluate = q_rows(q, tables, next_states), q_rows(q, 1 - tables, next_states)
        return double_q_learning_target(rewards, select, evaluate, terminated, self.gamma)


__all__ = ["DoubleQLearning"]
