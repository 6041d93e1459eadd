"""What every sb3-notes algorithm adds to SB3's ``BaseAlgorithm``: checked schedules, checked loading."""

import copy
import inspect
import io
import pathlib
from typing import Any, ClassVar, TypeVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import GymEnv

from sb3_notes.common.save_util import SAVED_BY_KEY, check_saved_class, check_saved_model
from sb3_notes.common.validation import CheckedSchedule, as_schedule, check_space

SelfNotesAlgorithm = TypeVar("SelfNotesAlgorithm", bound="NotesAlgorithm")


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class NotesAlgorithm(BaseAlgorithm):
    """
    The base of every sb3-notes algorithm, between SB3's ``BaseAlgorithm`` (or, for the on-policy ones, before
    ``OnPolicyAlgorithm`` in the bases) and the algorithm. It changes three things of SB3's, each a departure a user
    only notices when something is wrong:

    - ``learning_rate`` is checked every time it is read (:class:`~sb3_notes.common.validation.CheckedSchedule`),
      not only at construction;
    - the progress remaining is clamped to [0, 1]: SB3 lets it run slightly below 0 on the last rollout when the
      budget is not a multiple of the rollout, which turns RL Zoo's ``lin_3e-4`` into a learning rate of −1e-7;
    - ``load`` refuses a corrupt file or one saved by another algorithm before SB3 reads it, and runs the
      constructor's validation on the loaded settings (with ``load``'s overrides) before returning the model.

    Subclasses implement ``_validate()`` (the constructor's argument checks) and call it in ``__init__``.
    """

    # Range of the learning rate's values (a tabular α is at most 1)
    learning_rate_bounds: ClassVar[tuple[float | None, float | None]] = (0.0, None)
    # The action spaces the algorithm supports, and what to tell a user whose space is not among them
    supported_action_spaces: ClassVar[tuple[type[spaces.Space], ...]] = ()
    action_space_hint: ClassVar[str] = ""

    def _validate(self) -> None:
        """Raise ``ValueError``/``TypeError`` naming the first bad hyperparameter (the constructor's checks)."""
        raise NotImplementedError

    def _check_spaces(self) -> None:
        """The first of every ``_validate``: the env's action space is one of :attr:`supported_action_spaces`
        (``ValueError`` naming the space, the supported ones and :attr:`action_space_hint`)."""
        check_space("action_space", getattr(self, "action_space", None), self.supported_action_spaces, self.action_space_hint)

    def _setup_lr_schedule(self) -> None:
        low, high = self.learning_rate_bounds
        self.lr_schedule = CheckedSchedule("learning_rate", as_schedule(self.learning_rate), low, True, high)

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        # SB3: 1 - num_timesteps / total_timesteps, which goes below 0 when the last rollout overshoots the budget
        self._current_progress_remaining = min(max(1.0 - float(num_timesteps) / float(total_timesteps), 0.0), 1.0)

    @classmethod
    def own_hyperparameters(cls) -> tuple[str, ...]:
        """
        The constructor arguments this class adds to SB3's base (``OnPolicyAlgorithm`` or ``BaseAlgorithm``):
        what a file saved by this class must hold.

        :return: Their names, in the constructor's order
        """
        sb3_base = OnPolicyAlgorithm if issubclass(cls, OnPolicyAlgorithm) else BaseAlgorithm
        base_args = set(inspect.signature(sb3_base.__init__).parameters)
        names = inspect.signature(cls.__init__).parameters
        return tuple(name for name in names if name not in base_args and name != "self" and not name.startswith("_"))

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Any = None,
        include: Any = None,
    ) -> None:
        """
        Save all the attributes of the object and the model parameters in a zip-file (SB3's ``save``), with the
        name of the class that saved it, which ``load`` checks.

        :param path: path to the file where the rl agent should be saved
        :param exclude: name of parameters that should be excluded in addition to the default ones
        :param include: name of parameters that might be excluded but should be included anyway
        """
        setattr(self, SAVED_BY_KEY, _qualified_name(type(self)))
        super().save(path, exclude=exclude, include=include)

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfNotesAlgorithm],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        **kwargs: Any,
    ) -> SelfNotesAlgorithm:
        """
        Load the model from a zip-file (SB3's ``load``, same arguments), after checking that the file is complete
        and was saved by this class; the loaded settings, with the overrides in ``kwargs``, pass the constructor's
        validation or nothing is returned (entries of ``custom_objects``, placeholders for what cannot be unpickled,
        are validated as the constructor's defaults).

        :param path: path to the file (or a file-like) where to load the agent from
        :param env: the new environment to run the loaded model on
            (can be None if you only need prediction from a trained model) has priority over any saved environment
        :param device: Device on which the code should run.
        :param custom_objects: Dictionary of objects to replace upon loading (SB3's ``custom_objects``)
        :param print_system_info: Whether to print system info from the saved model and the current system info
        :param force_reset: Force call to ``reset()`` before training to avoid unexpected behavior.
        :param kwargs: extra arguments to change the model when loading
        :return: new model instance with loaded parameters
        """
        data = check_saved_model(path)
        known = {other.__name__: other.own_hyperparameters() for other in _registered_classes()}
        check_saved_class(
            str(path),
            data,
            [_qualified_name(base) for base in cls.__mro__],
            cls.__name__,
            cls.own_hyperparameters(),
            known,
        )
        model = super().load(  # type: ignore[misc]
            path, env, device, custom_objects, print_system_info=print_system_info, force_reset=force_reset, **kwargs
        )
        # custom_objects are placeholders for what cannot be unpickled (the zoo's enjoy passes clip_range=lambda _: 0.0
        # for prediction): not settings, so they are validated as the constructor's defaults
        probe = copy.copy(model) if custom_objects else model
        defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
        for name in custom_objects or {}:
            if name in defaults and defaults[name] is not inspect.Parameter.empty:
                setattr(probe, name, defaults[name])
        probe._validate()
        return model


def _registered_classes() -> list[type[NotesAlgorithm]]:
    """The classes of ``sb3_notes.ALGORITHMS`` (to name a foreign file's owner), imported when a file is loaded."""
    from sb3_notes import ALGORITHMS  # the registry imports every algorithm, and so this module: import on use

    return [cls for cls in ALGORITHMS.values() if issubclass(cls, NotesAlgorithm)]


__all__ = ["NotesAlgorithm"]
