"""TRPO targets (issue 5): sb3-notes TRPO side by side with sb3-contrib TRPO, RL Zoo's ``trpo.yml`` settings.

For each env and seed both algorithms train on the same budget, one after the other in the same process, and are
evaluated on 10 deterministic episodes (VecNormalize statistics frozen where the Zoo normalises). Throughput is
timesteps / wall time of ``learn``, one torch thread.

    .venv/bin/python benchmarks/trpo_targets.py --envs CartPole-v1 --seeds 0 1 2
    .venv/bin/python benchmarks/trpo_targets.py --envs CartPole-v1 Acrobot-v1 Pendulum-v1 --seeds 0 1 2 3 4
    .venv/bin/python benchmarks/trpo_targets.py --update-only   # the update alone, no rollout
"""

import argparse
import pathlib
import time

import numpy as np
import torch as th
import yaml
from rl_zoo3 import __file__ as zoo_file
from sb3_contrib import TRPO as ContribTRPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

from sb3_notes import TRPO

# RL Zoo's published TRPO rows (benchmark.md), the floor of the targets
ZOO_PUBLISHED = {"CartPole-v1": 500.0, "Acrobot-v1": -83.0, "Pendulum-v1": -175.0}


def zoo_hyperparams(env_id: str) -> dict:
    path = pathlib.Path(zoo_file).parent / "hyperparams" / "trpo.yml"
    entry = dict(yaml.load(path.read_text(), Loader=yaml.UnsafeLoader)[env_id])
    assert "policy_kwargs" not in entry, "not needed for the three benchmark envs"
    return entry


def run(cls, env_id: str, seed: int, timesteps: int | None) -> tuple[float, float, int]:
    """Train one model; return (mean evaluation return, training steps per second, timesteps)."""
    hp = zoo_hyperparams(env_id)
    n_envs, normalize = hp.pop("n_envs", 1), hp.pop("normalize", False)
    budget = int(timesteps or hp.pop("n_timesteps"))
    hp.pop("n_timesteps", None)
    policy = hp.pop("policy")
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    if normalize:
        env = VecNormalize(env, gamma=hp.get("gamma", 0.99))
    model = cls(policy, env, seed=seed, device="cpu", **hp)
    start = time.perf_counter()
    model.learn(budget)
    fps = budget / (time.perf_counter() - start)
    eval_env = make_vec_env(env_id, n_envs=1, seed=10_000 + seed)
    if normalize:
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False, gamma=hp.get("gamma", 0.99))
        eval_env.obs_rms = env.obs_rms
    mean_return, _ = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True)
    return float(mean_return), fps, budget


def time_updates(cls, env_id: str, n_updates: int = 10) -> float:
    """Seconds per ``train()`` call on one rollout collected with the Zoo settings (the update alone)."""
    hp = zoo_hyperparams(env_id)
    n_envs, normalize = hp.pop("n_envs", 1), hp.pop("normalize", False)
    hp.pop("n_timesteps"), hp.pop("policy")
    env = make_vec_env(env_id, n_envs=n_envs, seed=0)
    if normalize:
        env = VecNormalize(env, gamma=hp.get("gamma", 0.99))
    model = cls("MlpPolicy", env, seed=0, device="cpu", **hp)
    model.learn(model.n_steps * n_envs)  # one rollout (and one update)
    start = time.perf_counter()
    for _ in range(n_updates):
        model.train()
    return (time.perf_counter() - start) / n_updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=list(ZOO_PUBLISHED))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--timesteps", type=int, default=None, help="override the Zoo's n_timesteps")
    parser.add_argument("--update-only", action="store_true", help="time train() alone on one rollout")
    args = parser.parse_args()
    th.set_num_threads(1)
    if args.update_only:
        for env_id in args.envs:
            ours, theirs = time_updates(TRPO, env_id), time_updates(ContribTRPO, env_id)
            print(
                f"{env_id} train(): sb3_notes {1e3 * ours:.1f} ms, sb3_contrib {1e3 * theirs:.1f} ms, "
                f"ratio {theirs / ours:.2f}x"
            )
        return
    for env_id in args.envs:
        results: dict[str, list[tuple[float, float]]] = {"sb3_notes": [], "sb3_contrib": []}
        for seed in args.seeds:
            for name, cls in (("sb3_notes", TRPO), ("sb3_contrib", ContribTRPO)):
                mean_return, fps, budget = run(cls, env_id, seed, args.timesteps)
                results[name].append((mean_return, fps))
                print(f"{env_id} seed={seed} {name:12s} return={mean_return:8.1f} fps={fps:7.0f}", flush=True)
        summary = {name: np.array(rows) for name, rows in results.items()}
        for name, rows in summary.items():
            print(
                f"{env_id} {name:12s} {budget} steps: return {rows[:, 0].mean():.1f} ± {rows[:, 0].std():.1f} "
                f"(published {ZOO_PUBLISHED.get(env_id, float('nan')):.0f}), fps {rows[:, 1].mean():.0f}"
            )
        ratio = summary["sb3_notes"][:, 1].mean() / summary["sb3_contrib"][:, 1].mean()
        print(f"{env_id} throughput ratio sb3_notes / sb3_contrib = {ratio:.3f}", flush=True)


if __name__ == "__main__":
    main()
