"""Quick start: PPOPenalty on CartPole-v1 — train, save, reload, evaluate.

python examples/ppo_penalty_quickstart.py [--small]
"""

import gymnasium as gym
from _budget import budget
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_notes import PPOPenalty
from sb3_notes.settings import shipped_settings

# The shipped entry (sb3_notes/zoo/hyperparams/ppo_penalty.yml): RL Zoo's PPO entry with the KL penalty in place of
# clipping; 8 envs, n_steps 32, batch_size 256, 20 epochs, lin_0.001, 1e5 steps
settings = shipped_settings("ppo_penalty", "CartPole-v1")
model = PPOPenalty(settings.policy, settings.make_env(seed=0), seed=0, **settings.kwargs)
model.learn(total_timesteps=budget(settings.n_timesteps, 1_024))
model.save("ppo_penalty_cartpole")

model = PPOPenalty.load("ppo_penalty_cartpole")
mean_return, std_return = evaluate_policy(model, gym.make("CartPole-v1"), n_eval_episodes=budget(20, 2))
print(f"mean return {mean_return:.1f} +/- {std_return:.1f}, final β = {model.kl_coef:.4g}")
