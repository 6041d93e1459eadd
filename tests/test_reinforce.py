"""REINFORCE (notes §二): the batch of whole episodes, the estimator's expectation, and learning."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_notes import ALGORITHMS, REINFORCE


class ScriptedEnv(gym.Env):
    """
    Plays fixed episodes in turn: ``script[k] = (rewards, "terminated" | "truncated")``. The observation is
    (env_id, episode number, t), so a test can tell which episode and step every stored row came from.
    """

    def __init__(self, script, env_id: int = 0):
        self.script = script
        self.env_id = env_id
        self.observation_space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.episode = -1
        self.t = 0

    def _obs(self):
        return np.array([self.env_id, self.episode, self.t], dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        rewards, end = self.script[self.episode % len(self.script)]
        reward = rewards[self.t]
        self.t += 1
        last = self.t == len(rewards)
        return self._obs(), reward, last and end == "terminated", last and end == "truncated", {}


def scripted_vec_env(*scripts):
    return DummyVecEnv([lambda s=s, i=i: Monitor(ScriptedEnv(s, env_id=i)) for i, s in enumerate(scripts)])


def record_batches(model):
    """Keep every batch ``train()`` uses."""
    batches = []
    take = model._episode_batch

    def spy():
        batch = take()
        batches.append(batch)
        return batch

    model._episode_batch = spy
    return batches


# The batch of tests/test_returns.py, now produced by an env: γ = 0.5, episode 1 terminated with rewards (1, 2, 4),
# episode 2 truncated by a time limit after rewards (2, 4).
TWO_EPISODES = [([1.0, 2.0, 4.0], "terminated"), ([2.0, 4.0], "truncated")]


@pytest.mark.parametrize(
    "returns, baseline, expected_returns, expected_advantages",
    [
        ("reward_to_go", "none", [3, 4, 4, 4, 4], [3, 4, 4, 4, 4]),
        ("total", "none", [3, 3, 3, 4, 4], [3, 3, 3, 4, 4]),
        ("reward_to_go", "mean", [3, 4, 4, 4, 4], [-0.8, 0.2, 0.2, 0.2, 0.2]),
        ("total", "mean", [3, 3, 3, 4, 4], [-0.4, -0.4, -0.4, 0.6, 0.6]),
    ],
)
def test_batch_from_env_without_critic_uses_truncated_episode_as_is(returns, baseline, expected_returns, expected_advantages):
    model = REINFORCE(
        "MlpPolicy", scripted_vec_env(TWO_EPISODES), n_episodes=2, gamma=0.5, returns=returns, baseline=baseline, seed=0
    )
    batches = record_batches(model)
    model.learn(5)
    assert len(batches) == 1 and batches[0].n_episodes == 2
    np.testing.assert_allclose(batches[0].returns.numpy(), expected_returns, rtol=1e-6)
    np.testing.assert_allclose(batches[0].advantages.numpy(), expected_advantages, rtol=1e-6, atol=1e-6)


def test_batch_from_env_with_critic_bootstraps_truncated_episode():
    model = REINFORCE("MlpPolicy", scripted_vec_env(TWO_EPISODES), n_episodes=2, gamma=0.5, baseline="value", seed=0)
    # The critic's values before the update, on the observations the env will produce, and on s_T of episode 2
    states = th.tensor([[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 1, 0], [0, 1, 1], [0, 1, 2]], dtype=th.float32)
    with th.no_grad():
        v = model.policy.predict_values(states).flatten().double().numpy()
    batches = record_batches(model)
    model.learn(5)
    # Episode 1 terminated: G = (3, 4, 4). Episode 2 truncated: G_1 = 4 + 0.5·V(s_T), G_0 = 2 + 0.5·G_1
    g1 = 4 + 0.5 * v[5]
    expected_returns = np.array([3, 4, 4, 2 + 0.5 * g1, g1])
    np.testing.assert_allclose(batches[0].returns.numpy(), expected_returns, rtol=1e-5)
    np.testing.assert_allclose(batches[0].advantages.numpy(), expected_returns - v[:5], rtol=1e-5, atol=1e-5)


def test_total_returns_are_not_bootstrapped_by_a_critic_fitted_on_total_returns():
    # With returns="total" V is fitted on R(τ), not on the return from s_T: the truncated episode is used as is
    model = REINFORCE(
        "MlpPolicy", scripted_vec_env(TWO_EPISODES), n_episodes=2, gamma=0.5, returns="total", baseline="value", seed=0
    )
    batches = record_batches(model)
    model.learn(5)
    np.testing.assert_allclose(batches[0].returns.numpy(), [3, 3, 3, 4, 4], rtol=1e-6)


class _StopOnFirstEpisodeEnd(BaseCallback):
    def _on_step(self) -> bool:
        return not self.locals["dones"].any()


def test_stopping_on_an_episode_end_never_stitches_two_episodes():
    # Every episode lasts exactly 2 steps. A callback stops training on the step that ends the first one; the step
    # is not stored, so the running episode must not be continued into the env's next episode.
    two_steps = [([1.0, 1.0], "terminated")]
    model = REINFORCE("MlpPolicy", scripted_vec_env(two_steps), n_episodes=1, baseline="none", seed=0)
    model.learn(100, callback=_StopOnFirstEpisodeEnd())
    assert model.num_timesteps == 2 and model._n_updates == 0
    batches = record_batches(model)
    model.learn(6, reset_num_timesteps=False)
    assert batches, "training resumed"
    for batch in batches:
        t = batch.observations.numpy()[:, 2].astype(int)
        assert list(t) == [0, 1] * batch.n_episodes, "a batch holds a partial or stitched episode"
        np.testing.assert_allclose(batch.returns.numpy(), [1.99, 1.0] * batch.n_episodes, rtol=1e-6)


def test_unfinished_episodes_are_carried_into_the_next_batch():
    # env 0 ends an episode every 2 steps, env 1 every 5; a batch wants 2 finished episodes.
    short, long = [([1.0] * 2, "terminated")], [([1.0] * 5, "terminated")]
    model = REINFORCE("MlpPolicy", scripted_vec_env(short, long), n_episodes=2, baseline="none", seed=0)
    batches = record_batches(model)
    model.learn(12)  # 6 VecEnv steps

    def episodes(batch):
        """(env_id, episode) -> list of t, in stored order."""
        found: dict[tuple[int, int], list[int]] = {}
        for env_id, episode, t in batch.observations.numpy().astype(int):
            found.setdefault((env_id, episode), []).append(t)
        return found

    # Step 4: env 0 finished two episodes; env 1's first 4 steps wait. Step 6: env 1 finishes, then env 0 again.
    assert [episodes(b) for b in batches] == [
        {(0, 0): [0, 1], (0, 1): [0, 1]},
        {(1, 0): [0, 1, 2, 3, 4], (0, 2): [0, 1]},
    ]
    # Every advantage used comes from a whole episode: reward-to-go of 1s with γ = 0.99 over the full length
    np.testing.assert_allclose(batches[1].advantages.numpy()[:5], [sum(0.99**k for k in range(n)) for n in (5, 4, 3, 2, 1)])
    assert model._episode_store.n_finished == 0 and model._episode_store.n_steps == 6


def test_budget_ending_mid_batch_makes_no_update_and_keeps_the_episodes():
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=1000, seed=0)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(200)
    assert model.num_timesteps == 200 and model._n_updates == 0
    assert all(th.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True))
    store = model._episode_store
    finished = store.n_finished
    assert finished >= 1
    # Every step is either in a finished episode waiting for the batch or in the running one
    assert sum(len(r) for r in store.pop_finished().rewards) + int(store.running_lengths().sum()) == 200


def test_learn_without_reset_continues_the_batch():
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=12, seed=0)
    model.learn(100)
    waiting = model._episode_store.n_finished
    assert 1 <= waiting < 12
    batches = record_batches(model)
    model.learn(400, reset_num_timesteps=False)
    assert batches and batches[0].n_episodes >= 12
    model.learn(100)  # reset: the store starts again
    assert model._episode_store.n_steps == 100


def test_policy_takes_one_step_and_critic_n_epochs():
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=2, n_epochs=4, seed=0)
    model.learn(1000)
    n_updates = model._n_updates
    state = model.policy.optimizer.state
    assert state[model.policy.action_net.weight]["step"].item() == n_updates
    assert state[model.policy.value_net.weight]["step"].item() == 4 * n_updates


def test_logs_the_variance_and_batch_size(tmp_path):
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=2, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(600)
    frame = pd.read_csv(tmp_path / "progress.csv")
    for key in ("train/policy_loss", "train/value_loss", "train/entropy", "train/advantage_std", "train/advantage_rms"):
        assert frame[key].notna().any(), key
    assert (frame["rollout/episodes_per_update"].dropna() >= 2).all()


# ---- The estimator's expectation on a one-step bandit -------------------------------------------------------


class Bandit(gym.Env):
    """One state, three arms with rewards 1, 2, 4; every episode is one step long."""

    REWARDS = np.array([1.0, 2.0, 4.0])

    def __init__(self):
        self.observation_space = spaces.Box(-1, 1, (1,), np.float32)
        self.action_space = spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(1, dtype=np.float32), {}

    def step(self, action):
        return np.ones(1, dtype=np.float32), float(self.REWARDS[action]), True, False, {}


N = 4  # episodes per batch: small, so that the mean baseline's 1 − 1/N factor is visible
M = 2000  # batches


def bandit_gradient_estimates(baseline: str) -> tuple[np.ndarray, np.ndarray]:
    """
    M estimates of ∇_logits J from REINFORCE's own loss (the policy is frozen: the update step only records the
    gradient), and the closed form ∇_logits J = p ⊙ (r − p·r). The logits are action_net(latent) + bias, so the
    gradient with respect to action_net's bias is the gradient with respect to the logits.
    """
    model = REINFORCE(
        "MlpPolicy",
        DummyVecEnv([Bandit] * N),
        n_episodes=N,
        baseline=baseline,
        normalize_advantage=False,
        n_epochs=1,  # the critic is frozen here: its extra steps would only cost time
        seed=0,
    )
    policy = model.policy
    with th.no_grad():
        policy.action_net.bias.copy_(th.tensor([0.8, 0.0, -0.8]))
        p = policy.get_distribution(th.ones(1, 1)).distribution.probs[0].double().numpy()
        # A critic that knows V(s) = E_π[r] exactly (any fixed V keeps the estimate unbiased; this one also helps)
        policy.value_net.weight.zero_()
        policy.value_net.bias.fill_(float(p @ Bandit.REWARDS))
    estimates = []

    def record(loss):
        (grad,) = th.autograd.grad(loss, policy.action_net.bias)
        estimates.append(-grad.double().numpy())

    model._step = record
    model.learn(M * N)
    assert len(estimates) == M
    return np.array(estimates), p * (Bandit.REWARDS - p @ Bandit.REWARDS)


@pytest.fixture(scope="module")
def bandit_estimates():
    return {baseline: bandit_gradient_estimates(baseline) for baseline in ("none", "mean", "value")}


@pytest.mark.parametrize("baseline", ["none", "value"])
def test_estimator_is_unbiased(bandit_estimates, baseline):
    estimates, true_gradient = bandit_estimates[baseline]
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(M)
    # Four standard errors: a correct estimator fails this with probability < 1e-4 per component
    assert np.all(np.abs(estimates.mean(axis=0) - true_gradient) <= 4 * standard_error)


def test_mean_baseline_is_biased_by_one_over_n(bandit_estimates):
    estimates, true_gradient = bandit_estimates["mean"]
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(M)
    mean = estimates.mean(axis=0)
    # b includes each episode's own return: E[(R_i − b) ∇log π_i] = (1 − 1/N) ∇J exactly
    assert np.all(np.abs(mean - (1 - 1 / N) * true_gradient) <= 4 * standard_error)
    # so it is within |∇J| / N (the O(1/N) bias) plus the noise of the true gradient
    assert np.all(np.abs(mean - true_gradient) <= np.abs(true_gradient) / N + 4 * standard_error)


def test_baselines_reduce_variance(bandit_estimates):
    variance = {name: est.var(axis=0, ddof=1).sum() for name, (est, _) in bandit_estimates.items()}
    assert variance["mean"] < 0.5 * variance["none"]
    assert variance["value"] < 0.5 * variance["none"]


# ---- Learning ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_learns_cartpole_with_defaults():
    env = make_vec_env("CartPole-v1", n_envs=8, seed=0)
    model = REINFORCE("MlpPolicy", env, seed=0, device="cpu")
    model.learn(60_000)
    mean_return, _ = evaluate_policy(model, make_vec_env("CartPole-v1", n_envs=1, seed=123), n_eval_episodes=20)
    assert mean_return >= 195


# ---- Bad input --------------------------------------------------------------------------------------------------


class ActorOnlyPolicy(ActorCriticPolicy):
    """An actor-critic policy whose value head was removed."""

    def _build(self, lr_schedule):
        super()._build(lr_schedule)
        self.value_net = None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(returns="sum"), "`returns`='sum'.*'total', 'reward_to_go'"),
        (dict(baseline="median"), "`baseline`='median'.*'none', 'mean', 'value'"),
        (dict(n_episodes=0), "`n_episodes`=0"),
        (dict(gamma=1.5), "`gamma`=1.5"),
        (dict(gamma=-0.1), "`gamma`=-0.1"),
        (dict(gae_lambda=1.01), "`gae_lambda`=1.01"),
        (dict(gae_lambda=-1.0), "`gae_lambda`=-1.0"),
        (dict(gae_lambda=0.9, baseline="mean"), "`gae_lambda`=0.9 needs baseline='value'"),
        (dict(gae_lambda=0.9, returns="total"), "`gae_lambda`=0.9 needs baseline='value' and returns='reward_to_go'"),
        (dict(max_episode_steps=0), "`max_episode_steps`=0"),
        (dict(n_epochs=0), "`n_epochs`=0"),
        (dict(learning_rate=-1.0), "`learning_rate`=-1.0"),
        (dict(vf_coef=0.0), "`vf_coef`=0 with baseline='value'"),
    ],
)
def test_bad_input_raises_at_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        REINFORCE("MlpPolicy", "CartPole-v1", **kwargs)


def test_value_baseline_needs_a_value_head():
    with pytest.raises(ValueError, match=r"baseline='value' needs a policy with a value head.*'none', 'mean'"):
        REINFORCE(ActorOnlyPolicy, "CartPole-v1", baseline="value")
    model = REINFORCE(ActorOnlyPolicy, "CartPole-v1", baseline="mean", n_episodes=2, seed=0)
    model.learn(200)  # no critic needed
    assert model._n_updates >= 1


class Endless(gym.Env):
    observation_space = spaces.Box(-1, 1, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(1, dtype=np.float32), 1.0, False, False, {}


def test_episode_that_never_ends_raises():
    model = REINFORCE("MlpPolicy", DummyVecEnv([Endless]), max_episode_steps=50)
    with pytest.raises(RuntimeError, match="max_episode_steps=50"):
        model.learn(10_000)
    assert model.num_timesteps == 51


def test_registered():
    assert ALGORITHMS["reinforce"] is REINFORCE
