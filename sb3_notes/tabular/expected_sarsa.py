from typing import Any, ClassVar

import numpy as np

from sb3_notes.common.td_targets import expected_sarsa_target, q_rows
from sb3_notes.tabular.base import TabularAlgorithm, with_base_params


class ExpectedSARSA(TabularAlgorithm):
    """
    Tabular Expected SARSA: TD control towards y = r + γ · Σ_a' π(a'|s') Q(s', a'), π the current ε-greedy
    policy. SARSA's target without the variance of sampling a'; with ε = 0 it is Q-learning's.

    Paper: van Seijen, van Hasselt, Whiteson & Wiering, "A theoretical and empirical analysis of Expected
    Sarsa", ADPRL 2009. https://doi.org/10.1109/ADPRL.2009.4927542
    """

    __doc__ = with_base_params(__doc__)
    n_tables: ClassVar[int] = 1

    def _td_target(
        self, q: np.ndarray, tables: Any, rewards: Any, next_states: Any, next_actions: Any, terminated: Any
    ) -> Any:
        return expected_sarsa_target(rewards, q_rows(q, 0, next_states), self.exploration_rate, terminated, self.gamma)


__all__ = ["ExpectedSARSA"]
