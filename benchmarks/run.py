"""Run a benchmark suite and write its report.

    python -m benchmarks.run --suite quick --out results/quick          # < 2 minutes, checks the harness
    python -m benchmarks.run --suite full --out results/full --report docs/benchmarks.md

Runs are executed in fresh processes, ``--jobs`` at a time, in the order ours/peer/ours/peer... for each seed, so
the two sides of a pair run side by side under the same machine load. Finished runs are kept under
``<out>/runs/`` and skipped when the suite is started again (resume after an interruption).
"""

import argparse
import multiprocessing as mp
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm.auto import tqdm

from benchmarks.report import write_report
from benchmarks.runner import Task, run_task
from benchmarks.specs import PAIRS, SUITES


def plan(suite: str, out: Path, seeds: int | None, only: list[str] | None, jobs: int) -> list[Task]:
    """Every task of the suite, the sides of a pair interleaved seed by seed."""
    spec = SUITES[suite]
    n_seeds = seeds or spec["seeds"]
    tasks = []
    for pair in spec["pairs"]():
        if only and pair.name not in only:
            continue
        for case in pair.cases:
            for seed in range(n_seeds):
                for side in pair.sides:
                    tasks.append(Task(pair, case, side, seed, out, position=1 + len(tasks) % jobs))
    return tasks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (one process each)")
    parser.add_argument("--seeds", type=int, default=None, help="override the suite's number of seeds")
    parser.add_argument("--only", nargs="*", choices=sorted(PAIRS), help="run these pairs only")
    parser.add_argument("--report", type=Path, default=None, help="markdown report path (default: <out>/benchmarks.md)")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run every task in this process, one after another (quicker to start; peak memory is then not per run)",
    )
    args = parser.parse_args(argv)

    tasks = plan(args.suite, args.out, args.seeds, args.only, args.jobs)
    todo = [t for t in tasks if not t.path.exists()]
    print(f"{len(tasks)} runs in suite {args.suite!r}, {len(tasks) - len(todo)} already done, {len(todo)} to run")
    failures = 0
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="runs", position=0) as bar:
        if args.in_process:
            for task in todo:
                run_task(task)
                bar.update()
        else:
            with ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("spawn"), max_tasks_per_child=1) as pool:
                futures = {pool.submit(run_task, task): task for task in todo}
                for future in as_completed(futures):
                    try:
                        future.result()
                    except Exception as err:  # report every failure, keep the other runs going
                        failures += 1
                        tqdm.write(f"FAILED {futures[future].label}: {type(err).__name__}: {err}")
                    bar.update()
    report = args.report or args.out / "benchmarks.md"
    write_report(args.out, report, suite=args.suite)
    print(f"Report written to {report}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
