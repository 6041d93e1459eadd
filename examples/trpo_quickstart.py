"""Quick start: TRPO (notes §4) on CartPole-v1 — train, save, reload, evaluate.

Each update maximises the importance-sampled surrogate under mean KL(π_old ‖ π_new) ≤ target_kl (a natural-gradient
step by conjugate gradient, then a backtracking line search).

    python examples/trpo_quickstart.py [--small]
"""

import gymnasium as gym
from _budget import budget
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from sb3_notes import TRPO
from sb3_notes.settings import shipped_settings

# The shipped entry (sb3_notes/zoo/hyperparams/trpo_notes.yml), RL Zoo's trpo.yml CartPole-v1 entry as it is:
# 2 envs, n_steps 512, batch_size 512, cg_damping 1e-3, gae_lambda 0.98, 20 critic updates, 1e5 steps
settings = shipped_settings("trpo_notes", "CartPole-v1")
model = TRPO(settings.policy, settings.make_env(seed=0), seed=0, **settings.kwargs)
model.learn(total_timesteps=budget(settings.n_timesteps, 2_048))
# The logger keeps the last update's values until the next dump
last_kl = model.logger.name_to_value["train/kl"]
model.save("trpo_cartpole")

model = TRPO.load("trpo_cartpole")
mean_return, std_return = evaluate_policy(model, Monitor(gym.make("CartPole-v1")), n_eval_episodes=budget(20, 2))
print(f"{model._n_updates} updates, last KL(π_old ‖ π_new) = {last_kl:.4f} (target_kl 0.01)")
print(f"mean return {mean_return:.1f} +/- {std_return:.1f}")
