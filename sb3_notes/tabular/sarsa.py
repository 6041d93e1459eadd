from typing import Any, ClassVar

import numpy as np

from sb3_notes.common.td_targets import q_rows, sarsa_target
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

    def _td_target(
        self, q: np.ndarray, tables: Any, rewards: Any, next_states: Any, next_actions: Any, terminated: Any
    ) -> Any:
        assert next_actions is not None
        return sarsa_target(rewards, q_rows(q, 0, next_states), next_actions, terminated, self.gamma)


__all__ = ["SARSA"]
