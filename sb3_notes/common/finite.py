"""One policy for non-finite numbers, shared by every algorithm.

A NaN or ±inf observation, reward, loss, gradient or KL raises ``FloatingPointError`` naming the algorithm, where it
happened (update or env step), the env where known and the quantity, *before* any weight or table entry changes:
a NaN written into the weights, or into a Q-table where ``argmax`` then prefers it, is silent and permanent.
"""

import math
from typing import Any

import numpy as np
import torch as th

_ENV_ADVICE = "Check the env (SB3's VecCheckNan wrapper finds the step that produces it)."
_UPDATE_ADVICE = "Check the rewards/observations for NaN or inf, or lower the learning rate."
_sum = np.add.reduce  # the ufunc's reduce directly: ndarray.sum adds a Python layer that shows at a call per env step


def _is_finite(value: Any) -> bool:
    if isinstance(value, th.Tensor):
        return bool(th.isfinite(value).all())
    return bool(np.isfinite(value).all())


def _show(value: Any) -> str:
    if isinstance(value, th.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=np.float64)
    return repr(float(array)) if array.ndim == 0 else f"{array.size} values, e.g. {array[~np.isfinite(array)][:3].tolist()}"


def check_finite(
    algorithm: str, where: str, unchanged: str = "the weights were not changed", gate: Any = None, **quantities: Any
) -> None:
    """
    Raise ``FloatingPointError`` if any of ``quantities`` (numbers, arrays or tensors) holds NaN or ±inf.

    :param algorithm: The algorithm's name, e.g. ``"PPOPenalty"``
    :param where: Where, e.g. ``"update 3"``
    :param unchanged: What the caller guarantees was left alone (said in the message)
    :param gate: A scalar that is non-finite whenever any of the quantities is, e.g. the loss their sum makes
        (NaN and ±inf propagate through sums, and 0 · NaN is NaN): when given, the common case costs one test of
        it alone, and the quantities are scanned only when it fails (to name the bad ones; an overflow of the
        sum alone, all quantities finite, passes). ``None``: scan the quantities
    :param quantities: Name → value, named as the logger names them
    """
    if gate is not None and _is_finite(gate):  # the common case of a per-minibatch check: one device sync
        return
    # Otherwise all the tensors together in one sync, then the rest
    tensors = [value.detach().reshape(-1) for value in quantities.values() if isinstance(value, th.Tensor)]
    others = [value for value in quantities.values() if not isinstance(value, th.Tensor)]
    if (not tensors or bool(th.isfinite(th.cat(tensors)).all())) and all(_is_finite(value) for value in others):
        return
    bad = [f"{name}={_show(value)}" for name, value in quantities.items() if not _is_finite(value)]
    raise FloatingPointError(f"{algorithm} {where}: non-finite {', '.join(bad)}; {unchanged}. {_UPDATE_ADVICE}")


def check_env_step(algorithm: str, step: int, observations: Any, rewards: np.ndarray) -> None:
    """
    Raise ``FloatingPointError`` if a VecEnv step returned a non-finite reward or observation, naming the env.
    Integer observations (discrete spaces, images) cannot be non-finite and are not scanned.

    :param algorithm: The algorithm's name
    :param step: The algorithm's ``num_timesteps`` after the step
    :param observations: The observations the VecEnv returned (an array, or a dict or tuple of arrays)
    :param rewards: The rewards, shape (n_envs,)
    """
    # This runs every env step. The common case, all finite, is one sum per float array: a sum is finite when
    # every term is (NaN and ±inf propagate; inf − inf is NaN); a sum that overflows falls through to the scan.
    total = _float_sum(rewards)
    if isinstance(observations, np.ndarray):
        total += _float_sum(observations)
    else:
        for _, obs in _observation_parts(observations):
            total += _float_sum(np.asarray(obs))
    if total - total == 0.0:
        return
    _check_env_values(algorithm, step, "reward", rewards)
    for key, obs in _observation_parts(observations):
        _check_env_values(algorithm, step, "observation" if key is None else f"observation[{key!r}]", obs)


def _float_sum(values: np.ndarray) -> float:
    """The sum of a float array (NaN for a complex one, to be scanned; 0.0 for integers, never non-finite)."""
    kind = values.dtype.kind
    if kind != "f":
        return math.nan if kind == "c" else 0.0
    # a Python sum of a handful of values (the rewards, a small observation) is cheaper than a NumPy call
    return sum(values.ravel().tolist()) if values.size <= 64 else float(_sum(values, axis=None))


def _observation_parts(observations: Any) -> list[tuple[Any, Any]]:
    """A VecEnv's observations as (key, array) pairs: a dict's keys, a tuple's indices (Tuple spaces), or ``None``
    for a single array. The names are formatted only on the error path: this runs every env step."""
    if isinstance(observations, dict):
        return list(observations.items())
    if isinstance(observations, tuple):
        return list(enumerate(observations))
    return [(None, observations)]


def _check_env_values(algorithm: str, step: int, what: str, values: Any) -> None:
    """:func:`check_env_step` for one array of a VecEnv's step (rewards, or one observation array)."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc" or np.isfinite(values).all():
        return
    per_env = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    env = int(np.flatnonzero(per_env)[0])
    raise FloatingPointError(
        f"{algorithm} step {step}: env {env} returned a non-finite {what} ({_show(values[env])}); nothing was "
        f"learned from this step. {_ENV_ADVICE}"
    )


__all__ = ["check_env_step", "check_finite"]
