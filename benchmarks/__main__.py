"""The one entry point of the benchmarks: ``python -m benchmarks <subcommand>``.

    python -m benchmarks list                                   # the suites, their figures, runs done / planned
    python -m benchmarks run --suite quick --results /tmp/q     # < 2 minutes, checks the harness
    python -m benchmarks run --suite deep --only 'sb3_ppo_defaults@Hopper-v5' --jobs 2 --commit
    python -m benchmarks run --suite ppo_ablation --smoke       # every run of the suite on a tiny budget
    python -m benchmarks report --suite deep                    # markdown + PNGs from the runs on disk
    python -m benchmarks report --suite ppo_ablation --into docs/benchmarks.md   # that suite's section of the docs
    python -m benchmarks speed [--trpo] [--tabular] [--against REV]   # alternating-round throughput (see speed.py)
    python -m benchmarks instructions --against REV             # instructions per step before/after (callgrind)

Runs execute in fresh processes, ``--jobs`` at a time (each with one torch thread), seed by seed with the sides of a
pair side by side, so both meet the same machine load. Each finished run is one JSON file under
``<results>/runs/<env>/<run key>/seed<k>.json`` (default ``benchmarks/results``, committed); a run whose file exists
is skipped, so a suite started again, on any machine with the committed files, resumes where it stopped.
"""

import argparse
import fnmatch
import multiprocessing as mp
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from benchmarks.spec import RESULTS, RunConfig, Suite

SMOKE_SCALE = 0.002  # 1M steps → 2,000: every code path of a run, in seconds
SMOKE_RESULTS = Path(__file__).parent / ".smoke"  # git-ignored: smoke results are never committed


def select(runs: list[tuple[RunConfig, int]], only: list[str] | None) -> list[tuple[RunConfig, int]]:
    """The runs matching ``only`` (``NAME@ENV``, shell patterns, e.g. ``sb3_ppo*@Hopper-v5``), in the order given."""
    if not only:
        return runs
    picked: list[tuple[RunConfig, int]] = []
    for pattern in only:
        name, _, env = pattern.partition("@")
        picked += [
            r
            for r in runs
            if fnmatch.fnmatch(r[0].name, name or "*") and fnmatch.fnmatch(r[0].env_id, env or "*") and r not in picked
        ]
    return picked


def _commit(path: Path) -> None:
    """Commit one finished run's JSON, alone (``git commit -- <path>`` leaves anything else staged untouched)."""
    # run from the results folder, so a runner started from a frozen copy of the code commits into the repository
    # that holds the results
    where = ["git", "-C", str(path.parent)]
    subprocess.run([*where, "add", "--", path.name], check=False)
    message = f"Benchmark run {path.parent.parent.name} {path.parent.name} {path.stem}"
    subprocess.run([*where, "commit", "-q", "-m", message, "--", path.name], check=False)


def run(suite: Suite, results: Path, only: list[str] | None, jobs: int, in_process: bool, commit: bool) -> int:
    """Run every missing run of ``suite`` (filtered by ``only``); return the number of failures."""
    planned = select(suite.runs(), only)
    todo = [(c, s) for c, s in planned if not c.path(results, s).exists()]
    print(
        f"suite {suite.name!r}: {len(planned)} runs, {len(planned) - len(todo)} already done, {len(todo)} to run", flush=True
    )
    failures = 0
    from benchmarks.harness import run_one  # a module the spawned children can import (not __main__)

    if in_process:
        for config, seed in todo:
            run_one(config, seed, results)
            print(f"done {config.path(results, seed)}", flush=True)
        return 0
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), max_tasks_per_child=1) as pool:
        futures = {pool.submit(run_one, config, seed, results): (config, seed) for config, seed in todo}
        for future in as_completed(futures):
            config, seed = futures[future]
            path = config.path(results, seed)
            try:
                future.result()
            except Exception as err:  # report every failure, keep the other runs going
                failures += 1
                print(f"FAILED {config.key()}@{config.env_id} seed {seed}: {type(err).__name__}: {err}", flush=True)
                continue
            print(f"done {path}", flush=True)
            if commit:
                _commit(path)
    return failures


def _suite(args: argparse.Namespace) -> tuple[Suite, Path]:
    from benchmarks.spec import scale_suite
    from benchmarks.suites import suites

    suite = suites()[args.suite]
    scale = SMOKE_SCALE if args.smoke else args.budget_scale
    if scale != 1.0 or args.seeds is not None:
        suite = scale_suite(suite, scale, args.seeds)
    results = args.results or (SMOKE_RESULTS if scale != 1.0 else RESULTS)
    return suite, results


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["speed"]:  # its options go to benchmarks.speed as they are (REMAINDER drops a leading --option)
        from benchmarks.speed import main as speed_main

        return speed_main(argv[1:])
    if argv[:1] == ["instructions"]:  # likewise
        from benchmarks.instructions import main as instructions_main

        return instructions_main(argv[1:])
    from benchmarks.suites import suites

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("run", "run a suite's missing runs"), ("report", "write a suite's report from the runs on disk")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--suite", choices=sorted(suites()), required=True)
        p.add_argument(
            "--results", type=Path, default=None, help=f"results folder (default {RESULTS}; smoke: {SMOKE_RESULTS})"
        )
        p.add_argument("--seeds", type=int, default=None, help="override every row's number of seeds")
        p.add_argument("--budget-scale", type=float, default=1.0, help="train on this fraction of every budget")
        p.add_argument("--smoke", action="store_true", help=f"--budget-scale {SMOKE_SCALE}: a smoke test of every run")
    run_parser = sub.choices["run"]
    run_parser.add_argument("--only", nargs="*", help="NAME@ENV patterns, run in the order given (see `list --runs`)")
    run_parser.add_argument("--jobs", type=int, default=2, help="runs in parallel, one process each")
    run_parser.add_argument("--in-process", action="store_true", help="run here, one after another (no per-run memory)")
    run_parser.add_argument("--commit", action="store_true", help="git-commit each finished run's JSON as it lands")
    run_parser.add_argument("--no-report", action="store_true", help="do not write the report afterwards")
    report_parser = sub.choices["report"]
    report_parser.add_argument("--out", type=Path, default=None, help="markdown path (default <results>/<suite>.md)")
    report_parser.add_argument("--plots", type=Path, default=None, help="folder of the PNGs (default next to --out)")
    report_parser.add_argument(
        "--into", type=Path, default=None, help="replace this suite's section of a page (e.g. docs/benchmarks.md) instead"
    )
    listing = sub.add_parser("list", help="the suites, their figures, and the runs done")
    listing.add_argument("--runs", action="store_true", help="also every run's NAME@ENV and seed")
    speed = sub.add_parser("speed", help="throughput in alternating rounds in one process (see benchmarks.speed)")
    speed.add_argument("speed_args", nargs=argparse.REMAINDER)
    instructions = sub.add_parser("instructions", help="instructions per step before/after (see benchmarks.instructions)")
    instructions.add_argument("instructions_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    if args.command == "list":
        for suite in suites().values():
            runs = suite.runs()
            done = sum(c.path(RESULTS, s).exists() for c, s in runs)
            print(f"{suite.name}: {done}/{len(runs)} runs in {RESULTS}\n    {suite.doc}")
            if args.runs:
                for c, s in runs:
                    print(f"      {c.name}@{c.env_id} seed {s}{' (done)' if c.path(RESULTS, s).exists() else ''}")
        return 0
    suite, results = _suite(args)
    failures = 0
    if args.command == "run":
        failures = run(suite, results, args.only, args.jobs, args.in_process, args.commit)
        if args.no_report:
            return 1 if failures else 0
    from benchmarks.report import write_report

    into = getattr(args, "into", None)
    out = getattr(args, "out", None) or (into if into else results / f"{suite.name}.md")
    plots = getattr(args, "plots", None) or (into.parent / into.stem if into else None)
    write_report(suite, results, out, plots, into)
    print(f"report written to {into or out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
