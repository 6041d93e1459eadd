"""One benchmark run: train one side of a pair on one env with one seed, evaluating at fixed intervals.

Each run executes in a fresh process (see ``benchmarks.run``), so its peak resident memory is its own.
Training time excludes evaluation time; throughput is env steps per second of training.
"""

import json
import resource
import time
from collections.abc import Callable
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


class Evaluations:
    """Scores taken during training (a learning curve), timed so the time they take is kept off the training clock."""

    def __init__(self, score: Callable[[Any], float]):
        self.score = score
        self.seconds = 0.0
        self.curve: list[tuple[int, float]] = []

    def __call__(self, steps: int, subject: Any) -> float:
        start = time.perf_counter()
        value = float(self.score(subject))
        self.curve.append((int(steps), value))
        self.seconds += time.perf_counter() - start
        return value


class _TimedEvaluation(BaseCallback):
    """Scores the model every ``every`` env steps, through ``evaluations``."""

    def __init__(self, evaluations: Evaluations, every: int, bar: tqdm):
        super().__init__()
        self.evaluations, self.every, self.bar = evaluations, every, bar
        self.next_eval = every

    def _on_step(self) -> bool:
        self.bar.n = self.num_timesteps
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.every
            self.bar.set_postfix(ret=f"{self.evaluations(self.num_timesteps, self.model):.1f}", refresh=False)
            self.bar.refresh()
        return True


def make_envs(case: EnvCase, seed: int, gamma: float):
    env = make_vec_env(case.env_id, n_envs=case.n_envs, seed=seed)
    eval_env = make_vec_env(case.env_id, n_envs=1, seed=seed + 10_000)
    if case.normalize:  # the RL Zoo's `normalize: True`
        env = VecNormalize(env, gamma=gamma)
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False, gamma=gamma)
    return env, eval_env


def _train_deep(task: Task, cls: Any, kwargs: dict[str, Any], bar: tqdm) -> tuple[int, float, Evaluations, float]:
    """Train an SB3-style model; return (env steps, training seconds, the curve, the final score)."""
    case = task.case
    env, eval_env = make_envs(case, task.seed, kwargs.get("gamma", 0.99))

    def score(model: Any, n_episodes: int = case.eval_episodes) -> float:
        if isinstance(eval_env, VecNormalize):
            sync_envs_normalization(model.get_env(), eval_env)
        mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=n_episodes, deterministic=True)
        return float(mean)

    policy = next(iter(cls.policy_aliases))
    model = cls(policy, env, seed=task.seed, device="cpu", **kwargs)
    evaluations = Evaluations(score)
    start = time.perf_counter()
    model.learn(case.budget, callback=_TimedEvaluation(evaluations, max(case.budget // case.eval_points, 1), bar))
    train_seconds = time.perf_counter() - start - evaluations.seconds
    final = score(model, case.final_eval_episodes)
    env.close()
    eval_env.close()
    return int(model.num_timesteps), train_seconds, evaluations, final


def run_task(task: Task) -> dict[str, Any]:
    """Run one task (in the current process) and write its JSON result; return the result."""
    th.set_num_threads(1)  # small networks: one thread each, as in the report
    case = task.case
    path = task.pair.sides[task.side]
    kwargs = {**case.shared, **(case.peer if task.side == "peer" else case.ours)}
    with tqdm(total=case.budget, desc=task.label, position=task.position, leave=False, mininterval=1.0) as bar:
        if task.pair.tabular:
            from benchmarks.tabular import train_tabular  # the tabular side needs no torch model

            algo, (steps, train_seconds, evaluations, final) = train_tabular(task, path, kwargs, bar)
        else:
            cls = load_class(path)
            algo = cls.__name__  # type: ignore[attr-defined]
            steps, train_seconds, evaluations, final = _train_deep(task, cls, kwargs, bar)
    result = dict(
        pair=task.pair.name,
        env_id=case.env_id,
        side=task.side,
        algo=algo,
        seed=task.seed,
        budget=case.budget,
        steps=steps,
        train_seconds=train_seconds,
        steps_per_second=steps / train_seconds,
        final_return=final,
        curve=evaluations.curve,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        hyperparameters={k: repr(v) for k, v in kwargs.items()},
    )
    task.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = task.path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(task.path)  # a run is on disk whole or not at all, so an interrupted suite resumes cleanly
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
