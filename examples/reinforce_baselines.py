"""REINFORCE's three baselines (notes §2, improvement 1) on CartPole-v1: the size of the advantages that weigh
∇log π, and the learning curves, on one figure.

- ``baseline="none"``: A_t = G_t, every advantage positive on CartPole (every reward is +1);
- ``baseline="mean"``: A_t = G_t − mean of the batch's G (the notes' b ≈ E[R]);
- ``baseline="value"``: A_t = G_t − V(s_t), a critic fitted on earlier batches.

Two measures of the advantages per update, both logged by REINFORCE. ``train/advantage_std`` is their spread
around their own mean; it cannot see a constant shift, so "none" and "mean" log the same std on the same batch.
``train/advantage_rms`` = sqrt(mean(A²)) = sqrt(std² + mean²) does see it, and it is what scales the variance of
the gradient estimate Σ A_t ∇log π(a_t|s_t).

The same seed, returns (reward-to-go) and budget for the three; only ``baseline`` changes.

    python examples/reinforce_baselines.py [--small]     # writes reinforce_baselines.png
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _budget import budget
from stable_baselines3.common.callbacks import BaseCallback

from sb3_notes import REINFORCE


class RecordUpdates(BaseCallback):
    """After each update: the advantages' std and RMS, and the mean return of the last 100 episodes."""

    def __init__(self):
        super().__init__()
        self.steps, self.advantage_std, self.advantage_rms, self.returns = [], [], [], []

    def _on_rollout_start(self) -> None:
        logged = self.model.logger.name_to_value  # the last update's values, until the next dump
        if "train/advantage_std" in logged:
            self.steps.append(self.num_timesteps)
            self.advantage_std.append(logged["train/advantage_std"])
            self.advantage_rms.append(logged["train/advantage_rms"])
            self.returns.append(np.mean([info["r"] for info in self.model.ep_info_buffer]))

    def _on_step(self) -> bool:
        return True


fig, (ax_rms, ax_std, ax_return) = plt.subplots(3, 1, sharex=True, figsize=(6, 8))
for baseline in ("none", "mean", "value"):
    model = REINFORCE("MlpPolicy", "CartPole-v1", baseline=baseline, learning_rate=1e-3, seed=0)
    record = RecordUpdates()
    model.learn(budget(60_000, 2_048), callback=record)
    label = f'baseline="{baseline}"'
    ax_rms.semilogy(record.steps, record.advantage_rms, label=label)
    ax_std.semilogy(record.steps, record.advantage_std, label=label)
    ax_return.plot(record.steps, record.returns, label=label)
    print(
        f"{label:18s} {len(record.steps):3d} updates; median over updates: advantage RMS "
        f"{np.median(record.advantage_rms):6.2f}, std {np.median(record.advantage_std):6.2f}; "
        f"mean return of the last 100 episodes {record.returns[-1]:6.1f}"
    )

ax_rms.set_ylabel("sqrt(mean A²)")
ax_rms.legend(fontsize=8)
ax_std.set_ylabel("std of A (train/advantage_std)")
ax_return.set_ylabel("mean episode return")
ax_return.set_xlabel("environment steps")
fig.tight_layout()
fig.savefig("reinforce_baselines.png", dpi=90)
