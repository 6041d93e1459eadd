"""
Tuning that holds up: trials scored over several seeds, trials of dead workers failed by heartbeat, the best trial
written as a zoo hyperparameter entry.

The RL Zoo scores an Optuna trial on one training run. With ``--trial-seeds N`` a trial trains N models with the
sampled hyperparameters, each with its own seed, **in lock-step**: every model learns up to the next evaluation
point, then waits while the others catch up; the N evaluations are aggregated (``--trial-aggregate``, median by
default) and the aggregate is what the trial reports to Optuna's pruner at that step. A trial is thus pruned on all
its seeds together. Only one model learns at a time (one core per worker, as with one seed) and each seed keeps its
own random-number streams across the hand-overs, so a seed's run is the run it would be alone.

Command-line options added to ``sb3-notes-zoo train`` (parsed here, before the zoo's own parser sees the rest):

- ``--trial-seeds N`` (default 1: the zoo's own objective, unchanged), ``--trial-aggregate median|mean|iqm``;
- ``--heartbeat-interval S`` / ``--heartbeat-grace S`` / ``--trial-retries K``: Optuna's heartbeat on an RDB
  storage (SQLite, PostgreSQL); a trial whose worker stopped beating for ``S`` seconds of grace is set to FAIL
  by the next worker that starts a trial, and re-queued with the same parameters up to ``K`` times;
- ``--sampler-seed``: the seed of the Optuna sampler (default ``--seed``; ``-1`` draws a fresh one, which
  concurrent workers need so that they do not propose the same parameters);
- ``--search-params NAME ...``: search only these of the sampler's parameters; every other hyperparameter keeps
  the entry's value (:func:`focused_sampler`). A study of a few costly trials can then spend them where a
  benchmark points (PPOPenalty's ``kl_target`` and ``kl_coef``, say) instead of across the whole space.
"""

import argparse
import math
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import optuna
import torch as th
from scipy.stats import trim_mean
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, EvalCallback
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from sb3_notes.zoo.samplers import Converter, Sampler


def _iqm(values: Sequence[float]) -> float:
    # Interquartile mean as rliable computes it: scipy's trim_mean cutting 25% at each end (rounded down, so
    # for fewer than 4 values nothing is cut and it is the mean).
    return float(trim_mean(np.asarray(values, dtype=float), proportiontocut=0.25))


AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {
    "median": lambda values: float(np.median(np.asarray(values, dtype=float))),
    "mean": lambda values: float(np.mean(np.asarray(values, dtype=float))),
    "iqm": _iqm,
}


def aggregate(values: Sequence[float], method: str) -> float:
    """
    Aggregate the per-seed evaluations of a trial.

    :param values: One mean evaluation return per seed
    :param method: ``"median"``, ``"mean"`` or ``"iqm"`` (interquartile mean, ``scipy.stats.trim_mean(x, 0.25)``)
    :return: the aggregate
    """
    return AGGREGATES[method](values)


def trial_seeds(base_seed: int, trial_number: int, n_seeds: int) -> list[int]:
    """
    The seeds of a trial's runs: ``numpy.random.SeedSequence([base_seed, trial_number]).generate_state(n_seeds)``.

    A pure function of the worker's ``--seed`` and the trial's number (no hashing of strings, no process state), so
    rerunning a trial gives the same seeds, while different trials get unrelated ones.

    :param base_seed: The ``--seed`` of the command line
    :param trial_number: ``trial.number``
    :param n_seeds: How many seeds (``--trial-seeds``)
    :return: ``n_seeds`` seeds in ``[0, 2**32)``
    """
    state = np.random.SeedSequence([base_seed % 2**32, trial_number]).generate_state(n_seeds)
    return [int(seed) for seed in state]


@dataclass(frozen=True)
class TuningOptions:
    """
    The tuning options ``sb3-notes-zoo train`` adds to the zoo's.

    :param trial_seeds: Training runs per trial (1: the zoo's own objective)
    :param trial_aggregate: How a trial's per-seed evaluations become its value: median, mean or iqm
    :param heartbeat_interval: Seconds between a running trial's heartbeats on an RDB storage (``None``: off)
    :param heartbeat_grace: Seconds without a heartbeat after which a running trial counts as dead
        (``None``: Optuna's default, twice the interval)
    :param trial_retries: How many times a dead worker's trial is re-queued with its parameters (0: it stays FAIL)
    :param sampler_seed: Seed of the Optuna sampler (``None``: the zoo's ``--seed``; -1: a fresh random one)
    :param search_params: The only sampler parameters searched (empty: all of them, as the zoo does)
    """

    trial_seeds: int = 1
    trial_aggregate: str = "median"
    heartbeat_interval: int | None = 60
    heartbeat_grace: int | None = None
    trial_retries: int = 0
    sampler_seed: int | None = None
    search_params: tuple[str, ...] = ()


def _whole_number(text: str, low: int) -> int:
    """An argparse type: ``text`` as an int of at least ``low``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {'0 or more' if low == 0 else f'at least {low}'}, got {value}")
    return value


_positive_int = partial(_whole_number, low=1)
_non_negative_int = partial(_whole_number, low=0)


def tuning_parser(prog: str = "sb3-notes-zoo train") -> argparse.ArgumentParser:
    """
    The parser of the options :class:`TuningOptions` holds (the zoo parses every other argument).

    :param prog: Program name for usage and error lines
    :return: the parser
    """
    # No abbreviations: the zoo's --sampler would otherwise be read as a prefix of --sampler-seed.
    parser = argparse.ArgumentParser(prog=prog, add_help=False, allow_abbrev=False)
    group = parser.add_argument_group("sb3-notes tuning options (with -optimize)")
    group.add_argument("--trial-seeds", type=_positive_int, default=1, help="training runs (seeds) per trial (default 1)")
    group.add_argument(
        "--trial-aggregate", choices=sorted(AGGREGATES), default="median", help="aggregate of a trial's seeds (default median)"
    )
    group.add_argument(
        "--heartbeat-interval",
        type=_non_negative_int,
        default=60,
        help="seconds between heartbeats of a running trial on an RDB storage; 0 turns heartbeats off (default 60)",
    )
    group.add_argument(
        "--heartbeat-grace",
        type=_positive_int,
        default=None,
        help="seconds without heartbeat before a running trial is failed (default: twice the interval)",
    )
    group.add_argument(
        "--trial-retries", type=_non_negative_int, default=0, help="re-queue a dead worker's trial up to K times (default 0)"
    )
    group.add_argument(
        "--sampler-seed", type=int, default=None, help="seed of the Optuna sampler (default --seed; -1: a fresh random seed)"
    )
    group.add_argument(
        "--search-params",
        nargs="+",
        metavar="NAME",
        default=(),
        help="search only these hyperparameters of the algorithm's sampler; the others keep the entry's values",
    )
    return parser


def parse_tuning_args(argv: Sequence[str], prog: str = "sb3-notes-zoo train") -> tuple[TuningOptions, list[str]]:
    """
    Take the tuning options out of a ``train`` command line; bad values exit with argparse's usage error.

    :param argv: The ``train`` arguments
    :param prog: Program name for error lines
    :return: the options and the arguments left for the zoo
    """
    parser = tuning_parser(prog)
    known, rest = parser.parse_known_args(list(argv))
    optimizing = bool({"-optimize", "--optimize", "--optimize-hyperparameters"} & set(rest))
    if known.trial_seeds > 1 and not optimizing:
        parser.error("--trial-seeds only applies to -optimize (hyperparameter search)")
    if known.search_params and not optimizing:
        parser.error("--search-params only applies to -optimize (hyperparameter search)")
    if known.heartbeat_grace is not None and known.heartbeat_interval == 0:
        parser.error("--heartbeat-grace needs heartbeats (--heartbeat-interval > 0)")
    options = TuningOptions(
        trial_seeds=known.trial_seeds,
        trial_aggregate=known.trial_aggregate,
        heartbeat_interval=known.heartbeat_interval or None,
        heartbeat_grace=known.heartbeat_grace,
        trial_retries=known.trial_retries,
        sampler_seed=known.sampler_seed,
        search_params=tuple(dict.fromkeys(known.search_params)),
    )
    return options, rest


class _RandomState:
    """The process-wide random streams (Python, NumPy, PyTorch) one seed's run uses, kept across hand-overs."""

    def __init__(self) -> None:
        self.python = random.getstate()
        self.numpy = np.random.get_state()
        self.torch = th.get_rng_state()
        # CUDA keeps its own generators; only touch them once CUDA is in use (querying them would initialise it).
        self.cuda = th.cuda.get_rng_state_all() if th.cuda.is_initialized() else None

    def restore(self) -> None:
        random.setstate(self.python)
        np.random.set_state(self.numpy)
        th.set_rng_state(self.torch)
        if self.cuda is not None:
            th.cuda.set_rng_state_all(self.cuda)


class SeedRun:
    """
    One seed of a multi-seed trial: its model, its evaluation environment and the thread its ``learn`` runs in,
    which hands control back to the coordinator at every evaluation point.

    :param seed: The run's seed
    :param model: The model, built with ``seed``
    :param eval_env: Its evaluation environment
    """

    def __init__(self, seed: int, model: BaseAlgorithm, eval_env: VecEnv) -> None:
        self.seed = seed
        self.model = model
        self.eval_env = eval_env
        self.values: list[float] = []  # one mean return per evaluation point reached
        self.finished = False
        self.stop = False
        self.error: BaseException | None = None
        self._random_state = _RandomState()
        self._resume = threading.Semaphore(0)
        self._paused = threading.Semaphore(0)
        self._thread: threading.Thread | None = None

    @property
    def last_value(self) -> float:
        """The latest evaluation (``-inf`` before the first one, as the zoo's ``last_mean_reward``)."""
        return self.values[-1] if self.values else -math.inf

    def start(self, total_timesteps: int, callback: BaseCallback) -> None:
        """
        Start the run's thread; it waits for the first :meth:`advance` before it learns anything.

        :param total_timesteps: The trial's budget
        :param callback: Callbacks of the run, the lock-step evaluation callback among them
        """

        def body() -> None:
            self._resume.acquire()
            try:
                if not self.stop:
                    self._random_state.restore()
                    self.model.learn(total_timesteps, callback=callback)
            except BaseException as e:  # handed to the coordinator, which decides (prune or re-raise)
                self.error = e
            finally:
                self.finished = True
                self._paused.release()

        self._thread = threading.Thread(target=body, name=f"trial-seed-{self.seed}", daemon=True)
        self._thread.start()

    def advance(self) -> None:
        """Let the run learn up to its next evaluation point (or its end) and wait until it is there."""
        self._resume.release()
        self._paused.acquire()

    def pause_at_evaluation(self) -> bool:
        """
        Called from the run's thread at an evaluation point: hand control back and wait for the next turn.

        :return: whether to go on learning
        """
        self._random_state = _RandomState()
        self._paused.release()
        self._resume.acquire()
        self._random_state.restore()
        return not self.stop

    def close(self) -> None:
        """Stop the run if it is still going, wait for its thread and close its environments."""
        if self._thread is not None and not self.finished:
            self.stop = True
            self.advance()
        if self._thread is not None:
            self._thread.join()
        if self.model.env is not None:
            self.model.env.close()
        self.eval_env.close()


class LockStepEvalCallback(EvalCallback):
    """
    The zoo's ``TrialEvalCallback`` for one seed of a multi-seed trial: evaluate every ``eval_freq`` calls, then
    pause until the coordinator has the other seeds' evaluations, aggregated and reported them.

    :param run: The seed's run
    :param kwargs: ``EvalCallback``'s arguments (``eval_env``, ``eval_freq``, ...)
    """

    def __init__(self, run: SeedRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run

    def _on_step(self) -> bool:
        if self.eval_freq > 0 and self.n_calls % self.eval_freq == 0:
            super()._on_step()
            self.run.values.append(float(self.last_mean_reward))
            return self.run.pause_at_evaluation()
        return True


def run_lock_step(
    trial: optuna.Trial,
    runs: Sequence[SeedRun],
    total_timesteps: int,
    callbacks: Sequence[BaseCallback],
    method: str,
) -> float:
    """
    Train the runs of a trial in lock-step, report the aggregate at every evaluation step and prune on it.

    The per-seed results go to the trial's user attributes: ``seeds``, ``seed_values`` (each seed's latest
    evaluation), ``trial_aggregate``, ``n_seeds_run`` and ``n_evaluations_run``; a pruned trial also has
    ``pruned_at_step``.

    :param trial: The Optuna trial
    :param runs: The seeds' runs, models built and not started (callbacks[i] holds runs[i]'s lock-step callback)
    :param total_timesteps: Budget of each run
    :param callbacks: One callback per run
    :param method: Aggregate, a key of :data:`AGGREGATES`
    :return: the aggregate of the runs' final evaluations
    :raises optuna.TrialPruned: when the pruner cuts the trial, or a run fails with a ``ValueError`` or
        ``AssertionError`` (NaN from bad hyperparameters, as the zoo prunes them)
    """
    trial.set_user_attr("seeds", [run.seed for run in runs])
    trial.set_user_attr("trial_aggregate", method)
    for run, callback in zip(runs, callbacks, strict=True):
        run.start(total_timesteps, callback)
    step = 0
    try:
        while True:
            progressed = False
            for run in runs:
                if run.finished:
                    continue
                run.advance()
                if run.error is not None:
                    _record(trial, runs, step)
                    if isinstance(run.error, AssertionError | ValueError):
                        # The zoo prunes trials whose hyperparameters give NaN (a ValueError/AssertionError in learn).
                        print(run.error)
                        trial.set_user_attr("pruned_at_step", step)
                        raise optuna.TrialPruned(f"seed {run.seed}: {run.error}") from run.error
                    raise run.error
                progressed = progressed or not run.finished
            if not progressed:
                break
            step += 1
            value = aggregate([run.last_value for run in runs], method)
            trial.report(value, step)
            if trial.should_prune():
                _record(trial, runs, step)
                trial.set_user_attr("pruned_at_step", step)
                raise optuna.TrialPruned()
    finally:
        for run in runs:
            run.close()
    _record(trial, runs, step)
    return aggregate([run.last_value for run in runs], method)


def _record(trial: optuna.Trial, runs: Sequence[SeedRun], step: int) -> None:
    trial.set_user_attr("seed_values", [run.last_value for run in runs])
    trial.set_user_attr("n_seeds_run", len(runs))
    trial.set_user_attr("n_evaluations_run", step)


def lock_step_callback(run: SeedRun, extra: Sequence[BaseCallback], **eval_kwargs: Any) -> BaseCallback:
    """
    The callbacks of one run: the entry's own (``extra``) and the lock-step evaluation.

    :param run: The seed's run
    :param extra: The entry's callbacks (the zoo's ``callback`` key)
    :param eval_kwargs: ``EvalCallback``'s arguments
    :return: a ``CallbackList``
    """
    return CallbackList([*extra, LockStepEvalCallback(run, **eval_kwargs)])


# --- a search over some of the sampler's parameters -----------------------------------------------------------------


class _FocusedTrial:
    """
    An Optuna trial seen by a sampler that is to search ``names`` only: those suggestions go to ``trial``, every
    other one gets a placeholder that is neither recorded nor used, since :func:`focused_sampler` keeps only the
    searched arguments. ``trial=None`` answers every suggestion with a placeholder: the lowest value or first
    choice, or the highest value or last choice for the names in ``high`` (how :func:`searchable_params` probes
    the sampler). ``ranges`` records each suggestion's range.
    """

    def __init__(self, trial: optuna.Trial | None, names: Sequence[str], high: Sequence[str] = ()) -> None:
        self._trial = trial
        self._names = set(names)
        self._high = set(high)
        self.placeholders: dict[str, Any] = {}
        self.ranges: dict[str, tuple[Any, ...]] = {}

    def _searched(self, name: str) -> bool:
        return self._trial is not None and name in self._names

    def _placeholder(self, name: str, low: Any, high: Any) -> Any:
        return self.placeholders.setdefault(name, high if name in self._high else low)

    def suggest_float(self, name: str, low: float, high: float, **kwargs: Any) -> float:
        self.ranges[name] = (low, high)
        if self._searched(name):
            return self._trial.suggest_float(name, low, high, **kwargs)  # type: ignore[union-attr]
        return self._placeholder(name, low, high)

    def suggest_int(self, name: str, low: int, high: int, **kwargs: Any) -> int:
        self.ranges[name] = (low, high)
        if self._searched(name):
            return self._trial.suggest_int(name, low, high, **kwargs)  # type: ignore[union-attr]
        return self._placeholder(name, low, high)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.ranges[name] = tuple(choices)
        if self._searched(name):
            return self._trial.suggest_categorical(name, choices)  # type: ignore[union-attr]
        return self._placeholder(name, choices[0], choices[-1])

    def set_user_attr(self, key: str, value: Any) -> None:
        # The samplers record derived values (gamma, n_steps) for display; a placeholder's would mislead.
        if self._searched(key):
            self._trial.set_user_attr(key, value)  # type: ignore[union-attr]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)


@dataclass(frozen=True)
class _Probe:
    """A sampler run on placeholders only: its raw parameters, their ranges, and the arguments made from them."""

    placeholders: dict[str, Any]
    ranges: dict[str, tuple[Any, ...]]
    hyperparams: dict[str, Any]


def _probe(sampler: Sampler, high: Sequence[str] = ()) -> _Probe:
    trial = _FocusedTrial(None, (), high)
    hyperparams = sampler(trial, 1, 1, {"using_her_replay_buffer": False, "her_kwargs": {}})  # type: ignore[arg-type]
    return _Probe(trial.placeholders, trial.ranges, hyperparams)


def searchable_params(sampler: Sampler) -> list[str]:
    """
    The parameters ``--search-params`` can name: each one a sampler suggests under the name of the constructor
    argument it sets (``learning_rate``, ``kl_target``), uncoupled from the others. Probing the sampler with each
    parameter's placeholder moved from its lowest to its highest value, a name is left out when moving it
    changes another argument (the zoo derives ``gradient_steps`` from ``train_freq``), or when moving the others
    changes its value or its range (a range computed from ``n_quantiles``): holding those at the entry's values
    would search another space than the sampler's. Parameters stored in another form (``n_steps_pow``,
    ``one_minus_gamma``, ``net_arch``) are searched only by a full search.

    :param sampler: A zoo sampler (``HYPERPARAMS_SAMPLER[algo]``)
    :return: the names, sorted
    """
    base = _probe(sampler)
    raw, hyperparams = base.placeholders, base.hyperparams
    found = []
    for name in sorted(set(raw) & set(hyperparams)):
        moved = _probe(sampler, high=[name]).hyperparams
        others_moved = _probe(sampler, high=[other for other in raw if other != name])
        couples = any(repr(moved.get(key)) != repr(value) for key, value in hyperparams.items() if key != name)
        depends = repr(others_moved.hyperparams.get(name)) != repr(hyperparams[name])
        if not couples and not depends and others_moved.ranges.get(name) == base.ranges[name]:
            found.append(name)
    return found


def focused_sampler(sampler: Sampler, names: Sequence[str]) -> Sampler:
    """
    A sampler that searches only ``names`` and returns only those arguments, so that the zoo's
    ``kwargs.update(sampled)`` leaves every other hyperparameter at the entry's value.

    :param sampler: The algorithm's zoo sampler
    :param names: Parameters to search, each one of :func:`searchable_params`
    :return: the sampler of the smaller space
    :raises ValueError: naming each name that is not searchable, and the names that are
    """
    searchable = searchable_params(sampler)
    unknown = [name for name in names if name not in searchable]
    if unknown:
        raise ValueError(
            f"--search-params {' '.join(unknown)}: not a parameter this algorithm's sampler searches under that name; "
            f"accepted: {', '.join(searchable)} (leave --search-params out to search every parameter)"
        )

    def sample(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
        hyperparams = sampler(_FocusedTrial(trial, names), n_actions, n_envs, additional_args)  # type: ignore[arg-type]
        return {key: value for key, value in hyperparams.items() if key in names}

    return sample


def convert_trial_params(sampler: Sampler, converter: Converter, params: dict[str, Any]) -> dict[str, Any]:
    """
    A stored trial's constructor arguments, for ``--trial-id`` and ``tune --best-yaml``. A trial of a
    ``--search-params`` study holds the searched parameters only: it gives those arguments alone, to lay over the
    entry as the search did. A full trial converts as the zoo converts it.

    :param sampler: The algorithm's zoo sampler (it names the raw parameters)
    :param converter: The algorithm's zoo converter
    :param params: ``trial.params``
    :return: keyword arguments
    """
    if not params:
        raise ValueError("the trial has no parameters (it failed before its sampler ran?): nothing to rebuild")
    probe = _probe(sampler)
    raw, hyperparams = probe.placeholders, probe.hyperparams
    # A focused trial holds searchable names only; a full one always has some raw form (n_steps_pow, ...),
    # even when a conditional sampler took another branch than the placeholders' run.
    if not set(params) <= set(raw) & set(hyperparams) or set(params) == set(raw):
        return converter(params)
    return {key: value for key, value in converter({**raw, **params}).items() if key in params}


def _python_source(value: Any) -> str:
    # The zoo evaluates policy_kwargs strings in rl_zoo3.exp_manager, where torch.nn is imported as `nn`.
    if isinstance(value, dict):
        return "dict(" + ", ".join(f"{key}={_python_source(item)}" for key, item in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_python_source(item) for item in value) + "]"
    if isinstance(value, type) and issubclass(value, nn.Module):
        return f"nn.{value.__name__}"
    return repr(value)


def zoo_entry(base_entry: dict[str, Any], hyperparams: dict[str, Any]) -> dict[str, Any]:
    """
    A hyperparameter-file entry in the zoo's format: the base entry updated with a trial's hyperparameters.

    :param base_entry: The entry the study ran from (``n_timesteps``, ``n_envs``, ``policy``, ...)
    :param hyperparams: The trial's constructor arguments (its converter's output)
    :return: a plain YAML-ready dict; ``policy_kwargs`` as the zoo's ``"dict(...)"`` string
    """
    entry = dict(base_entry)
    for key, value in hyperparams.items():
        if key == "policy_kwargs" and not isinstance(value, str):
            entry[key] = _python_source(value)
        elif isinstance(value, np.generic):
            entry[key] = value.item()
        else:
            entry[key] = value
    return dict(sorted(entry.items()))


__all__ = [
    "AGGREGATES",
    "LockStepEvalCallback",
    "SeedRun",
    "TuningOptions",
    "aggregate",
    "convert_trial_params",
    "focused_sampler",
    "lock_step_callback",
    "parse_tuning_args",
    "run_lock_step",
    "searchable_params",
    "trial_seeds",
    "tuning_parser",
    "zoo_entry",
]
