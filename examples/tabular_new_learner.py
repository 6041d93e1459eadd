"""A fifth tabular learner in one small file: clipped double Q-learning, the target TD3 uses for its critics
(Fujimoto, van Hoof & Meger 2018, eq. 10), on tables. Two tables, each transition updates one (chosen by a fair
coin, as Double Q-learning), towards

    y = r + γ · min(Q_A(s', a*), Q_B(s', a*)),   a* = argmax_a' Q_A(s', a'),

Q_A the table being updated. The learner writes only its target: ``TabularAlgorithm`` runs the ε-greedy
behaviour, both training loops (several envs batched in NumPy, one env in plain Python), saving, loading and
logging, and the row operations of ``sb3_notes.common.td_targets`` let one body serve both loops.

    python examples/tabular_new_learner.py [--small]
"""

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from _budget import budget

from sb3_notes import DoubleQLearning, QLearning
from sb3_notes.common.td_targets import bootstrap, q_rows, row_argmax, row_pick
from sb3_notes.tabular import TabularAlgorithm, policy_evaluation, value_iteration


# --8<-- [start:learner]
class ClippedDoubleQLearning(TabularAlgorithm):
    """
    Tabular clipped double Q-learning: y = r + γ · min(Q_A(s', a*), Q_B(s', a*)), a* = argmax_a' Q_A(s', a').

    Paper: Fujimoto, van Hoof & Meger, "Addressing Function Approximation Error in Actor-Critic Methods",
    ICML 2018. https://arxiv.org/abs/1802.09477
    """

    n_tables: ClassVar[int] = 2  # the base class draws the table each transition updates

    def _td_target(
        self, q: np.ndarray, tables: Any, rewards: Any, next_states: Any, next_actions: Any, terminated: Any
    ) -> Any:
        updated, other = q_rows(q, tables, next_states), q_rows(q, 1 - tables, next_states)
        best = row_argmax(updated)
        return bootstrap(rewards, np.minimum(row_pick(updated, best), row_pick(other, best)), terminated, self.gamma)


# --8<-- [end:learner]


if __name__ == "__main__":
    env = gym.make("FrozenLake-v1")  # slippery 4x4 lake, 100-step time limit
    optimum = value_iteration(env, gamma=0.99)
    print(f"DP: V*(start) = {optimum.v[0]:.3f}")
    for cls in (QLearning, DoubleQLearning, ClippedDoubleQLearning):
        model = cls("TabularPolicy", "FrozenLake-v1", seed=0)
        model.learn(budget(200_000, 2_000))
        q_start = model.policy.q_table.numpy()[:, 0].mean(axis=0).max()  # the learner's estimate of V*(start)
        success = policy_evaluation(env, model.policy.greedy_policy(), gamma=1.0, horizon=100)[0]
        print(f"{cls.__name__:24s} max_a Q(start, a) = {q_start:.3f}, greedy policy's success probability {success:.3f}")
