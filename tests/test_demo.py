"""The README's `make demo` entry point, on a small budget."""

from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_notes import PPOPenalty, demo


def test_demo_trains_saves_reloads_and_evaluates(tmp_path, capsys):
    mean_return = demo.main(["--timesteps", "2048", "--eval-episodes", "3", "--out", str(tmp_path), "--no-progress-bar"])
    saved = tmp_path / "ppo_penalty_CartPole-v1.zip"
    model = PPOPenalty.load(saved)
    assert model.num_timesteps == 2048 and model._n_updates == 20 * 2048 // 256  # 8 envs x 32 steps, 20 epochs each
    # The printed figure is the saved model's own return on the demo's seeded evaluation env, reproduced here
    expected, _ = evaluate_policy(model, make_vec_env("CartPole-v1", n_envs=1, seed=1), n_eval_episodes=3, deterministic=True)
    assert mean_return == expected
    assert f"Mean return over 3 episodes: {mean_return:.1f}" in capsys.readouterr().out
