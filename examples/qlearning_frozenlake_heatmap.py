"""QLearning on FrozenLake-v1 (notes §5): the learned greedy policy π'(s) = argmax_a Q(s, a) as arrows over a
heatmap of max_a Q(s, a), next to the optimum Q* that value iteration computes from the env's model.

    python examples/qlearning_frozenlake_heatmap.py [--small]     # writes qlearning_frozenlake_heatmap.png
"""

import gymnasium as gym
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _budget import budget
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_notes import QLearning
from sb3_notes.tabular import plot_grid_policy, policy_evaluation, value_iteration

gamma = 0.99
env = make_vec_env("FrozenLake-v1", n_envs=8, seed=0)
model = QLearning(
    "TabularPolicy", env, learning_rate=0.05, gamma=gamma, exploration_fraction=0.5, exploration_final_eps=0.0, seed=0
)
model.learn(budget(100_000, 4_000))

lake = gym.make("FrozenLake-v1")
optimum = value_iteration(lake, gamma=gamma)
q = model.policy.q_values(np.arange(16))

# Success rate of the greedy policy: measured on episodes, and exactly (DP on the model, within the 100-step limit)
rewards, _ = evaluate_policy(
    model, make_vec_env("FrozenLake-v1", n_envs=8, seed=1), n_eval_episodes=budget(1000, 80), return_episode_rewards=True
)
learned = policy_evaluation(lake, q.argmax(axis=1), gamma=1.0, horizon=100)[0]
best = policy_evaluation(lake, optimum.policy, gamma=1.0, horizon=100)[0]

fig, (ax_learned, ax_optimum) = plt.subplots(1, 2, figsize=(9, 3.8))
desc = lake.unwrapped.desc
plot_grid_policy(q, (4, 4), labels=desc, ax=ax_learned, title="QLearning: greedy policy over max_a Q")
plot_grid_policy(optimum.q, (4, 4), labels=desc, ax=ax_optimum, title="value iteration: Q*")
fig.tight_layout()
fig.savefig("qlearning_frozenlake_heatmap.png", dpi=90)
decided = optimum.q.max(axis=1) > optimum.q.min(axis=1)  # not a hole or the goal
agree = int((q.argmax(axis=1) == optimum.policy)[decided].sum())
print(
    f"success rate {sum(rewards) / len(rewards):.3f} over {len(rewards)} episodes; exact {learned:.3f} "
    f"(optimum {best:.3f}); greedy action = optimal one in {agree} of {decided.sum()} non-terminal cells; "
    f"max |Q - Q*| = {abs(q - optimum.q).max():.3f}"
)
