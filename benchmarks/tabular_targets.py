"""Targets of issue 6: greedy-policy quality of the tabular learners against the DP optimum, and throughput.

Run: ``python benchmarks/tabular_targets.py`` (all) or ``--only frozenlake,throughput``. One thread, seeded;
quality is the median over 5 seeds. Quality of the greedy policy is computed exactly by DP on the env's model
(``P``) where the env has one (FrozenLake: success probability within the time limit), otherwise by evaluation
episodes (Taxi: 1,000; CliffWalking: 1, deterministic; Blackjack: 100,000).

Settings that needed care:

- FrozenLake8x8-v1: ``initial_q=1.0`` (optimistic: no return exceeds 1). With Q = 0 everywhere, the goal's value
  may not have reached the start by the time ε is small; the greedy policy then follows argmax ties (LEFT) and
  never finds the goal: 2 of 5 seeds scored 0.0 that way. Optimistic values make every untried action look
  best until tried, so exploration is systematic and all seeds land within 0.85-0.89.
- Blackjack-v1: returns are ±1 noise around action values that differ by a few hundredths, so α decays
  linearly from 0.05 to 0.001 (the late, small steps average the noise out), and ε stays at 0.1 at the end
  (Q-learning is off-policy: exploring keeps the rare states visited without biasing Q).
- Throughput: the ratio to a plain-Python loop over the same ``gym.make`` env, interleaved rounds, median.
  The stepping of SB3's ``DummyVecEnv`` + ``Monitor`` alone (no learning) is measured in the same rounds,
  since it bounds what any SB3 learner can reach.
"""

import argparse
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_notes import QLearning
from sb3_notes.tabular import policy_evaluation, value_iteration
from sb3_notes.tabular.dp import tabular_model

SEEDS = range(5)


def linear(start: float, end: float) -> Callable[[float], float]:
    """A learning-rate schedule from ``start`` (progress remaining 1) to ``end`` (progress remaining 0)."""
    return lambda progress_remaining: end + (start - end) * progress_remaining


def greedy_table_policy(model: QLearning) -> np.ndarray:
    return model.policy.q_values(np.arange(model.policy.n_states)).argmax(axis=1)


def exact_success(env_id: str, horizon: int) -> Callable[[QLearning], float]:
    model_p = tabular_model(gym.make(env_id))
    return lambda model: float(policy_evaluation(model_p, greedy_table_policy(model), 1.0, horizon=horizon)[0])


def episodes_mean(env_id: str, n_episodes: int, **make_kwargs) -> Callable[[QLearning], float]:
    def evaluate(model: QLearning) -> float:
        env = make_vec_env(env_id, n_envs=8, seed=1000, env_kwargs=make_kwargs or None)
        rewards, _ = evaluate_policy(model, env, n_eval_episodes=n_episodes, deterministic=True, return_episode_rewards=True)
        return float(np.mean(rewards))

    return evaluate


# env id -> (target, learner kwargs, timesteps, n_envs, evaluation, optimum note)
CASES = {
    "frozenlake": (
        "FrozenLake-v1",
        0.70,
        dict(learning_rate=0.05, gamma=0.99, exploration_fraction=0.5, exploration_final_eps=0.0),
        100_000,
        8,
        exact_success("FrozenLake-v1", 100),
    ),
    "frozenlake8x8": (
        "FrozenLake8x8-v1",
        0.85,
        dict(learning_rate=0.05, gamma=0.995, exploration_fraction=0.5, exploration_final_eps=0.0, initial_q=1.0),
        600_000,
        8,
        exact_success("FrozenLake8x8-v1", 200),
    ),
    "taxi": (
        "Taxi-v4",
        7.5,
        dict(learning_rate=0.5, gamma=0.99, exploration_fraction=0.5, exploration_final_eps=0.0),
        200_000,
        8,
        episodes_mean("Taxi-v4", 1000),
    ),
    "cliffwalking": (
        "CliffWalking-v1",
        -13.0,
        dict(learning_rate=0.5, gamma=0.99, exploration_fraction=0.5, exploration_final_eps=0.0),
        50_000,
        8,
        episodes_mean("CliffWalking-v1", 8, max_episode_steps=200),
    ),
    "blackjack": (
        "Blackjack-v1",
        -0.08,
        dict(learning_rate=linear(0.05, 0.001), gamma=1.0, exploration_fraction=0.5, exploration_final_eps=0.1),
        500_000,
        8,
        episodes_mean("Blackjack-v1", 100_000),
    ),
}


def optimum(env_id: str, horizon: int) -> str:
    env = gym.make(env_id)
    solution = value_iteration(env, gamma=1.0)
    stationary = policy_evaluation(env, solution.policy, 1.0, horizon=horizon)[0]
    return (
        f"DP: V*(0) = {solution.v[0]:.4f} without time limit; "
        f"optimal stationary policy within {horizon} steps: {stationary:.4f}"
    )


def run_quality(name: str) -> None:
    env_id, target, kwargs, steps, n_envs, evaluate = CASES[name]
    scores, seconds = [], []
    for seed in SEEDS:
        model = QLearning("TabularPolicy", make_vec_env(env_id, n_envs=n_envs, seed=seed), seed=seed, **kwargs)
        start = time.perf_counter()
        model.learn(steps, log_interval=None)
        seconds.append(time.perf_counter() - start)
        scores.append(evaluate(model))
    median = float(np.median(scores))
    met = median >= target if name != "cliffwalking" else median == target
    print(
        f"{env_id:18s} QLearning {steps} steps x{n_envs} envs: median {median:.4f} (seeds {np.round(scores, 4).tolist()}), "
        f"target {'>=' if name != 'cliffwalking' else '=='} {target}: {'MET' if met else 'MISSED'}; "
        f"train {np.median(seconds):.1f} s/seed"
    )
    if name.startswith("frozenlake"):
        print("    " + optimum(env_id, 100 if name == "frozenlake" else 200))


def plain_q_learning_steps_per_second(n_steps: int) -> float:
    """The hand-written loop people write (Gymnasium's tutorial style), over the same gym.make env."""
    env = gym.make("FrozenLake-v1")
    q = np.zeros((16, 4))
    rng = np.random.default_rng(0)
    epsilon, alpha, gamma = 0.1, 0.1, 0.99
    state, _ = env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(n_steps):
        action = int(rng.integers(4)) if rng.random() < epsilon else int(np.argmax(q[state]))
        next_state, reward, terminated, truncated, _ = env.step(action)
        target = reward + (0.0 if terminated else gamma * np.max(q[next_state]))
        q[state, action] += alpha * (target - q[state, action])
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
    return n_steps / (time.perf_counter() - start)


def ours_steps_per_second(n_steps: int, n_envs: int) -> float:
    model = QLearning("TabularPolicy", make_vec_env("FrozenLake-v1", n_envs=n_envs, seed=0), seed=0)
    start = time.perf_counter()
    model.learn(n_steps)  # SB3 defaults: Monitor, logger, callbacks, log_interval=4
    return n_steps / (time.perf_counter() - start)


def vec_env_steps_per_second(n_steps: int, n_envs: int) -> float:
    """SB3's DummyVecEnv + Monitor stepping alone, random actions, no learning: the ceiling for any learner."""
    env = make_vec_env("FrozenLake-v1", n_envs=n_envs, seed=0)
    env.reset()
    actions = np.random.default_rng(0).integers(4, size=(256, n_envs))
    start = time.perf_counter()
    for i in range(n_steps // n_envs):
        env.step(actions[i % 256])
    return n_steps / (time.perf_counter() - start)


def run_throughput(n_steps: int = 100_000, repeats: int = 5) -> None:
    for n_envs, target in ((1, 0.5), (8, 0.8)):
        ratios, ceilings = [], []
        for _ in range(repeats):  # interleaved, so machine load hits all sides alike
            plain = plain_q_learning_steps_per_second(n_steps)
            ratios.append(ours_steps_per_second(n_steps, n_envs) / plain)
            ceilings.append(vec_env_steps_per_second(n_steps, n_envs) / plain)
        ratio = float(np.median(ratios))
        print(
            f"throughput FrozenLake-v1, {n_envs} env(s): {ratio:.2f}x the plain loop (median of {repeats}: "
            f"{np.round(ratios, 2).tolist()}; plain loop last {plain:.0f} steps/s), target >= {target}x: "
            f"{'MET' if ratio >= target else 'MISSED'}; DummyVecEnv + Monitor stepping alone: "
            f"{np.median(ceilings):.2f}x"
        )


def main() -> None:
    th.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join([*CASES, "throughput"]))
    args = parser.parse_args()
    chosen = [c for c in args.only.split(",") if c] or [*CASES, "throughput"]
    for name in chosen:
        if name == "throughput":
            run_throughput()
        else:
            run_quality(name)


if __name__ == "__main__":
    main()
