"""
``sb3-notes-zoo tune``: N local tuning workers on one shared study, its progress, and the best trial as a zoo entry.

Every worker is ``sb3-notes-zoo train -optimize <the same arguments>``; workers on other machines run the same
``tune`` command (or plain ``train -optimize``) pointed at the same ``--storage`` URL and ``--study-name``::

    sb3-notes-zoo tune --workers 2 --algo ppo_penalty --env CartPole-v1 --max-total-trials 24 --trial-seeds 3 \\
        --storage postgresql://optuna:secret@db-host:5432/optuna --study-name ppo_penalty-cartpole

While the workers run, one line per change of the study (trials complete / pruned / failed / running, the best
value and its per-seed values); each worker's own zoo output goes to a log file. When they are done, the best
trial is written as an entry of a zoo hyperparameter file (``--best-yaml``), to be used with ``-conf``.
"""

import argparse
import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial, TrialState
from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER
from rl_zoo3.utils import StoreDict

from sb3_notes.zoo import NotesExperimentManager, ZooBridgeError, open_storage, register, search_sampler
from sb3_notes.zoo.tuning import convert_trial_params, parse_tuning_args, zoo_entry

PROG = "sb3-notes-zoo tune"


def _train_args_parser() -> argparse.ArgumentParser:
    # The few `train` arguments tune itself needs; the workers get all of them, unparsed.
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("-f", "--log-folder", default="logs")
    parser.add_argument("-conf", "--conf-file", default=None)
    parser.add_argument("-params", "--hyperparams", nargs="+", action=StoreDict, default=None)
    parser.add_argument("--storage", default=None)
    parser.add_argument("--study-name", default=None)
    parser.add_argument("-n", "--n-timesteps", type=int, default=-1)
    return parser


def study_progress(study: optuna.Study) -> str:
    """
    One line on a study's state: trials by state and the best value, with its per-seed values when it has them.

    :param study: The study
    :return: the line
    """
    trials = study.get_trials(deepcopy=False)
    counts = {state: sum(trial.state == state for trial in trials) for state in TrialState}
    line = (
        f"{study.study_name}: {len(trials)} trials: {counts[TrialState.COMPLETE]} complete, "
        f"{counts[TrialState.PRUNED]} pruned, {counts[TrialState.FAIL]} failed, {counts[TrialState.RUNNING]} running"
    )
    if counts[TrialState.WAITING]:
        line += f", {counts[TrialState.WAITING]} waiting"
    if counts[TrialState.COMPLETE]:
        best = study.best_trial
        line += f"; best {best.value:.6g} (trial {best.number}"
        if "seed_values" in best.user_attrs:
            line += f", seeds {[round(value, 3) for value in best.user_attrs['seed_values']]}"
        line += ")"
    return line


def best_entry(
    study: optuna.Study,
    algo: str,
    env_id: str,
    config: str | None = None,
    custom_hyperparams: dict[str, Any] | None = None,
    n_timesteps: int = -1,
) -> tuple[dict[str, Any], FrozenTrial]:
    """
    The best trial of a study as an entry of a zoo hyperparameter file.

    The entry is the one the study was tuned from (the ``-conf`` file, or the shipped file for an sb3-notes key,
    with the ``-params`` overrides the workers had), updated with the best trial's hyperparameters as the algorithm's
    converter rebuilds them (as ``--trial-id`` does), and with the budget the trials were scored on.

    :param study: The study
    :param algo: Zoo key
    :param env_id: Environment id
    :param config: The ``-conf`` file of the workers, if any
    :param custom_hyperparams: Their ``-params``, if any
    :param n_timesteps: Their ``-n`` (the budget each trial trained for); ``-1``: the entry's own ``n_timesteps``
    :return: the entry and the best trial
    """
    register()
    best = study.best_trial
    exp = NotesExperimentManager(
        argparse.Namespace(algo=algo, env=env_id), algo, env_id, "logs", config=config, hyperparams=custom_hyperparams
    )
    with contextlib.redirect_stdout(io.StringIO()):  # the zoo prints the entry it reads
        base, _ = exp.read_hyperparameters()
    if n_timesteps > 0:
        # The hyperparameters were scored at this budget (schedules and all); a longer one is the user's call.
        base["n_timesteps"] = n_timesteps
    hyperparams = convert_trial_params(HYPERPARAMS_SAMPLER[algo], HYPERPARAMS_CONVERTER[algo], best.params)
    return zoo_entry(dict(base), hyperparams), best


def write_best_yaml(path: str | Path, study: optuna.Study, algo: str, env_id: str, **kwargs: Any) -> dict[str, Any]:
    """
    Write the best trial of a study as a zoo hyperparameter file with one entry, the run that backs it in a comment.

    :param path: The file to write
    :param study: The study
    :param algo: Zoo key
    :param env_id: Environment id
    :param kwargs: :func:`best_entry`'s ``config``, ``custom_hyperparams`` and ``n_timesteps``
    :return: the entry
    """
    entry, best = best_entry(study, algo, env_id, **kwargs)
    states = [trial.state for trial in study.get_trials(deepcopy=False)]
    lines = [
        f"# Best of Optuna study {study.study_name!r}: trial {best.number} of {len(states)} "
        f"({states.count(TrialState.COMPLETE)} complete, {states.count(TrialState.PRUNED)} pruned, "
        f"{states.count(TrialState.FAIL)} failed), value {best.value!r}",
    ]
    if "seed_values" in best.user_attrs:
        lines.append(
            f"# {best.user_attrs.get('trial_aggregate', 'median')} of {len(best.user_attrs['seed_values'])} seeds "
            f"{best.user_attrs['seeds']}: {best.user_attrs['seed_values']}"
        )
    if "command" in study.user_attrs:
        lines.append(f"# Tuning command: {study.user_attrs['command']}")
    text = "\n".join(lines) + "\n" + yaml.safe_dump({env_id: entry}, sort_keys=False)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)
    return entry


def tune(argv: Sequence[str] | None = None) -> None:
    """
    Start N ``train -optimize`` workers on one study, print its progress until they end, write the best entry.

    :param argv: ``tune``'s arguments (its own and ``train``'s); ``sys.argv[1:]`` by default
    :raises ZooBridgeError: on a storage that cannot be opened (before any worker starts)
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        allow_abbrev=False,
        description="Run N local `sb3-notes-zoo train -optimize` workers on one study; every other argument is train's.",
    )
    parser.add_argument("--workers", type=int, required=True, help="number of local worker processes")
    parser.add_argument("--best-yaml", default=None, help="where to write the best trial's entry (default: under -f)")
    parser.add_argument("--progress-interval", type=float, default=10.0, help="seconds between progress checks")
    own, train_args = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if own.workers < 1:
        parser.error(f"--workers must be at least 1, got {own.workers}")
    if not {"-optimize", "--optimize-hyperparameters"} & set(train_args):
        train_args = ["-optimize", *train_args]
    tuning, _ = parse_tuning_args(train_args, prog=PROG)  # bad tuning options stop here, before any worker
    args, _ = _train_args_parser().parse_known_args(train_args)
    if args.storage is None or args.study_name is None:
        parser.error("--storage and --study-name are needed: the workers share the study through them")
    if tuning.search_params:  # checked as the workers would, before any of them starts
        register()
        search_sampler(args.algo, tuning.search_params)
    storage = open_storage(args.storage)  # an unreachable storage fails here, before any worker starts
    log_dir = Path(args.log_folder) / args.algo / "tune"
    log_dir.mkdir(parents=True, exist_ok=True)
    if tuning.sampler_seed is None:
        # Workers sharing one --seed would propose the same parameters; each draws its own sampler seed.
        train_args = [*train_args, "--sampler-seed", "-1"]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    workers: list[tuple[subprocess.Popen, Path]] = []
    for index in range(own.workers):
        log_path = log_dir / f"{args.study_name}_worker{index}_{os.getpid()}.log"
        with open(log_path, "w") as log:
            command = [sys.executable, "-m", "sb3_notes.zoo", "train", *train_args]
            workers.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env), log_path))
    print(f"[tune] {own.workers} workers on study {args.study_name!r} at {args.storage}; logs: {log_dir}/", flush=True)
    last = ""
    try:
        while any(worker.poll() is None for worker, _ in workers):
            time.sleep(own.progress_interval)
            last = _print_progress(storage, args.study_name, last)
    except KeyboardInterrupt:
        for worker, _ in workers:
            worker.send_signal(signal.SIGINT)  # the zoo stops its search and still writes its report
        for worker, _ in workers:
            worker.wait()
    _print_progress(storage, args.study_name, last)
    failed = [(worker.returncode, log_path) for worker, log_path in workers if worker.returncode != 0]
    for returncode, log_path in failed:
        print(f"[tune] a worker exited with status {returncode}; see {log_path}", file=sys.stderr)
    try:
        study = optuna.load_study(study_name=args.study_name, storage=storage)
    except KeyError:
        raise ZooBridgeError(f"the workers never created study {args.study_name!r}; see their logs in {log_dir}/") from None
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise ZooBridgeError(f"no complete trial in study {args.study_name!r}; nothing to write")
    best_yaml = own.best_yaml or str(Path(args.log_folder) / args.algo / f"best_{args.study_name}.yml")
    write_best_yaml(
        best_yaml,
        study,
        args.algo,
        args.env,
        config=args.conf_file,
        custom_hyperparams=args.hyperparams,
        n_timesteps=args.n_timesteps,
    )
    print(f"[tune] best trial's entry written to {best_yaml} (use it with -conf {best_yaml})", flush=True)
    if failed:
        sys.exit(1)


def _print_progress(storage: optuna.storages.BaseStorage, study_name: str, last: str) -> str:
    try:
        line = study_progress(optuna.load_study(study_name=study_name, storage=storage))
    except KeyError:  # the workers have not created the study yet
        return last
    if line != last:
        print(f"[tune] {time.strftime('%H:%M:%S')} {line}", flush=True)
    return line


__all__ = ["best_entry", "study_progress", "tune", "write_best_yaml"]
