"""Scores taken along training (a learning curve), kept off the training clock; used by the harness and the tabular runs."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback


class Evaluations:
    """
    Scores taken during training, timed so that the time they take is kept off the training clock.

    :param score: Scores a model (or a table) as one float
    """

    def __init__(self, score: Callable[[Any], float]):
        self.score = score
        self.seconds = 0.0
        self.curve: list[tuple[int, float]] = []

    def __call__(self, steps: int, subject: Any) -> float:
        start = time.perf_counter()
        value = float(self.score(subject))
        self.curve.append((int(steps), value))
        self.seconds += time.perf_counter() - start
        return value


class TimedEvaluation(BaseCallback):
    """
    Scores the model every ``every`` env steps through ``evaluations``, and traces logger keys after each update.

    :param evaluations: Where scores go
    :param every: Env steps between scores
    :param log_keys: Logger keys read after each update (``train/...`` values are recorded by ``train()`` and read at
        the start of the next rollout, before the next dump clears them)
    """

    def __init__(self, evaluations: Evaluations, every: int, log_keys: tuple[str, ...] = ()):
        super().__init__()
        self.evaluations, self.every, self.log_keys = evaluations, every, log_keys
        self.next_eval = every
        self.traces: dict[str, list[tuple[int, float]]] = {key: [] for key in log_keys}

    def _trace(self) -> None:
        for key in self.log_keys:
            value = self.logger.name_to_value.get(key)
            if value is not None and (not self.traces[key] or self.traces[key][-1][0] != self.num_timesteps):
                self.traces[key].append((int(self.num_timesteps), float(value)))

    def _on_rollout_start(self) -> None:
        self._trace()

    def _on_training_end(self) -> None:
        self._trace()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.every
            self.evaluations(self.num_timesteps, self.model)
        return True


@dataclass
class Trained:
    """What a training function hands back to the harness: the learner's name, steps, seconds, curve and scores."""

    algo: str
    steps: int
    train_seconds: float
    curve: list[tuple[int, float]]
    final_return: float
    extra: dict[str, Any] = field(default_factory=dict)
