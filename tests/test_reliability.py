"""What an independent audit found, each as a test that failed before its fix: KL rounding, loading (paths with
dots, foreign files, overrides), TRPO's line search, one policy for non-finite numbers, schedules checked where they
are used, NumPy scalars, tabular observations outside the space, and SB3 releases the fast path was not tested on."""

import json
import math
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import stable_baselines3
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import IdentityEnvMultiBinary
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_notes import ALGORITHMS, REINFORCE, TRPO, PPOPenalty, QLearning, demo
from sb3_notes.common.kl_coef import adapt_kl_coef
from sb3_notes.common.save_util import SAVED_BY_KEY
from sb3_notes.on_policy import lean_policy
from sb3_notes.on_policy.lean_policy import fast_rollout_fallback_reason
from sb3_notes.on_policy.updates import flat_rollout

SMALL = dict(n_steps=32, batch_size=32, n_epochs=2)
DEEP = ("ppo_penalty", "trpo_notes", "reinforce")
TABULAR = ("qlearning", "sarsa", "expected_sarsa", "double_qlearning")
SMALL_BY_KEY = {
    "ppo_penalty": SMALL,
    "trpo_notes": dict(n_steps=32, batch_size=32, n_critic_updates=2, cg_max_steps=5),
    "reinforce": dict(n_episodes=2),
}


def params_of(model) -> list[th.Tensor]:
    return [p.detach().clone() for p in model.policy.parameters()] + [b.clone() for b in model.policy.buffers()]


def flat(model) -> np.ndarray:
    return th.nn.utils.parameters_to_vector(model.policy.parameters()).detach().numpy()


# --- 1. KL rounding -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kl", [-8.87e-10, -1e-6, -0.0])
def test_a_kl_negative_only_by_rounding_counts_as_zero(kl):
    assert adapt_kl_coef(1.0, kl, 0.01) == 0.5  # KL 0 < target / 1.5: β halves


@pytest.mark.parametrize("kl", [float("nan"), -1.1e-6, -0.1])
def test_a_nan_or_truly_negative_kl_is_still_refused(kl):
    with pytest.raises(ValueError, match="kl"):
        adapt_kl_coef(1.0, kl, 0.01)


@pytest.mark.parametrize(
    "env",
    [
        lambda: make_vec_env("CartPole-v1", n_envs=2, seed=0),  # Categorical
        lambda: make_vec_env(lambda: IdentityEnvMultiBinary(4), n_envs=2, seed=0),  # Bernoulli
        lambda: make_vec_env("Pendulum-v1", n_envs=2, seed=0),  # Gaussian
    ],
    ids=["categorical", "bernoulli", "gaussian"],
)
@pytest.mark.parametrize("learning_rate", [0.0, 1e-8])
def test_a_policy_that_does_not_move_trains_on_with_kl_zero(env, learning_rate):
    model = PPOPenalty("MlpPolicy", env(), learning_rate=learning_rate, seed=1, **SMALL).learn(3 * 64)
    assert model._n_updates == 3 * 2
    assert 0.0 <= model.logger.name_to_value["train/kl"] < 1e-6


def test_rl_zoos_linear_schedule_does_not_go_negative_on_the_last_rollout():
    # The audit's run: budget 3071 with rollouts of 512 steps; SB3's progress reaches -1/3071 on the last update
    lrs = []

    def lin(progress: float) -> float:
        lrs.append(3e-4 * progress)
        return lrs[-1]

    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = PPOPenalty("MlpPolicy", env, n_steps=256, learning_rate=lin, seed=0).learn(6 * 512 - 1)
    assert model._current_progress_remaining == 0.0
    assert min(lrs) == 0.0 and model.logger.name_to_value["train/learning_rate"] == 0.0


# --- 2. load() of a name with dots -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(ALGORITHMS))
def test_load_finds_a_dotted_name_by_appending_zip_as_sb3_does(key, tmp_path):
    cls = ALGORITHMS[key]
    env = "FrozenLake-v1" if key in TABULAR else "CartPole-v1"
    model = cls(next(iter(cls.policy_aliases)), env, seed=0, **SMALL_BY_KEY.get(key, {}))
    model.save(tmp_path / "run_lr3e-4.seed1.zip")
    loaded = cls.load(str(tmp_path / "run_lr3e-4.seed1"))
    for a, b in zip(params_of(model), params_of(loaded), strict=True):
        assert th.equal(a, b)


def test_sb3_itself_finds_the_same_dotted_name(tmp_path):
    PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32).save(tmp_path / "ppo.seed1.zip")
    PPO.load(str(tmp_path / "ppo.seed1"))  # the behaviour ours now matches


# --- 3. TRPO's line search -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["target_kl", "cg_damping", "line_search_shrinking_factor", "learning_rate"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_trpo_refuses_non_finite_hyperparameters(name, value):
    with pytest.raises(ValueError, match=name):
        TRPO("MlpPolicy", "CartPole-v1", **{name: value})


def test_trpo_line_search_restores_the_actor_even_when_a_candidate_raises():
    model = TRPO("MlpPolicy", "CartPole-v1", seed=0, n_steps=64, batch_size=64)
    model.learn(64)  # a first update, so that the next rollout's data is real
    before = params_of(model)
    calls = {"n": 0}
    original = model.policy.get_distribution

    def failing_after_the_first(obs):  # the first call builds π_old; every candidate of the search raises
        calls["n"] += 1
        if calls["n"] > 1:
            raise ValueError("Expected parameter logits to satisfy the constraint Real()")
        return original(obs)

    model.policy.get_distribution = failing_after_the_first  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="constraint"):
        model.train()
    assert calls["n"] == 2
    actor_and_critic = params_of(model)
    for a, b in zip(before, actor_and_critic, strict=True):
        assert th.equal(a, b)


def test_trpo_line_search_rejects_a_step_with_non_finite_parameters():
    model = TRPO("MlpPolicy", "CartPole-v1", seed=0, n_steps=64, batch_size=64, target_kl=1e30)  # finite, absurd
    model.learn(64)
    assert all(bool(th.isfinite(p).all()) for p in model.policy.parameters())


# --- 4. Loading validates --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ppo_penalty_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "ppop.zip"
    PPOPenalty("MlpPolicy", "CartPole-v1", seed=0, **SMALL).save(path)
    return path


@pytest.mark.parametrize("cls", [TRPO, REINFORCE, QLearning])
def test_a_file_saved_by_another_algorithm_is_refused_naming_both(cls, ppo_penalty_file):
    with pytest.raises(ValueError, match=rf"saved by PPOPenalty.*{cls.__name__}"):
        cls.load(ppo_penalty_file)


def without_marker(path, out):
    """The file as sb3-notes wrote it before models recorded their class."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            raw = src.read(item)
            if item.filename == "data":
                data = json.loads(raw)
                del data[SAVED_BY_KEY]
                raw = json.dumps(data).encode()
            dst.writestr(item, raw)
    return out


def test_an_older_file_without_the_marker_loads_into_its_class_and_is_refused_by_others(ppo_penalty_file, tmp_path):
    old = without_marker(ppo_penalty_file, tmp_path / "old.zip")
    assert PPOPenalty.load(old).kl_target == 0.01
    with pytest.raises(ValueError, match=r"saved by PPOPenalty, not by TRPO: it lacks TRPO's settings .*cg_damping"):
        TRPO.load(old)
    with pytest.raises(ValueError, match=r"not by REINFORCE: it lacks REINFORCE's settings .*n_episodes"):
        REINFORCE.load(old)


def test_an_sb3_ppo_file_is_refused_by_ppo_penalty(tmp_path):
    PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32).save(tmp_path / "ppo.zip")
    with pytest.raises(ValueError, match=r"by another algorithm, not by PPOPenalty: it lacks .*kl_coef.*set_parameters"):
        PPOPenalty.load(tmp_path / "ppo.zip")


@pytest.mark.parametrize(
    "cls, env, overrides, name",
    [
        (QLearning, "FrozenLake-v1", dict(learning_rate=5.0), "learning_rate"),
        (QLearning, "FrozenLake-v1", dict(gamma=np.nan), "gamma"),
        (PPOPenalty, "CartPole-v1", dict(kl_target=-1.0), "kl_target"),
        (TRPO, "CartPole-v1", dict(cg_damping=float("inf")), "cg_damping"),
        (REINFORCE, "CartPole-v1", dict(baseline="median"), "baseline"),
    ],
)
def test_load_runs_the_constructors_validation_on_its_overrides(cls, env, overrides, name, tmp_path):
    cls(next(iter(cls.policy_aliases)), env, seed=0).save(tmp_path / "m.zip")
    with pytest.raises((ValueError, TypeError), match=name):
        cls.load(tmp_path / "m.zip", **overrides)


# --- 5. One policy for non-finite data ---------------------------------------------------------------------


class Poisoned(gym.Wrapper):
    """Returns NaN as the reward, or in the observation, from step ``at`` of this env on."""

    def __init__(self, env, at: int, what: str):
        super().__init__(env)
        self.at, self.what, self.t = at, what, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        if self.t >= self.at:
            if self.what == "reward":
                reward = float("nan")
            else:
                obs = np.full_like(obs, np.nan)
        return obs, reward, terminated, truncated, info


def poisoned_env(env_id: str, what: str, n_envs: int = 2) -> DummyVecEnv:
    """Env 1 of ``n_envs`` is poisoned from its first step on: the VecEnv's step 1, i.e. ``num_timesteps`` 2."""
    return DummyVecEnv([lambda i=i: Poisoned(gym.make(env_id), at=1 if i == 1 else 10**9, what=what) for i in range(n_envs)])


@pytest.mark.parametrize("key", sorted(ALGORITHMS))
@pytest.mark.parametrize("fast", [True, False])
def test_a_nan_reward_raises_naming_algorithm_step_env_and_quantity_before_anything_changes(key, fast):
    cls = ALGORITHMS[key]
    if key in TABULAR:
        if not fast:
            pytest.skip("the tabular learners have no fast-path switch")
        model = cls("TabularPolicy", poisoned_env("FrozenLake-v1", "reward"), seed=0, initial_q=0.5)
    else:
        env = poisoned_env("CartPole-v1", "reward")
        model = cls("MlpPolicy", env, seed=0, fast_rollout=fast, **SMALL_BY_KEY[key])
    before = params_of(model)
    with pytest.raises(FloatingPointError, match=rf"{cls.__name__} step 2: env 1 returned a non-finite reward \(nan\)"):
        model.learn(200)
    for a, b in zip(before, params_of(model), strict=True):
        assert th.equal(a, b)


@pytest.mark.parametrize("key", DEEP)
@pytest.mark.parametrize("fast", [True, False])
def test_a_nan_observation_raises_before_the_policy_acts_on_it(key, fast):
    cls = ALGORITHMS[key]
    model = cls("MlpPolicy", poisoned_env("Pendulum-v1", "observation"), seed=0, fast_rollout=fast, **SMALL_BY_KEY[key])
    with pytest.raises(FloatingPointError, match=rf"{cls.__name__} step 2: env 1 returned a non-finite observation"):
        model.learn(200)


@pytest.mark.parametrize("key", DEEP)
def test_a_non_finite_loss_raises_before_the_weights_change(key):
    class HugeReward(gym.Wrapper):  # finite rewards whose squared errors overflow float32
        def step(self, action):
            obs, _, terminated, truncated, info = self.env.step(action)
            return obs, 1e30, terminated, truncated, info

    cls = ALGORITHMS[key]
    env = make_vec_env("CartPole-v1", n_envs=1, wrapper_class=HugeReward)
    kwargs = dict(SMALL_BY_KEY[key], normalize_advantage=False) if key != "reinforce" else SMALL_BY_KEY[key]
    model = cls("MlpPolicy", env, seed=0, **kwargs)
    before = params_of(model)
    with pytest.raises(FloatingPointError, match=rf"{cls.__name__} update 1: non-finite .*(loss|gradient|grad_norm|sFs)"):
        model.learn(300)
    if key != "trpo_notes":  # TRPO's actor may have taken its (finite) step before the critic's loss overflowed
        for a, b in zip(before, params_of(model), strict=True):
            assert th.equal(a, b)


# --- 6. Schedules checked where they are used ---------------------------------------------------------------------


def test_a_schedule_that_leaves_its_range_mid_training_raises_naming_argument_progress_and_value():
    def cosine(progress: float) -> float:
        return 1e-3 * math.cos(2 * math.pi * progress)  # 1e-3 at progress 1 and 0, negative in between

    model = PPOPenalty("MlpPolicy", "CartPole-v1", learning_rate=cosine, seed=0, **SMALL)
    with pytest.raises(
        ValueError, match=r"learning_rate\(progress_remaining=0\.\d+\)`=-\d.*out of range; accepted: \[0, inf\)"
    ):
        model.learn(320)


def test_a_tabular_step_size_schedule_is_checked_at_every_step():
    model = QLearning("TabularPolicy", "FrozenLake-v1", learning_rate=lambda p: 0.1 if p > 0.5 or p == 0 else -0.5)
    with pytest.raises(
        ValueError, match=r"learning_rate\(progress_remaining=0\.\d+\)`=-0\.5 is out of range; accepted: \[0, 1\]"
    ):
        model.learn(1000)


def test_a_clip_range_schedule_is_checked_where_used():
    model = PPOPenalty("MlpPolicy", "CartPole-v1", clip_range=lambda p: 0.2 if p in (0.0, 1.0) else 0.0, seed=0, **SMALL)
    with pytest.raises(ValueError, match=r"clip_range\(progress_remaining="):
        model.learn(64)


# --- 7. NumPy scalars --------------------------------------------------------------------------------------------


def test_numpy_scalars_are_accepted_as_sb3_accepts_them():
    TRPO("MlpPolicy", "CartPole-v1", target_kl=np.float32(0.01), n_steps=np.int64(64), batch_size=np.int32(32))
    model = PPOPenalty("MlpPolicy", "CartPole-v1", n_steps=np.int64(64), batch_size=np.int64(32), gamma=np.float64(0.9))
    model.learn(64)
    QLearning("TabularPolicy", "FrozenLake-v1", gamma=np.float32(0.9), learning_starts=np.uint8(3))
    REINFORCE("MlpPolicy", "CartPole-v1", n_episodes=np.int16(2), gamma=np.float16(0.5))


@pytest.mark.parametrize("value", [True, np.bool_(True)])
def test_a_bool_is_still_not_a_number(value):
    with pytest.raises(TypeError, match="n_steps"):
        PPOPenalty("MlpPolicy", "CartPole-v1", n_steps=value)
    with pytest.raises(TypeError, match="gamma"):
        QLearning("TabularPolicy", "FrozenLake-v1", gamma=value)


# --- 8. Tabular observations outside the space ------------------------------------------------------------------


class ShiftedStates(gym.ObservationWrapper):
    """FrozenLake's states 0..15 declared as Discrete(16, start=1): state 0 is outside the space."""

    def __init__(self, env):
        super().__init__(env)
        self.observation_space = gym.spaces.Discrete(16, start=1)

    def observation(self, observation):
        return observation


@pytest.mark.parametrize("n_envs", [1, 2])
def test_a_tabular_observation_outside_the_space_is_a_clear_error(n_envs):
    env = make_vec_env("FrozenLake-v1", n_envs=n_envs, wrapper_class=ShiftedStates)
    model = QLearning("TabularPolicy", env, seed=0)
    table = model.policy.q_table.clone()
    with pytest.raises(ValueError, match=r"QLearning step 0: Observation .*0.* is not in the observation space Discrete"):
        model.learn(100)
    assert th.equal(model.policy.q_table, table)


# --- 9. Smaller ones ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_envs", ["1", "2"])
def test_demo_runs_with_fewer_envs(n_envs, tmp_path):
    mean = demo.main(["--timesteps", "128", "--n-envs", n_envs, "--eval-episodes", "1", "--out", str(tmp_path)])
    assert mean >= 1


def test_ppo_penalty_refuses_a_non_bool_normalize_advantage():
    with pytest.raises(TypeError, match="normalize_advantage"):
        PPOPenalty("MlpPolicy", "CartPole-v1", normalize_advantage="no")


@pytest.mark.parametrize("bounds", [("a", "b"), (1e-6,), 0.5, (0.0, 1.0), (1.0, 0.5), (float("nan"), 1.0)])
def test_kl_coef_bounds_are_checked_with_a_clear_message(bounds):
    with pytest.raises((TypeError, ValueError), match="kl_coef_bounds"):
        PPOPenalty("MlpPolicy", "CartPole-v1", kl_coef_bounds=bounds)


def test_kl_coef_bounds_may_leave_beta_unbounded_above():
    assert PPOPenalty("MlpPolicy", "CartPole-v1", kl_coef_bounds=(1e-6, float("inf"))).kl_coef_bounds[1] == math.inf


class FixedLength(gym.Env):
    observation_space = gym.spaces.Box(-1, 1, (1,))
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length: int):
        self.length, self.t = length, 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(1, dtype=np.float32), 1.0, self.t >= self.length, False, {}


@pytest.mark.parametrize("length, raises", [(50, False), (51, True)])
def test_reinforce_max_episode_steps_is_a_strict_cap(length, raises):
    model = REINFORCE("MlpPolicy", make_vec_env(lambda: FixedLength(length)), n_episodes=2, max_episode_steps=50)
    if raises:
        with pytest.raises(RuntimeError, match="51 steps, more than max_episode_steps=50"):
            model.learn(200)
    else:
        assert model.learn(200).num_timesteps >= 200


def test_reinforce_refuses_gsde_in_policy_kwargs_with_a_clear_message():
    with pytest.raises(ValueError, match=r"use_sde.*REINFORCE does not support gSDE"):
        REINFORCE("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(use_sde=True))


# --- 10. SB3 releases the fast path was not tested on --------------------------------------------------------------


def test_an_untested_sb3_release_falls_back_to_sb3s_loop_with_one_warning(monkeypatch):
    monkeypatch.setattr(stable_baselines3, "__version__", "2.99.0")
    monkeypatch.setattr(lean_policy, "_warned_untested", set())
    model = PPOPenalty("MlpPolicy", "CartPole-v1", seed=0, **SMALL)
    with pytest.warns(UserWarning, match="tested with stable-baselines3 2.9.x, not 2.99.0") as record:
        model.learn(64)
        assert "2.99.0" in str(fast_rollout_fallback_reason(model))
    assert len([w for w in record if "2.99.0" in str(w.message)]) == 1
    assert model.fast_path_taken is False


def test_the_installed_sb3_release_is_a_tested_one():
    assert ".".join(stable_baselines3.__version__.split(".")[:2]) in lean_policy.TESTED_SB3_RELEASES


# --- Exact parity with SB3's PPO ---------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("fast", [False, True])
def test_clipping_without_penalty_is_sb3s_ppo_step_for_step(env_id, fast):
    def trained(cls, **extra):
        env = make_vec_env(env_id, n_envs=2, seed=3)
        model = cls("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=4, seed=3, device="cpu", **extra)
        return model.learn(2048)

    ppo = trained(PPO)
    ours = trained(PPOPenalty, clip_range=0.2, kl_coef=0.0, kl_adaptive=False, fast_rollout=fast)
    assert ours.fast_path_taken is fast
    np.testing.assert_allclose(flat(ours), flat(ppo), rtol=0, atol=1e-5)
    if not fast:  # SB3's own rollout and the same random numbers: bit for bit
        np.testing.assert_array_equal(flat(ours), flat(ppo))


def test_parity_survives_a_buffer_read_between_updates():
    # flat_rollout must leave NumPy's generator where SB3's get() would find it
    model = PPOPenalty("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, seed=0)
    model.learn(64)
    before = np.random.get_state()[1].copy()
    data = flat_rollout(model.rollout_buffer)
    assert np.array_equal(np.random.get_state()[1], before)
    # and the batch is in the buffer's own order (env-major, as SB3 flattens it)
    expected = th.as_tensor(model.rollout_buffer.observations.reshape(64, -1))
    assert th.equal(data.observations.reshape(64, -1), expected)


def test_custom_objects_are_placeholders_not_settings(tmp_path):
    # RL Zoo's enjoy loads with clip_range=lambda _: 0.0 for prediction; that is not a setting to validate
    PPOPenalty("MlpPolicy", "CartPole-v1", clip_range=0.2, seed=0, **SMALL).save(tmp_path / "m.zip")
    custom = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0}
    model = PPOPenalty.load(tmp_path / "m.zip", custom_objects=custom)
    assert model.predict(np.zeros(4, dtype=np.float32))[0].shape == ()
    with pytest.raises(ValueError, match="clip_range"):  # and it is still checked where it is used
        model.clip_range(1.0)
    with pytest.raises(ValueError, match="kl_target"):
        PPOPenalty.load(tmp_path / "m.zip", custom_objects=custom, kl_target=0.0)


class TupleActions(gym.Env):
    observation_space = gym.spaces.Discrete(3)
    action_space = gym.spaces.Tuple((gym.spaces.Discrete(2), gym.spaces.Discrete(2)))

    def reset(self, seed=None, options=None):
        return 0, {}

    def step(self, action):
        return 0, 0.0, True, False, {}


@pytest.mark.parametrize("key", sorted(ALGORITHMS))
def test_every_algorithm_refuses_an_unsupported_action_space_the_same_way(key):
    cls = ALGORITHMS[key]
    with pytest.raises(ValueError, match=r"`action_space`=Tuple\(Discrete\(2\), Discrete\(2\)\) is not supported; accepted: "):
        cls(next(iter(cls.policy_aliases)), DummyVecEnv([TupleActions]))
    assert cls.supported_action_spaces, "declared as a class attribute"
