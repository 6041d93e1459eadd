"""Image observations from a real Atari game: each deep algorithm trains a few thousand steps with CnnPolicy.

The game is Breakout through SB3's own Atari set-up (``make_atari_env``: the DeepMind wrappers, 84×84 grey frames,
episodes cut at a life lost) and ``VecFrameStack(4)``, as the RL Zoo's Atari entries run it. ``ale-py`` ships the
game's ROM; without it (the ``atari`` extra) the test is skipped, saying so.
"""

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import VecFrameStack

from sb3_notes import ALGORITHMS

ale_py = pytest.importorskip("ale_py", reason="ale-py is not installed (pip install 'sb3-notes[atari]')")
GAME = "BreakoutNoFrameskip-v4"
STEPS = 2_048
# Small settings for a smoke run: a few updates each within the budget (REINFORCE: whole episodes, short here
# since an episode ends at a life lost)
SMALL = {
    "ppo_penalty": dict(n_steps=128, batch_size=64, n_epochs=2),
    "trpo_notes": dict(n_steps=128, batch_size=64, n_critic_updates=2, cg_max_steps=5),
    "reinforce": dict(n_episodes=2),
}


def atari_env(seed: int = 0) -> VecFrameStack:
    import gymnasium as gym

    gym.register_envs(ale_py)
    return VecFrameStack(make_atari_env(GAME, n_envs=2, seed=seed), n_stack=4)


def test_every_deep_algorithm_has_an_atari_row():
    deep = {key for key, cls in ALGORITHMS.items() if "CnnPolicy" in cls.policy_aliases}
    assert deep == set(SMALL)


@pytest.mark.parametrize("key", sorted(SMALL))
def test_a_deep_algorithm_trains_on_breakout_with_cnn_policy(key):
    env = atari_env()
    assert env.observation_space.shape == (84, 84, 4) and env.observation_space.dtype == np.uint8
    model = ALGORITHMS[key]("CnnPolicy", env, seed=0, device="cpu", **SMALL[key])
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(STEPS)
    assert model.num_timesteps >= STEPS
    if hasattr(model, "fast_path_taken"):
        assert model.fast_path_taken, "the CnnPolicy branch of the fast rollout was taken"
    after = list(model.policy.parameters())
    assert all(th.isfinite(p).all() for p in after)
    assert any(not th.equal(b, a) for b, a in zip(before, after, strict=True)), "the update changed the network"
    actions, _ = model.predict(env.reset(), deterministic=True)
    assert actions.shape == (2,) and env.action_space.contains(int(actions[0]))
    env.close()
