"""The SB3 contract, checked for every algorithm of ``sb3_notes.ALGORITHMS``.

An algorithm joins this suite by joining the registry and the table ``CONTRACT`` below (its test env and small
settings); the suite uses the first of its ``policy_aliases``. The deep algorithms also get rows for image
observations (CnnPolicy), Dict observations (MultiInputPolicy), train/eval mode and gSDE.
"""

import copy
import io
import math
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch as th
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnRewardThreshold,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import FakeImageEnv
from stable_baselines3.common.logger import configure
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

from sb3_notes import ALGORITHMS
from sb3_notes.on_policy.lean_policy import fast_rollout_fallback_reason


@dataclass(frozen=True)
class Row:
    """An algorithm's test env and small settings (a fraction of a second per run)."""

    env_id: str
    kwargs: dict = field(default_factory=dict)


ON_POLICY_SMALL = dict(n_steps=32, batch_size=32)
TABULAR_SMALL = dict(learning_starts=0, initial_q=1.0)  # optimistic: a table is updated before the first reward
# Registry key -> test env and small settings: every key must be here (an unknown or missing key fails below), and a
# misspelt setting fails at construction instead of being dropped.
CONTRACT: dict[str, Row] = {
    "ppo_penalty": Row("CartPole-v1", dict(ON_POLICY_SMALL, n_epochs=2)),
    "trpo_notes": Row("CartPole-v1", dict(ON_POLICY_SMALL, n_critic_updates=2, cg_max_steps=5)),
    "reinforce": Row("CartPole-v1", dict(n_episodes=2)),
    "qlearning": Row("FrozenLake-v1", TABULAR_SMALL),
    "sarsa": Row("FrozenLake-v1", TABULAR_SMALL),
    "expected_sarsa": Row("FrozenLake-v1", TABULAR_SMALL),
    "double_qlearning": Row("FrozenLake-v1", TABULAR_SMALL),
}
DEEP_KEYS = sorted(key for key, row in CONTRACT.items() if row.env_id != "FrozenLake-v1")
STEPS = 300
KEYS = sorted(ALGORITHMS)
TABULAR_KEYS = {key for key, cls in ALGORITHMS.items() if cls.policy_aliases.keys() == {"TabularPolicy"}}


def test_the_contract_table_lists_exactly_the_registry():
    assert set(CONTRACT) == set(ALGORITHMS), (
        f"add a row for {set(ALGORITHMS) - set(CONTRACT)}; drop {set(CONTRACT) - set(ALGORITHMS)}"
    )


def small_kwargs(cls: type[BaseAlgorithm]) -> dict:
    return dict(CONTRACT[next(key for key, c in ALGORITHMS.items() if c is cls)].kwargs)


def env_id_for(key: str) -> str:
    return CONTRACT[key].env_id


def policy_name(cls: type[BaseAlgorithm]) -> str:
    return next(iter(cls.policy_aliases))


def make_model(key: str, env=None, n_envs: int = 1, seed: int | None = 0, **kwargs) -> BaseAlgorithm:
    cls = ALGORITHMS[key]
    if env is None:
        env = make_vec_env(env_id_for(key), n_envs=n_envs, seed=seed)
    return cls(policy_name(cls), env, seed=seed, device="cpu", **{**CONTRACT[key].kwargs, **kwargs})


def sample_observations(model: BaseAlgorithm, n: int) -> np.ndarray:
    space = model.observation_space
    space.seed(123)
    return np.stack([space.sample() for _ in range(n)])


def state_snapshot(model: BaseAlgorithm) -> dict:
    """Every plain piece of algorithm state that ``save`` writes (numbers, strings, arrays, tuples of them)."""
    excluded = set(model._excluded_save_params())
    snapshot = {}
    for name, value in vars(model).items():
        if name in excluded or name.startswith("__"):
            continue
        if isinstance(value, (bool, int, float, str, np.ndarray, np.generic)):
            snapshot[name] = value
        elif isinstance(value, (tuple, list)) and all(isinstance(v, (int, float, str)) for v in value):
            snapshot[name] = tuple(value)  # JSON turns tuples into lists; the content is what must survive
    return snapshot


def assert_same_state(a: dict, b: dict) -> None:
    missing = a.keys() - b.keys()
    assert not missing, f"not restored: {missing}"
    for name in a:
        va, vb = a[name], b[name]
        if isinstance(va, (np.ndarray, np.generic)):
            np.testing.assert_array_equal(va, vb, err_msg=name)
        elif isinstance(va, float) and math.isnan(va):
            assert math.isnan(vb), name
        else:
            assert va == vb, f"{name}: {va!r} != {vb!r}"


def leaves(tree, prefix: str = ""):
    """(path, value) for every leaf of nested dicts/lists, such as ``get_parameters()`` with optimizer state."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from leaves(v, f"{prefix}/{k}")
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from leaves(v, f"{prefix}/{i}")
    else:
        yield prefix, tree


def same_leaf(a, b) -> bool:
    if isinstance(a, th.Tensor) or isinstance(b, th.Tensor):
        return th.equal(th.as_tensor(a), th.as_tensor(b))
    return bool(np.array_equal(a, b))


def assert_same_parameters(a: dict, b: dict) -> None:
    la, lb = dict(leaves(a)), dict(leaves(b))
    assert la.keys() == lb.keys()
    for name in la:
        assert same_leaf(la[name], lb[name]), name


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("n_envs", [1, 4])
def test_learn_on_dummy_vec_env(key, n_envs):
    model = make_model(key, n_envs=n_envs)
    model.learn(STEPS)
    assert model.num_timesteps >= STEPS
    assert model.env.num_envs == n_envs


@pytest.mark.parametrize("key", KEYS)
def test_learn_on_subproc_vec_env(key):
    env = make_vec_env(env_id_for(key), n_envs=2, seed=0, vec_env_cls=SubprocVecEnv)
    try:
        model = make_model(key, env=env)
        model.learn(STEPS)
        assert model.num_timesteps >= STEPS
    finally:
        env.close()


@pytest.mark.parametrize("key", KEYS)
def test_predict_shapes(key):
    model = make_model(key)
    single_env = gym.make(env_id_for(key))
    obs, _ = single_env.reset(seed=0)
    action_shape = model.action_space.shape
    for deterministic in (True, False):
        action, state = model.predict(obs, deterministic=deterministic)
        assert state is None
        assert np.shape(action) == action_shape
        assert model.action_space.contains(action.astype(model.action_space.dtype))
        batch = sample_observations(model, 5)
        actions, _ = model.predict(batch, deterministic=deterministic)
        assert actions.shape == (5, *action_shape)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("target", ["path", "bytes"])
def test_save_load_restores_predictions_and_state(key, target, tmp_path):
    model = make_model(key)
    model.learn(STEPS)
    obs = sample_observations(model, 16)
    expected, _ = model.predict(obs, deterministic=True)
    before = state_snapshot(model)

    if target == "path":
        where: str | io.BytesIO = str(tmp_path / "model.zip")
        model.save(where)
    else:
        where = io.BytesIO()
        model.save(where)
        where.seek(0)
    loaded = type(model).load(where, device="cpu")

    actual, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(actual, expected)
    assert_same_state(before, state_snapshot(loaded))
    assert_same_parameters(model.get_parameters(), loaded.get_parameters())


@pytest.mark.parametrize("key", KEYS)
def test_load_without_env_then_set_env_and_learn(key, tmp_path):
    model = make_model(key)
    model.learn(STEPS)
    model.save(tmp_path / "model.zip")
    loaded = type(model).load(tmp_path / "model.zip", env=None, device="cpu")
    assert loaded.env is None
    loaded.set_env(make_vec_env(env_id_for(key), n_envs=1, seed=1))  # SB3: same n_envs as saved
    steps_before = loaded.num_timesteps
    loaded.learn(STEPS, reset_num_timesteps=False)
    assert loaded.num_timesteps >= steps_before + STEPS


@pytest.mark.parametrize("key", KEYS)
def test_get_set_parameters_round_trip(key):
    model = make_model(key)
    saved = copy.deepcopy(model.get_parameters())  # state dicts share memory with the live weights
    model.learn(STEPS)
    trained = dict(leaves(model.get_parameters()))
    assert any(not same_leaf(v, trained[k]) for k, v in leaves(saved)), "learning changed no parameter"
    model.set_parameters(saved, exact_match=True)
    assert_same_parameters(model.get_parameters(), saved)


@pytest.mark.parametrize("key", KEYS)
def test_checkpoint_and_eval_callbacks(key, tmp_path):
    model = make_model(key)
    eval_env = make_vec_env(env_id_for(key), n_envs=1, seed=5)
    checkpoint = CheckpointCallback(save_freq=100, save_path=str(tmp_path / "ckpt"), name_prefix="m")
    evaluation = EvalCallback(eval_env, eval_freq=100, n_eval_episodes=2, log_path=str(tmp_path / "eval"))
    model.learn(STEPS, callback=[checkpoint, evaluation])
    checkpoints = sorted((tmp_path / "ckpt").glob("m_*_steps.zip"))
    assert checkpoints, "CheckpointCallback wrote nothing"
    type(model).load(checkpoints[-1], device="cpu")  # a checkpoint is a loadable model
    results = np.load(tmp_path / "eval" / "evaluations.npz")
    assert len(results["timesteps"]) >= 1
    assert results["results"].shape[1] == 2


@pytest.mark.parametrize("key", KEYS)
def test_stop_training_on_reward_threshold_stops(key):
    model = make_model(key)
    eval_env = make_vec_env(env_id_for(key), n_envs=1, seed=5)
    stop = StopTrainingOnRewardThreshold(reward_threshold=-np.inf, verbose=0)
    evaluation = EvalCallback(eval_env, eval_freq=50, n_eval_episodes=1, callback_on_new_best=stop)
    total = 20_000
    model.learn(total, callback=evaluation)
    assert model.num_timesteps < total / 4, "training did not stop"


@pytest.mark.parametrize("key", KEYS)
def test_same_seed_gives_same_parameters(key):
    params = []
    for _ in range(2):
        model = make_model(key, seed=42)
        model.learn(STEPS)
        params.append(model.get_parameters())
    assert_same_parameters(params[0], params[1])


class _Record(BaseCallback):
    def __init__(self):
        super().__init__()
        self.seen: list[tuple[int, float]] = []

    def _on_step(self) -> bool:
        self.seen.append((self.model.num_timesteps, self.model._current_progress_remaining))
        return True


@pytest.mark.parametrize("key", KEYS)
def test_learn_without_reset_continues_counters_and_schedules(key):
    model = make_model(key)
    model.learn(STEPS)
    first_end = model.num_timesteps
    record = _Record()
    model.learn(STEPS, reset_num_timesteps=False, callback=record)
    assert model.num_timesteps >= first_end + STEPS
    assert record.seen[0][0] > first_end, "num_timesteps restarted"
    # progress is measured against first_end + STEPS, so it starts near first_end / (first_end + STEPS) from the end
    assert max(progress for _, progress in record.seen) <= 1 - first_end / (first_end + STEPS) + 1e-6
    reset = _Record()
    model.learn(STEPS, reset_num_timesteps=True, callback=reset)
    assert reset.seen[0][0] <= 4 * model.env.num_envs * 32, "reset_num_timesteps=True did not reset"


@pytest.mark.parametrize("key", KEYS)
def test_logger_records_the_algorithms_metrics(key, tmp_path):
    model = make_model(key)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(2 * STEPS, log_interval=1)
    frame = pd.read_csv(tmp_path / "progress.csv")
    own = [c for c in frame.columns if c.startswith("train/") and c not in ("train/n_updates", "train/learning_rate")]
    assert own, f"no train/ metric of the algorithm in {list(frame.columns)}"
    assert frame[own].notna().any().all(), "a train/ metric was never written"
    assert "time/total_timesteps" in frame.columns


@pytest.mark.parametrize("key", KEYS)
def test_progress_bar(key):
    model = make_model(key)
    model.learn(STEPS, progress_bar=True)
    assert model.num_timesteps >= STEPS


@pytest.mark.parametrize("key", KEYS)
def test_vec_normalize_wrapping(key):
    venv = make_vec_env(env_id_for(key), n_envs=2, seed=0)
    norm_obs = isinstance(venv.observation_space, gym.spaces.Box)
    env = VecNormalize(venv, norm_obs=norm_obs, norm_reward=True)
    model = make_model(key, env=env)
    model.learn(STEPS)
    assert model.get_vec_normalize_env() is env
    assert env.ret_rms.count > 1


@pytest.mark.parametrize("key", KEYS)
def test_load_rejects_corrupt_files(key, tmp_path):
    model = make_model(key)
    path = tmp_path / "model.zip"
    model.save(path)
    raw = path.read_bytes()
    (tmp_path / "not_a_model.zip").write_text("hello")
    (tmp_path / "truncated.zip").write_bytes(raw[: len(raw) // 2])
    for bad in ("not_a_model.zip", "truncated.zip"):
        with pytest.raises(ValueError, match=r"not a saved model|corrupt"):
            type(model).load(tmp_path / bad)
    with pytest.raises(ValueError, match=r"not a saved model|corrupt"):
        type(model).load(io.BytesIO(raw[:-30]))


@pytest.mark.parametrize("key", KEYS)
def test_device_auto_follows_sb3(key):
    # SB3's rule for "auto", stated independently: CUDA when available, else the CPU
    expected = "cuda" if th.cuda.is_available() else "cpu"
    cls = ALGORITHMS[key]
    model = cls(policy_name(cls), env_id_for(key), device="auto", **small_kwargs(cls))
    assert model.device.type == expected
    tensors = [*model.policy.parameters(), *model.policy.buffers()]
    assert tensors, "every policy holds its weights or its table as tensors"
    # the weights live there too; a table always stays on the CPU, where its per-step NumPy update runs
    assert {t.device.type for t in tensors} == {"cpu" if key in TABULAR_KEYS else expected}


@pytest.mark.skipif(not th.cuda.is_available(), reason="CUDA is not available on this machine")
@pytest.mark.parametrize("key", KEYS)
def test_trains_on_cuda(key):
    cls = ALGORITHMS[key]
    model = cls(policy_name(cls), make_vec_env(env_id_for(key), n_envs=2), device="cuda", **small_kwargs(cls))
    model.learn(STEPS)
    assert model.num_timesteps >= STEPS
    obs = sample_observations(model, 4)
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape[0] == 4


def test_registry_keys_are_rl_zoo_names():
    for key, cls in ALGORITHMS.items():
        assert key == key.lower() and " " not in key
        assert issubclass(cls, BaseAlgorithm)
    assert ALGORITHMS["ppo_penalty"].__name__ == "PPOPenalty"


def test_dummy_vec_env_is_default():
    assert isinstance(make_vec_env("CartPole-v1", n_envs=1), DummyVecEnv)


# --- rows beyond the default env: images, Dict observations, train/eval mode, gSDE ---------------------------------


def image_env() -> gym.Env:
    env = FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=True)  # NatureCNN's smallest input
    env.observation_space.seed(0)
    return TimeLimit(env, 20)  # REINFORCE needs episodes that end


class DictCartPole(gym.ObservationWrapper):
    """CartPole's observation as a Dict of two Boxes: position and velocity."""

    def __init__(self, env):
        super().__init__(env)
        box = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.observation_space = gym.spaces.Dict({"position": box, "velocity": box})

    def observation(self, observation):
        return {"position": observation[[0, 2]], "velocity": observation[[1, 3]]}


@pytest.mark.parametrize("key", DEEP_KEYS)
@pytest.mark.parametrize(
    "policy, env_fn", [("CnnPolicy", image_env), ("MultiInputPolicy", lambda: DictCartPole(gym.make("CartPole-v1")))]
)
def test_image_and_dict_observations_learn_save_load_and_predict(key, policy, env_fn, tmp_path):
    cls = ALGORITHMS[key]
    model = cls(policy, make_vec_env(env_fn, n_envs=2, seed=0), seed=0, device="cpu", **CONTRACT[key].kwargs)
    model.learn(100)
    if key != "reinforce":  # SB3's own Cnn/MultiInput policies take the lean path (its extract_features branch)
        assert model.fast_path_taken is True
    obs = model.env.reset()
    actions, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "m.zip")
    loaded = cls.load(tmp_path / "m.zip")
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)


class ModeRecorder(FlattenExtractor):
    """SB3's flatten extractor that records, at every forward, whether the policy was in training mode."""

    calls: list = []

    def forward(self, observations):
        ModeRecorder.calls.append((self.training, th.is_grad_enabled()))
        return super().forward(observations)


@pytest.mark.parametrize("key", DEEP_KEYS)
def test_rollouts_run_in_eval_mode_and_gradient_steps_in_train_mode(key, monkeypatch):
    model = make_model(key, policy_kwargs=dict(features_extractor_class=ModeRecorder))
    phases: list = []
    collect = model.collect_rollouts if key != "reinforce" else model.collect_episodes

    def recorded_collect(*args, **kwargs):
        start = len(ModeRecorder.calls)
        result = collect(*args, **kwargs)
        phases.append(ModeRecorder.calls[start:])
        return result

    monkeypatch.setattr(model, "collect_rollouts" if key != "reinforce" else "collect_episodes", recorded_collect)
    ModeRecorder.calls = []
    model.learn(200)
    rollout_calls = [call for phase in phases for call in phase]
    assert rollout_calls and all(not training for training, _ in rollout_calls), "a rollout forward ran in train mode"
    gradient_calls = [training for training, grad in ModeRecorder.calls if grad]
    assert gradient_calls and all(gradient_calls), "a forward with gradients ran in eval mode"


@pytest.mark.parametrize("key", ["ppo_penalty", "trpo_notes"])
def test_gsde_learns_saves_and_loads_through_sb3s_rollout(key, tmp_path):
    cls = ALGORITHMS[key]
    env = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    model = cls("MlpPolicy", env, use_sde=True, sde_sample_freq=4, seed=0, device="cpu", **CONTRACT[key].kwargs)
    model.learn(128)
    assert model.fast_path_taken is False and "gSDE" in str(fast_rollout_fallback_reason(model))
    obs = env.reset()
    actions, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "m.zip")
    np.testing.assert_array_equal(cls.load(tmp_path / "m.zip").predict(obs, deterministic=True)[0], actions)
