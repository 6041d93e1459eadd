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
from sb3_notes.settings import shipped_settings

# The shipped entry for CartPole-v1 (sb3_notes/zoo/hyperparams/ppo_penalty.yml): RL Zoo's PPO entry (rl_zoo3 2.9.2,
# hyperparams/ppo.yml) without its clip_range, so that the update is the penalised surrogate with β adapted toward
# kl_target = 0.01. Everything else is the zoo's: 8 envs, n_steps 32, batch_size 256, 20 epochs, lin_0.001, 1e5 steps.
DEMO_SETTINGS = shipped_settings("ppo_penalty", "CartPole-v1")
DEMO_HYPERPARAMS: dict[str, Any] = DEMO_SETTINGS.kwargs


def main(argv: list[str] | None = None) -> float:
    """
    Train, save, reload and evaluate; print and return the mean evaluation return.

    :param argv: Command-line arguments (``None``: ``sys.argv``)
    :return: Mean return over the evaluation episodes
    """
    parser = argparse.ArgumentParser(description=__doc__)
    default_steps = DEMO_SETTINGS.n_timesteps
    parser.add_argument("--timesteps", type=int, default=int(os.environ.get("SB3_NOTES_DEMO_TIMESTEPS", default_steps)))
    parser.add_argument("--n-envs", type=int, default=DEMO_SETTINGS.n_envs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("demo_output"))
    parser.add_argument("--no-progress-bar", action="store_true")
    args = parser.parse_args(argv)

    env = DEMO_SETTINGS.make_env(seed=args.seed, n_envs=args.n_envs)
    # one minibatch is the whole rollout, as in the entry (32 steps x 8 envs = 256), whatever --n-envs says
    hyperparams = {**DEMO_HYPERPARAMS, "batch_size": DEMO_HYPERPARAMS["n_steps"] * args.n_envs}
    model = PPOPenalty(DEMO_SETTINGS.policy, env, seed=args.seed, verbose=0, **hyperparams)
    print(f"Training PPOPenalty on {DEMO_SETTINGS.env_id} for {args.timesteps} steps ({args.n_envs} envs, seed {args.seed})")
    model.learn(total_timesteps=args.timesteps, progress_bar=not args.no_progress_bar)

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"ppo_penalty_{DEMO_SETTINGS.env_id}.zip"
    model.save(path)
    print(f"Saved to {path} (final β = kl_coef = {model.kl_coef:.4g})")

    loaded = PPOPenalty.load(path, device="cpu")
    # Seeded (seed + 1, apart from the training envs), so that the figure printed is reproducible from the saved file
    eval_env = make_vec_env(DEMO_SETTINGS.env_id, n_envs=1, seed=args.seed + 1)
    mean_return, std_return = evaluate_policy(loaded, eval_env, n_eval_episodes=args.eval_episodes, deterministic=True)
    print(f"Mean return over {args.eval_episodes} episodes: {mean_return:.1f} +/- {std_return:.1f}")
    return float(mean_return)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
