"""Argument checks shared by every algorithm.

Each raises at construction with a message that names the argument, the value given and what is accepted,
so a typo or an out-of-range hyperparameter never reaches training.
"""

from collections.abc import Iterable
from typing import Any


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


def check_type(name: str, value: Any, types: type | tuple[type, ...]) -> None:
    """
    Raise ``TypeError`` unless ``value`` is an instance of ``types`` (``bool`` is not taken for a number).

    :param name: Argument name
    :param value: Value given
    :param types: Accepted type(s)
    """
    types_t = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in types_t:
        ok = False
    else:
        ok = isinstance(value, types_t)
    if not ok:
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
    finite: bool = False,
) -> None:
    """
    Raise ``ValueError`` unless ``low <= value <= high`` (bounds open or closed as asked; ``None`` = unbounded).
    A value that is not a real number raises ``TypeError``.

    :param name: Argument name
    :param value: Value given
    :param low: Lower bound, or ``None``
    :param high: Upper bound, or ``None``
    :param low_inclusive: Whether ``value == low`` is accepted
    :param high_inclusive: Whether ``value == high`` is accepted
    :param finite: Whether ±inf is refused too (NaN always is)
    """
    check_type(name, value, (int, float))
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
    Callables are checked at progress 1.0 and 0.0.

    :param name: Argument name
    :param value: Float or callable
    :param low: Lower bound for the value(s)
    :param low_inclusive: Whether ``low`` itself is accepted
    :param high: Upper bound for the value(s) (inclusive), or ``None``
    """
    if callable(value):
        for progress in (1.0, 0.0):
            check_range(f"{name}({progress})", float(value(progress)), low, high, low_inclusive=low_inclusive)
    else:
        check_range(name, value, low, high, low_inclusive=low_inclusive)


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
