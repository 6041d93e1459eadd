"""The on-policy helpers of sb3_notes.on_policy.updates that carry math: π_old's snapshot and the rollout KL."""

import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from torch.distributions import Normal, kl_divergence

from sb3_notes.on_policy.updates import mean_rollout_kl, old_policy_params, prefer_foreach
from tests.helpers import perturb


def make_policy(action_space: spaces.Space) -> ActorCriticPolicy:
    th.manual_seed(0)
    obs_space = spaces.Box(-1, 1, (3,))
    return ActorCriticPolicy(obs_space, action_space, lambda _: 1e-3, net_arch=[8])


@pytest.mark.parametrize("action_space", [spaces.Discrete(3), spaces.Box(-1, 1, (2,))])
def test_snapshot_in_chunks_equals_the_whole_batch(action_space):
    policy = make_policy(action_space)
    obs = th.rand(10, 3) * 2 - 1
    snapshot = old_policy_params(policy, obs, chunk_size=3)  # chunks of 3, 3, 3, 1
    dist = policy.get_distribution(obs).distribution
    if isinstance(action_space, spaces.Discrete):
        th.testing.assert_close(snapshot.first, dist.logits)
        assert snapshot.second is None
    else:
        th.testing.assert_close(snapshot.first, dist.mean)
        th.testing.assert_close(snapshot.second, dist.stddev)


def test_rollout_kl_is_the_mean_of_torchs_kl_and_the_sample_estimator_without_a_snapshot():
    policy = make_policy(spaces.Box(-1, 1, (2,)))
    obs = th.rand(10, 3) * 2 - 1
    with th.no_grad():
        old = policy.get_distribution(obs).distribution
        old = Normal(old.mean.clone(), old.stddev.clone())
        actions = old.sample()
        old_log_prob = old.log_prob(actions).sum(-1)
    snapshot = old_policy_params(policy, obs, chunk_size=4)
    perturb(policy, scale=0.1, seed=1)
    with th.no_grad():
        new = policy.get_distribution(obs).distribution
        expected = kl_divergence(old, new).sum(-1).mean().item()  # KL(π_old ‖ π_θ), independent dims summed
        log_ratio = new.log_prob(actions).sum(-1) - old_log_prob
        estimator = ((th.exp(log_ratio) - 1) - log_ratio).mean().item()  # E_old[(r − 1) − log r], by hand
    assert expected > 1e-4  # the perturbation moved the policy
    assert mean_rollout_kl(policy, obs, actions, old_log_prob, snapshot, chunk_size=4) == pytest.approx(expected, rel=1e-5)
    assert mean_rollout_kl(policy, obs, actions, old_log_prob, None, chunk_size=4) == pytest.approx(estimator, rel=1e-5)


def test_prefer_foreach_only_fills_adams_unset_choice():
    params = [th.nn.Parameter(th.zeros(2))]
    adam, explicit, sgd = th.optim.Adam(params), th.optim.Adam(params, foreach=False), th.optim.SGD(params, lr=0.1)
    for optimizer in (adam, explicit, sgd):
        prefer_foreach(optimizer)
    assert adam.param_groups[0]["foreach"] is True
    assert explicit.param_groups[0]["foreach"] is False  # the user's choice stays
    assert sgd.param_groups[0]["foreach"] is None
