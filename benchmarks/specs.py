"""What is benchmarked: each pair (ours vs a peer), its envs, budgets, shared hyperparameters and targets.

Hyperparameters come from the RL Zoo's files for the peer (ppo.yml, trpo.yml, a2c.yml, rl_zoo3 2.9.2); ours get the
same values for every argument the two share, so a difference in the result is the algorithm's, not the tuning's.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stable_baselines3.common.utils import LinearSchedule


def lin(value: float) -> LinearSchedule:
    """The RL Zoo's ``lin_<value>``: decays linearly from ``value`` to 0 over training."""
    return LinearSchedule(value, 0.0, 1.0)


@dataclass(frozen=True)
class Target:
    """A target on the median over seeds: ``op`` is ">=", "<=" or "=="; ``source`` says where its value comes from."""

    op: str
    value: float
    source: str = ""

    def met(self, measured: float) -> bool:
        if self.op == ">=":
            return measured >= self.value
        if self.op == "<=":
            return measured <= self.value
        return abs(measured - self.value) < 1e-9

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class EnvCase:
    """One env of a pair: budget, vec-env layout and hyperparameters."""

    env_id: str
    budget: int
    n_envs: int = 1
    normalize: bool = False
    shared: dict[str, Any] = field(default_factory=dict)
    ours: dict[str, Any] = field(default_factory=dict)
    peer: dict[str, Any] = field(default_factory=dict)
    target: Target | None = None
    eval_points: int = 10
    eval_episodes: int = 5
    final_eval_episodes: int = 20
    # Tabular cases are scored exactly by DP on the env's model over this many steps (None: the env's time limit)
    eval_horizon: int | None = None


@dataclass(frozen=True)
class Pair:
    """
    Ours (``"sb3_notes:<registry key>"``, or several) against a peer (an import path).

    ``tabular`` pairs are run and scored differently (see ``benchmarks.tabular``): the greedy policy of the table
    is evaluated exactly by DP, and the peer is a plain-Python loop rather than an SB3 class.
    """

    name: str
    ours: str | tuple[str, ...]
    peer: str
    cases: tuple[EnvCase, ...]
    throughput_target: float | None = None
    throughput_source: str = ""
    notes: str = ""
    tabular: bool = False
    # (side, env id) the throughput target is about, when not every row (None: all rows)
    throughput_scope: tuple[str, str] | None = None

    @property
    def sides(self) -> dict[str, str]:
        """Side name → class path: one of ours is the side "ours", several are named by their registry keys."""
        ours = (self.ours,) if isinstance(self.ours, str) else self.ours
        named = {"ours": ours[0]} if len(ours) == 1 else {path.partition(":")[2]: path for path in ours}
        return {**named, "peer": self.peer}


def load_class(path: str) -> Callable[..., Any]:
    """``"stable_baselines3:PPO"`` → the class; ``"sb3_notes:ppo_penalty"`` → the registry's class."""
    module_name, _, attr = path.partition(":")
    if module_name == "sb3_notes":
        from sb3_notes import ALGORITHMS

        return ALGORITHMS[attr]
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


PPO_PENALTY = Pair(
    name="ppo_penalty",
    ours="sb3_notes:ppo_penalty",
    peer="stable_baselines3:PPO",
    throughput_target=0.95,
    throughput_source="this project's goal for a drop-in PPO",
    notes="Ours uses the adaptive KL penalty (kl_target=0.01, no clipping); SB3 PPO uses the zoo's clip_range. "
    "Targets: CartPole-v1's is Gymnasium's `reward_threshold` (475); Acrobot-v1's (−90, above Gymnasium's −100) "
    "and Pendulum-v1's (−200; it has no threshold) are this project's.",
    cases=(
        EnvCase(
            "CartPole-v1",
            100_000,
            n_envs=8,
            shared=dict(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0),
            ours=dict(learning_rate=lin(1e-3)),
            peer=dict(learning_rate=lin(1e-3), clip_range=lin(0.2)),
            target=Target(">=", 475, "Gymnasium's reward_threshold for CartPole-v1"),
        ),
        EnvCase(
            "Acrobot-v1",
            200_000,
            n_envs=16,
            normalize=True,
            shared=dict(n_steps=256, gae_lambda=0.94, gamma=0.99, n_epochs=4, ent_coef=0.0),
            target=Target(">=", -90, "this project's, above Gymnasium's reward_threshold of -100"),
        ),
        EnvCase(
            "Pendulum-v1",
            200_000,
            n_envs=4,
            shared=dict(
                n_steps=1024,
                gae_lambda=0.95,
                gamma=0.9,
                n_epochs=10,
                ent_coef=0.0,
                learning_rate=1e-3,
                use_sde=True,
                sde_sample_freq=4,
            ),
            peer=dict(clip_range=0.2),
            target=Target(">=", -200, "this project's (Pendulum-v1 has no reward_threshold)"),
        ),
    ),
)

TRPO_NOTES = Pair(
    name="trpo_notes",
    ours="sb3_notes:trpo_notes",
    peer="sb3_contrib:TRPO",
    throughput_target=1.0,
    throughput_source="this project's goal for a drop-in TRPO",
    notes="RL Zoo trpo.yml settings for both; ours constrains KL(old ‖ new), sb3-contrib KL(new ‖ old). Targets: "
    "the RL Zoo's published TRPO rows, rounded ([benchmark.md](https://github.com/DLR-RM/rl-baselines3-zoo/blob/master/"
    "benchmark.md) of rl-baselines3-zoo: CartPole-v1 500, Acrobot-v1 −83.1, Pendulum-v1 −174.6, one seed each).",
    cases=(
        EnvCase(
            "CartPole-v1",
            100_000,
            n_envs=2,
            shared=dict(
                n_steps=512,
                batch_size=512,
                cg_damping=1e-3,
                gae_lambda=0.98,
                gamma=0.99,
                learning_rate=1e-3,
                n_critic_updates=20,
            ),
            target=Target(">=", 500, "RL Zoo benchmark.md, trpo CartPole-v1: 500.000"),
        ),
        EnvCase(
            "Acrobot-v1",
            100_000,
            n_envs=2,
            normalize=True,
            shared=dict(n_steps=1024),
            target=Target(">=", -83, "RL Zoo benchmark.md, trpo Acrobot-v1: -83.114"),
        ),
        EnvCase(
            "Pendulum-v1",
            100_000,
            n_envs=2,
            shared=dict(n_steps=1024, gamma=0.9, n_critic_updates=15, use_sde=True, sde_sample_freq=4),
            target=Target(">=", -175, "RL Zoo benchmark.md, trpo Pendulum-v1: -174.631"),
        ),
    ),
)

REINFORCE_A2C = Pair(
    name="reinforce",
    ours="sb3_notes:reinforce",
    peer="stable_baselines3:A2C",
    throughput_target=1.0,
    throughput_source="this project's goal: as fast as A2C",
    notes="Each with its own defaults (REINFORCE: 8 whole episodes per update, value baseline, Monte Carlo returns; "
    "A2C: SB3's defaults, as the RL Zoo's a2c.yml CartPole entry), the same network (SB3's default MlpPolicy) and "
    "8 envs for both, no normalisation. Targets: Gymnasium's `reward_threshold` of each env.",
    cases=(
        EnvCase("CartPole-v1", 200_000, n_envs=8, target=Target(">=", 475, "Gymnasium's reward_threshold for CartPole-v1")),
        EnvCase("Acrobot-v1", 500_000, n_envs=8, target=Target(">=", -100, "Gymnasium's reward_threshold for Acrobot-v1")),
    ),
)

TABULAR_SHARED = dict(exploration_fraction=0.5, exploration_final_eps=0.0)
TABULAR = Pair(
    name="tabular",
    ours=("sb3_notes:qlearning", "sb3_notes:sarsa", "sb3_notes:expected_sarsa", "sb3_notes:double_qlearning"),
    peer="benchmarks.plain_q:plain_q_learning",
    throughput_target=0.8,
    throughput_source="this project's goal, 8 envs",
    throughput_scope=("qlearning", "FrozenLake-v1"),
    tabular=True,
    notes="The four learners (8 envs each) and the plain-Python Q-learning loop (one `gym.make` env, the loop of "
    "Gymnasium's tutorials) share every hyperparameter: the settings with which QLearning meets its targets. "
    "Scores are exact: the greedy policy of the table, evaluated by DP on the env's model from its start "
    "distribution within the time limit (CliffWalking, which has none: 200 steps), so the curves carry no "
    "evaluation noise. The optimum is DP's best value within the time limit (a time-dependent policy); the best "
    "a stationary table policy reaches can be lower (π* column). Targets: Gymnasium's `reward_threshold` on the two "
    "FrozenLakes (0.70, 0.85); the DP optimum on CliffWalking (−13); on Taxi (7.5: Gymnasium's 8 is above the DP "
    "optimum) and Blackjack (−0.08), this project's.",
    cases=(
        EnvCase(
            "FrozenLake-v1",
            100_000,
            n_envs=8,
            shared=dict(learning_rate=0.05, gamma=0.99, **TABULAR_SHARED),
            target=Target(">=", 0.70, "Gymnasium's reward_threshold for FrozenLake-v1"),
            eval_points=20,
        ),
        EnvCase(
            "FrozenLake8x8-v1",
            600_000,
            n_envs=8,
            # optimistic: with Q = 0 the goal's value may not reach the start before ε is small (see the tabular docs page)
            shared=dict(learning_rate=0.05, gamma=0.995, initial_q=1.0, **TABULAR_SHARED),
            target=Target(">=", 0.85, "Gymnasium's reward_threshold for FrozenLake8x8-v1"),
            eval_points=20,
        ),
        EnvCase(
            "Taxi-v4",
            200_000,
            n_envs=8,
            shared=dict(learning_rate=0.5, gamma=0.99, **TABULAR_SHARED),
            target=Target(">=", 7.5, "this project's, below the DP optimum of 7.93"),
            eval_points=20,
        ),
        EnvCase(
            "CliffWalking-v1",
            50_000,
            n_envs=8,
            shared=dict(learning_rate=0.5, gamma=0.99, **TABULAR_SHARED),
            target=Target("==", -13, "the DP optimum"),
            eval_points=20,
            eval_horizon=200,
        ),
        EnvCase(
            "Blackjack-v1",
            500_000,
            n_envs=8,
            # ±1 returns around action values a few hundredths apart: small late steps average the noise out,
            # and ε stays at 0.1 (off-policy for Q-learning) so rare states keep being visited
            shared=dict(
                learning_rate=LinearSchedule(0.05, 0.001, 1.0),
                gamma=1.0,
                exploration_fraction=0.5,
                exploration_final_eps=0.1,
            ),
            target=Target(">=", -0.08, "this project's, the DP optimum being -0.043"),
            eval_points=20,
            eval_horizon=50,  # a Blackjack episode ends within 21 steps (two aces, then hitting aces): 50 is exact
        ),
    ),
)

PAIRS: dict[str, Pair] = {pair.name: pair for pair in (PPO_PENALTY, TRPO_NOTES, REINFORCE_A2C, TABULAR)}


def quick(pair: Pair) -> Pair:
    """The harness check: the first env only, a tiny budget, no targets (the `quick` suite)."""
    case = pair.cases[0]
    small = EnvCase(
        case.env_id,
        budget=2_048,
        n_envs=case.n_envs,
        normalize=case.normalize,
        shared=case.shared,
        ours=case.ours,
        peer=case.peer,
        target=None,
        eval_points=2,
        eval_episodes=2,
        final_eval_episodes=3,
        eval_horizon=case.eval_horizon,
    )
    return Pair(pair.name, pair.ours, pair.peer, (small,), notes=pair.notes, tabular=pair.tabular)


SUITES: dict[str, dict[str, Any]] = {
    "quick": dict(seeds=2, pairs=lambda: [quick(p) for p in PAIRS.values()]),
    "full": dict(seeds=5, pairs=lambda: list(PAIRS.values())),
}
