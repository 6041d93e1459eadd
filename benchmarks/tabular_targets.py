"""Issue 6's throughput targets: our tabular learner against the plain-Python Q-learning loop, in one process.

Run: ``python -m benchmarks.tabular_targets [--steps N --repeats K]``. One thread.
``--learners`` instead reruns the suite's tabular misses with one setting changed each (5 seeds, exact scores),
to see whether a miss is the learner's or the shared setting's. The quality targets (every
learner against the plain loop and the DP optimum, 5 seeds, with curves) are measured by the benchmark suite,
``python -m benchmarks.run --suite full --only tabular``; this script measures speed the way issue 6 asks for it:
QLearning and the loop of ``benchmarks.plain_q`` (the suite's tabular peer) on the same ``gym.make``
FrozenLake-v1, with their default hyperparameters, in interleaved rounds in the same process, median ratio.
The stepping of SB3's ``DummyVecEnv`` + ``Monitor`` alone (no learning) is measured in the same rounds, since
it bounds what any SB3 learner can reach.
"""

import argparse
import time

import numpy as np
import torch as th
from stable_baselines3.common.env_util import make_vec_env

from benchmarks.plain_q import plain_q_learning
from benchmarks.specs import PAIRS
from benchmarks.tabular import exact_score
from sb3_notes import ALGORITHMS, QLearning


def plain_steps_per_second(env_id: str, n_steps: int) -> float:
    start = time.perf_counter()
    plain_q_learning(env_id, n_steps, seed=0)
    return n_steps / (time.perf_counter() - start)


def ours_steps_per_second(env_id: str, n_steps: int, n_envs: int) -> float:
    model = QLearning("TabularPolicy", make_vec_env(env_id, n_envs=n_envs, seed=0), seed=0)
    start = time.perf_counter()
    model.learn(n_steps)  # SB3 defaults: Monitor, logger, callbacks, log_interval=4
    return n_steps / (time.perf_counter() - start)


def vec_env_steps_per_second(env_id: str, n_steps: int, n_envs: int) -> float:
    """SB3's DummyVecEnv + Monitor stepping alone, random actions, no learning: the ceiling for any learner."""
    env = make_vec_env(env_id, n_envs=n_envs, seed=0)
    env.reset()
    actions = np.random.default_rng(0).integers(env.action_space.n, size=(256, n_envs))  # type: ignore[attr-defined]
    start = time.perf_counter()
    for i in range(n_steps // n_envs):
        env.step(actions[i % 256])
    return n_steps / (time.perf_counter() - start)


def run_throughput(env_id: str, n_steps: int, repeats: int) -> None:
    for n_envs, target in ((1, 0.5), (8, 0.8)):  # issue 6's targets (set for FrozenLake-v1)
        ratios, ceilings = [], []
        for _ in range(repeats):  # interleaved, so machine load hits all sides alike
            plain = plain_steps_per_second(env_id, n_steps)
            ratios.append(ours_steps_per_second(env_id, n_steps, n_envs) / plain)
            ceilings.append(vec_env_steps_per_second(env_id, n_steps, n_envs) / plain)
        ratio = float(np.median(ratios))
        print(
            f"throughput {env_id}, {n_envs} env(s): {ratio:.2f}x the plain loop (median of {repeats}: "
            f"{np.round(ratios, 2).tolist()}; plain loop last {plain:.0f} steps/s), target >= {target}x: "
            f"{'MET' if ratio >= target else 'MISSED'}; DummyVecEnv + Monitor stepping alone: "
            f"{np.median(ceilings):.2f}x"
        )


# (learner, env, overrides of the suite's case): each changes one thing of a setting the learner missed with
VARIANTS = (
    ("sarsa", "FrozenLake-v1", dict(exploration_fraction=0.9)),
    ("sarsa", "FrozenLake-v1", dict(budget=200_000)),
    ("double_qlearning", "FrozenLake-v1", dict(learning_rate=0.1)),
    ("double_qlearning", "FrozenLake-v1", dict(budget=200_000)),
    ("sarsa", "Taxi-v4", dict(exploration_fraction=0.9)),
    ("sarsa", "Taxi-v4", dict(budget=400_000)),
    ("sarsa", "CliffWalking-v1", dict(exploration_fraction=1.0)),
    ("sarsa", "CliffWalking-v1", dict(budget=200_000)),
    ("expected_sarsa", "CliffWalking-v1", dict(exploration_fraction=1.0)),
    ("expected_sarsa", "FrozenLake8x8-v1", dict(exploration_fraction=0.8)),
    ("expected_sarsa", "FrozenLake8x8-v1", dict(budget=1_200_000)),
    ("expected_sarsa", "FrozenLake8x8-v1", dict(learning_rate=0.02)),
)


def run_variants(seeds: int = 5) -> None:
    cases = {case.env_id: case for case in PAIRS["tabular"].cases}
    for key, env_id, change in VARIANTS:
        case = cases[env_id]
        kwargs = {**case.shared, **change}
        budget = kwargs.pop("budget", case.budget)
        scorer = exact_score(env_id, case.eval_horizon)
        scores = []
        for seed in range(seeds):
            model = ALGORITHMS[key]("TabularPolicy", make_vec_env(env_id, n_envs=case.n_envs, seed=seed), seed=seed, **kwargs)
            model.learn(budget)
            scores.append(scorer(model.policy.greedy_policy()))
        target = case.target
        verdict = "" if target is None else f", target {target}: {'MET' if target.met(float(np.median(scores))) else 'MISSED'}"
        print(f"{key} {env_id} with {change}: median {np.median(scores):.3f} {np.round(scores, 3).tolist()}{verdict}")


def main() -> None:
    th.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="FrozenLake-v1", help="env id for the throughput rounds")
    parser.add_argument("--steps", type=int, default=100_000, help="env steps per measurement")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--learners", action="store_true", help="rerun the suite's tabular misses with one change each")
    args = parser.parse_args()
    if args.learners:
        run_variants()
    else:
        run_throughput(args.env, args.steps, args.repeats)


if __name__ == "__main__":
    main()
