"""One benchmark run: train one side of a pair on one env with one seed, evaluating at fixed intervals.

Each run executes in a fresh process (see ``benchmarks.run``), so its peak resident memory is its own.
Training time excludes evaluation time; throughput is env steps per second of training.
"""

import json
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize, sync_envs_normalization
from tqdm.auto import tqdm

from benchmarks.specs import EnvCase, Pair, load_class


@dataclass(frozen=True)
class Task:
    """One run: a side ("ours" or "peer") of a pair, on one env, with one seed."""

    pair: Pair
    case: EnvCase
    side: str
    seed: int
    out: Path
    position: int = 0

    @property
    def path(self) -> Path:
        return self.out / "runs" / self.pair.name / self.case.env_id / f"{self.side}_seed{self.seed}.json"

    @property
    def label(self) -> str:
        return f"{self.pair.name}/{self.case.env_id}/{self.side}/seed{self.seed}"


class _TimedEvaluation(BaseCallback):
    """Evaluates the deterministic policy every ``every`` env steps; keeps evaluation out of the training clock."""

    def __init__(self, eval_env, every: int, n_episodes: int, bar: tqdm):
        super().__init__()
        self.eval_env, self.every, self.n_episodes, self.bar = eval_env, every, n_episodes, bar
        self.next_eval = every
        self.eval_seconds = 0.0
        self.curve: list[tuple[int, float]] = []

    def evaluate(self) -> float:
        start = time.perf_counter()
        if isinstance(self.eval_env, VecNormalize):
            sync_envs_normalization(self.training_env, self.eval_env)
        mean, _ = evaluate_policy(self.model, self.eval_env, n_eval_episodes=self.n_episodes, deterministic=True)
        self.curve.append((self.num_timesteps, float(mean)))
        self.eval_seconds += time.perf_counter() - start
        return float(mean)

    def _on_step(self) -> bool:
        self.bar.n = self.num_timesteps
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.every
            self.bar.set_postfix(ret=f"{self.evaluate():.1f}", refresh=False)
            self.bar.refresh()
        return True


def make_envs(case: EnvCase, seed: int, gamma: float):
    env = make_vec_env(case.env_id, n_envs=case.n_envs, seed=seed)
    eval_env = make_vec_env(case.env_id, n_envs=1, seed=seed + 10_000)
    if case.normalize:  # the RL Zoo's `normalize: True`
        env = VecNormalize(env, gamma=gamma)
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False, gamma=gamma)
    return env, eval_env


def run_task(task: Task) -> dict[str, Any]:
    """Run one task (in the current process) and write its JSON result; return the result."""
    th.set_num_threads(1)  # small networks: one thread each, as in the report
    case = task.case
    cls = load_class(task.pair.ours if task.side == "ours" else task.pair.peer)
    kwargs = {**case.shared, **(case.ours if task.side == "ours" else case.peer)}
    env, eval_env = make_envs(case, task.seed, kwargs.get("gamma", 0.99))
    policy = next(iter(cls.policy_aliases))  # type: ignore[attr-defined]
    model = cls(policy, env, seed=task.seed, device="cpu", **kwargs)
    with tqdm(total=case.budget, desc=task.label, position=task.position, leave=False, mininterval=1.0) as bar:
        timer = _TimedEvaluation(eval_env, max(case.budget // case.eval_points, 1), case.eval_episodes, bar)
        start = time.perf_counter()
        model.learn(case.budget, callback=timer)
        wall = time.perf_counter() - start
    train_seconds = wall - timer.eval_seconds
    timer.n_episodes = case.final_eval_episodes
    final = timer.evaluate()
    result = dict(
        pair=task.pair.name,
        env_id=case.env_id,
        side=task.side,
        algo=cls.__name__,  # type: ignore[attr-defined]
        seed=task.seed,
        budget=case.budget,
        steps=int(model.num_timesteps),
        train_seconds=train_seconds,
        steps_per_second=model.num_timesteps / train_seconds,
        final_return=final,
        curve=timer.curve[:-1],
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        hyperparameters={k: repr(v) for k, v in kwargs.items()},
    )
    task.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = task.path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(task.path)  # a run is on disk whole or not at all, so an interrupted suite resumes cleanly
    env.close()
    eval_env.close()
    return result


def load_results(out: Path) -> list[dict[str, Any]]:
    """Every finished run under ``out/runs``."""
    return [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*/*/*.json"))]


def summary(values: list[float], n_boot: int = 2000, seed: int = 0) -> dict[str, float]:
    """Median, interquartile mean and a bootstrap 95% interval of the IQM over seeds."""
    x = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    boots = [_iqm(rng.choice(x, size=len(x), replace=True)) for _ in range(n_boot)]
    return dict(
        median=float(np.median(x)),
        iqm=_iqm(x),
        low=float(np.percentile(boots, 2.5)),
        high=float(np.percentile(boots, 97.5)),
        n=len(x),
    )


def _iqm(x: np.ndarray) -> float:
    """Mean of the middle 50% (interquartile mean), with linear weights at the quartile edges."""
    x = np.sort(x)
    n = len(x)
    lo, hi = 0.25 * n, 0.75 * n
    weights = np.clip(np.minimum(np.arange(1, n + 1), hi) - np.maximum(np.arange(n), lo), 0, None)
    return float(np.dot(weights, x) / weights.sum())
