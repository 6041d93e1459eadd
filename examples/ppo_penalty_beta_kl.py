"""PPOPenalty's β and KL over training (notes §4): β halves while the policy moves less than kl_target/1.5 per
update and doubles when it moves more than 1.5·kl_target, so the measured KL is pulled towards kl_target.

    python examples/ppo_penalty_beta_kl.py [--small]     # writes ppo_penalty_beta_kl.png
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _budget import budget
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from sb3_notes import PPOPenalty


class RecordBetaAndKL(BaseCallback):
    """After each update, read β and the measured KL from the logger."""

    def __init__(self):
        super().__init__()
        self.steps, self.betas, self.kls = [], [], []

    def _on_rollout_start(self) -> None:
        logged = self.model.logger.name_to_value
        if "train/kl" in logged:
            self.steps.append(self.num_timesteps)
            self.betas.append(logged["train/kl_coef"])
            self.kls.append(logged["train/kl"])

    def _on_step(self) -> bool:
        return True


kl_target = 0.01
env = make_vec_env("CartPole-v1", n_envs=8, seed=0)
model = PPOPenalty("MlpPolicy", env, n_steps=64, batch_size=256, n_epochs=10, learning_rate=1e-3, kl_target=kl_target, seed=0)
record = RecordBetaAndKL()
model.learn(budget(40_000, 2_048), callback=record)

fig, (ax_beta, ax_kl) = plt.subplots(2, 1, sharex=True, figsize=(6, 5))
ax_beta.semilogy(record.steps, record.betas, drawstyle="steps-post")
ax_beta.set_ylabel("β (kl_coef)")
ax_kl.semilogy(record.steps, record.kls, ".", label="KL(π_old ‖ π_new) per update")
ax_kl.axhline(kl_target, color="k", lw=1, label="kl_target")
ax_kl.axhspan(kl_target / 1.5, kl_target * 1.5, color="k", alpha=0.1, label="dead band")
ax_kl.set_xlabel("environment steps")
ax_kl.set_ylabel("KL")
ax_kl.legend(fontsize=8)
fig.tight_layout()
fig.savefig("ppo_penalty_beta_kl.png", dpi=90)
inside = sum(kl_target / 1.5 <= kl <= kl_target * 1.5 for kl in record.kls)
print(f"{len(record.kls)} updates, {inside} inside the band; final β = {model.kl_coef:.4g}")
