"""One benchmark run: build the learner and its envs, train with periodic evaluation, time it, write one small JSON.

The suite runner starts each run in a fresh process, so the peak resident memory in its JSON is its own. Training
time excludes evaluation time; throughput is env steps per second of training. Each JSON is written whole or not at
all, under the folder named by :meth:`benchmarks.spec.RunConfig.key`; a run whose file exists is never recomputed.
"""

import json
import platform
import resource
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, sync_envs_normalization

from benchmarks.evaluation import Evaluations, TimedEvaluation, Trained
from benchmarks.spec import RunConfig, load_class

# Seed offset of the evaluation env, so it never replays the training env's episodes
EVAL_SEED_OFFSET = 10_000
RANDOM_EPISODES = 100


def make_envs(config: RunConfig, seed: int) -> tuple[VecEnv, VecEnv]:
    """The training VecEnv and a one-env evaluation VecEnv (normalised as the training one, statistics frozen)."""
    env = make_vec_env(config.env_id, n_envs=config.n_envs, seed=seed)
    eval_env = make_vec_env(config.env_id, n_envs=1, seed=seed + EVAL_SEED_OFFSET)
    if config.normalize:  # the RL Zoo's `normalize`, with the reward discounted by the algorithm's γ as the zoo does
        options = dict(config.normalize) if isinstance(config.normalize, dict) else {}
        options.setdefault("gamma", config.kwargs.get("gamma", 0.99))
        env = VecNormalize(env, **options)
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False, gamma=options["gamma"])
    return env, eval_env


def env_step_seconds(env_id: str, n_steps: int = 2_000, seed: int = 0) -> float:
    """Seconds per step of the env alone (``gym.make``, uniform-random actions): the part of a step that is not ours."""
    env = gym.make(env_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(n_steps)]
    for action in actions[:100]:  # warm-up: first-call costs are not the env's per-step cost
        if any(env.step(action)[2:4]):
            env.reset()
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    seconds = (time.perf_counter() - start) / n_steps
    env.close()
    return seconds


def train_deep(config: RunConfig, seed: int) -> Trained:
    """Train an SB3-style model with periodic deterministic evaluations; score the final model."""
    cls = load_class(config.algo)
    env, eval_env = make_envs(config, seed)

    def score(model: Any, n_episodes: int = config.eval_episodes) -> float:
        if isinstance(eval_env, VecNormalize):
            sync_envs_normalization(model.get_env(), eval_env)
        mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=n_episodes, deterministic=True)
        return float(mean)

    model = cls(config.policy, env, seed=seed, device="cpu", **config.kwargs)
    evaluations = Evaluations(score)
    callback = TimedEvaluation(evaluations, max(config.budget // config.eval_points, 1), config.log_keys)
    start = time.perf_counter()
    model.learn(config.budget, callback=callback)
    train_seconds = time.perf_counter() - start - evaluations.seconds
    final = score(model, config.final_eval_episodes)
    # The PPO paper's measure (Table 1): the mean return of the last 100 training episodes (stochastic policy)
    episodes = [float(info["r"]) for info in model.ep_info_buffer]
    extra: dict[str, Any] = dict(
        train_return_last100=float(np.mean(episodes)) if episodes else None,
        traces=callback.traces,
    )
    env.close()
    eval_env.close()
    return Trained(cls.__name__, int(model.num_timesteps), train_seconds, evaluations.curve, final, extra)  # type: ignore[attr-defined]


def random_policy(config: RunConfig, seed: int) -> Trained:
    """The mean return of a uniform-random policy over ``config.final_eval_episodes`` episodes (the ablation's zero)."""
    env = gym.make(config.env_id)
    env.action_space.seed(seed)
    returns = []
    start = time.perf_counter()
    steps = 0
    for episode in range(config.final_eval_episodes):
        env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            steps += 1
            done = terminated or truncated
        returns.append(total)
    env.close()
    mean = float(np.mean(returns))
    return Trained("uniform random policy", steps, time.perf_counter() - start, [], mean, dict(train_return_last100=mean))


def run_one(config: RunConfig, seed: int, results: Path) -> dict[str, Any]:
    """
    Run ``config`` with ``seed`` in this process and write its JSON; return the result.

    :param config: The run
    :param seed: Its seed
    :param results: The results folder (``<results>/runs/<env>/<config key>/seed<k>.json``)
    :return: The result as written
    """
    th.set_num_threads(1)  # small networks: one thread per run, as the report states
    if config.algo == "random":
        trained = random_policy(config, seed)
    elif config.tabular:
        from benchmarks.tabular import train_tabular  # the tabular side needs no torch model

        trained = train_tabular(config, seed)
    else:
        trained = train_deep(config, seed)
    result = dict(
        name=config.name,
        key=config.key(),
        algo=trained.algo,
        env_id=config.env_id,
        seed=seed,
        budget=config.budget,
        steps=trained.steps,
        train_seconds=trained.train_seconds,
        steps_per_second=trained.steps / trained.train_seconds if trained.train_seconds > 0 else None,
        env_step_seconds=None if config.tabular else env_step_seconds(config.env_id),
        final_return=trained.final_return,
        curve=trained.curve,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        torch_threads=th.get_num_threads(),
        machine=f"{platform.machine()}, {cpu_name()}",
        identity=config.identity(),
        **trained.extra,
    )
    path = config.path(results, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(path)  # whole or not at all, so an interrupted suite resumes cleanly
    return result


def cpu_name() -> str:
    """The CPU model as /proc/cpuinfo names it (the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def load_run(config: RunConfig, seed: int, results: Path) -> dict[str, Any] | None:
    """The finished run of ``config`` with ``seed``, or None."""
    path = config.path(results, seed)
    return json.loads(path.read_text()) if path.exists() else None


def load_runs(config: RunConfig, results: Path) -> list[dict[str, Any]]:
    """Every finished seed of ``config``, by seed."""
    folder = config.path(results, 0).parent
    runs = [json.loads(p.read_text()) for p in folder.glob("seed*.json")] if folder.exists() else []
    return sorted(runs, key=lambda r: r["seed"])
