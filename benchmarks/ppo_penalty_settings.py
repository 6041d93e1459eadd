"""How much PPOPenalty depends on its settings on CartPole-v1 (the README's quick start and the PPOPenalty docs).

Run: ``python -m benchmarks.ppo_penalty_settings [--only one_env|zoo] [--seeds N]``. One torch thread. Each run
trains from scratch and reports the mean deterministic return over 10 episodes of a separately seeded env, and the
final β (``kl_coef``):

- ``one_env``: SB3's PPO defaults but ``n_steps=256``, one env, 50k steps, for PPOPenalty (``kl_target=0.01``)
  and for SB3 PPO side by side;
- ``zoo``: the RL Zoo's CartPole settings with the penalty in place of clipping (``make demo``'s, the README's
  quick start), 8 envs, 60k steps.
"""

import argparse

import numpy as np
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_notes import PPOPenalty
from sb3_notes.demo import DEMO_HYPERPARAMS


def final_return(model) -> float:
    mean, _ = evaluate_policy(model, make_vec_env("CartPole-v1", n_envs=1, seed=100), n_eval_episodes=10)
    return float(mean)


def one_env(seeds: int) -> None:
    for name, cls, extra in (("PPOPenalty", PPOPenalty, dict(kl_target=0.01)), ("SB3 PPO", PPO, {})):
        scores, betas = [], []
        for seed in range(seeds):
            model = cls("MlpPolicy", "CartPole-v1", n_steps=256, batch_size=64, seed=seed, **extra)
            model.learn(50_000)
            scores.append(final_return(model))
            betas.append(getattr(model, "kl_coef", None))
        print(f"one env, SB3 defaults but n_steps=256, 50k steps, {name}: returns {scores}, final β {betas}")


def zoo(seeds: int) -> None:
    scores, betas = [], []
    for seed in range(seeds):
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = PPOPenalty("MlpPolicy", env, seed=seed, **DEMO_HYPERPARAMS)
        model.learn(60_000)
        scores.append(final_return(model))
        betas.append(model.kl_coef)
    print(
        f"RL Zoo settings (make demo), 8 envs, 60k steps, PPOPenalty: returns {scores}, median {np.median(scores)}, "
        f"final β {betas}"
    )


def main() -> None:
    th.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["one_env", "zoo"], default=None)
    parser.add_argument("--seeds", type=int, default=None, help="seeds per setting (default: 5 one_env, 10 zoo)")
    args = parser.parse_args()
    if args.only in (None, "one_env"):
        one_env(args.seeds or 5)
    if args.only in (None, "zoo"):
        zoo(args.seeds or 10)


if __name__ == "__main__":
    main()
