"""The SB3 contract, checked for every algorithm of ``sb3_notes.ALGORITHMS``.

An algorithm joins this suite by joining the registry: the suite picks the first small env the algorithm
accepts, the first of its ``policy_aliases``, and passes small hyperparameters only where the constructor
takes them.
"""

import copy
import inspect
import io
import math

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnRewardThreshold,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

from sb3_notes import ALGORITHMS

# Tried in order; the first on which construction does not raise ValueError is the algorithm's test env.
CANDIDATE_ENVS = ("CartPole-v1", "FrozenLake-v1", "Pendulum-v1")
# Passed only to constructors that take them, to keep each run to a fraction of a second.
SMALL_KWARGS = dict(
    n_steps=32,
    batch_size=32,
    n_epochs=2,
    n_episodes=2,
    learning_starts=0,
    initial_q=1.0,  # optimistic: a tabular learner updates its table even before the first reward
    n_critic_updates=2,
    cg_max_steps=5,
)
STEPS = 300
KEYS = sorted(ALGORITHMS)
TABULAR_KEYS = {key for key, cls in ALGORITHMS.items() if cls.policy_aliases.keys() == {"TabularPolicy"}}
_ENV_CACHE: dict[str, str] = {}


def small_kwargs(cls: type[BaseAlgorithm]) -> dict:
    params = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in SMALL_KWARGS.items() if k in params}


def env_id_for(key: str) -> str:
    if key not in _ENV_CACHE:
        cls = ALGORITHMS[key]
        for env_id in CANDIDATE_ENVS:
            try:
                cls(policy_name(cls), env_id, **small_kwargs(cls))
            except ValueError:
                continue
            _ENV_CACHE[key] = env_id
            break
        else:
            raise AssertionError(f"{key} accepts none of {CANDIDATE_ENVS}")
    return _ENV_CACHE[key]


def policy_name(cls: type[BaseAlgorithm]) -> str:
    return next(iter(cls.policy_aliases))


def make_model(key: str, env=None, n_envs: int = 1, seed: int | None = 0, **kwargs) -> BaseAlgorithm:
    cls = ALGORITHMS[key]
    if env is None:
        env = make_vec_env(env_id_for(key), n_envs=n_envs, seed=seed)
    return cls(policy_name(cls), env, seed=seed, device="cpu", **{**small_kwargs(cls), **kwargs})


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
