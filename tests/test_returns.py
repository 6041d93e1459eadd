"""Returns and baselines of the policy gradient (sb3_notes.common.returns) against numbers worked out by hand.

The batch used throughout, with γ = 0.5:
  episode 1 terminated, rewards (1, 2, 4);  episode 2 truncated after rewards (2, 4), with V(s_T) = 8.
"""

import numpy as np
import pytest

from sb3_notes.common.returns import (
    batch_returns_and_advantages,
    gae,
    mean_baseline,
    reward_to_go,
    total_return,
)

GAMMA = 0.5
EP1 = [1.0, 2.0, 4.0]
EP2 = [2.0, 4.0]
V_S_T = 8.0  # V of the state where episode 2 was cut
V1 = [2.0, 3.0, 1.0]  # V(s_t) of episode 1
V2 = [5.0, 7.0]  # V(s_t) of episode 2


def test_reward_to_go_by_hand():
    # G_2 = 4, G_1 = 2 + 0.5·4 = 4, G_0 = 1 + 0.5·4 = 3
    np.testing.assert_allclose(reward_to_go(EP1, GAMMA), [3.0, 4.0, 4.0])
    # Truncated, bootstrapped: G_1 = 4 + 0.5·8 = 8, G_0 = 2 + 0.5·8 = 6; used as is: G_1 = 4, G_0 = 2 + 0.5·4 = 4
    np.testing.assert_allclose(reward_to_go(EP2, GAMMA, last_value=V_S_T), [6.0, 8.0])
    np.testing.assert_allclose(reward_to_go(EP2, GAMMA), [4.0, 4.0])


def test_total_return_is_the_same_for_every_step():
    # R(τ) = 1 + 0.5·2 + 0.25·4 = 3; with γ = 1 (the notes' R(τ) = Σ r_t) it is 7
    np.testing.assert_allclose(total_return(EP1, GAMMA), [3.0, 3.0, 3.0])
    np.testing.assert_allclose(total_return(EP1, 1.0), [7.0, 7.0, 7.0])
    # 2 + 0.5·4 + 0.25·8 = 6
    np.testing.assert_allclose(total_return(EP2, GAMMA, last_value=V_S_T), [6.0, 6.0])


def test_gae_by_hand():
    # δ = (1 + 0.5·3 − 2, 2 + 0.5·1 − 3, 4 − 1) = (0.5, −0.5, 3); γλ = 0.25
    # A_2 = 3, A_1 = −0.5 + 0.25·3 = 0.25, A_0 = 0.5 + 0.25·0.25 = 0.5625
    np.testing.assert_allclose(gae(EP1, V1, GAMMA, 0.5), [0.5625, 0.25, 3.0])
    # δ = (2 + 0.5·7 − 5, 4 + 0.5·8 − 7) = (0.5, 1); A_1 = 1, A_0 = 0.5 + 0.25·1 = 0.75
    np.testing.assert_allclose(gae(EP2, V2, GAMMA, 0.5, last_value=V_S_T), [0.75, 1.0])


def test_gae_with_lambda_one_is_reward_to_go_minus_value():
    np.testing.assert_allclose(gae(EP2, V2, GAMMA, 1.0, last_value=V_S_T), [6.0 - 5.0, 8.0 - 7.0])
    # λ = 0 is the one-step TD error
    np.testing.assert_allclose(gae(EP1, V1, GAMMA, 0.0), [0.5, -0.5, 3.0])


def test_batch_without_baseline_terminated_and_truncated():
    returns, advantages = batch_returns_and_advantages([EP1, EP2], GAMMA, "reward_to_go", "none")
    np.testing.assert_allclose(returns, [3.0, 4.0, 4.0, 4.0, 4.0])  # the truncated episode used as is
    np.testing.assert_allclose(advantages, returns)
    returns, advantages = batch_returns_and_advantages([EP1, EP2], GAMMA, "total", "none")
    np.testing.assert_allclose(advantages, [3.0, 3.0, 3.0, 4.0, 4.0])


def test_batch_mean_baseline():
    # reward_to_go: b = (3 + 4 + 4 + 4 + 4) / 5 = 3.8
    _, advantages = batch_returns_and_advantages([EP1, EP2], GAMMA, "reward_to_go", "mean")
    np.testing.assert_allclose(advantages, [-0.8, 0.2, 0.2, 0.2, 0.2])
    # total: b = (3·3 + 2·4) / 5 = 3.4 (a mean over steps)
    _, advantages = batch_returns_and_advantages([EP1, EP2], GAMMA, "total", "mean")
    np.testing.assert_allclose(advantages, [-0.4, -0.4, -0.4, 0.6, 0.6])
    assert mean_baseline(np.array([3.0, 4.0, 4.0, 4.0, 4.0])) == pytest.approx(3.8)


def test_batch_value_baseline_bootstraps_the_truncated_episode():
    returns, advantages = batch_returns_and_advantages(
        [EP1, EP2], GAMMA, "reward_to_go", "value", values=[V1, V2], last_values=[0.0, V_S_T]
    )
    np.testing.assert_allclose(returns, [3.0, 4.0, 4.0, 6.0, 8.0])
    np.testing.assert_allclose(advantages, [1.0, 1.0, 3.0, 1.0, 1.0])
    # total with a value baseline: R(τ) − V(s_t) = (3 − 2, 3 − 3, 3 − 1, 6 − 5, 6 − 7)
    returns, advantages = batch_returns_and_advantages(
        [EP1, EP2], GAMMA, "total", "value", values=[V1, V2], last_values=[0.0, V_S_T]
    )
    np.testing.assert_allclose(advantages, [1.0, 0.0, 2.0, 1.0, -1.0])


def test_batch_value_baseline_with_gae_targets_the_lambda_return():
    returns, advantages = batch_returns_and_advantages(
        [EP1, EP2], GAMMA, "reward_to_go", "value", values=[V1, V2], last_values=[0.0, V_S_T], gae_lambda=0.5
    )
    np.testing.assert_allclose(advantages, [0.5625, 0.25, 3.0, 0.75, 1.0])
    np.testing.assert_allclose(returns, [2.5625, 3.25, 4.0, 5.75, 8.0])  # A + V


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(returns="sum"), "returns"),
        (dict(baseline="median"), "baseline"),
        (dict(gamma=1.5), "gamma"),
        (dict(baseline="value"), "values"),
        (dict(baseline="value", values=[V1, V2], returns="total", gae_lambda=0.9), "gae_lambda"),
        (dict(last_values=[0.0]), "last_values"),
    ],
)
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        batch_returns_and_advantages([EP1, EP2], **{"gamma": GAMMA, **kwargs})


def test_empty_episode_raises():
    with pytest.raises(ValueError, match="non-empty"):
        reward_to_go([], GAMMA)
