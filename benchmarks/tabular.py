"""Tabular runs of the benchmark: our learners or the plain loop, scored exactly by DP, and the DP optimum.

A table's greedy policy is scored without sampling: its expected return from the env's start distribution
within the time limit, by :func:`sb3_notes.tabular.policy_evaluation` on the env's model (``env.unwrapped.P``;
Blackjack's from :func:`sb3_notes.tabular.blackjack_model`). Curves are then free of evaluation noise, and each
score is the number that the mean over infinitely many evaluation episodes would give.
"""

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.env_util import make_vec_env

from benchmarks.evaluation import Evaluations, TimedEvaluation, Trained
from benchmarks.spec import RunConfig, load_class
from sb3_notes.common.state_encoding import StateEncoder, n_states
from sb3_notes.tabular import (
    TabularModel,
    blackjack_model,
    optimal_values_within,
    policy_evaluation,
    tabular_model,
    value_iteration,
)


@dataclass(frozen=True)
class ExactScore:
    """
    The expected return of a table's greedy policy, from the start distribution, over ``horizon`` steps.

    ``observation[s]`` is the observation (table row) seen in model state ``s``: the identity for the toy-text
    envs; Blackjack's model has hidden states (see :mod:`sb3_notes.tabular.blackjack`).
    """

    model: TabularModel
    initial: np.ndarray
    observation: np.ndarray
    horizon: int

    def __call__(self, greedy: np.ndarray) -> float:
        """Score of the policy taking ``greedy[row]`` in every state."""
        v = policy_evaluation(self.model, np.asarray(greedy)[self.observation], 1.0, horizon=self.horizon)
        return float(self.initial @ v)

    def optimum(self) -> float:
        """DP's best expected return within the horizon: the optimal time-dependent policy's."""
        return float(self.initial @ optimal_values_within(self.model, self.horizon))

    def stationary_optimum(self) -> float:
        """The expected return within the horizon of π*, the optimal stationary policy without a time limit."""
        pi_star = value_iteration(self.model, gamma=1.0).policy
        v = policy_evaluation(self.model, pi_star, 1.0, horizon=self.horizon)
        return float(self.initial @ v)


@cache
def exact_score(env_id: str, horizon: int | None = None) -> ExactScore:
    """The scorer of ``env_id`` (horizon: the env's time limit unless given)."""
    env = gym.make(env_id)
    spec = env.spec
    horizon = horizon or (spec.max_episode_steps if spec else None)
    if horizon is None:
        raise ValueError(f"{env_id} has no time limit: give the case an eval_horizon")
    if env_id.startswith("Blackjack"):
        rules = {k: v for k, v in (spec.kwargs if spec else {}).items() if k in ("natural", "sab")}
        bj = blackjack_model(**rules)
        return ExactScore(tabular_model(bj.p), bj.initial, bj.observation, horizon)
    model = tabular_model(env)
    initial = np.asarray(env.unwrapped.initial_state_distrib, dtype=float)  # type: ignore[attr-defined]
    return ExactScore(model, initial, np.arange(model.n_states), horizon)


def greedy_from_dict(q: dict[Any, np.ndarray], space: gym.Space, n_actions: int, initial_q: float) -> np.ndarray:
    """The plain loop's table (observation → values) as the greedy action per row; unseen rows act as argmax of
    ``initial_q`` (the first action), as an untouched row of our tables does."""
    table = np.full((n_states(space), n_actions), initial_q, dtype=float)
    encode = StateEncoder(space)
    for obs, values in q.items():
        table[encode.one(obs)] = values
    return table.argmax(axis=1)


def train_tabular(config: RunConfig, seed: int) -> Trained:
    """Train a tabular learner (or the plain loop) for ``config.budget`` steps, scoring its greedy policy exactly."""
    from benchmarks.plain_q import plain_q_learning

    scorer = exact_score(config.env_id, config.eval_horizon)
    every = max(config.budget // config.eval_points, 1)
    kwargs = config.kwargs
    if config.algo == "benchmarks.plain_q:plain_q_learning":
        probe = gym.make(config.env_id)
        space, n_actions = probe.observation_space, int(probe.action_space.n)  # type: ignore[attr-defined]
        initial_q = kwargs.get("initial_q", 0.0)
        evaluations = Evaluations(lambda q: scorer(greedy_from_dict(q, space, n_actions, initial_q)))
        start = time.perf_counter()
        q = plain_q_learning(config.env_id, config.budget, seed, **kwargs, callback=evaluations, callback_every=every)
        train_seconds = time.perf_counter() - start - evaluations.seconds
        return Trained("plain Q-learning loop", config.budget, train_seconds, evaluations.curve, evaluations.score(q))

    cls = load_class(config.algo)
    env = make_vec_env(config.env_id, n_envs=config.n_envs, seed=seed)
    model = cls(config.policy, env, seed=seed, **kwargs)
    evaluations = Evaluations(lambda m: scorer(m.policy.greedy_policy()))
    start = time.perf_counter()
    model.learn(config.budget, callback=TimedEvaluation(evaluations, every))
    train_seconds = time.perf_counter() - start - evaluations.seconds
    final = evaluations.score(model)
    env.close()
    return Trained(cls.__name__, int(model.num_timesteps), train_seconds, evaluations.curve, final)  # type: ignore[attr-defined]
