"""The README's `make demo` entry point, on a small budget."""

from sb3_notes import PPOPenalty, demo


def test_demo_trains_saves_reloads_and_evaluates(tmp_path, capsys):
    mean_return = demo.main(["--timesteps", "2048", "--eval-episodes", "2", "--out", str(tmp_path), "--no-progress-bar"])
    saved = tmp_path / "ppo_penalty_CartPole-v1.zip"
    assert saved.exists()
    assert PPOPenalty.load(saved).num_timesteps >= 2048
    assert 1.0 <= mean_return <= 500.0  # CartPole returns are episode lengths
    assert f"Mean return over 2 episodes: {mean_return:.1f}" in capsys.readouterr().out
