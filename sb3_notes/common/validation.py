"""Argument checks shared by every algorithm.

Each raises at construction with a message that names the argument, the value given and what is accepted,
so a typo or an out-of-range hyperparameter never reaches training.
"""

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from stable_baselines3.common.utils import FloatSchedule


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """
    Raise ``ValueError`` unless ``value`` is one of ``choices``.

    :param name: Argument name, as the user wrote it
    :param value: Value given
    :param choices: Accepted values
    """
    choices = tuple(choices)
    if value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}`={value!r} is not accepted; use one of: {accepted}")


def _is_instance(value: Any, kind: type) -> bool:
    """``isinstance`` that takes NumPy's scalars for Python's numbers (as SB3 does) and never a bool for a number."""
    if kind is bool:
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):
        return False
    if kind is int:
        return isinstance(value, numbers.Integral)  # int, np.int64, np.uint8, ...
    if kind is float:
        return isinstance(value, numbers.Real)  # int, float, np.float32, np.int64, ...
    return isinstance(value, kind)


def check_type(name: str, value: Any, types: type | tuple[type, ...]) -> None:
    """
    Raise ``TypeError`` unless ``value`` is an instance of ``types``. NumPy scalars count as Python numbers
    (``np.int64`` is an ``int``, ``np.float32`` a ``float``, as SB3 accepts them); a bool is never a number.

    :param name: Argument name
    :param value: Value given
    :param types: Accepted type(s)
    """
    types_t = types if isinstance(types, tuple) else (types,)
    if not any(_is_instance(value, kind) for kind in types_t):
        accepted = " or ".join(t.__name__ for t in types_t)
        raise TypeError(f"`{name}`={value!r} has type {type(value).__name__}; expected {accepted}")


def check_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    finite: bool = True,
) -> None:
    """
    Raise ``ValueError`` unless ``low <= value <= high`` (bounds open or closed as asked; ``None`` = unbounded).
    A value that is not a real number (a NumPy scalar is one; a bool is not) raises ``TypeError``.

    :param name: Argument name
    :param value: Value given
    :param low: Lower bound, or ``None``
    :param high: Upper bound, or ``None``
    :param low_inclusive: Whether ``value == low`` is accepted
    :param high_inclusive: Whether ``value == high`` is accepted
    :param finite: Whether ±inf is refused too (NaN always is); pass ``False`` only where infinity means
        something (e.g. no gradient clipping)
    """
    check_type(name, value, float)
    if finite and value in (float("inf"), float("-inf")):
        raise ValueError(f"`{name}`={value!r} is not accepted; it must be a finite number")
    ok = value == value  # NaN fails every range
    if low is not None:
        ok = ok and (value >= low if low_inclusive else value > low)
    if high is not None:
        ok = ok and (value <= high if high_inclusive else value < high)
    if not ok:
        left = "(-inf" if low is None else ("[" if low_inclusive else "(") + f"{low:g}"
        right = "inf)" if high is None else f"{high:g}" + ("]" if high_inclusive else ")")
        raise ValueError(f"`{name}`={value!r} is out of range; accepted: {left}, {right}")


def check_float_or_schedule(
    name: str, value: Any, low: float | None = 0.0, low_inclusive: bool = True, high: float | None = None
) -> None:
    """
    Validate a hyperparameter that SB3 accepts as a float or a schedule (a callable of the progress remaining).
    A callable is checked here at progress 1.0 and 0.0, and then at every use by :class:`CheckedSchedule`.

    :param name: Argument name
    :param value: Float or callable
    :param low: Lower bound for the value(s)
    :param low_inclusive: Whether ``low`` itself is accepted
    :param high: Upper bound for the value(s) (inclusive), or ``None``
    """
    if callable(value):
        for progress in (1.0, 0.0):
            CheckedSchedule(name, value, low, low_inclusive, high)(progress)
    else:
        check_range(name, value, low, high, low_inclusive=low_inclusive)


def as_schedule(value: Any) -> Callable[[float], float]:
    """
    SB3's ``FloatSchedule`` of a number or a schedule, taking any real NumPy scalar for a number (SB3 takes only
    Python's, and ``np.float32`` is not a ``float``).

    :param value: A number or a callable of the progress remaining
    :return: The schedule
    """
    return FloatSchedule(float(value) if isinstance(value, numbers.Real) else value)


class CheckedSchedule:
    """
    A schedule whose value is checked every time it is read: a schedule that is valid at progress 1 and 0 can
    still leave its range in between (``1e-3 * cos(2πp)`` turns negative at p = 0.25), and a negative learning
    rate would silently train uphill. The check is two comparisons on the valid path.

    :param name: Argument name, for the message
    :param schedule: The user's schedule (a callable of the progress remaining, from 1 to 0)
    :param low: Lower bound, or ``None``
    :param low_inclusive: Whether ``low`` itself is accepted
    :param high: Upper bound (inclusive), or ``None``
    """

    def __init__(
        self,
        name: str,
        schedule: Callable[[float], float],
        low: float | None = 0.0,
        low_inclusive: bool = True,
        high: float | None = None,
    ):
        self.name, self.schedule = name, schedule
        self.low, self.low_inclusive, self.high = low, low_inclusive, high
        self._low = -np.inf if low is None else low
        self._high = np.inf if high is None else high

    def __call__(self, progress_remaining: float) -> float:
        """
        :param progress_remaining: From 1 (start of training) to 0 (end)
        :return: The schedule's value, when it is in range
        """
        value = self.schedule(progress_remaining)
        try:
            in_range = (self._low <= value if self.low_inclusive else self._low < value) and value <= self._high
            if in_range and value - value == 0:  # the last test fails for ±inf and NaN
                return value
        except TypeError:
            pass
        where = f"{self.name}(progress_remaining={float(progress_remaining):.6g})"
        check_range(where, value, self.low, self.high, low_inclusive=self.low_inclusive)
        raise AssertionError("unreachable: check_range raises for a value outside the range")


def check_space(name: str, space: Any, supported: tuple[type, ...], hint: str = "") -> None:
    """
    Raise ``ValueError`` unless ``space`` is an instance of one of the ``supported`` gymnasium space types.
    ``None`` (a model built without an env, e.g. during ``load``) is accepted.

    :param name: What the space is, e.g. ``"action_space"``
    :param space: The space given
    :param supported: Accepted space classes
    :param hint: Extra advice appended to the message
    """
    if space is None or isinstance(space, supported):
        return
    accepted = ", ".join(s.__name__ for s in supported)
    raise ValueError(f"`{name}`={space} is not supported; accepted: {accepted}.{(' ' + hint) if hint else ''}")
