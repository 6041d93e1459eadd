"""Tabular state encoding: a discrete observation space ↔ one index in ``range(n_states)``.

A table needs one row per state. Every supported space is a finite product of "digits": ``Discrete(n, start)``
is one digit of radix ``n``; ``MultiDiscrete(nvec, start)`` one digit per element, of radix ``nvec[i]``;
``MultiBinary(n)`` one digit of radix 2 per element; ``Tuple`` and ``Dict`` concatenate their parts' digits
(in their own order, nesting allowed). The index is the mixed-radix number of those digits, the last digit
varying fastest (as ``np.ravel_multi_index``), so a plain ``Discrete(n)`` keeps its own numbering: the row of
FrozenLake's state ``s`` is ``s``, and DP results on ``env.unwrapped.P`` line up with the table.

All functions are vectorised over a leading batch: an observation the way a VecEnv returns it (arrays with a
leading ``n_envs`` axis, a tuple/dict of such arrays) gives one index per env; a single observation (an int,
one ``MultiDiscrete`` vector, a tuple of ints) gives a 0-d index.
"""

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

TABULAR_SPACES: tuple[type[spaces.Space], ...] = (
    spaces.Discrete,
    spaces.MultiDiscrete,
    spaces.MultiBinary,
    spaces.Tuple,
    spaces.Dict,
)
_max = np.maximum.reduce  # the ufunc's reduce directly: ndarray.max/any add a Python layer, once per step
_HINT = (
    "A table needs a finite observation space: discretise the observations first (e.g. a gymnasium "
    "ObservationWrapper that bins each Box dimension into a MultiDiscrete), or use a function approximator such as DQN."
)


@dataclass(frozen=True)
class _Leaf:
    space: spaces.Space
    start: np.ndarray  # per digit, flattened
    radix: np.ndarray  # per digit, flattened
    shape: tuple[int, ...]  # the leaf's own observation shape


def check_tabular_space(space: spaces.Space, name: str = "observation_space") -> None:
    """
    Raise ``ValueError`` unless ``space`` is a finite discrete space a table can index.

    :param space: The observation space
    :param name: How the space is named in the message
    """
    if isinstance(space, (spaces.Tuple, spaces.Dict)):
        parts = space.spaces.items() if isinstance(space, spaces.Dict) else enumerate(space.spaces)
        if len(space.spaces) == 0:
            raise ValueError(f"`{name}`={space} is empty; a table needs at least one discrete component")
        for key, sub in parts:
            check_tabular_space(sub, f"{name}[{key!r}]")
        return
    if not isinstance(space, (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)):
        accepted = ", ".join(s.__name__ for s in TABULAR_SPACES)
        raise ValueError(f"`{name}`={space} is not supported by a tabular method; accepted: {accepted}. {_HINT}")


def _leaves(space: spaces.Space) -> list[_Leaf]:
    if isinstance(space, spaces.Dict):
        return [leaf for sub in space.spaces.values() for leaf in _leaves(sub)]
    if isinstance(space, spaces.Tuple):
        return [leaf for sub in space.spaces for leaf in _leaves(sub)]
    if isinstance(space, spaces.Discrete):
        return [_Leaf(space, np.array([space.start], dtype=np.int64), np.array([space.n], dtype=np.int64), ())]
    if isinstance(space, spaces.MultiDiscrete):
        nvec = np.asarray(space.nvec, dtype=np.int64)
        start = np.broadcast_to(np.asarray(space.start, dtype=np.int64), nvec.shape)
        return [_Leaf(space, start.reshape(-1).copy(), nvec.reshape(-1), nvec.shape)]
    if isinstance(space, spaces.MultiBinary):
        shape = tuple(np.atleast_1d(np.asarray(space.n)).tolist())
        size = int(np.prod(shape))
        return [_Leaf(space, np.zeros(size, dtype=np.int64), np.full(size, 2, dtype=np.int64), shape)]
    check_tabular_space(space)
    raise AssertionError("unreachable")


def _flat_obs(space: spaces.Space, obs: Any) -> list[np.ndarray]:
    """The observation's leaves, in the same order as :func:`_leaves`."""
    if isinstance(space, spaces.Dict):
        if not isinstance(obs, dict):
            raise ValueError(f"Expected a dict observation for {space}, got {type(obs).__name__}")
        return [a for key, sub in space.spaces.items() for a in _flat_obs(sub, obs[key])]
    if isinstance(space, spaces.Tuple):
        if not isinstance(obs, (tuple, list)) or len(obs) != len(space.spaces):
            raise ValueError(f"Expected a tuple of {len(space.spaces)} parts for {space}, got {obs!r}")
        return [a for sub, part in zip(space.spaces, obs, strict=True) for a in _flat_obs(sub, part)]
    return [np.asarray(obs)]


def n_states(space: spaces.Space) -> int:
    """
    Number of distinct observations of a tabular space (a Python int, so huge spaces do not overflow).

    :param space: A space accepted by :func:`check_tabular_space`
    :return: The number of table rows the space needs
    """
    check_tabular_space(space)
    total = 1
    for leaf in _leaves(space):
        for r in leaf.radix.tolist():
            total *= int(r)
    return total


def _strides(radix: np.ndarray) -> np.ndarray:
    # Mixed-radix place values, last digit fastest: stride_k = prod(radix[k+1:])
    strides = np.ones(len(radix), dtype=np.int64)
    if len(radix) > 1:
        strides[:-1] = np.cumprod(radix[::-1])[::-1][1:]
    return strides


def _outside(digits: np.ndarray, radix: Any) -> bool:
    """
    Whether any digit is outside [0, radix), a negative int64 viewed as uint64 being ≥ 2^63: for one radix (a
    ``Discrete``, or one part of a Tuple/Dict of them) a single max over the view, else one comparison per digit.
    """
    view = digits.view(np.uint64)
    if isinstance(radix, np.ndarray):  # a digit radix each (MultiDiscrete, MultiBinary)
        return bool((view >= radix).any())
    return bool(view.size) and int(_max(view, axis=None)) >= radix


def _not_in_space(obs: Any, space: spaces.Space) -> ValueError:
    return ValueError(
        f"Observation {obs!r} is not in the observation space {space}: a table has one row per observation of the "
        "space, and this one has none (check the env, or the space it declares)"
    )


def _encode_discrete(space: spaces.Discrete, obs: Any, check: bool) -> np.ndarray:
    # the common case, kept to three NumPy operations
    index = np.asarray(obs, dtype=np.int64)
    if space.start:
        index = index - int(space.start)
    if check and (index.ndim > 1 or _outside(index, int(space.n))):
        raise _not_in_space(obs, space)
    return index


class StateEncoder:
    """
    :func:`encode` for one space, with its digits' starts, radices and place values worked out once: the
    training loops encode every step, where rebuilding them would cost more than the arithmetic itself.

    :param space: A space accepted by :func:`check_tabular_space`
    """

    def __init__(self, space: spaces.Space):
        check_tabular_space(space)
        self.space = space
        self._leaves = _leaves(space)
        self._radix = np.concatenate([leaf.radix for leaf in self._leaves])
        strides = _strides(self._radix)
        bounds = np.cumsum([0] + [len(leaf.radix) for leaf in self._leaves])
        # each leaf's share of the place values: a plain Discrete is one digit, (x − start) · stride
        self._leaf_strides = [strides[lo:hi] for lo, hi in itertools.pairwise(bounds)]
        # A Tuple/Dict of plain Discretes (Blackjack's observation): (key, start, stride) per part, so the
        # unchecked encoding in the training loop is one multiply-add per part
        self._discrete_parts: list[tuple[Any, int, int, np.uint64]] | None = None
        if isinstance(space, (spaces.Tuple, spaces.Dict)):
            keys = list(space.spaces) if isinstance(space, spaces.Dict) else list(range(len(space.spaces)))
            parts = [space.spaces[key] for key in keys]  # type: ignore[index]
            if all(type(part) is spaces.Discrete for part in parts):
                self._discrete_parts = [
                    (key, int(part.start), int(stride[0]), np.uint64(part.n))  # type: ignore[attr-defined]
                    for key, part, stride in zip(keys, parts, self._leaf_strides, strict=True)
                ]
        self._radix_u64 = [leaf.radix.astype(np.uint64) for leaf in self._leaves]

    def __call__(self, obs: Any, check: bool = True) -> np.ndarray:
        """
        Map observation(s) to state index(es) in ``range(n_states(space))``; see :func:`encode`.

        :param obs: One observation, or a batch of them (leading axis) as a VecEnv returns them
        :param check: Raise ``ValueError`` for an observation outside the space (one comparison per part)
        :return: int64 array of the batch shape (0-d for a single observation)
        """
        space = self.space
        if isinstance(space, spaces.Discrete):
            return _encode_discrete(space, obs, check)
        if self._discrete_parts is not None and isinstance(obs, (tuple, list, dict)):
            index: Any = 0
            for key, start, stride, n in self._discrete_parts:
                digit = np.asarray(obs[key], dtype=np.int64) - start
                if check and (digit.ndim > 1 or _outside(digit, n)):
                    raise _not_in_space(obs, space)
                index = index + digit * stride
            return np.asarray(index, dtype=np.int64)
        parts = _flat_obs(space, obs)
        batch_shape: tuple[int, ...] | None = None
        total: Any = 0
        for leaf, leaf_strides, radix, part in zip(self._leaves, self._leaf_strides, self._radix_u64, parts, strict=True):
            n_batch_dims = part.ndim - len(leaf.shape)
            if n_batch_dims < 0 or part.shape[n_batch_dims:] != leaf.shape:
                raise ValueError(f"Observation part of shape {part.shape} does not fit {leaf.space} (shape {leaf.shape})")
            shape = part.shape[:n_batch_dims]
            if batch_shape is None:
                batch_shape = shape
            elif shape != batch_shape:
                raise ValueError(f"The observation's parts have different batch shapes: {batch_shape} and {shape}")
            digits = part.reshape((*shape, -1)).astype(np.int64) - leaf.start
            if check and _outside(digits, radix):
                raise _not_in_space(obs, space)
            total = total + (digits @ leaf_strides)
        return np.asarray(total, dtype=np.int64)

    def one(self, obs: Any) -> int:
        """
        The index of a single, unbatched observation, as a Python int: for a ``Discrete`` space plain integer
        arithmetic, as cheap as it gets in a per-step loop.

        :param obs: One observation of the space (``ValueError`` if it is not in the space)
        :return: Its index
        """
        space = self.space
        if isinstance(space, spaces.Discrete):
            row = int(obs) - int(space.start)
            if not 0 <= row < space.n:
                raise _not_in_space(obs, space)
            return row
        return int(self(obs))


def encode(space: spaces.Space, obs: Any, check: bool = True) -> np.ndarray:
    """
    Map observation(s) to state index(es) in ``range(n_states(space))``.

    :param space: A space accepted by :func:`check_tabular_space`
    :param obs: One observation, or a batch of them (leading axis) as a VecEnv returns them
    :param check: Raise ``ValueError`` for an observation outside the space (off in the training loop,
        where observations come from the env itself)
    :return: int64 array of the batch shape (0-d for a single observation)
    """
    if isinstance(space, spaces.Discrete):
        return _encode_discrete(space, obs, check)
    return StateEncoder(space)(obs, check)


def decode(space: spaces.Space, index: Any) -> Any:
    """
    Inverse of :func:`encode`: state index(es) back to observation(s) of ``space``.

    :param space: A space accepted by :func:`check_tabular_space`
    :param index: Int or int array of indices in ``range(n_states(space))``
    :return: Observation(s) with the index's batch shape, in the space's own structure and dtypes
    """
    index = np.asarray(index, dtype=np.int64)
    total = n_states(space)
    if np.any(index < 0) or np.any(index >= total):
        raise ValueError(f"State index {index!r} is outside range({total}) of {space}")
    leaves = _leaves(space)
    radix = np.concatenate([leaf.radix for leaf in leaves])
    digits = (index[..., None] // _strides(radix)) % radix
    pieces = []
    offset = 0
    for leaf in leaves:
        size = len(leaf.radix)
        values = digits[..., offset : offset + size] + leaf.start
        offset += size
        pieces.append(values.reshape(index.shape + leaf.shape).astype(leaf.space.dtype))
    return _rebuild(space, iter(pieces))


def _rebuild(space: spaces.Space, pieces: Any) -> Any:
    if isinstance(space, spaces.Dict):
        return {key: _rebuild(sub, pieces) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(_rebuild(sub, pieces) for sub in space.spaces)
    return next(pieces)


__all__ = ["TABULAR_SPACES", "StateEncoder", "check_tabular_space", "decode", "encode", "n_states"]
