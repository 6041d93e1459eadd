"""REINFORCE targets (issue 4), with REINFORCE's default hyperparameters and 8 envs.

- CartPole-v1: mean deterministic return over 20 episodes ≥ 475 after 200k steps, median over seeds;
- Acrobot-v1: ≥ −100 after 500k steps, median over seeds;
- throughput: training steps/s of ``learn`` ≥ 1.0× SB3 A2C's, same network (SB3's default MlpPolicy) and the same
  number of envs, measured alternately in this process (best of 3 each), one torch thread.

    .venv/bin/python benchmarks/reinforce_targets.py --envs CartPole-v1 --seeds 0 1 2
    .venv/bin/python benchmarks/reinforce_targets.py --envs CartPole-v1 Acrobot-v1 --seeds 0 1 2 3 4
    .venv/bin/python benchmarks/reinforce_targets.py --throughput-only --timesteps 50000
"""

import argparse
import time

import numpy as np
import torch as th
from stable_baselines3 import A2C
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_notes import REINFORCE

TARGETS = {"CartPole-v1": (475.0, 200_000), "Acrobot-v1": (-100.0, 500_000)}
N_ENVS = 8


def train_and_evaluate(env_id: str, seed: int, timesteps: int) -> tuple[float, float]:
    """(mean deterministic return over 20 episodes, training steps per second)."""
    model = REINFORCE("MlpPolicy", make_vec_env(env_id, n_envs=N_ENVS, seed=seed), seed=seed, device="cpu")
    start = time.perf_counter()
    model.learn(timesteps)
    fps = timesteps / (time.perf_counter() - start)
    eval_env = make_vec_env(env_id, n_envs=1, seed=10_000 + seed)
    mean_return, _ = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=True)
    return float(mean_return), fps


def throughput(cls, env_id: str, timesteps: int, seed: int = 0) -> float:
    """Training steps per second of ``learn`` (collection and updates), SB3's default MlpPolicy for both."""
    model = cls("MlpPolicy", make_vec_env(env_id, n_envs=N_ENVS, seed=seed), seed=seed, device="cpu")
    start = time.perf_counter()
    model.learn(timesteps)
    return timesteps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=list(TARGETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--timesteps", type=int, default=None, help="override the target's budget")
    parser.add_argument("--throughput-only", action="store_true", help="compare steps/s with A2C only")
    args = parser.parse_args()
    th.set_num_threads(1)
    for env_id in args.envs:
        threshold, budget = TARGETS[env_id]
        budget = args.timesteps or budget
        if not args.throughput_only:
            returns = []
            for seed in args.seeds:
                mean_return, fps = train_and_evaluate(env_id, seed, budget)
                returns.append(mean_return)
                print(f"{env_id} seed={seed} {budget} steps: return={mean_return:.1f} fps={fps:.0f}", flush=True)
            median = float(np.median(returns))
            verdict = "met" if median >= threshold else "NOT met"
            print(f"{env_id} median return {median:.1f} over seeds {args.seeds} (target ≥ {threshold:g}: {verdict})")
        steps = min(budget, 50_000)
        # Alternated and best of 3 each, so that a burst of load from other processes does not decide the ratio
        runs = [(throughput(REINFORCE, env_id, steps), throughput(A2C, env_id, steps)) for _ in range(3)]
        ours, a2c = max(r[0] for r in runs), max(r[1] for r in runs)
        print(f"{env_id} throughput {steps} steps: REINFORCE {ours:.0f}/s, A2C {a2c:.0f}/s, ratio {ours / a2c:.2f}x")


if __name__ == "__main__":
    main()
