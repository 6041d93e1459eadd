"""The one non-finite policy (sb3_notes.common.finite): its cheap common case must never let a bad number through."""

import numpy as np
import pytest
import torch as th

from sb3_notes.common.finite import check_env_step, check_finite

BIG = np.float32(3e38)  # finite, but two of them sum to inf in float32


@pytest.mark.parametrize("size", [4, 1000])  # the Python sum (small arrays) and NumPy's (large)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_observation_is_found_in_small_and_large_arrays(size, bad):
    obs = np.zeros((2, size), dtype=np.float32)
    obs[1, size - 1] = bad
    with pytest.raises(FloatingPointError, match=r"A step 7: env 1 returned a non-finite observation"):
        check_env_step("A", 7, obs, np.zeros(2, dtype=np.float32))


@pytest.mark.parametrize("size", [4, 1000])
def test_finite_values_whose_sum_overflows_pass(size):
    obs = np.full((2, size), BIG, dtype=np.float32)
    rewards = np.array([BIG, BIG], dtype=np.float32)
    assert not np.isfinite(obs.sum()) and not np.isfinite(rewards.sum())  # the fast path's sums overflow
    check_env_step("A", 1, obs, rewards)  # the scan then finds every value finite


def test_inf_minus_inf_is_not_mistaken_for_finite():
    rewards = np.array([np.inf, -np.inf], dtype=np.float32)  # sums to NaN, not to a finite number
    with pytest.raises(FloatingPointError, match=r"env 0 returned a non-finite reward \(inf\)"):
        check_env_step("A", 1, np.zeros((2, 3), dtype=np.float32), rewards)


def test_dict_and_tuple_observations_name_the_part():
    rewards = np.zeros(2, dtype=np.float32)
    with pytest.raises(FloatingPointError, match=r"env 0 returned a non-finite observation\['vec'\]"):
        check_env_step("A", 1, {"img": np.zeros((2, 3), np.uint8), "vec": np.array([[np.nan], [0.0]])}, rewards)
    with pytest.raises(FloatingPointError, match=r"env 1 returned a non-finite observation\[1\]"):
        check_env_step("A", 1, (np.zeros(2, np.int64), np.array([0.0, np.inf])), rewards)


def test_integer_observations_are_not_scanned_and_complex_ones_are():
    rewards = np.zeros(1, dtype=np.float32)
    check_env_step("A", 1, np.full((1, 3), np.iinfo(np.int64).max), rewards)
    with pytest.raises(FloatingPointError, match="non-finite observation"):
        check_env_step("A", 1, np.array([[1 + 1j, complex(np.nan, 0)]]), rewards)


def test_a_finite_gate_skips_the_scan_and_a_non_finite_one_names_the_bad_quantities():
    loss, kl = th.tensor(1.0), th.tensor(float("nan"))
    check_finite("A", "update 1", gate=th.tensor(2.0), loss=loss)
    with pytest.raises(FloatingPointError, match=r"A update 3: non-finite kl=nan; the weights were not changed"):
        check_finite("A", "update 3", gate=loss + kl, loss=loss, kl=kl)


def test_a_gate_that_overflows_alone_passes_when_every_quantity_is_finite():
    big = th.tensor(3e38)
    check_finite("A", "update 1", gate=big + big, loss=big, grad_norm=big)
