"""Monte Carlo vs TD(0) estimates of the critic V^π (notes §5) on FrozenLake-v1, against the exact V^π that
dynamic programming computes from the env's model. π is the optimal policy from value iteration.

MC averages whole returns G_t (unbiased, high variance); TD(0) moves V(s) towards r + γ V(s') (low variance,
biased by its own estimate of V(s')). Both use the same episodes' budget here.

    python examples/mc_vs_td.py [--small]     # writes mc_vs_td.png
"""

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _budget import budget

from sb3_notes.tabular import estimate_v, policy_evaluation, tabular_model, value_iteration

gamma = 0.9
lake = gym.make("FrozenLake-v1")
policy = value_iteration(lake, gamma=gamma).policy
exact = policy_evaluation(lake, policy, gamma=gamma)  # V^π, solving (I − γ P_π) V = r_π
# The states π visits from the start (the others keep the estimate 0): grow the set along P(s' | s, π(s))
p_pi = tabular_model(lake).prob[np.arange(16), policy]
visited = np.eye(16, dtype=bool)[0]
for _ in range(16):
    visited |= visited @ p_pi > 0

episodes = [budget(n, n // 20) for n in (100, 300, 1_000, 3_000)]
errors: dict[str, list[float]] = {"mc": [], "td": []}
final = {}
for method in ("mc", "td"):
    for n in episodes:
        # TD(0)'s step size 1/n(s)^0.7 decays with the visits of s (Robbins-Monro), so it converges too
        v = estimate_v(policy, lake, method=method, n_episodes=n, gamma=gamma, learning_rate=lambda k: k**-0.7, seed=0)
        errors[method].append(float(np.sqrt(np.mean((v - exact)[visited] ** 2))))
        final[method] = v

fig, (ax_values, ax_errors) = plt.subplots(1, 2, figsize=(10, 3.8))
cells = np.flatnonzero(visited)
ax_values.plot(cells, exact[cells], "ks", label="DP (exact)")
ax_values.plot(cells, final["mc"][cells], "o", mfc="none", label=f"MC, {episodes[-1]} episodes")
ax_values.plot(cells, final["td"][cells], "x", label=f"TD(0), {episodes[-1]} episodes")
ax_values.set_xlabel("state s")
ax_values.set_ylabel("V^π(s)")
ax_values.legend(fontsize=8)
for method, label in (("mc", "MC"), ("td", "TD(0)")):
    ax_errors.loglog(episodes, errors[method], "o-", label=label)
ax_errors.set_xlabel("episodes")
ax_errors.set_ylabel("RMS error over the states π visits")
ax_errors.legend(fontsize=8)
fig.tight_layout()
fig.savefig("mc_vs_td.png", dpi=90)
for i, n in enumerate(episodes):
    print(f"{n:6d} episodes: RMS error MC {errors['mc'][i]:.4f}, TD(0) {errors['td'][i]:.4f}")
