"""
RL Zoo bridge: run every algorithm of ``sb3_notes.ALGORITHMS`` through ``rl_zoo3``'s ``train``, ``enjoy`` and plots.

The zoo keeps its algorithms, Optuna samplers and converters in plain dicts and has no plugin entry point, so
:func:`register` adds ours to those dicts and :class:`NotesExperimentManager` (a subclass of the zoo's
``ExperimentManager``, swapped into ``rl_zoo3.train`` by :func:`register`) adds what the zoo lacks:

- the hyperparameter files shipped in ``sb3_notes/zoo/hyperparams/<key>.yml`` are the default for our keys
  (the zoo looks in its own package, where they are not); ``-conf`` still wins;
- an unknown hyperparameter fails before anything is built, naming the key, the entry and the file;
- ``--storage`` is opened before any log folder or study is made, so an unreachable one fails with a clear
  message; workers that start together on one storage create its tables and their study without racing.

Usage: ``python -m sb3_notes.zoo train --algo ppo_penalty --env CartPole-v1`` (or ``sb3-notes-zoo train ...``).

Distributed tuning is the zoo's: every worker runs the same command with one ``--storage`` and ``--study-name``
(``--n-trials`` counts per worker, ``--max-total-trials`` for all of them)::

    sb3-notes-zoo train --algo ppo_penalty --env CartPole-v1 -optimize --n-trials 50 \
        --storage sqlite:///study.db --study-name ppo_penalty-cartpole        # processes on one machine
    ... --storage logs/optuna/journal.log ...                                 # journal file on a shared disk
    ... --storage postgresql://user:password@db-host:5432/optuna ...          # machines (needs psycopg2)
"""

import difflib
import inspect
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import optuna
import rl_zoo3.train
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER
from rl_zoo3.utils import ALGOS

from sb3_notes import ALGORITHMS
from sb3_notes.zoo.samplers import CONVERTERS, SAMPLERS

HYPERPARAMS_DIR = Path(__file__).parent / "hyperparams"

# Entries the zoo's ExperimentManager consumes itself; every other key of an entry goes to the constructor.
ZOO_ENTRY_KEYS = frozenset(
    {
        "n_timesteps",
        "n_envs",
        "normalize",
        "frame_stack",
        "env_wrapper",
        "vec_env_wrapper",
        "callback",
        "monitor_kwargs",
        "env_kwargs",
        "noise_type",
        "noise_std",
    }
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


def register() -> None:
    """
    Put every algorithm of ``sb3_notes.ALGORITHMS`` in the zoo's ``ALGOS``, its sampler and converter in
    ``HYPERPARAMS_SAMPLER`` / ``HYPERPARAMS_CONVERTER``, and make ``rl_zoo3.train`` use
    :class:`NotesExperimentManager`. Safe to call more than once.

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


def open_storage(storage: str) -> BaseStorage:
    """
    Open an Optuna storage the way the zoo names it: a path ending in ``.log`` is a journal file (shared through
    the file system), anything else an SQLAlchemy URL (``sqlite:///study.db``, ``postgresql://user@host/db``).

    :param storage: The ``--storage`` argument
    :return: the opened storage
    :raises ZooBridgeError: if it cannot be opened, with the reason
    """
    try:
        if storage.endswith(".log"):
            Path(storage).parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(storage))
        return _retry(lambda: RDBStorage(storage), attempts=3 if not storage.startswith("sqlite") else 6)
    except Exception as e:
        raise ZooBridgeError(
            f"cannot open the Optuna storage {storage!r}: {type(e).__name__}: {e}. Nothing was written to it. "
            "Check the URL, that the database server is reachable and that its driver is installed "
            "(e.g. psycopg2 for postgresql://); a journal storage is a file path ending in .log"
        ) from e


class NotesExperimentManager(ExperimentManager):
    """
    The zoo's ``ExperimentManager``, with the shipped hyperparameter files as default for sb3-notes keys, unknown
    hyperparameters rejected, and the Optuna storage opened up front.

    :param args: The zoo's ``ExperimentManager`` positional arguments
    :param kwargs: Its keyword arguments (``config=None`` selects the shipped file for sb3-notes keys)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = inspect.signature(ExperimentManager.__init__).bind(self, *args, **kwargs)
        super().__init__(*args, **kwargs)
        if bound.arguments.get("config") is None:
            self.config = default_config(self.algo) or self.config
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

    def hyperparameters_optimization(self) -> None:
        """The zoo's Optuna search, after the shared study is created safely for concurrent workers."""
        if self.storage is not None and self.study_name is not None:
            self._prepare_study(self.storage, self.study_name)
        super().hyperparameters_optimization()

    def _prepare_study(self, storage: str, study_name: str) -> None:
        # Create the shared study and write the zoo's study attributes once, tolerating the other workers doing
        # the same at the same moment; the zoo then finds "command" set and loads the study as it is.
        def create() -> optuna.Study:
            return optuna.create_study(
                storage=open_storage(storage), study_name=study_name, load_if_exists=True, direction="maximize"
            )

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
    "ZooBridgeError",
    "check_hyperparams",
    "default_config",
    "open_storage",
    "register",
]
