from typing import ClassVar

import numpy as np

from sb3_notes.common.td_targets import q_learning_target, q_learning_target_one
from sb3_notes.tabular.base import TabularAlgorithm, with_base_params


class QLearning(TabularAlgorithm):
    """
    Tabular Q-learning (notes §5): off-policy TD control towards y = r + γ · max_a' Q(s', a').

    The table converges to Q* (given enough exploration and a decreasing α), whatever the ε-greedy behaviour
    does, so the greedy policy π'(s) = argmax_a Q(s, a) is the notes' improved actor.

    Paper: Watkins & Dayan, "Q-learning", Machine Learning 8, 1992. https://doi.org/10.1007/BF00992698
    """

    __doc__ = with_base_params(__doc__)
    n_tables: ClassVar[int] = 1

    def _td_target(self, q, tables, rewards, next_states, next_actions, terminated) -> np.ndarray:
        return q_learning_target(rewards, q[0].take(next_states, axis=0), terminated, self.gamma)

    def _td_target_one(self, q, table, reward, next_state, next_action, terminated) -> float:
        return q_learning_target_one(reward, q[0, next_state].tolist(), terminated, self.gamma)


__all__ = ["QLearning"]
