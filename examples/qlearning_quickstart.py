"""Quick start: tabular Q-learning (notes §5) on FrozenLake-v1 — train, save, reload, and compare the greedy
policy π'(s) = argmax_a Q(s, a) with the optimum that dynamic programming computes from the env's model.

    python examples/qlearning_quickstart.py [--small]
"""

import gymnasium as gym
from _budget import budget
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from sb3_notes import QLearning
from sb3_notes.settings import shipped_settings
from sb3_notes.tabular import policy_evaluation, value_iteration

env = gym.make("FrozenLake-v1")  # slippery 4x4 lake, 100-step time limit
# The shipped entry (sb3_notes/zoo/hyperparams/qlearning.yml): α 0.1, γ 0.99, ε from 1 to 0.05 over half of 1e5 steps
settings = shipped_settings("qlearning", "FrozenLake-v1")
model = QLearning(settings.policy, env, seed=0, **settings.kwargs)
model.learn(total_timesteps=budget(settings.n_timesteps, 2_000))
model.save("qlearning_frozenlake")
model = QLearning.load("qlearning_frozenlake")

# Success probability from the start state within the 100-step limit, computed exactly on the env's model
greedy = model.policy.greedy_policy()
optimal = value_iteration(env, gamma=0.99).policy
learned_success = policy_evaluation(env, greedy, gamma=1.0, horizon=100)[0]
optimal_success = policy_evaluation(env, optimal, gamma=1.0, horizon=100)[0]
mean_return, _ = evaluate_policy(model, Monitor(gym.make("FrozenLake-v1")), n_eval_episodes=budget(1_000, 20))
print(f"greedy policy reaches the goal with probability {learned_success:.3f} (DP optimum {optimal_success:.3f})")
print(f"measured over the evaluation episodes: {mean_return:.3f}")
