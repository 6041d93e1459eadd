"""Throughput measured side by side in one process: ``python -m benchmarks speed [options]``.

Every model runs in this one process on one thread, in alternating rounds (round r: model A learns
``--round-steps`` steps, then model B, ...), so machine load hits all of them alike; the median round is
reported. Figures it produces (docs/benchmarks.md, "Targets measured outside the paired suite"):

    python -m benchmarks speed                     # PPO family on CartPole-v1, n_steps=2048: the fast-rollout table
    python -m benchmarks speed --trpo              # adds TRPO against sb3-contrib's TRPO
    python -m benchmarks speed --returns 3         # returns after --return-steps, 3 seeds ("Returns unchanged")
    python -m benchmarks speed --reinforce         # REINFORCE against A2C, 8 envs, SB3's default MlpPolicy for both
    python -m benchmarks speed --trpo-update       # TRPO's train() alone on one rollout, ours against sb3-contrib's
    python -m benchmarks speed --tabular [--env Blackjack-v1]   # QLearning against the plain loop: the tabular table
    python -m benchmarks speed --against REV [--repeats 5] ...   # any of the above, this tree against git REV

``--against`` is the before/after check of a change that must keep its speed: it exports REV (``git archive``)
and runs the same measurement, with this tree's copy of this script, on REV's ``sb3_notes`` and on this tree's,
in alternating processes, ``--repeats`` times each; it prints each figure's medians and after/before. Every figure
is already a ratio to a peer measured in the same process (the plain loop, SB3 PPO, sb3-contrib TRPO), or a
per-step cost, so load that changes between processes cancels out of the ratios.

A second table times the rollout alone (SB3's ``collect_rollouts`` against the fast path, same policy).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env

from sb3_notes import PPOPenalty

Factory = Callable[[int], BaseAlgorithm]
FIGURES: dict[str, float] = {}  # every figure printed, by name, for --json (and so for --against)


def record(name: str, value: float) -> None:
    """Keep a printed figure for ``--json``."""
    FIGURES[name] = float(value)


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


def reinforce_candidates(env_id: str, n_envs: int = 8) -> dict[str, Factory]:
    """REINFORCE and A2C with their defaults, the same network (SB3's default MlpPolicy) and the same envs."""
    from stable_baselines3 import A2C

    from sb3_notes import REINFORCE

    def env(seed: int):
        return make_vec_env(env_id, n_envs=n_envs, seed=seed)

    return {
        "A2C": lambda s: A2C("MlpPolicy", env(s), seed=s, device="cpu"),
        "REINFORCE": lambda s: REINFORCE("MlpPolicy", env(s), seed=s, device="cpu"),
    }


def trpo_update_seconds(env_id: str = "CartPole-v1", n_updates: int = 10) -> dict[str, float]:
    """Seconds per ``train()`` call on one rollout collected with our shipped entry (the update alone, no rollout)."""
    from sb3_contrib import TRPO as ContribTRPO

    from sb3_notes import TRPO
    from sb3_notes.settings import shipped_settings

    settings = shipped_settings("trpo_notes", env_id)
    seconds = {}
    for name, cls in (("sb3-notes TRPO", TRPO), ("sb3-contrib TRPO", ContribTRPO)):
        model = cls(settings.policy, settings.make_env(seed=0), seed=0, device="cpu", **settings.kwargs)
        model.learn(model.n_steps * settings.n_envs)  # one rollout (and one update)
        start = time.perf_counter()
        for _ in range(n_updates):
            model.train()
        seconds[name] = (time.perf_counter() - start) / n_updates
    return seconds


def tabular_throughput(env_id: str, n_steps: int, repeats: int) -> None:
    """QLearning (1 and 8 envs) against the plain loop, and SB3's VecEnv stepping alone, in interleaved rounds."""
    from benchmarks.plain_q import plain_q_learning
    from sb3_notes import QLearning

    def per_second(run: Callable[[], object]) -> float:
        start = time.perf_counter()
        run()
        return n_steps / (time.perf_counter() - start)

    def vec_env_only(n_envs: int) -> None:  # the ceiling for any SB3 learner: stepping alone, random actions
        env = make_vec_env(env_id, n_envs=n_envs, seed=0)
        env.reset()
        actions = np.random.default_rng(0).integers(env.action_space.n, size=(256, n_envs))  # type: ignore[attr-defined]
        for i in range(n_steps // n_envs):
            env.step(actions[i % 256])

    for n_envs in (1, 8):
        ratios, ceilings = [], []
        for _ in range(repeats):  # interleaved, so machine load hits all sides alike
            plain = per_second(lambda: plain_q_learning(env_id, n_steps, seed=0))
            model = QLearning("TabularPolicy", make_vec_env(env_id, n_envs=n_envs, seed=0), seed=0)
            ratios.append(per_second(lambda model=model: model.learn(n_steps)) / plain)
            ceilings.append(per_second(lambda n=n_envs: vec_env_only(n)) / plain)
        record(f"tabular {env_id} {n_envs} env(s) / plain loop", statistics.median(ratios))
        print(
            f"throughput {env_id}, {n_envs} env(s): {statistics.median(ratios):.2f}x the plain loop (median of {repeats}: "
            f"{np.round(ratios, 2).tolist()}; plain loop last {plain:.0f} steps/s); DummyVecEnv + Monitor stepping alone: "
            f"{statistics.median(ceilings):.2f}x"
        )


def main(argv: list[str] | None = None) -> int:
    """Parse the options and print the tables; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks speed", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--n-steps", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round-steps", type=int, default=4096)
    parser.add_argument("--trpo", action="store_true", help="also compare TRPO with sb3-contrib's TRPO")
    parser.add_argument("--returns", type=int, default=0, metavar="SEEDS", help="also compare returns over SEEDS seeds")
    parser.add_argument("--return-steps", type=int, default=50_000)
    parser.add_argument("--reinforce", action="store_true", help="REINFORCE against A2C (8 envs) instead")
    parser.add_argument("--trpo-update", action="store_true", help="time TRPO's train() alone instead")
    parser.add_argument("--tabular", action="store_true", help="QLearning against the plain loop instead")
    parser.add_argument("--steps", type=int, default=100_000, help="--tabular: env steps per measurement")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: time.perf_counter; cpu: this process's CPU time (steadier on a shared, busy machine)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--against", metavar="REV", help="run the measurement on git REV's sb3_notes and on this tree's")
    parser.add_argument("--repeats", type=int, default=5, help="--against: processes per side, alternating")
    args, _ = parser.parse_known_args(argv)
    if args.against:
        return against(args.against, _without_against(sys.argv[1:] if argv is None else argv), args.repeats)
    args = parser.parse_args(argv)
    th.set_num_threads(1)
    if args.tabular:
        tabular_throughput("FrozenLake-v1" if args.env == "CartPole-v1" else args.env, args.steps, args.rounds)
        return _write_json(args.json)
    if args.trpo_update:
        seconds = trpo_update_seconds(args.env)
        ours, theirs = seconds["sb3-notes TRPO"], seconds["sb3-contrib TRPO"]
        print(
            f"{args.env} train(): sb3-notes {1e3 * ours:.1f} ms, sb3-contrib {1e3 * theirs:.1f} ms, ratio {theirs / ours:.2f}x"
        )
        return 0

    clock = time.perf_counter if args.clock == "wall" else time.process_time
    factories = reinforce_candidates(args.env) if args.reinforce else candidates(args.env, args.n_steps, args.trpo)
    print(
        f"{args.env}, one env, n_steps={args.n_steps}, torch threads=1, {args.rounds} rounds of {args.round_steps} "
        f"steps, {args.clock} clock"
    )
    if not args.reinforce:
        print("\nrollout alone (µs per env step, median):")
        for name, cost in rollout_cost(args.env, args.n_steps, args.rounds, clock).items():
            record(f"rollout µs/step, {name}", cost)
            print(f"  {name:38s} {cost:8.1f}")

    speeds = throughput(factories, args.rounds, args.round_steps, clock)
    print("\ntraining throughput (steps/s, median over rounds; ratio to the baseline of its family):")
    for name, values in speeds.items():
        base = "sb3-contrib TRPO" if "TRPO" in name else "A2C" if args.reinforce else "sb3 PPO"
        ratio = statistics.median(values) / statistics.median(speeds[base])
        if name != base:
            record(f"{name} / {base}", ratio)
        print(f"  {name:38s} {statistics.median(values):8.0f}  ×{ratio:.2f}   rounds: {', '.join(f'{v:.0f}' for v in values)}")

    if args.returns:
        print(f"\nmean return of the last 100 training episodes after {args.return_steps} steps ({args.returns} seeds):")
        for name, values in final_returns(factories, args.returns, args.return_steps).items():
            print(
                f"  {name:38s} {np.mean(values):7.1f} ± {np.std(values):5.1f}   seeds: {', '.join(f'{v:.0f}' for v in values)}"
            )
    return _write_json(args.json)


def _write_json(path: Path | None) -> int:
    if path is not None:
        path.write_text(json.dumps(FIGURES, indent=1, ensure_ascii=False))
    return 0


def _without_against(argv: list[str]) -> list[str]:
    """The measurement's own arguments: ``argv`` less ``--against REV``, ``--repeats N`` and ``--json PATH``."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--against", "--repeats", "--json"):
            skip = True
        elif not arg.startswith(("--against=", "--repeats=", "--json=")):
            out.append(arg)
    return out


def export_trees(rev: str, tmp: Path, scripts: tuple[str, ...]) -> tuple[Path, Path]:
    """
    Git ``rev``'s ``sb3_notes`` in ``tmp/before``, and this tree's copies of ``scripts`` (files of ``benchmarks/``)
    in ``tmp/probe/benchmarks``, to put ahead of either ``sb3_notes`` on the path: both sides run the same script.

    :return: The folders ``before`` and ``probe``
    """
    here = Path(__file__).resolve().parent.parent
    before, probe = tmp / "before", tmp / "probe"
    before.mkdir()
    archive = subprocess.run(["git", "-C", str(here), "archive", rev, "sb3_notes"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
    (probe / "benchmarks").mkdir(parents=True)
    for name in ("__init__.py", *scripts):
        shutil.copy(Path(__file__).with_name(name), probe / "benchmarks" / name)
    return before, probe


def against(rev: str, argv: list[str], repeats: int) -> int:
    """
    The same measurement on git ``rev``'s ``sb3_notes`` (before) and this tree's (after), in alternating
    processes; prints each figure's median over the processes and after/before.

    :param rev: Any git revision of this repository
    :param argv: The measurement's arguments (as for this script, without ``--against``)
    :param repeats: Processes per side
    :return: The exit status
    """
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="speed-against-") as tmp:
        before, probe = export_trees(rev, Path(tmp), ("speed.py", "plain_q.py"))
        figures: dict[str, dict[str, list[float]]] = {}
        for repeat in range(repeats):
            for side, tree in (("before", before), ("after", here)):
                out = Path(tmp, f"{side}{repeat}.json")
                env = {**os.environ, "PYTHONPATH": f"{probe}{os.pathsep}{tree}"}
                command = [sys.executable, "-m", "benchmarks.speed", *argv, "--json", str(out)]
                subprocess.run(command, env=env, check=True, cwd=tmp, stdout=subprocess.DEVNULL)
                for name, value in json.loads(out.read_text()).items():
                    figures.setdefault(name, {"before": [], "after": []})[side].append(value)
                print(f"{side} {repeat + 1}/{repeats} done", flush=True)
    print(f"\n{rev} (before) against this tree (after), {repeats} alternating processes each, medians:")
    print("| figure | before | after | after / before |\n|---|---|---|---|")
    for name, sides in figures.items():
        b, a = statistics.median(sides["before"]), statistics.median(sides["after"])
        print(f"| {name} | {b:.3f} | {a:.3f} | {a / b:.3f} |")
        record(f"{name} after/before", a / b)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
