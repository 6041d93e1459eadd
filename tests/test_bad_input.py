"""Bad input, tried by the thousand (Hypothesis).

Every public constructor of the registry, every argument that has a range: values outside it (NaN, ±inf, beyond a
bound, wrong types, bools, strings) raise ``ValueError``/``TypeError`` naming the argument and what is accepted;
values inside it (Python and NumPy scalars) construct. And a saved model, truncated or with a byte flipped, either
loads to an identical model or raises a clear ``ValueError``: never another exception, never a half-loaded model.

The budget is CI-sized and derandomised (the same cases on every run); ``pytest tests/test_bad_input.py
--hypothesis-show-statistics`` prints how many ran.
"""

import inspect
import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import torch as th
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_util import make_vec_env

from sb3_notes import ALGORITHMS

CASES = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
INSIDE = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
BIG = 1e9  # the largest "inside" value drawn for an unbounded range


@dataclass(frozen=True)
class Range:
    """An argument's accepted values: a number kind and bounds (``None``: unbounded), or a set of choices."""

    kind: type = float  # float, int, bool or str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    inf_ok: bool = False  # +inf is accepted (means "no limit")
    none_ok: bool = False  # None is accepted (means "off")
    choices: tuple = ()
    cap: int = 60  # how far above ``low`` an int inside an unbounded range is drawn (keeps construction cheap)

    def inside(self) -> st.SearchStrategy:
        if self.kind is bool:
            return st.sampled_from([True, False, np.bool_(True)])
        if self.kind is str:
            return st.sampled_from(self.choices)
        if self.kind is int:
            low = int(self.low if self.low is not None else -100)
            ints = st.integers(low, int(self.high) if self.high is not None else low + self.cap)
            return st.one_of(ints, ints.map(np.int64), ints.filter(lambda v: 0 <= v < 2**15).map(np.int16))
        low = self.low if self.low is not None else -BIG
        high = self.high if self.high is not None else BIG
        floats = st.floats(low, high, exclude_min=self.low_open, exclude_max=self.high_open, allow_nan=False)
        as_f32 = floats.map(np.float32).filter(lambda v: self.contains(float(v)))
        extra = [st.just(math.inf)] if self.inf_ok else []
        return st.one_of(floats, floats.map(np.float64), as_f32, *extra)

    def contains(self, v: float) -> bool:
        if math.isnan(v) or (math.isinf(v) and not (self.inf_ok and v > 0)):
            return False
        above = self.low is None or (v > self.low if self.low_open else v >= self.low)
        below = self.high is None or (v < self.high if self.high_open else v <= self.high)
        return above and below

    def outside(self) -> st.SearchStrategy:
        junk = [st.text(max_size=3), st.lists(st.integers(), max_size=2), st.just(object())]
        junk += [] if self.none_ok else [st.none()]
        if self.kind is bool:
            return st.one_of(*junk, st.integers(0, 1), st.floats(allow_nan=True))
        if self.kind is str:
            return st.one_of(st.none(), st.text(max_size=8).filter(lambda s: s not in self.choices), st.integers())
        bools = st.sampled_from([True, False, np.bool_(False)])
        if self.kind is int:
            below = st.integers(max_value=int(self.low) - 1) if self.low is not None else st.nothing()
            above = st.integers(min_value=int(self.high) + 1) if self.high is not None else st.nothing()
            floats = st.floats(allow_nan=True)  # even 3.0: an int argument takes an int
            below_i64 = st.integers(-(2**63), int(self.low) - 1).map(np.int64) if self.low is not None else st.nothing()
            return st.one_of(*junk, bools, below, above, floats, below_i64)
        finite = dict(allow_nan=False, allow_infinity=False)
        below = st.nothing() if self.low is None else st.floats(max_value=self.low, exclude_max=not self.low_open, **finite)
        above = st.nothing() if self.high is None else st.floats(min_value=self.high, exclude_min=not self.high_open, **finite)
        specials = [math.nan, -math.inf] + ([] if self.inf_ok else [math.inf])
        numbers = st.one_of(st.sampled_from(specials), below, above).filter(lambda v: not self.contains(v))
        return st.one_of(*junk, bools, numbers, numbers.map(np.float64))


UNIT = Range(float, 0.0, 1.0)
NONNEG = Range(float, 0.0)
POS = Range(float, 0.0, low_open=True)
POS_INT = Range(int, 1)
FLAG = Range(bool)

# Argument -> accepted values, for every constructor argument of the registry that has a range. The base settings
# keep the other constraints (batch size within the rollout, a fixed β for kl_coef, ...) out of the way.
ON_POLICY_COMMON = dict(gamma=UNIT, gae_lambda=UNIT, ent_coef=NONNEG, learning_rate=NONNEG, fast_rollout=FLAG)
SPECS: dict[str, tuple[str, dict, dict[str, Range]]] = {
    "ppo_penalty": (
        "CartPole-v1",
        dict(n_steps=64, batch_size=1, kl_adaptive=False),
        dict(
            ON_POLICY_COMMON,
            n_steps=Range(int, 2, cap=256),  # 1 step cannot normalise its advantage
            batch_size=Range(int, 1, 64),  # at most the rollout, n_steps * n_envs
            n_epochs=POS_INT,
            kl_coef=NONNEG,
            kl_target=POS,
            kl_tolerance=Range(float, 1.0),
            kl_factor=Range(float, 1.0, low_open=True),
            kl_adaptive=FLAG,
            clip_range=Range(float, 0.0, low_open=True, none_ok=True),
            clip_range_vf=Range(float, 0.0, low_open=True, none_ok=True),
            normalize_advantage=FLAG,
            vf_coef=NONNEG,
            max_grad_norm=Range(float, 0.0, low_open=True, inf_ok=True),
            target_kl=Range(float, 0.0, low_open=True, none_ok=True),
        ),
    ),
    "trpo_notes": (
        "CartPole-v1",
        dict(n_steps=64, batch_size=64),
        dict(
            ON_POLICY_COMMON,
            n_steps=Range(int, 2, cap=256),
            batch_size=POS_INT,
            cg_max_steps=POS_INT,
            cg_damping=NONNEG,
            line_search_shrinking_factor=Range(float, 0.0, 1.0, low_open=True, high_open=True),
            line_search_max_iter=POS_INT,
            n_critic_updates=POS_INT,
            normalize_advantage=FLAG,
            target_kl=POS,
            sub_sampling_factor=Range(int, 1, 63),  # leaves at least 2 of the 64 samples to normalise
            use_line_search=FLAG,
        ),
    ),
    "reinforce": (
        "CartPole-v1",
        dict(),
        dict(
            ON_POLICY_COMMON,
            n_episodes=POS_INT,
            returns=Range(str, choices=("reward_to_go", "total")),
            baseline=Range(str, choices=("value", "mean", "none")),
            normalize_advantage=FLAG,
            vf_coef=POS,  # > 0: the default baseline="value" needs a critic that trains
            max_grad_norm=Range(float, 0.0, low_open=True, inf_ok=True),
            n_epochs=POS_INT,
            max_episode_steps=POS_INT,
        ),
    ),
}
TABULAR_ARGS = dict(
    learning_rate=UNIT,
    gamma=UNIT,
    learning_starts=Range(int, 0),
    exploration_fraction=UNIT,
    exploration_initial_eps=UNIT,
    exploration_final_eps=UNIT,
    initial_q=Range(float),
)
for _key in ("qlearning", "sarsa", "expected_sarsa", "double_qlearning"):
    SPECS[_key] = ("FrozenLake-v1", dict(), TABULAR_ARGS)
CASES_BY_ARG = [(key, arg) for key, (_, _, args) in SPECS.items() for arg in args]
_ENVS: dict[str, object] = {}


def build(key: str, arg: str, value):
    env_id, base, _ = SPECS[key]
    if env_id not in _ENVS:
        _ENVS[env_id] = make_vec_env(env_id, n_envs=1, seed=0)
    cls = ALGORITHMS[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. TRPO's advice on a batch size that does not divide the rollout
        return cls(next(iter(cls.policy_aliases)), _ENVS[env_id], **{**base, arg: value})


def test_every_constructor_argument_with_a_range_is_covered():
    for key, cls in ALGORITHMS.items():
        params = set(inspect.signature(cls.__init__).parameters)
        ranged = {"gamma", "learning_rate", "n_steps", "batch_size", "ent_coef", "vf_coef", "max_grad_norm", "gae_lambda"}
        assert (params & ranged) <= set(SPECS[key][2]), key


@pytest.mark.parametrize("key, arg", CASES_BY_ARG)
@INSIDE
@given(data=st.data())
def test_a_value_inside_the_range_constructs(key, arg, data):
    value = data.draw(SPECS[key][2][arg].inside(), label=arg)
    model = build(key, arg, value)
    assert getattr(model, arg) is value or getattr(model, arg) == value or callable(getattr(model, arg))


@pytest.mark.parametrize("key, arg", CASES_BY_ARG)
@CASES
@given(data=st.data())
def test_a_value_outside_the_range_raises_naming_the_argument_and_what_is_accepted(key, arg, data):
    value = data.draw(SPECS[key][2][arg].outside(), label=arg)
    with pytest.raises((ValueError, TypeError)) as err:
        build(key, arg, value)
    message = str(err.value)
    assert f"`{arg}" in message, message
    assert any(word in message for word in ("accepted", "expected", "use one of", "must be", "needs")), message


# --- corrupt files ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["ppo_penalty", "qlearning"])
def saved(request):
    key = request.param
    env_id, base, _ = SPECS[key]
    cls = ALGORITHMS[key]
    model = cls(next(iter(cls.policy_aliases)), env_id, seed=0, **base)
    buffer = io.BytesIO()
    model.save(buffer)
    return cls, model, buffer.getvalue()


def _same(a, b) -> bool:
    pa, pb = a.get_parameters(), b.get_parameters()
    leaves_a = [t for d in pa.values() if isinstance(d, dict) for t in d.values() if isinstance(t, th.Tensor)]
    leaves_b = [t for d in pb.values() if isinstance(d, dict) for t in d.values() if isinstance(t, th.Tensor)]
    return len(leaves_a) == len(leaves_b) and all(th.equal(x, y) for x, y in zip(leaves_a, leaves_b, strict=True))


def _load_or_clear_error(cls, model, raw: bytes) -> str:
    try:
        loaded = cls.load(io.BytesIO(raw))
    except ValueError as err:
        assert "saved model" in str(err) or "corrupt" in str(err), err
        return "refused"
    assert _same(model, loaded), "a corrupt file loaded to a different model"
    return "identical"


@CASES
@given(data=st.data())
def test_a_truncated_file_is_refused_with_a_clear_error(saved, data):
    cls, model, raw = saved
    cut = data.draw(st.integers(0, len(raw) - 1), label="length")
    assert _load_or_clear_error(cls, model, raw[:cut]) == "refused"


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_flipped_byte_loads_identically_or_is_refused_with_a_clear_error(saved, data):
    cls, model, raw = saved
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="xor")
    corrupt = bytearray(raw)
    corrupt[position] ^= mask
    _load_or_clear_error(cls, model, bytes(corrupt))
