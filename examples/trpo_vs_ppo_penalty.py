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

from sb3_notes import TRPO, PPOPenalty
from sb3_notes.settings import shipped_settings


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
# Each with its shipped entry (sb3_notes/zoo/hyperparams/), RL Zoo's trpo.yml / ppo.yml settings for CartPole-v1
trpo, ppo_penalty = shipped_settings("trpo_notes", env_id), shipped_settings("ppo_penalty", env_id)
models = {
    "TRPO": TRPO(trpo.policy, trpo.make_env(seed=seed), seed=seed, **trpo.kwargs),
    "PPOPenalty": PPOPenalty(ppo_penalty.policy, ppo_penalty.make_env(seed=seed), seed=seed, **ppo_penalty.kwargs),
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
