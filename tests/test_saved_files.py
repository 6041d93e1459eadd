"""Models saved by sb3-notes 0.1.0 (commit f91a72e, before the reliability and architecture changes) still load,
predict what they predicted then, and train on: the saved-file format is part of the public API.

The files in ``tests/data/saved_by_0.1.0/`` were written by that commit (2 envs, 200 steps, seed 0), with the
deterministic actions it predicted for five sampled observations (``expected.json``).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env

from sb3_notes import ALGORITHMS

DATA = Path(__file__).parent / "data" / "saved_by_0.1.0"
EXPECTED = json.loads((DATA / "expected.json").read_text())


def test_there_is_a_file_for_every_algorithm():
    assert set(EXPECTED) == set(ALGORITHMS)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_a_file_saved_by_0_1_0_loads_predicts_the_same_and_trains_on(key, tmp_path):
    expected = EXPECTED[key]
    cls = ALGORITHMS[key]
    model = cls.load(DATA / f"{key}.zip", env=make_vec_env(expected["env_id"], n_envs=2, seed=1))
    assert model.num_timesteps == expected["num_timesteps"]
    actions, _ = model.predict(np.array(expected["observations"], dtype=model.observation_space.dtype), deterministic=True)
    np.testing.assert_allclose(actions, np.array(expected["actions"]), rtol=0, atol=1e-6)
    model.learn(100, reset_num_timesteps=False)
    model.save(tmp_path / "again.zip")
    assert cls.load(tmp_path / "again.zip").num_timesteps >= expected["num_timesteps"] + 100
