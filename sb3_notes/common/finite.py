"""One policy for non-finite numbers, shared by every algorithm.

A NaN or ±inf observation, reward, loss, gradient or KL raises ``FloatingPointError`` naming the algorithm, where it
happened (update or env step), the env where known and the quantity, *before* any weight or table entry changes:
a NaN written into the weights, or into a Q-table where ``argmax`` then prefers it, is silent and permanent.
"""

from typing import Any

import numpy as np
import torch as th

_ENV_ADVICE = "Check the env (SB3's VecCheckNan wrapper finds the step that produces it)."
_UPDATE_ADVICE = "Check the rewards/observations for NaN or inf, or lower the learning rate."


def _is_finite(value: Any) -> bool:
    if isinstance(value, th.Tensor):
        return bool(th.isfinite(value).all())
    return bool(np.isfinite(value).all())


def _show(value: Any) -> str:
    if isinstance(value, th.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=np.float64)
    return repr(float(array)) if array.ndim == 0 else f"{array.size} values, e.g. {array[~np.isfinite(array)][:3].tolist()}"


def check_finite(algorithm: str, where: str, unchanged: str = "the weights were not changed", **quantities: Any) -> None:
    """
    Raise ``FloatingPointError`` if any of ``quantities`` (numbers, arrays or tensors) holds NaN or ±inf.

    :param algorithm: The algorithm's name, e.g. ``"PPOPenalty"``
    :param where: Where, e.g. ``"update 3"``
    :param unchanged: What the caller guarantees was left alone (said in the message)
    :param quantities: Name → value, named as the logger names them
    """
    # The common case, all finite, costs one device sync for all the tensors together (this runs every minibatch)
    tensors = [value.detach().reshape(-1) for value in quantities.values() if isinstance(value, th.Tensor)]
    others = [value for value in quantities.values() if not isinstance(value, th.Tensor)]
    if (not tensors or bool(th.isfinite(th.cat(tensors)).all())) and all(_is_finite(value) for value in others):
        return
    bad = [f"{name}={_show(value)}" for name, value in quantities.items() if not _is_finite(value)]
    raise FloatingPointError(f"{algorithm} {where}: non-finite {', '.join(bad)}; {unchanged}. {_UPDATE_ADVICE}")


def check_env_step(algorithm: str, step: int, observations: Any, rewards: np.ndarray) -> None:
    """
    Raise ``FloatingPointError`` if a VecEnv step returned a non-finite reward or observation, naming the env.
    Integer observations (discrete spaces) cannot be non-finite and are not scanned.

    :param algorithm: The algorithm's name
    :param step: The algorithm's ``num_timesteps`` after the step
    :param observations: The observations the VecEnv returned (array, or dict of arrays)
    :param rewards: The rewards, shape (n_envs,)
    """
    _check_env_values(algorithm, step, "reward", rewards)
    if isinstance(observations, dict):
        for key, obs in observations.items():
            _check_env_values(algorithm, step, f"observation[{key!r}]", obs)
    else:
        _check_env_values(algorithm, step, "observation", observations)


def _check_env_values(algorithm: str, step: int, what: str, values: Any) -> None:
    """:func:`check_env_step` for one array of a VecEnv's step (rewards, or one observation array)."""
    values = np.asarray(values)
    if values.dtype.kind not in "fc" or np.isfinite(values).all():  # runs every env step: nothing else on this path
        return
    per_env = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    env = int(np.flatnonzero(per_env)[0])
    raise FloatingPointError(
        f"{algorithm} step {step}: env {env} returned a non-finite {what} ({_show(values[env])}); nothing was "
        f"learned from this step. {_ENV_ADVICE}"
    )


__all__ = ["check_env_step", "check_finite"]
