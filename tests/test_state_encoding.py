"""The tabular state encoding is a bijection onto range(n_states) for every supported space."""

import itertools

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from sb3_notes.common.state_encoding import StateEncoder, check_tabular_space, decode, encode, n_states

SPACES = {
    "discrete": spaces.Discrete(5),
    "discrete_start": spaces.Discrete(4, start=-2),
    "multidiscrete": spaces.MultiDiscrete([3, 2, 4]),
    "multidiscrete_start_2d": spaces.MultiDiscrete(np.array([[2, 3], [2, 2]]), start=np.array([[1, 0], [-1, 5]])),
    "multibinary": spaces.MultiBinary(4),
    "multibinary_2d": spaces.MultiBinary([2, 2]),
    "blackjack": spaces.Tuple((spaces.Discrete(32), spaces.Discrete(11), spaces.Discrete(2))),
    "dict": spaces.Dict({"pos": spaces.Discrete(3, start=1), "flags": spaces.MultiBinary(2)}),
    "nested": spaces.Tuple((spaces.Discrete(2), spaces.Dict({"a": spaces.MultiDiscrete([2, 3])}))),
    "tuple_of_discretes_start": spaces.Tuple((spaces.Discrete(3, start=-1), spaces.Discrete(2, start=5))),
    "dict_of_discretes": spaces.Dict({"x": spaces.Discrete(2), "y": spaces.Discrete(3, start=1)}),
}
EXPECTED_SIZES = {
    "discrete": 5,
    "discrete_start": 4,
    "multidiscrete": 24,
    "multidiscrete_start_2d": 24,
    "multibinary": 16,
    "multibinary_2d": 16,
    "blackjack": 32 * 11 * 2,
    "dict": 12,
    "nested": 12,
    "tuple_of_discretes_start": 6,
    "dict_of_discretes": 6,
}


def all_observations(space):
    """Every observation of a small space, enumerated independently of the encoder."""
    if isinstance(space, spaces.Discrete):
        return [np.int64(space.start + i) for i in range(space.n)]
    if isinstance(space, spaces.MultiDiscrete):
        ranges = [range(s, s + n) for s, n in zip(np.ravel(space.start), np.ravel(space.nvec), strict=True)]
        return [np.array(c, dtype=space.dtype).reshape(space.shape) for c in itertools.product(*ranges)]
    if isinstance(space, spaces.MultiBinary):
        return [
            np.array(c, dtype=space.dtype).reshape(space.shape)
            for c in itertools.product((0, 1), repeat=int(np.prod(space.shape)))
        ]
    if isinstance(space, spaces.Tuple):
        return [tuple(c) for c in itertools.product(*(all_observations(s) for s in space.spaces))]
    if isinstance(space, spaces.Dict):
        keys = list(space.spaces)
        return [dict(zip(keys, c, strict=True)) for c in itertools.product(*(all_observations(space[k]) for k in keys))]
    raise AssertionError(space)


def same_obs(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_obs(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same_obs(x, y) for x, y in zip(a, b, strict=True))
    return np.array_equal(a, b)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_encoding_is_a_bijection_onto_range_n_states(name):
    space = SPACES[name]
    assert n_states(space) == EXPECTED_SIZES[name]
    observations = all_observations(space)
    assert len(observations) == EXPECTED_SIZES[name]
    indices = [int(encode(space, obs)) for obs in observations]
    assert sorted(indices) == list(range(EXPECTED_SIZES[name]))  # one-to-one and onto
    for obs, index in zip(observations, indices, strict=True):
        assert space.contains(decode(space, index)) or isinstance(space, spaces.Dict)
        assert same_obs(decode(space, index), obs)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_cached_encoder_and_its_scalar_form_agree_with_encode(name):
    space = SPACES[name]
    encoder = StateEncoder(space)
    for obs in all_observations(space):
        # the unchecked form takes a shortcut for a Tuple/Dict of Discretes (the training loops' path)
        assert encoder.one(obs) == int(encoder(obs)) == int(encoder(obs, check=False)) == int(encode(space, obs))


def test_plain_discrete_keeps_its_numbering():
    assert encode(spaces.Discrete(16), 7) == 7
    assert encode(spaces.Discrete(4, start=-2), -2) == 0


def test_blackjack_index_is_mixed_radix_by_hand():
    space = SPACES["blackjack"]
    # (player sum 13, dealer 10, usable ace 1) -> (13 * 11 + 10) * 2 + 1 = 307
    assert encode(space, (13, 10, 1)) == 307
    assert decode(space, 307) == (13, 10, 1)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_batches_encode_like_single_observations(name):
    space = SPACES[name]
    space.seed(0)
    samples = [space.sample() for _ in range(6)]

    # the layout a VecEnv uses: one array per leaf, with a leading batch axis
    def stack(parts, sub):
        if isinstance(sub, spaces.Dict):
            return {k: stack([p[k] for p in parts], sub[k]) for k in sub.spaces}
        if isinstance(sub, spaces.Tuple):
            return tuple(stack([p[i] for p in parts], s) for i, s in enumerate(sub.spaces))
        return np.stack([np.asarray(p) for p in parts])

    batch = stack(samples, space)
    expected = [int(encode(space, s)) for s in samples]
    np.testing.assert_array_equal(encode(space, batch), expected)
    np.testing.assert_array_equal(StateEncoder(space)(batch, check=False), expected)
    assert all(same_obs(d, s) for d, s in zip(_unbatch(decode(space, np.array(expected)), space, 6), samples, strict=True))


def _unbatch(obs, space, n):
    if isinstance(space, spaces.Dict):
        return [
            {k: v[i] for k, v in zip(space.spaces, [_unbatch(obs[k], space[k], n) for k in space.spaces], strict=True)}
            for i in range(n)
        ]
    if isinstance(space, spaces.Tuple):
        parts = [_unbatch(obs[j], s, n) for j, s in enumerate(space.spaces)]
        return [tuple(p[i] for p in parts) for i in range(n)]
    return [obs[i] for i in range(n)]


def test_real_blackjack_observations_encode():
    env = gym.make("Blackjack-v1")
    obs, _ = env.reset(seed=0)
    index = encode(env.observation_space, obs)
    assert 0 <= index < 704 and same_obs(decode(env.observation_space, index), tuple(np.int64(o) for o in obs))


@pytest.mark.parametrize(
    "space",
    [spaces.Box(-1, 1, (2,)), spaces.Tuple((spaces.Discrete(2), spaces.Box(0, 1, (1,)))), spaces.Text(4), spaces.Tuple(())],
)
def test_unsupported_spaces_raise_naming_the_space(space):
    with pytest.raises(ValueError, match="observation_space"):
        check_tabular_space(space)


def test_observation_outside_the_space_raises():
    with pytest.raises(ValueError, match="not in"):
        encode(spaces.Discrete(3), 3)
    with pytest.raises(ValueError, match="not in"):
        encode(spaces.MultiDiscrete([2, 2]), np.array([0, 2]))
    with pytest.raises(ValueError, match="outside"):
        decode(spaces.Discrete(3), 3)
