"""Quick start: PPOPenalty on CartPole-v1 — train, save, reload, evaluate.

python examples/ppo_penalty_quickstart.py [--small]
"""

import gymnasium as gym
from _budget import budget
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_notes import PPOPenalty

env = make_vec_env("CartPole-v1", n_envs=8, seed=0)
model = PPOPenalty(
    "MlpPolicy", env, n_steps=32, batch_size=256, n_epochs=20, gamma=0.98, gae_lambda=0.8, learning_rate=1e-3, seed=0
)
model.learn(total_timesteps=budget(30_000, 1_024))
model.save("ppo_penalty_cartpole")

model = PPOPenalty.load("ppo_penalty_cartpole")
mean_return, std_return = evaluate_policy(model, gym.make("CartPole-v1"), n_eval_episodes=budget(20, 2))
print(f"mean return {mean_return:.1f} +/- {std_return:.1f}, final β = {model.kl_coef:.4g}")
