"""The vocabulary of the suites: one run's settings (:class:`RunConfig`), targets, published references, suites.

A :class:`RunConfig` is everything that decides a training run except its seed. Its :meth:`RunConfig.key` names
the folder its results live in, so two suites that define the same run (the PPO ablation's "clip 0.2" row and the
MuJoCo pair's SB3 PPO peer) read and write the same files, and a changed setting can never be read as an old one.
This module imports nothing of its siblings.
"""

import hashlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.utils import LinearSchedule

from sb3_notes.settings import ShippedSettings, shipped_settings

# Where committed results live: small per-run JSON files, so a later session resumes instead of recomputing
RESULTS = Path(__file__).parent / "results"
RL_ZOO_BENCHMARK = "https://github.com/DLR-RM/rl-baselines3-zoo/blob/master/benchmark.md"
PPO_PAPER = "Schulman et al. 2017, Proximal Policy Optimization Algorithms, arXiv:1707.06347"


def lin(value: float) -> LinearSchedule:
    """The RL Zoo's ``lin_<value>``: decays linearly from ``value`` to 0 over training."""
    return LinearSchedule(value, 0.0, 1.0)


@dataclass(frozen=True)
class Target:
    """A target on the median over seeds: ``op`` is ">=", "<=" or "=="; ``source`` says where its value comes from."""

    op: str
    value: float
    source: str = ""
    of_seeds: int | None = None  # met when this many seeds meet it (instead of the median)

    def met_by(self, values: list[float]) -> bool:
        """Whether the seeds' final returns meet the target (the median, or ``of_seeds`` of them)."""
        if self.of_seeds is None:
            return self.met(float(np.median(values)))
        return sum(self.met(v) for v in values) >= self.of_seeds

    def verdict(self, values: list[float], planned: int) -> str:
        """
        "yes" or "no" for the seeds' final returns, or, while seeds of the ``planned`` are still to run, "pending"
        where they could still change an ``of_seeds`` verdict and "so far" after a median's.
        """
        left = max(planned - len(values), 0)
        if self.of_seeds is not None:
            hits = sum(self.met(v) for v in values)
            if hits >= self.of_seeds:
                return "yes"
            return "no" if hits + left < self.of_seeds else f"pending ({hits} of {len(values)} seeds run meet it)"
        return ("yes" if self.met_by(values) else "no") + (f" so far ({len(values)} of {planned} seeds)" if left else "")

    def met(self, measured: float) -> bool:
        """Whether one value meets the target."""
        if self.op == ">=":
            return measured >= self.value
        if self.op == "<=":
            return measured <= self.value
        return abs(measured - self.value) < 1e-9

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}" + (f" on {self.of_seeds} seeds" if self.of_seeds else "")


@dataclass(frozen=True)
class Published:
    """A published result shown beside ours (never a target by itself): what, its value, and where it is printed."""

    label: str
    value: float
    source: str


@dataclass(frozen=True)
class RunConfig:
    """
    One training run but its seed: the learner, the env, the budget, the constructor arguments, the evaluation.

    :param name: Readable name, the first part of the results folder (e.g. ``"sb3_ppo"``)
    :param algo: ``"stable_baselines3:PPO"``, ``"sb3_notes:<registry key>"``, ``"benchmarks.plain_q:plain_q_learning"``,
        or ``"random"`` (a uniform-random policy, the ablation's zero)
    :param env_id: Gymnasium env id
    :param budget: Environment steps of training
    :param n_envs: Envs of the VecEnv
    :param normalize: VecNormalize: False, True or its keyword arguments (the RL Zoo's ``normalize``)
    :param kwargs: Constructor arguments
    :param policy: Policy alias
    :param eval_points: Evaluations along training (the learning curve)
    :param eval_episodes: Episodes per evaluation along training
    :param final_eval_episodes: Episodes of the final evaluation
    :param eval_horizon: Tabular runs are scored exactly by DP over this many steps (None: the env's time limit)
    :param log_keys: Logger keys traced after every update (e.g. ``"train/kl_coef"``, β of the adaptive rows)
    :param tabular: Score the greedy table exactly (see :mod:`benchmarks.tabular`) instead of sampling episodes
    """

    name: str
    algo: str
    env_id: str
    budget: int
    n_envs: int = 1
    normalize: bool | dict[str, Any] = False
    kwargs: dict[str, Any] = field(default_factory=dict)
    policy: str = "MlpPolicy"
    eval_points: int = 10
    eval_episodes: int = 5
    final_eval_episodes: int = 20
    eval_horizon: int | None = None
    log_keys: tuple[str, ...] = ()
    tabular: bool = False

    def identity(self) -> dict[str, Any]:
        """Every field that changes a result, as JSON-able text (schedules by their repr, which states their values)."""
        return {
            "algo": self.algo,
            "env_id": self.env_id,
            "budget": self.budget,
            "n_envs": self.n_envs,
            "normalize": repr(self.normalize),
            "kwargs": {k: repr(v) for k, v in sorted(self.kwargs.items())},
            "policy": self.policy,
            "eval": [self.eval_points, self.eval_episodes, self.final_eval_episodes, self.eval_horizon],
            "log_keys": list(self.log_keys),
        }

    def learner(self) -> dict[str, Any]:
        """
        What the learner is built with: every constructor argument (the class's defaults overlaid with ``kwargs``),
        the env layout and the budget. Two configs with equal ``learner()`` train the same learner, however
        their kwargs are written (a shipped entry spelling out the defaults, a setting giving only its changes).
        """
        cls = load_class(self.algo)
        defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items() if p.default is not p.empty}
        arguments = {k: repr(v) for k, v in {**defaults, **self.kwargs}.items()}  # schedules compare by their values
        return {
            **arguments,
            "policy": self.policy,
            "n_envs": self.n_envs,
            "normalize": repr(self.normalize),
            "budget": self.budget,
        }

    def key(self) -> str:
        """``<name>-<8 hex digits of the identity>``: the results folder of this run."""
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.name}-{digest}"

    def path(self, results: Path, seed: int) -> Path:
        """The JSON file of this run with ``seed`` under ``results``."""
        return results / "runs" / self.env_id / self.key() / f"seed{seed}.json"

    def scaled(self, scale: float, minimum: int = 1_024) -> "RunConfig":
        """The same run on ``scale`` × the budget (a smoke test), with short evaluations; rollouts shrink to fit."""
        budget = max(int(self.budget * scale), minimum)
        kwargs = dict(self.kwargs)
        defaults = _ROLLOUT_DEFAULTS.get(self.algo)
        if defaults is not None:  # a budget below one rollout would train nothing: keep at least two updates
            n_steps = min(kwargs.get("n_steps", defaults[0]), max(budget // self.n_envs // 2, 8))
            kwargs["n_steps"] = n_steps
            if defaults[1]:
                kwargs["batch_size"] = min(kwargs.get("batch_size", defaults[1]), n_steps * self.n_envs)
        return replace(self, budget=budget, kwargs=kwargs, eval_points=2, eval_episodes=2, final_eval_episodes=3)


# (n_steps, batch_size) defaults of the learners whose rollout length a smoke budget must shrink
_ROLLOUT_DEFAULTS = {
    "stable_baselines3:PPO": (2048, 64),
    "sb3_notes:ppo_penalty": (2048, 64),
    "sb3_contrib:TRPO": (2048, 128),
    "sb3_notes:trpo_notes": (2048, 128),
    "stable_baselines3:A2C": (5, 0),
}


def load_class(path: str) -> Callable[..., Any]:
    """``"stable_baselines3:PPO"`` → the class; ``"sb3_notes:ppo_penalty"`` → the registry's class."""
    module_name, _, attr = path.partition(":")
    if module_name == "sb3_notes":
        from sb3_notes import ALGORITHMS

        return ALGORITHMS[attr]
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def from_settings(name: str, algo_path: str, settings: ShippedSettings, **changes: Any) -> RunConfig:
    """A run of ``algo_path`` with a shipped (or RL Zoo) entry's env layout, budget and constructor arguments."""
    fields: dict[str, Any] = dict(
        budget=settings.n_timesteps,
        n_envs=settings.n_envs,
        normalize=settings.normalize,
        kwargs=dict(settings.kwargs),
        policy=settings.policy,
    )
    return RunConfig(name=name, algo=algo_path, env_id=settings.env_id, **{**fields, **changes})


def zoo_settings(algo: str, entry: str, env_id: str | None = None) -> ShippedSettings:
    """
    RL Zoo's own entry (``rl_zoo3/hyperparams/<algo>.yml``), read by the same reader as our shipped entries.

    :param algo: The zoo's algorithm key, e.g. ``"ppo"``
    :param entry: The entry's env id in the zoo's file (the zoo has MuJoCo entries for v4 only)
    :param env_id: The env to run it on, when it is not ``entry`` (Hopper-v5 with the Hopper-v4 entry)
    """
    from unittest import mock

    import rl_zoo3

    from sb3_notes import settings

    # shipped_settings reads HYPERPARAMS_DIR at call time; pointing it at the zoo's folder reuses its parsing of the
    # zoo's conventions (lin_x, policy_kwargs strings, normalize) rather than writing that parser twice
    with mock.patch.object(settings, "HYPERPARAMS_DIR", Path(rl_zoo3.__file__).parent / "hyperparams"):
        found = shipped_settings(algo, entry)
    return replace(found, env_id=env_id or entry)


def ours_settings(algo: str, env_id: str) -> ShippedSettings:
    """Our shipped entry (:func:`sb3_notes.settings.shipped_settings`): what "our settings" means everywhere."""
    return shipped_settings(algo, env_id)


@dataclass(frozen=True)
class Comparison:
    """
    One row of a pair's table: ours (one or several learners) against a peer on one env.

    :param pair: The pair (report section) it belongs to
    :param ours: Our runs (several: the tabular learners, one row each)
    :param peer: The peer's run (None: ours alone, e.g. a setting variant)
    :param target: Target on our median final return
    :param published: Published results shown beside (e.g. the RL Zoo's row)
    :param seeds: Seeds of this row when not the suite's (3 on MuJoCo)
    """

    pair: str
    ours: tuple[RunConfig, ...]
    peer: RunConfig | None
    target: Target | None = None
    published: tuple[Published, ...] = ()
    seeds: int | None = None

    @property
    def configs(self) -> tuple[RunConfig, ...]:
        """Ours, then the peer."""
        return (*self.ours, *((self.peer,) if self.peer else ()))

    @property
    def env_id(self) -> str:
        return self.ours[0].env_id


@dataclass(frozen=True)
class PairInfo:
    """What the report says about a pair: its notes and its throughput target (ours/peer, and where it comes from)."""

    notes: str = ""
    throughput_target: float | None = None
    throughput_source: str = ""
    # (our algo path, env id) the throughput target is about, when not every row
    throughput_scope: tuple[str, str] | None = None


@dataclass(frozen=True)
class Ablation:
    """
    The PPO paper's Table 1 layout: settings (rows) × tasks, each cell a run, normalised per task.

    :param settings: Setting name → (label, the paper's normalised score or None, run of that setting on a task)
    :param tasks: Env ids (columns)
    :param random: The uniform-random policy's run on a task (the normalisation's 0)
    """

    settings: dict[str, tuple[str, float | None, Callable[[str], RunConfig]]]
    tasks: tuple[str, ...]
    random: Callable[[str], RunConfig]


@dataclass(frozen=True)
class Suite:
    """
    A named set of runs, and how to report them.

    :param name: ``python -m benchmarks run --suite <name>``
    :param doc: One paragraph: what it measures and the figures it produces
    :param seeds: Seeds per run
    :param comparisons: Rows of pair tables
    :param pairs: Report notes per pair
    :param ablation: The ablation grid, for an ablation suite
    :param extra: Further runs the report needs (the random policy of each env, for normalised aggregates)
    """

    name: str
    doc: str
    seeds: int
    comparisons: tuple[Comparison, ...] = ()
    pairs: dict[str, PairInfo] = field(default_factory=dict)
    ablation: Ablation | None = None
    extra: tuple[RunConfig, ...] = ()

    def runs(self) -> list[tuple[RunConfig, int]]:
        """Every (run, seed) of the suite once, in order: seed by seed, the sides of a pair side by side."""
        seeded: dict[str, tuple[RunConfig, int]] = {}  # key → (run, seeds)
        for c in self.comparisons:
            for config in c.configs:
                seeded.setdefault(config.key(), (config, c.seeds or self.seeds))
        extra = list(self.extra)
        if self.ablation is not None:
            for task in self.ablation.tasks:
                for _, _, make in self.ablation.settings.values():
                    seeded.setdefault(make(task).key(), (make(task), self.seeds))
            extra += [self.ablation.random(task) for task in self.ablation.tasks]
        once = list({c.key(): c for c in extra}.values())  # a random policy's return needs no second seed
        n_seeds = max((n for _, n in seeded.values()), default=0)
        return [(c, 0) for c in once] + [
            (config, seed) for seed in range(n_seeds) for config, n in seeded.values() if seed < n
        ]


def scale_suite(suite: Suite, scale: float, seeds: int | None = None) -> Suite:
    """``suite`` with every budget scaled (a smoke test, :meth:`RunConfig.scaled`) and ``seeds`` seeds everywhere if given."""

    def scaled(config: RunConfig) -> RunConfig:
        return config if scale == 1.0 else config.scaled(scale)

    comparisons = tuple(
        replace(c, ours=tuple(scaled(o) for o in c.ours), peer=c.peer and scaled(c.peer), seeds=seeds or c.seeds)
        for c in suite.comparisons
    )
    ablation = suite.ablation and Ablation(
        {
            s: (label, paper, lambda env_id, make=make: scaled(make(env_id)))
            for s, (label, paper, make) in suite.ablation.settings.items()
        },
        suite.ablation.tasks,
        lambda env_id: scaled(suite.ablation.random(env_id)),  # type: ignore[union-attr]
    )
    return replace(
        suite,
        seeds=seeds or suite.seeds,
        comparisons=comparisons,
        ablation=ablation,
        extra=tuple(scaled(e) for e in suite.extra),
    )
