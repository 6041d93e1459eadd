"""
RL Zoo bridge: run every algorithm of ``sb3_notes.ALGORITHMS`` through ``rl_zoo3``'s ``train``, ``enjoy`` and plots.

The zoo keeps its algorithms, Optuna samplers and converters in plain dicts and has no plugin entry point, so
:func:`register` adds ours to those dicts and :class:`NotesExperimentManager` (a subclass of the zoo's
``ExperimentManager``, swapped into ``rl_zoo3.train`` by :func:`register`) adds what the zoo lacks:

- the hyperparameter files shipped in ``sb3_notes/zoo/hyperparams/<key>.yml`` are the default for our keys
  (the zoo looks in its own package, where they are not); ``-conf`` still wins;
- an unknown hyperparameter fails before anything is built, naming the key, the entry and the file;
- ``--storage`` is opened before any log folder or study is made, so an unreachable one fails with a clear
  message; workers that start together on one storage create its tables and their study without racing;
- ``--trial-seeds N`` scores each trial on N seeds trained in lock-step, the pruner seeing their aggregate
  (:mod:`sb3_notes.zoo.tuning`); on an RDB storage, running trials beat a heartbeat, so the trial of a worker
  that died is set to FAIL (or re-queued) by the workers that go on;
- ``--search-params NAME ...`` searches only those of the sampler's parameters, the entry keeping the others.

Usage: ``python -m sb3_notes.zoo train --algo ppo_penalty --env CartPole-v1`` (or ``sb3-notes-zoo train ...``).

Distributed tuning is the zoo's: every worker runs the same command with one ``--storage`` and ``--study-name``
(``--n-trials`` counts per worker, ``--max-total-trials`` for all of them)::

    sb3-notes-zoo train --algo ppo_penalty --env CartPole-v1 -optimize --n-trials 50 \
        --storage sqlite:///study.db --study-name ppo_penalty-cartpole        # processes on one machine
    ... --storage logs/optuna/journal.log ...                                 # journal file on a shared disk
    ... --storage postgresql://user:password@db-host:5432/optuna ...          # machines (the postgres extra)

``sb3-notes-zoo tune --workers N <train arguments>`` (:mod:`sb3_notes.zoo.cluster`) starts N such workers,
shows the study's progress and writes the best trial as a zoo hyperparameter entry.
"""

import difflib
import inspect
import os
import random
import socket
import sys
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import numpy as np
import optuna
import rl_zoo3.exp_manager
import rl_zoo3.train
from optuna.samplers import BaseSampler
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER
from rl_zoo3.utils import ALGOS, get_callback_list
from sqlalchemy.engine import make_url
from stable_baselines3 import HerReplayBuffer

from sb3_notes import ALGORITHMS
from sb3_notes.settings import HYPERPARAMS_DIR, ZOO_ENTRY_KEYS
from sb3_notes.zoo.samplers import CONVERTERS, SAMPLERS, Sampler
from sb3_notes.zoo.tuning import (
    SeedRun,
    TuningOptions,
    convert_trial_params,
    focused_sampler,
    lock_step_callback,
    run_lock_step,
    trial_seeds,
)

# Constructor arguments the zoo fills from its command line; an entry that sets them would clash.
ZOO_COMMAND_LINE_ARGS = frozenset({"env", "seed", "verbose", "device", "tensorboard_log", "_init_setup_model"})

_T = TypeVar("_T")


class ZooBridgeError(ValueError):
    """Bad input to the bridge (hyperparameter file, storage): the command line prints the message, no traceback."""


def default_config(algo: str) -> str | None:
    """
    The shipped hyperparameter file of an sb3-notes key.

    :param algo: Zoo key, e.g. ``"ppo_penalty"``
    :return: its path, or ``None`` for a key that is not ours or has no shipped file
    """
    path = HYPERPARAMS_DIR / f"{algo}.yml"
    return str(path) if algo in ALGORITHMS and path.is_file() else None


def register(tuning: TuningOptions | None = None) -> None:
    """
    Put every algorithm of ``sb3_notes.ALGORITHMS`` in the zoo's ``ALGOS``, its sampler and converter in
    ``HYPERPARAMS_SAMPLER`` / ``HYPERPARAMS_CONVERTER``, and make ``rl_zoo3.train`` use
    :class:`NotesExperimentManager`. Safe to call more than once.

    :param tuning: The tuning options of the command line, given to every manager ``rl_zoo3.train`` builds
        (``None``: the defaults, the zoo's own objective)
    :raises ValueError: if one of our keys already names a different algorithm in the zoo
    """
    for key, cls in ALGORITHMS.items():
        if ALGOS.get(key, cls) is not cls:
            raise ValueError(
                f"zoo key {key!r} already names {ALGOS[key].__name__}; sb3_notes would replace it by {cls.__name__}"
            )
        ALGOS[key] = cls
        if key in SAMPLERS:
            # The zoo's dicts are typed after its own functions; ours have the same signatures.
            HYPERPARAMS_SAMPLER[key] = SAMPLERS[key]  # type: ignore[assignment]
            HYPERPARAMS_CONVERTER[key] = CONVERTERS[key]  # type: ignore[assignment]
    # The zoo's train() builds its manager from this module global; the subclass changes nothing for other keys
    # except the storage checks, which only turn failures into clear messages.
    rl_zoo3.train.ExperimentManager = NotesExperimentManager  # type: ignore[misc]
    NotesExperimentManager.command_line_tuning = tuning or TuningOptions()


def check_hyperparams(algo: str, hyperparams: dict[str, Any], source: str, require_policy: bool = True) -> None:
    """
    Raise :class:`ZooBridgeError` if an entry holds a key that neither the zoo nor the algorithm's constructor takes.

    :param algo: Zoo key of an sb3-notes algorithm
    :param hyperparams: The entry, as read from the file (zoo keys included)
    :param source: Where the entry comes from, for the message (file and entry name, or ``-params``)
    :param require_policy: Whether the entry must name a policy (a complete entry does; ``-params`` need not)
    """
    cls = ALGORITHMS[algo]
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self"} - ZOO_COMMAND_LINE_ARGS
    for key in hyperparams:
        if key in ZOO_COMMAND_LINE_ARGS:
            raise ZooBridgeError(f"hyperparameter {key!r} {source} is set by the zoo's command line; remove it from the entry")
        if key not in accepted and key not in ZOO_ENTRY_KEYS:
            close = difflib.get_close_matches(key, accepted | ZOO_ENTRY_KEYS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ZooBridgeError(
                f"unknown hyperparameter {key!r} {source} for {algo} ({cls.__name__}).{hint} "
                f"Accepted: {', '.join(sorted(accepted | ZOO_ENTRY_KEYS))}"
            )
    if require_policy and "policy" not in hyperparams:
        raise ZooBridgeError(f"no 'policy' {source} for {algo}; use one of {', '.join(cls.policy_aliases)}")


def search_sampler(algo: str, search_params: Sequence[str]) -> Sampler:
    """
    The zoo's sampler of ``algo`` searching only ``search_params`` (``--search-params``), every other
    hyperparameter keeping the entry's value.

    :param algo: Zoo key (ours are registered by :func:`register`)
    :param search_params: Names from :func:`sb3_notes.zoo.tuning.searchable_params`
    :return: the sampler
    :raises ZooBridgeError: if the zoo has no sampler for ``algo`` or a name is not searchable, listing the accepted
    """
    if algo not in HYPERPARAMS_SAMPLER:
        raise ZooBridgeError(f"--search-params: the zoo has no sampler for {algo!r}")
    try:
        return focused_sampler(HYPERPARAMS_SAMPLER[algo], search_params)  # type: ignore[arg-type]
    except ValueError as e:
        raise ZooBridgeError(f"{e} ({algo})") from None


def _retry(action: Callable[[], _T], attempts: int = 6) -> _T:
    # Workers started together race on first use of a storage (table creation, the study's first attributes);
    # the loser's error is harmless once the winner is done, so try again after a short random wait.
    for attempt in range(attempts):
        try:
            return action()
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))
    raise AssertionError("unreachable")


def open_storage(storage: str, tuning: TuningOptions | None = None) -> BaseStorage:
    """
    Open an Optuna storage the way the zoo names it: a path ending in ``.log`` is a journal file (shared through
    the file system), anything else an SQLAlchemy URL (``sqlite:///study.db``, ``postgresql://user@host/db``).

    :param storage: The ``--storage`` argument
    :param tuning: Heartbeat settings for an RDB storage (``None``: no heartbeat, e.g. to read a study back);
        a journal file has no heartbeat in Optuna 5, so they do not apply to it
    :return: the opened storage
    :raises ZooBridgeError: if it cannot be opened, with the reason
    """
    heartbeat: dict[str, Any] = {}
    if tuning is not None and tuning.heartbeat_interval:
        heartbeat = {"heartbeat_interval": tuning.heartbeat_interval, "grace_period": tuning.heartbeat_grace}
        if tuning.trial_retries:
            heartbeat["heartbeat_stale_trial_callback"] = RetryHeartbeatStaleTrialCallback(max_retry=tuning.trial_retries)
    try:
        if storage.endswith(".log"):
            Path(storage).parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(storage))
        with warnings.catch_warnings():
            # Optuna flags the heartbeat arguments as experimental; they are what a shared study needs.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return _retry(lambda: RDBStorage(storage, **heartbeat), attempts=3 if not storage.startswith("sqlite") else 6)
    except Exception as e:
        raise ZooBridgeError(
            f"cannot open the Optuna storage {_without_password(storage)!r}: {type(e).__name__}: {e}. "
            "Nothing was written to it. "
            "Check the URL, the user and password, that the database server is reachable and that its driver is "
            "installed (psycopg for postgresql://: the postgres extra); a journal storage is a file path ending in .log"
        ) from e


def _without_password(storage: str) -> str:
    # Error messages end up in CI logs and terminals shared with others: never print a database password.
    try:
        return make_url(storage).render_as_string(hide_password=True)
    except Exception:
        return storage


class _OptunaWithStorage:
    """
    The ``optuna`` module as the zoo's ``exp_manager`` sees it, except that ``create_study`` gets our storage.

    The zoo builds its study from the ``--storage`` string, which gives a storage without heartbeat; swapping the
    module name in ``rl_zoo3.exp_manager`` for the span of one search hands it the heartbeat storage instead, and
    leaves the zoo's search loop, its ``--max-total-trials`` logic and its report as they are.

    :param storage: The opened storage
    """

    def __init__(self, storage: BaseStorage) -> None:
        self._storage = storage

    def __getattr__(self, name: str) -> Any:
        return getattr(optuna, name)

    def create_study(self, **kwargs: Any) -> optuna.Study:
        """
        ``optuna.create_study`` on the opened storage.

        :param kwargs: ``optuna.create_study``'s arguments; ``storage`` is replaced
        :return: the study
        """
        kwargs["storage"] = self._storage
        return optuna.create_study(**kwargs)


@contextmanager
def _zoo_uses_storage(storage: BaseStorage) -> Iterator[None]:
    saved = rl_zoo3.exp_manager.optuna
    rl_zoo3.exp_manager.optuna = _OptunaWithStorage(storage)  # type: ignore[assignment]
    try:
        yield
    finally:
        rl_zoo3.exp_manager.optuna = saved


class NotesExperimentManager(ExperimentManager):
    """
    The zoo's ``ExperimentManager``, with the shipped hyperparameter files as default for sb3-notes keys, unknown
    hyperparameters rejected, and the Optuna storage opened up front.

    :param args: The zoo's ``ExperimentManager`` positional arguments
    :param tuning: Multi-seed trials, heartbeat and sampler seed (``None``: those of the command line,
        see :func:`register`)
    :param kwargs: Its keyword arguments (``config=None`` selects the shipped file for sb3-notes keys)
    """

    # What `sb3-notes-zoo train` parsed; rl_zoo3.train builds the manager without our options.
    command_line_tuning = TuningOptions()

    def __init__(self, *args: Any, tuning: TuningOptions | None = None, **kwargs: Any) -> None:
        bound = inspect.signature(ExperimentManager.__init__).bind(self, *args, **kwargs)
        super().__init__(*args, **kwargs)
        self.tuning = tuning or self.command_line_tuning
        if bound.arguments.get("config") is None:
            self.config = default_config(self.algo) or self.config
        # create_envs reads self.seed; multi-seed trials set it per run, one trial thread at a time (--n-jobs).
        self._seed_lock = threading.Lock()
        # The sampler of this search: the zoo's, or with --search-params the smaller space of focused_sampler.
        self._sampler: Sampler | None = HYPERPARAMS_SAMPLER.get(self.algo)  # type: ignore[assignment]
        if self.tuning.search_params and self.optimize_hyperparameters:
            # Checked before any log folder or study exists, as a bad storage is.
            self._sampler = search_sampler(self.algo, self.tuning.search_params)
        if self.storage is not None:
            # Before any log folder or study exists: a bad storage leaves nothing behind.
            open_storage(self.storage)

    def read_hyperparameters(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """
        The zoo's reading of the hyperparameter file, with every key of an sb3-notes entry checked first.

        :return: The hyperparameters and the saved copy, as the zoo returns them
        """
        if self.algo in ALGORITHMS:
            # Checked before the zoo merges -params in, so the message can say where a bad key came from.
            if self.custom_hyperparams:
                check_hyperparams(self.algo, self.custom_hyperparams, "given with -params", require_policy=False)
        hyperparams, saved_hyperparams = super().read_hyperparameters()
        if self.storage and self.study_name and self.trial_id == 0:
            # The zoo tests `if self.trial_id`, so --trial-id 0 (a study's first trial) was silently ignored; merge
            # it as the zoo merges any other trial: entry, then the trial's parameters, then -params.
            print("Loading from Optuna study...")
            hyperparams.update(self.load_trial(self.storage, self.study_name, self.trial_id))
            hyperparams.update(self.custom_hyperparams or {})
            saved_hyperparams = OrderedDict((key, hyperparams[key]) for key in sorted(hyperparams))
        if self.algo in ALGORITHMS:
            custom = self.custom_hyperparams or {}
            entry = {k: v for k, v in hyperparams.items() if k not in custom}
            check_hyperparams(
                self.algo,
                entry,
                f"in the entry for {self.env_name.gym_id} of {self.config}",
                require_policy="policy" not in custom,
            )
        return hyperparams, saved_hyperparams

    def load_trial(self, storage: str, study_name: str, trial_id: int | None = None, convert: bool = True) -> dict[str, Any]:
        """
        The zoo's reading of a stored trial (``--trial-id``; the best trial without it), which also rebuilds the
        trials of a ``--search-params`` study: their searched arguments only, laid over the entry.

        :param storage: The study's storage
        :param study_name: The study
        :param trial_id: The trial's number (``None``: the best trial)
        :param convert: Return constructor arguments (``False``: the raw ``trial.params``)
        :return: the trial's hyperparameters
        """
        params = super().load_trial(storage, study_name, trial_id, convert=False)
        if not convert:
            return params
        return convert_trial_params(HYPERPARAMS_SAMPLER[self.algo], HYPERPARAMS_CONVERTER[self.algo], params)

    def hyperparameters_optimization(self) -> None:
        """
        The zoo's Optuna search, after the shared study is created safely for concurrent workers, on a storage
        with heartbeat (RDB storages) so that the trials of dead workers are failed by the workers that go on.
        """
        # The zoo's objective looks its sampler up in this dict: the --search-params one while this search runs.
        focused = {self.algo: self._sampler} if self.tuning.search_params else {}
        with mock.patch.dict(HYPERPARAMS_SAMPLER, focused):
            if self.storage is None:
                super().hyperparameters_optimization()
                return
            storage = open_storage(self.storage, self.tuning)
            if self.study_name is not None:
                self._prepare_study(storage, self.study_name)
            with _zoo_uses_storage(storage):
                super().hyperparameters_optimization()

    def _create_sampler(self, sampler_method: str) -> BaseSampler:
        # The zoo seeds its sampler with --seed: concurrent workers given one seed would propose the same
        # parameters, hence --sampler-seed (-1: fresh entropy) while the trials' own seeds still come from --seed.
        sampler_seed = self.tuning.sampler_seed
        if sampler_seed is None:
            return super()._create_sampler(sampler_method)
        if sampler_seed < 0:
            sampler_seed = int(np.random.SeedSequence().generate_state(1)[0])
        seed, self.seed = self.seed, sampler_seed
        try:
            return super()._create_sampler(sampler_method)
        finally:
            self.seed = seed

    def objective(self, trial: optuna.Trial) -> float:
        """
        The zoo's objective for one seed (``--trial-seeds 1``); for N seeds, N models trained in lock-step with
        the trial's hyperparameters, the aggregate of their evaluations reported and pruned on at every step.

        :param trial: The Optuna trial
        :return: the trial's value: the last evaluation (one seed) or the aggregate of the seeds' last ones
        """
        # Which process ran the trial: with workers on several machines, the first thing to know about a failure.
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        if self.tuning.trial_seeds == 1:
            return super().objective(trial)
        kwargs = self._hyperparams.copy()
        n_envs = 1 if self.algo == "ars" else self.n_envs
        additional_args = {
            "using_her_replay_buffer": kwargs.get("replay_buffer_class") == HerReplayBuffer,
            "her_kwargs": kwargs.get("replay_buffer_kwargs", {}),
        }
        sampler = self._sampler or HYPERPARAMS_SAMPLER[self.algo]  # no sampler: the zoo's KeyError, as before
        sampled_hyperparams = sampler(trial, self.n_actions, n_envs, additional_args)
        kwargs.update(sampled_hyperparams)
        # As in the zoo: quiet trials unless debugging (--verbose 2).
        trial_verbosity = self.verbose if self.verbose >= 2 else 0
        eval_freq = max(int(self.n_timesteps / self.n_evaluations) // self.n_envs, 1)
        runs: list[SeedRun] = []
        callbacks = []
        try:
            for seed in trial_seeds(self.seed, trial.number, self.tuning.trial_seeds):
                with self._seed_lock:
                    self.seed, base_seed = seed, self.seed
                    env = None
                    try:
                        env = self.create_envs(n_envs, no_log=True)
                        model = ALGOS[self.algo](
                            env=env, tensorboard_log=None, seed=seed, verbose=trial_verbosity, device=self.device, **kwargs
                        )
                        eval_env = self.create_envs(n_envs=self.n_eval_envs, eval_env=True)
                    except BaseException:
                        if env is not None:  # not yet owned by a run: close it here
                            env.close()
                        raise
                    finally:
                        self.seed = base_seed
                run = SeedRun(seed, model, eval_env)
                runs.append(run)
                path = None
                if self.optimization_log_path is not None:
                    path = os.path.join(self.optimization_log_path, f"trial_{trial.number!s}", f"seed_{seed}")
                callbacks.append(
                    lock_step_callback(
                        run,
                        get_callback_list({"callback": self.specified_callbacks}),
                        eval_env=eval_env,
                        best_model_save_path=path,
                        log_path=path,
                        n_eval_episodes=self.n_eval_episodes,
                        eval_freq=eval_freq,
                        deterministic=self.deterministic_eval,
                        verbose=0,  # as the zoo's TrialEvalCallback: stdout keeps only the trials' results
                    )
                )
        except BaseException:
            for run in runs:
                run.close()
            raise
        try:
            return run_lock_step(trial, runs, self.n_timesteps, callbacks, self.tuning.trial_aggregate)
        except optuna.TrialPruned as e:
            if e.__cause__ is not None:  # a run failed (NaN): show what was sampled, as the zoo does
                print("Sampled hyperparams:", sampled_hyperparams)
            raise

    def _prepare_study(self, storage: BaseStorage, study_name: str) -> None:
        # Create the shared study and write the zoo's study attributes once, tolerating the other workers doing
        # the same at the same moment; the zoo then finds "command" set and loads the study as it is.
        def create() -> optuna.Study:
            return optuna.create_study(storage=storage, study_name=study_name, load_if_exists=True, direction="maximize")

        study = _retry(create)
        if "command" in study.user_attrs:
            return
        attrs = {key: str(self._hyperparams[key]) for key in sorted(self._hyperparams)}
        attrs["command"] = " ".join(sys.orig_argv)  # last: the zoo skips the block once it is there
        for key, value in attrs.items():
            _retry(lambda key=key, value=value: study.set_user_attr(key, value))  # type: ignore[misc]


__all__ = [
    "HYPERPARAMS_DIR",
    "NotesExperimentManager",
    "TuningOptions",
    "ZooBridgeError",
    "check_hyperparams",
    "default_config",
    "open_storage",
    "register",
    "search_sampler",
]
