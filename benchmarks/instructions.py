"""Instructions per step, before and after a change: ``python -m benchmarks instructions --against REV``.

Wall-clock ratios on a shared 2-core machine spread by ±5-10% from one process to the next, the very size of
change a restructuring must be shown not to cost. Valgrind's callgrind counts the CPU instructions a piece of work
executes instead: the same count for the same code and inputs whatever else the machine is doing, so two trees
compare to a fraction of a percent with one run each, even while benchmarks run beside. It counts work, not
time (cache misses and stalls are not in it), so it complements ``speed --against``; it does not replace it.

Each workload builds its model and warms it up uninstrumented (imports, first calls, allocator), then switches
callgrind's instrumentation on (``callgrind_control -i on``) for the measured call alone. Both sides run this
tree's copy of this script, on REV's ``sb3_notes`` (before) and on this tree's (after). Needs ``valgrind`` (Debian's
package); under it the work runs about 50× slower, so the budgets are small: about 5 minutes for all workloads.

    python -m benchmarks instructions --against f91a72e                 # every workload
    python -m benchmarks instructions --against HEAD~3 --only tabular_8_envs rollout
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _instrumented(call: Callable[[], object]) -> None:
    """Run ``call`` with callgrind's instrumentation on (this process runs under callgrind)."""
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    call()
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)


def _tabular(n_envs: int, steps: int) -> None:
    from stable_baselines3.common.env_util import make_vec_env

    from sb3_notes import QLearning

    model = QLearning("TabularPolicy", make_vec_env("FrozenLake-v1", n_envs=n_envs, seed=0), seed=0)
    model.learn(2_000)
    _instrumented(lambda: model.learn(steps, reset_num_timesteps=False))


def _rollout(steps: int) -> None:
    from stable_baselines3.common.env_util import make_vec_env

    from sb3_notes import PPOPenalty

    model = PPOPenalty("MlpPolicy", make_vec_env("CartPole-v1", n_envs=1, seed=0), seed=0, n_steps=steps, device="cpu")
    model._setup_learn(10**9, None)
    callback = model._init_callback(None)
    model.collect_rollouts(model.env, callback, model.rollout_buffer, steps)  # type: ignore[arg-type]
    _instrumented(lambda: model.collect_rollouts(model.env, callback, model.rollout_buffer, steps))  # type: ignore[arg-type]


def _learn(algo: str, steps: int) -> None:
    """Two rollouts and two updates of ``steps // 2`` steps each, SB3's PPO defaults but ``n_steps``."""
    from stable_baselines3.common.env_util import make_vec_env

    from sb3_notes import TRPO, PPOPenalty

    n_steps, env = steps // 2, make_vec_env("CartPole-v1", n_envs=1, seed=0)
    if algo == "trpo":
        model = TRPO("MlpPolicy", env, seed=0, n_steps=n_steps, device="cpu")
    else:
        like = dict(clip_range=0.2, kl_coef=0.0, kl_adaptive=False) if algo == "ppo_penalty_like" else {}
        model = PPOPenalty("MlpPolicy", env, seed=0, n_steps=n_steps, batch_size=64, device="cpu", **like)
    model.learn(n_steps)
    _instrumented(lambda: model.learn(steps, reset_num_timesteps=False))


# name -> (what it measures, the work, steps)
WORKLOADS: dict[str, tuple[str, Callable[[int], None], int]] = {
    "tabular_1_env": ("QLearning.learn, FrozenLake-v1, 1 env (the one-env loop)", lambda n: _tabular(1, n), 5_000),
    "tabular_8_envs": ("QLearning.learn, FrozenLake-v1, 8 envs (the batched loop)", lambda n: _tabular(8, n), 10_000),
    "rollout": ("PPOPenalty.collect_rollouts, CartPole-v1 (the fast path)", _rollout, 1_024),
    "ppo_penalty": ("PPOPenalty.learn, defaults (adaptive KL), CartPole-v1", lambda n: _learn("ppo_penalty", n), 2_048),
    "ppo_penalty_like": (
        "PPOPenalty.learn, clip_range=0.2, β = 0 (SB3 PPO's objective)",
        lambda n: _learn("ppo_penalty_like", n),
        2_048,
    ),
    "trpo": ("TRPO.learn, CartPole-v1", lambda n: _learn("trpo", n), 2_048),
}


def count(name: str, sb3_notes_tree: Path, probe: Path, out: Path) -> int:
    """Instructions of workload ``name`` on the ``sb3_notes`` under ``sb3_notes_tree``, from callgrind's summary."""
    env = {**os.environ, "PYTHONPATH": f"{probe}{os.pathsep}{sb3_notes_tree}"}
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--child",
        name,
    ]
    done = subprocess.run(command, env=env, cwd=out.parent, capture_output=True, text=True, check=True)
    return collected(done.stderr)


def collected(stderr: str) -> int:
    """The instructions callgrind collected (while instrumentation was on), from its summary on stderr."""
    found = re.search(r"Collected\s*:\s*([\d,]+)", stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def against(rev: str, names: list[str], jobs: int) -> int:
    """Count every workload of ``names`` on REV's ``sb3_notes`` and this tree's; print a table with after/before."""
    from benchmarks.speed import export_trees

    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind (with callgrind_control) is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="instructions-") as tmp:
        before, probe = export_trees(rev, Path(tmp), ("instructions.py",))
        tasks = [(name, side, tree) for name in names for side, tree in (("before", before), ("after", here))]
        with ThreadPoolExecutor(jobs) as pool:  # each task is its own valgrind process
            counts = dict(
                zip(
                    [(name, side) for name, side, _ in tasks],
                    pool.map(lambda t: count(t[0], t[2], probe, Path(tmp, f"{t[0]}.{t[1]}.out")), tasks),
                    strict=True,
                )
            )
    print(f"\n{rev} (before) against this tree (after): instructions per step of each workload (callgrind)")
    print("| workload | steps | before | after | after / before |\n|---|---|---|---|---|")
    for name in names:
        what, _, steps = WORKLOADS[name]
        b, a = counts[(name, "before")], counts[(name, "after")]
        print(f"| {what} | {steps} | {b / steps:,.0f} | {a / steps:,.0f} | {a / b:.3f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options and print the table; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks instructions", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", metavar="REV", help="the git revision to compare this tree with")
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), help="these workloads (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="valgrind processes at once")
    parser.add_argument("--child", choices=sorted(WORKLOADS), help=argparse.SUPPRESS)  # one workload, under valgrind
    args = parser.parse_args(argv)
    if args.child:
        import torch as th

        th.set_num_threads(1)
        WORKLOADS[args.child][1](WORKLOADS[args.child][2])
        return 0
    if not args.against:
        parser.error("--against REV is required")
    return against(args.against, args.only or list(WORKLOADS), args.jobs)


if __name__ == "__main__":
    raise SystemExit(main())
