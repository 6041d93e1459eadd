from typing import ClassVar

import numpy as np

from sb3_notes.common.td_targets import epsilon_greedy_probs, expected_sarsa_target, expected_sarsa_target_one
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

    def _td_target(self, q, tables, rewards, next_states, next_actions, terminated) -> np.ndarray:
        next_q = q[0].take(next_states, axis=0)
        return expected_sarsa_target(
            rewards, next_q, epsilon_greedy_probs(next_q, self.exploration_rate), terminated, self.gamma
        )

    def _td_target_one(self, q, table, reward, next_state, next_action, terminated) -> float:
        return expected_sarsa_target_one(reward, q[0, next_state].tolist(), self.exploration_rate, terminated, self.gamma)


__all__ = ["ExpectedSARSA"]
