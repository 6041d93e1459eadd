"""TRPO (notes §四): the trust-region step, the actor/critic split, the critic's isolation, the beyond-sb3-contrib
features, bad input, and a small seeded learning run."""

import inspect

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch as th
from gymnasium import spaces
from sb3_contrib import TRPO as ContribTRPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.logger import configure
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn
from torch.autograd.functional import hessian
from torch.distributions import Categorical, Normal, kl_divergence

import sb3_notes.trpo.trpo as trpo_module
from sb3_notes import ALGORITHMS, TRPO
from sb3_notes.common.kl import DistributionParams, analytic_kl, distribution_params
from sb3_notes.settings import shipped_settings
from sb3_notes.trpo.policies import actor_critic_parameters

SMALL = dict(n_steps=64, batch_size=64, device="cpu")


def tiny_model(env_id: str = "CartPole-v1", **kwargs) -> TRPO:
    return TRPO("MlpPolicy", env_id, seed=0, **{**SMALL, **kwargs})


def random_batch(model: TRPO, gen: th.Generator, n: int = 64):
    """States, actions drawn by the current policy π_old, their log π_old, and random advantages."""
    obs = 2 * th.randn(n, *model.observation_space.shape, generator=gen)
    with th.no_grad():
        dist = model.policy.get_distribution(obs)
        actions = dist.sample()
        log_prob = dist.log_prob(actions)
    return obs, actions, log_prob, th.randn(n, generator=gen)


def torch_distribution(model: TRPO, obs: th.Tensor):
    """The policy's distribution as a plain torch.distributions object (an independent KL implementation)."""
    with th.no_grad():
        dist = model.policy.get_distribution(obs).distribution
    if isinstance(dist, Categorical):
        return Categorical(logits=dist.logits)
    return Normal(dist.mean, dist.stddev)


def snapshot(model: TRPO) -> dict[str, th.Tensor]:
    return {k: v.clone() for k, v in model.policy.state_dict().items()}


def unchanged(model: TRPO, before: dict[str, th.Tensor], names=None) -> bool:
    after = model.policy.state_dict()
    return all(th.equal(after[k], before[k]) for k in (names or before))


# ----------------------------------------------------------------------------------------------------------------
# Drop-in for sb3-contrib, registry, bad input


def test_accepts_every_sb3_contrib_argument_with_the_same_default():
    ours = inspect.signature(TRPO.__init__).parameters
    for name, param in inspect.signature(ContribTRPO.__init__).parameters.items():
        assert name in ours, name
        assert ours[name].default == param.default, name
    assert ours["ent_coef"].default == 0.0 and ours["use_line_search"].default is True


def test_registered_under_its_rl_zoo_key():
    assert ALGORITHMS["trpo_notes"] is TRPO


@pytest.mark.parametrize(
    "name, value",
    [
        ("target_kl", 0.0),
        ("target_kl", -0.01),
        ("cg_max_steps", 0),
        ("cg_damping", -1e-3),
        ("line_search_shrinking_factor", 0.0),
        ("line_search_shrinking_factor", 1.0),
        ("line_search_shrinking_factor", 1.5),
        ("line_search_max_iter", 0),
        ("n_critic_updates", 0),
        ("sub_sampling_factor", 0),
        ("ent_coef", -0.1),
        ("batch_size", 0),
        ("gamma", 1.5),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(name, value):
    with pytest.raises(ValueError, match=f"`{name}`={value!r}"):
        tiny_model(**{name: value})


@pytest.mark.parametrize("name, value", [("cg_max_steps", 2.5), ("use_line_search", "yes"), ("n_critic_updates", 1.0)])
def test_wrong_type_raises_type_error(name, value):
    with pytest.raises(TypeError, match=f"`{name}`"):
        tiny_model(**{name: value})


def test_sub_sampling_that_leaves_one_sample_cannot_normalise_advantages():
    with pytest.raises(ValueError, match="sub_sampling_factor"):
        tiny_model(n_steps=4, batch_size=4, sub_sampling_factor=4)


# ----------------------------------------------------------------------------------------------------------------
# Actor / critic split by module, checked against the graph


class LinearExtractor(BaseFeaturesExtractor):
    """A features extractor with parameters (a flatten extractor has none)."""

    def __init__(self, observation_space: spaces.Box, features_dim: int = 8):
        super().__init__(observation_space, features_dim)
        self.linear = nn.Linear(int(np.prod(observation_space.shape)), features_dim)

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return th.tanh(self.linear(observations))


class TwoTowers(nn.Module):
    """A custom mlp_extractor with no ``policy_net``/``value_net``, whose actor tower has "value" in its name."""

    def __init__(self, feature_dim: int):
        super().__init__()
        self.value_features_for_actor = nn.Linear(feature_dim, 8)
        self.critic_tower = nn.Linear(feature_dim, 8)
        self.latent_dim_pi = self.latent_dim_vf = 8

    def forward(self, features):
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features):
        return th.tanh(self.value_features_for_actor(features))

    def forward_critic(self, features):
        return th.tanh(self.critic_tower(features))


class TwoTowersPolicy(ActorCriticPolicy):
    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = TwoTowers(self.features_dim)


def graph_split(policy: ActorCriticPolicy, obs: th.Tensor) -> tuple[set[int], set[int]]:
    """Reference split: the actor's parameters are those the action distribution depends on; the critic's are
    the remaining ones the value depends on."""
    params = list(policy.parameters())
    dist_params = distribution_params(policy.get_distribution(obs))
    out = dist_params.first.sum() + (0 if dist_params.second is None else dist_params.second.sum())
    used_pi = th.autograd.grad(out, params, allow_unused=True)
    used_vf = th.autograd.grad(policy.predict_values(obs).sum(), params, allow_unused=True)
    actor = {id(p) for p, g in zip(params, used_pi, strict=True) if g is not None}
    critic = {id(p) for p, g in zip(params, used_vf, strict=True) if g is not None} - actor
    return actor, critic


@pytest.mark.parametrize(
    "env_id, kwargs",
    [
        ("CartPole-v1", {}),
        ("Pendulum-v1", {}),
        ("Pendulum-v1", dict(use_sde=True)),
        ("CartPole-v1", dict(policy_kwargs=dict(features_extractor_class=LinearExtractor, share_features_extractor=False))),
        ("CartPole-v1", dict(policy_kwargs=dict(features_extractor_class=LinearExtractor, share_features_extractor=True))),
    ],
)
def test_actor_critic_split_by_module_matches_the_graph(env_id, kwargs):
    model = tiny_model(env_id, **kwargs)
    actor, critic = actor_critic_parameters(model.policy)
    obs = th.randn(5, *model.observation_space.shape)
    expected_actor, expected_critic = graph_split(model.policy, obs)
    assert {id(p) for p in actor} == expected_actor
    assert {id(p) for p in critic} == expected_critic
    assert len(actor) + len(critic) == len(list(model.policy.parameters()))


def test_shared_features_extractor_belongs_to_the_actor():
    kwargs = dict(policy_kwargs=dict(features_extractor_class=LinearExtractor, share_features_extractor=True))
    model = tiny_model(**kwargs)
    actor, _ = actor_critic_parameters(model.policy)
    assert all(any(p is q for q in actor) for p in model.policy.features_extractor.parameters())


def test_custom_mlp_extractor_is_split_by_the_graph_not_by_names():
    model = TRPO(TwoTowersPolicy, "CartPole-v1", seed=0, **SMALL)
    actor, critic = actor_critic_parameters(model.policy)
    towers = model.policy.mlp_extractor
    assert all(any(p is q for q in actor) for p in towers.value_features_for_actor.parameters())
    assert all(any(p is q for q in critic) for p in towers.critic_tower.parameters())
    expected_actor, expected_critic = graph_split(model.policy, th.randn(5, 4))
    assert {id(p) for p in actor} == expected_actor and {id(p) for p in critic} == expected_critic
    model.learn(128)  # sb3-contrib would treat value_features_for_actor as the critic's


def test_a_parameter_of_neither_part_is_refused():
    class WithOrphan(ActorCriticPolicy):
        def _build(self, lr_schedule) -> None:
            super()._build(lr_schedule)
            self.orphan = nn.Parameter(th.zeros(1))

    with pytest.raises(ValueError, match="orphan"):
        TRPO(WithOrphan, "CartPole-v1", **SMALL)


def test_critic_updates_never_touch_the_actor():
    # Shared extractor: the value loss has a gradient for it, which the critic must not use
    kwargs = dict(policy_kwargs=dict(features_extractor_class=LinearExtractor, share_features_extractor=True))
    model = tiny_model(**kwargs)
    model.learn(64)  # fills the rollout buffer (and takes one update)
    actor, critic = actor_critic_parameters(model.policy)
    actor_before = [p.detach().clone() for p in actor]
    critic_before = [p.detach().clone() for p in critic]
    data = next(iter(model.rollout_buffer.get(None)))
    model._fit_critic(critic, data.observations, data.returns)
    assert all(th.equal(p, q) for p, q in zip(actor, actor_before, strict=True))
    assert all(p.grad is None for p in actor)
    assert any(not th.equal(p, q) for p, q in zip(critic, critic_before, strict=True))
    # and the critic's optimizer holds exactly the critic's parameters
    optimized = {id(p) for group in model.policy.optimizer.param_groups for p in group["params"]}
    assert optimized == {id(p) for p in critic}


# ----------------------------------------------------------------------------------------------------------------
# The trust-region step


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_accepted_steps_respect_the_trust_region_and_rejected_ones_restore_every_bit(env_id):
    # One try with a generous radius: the quadratic model is often wrong, so both outcomes occur
    model = tiny_model(env_id, line_search_max_iter=1, target_kl=0.05, cg_damping=1e-3)
    actor, _ = actor_critic_parameters(model.policy)
    gen = th.Generator().manual_seed(1)
    outcomes = []
    for _ in range(30):
        obs, actions, log_prob, advantages = random_batch(model, gen)
        old, before = torch_distribution(model, obs), snapshot(model)
        step = model.policy_step(actor, obs, actions, log_prob, advantages)
        outcomes.append(step.accepted)
        if step.accepted:
            # KL(π_old ‖ π_new) by torch.distributions, independently of sb3_notes.common.kl
            kl = kl_divergence(old, torch_distribution(model, obs))
            mean_kl = (kl if kl.dim() == 1 else kl.sum(-1)).mean().item()
            assert mean_kl <= model.target_kl * (1 + 1e-5)
            assert step.kl == pytest.approx(mean_kl, rel=1e-4)
            assert step.surrogate_improvement > 0 and step.step_fraction == 1.0 and step.line_search_steps == 1
        else:
            assert unchanged(model, before)
            assert step.kl == 0 and step.surrogate_improvement == 0 and step.step_fraction == 0
    assert 5 <= sum(outcomes) <= 25, outcomes  # both cases were exercised


def test_line_search_backtracks_by_the_shrinking_factor():
    model = tiny_model(line_search_max_iter=10, target_kl=0.05, cg_damping=1e-3, line_search_shrinking_factor=0.5)
    actor, _ = actor_critic_parameters(model.policy)
    gen = th.Generator().manual_seed(1)
    fractions = []
    for _ in range(20):
        step = model.policy_step(actor, *random_batch(model, gen))
        assert step.accepted
        assert step.step_fraction == 0.5 ** (step.line_search_steps - 1)
        assert step.kl <= model.target_kl
        fractions.append(step.step_fraction)
    assert min(fractions) < 1.0  # some needed backtracking


def test_natural_gradient_mode_takes_the_full_step_of_the_quadratic_model():
    # Tiny policy, so that the full Hessian of the mean KL (the Fisher matrix) can be formed independently
    model = tiny_model(
        use_line_search=False, target_kl=1e-3, cg_damping=0.05, cg_max_steps=100, policy_kwargs=dict(net_arch=[8])
    )
    actor, _ = actor_critic_parameters(model.policy)
    names = {id(p): n for n, p in model.policy.named_parameters()}
    actor_names = [names[id(p)] for p in actor]
    obs, actions, log_prob, advantages = random_batch(model, th.Generator().manual_seed(2))
    theta_old = th.cat([p.detach().reshape(-1) for p in actor])
    with th.no_grad():
        params = distribution_params(model.policy.get_distribution(obs))

    class MeanKL(nn.Module):
        def __init__(self, policy: ActorCriticPolicy):
            super().__init__()
            self.policy = policy

        def forward(self, obs: th.Tensor) -> th.Tensor:
            return analytic_kl(DistributionParams(params.first), self.policy.get_distribution(obs)).mean()

    def mean_kl(theta: th.Tensor) -> th.Tensor:
        chunks = th.split(theta, [p.numel() for p in actor])
        values = {f"policy.{n}": c.view_as(p) for n, c, p in zip(actor_names, chunks, actor, strict=True)}
        return th.func.functional_call(MeanKL(model.policy), values, (obs,))

    fisher = hessian(mean_kl, theta_old)
    step = model.policy_step(actor, obs, actions, log_prob, advantages)
    delta = th.cat([p.detach().reshape(-1) for p in actor]) - theta_old
    assert step.accepted and step.line_search_steps == 0 and step.step_fraction == 1.0
    # ½ Δθᵀ(F + λI)Δθ = δ: the maximal step sqrt(2δ / sᵀ(F+λI)s)·s, whatever s conjugate gradient returned
    quadratic = 0.5 * delta @ (fisher @ delta + model.cg_damping * delta)
    assert quadratic.item() == pytest.approx(model.target_kl, rel=1e-3)


def test_nan_advantages_raise_before_the_actor_moves():
    model = tiny_model()
    actor, _ = actor_critic_parameters(model.policy)
    obs, actions, log_prob, advantages = random_batch(model, th.Generator().manual_seed(0))
    advantages[3] = float("nan")
    before = snapshot(model)
    with pytest.raises(FloatingPointError, match=r"TRPO update 1: non-finite surrogate=nan; the weights were not changed"):
        model.policy_step(actor, obs, actions, log_prob, advantages)
    assert unchanged(model, before)


def test_non_finite_sfs_raises_before_the_actor_moves(monkeypatch):
    def broken_solver(fvp, b, max_steps):
        return th.full_like(b, float("inf")), th.tensor(0.0)

    monkeypatch.setattr(trpo_module, "conjugate_gradient", broken_solver)
    model = tiny_model()
    actor, _ = actor_critic_parameters(model.policy)
    before = snapshot(model)
    with pytest.raises(FloatingPointError, match=r"non-finite sFs=(nan|inf)"):
        model.policy_step(actor, *random_batch(model, th.Generator().manual_seed(0)))
    assert unchanged(model, before)


def test_surrogate_with_entropy_bonus_by_hand():
    model = tiny_model(ent_coef=0.5)
    obs, actions, _, advantages = random_batch(model, th.Generator().manual_seed(0), n=6)
    old_log_prob = th.log(th.full((6,), 0.4))
    dist = model.policy.get_distribution(obs)
    logits = dist.distribution.logits.detach()
    p = th.softmax(logits, -1)
    ratio = p[th.arange(6), actions] / 0.4
    entropy = -(p * th.log(p)).sum(-1)
    expected = (ratio * advantages).mean() + 0.5 * entropy.mean()
    th.testing.assert_close(model._surrogate(dist, actions, old_log_prob, advantages).detach(), expected)


# ----------------------------------------------------------------------------------------------------------------
# Training: Dict observations with sub-sampling, logger keys, learning


class DictCartPole(gym.ObservationWrapper):
    def __init__(self, env: gym.Env):
        super().__init__(env)
        box = spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.observation_space = spaces.Dict({"position": box, "velocity": box})

    def observation(self, observation):
        return {"position": observation[[0, 2]], "velocity": observation[[1, 3]]}


def test_dict_observations_train_with_sub_sampling():
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, wrapper_class=DictCartPole)
    model = TRPO("MultiInputPolicy", env, seed=0, sub_sampling_factor=2, n_steps=32, batch_size=32, device="cpu")
    sizes, accepted = [], []
    policy_step = model.policy_step

    def recording_step(actor, observations, actions, *args):
        sizes.append({key: len(obs) for key, obs in observations.items()})
        step = policy_step(actor, observations, actions, *args)
        accepted.append(step.accepted)
        return step

    model.policy_step = recording_step  # type: ignore[method-assign]
    before = snapshot(model)
    model.learn(128)
    assert sizes == [{"position": 32, "velocity": 32}] * 2  # half of n_steps * n_envs = 64
    assert any(accepted) and not unchanged(model, before)


def test_logs_every_trpo_metric(tmp_path):
    model = tiny_model()
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(192)
    frame = pd.read_csv(tmp_path / "progress.csv")
    frame = frame[frame["train/n_updates"].notna()]  # SB3 writes the first row before the first update
    assert len(frame) == 2
    keys = [
        "kl",
        "surrogate_improvement",
        "expected_improvement",
        "line_search_steps",
        "step_fraction",
        "cg_residual",
        "value_loss",
        "explained_variance",
        "is_line_search_success",
    ]
    for key in keys:
        assert frame[f"train/{key}"].notna().all(), key
    assert (frame["train/kl"] <= model.target_kl).all()


@pytest.mark.slow
def test_cartpole_reaches_195():
    # The shipped entry (RL Zoo's trpo.yml CartPole-v1 settings), 40% of its budget (about 10 s on one core)
    settings = shipped_settings("trpo_notes", "CartPole-v1")
    model = TRPO(settings.policy, settings.make_env(seed=0), seed=0, device="cpu", **settings.kwargs)
    model.learn(settings.n_timesteps * 2 // 5)
    mean_return, _ = evaluate_policy(model, make_vec_env("CartPole-v1", n_envs=1, seed=100), n_eval_episodes=10)
    assert mean_return >= 195
