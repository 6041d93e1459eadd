"""The fast rollout path (sb3_notes.on_policy) against SB3's own collect_rollouts and distributions."""

import functools
from statistics import NormalDist

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import FakeImageEnv, SimpleMultiObsEnv
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_notes import PPOPenalty
from sb3_notes.common.distributions import (
    bernoulli_log_prob_entropy,
    categorical_log_prob_entropy,
    diag_gaussian_log_prob_entropy,
    multi_categorical_log_prob_entropy,
)
from sb3_notes.common.kl import analytic_kl, distribution_params
from sb3_notes.on_policy.lean_policy import LeanActorCritic, fast_rollout_fallback_reason
from sb3_notes.on_policy.updates import policy_actions
from tests.helpers import perturb

BUFFER_FIELDS = ("observations", "actions", "rewards", "episode_starts", "values", "returns", "advantages")


class ToyEnv(gym.Env):
    """Box observations, any action space; the reward depends on the action, episodes end at random."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)

    def __init__(self, action_space: gym.Space):
        self.action_space = action_space

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.state = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        return self.state, {}

    def step(self, action):
        reward = float(np.sum(np.asarray(action, dtype=np.float64) * self.state[: np.size(action)]))
        self.state = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        return self.state, reward, bool(self.state[0] > 0.8), False, {}


def toy(action_space: gym.Space, max_steps: int = 6):
    return lambda: gym.wrappers.TimeLimit(ToyEnv(action_space), max_episode_steps=max_steps)


# (name, env factory for make_vec_env, env_kwargs, n_envs): every kind of distribution, time limits hit often.
CASES = [
    ("cartpole", "CartPole-v1", dict(max_episode_steps=7), 1),
    ("pendulum", "Pendulum-v1", dict(max_episode_steps=40), 2),
    ("multidiscrete", toy(gym.spaces.MultiDiscrete([3, 2, 4])), None, 2),
    ("multibinary", toy(gym.spaces.MultiBinary(3)), None, 1),
    ("frozenlake", "FrozenLake-v1", dict(max_episode_steps=5), 2),  # Discrete observations: one-hot features
]


def make_model(env_id, env_kwargs, n_envs, fast=True, n_steps=96, seed=0, **kwargs) -> PPOPenalty:
    env = make_vec_env(env_id, n_envs=n_envs, seed=3, env_kwargs=env_kwargs)
    model = PPOPenalty(
        "MlpPolicy", env, seed=seed, n_steps=n_steps, batch_size=n_steps, fast_rollout=fast, device="cpu", **kwargs
    )
    perturb(model.policy, scale=0.3, seed=7)  # away from the near-uniform initial policy, so that sampling errors would show
    return model


def collect(model: PPOPenalty, callback: BaseCallback | None = None) -> bool:
    model._setup_learn(model.n_steps * model.n_envs, callback)
    return model.collect_rollouts(model.env, model._init_callback(callback), model.rollout_buffer, model.n_steps)


def deterministic(model: PPOPenalty) -> PPOPenalty:
    """Both paths take each distribution's mode (SB3's through its own forward, ours through the test switch)."""
    model._deterministic_rollout = True
    model.policy.forward = functools.partial(ActorCriticPolicy.forward, model.policy, deterministic=True)
    return model


@pytest.mark.parametrize("name, env_id, env_kwargs, n_envs", CASES, ids=[c[0] for c in CASES])
def test_fast_and_sb3_paths_fill_identical_buffers_for_the_same_actions(name, env_id, env_kwargs, n_envs):
    fast = deterministic(make_model(env_id, env_kwargs, n_envs, fast=True))
    sb3 = deterministic(make_model(env_id, env_kwargs, n_envs, fast=False))
    assert collect(fast) and collect(sb3)
    assert fast.fast_path_taken and not sb3.fast_path_taken
    assert fast.logger.name_to_value["rollout/fast_path"] == 1 and sb3.logger.name_to_value["rollout/fast_path"] == 0
    for field in BUFFER_FIELDS:
        np.testing.assert_array_equal(getattr(fast.rollout_buffer, field), getattr(sb3.rollout_buffer, field), err_msg=field)
    # log-softmax against SB3's logits − logsumexp(logits): the same number up to float32 rounding
    np.testing.assert_allclose(fast.rollout_buffer.log_probs, sb3.rollout_buffer.log_probs, rtol=0, atol=1e-6)
    assert fast.num_timesteps == sb3.num_timesteps == fast.n_steps * n_envs
    np.testing.assert_array_equal(fast._last_obs, sb3._last_obs)
    np.testing.assert_array_equal(fast._last_episode_starts, sb3._last_episode_starts)
    assert [ep["r"] for ep in fast.ep_info_buffer] == [ep["r"] for ep in sb3.ep_info_buffer]
    # the case must exercise the time-limit bootstrap and the episode starts it compares
    assert fast.rollout_buffer.episode_starts[1:].any()
    truncated_steps = [ep["l"] for ep in fast.ep_info_buffer if ep["l"] == (env_kwargs or {}).get("max_episode_steps", 6)]
    assert truncated_steps, "no episode hit the time limit"


@pytest.mark.parametrize("name, env_id, env_kwargs, n_envs", CASES, ids=[c[0] for c in CASES])
def test_sampled_rollout_stores_the_policys_values_and_log_probs_of_its_actions(name, env_id, env_kwargs, n_envs):
    model = make_model(env_id, env_kwargs, n_envs)
    assert collect(model) and model.fast_path_taken
    buf = model.rollout_buffer
    obs = th.as_tensor(buf.observations.reshape(-1, *buf.obs_shape))
    # float32 actions, as the buffer's get() hands them to train()
    actions = policy_actions(model.action_space, th.as_tensor(buf.actions.reshape(-1, buf.action_dim).astype(np.float32)))
    with th.no_grad():
        expected_log_prob = model.policy.get_distribution(obs).log_prob(actions)
        expected_values = model.policy.predict_values(obs).flatten()
    np.testing.assert_allclose(buf.log_probs.reshape(-1), expected_log_prob.numpy(), rtol=0, atol=1e-5)
    # one forward over the whole rollout rounds differently from the per-step forwards
    np.testing.assert_allclose(buf.values.reshape(-1), expected_values.numpy(), rtol=1e-6, atol=1e-6)


def z_critical(false_alarm: float, n_tests: int) -> float:
    """Two-sided normal critical value, Bonferroni-corrected so that all n_tests pass with prob ≥ 1 − false_alarm."""
    return NormalDist().inv_cdf(1 - false_alarm / (2 * n_tests))


def frequency_z(hits: th.Tensor, p: th.Tensor, n: int) -> th.Tensor:
    """z-scores of observed frequencies against probabilities p (binomial, normal approximation, n ≥ 1000)."""
    return (hits - n * p) / th.sqrt(n * p * (1 - p)).clamp_min(1e-12)


N_DRAWS = 10_000  # per state; with the probabilities below every n·p·(1−p) > 40, so the normal approximation holds
FALSE_ALARM = 1e-3  # chance that a correct sampler fails one of these tests at a random seed


def _draws(model: PPOPenalty, n_states: int = 4):
    """N_DRAWS sampled actions on each of n_states fixed states, from the fast path, with SB3's distribution."""
    th.manual_seed(123)
    model.observation_space.seed(0)
    obs = np.stack([model.observation_space.sample() for _ in range(n_states)]).astype(np.float32)
    batch = np.repeat(obs, N_DRAWS, axis=0)
    actions, values, log_prob = LeanActorCritic(model.policy).step(batch)
    with th.no_grad():
        expected = model.policy.get_distribution(th.as_tensor(batch)).log_prob(
            policy_actions(model.action_space, th.as_tensor(actions))
        )
        expected_values = model.policy.predict_values(th.as_tensor(batch))
        dist = model.policy.get_distribution(th.as_tensor(obs))  # last: SB3 reuses one distribution object
    np.testing.assert_allclose(log_prob.numpy(), expected.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
    return th.as_tensor(actions).reshape(n_states, N_DRAWS, *model.action_space.shape), dist


def test_sampled_categorical_actions_have_the_policys_frequencies():
    model = make_model(toy(gym.spaces.Discrete(4)), None, 1)
    actions, dist = _draws(model)
    probs = dist.distribution.probs  # (4 states, 4 actions)
    hits = th.stack([(actions == k).sum(dim=1) for k in range(4)], dim=1).double()
    assert probs.min() > 0.005, "the test needs every action to be drawn often enough"
    z = frequency_z(hits, probs.double(), N_DRAWS)
    assert z.abs().max() < z_critical(FALSE_ALARM, z.numel()), z


def test_sampled_multidiscrete_actions_have_the_policys_frequencies():
    model = make_model(toy(gym.spaces.MultiDiscrete([3, 2, 4])), None, 1)
    actions, dist = _draws(model)
    zs = []
    for component, sub in enumerate(dist.distribution):
        probs = sub.probs.double()
        hits = th.stack([(actions[:, :, component] == k).sum(dim=1) for k in range(probs.shape[1])], dim=1).double()
        zs.append(frequency_z(hits, probs, N_DRAWS).flatten())
    z = th.cat(zs)
    assert z.abs().max() < z_critical(FALSE_ALARM, z.numel()), z


def test_sampled_multibinary_bits_have_the_policys_frequencies():
    model = make_model(toy(gym.spaces.MultiBinary(3)), None, 1)
    actions, dist = _draws(model)
    z = frequency_z(actions.double().sum(dim=1), dist.distribution.probs.double(), N_DRAWS)
    assert z.abs().max() < z_critical(FALSE_ALARM, z.numel()), z


def test_sampled_gaussian_actions_have_the_policys_mean_spread_and_shape():
    model = make_model("Pendulum-v1", None, 1)
    actions, dist = _draws(model)
    mean, std = dist.distribution.mean.unsqueeze(1).double(), dist.distribution.stddev.unsqueeze(1).double()
    u = (actions.double() - mean) / std  # should be N(0, 1) draws
    n = N_DRAWS
    z_mean = u.mean(dim=1) * np.sqrt(n)
    z_var = (u.var(dim=1) - 1) / np.sqrt(2 / n)
    # the shape: fraction below −1, 0 and 1 standard deviations against Φ
    z_cdf = [frequency_z((u < c).sum(dim=1).double(), th.tensor(NormalDist().cdf(c)), n) for c in (-1.0, 0.0, 1.0)]
    z = th.cat([z_mean.flatten(), z_var.flatten(), *[zc.flatten() for zc in z_cdf]])
    assert z.abs().max() < z_critical(FALSE_ALARM, z.numel()), z
    assert (actions.abs() > 2.0).any(), "some samples leave the action bounds (stored unclipped, as SB3 does)"


def test_a_biased_sampler_would_fail_the_frequency_test():
    # The test above can fail: the same statistic flags draws from a distribution off by 0.03 in probability.
    th.manual_seed(0)
    probs = th.tensor([[0.3, 0.7]], dtype=th.float64)
    hits = th.tensor([[(th.rand(N_DRAWS) < 0.33).sum().item(), 0]], dtype=th.float64)
    hits[0, 1] = N_DRAWS - hits[0, 0]
    assert frequency_z(hits, probs, N_DRAWS).abs().max() > z_critical(FALSE_ALARM, 2)


def _evaluation_cases():
    gen = th.Generator().manual_seed(0)
    logits = th.randn(5, 4, generator=gen)
    yield "categorical", logits, th.randint(0, 4, (5,), generator=gen)
    yield (
        "multi_categorical",
        th.randn(5, 7, generator=gen),
        th.stack([th.randint(0, n, (5,), generator=gen) for n in (3, 4)], 1),
    )
    yield "bernoulli", th.randn(5, 3, generator=gen) * 3, th.randint(0, 2, (5, 3), generator=gen).float()
    yield "diag_gaussian", th.randn(5, 2, generator=gen), th.randn(5, 2, generator=gen) * 2


@pytest.mark.parametrize("kind, params, actions", list(_evaluation_cases()), ids=lambda x: x if isinstance(x, str) else "")
def test_lean_log_prob_and_entropy_equal_sb3_distributions_with_gradients(kind, params, actions):
    from stable_baselines3.common.distributions import (
        BernoulliDistribution,
        CategoricalDistribution,
        DiagGaussianDistribution,
        MultiCategoricalDistribution,
    )

    params = params.clone().requires_grad_(True)
    log_std = th.tensor([0.3, -0.7], requires_grad=True)
    if kind == "categorical":
        ours = categorical_log_prob_entropy(params, actions)
        dist = CategoricalDistribution(4).proba_distribution(params)
    elif kind == "multi_categorical":
        ours = multi_categorical_log_prob_entropy(params, actions, [3, 4])
        dist = MultiCategoricalDistribution([3, 4]).proba_distribution(params)
    elif kind == "bernoulli":
        ours = bernoulli_log_prob_entropy(params, actions)
        dist = BernoulliDistribution(3).proba_distribution(params)
    else:
        ours = diag_gaussian_log_prob_entropy(params, log_std, actions)
        dist = DiagGaussianDistribution(2).proba_distribution(params, log_std)
    expected = (dist.log_prob(actions), dist.entropy())
    for got, want in zip(ours, expected, strict=True):
        th.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    inputs = [params, log_std] if kind == "diag_gaussian" else [params]
    weights = th.linspace(0.5, 1.5, 5)
    ours_grad = th.autograd.grad(((ours[0] + ours[1]) * weights).sum(), inputs)
    want_grad = th.autograd.grad(((expected[0] + expected[1]) * weights).sum(), inputs)
    for got, want in zip(ours_grad, want_grad, strict=True):
        th.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, env_id, env_kwargs, n_envs", CASES, ids=[c[0] for c in CASES])
def test_lean_evaluate_and_kl_equal_the_policys_own(name, env_id, env_kwargs, n_envs):
    model = make_model(env_id, env_kwargs, n_envs)
    collect(model)
    buf = model.rollout_buffer
    obs = th.as_tensor(buf.observations.reshape(-1, *buf.obs_shape))
    actions = policy_actions(model.action_space, th.as_tensor(buf.actions.reshape(-1, buf.action_dim).astype(np.float32)))
    with th.no_grad():
        old = distribution_params(model.policy.get_distribution(obs))
    perturb(model.policy, scale=0.1, seed=11)
    lean = LeanActorCritic(model.policy)
    values, log_prob, entropy, params = lean.evaluate(obs, actions)
    want_values, want_log_prob, want_entropy = model.policy.evaluate_actions(obs, actions)
    th.testing.assert_close(values, want_values.flatten())
    th.testing.assert_close(log_prob, want_log_prob, rtol=1e-5, atol=1e-5)
    th.testing.assert_close(entropy, want_entropy, rtol=1e-5, atol=1e-5)
    kl = lean.kl(old, params)
    want_kl = analytic_kl(old, model.policy.get_distribution(obs))
    th.testing.assert_close(kl, want_kl, rtol=1e-5, atol=1e-6)
    assert kl.min() > 0


class _Recorder(BaseCallback):
    """Records what SB3's loop exposes to callbacks, and stops the rollout after ``stop_after`` steps."""

    def __init__(self, stop_after: int):
        super().__init__()
        self.stop_after, self.seen, self.events = stop_after, [], []

    def _on_rollout_start(self):
        self.events.append("start")

    def _on_rollout_end(self):
        self.events.append("end")

    def _on_step(self) -> bool:
        loc = self.locals
        self.seen.append(
            (
                self.num_timesteps,
                loc["actions"].copy(),
                loc["clipped_actions"].copy(),
                loc["rewards"].copy(),
                loc["dones"].copy(),
            )
        )
        assert {"new_obs", "infos", "values", "log_probs", "n_steps", "rollout_buffer", "env"} <= set(loc)
        return len(self.seen) < self.stop_after


@pytest.mark.parametrize("stop_after", [5, 10_000])
def test_callbacks_see_the_same_steps_and_can_stop_the_rollout(stop_after):
    runs = {}
    for fast in (True, False):
        model = deterministic(make_model("Pendulum-v1", dict(max_episode_steps=40), 2, fast=fast))
        with th.no_grad():
            model.policy.action_net.weight.mul_(20)  # actions beyond [−2, 2], so clipping happens
        recorder = _Recorder(stop_after)
        finished = collect(model, recorder)
        runs[fast] = (finished, model.num_timesteps, recorder)
    (fin_f, steps_f, rec_f), (fin_s, steps_s, rec_s) = runs[True], runs[False]
    assert fin_f == fin_s == (stop_after > 96)
    assert steps_f == steps_s == 2 * min(stop_after, 96)
    assert rec_f.events == rec_s.events == (["start", "end"] if stop_after > 96 else ["start"])
    assert len(rec_f.seen) == len(rec_s.seen)
    clipped_somewhere = False
    for (t_f, a_f, c_f, r_f, d_f), (t_s, a_s, c_s, r_s, d_s) in zip(rec_f.seen, rec_s.seen, strict=True):
        assert t_f == t_s
        for x, y in ((a_f, a_s), (c_f, c_s), (r_f, r_s), (d_f, d_s)):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(c_f, np.clip(a_f, -2.0, 2.0))
        clipped_somewhere |= bool((a_f != c_f).any())
    assert clipped_somewhere


class CustomPolicy(ActorCriticPolicy):
    """A user's subclass: it may change forward, so the fast path must not assume SB3's."""


@pytest.mark.parametrize(
    "env_id, kwargs, reason",
    [
        ("CartPole-v1", dict(policy=CustomPolicy), "custom policy class CustomPolicy"),
        ("Pendulum-v1", dict(use_sde=True), "gSDE"),
        ("CartPole-v1", dict(fast_rollout=False), "fast_rollout=False"),
    ],
)
def test_fallback_to_sb3_is_taken_and_still_trains(env_id, kwargs, reason):
    kwargs = dict(kwargs)
    policy = kwargs.pop("policy", "MlpPolicy")
    model = PPOPenalty(policy, env_id, seed=0, n_steps=64, batch_size=32, n_epochs=2, device="cpu", **kwargs)
    assert fast_rollout_fallback_reason(model) == reason
    assert model.lean_policy() is None
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(128)
    assert model.fast_path_taken is False
    assert model.logger.name_to_value["rollout/fast_path"] == 0
    assert model.num_timesteps == 128
    assert any(not th.equal(p0, p1) for p0, p1 in zip(before, model.policy.parameters(), strict=True))


def test_fast_path_is_the_default_and_a_forward_hook_turns_it_off():
    model = PPOPenalty("MlpPolicy", "CartPole-v1", seed=0, n_steps=64, batch_size=32, n_epochs=1, device="cpu")
    assert fast_rollout_fallback_reason(model) is None
    model.learn(64)
    assert model.fast_path_taken is True
    model.policy.mlp_extractor.register_forward_hook(lambda module, args, out: None)
    assert fast_rollout_fallback_reason(model) == "custom mlp_extractor or forward hooks"


def test_switch_survives_save_load_and_the_lean_view_is_not_saved(tmp_path):
    model = PPOPenalty("MlpPolicy", "CartPole-v1", seed=0, n_steps=64, batch_size=32, fast_rollout=False).learn(64)
    model.lean_policy(refresh=True)
    model.save(tmp_path / "m.zip")
    loaded = PPOPenalty.load(tmp_path / "m.zip", env=make_vec_env("CartPole-v1", n_envs=1, seed=1))
    assert loaded.fast_rollout is False
    loaded.learn(64, reset_num_timesteps=False)
    assert loaded.fast_path_taken is False
    fast = PPOPenalty("MlpPolicy", "CartPole-v1", seed=0, n_steps=64, batch_size=32).learn(64)
    assert fast.lean_policy() is not None
    fast.save(tmp_path / "f.zip")
    reloaded = PPOPenalty.load(tmp_path / "f.zip", env=make_vec_env("CartPole-v1", n_envs=1, seed=1))
    assert reloaded._lean_cache is None and reloaded.fast_rollout is True
    assert reloaded.lean_policy().policy is reloaded.policy


def test_fast_rollout_switch_is_validated():
    with pytest.raises(TypeError, match="fast_rollout"):
        PPOPenalty("MlpPolicy", "CartPole-v1", fast_rollout="yes")


def test_foreach_adam_is_the_default_and_gives_bitwise_the_same_training():
    def trained(**optimizer_kwargs):
        policy_kwargs = dict(optimizer_kwargs=dict(eps=1e-5, **optimizer_kwargs)) if optimizer_kwargs else None
        model = PPOPenalty(
            "MlpPolicy", "CartPole-v1", seed=0, n_steps=64, batch_size=16, n_epochs=2, policy_kwargs=policy_kwargs
        )
        return model.learn(128)

    default, loop = trained(), trained(foreach=False)
    assert default.policy.optimizer.param_groups[0]["foreach"] is True
    assert loop.policy.optimizer.param_groups[0]["foreach"] is False, "a user's explicit choice is kept"
    for p_default, p_loop in zip(default.policy.parameters(), loop.policy.parameters(), strict=True):
        assert th.equal(p_default, p_loop)


def seeded_images() -> FakeImageEnv:
    env = FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=True)
    env.observation_space.seed(123)  # its images are samples of the space, which make_vec_env's seed does not reach
    return env


IMAGE_AND_DICT = [
    ("CnnPolicy", seeded_images),
    ("MultiInputPolicy", lambda: SimpleMultiObsEnv(random_start=False)),
]


@pytest.mark.parametrize("policy, env_fn", IMAGE_AND_DICT, ids=["cnn", "dict"])
def test_fast_and_sb3_paths_fill_identical_buffers_for_images_and_dicts(policy, env_fn):
    def model(fast: bool) -> PPOPenalty:
        env = make_vec_env(env_fn, n_envs=2, seed=3)
        return deterministic(PPOPenalty(policy, env, n_steps=16, batch_size=32, seed=0, fast_rollout=fast, device="cpu"))

    fast, sb3 = model(True), model(False)
    assert collect(fast) and collect(sb3)
    assert fast.fast_path_taken and not sb3.fast_path_taken  # the Cnn / MultiInput branch of the lean forward ran
    for field in BUFFER_FIELDS:
        ours, theirs = getattr(fast.rollout_buffer, field), getattr(sb3.rollout_buffer, field)
        if isinstance(ours, dict):
            for key in ours:
                np.testing.assert_array_equal(ours[key], theirs[key], err_msg=f"{field}[{key}]")
        else:
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6, err_msg=field)
    np.testing.assert_allclose(fast.rollout_buffer.log_probs, sb3.rollout_buffer.log_probs, rtol=0, atol=1e-6)
