from typing import ClassVar

import numpy as np

from sb3_notes.common.td_targets import sarsa_target, sarsa_target_one
from sb3_notes.tabular.base import TabularAlgorithm, with_base_params


class SARSA(TabularAlgorithm):
    """
    Tabular SARSA: on-policy TD control towards y = r + γ · Q(s', a'), where a' is the ε-greedy action the
    agent then really takes in s' (chosen before the update, as in Sutton & Barto's pseudocode). It learns the
    value of the ε-greedy policy itself, hence the "safer" path on CliffWalking while ε > 0.

    Where a time limit truncates the episode, a' is a fresh ε-greedy action in the true final state (the
    agent never takes it: the env resets).

    Paper: Rummery & Niranjan, "On-line Q-learning using connectionist systems", 1994.
    """

    __doc__ = with_base_params(__doc__)
    n_tables: ClassVar[int] = 1
    needs_next_action: ClassVar[bool] = True

    def _td_target(self, q, tables, rewards, next_states, next_actions, terminated) -> np.ndarray:
        assert next_actions is not None
        return sarsa_target(rewards, q[0].take(next_states, axis=0), next_actions, terminated, self.gamma)

    def _td_target_one(self, q, table, reward, next_state, next_action, terminated) -> float:
        assert next_action is not None
        return sarsa_target_one(reward, q[0, next_state].tolist(), next_action, terminated, self.gamma)


__all__ = ["SARSA"]
