"""Quick start: REINFORCE (notes §2) on CartPole-v1 — train, save, reload, evaluate.

Reward-to-go returns and a learned V(s) baseline (the defaults), one gradient step per batch of 8 whole episodes.

    python examples/reinforce_quickstart.py [--small]
"""

import gymnasium as gym
from _budget import budget
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

from sb3_notes import REINFORCE
from sb3_notes.settings import shipped_settings

# The shipped entry (sb3_notes/zoo/hyperparams/reinforce.yml; the zoo has no REINFORCE): 8 episodes per batch,
# learning rate 1e-3, 1e5 steps
settings = shipped_settings("reinforce", "CartPole-v1")
model = REINFORCE(settings.policy, settings.make_env(seed=0), seed=0, **settings.kwargs)
model.learn(total_timesteps=budget(settings.n_timesteps, 2_048))
model.save("reinforce_cartpole")

model = REINFORCE.load("reinforce_cartpole")
mean_return, std_return = evaluate_policy(model, Monitor(gym.make("CartPole-v1")), n_eval_episodes=budget(20, 2))
print(f"{model._n_updates} updates of {model.n_episodes} episodes; mean return {mean_return:.1f} +/- {std_return:.1f}")
