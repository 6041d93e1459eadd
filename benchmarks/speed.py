"""Training throughput of the on-policy algorithms against SB3 / sb3-contrib, measured side by side.

Every model runs in this one process on one thread, in alternating rounds (round r: model A learns
``--round-steps`` steps, then model B, ...), so machine load hits all of them alike; the median round is
reported. A second table times the rollout alone (SB3's ``collect_rollouts`` against the fast path, same
policy); ``--returns`` trains each model from scratch for several seeds and compares the returns.

    .venv/bin/python benchmarks/rollout_speed.py                 # PPO family, CartPole-v1, n_steps=2048
    .venv/bin/python benchmarks/rollout_speed.py --trpo          # adds TRPO against sb3-contrib's TRPO
    .venv/bin/python benchmarks/rollout_speed.py --returns 3     # returns after --return-steps, 3 seeds
"""

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env

from sb3_notes import PPOPenalty

Factory = Callable[[int], BaseAlgorithm]


def candidates(env_id: str, n_steps: int, trpo: bool) -> dict[str, Factory]:
    """name -> factory(seed). PPO's hyperparameters are SB3's defaults, shared by every PPO-like model."""

    def env(seed: int):
        return make_vec_env(env_id, n_envs=1, seed=seed)

    common = dict(n_steps=n_steps, batch_size=64, n_epochs=10, device="cpu")
    # PPOPenalty with clip_range=0.2, β = 0 fixed is SB3's PPO objective: the like-for-like comparison.
    like = dict(clip_range=0.2, kl_coef=0.0, kl_adaptive=False)
    models: dict[str, Factory] = {
        "sb3 PPO": lambda s: PPO("MlpPolicy", env(s), seed=s, **common),
        "PPOPenalty clip=0.2 β=0": lambda s: PPOPenalty("MlpPolicy", env(s), seed=s, **common, **like),
        "PPOPenalty default": lambda s: PPOPenalty("MlpPolicy", env(s), seed=s, **common),
        "PPOPenalty clip=0.2 β=0, SB3 rollout": lambda s: PPOPenalty(
            "MlpPolicy", env(s), seed=s, fast_rollout=False, **common, **like
        ),
    }
    if trpo:
        from sb3_contrib import TRPO as ContribTRPO

        from sb3_notes import TRPO

        trpo_common = dict(n_steps=n_steps, device="cpu")
        models["sb3-contrib TRPO"] = lambda s: ContribTRPO("MlpPolicy", env(s), seed=s, **trpo_common)
        models["sb3-notes TRPO"] = lambda s: TRPO("MlpPolicy", env(s), seed=s, **trpo_common)
    return models


def throughput(
    factories: dict[str, Factory], rounds: int, round_steps: int, clock: Callable[[], float]
) -> dict[str, list[float]]:
    """Steps per second of ``learn`` by ``clock``, per round, models alternating within each round."""
    models = {name: make(0) for name, make in factories.items()}
    for model in models.values():  # warm-up round (first-call costs, allocator)
        model.learn(round_steps)
    speeds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            start = clock()
            model.learn(round_steps, reset_num_timesteps=False)
            speeds[name].append(round_steps / (clock() - start))
    return speeds


def rollout_cost(env_id: str, n_steps: int, rounds: int, clock: Callable[[], float]) -> dict[str, float]:
    """Microseconds per environment step of ``collect_rollouts`` alone, SB3's loop against the fast path."""
    models = {}
    for fast in (False, True):
        model = PPOPenalty("MlpPolicy", make_vec_env(env_id, n_envs=1, seed=0), seed=0, n_steps=n_steps, fast_rollout=fast)
        model._setup_learn(10**9, None)
        models["fast path" if fast else "SB3 loop"] = (model, model._init_callback(None))
    costs: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, (model, callback) in models.items():
            start = clock()
            model.collect_rollouts(model.env, callback, model.rollout_buffer, n_steps)
            costs[name].append((clock() - start) / n_steps * 1e6)
    return {name: statistics.median(c) for name, c in costs.items()}


def final_returns(factories: dict[str, Factory], seeds: int, steps: int) -> dict[str, list[float]]:
    """Mean return of the last 100 training episodes after ``steps`` steps, one value per seed."""
    out: dict[str, list[float]] = {name: [] for name in factories}
    for seed in range(seeds):
        for name, make in factories.items():
            model = make(seed).learn(steps)
            out[name].append(float(np.mean([ep["r"] for ep in model.ep_info_buffer])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--n-steps", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round-steps", type=int, default=4096)
    parser.add_argument("--trpo", action="store_true", help="also compare TRPO with sb3-contrib's TRPO")
    parser.add_argument("--returns", type=int, default=0, metavar="SEEDS", help="also compare returns over SEEDS seeds")
    parser.add_argument("--return-steps", type=int, default=50_000)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: time.perf_counter; cpu: this process's CPU time (steadier on a shared, busy machine)",
    )
    args = parser.parse_args()
    th.set_num_threads(1)

    clock = time.perf_counter if args.clock == "wall" else time.process_time
    factories = candidates(args.env, args.n_steps, args.trpo)
    print(
        f"{args.env}, one env, n_steps={args.n_steps}, torch threads=1, {args.rounds} rounds of {args.round_steps} "
        f"steps, {args.clock} clock"
    )
    print("\nrollout alone (µs per env step, median):")
    for name, cost in rollout_cost(args.env, args.n_steps, args.rounds, clock).items():
        print(f"  {name:38s} {cost:8.1f}")

    speeds = throughput(factories, args.rounds, args.round_steps, clock)
    print("\ntraining throughput (steps/s, median over rounds; ratio to the baseline of its family):")
    for name, values in speeds.items():
        base = "sb3-contrib TRPO" if "TRPO" in name else "sb3 PPO"
        ratio = statistics.median(values) / statistics.median(speeds[base])
        print(f"  {name:38s} {statistics.median(values):8.0f}  ×{ratio:.2f}   rounds: {', '.join(f'{v:.0f}' for v in values)}")

    if args.returns:
        print(f"\nmean return of the last 100 training episodes after {args.return_steps} steps ({args.returns} seeds):")
        for name, values in final_returns(factories, args.returns, args.return_steps).items():
            print(
                f"  {name:38s} {np.mean(values):7.1f} ± {np.std(values):5.1f}   seeds: {', '.join(f'{v:.0f}' for v in values)}"
            )


if __name__ == "__main__":
    main()
