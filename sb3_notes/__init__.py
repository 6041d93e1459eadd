"""sb3-notes: the algorithms of a set of RL lecture notes as Stable-Baselines3-native classes."""

from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_notes.ppo_penalty import PPOPenalty
from sb3_notes.reinforce import REINFORCE
from sb3_notes.tabular import SARSA, DoubleQLearning, ExpectedSARSA, QLearning
from sb3_notes.trpo import TRPO
from sb3_notes.version import __version__

# The one list of algorithms: RL Zoo key -> class. Tests, the RL Zoo bridge, benchmarks and docs read it.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    "ppo_penalty": PPOPenalty,
    "reinforce": REINFORCE,
    "qlearning": QLearning,
    "sarsa": SARSA,
    "expected_sarsa": ExpectedSARSA,
    "double_qlearning": DoubleQLearning,
    "trpo_notes": TRPO,
}

__all__ = [
    "ALGORITHMS",
    "REINFORCE",
    "SARSA",
    "TRPO",
    "DoubleQLearning",
    "ExpectedSARSA",
    "PPOPenalty",
    "QLearning",
    "__version__",
]
