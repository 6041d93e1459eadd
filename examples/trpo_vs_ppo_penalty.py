"""TRPO and PPOPenalty (notes §4) on the same env with the same budget: learning curves on one plot.

Both keep π_θ close to the π_θ' that collected the data. TRPO makes KL(π_old ‖ π_new) ≤ δ a hard constraint
(one natural-gradient step per rollout); PPOPenalty subtracts β·KL from the surrogate and takes ordinary
minibatch gradient steps, adapting β. Each uses the RL Zoo's CartPole-v1 settings (trpo.yml / ppo.yml).

    python examples/trpo_vs_ppo_penalty.py [--small]     # writes trpo_vs_ppo_penalty.png
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _budget import budget
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from sb3_notes import TRPO, PPOPenalty


class RecordReturns(BaseCallback):
    """Mean return of the last 100 finished episodes, at the start of every rollout."""

    def __init__(self):
        super().__init__()
        self.steps, self.returns = [], []

    def _on_rollout_start(self) -> None:
        if len(self.model.ep_info_buffer) > 0:
            self.steps.append(self.num_timesteps)
            self.returns.append(np.mean([info["r"] for info in self.model.ep_info_buffer]))

    def _on_step(self) -> bool:
        return True


env_id, total_timesteps, seed = "CartPole-v1", budget(100_000, 2_048), 0
models = {
    "TRPO": TRPO(
        "MlpPolicy",
        make_vec_env(env_id, n_envs=2, seed=seed),
        n_steps=512,
        batch_size=512,
        cg_damping=1e-3,
        gae_lambda=0.98,
        n_critic_updates=20,
        target_kl=0.01,
        seed=seed,
    ),
    "PPOPenalty": PPOPenalty(
        "MlpPolicy",
        make_vec_env(env_id, n_envs=8, seed=seed),
        n_steps=32,
        batch_size=256,
        n_epochs=20,
        gamma=0.98,
        gae_lambda=0.8,
        learning_rate=1e-3,
        kl_target=0.01,
        seed=seed,
    ),
}

fig, ax = plt.subplots(figsize=(6, 4))
for name, model in models.items():
    record = RecordReturns()
    model.learn(total_timesteps, callback=record)
    ax.plot(record.steps, record.returns, label=name)
    print(f"{name}: {total_timesteps} steps, last mean return (100 episodes) {record.returns[-1]:.1f}")
ax.set_xlabel("environment steps")
ax.set_ylabel("mean episode return")
ax.set_title(env_id)
ax.legend()
fig.tight_layout()
fig.savefig("trpo_vs_ppo_penalty.png", dpi=90)
