"""The README's first command: train PPOPenalty on CartPole-v1, save it, reload it, evaluate it.

Run with ``make demo`` (or ``python -m sb3_notes.demo``). ``--timesteps`` and ``--out`` override the defaults.
"""

import argparse
import os
from pathlib import Path
from typing import Any

from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_notes import PPOPenalty

# RL Zoo's PPO settings for CartPole-v1, with the adaptive KL penalty in place of clipping.
# One minibatch is the whole rollout (n_steps * n_envs = 256 with the default 8 envs), whatever --n-envs says.
DEMO_HYPERPARAMS: dict[str, Any] = dict(
    n_steps=32,
    gae_lambda=0.8,
    gamma=0.98,
    n_epochs=20,
    learning_rate=1e-3,
    kl_target=0.01,
)


def main(argv: list[str] | None = None) -> float:
    """
    Train, save, reload and evaluate; print and return the mean evaluation return.

    :param argv: Command-line arguments (``None``: ``sys.argv``)
    :return: Mean return over the evaluation episodes
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--timesteps", type=int, default=int(os.environ.get("SB3_NOTES_DEMO_TIMESTEPS", 60_000)))
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("demo_output"))
    parser.add_argument("--no-progress-bar", action="store_true")
    args = parser.parse_args(argv)

    env = make_vec_env(args.env, n_envs=args.n_envs, seed=args.seed)
    batch_size = DEMO_HYPERPARAMS["n_steps"] * args.n_envs
    model = PPOPenalty("MlpPolicy", env, seed=args.seed, verbose=0, batch_size=batch_size, **DEMO_HYPERPARAMS)
    print(f"Training PPOPenalty on {args.env} for {args.timesteps} steps ({args.n_envs} envs, seed {args.seed})")
    model.learn(total_timesteps=args.timesteps, progress_bar=not args.no_progress_bar)

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"ppo_penalty_{args.env}.zip"
    model.save(path)
    print(f"Saved to {path} (final β = kl_coef = {model.kl_coef:.4g})")

    loaded = PPOPenalty.load(path, device="cpu")
    # Seeded (seed + 1, apart from the training envs), so that the figure printed is reproducible from the saved file
    eval_env = make_vec_env(args.env, n_envs=1, seed=args.seed + 1)
    mean_return, std_return = evaluate_policy(loaded, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
    print(f"Mean return over {args.eval_episodes} episodes: {mean_return:.1f} +/- {std_return:.1f}")
    return float(mean_return)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
