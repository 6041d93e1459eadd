from typing import Any, ClassVar

import numpy as np

from sb3_notes.common.td_targets import q_learning_target, q_rows
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

    def _td_target(
        self, q: np.ndarray, tables: Any, rewards: Any, next_states: Any, next_actions: Any, terminated: Any
    ) -> Any:
        return q_learning_target(rewards, q_rows(q, 0, next_states), terminated, self.gamma)


__all__ = ["QLearning"]
