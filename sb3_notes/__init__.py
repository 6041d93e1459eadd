"""sb3-notes: the algorithms of a set of RL lecture notes as Stable-Baselines3-native classes."""

from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_notes.ppo_penalty import PPOPenalty
from sb3_notes.version import __version__

# The one list of algorithms: RL Zoo key -> class. Tests, the RL Zoo bridge, benchmarks and docs read it.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    "ppo_penalty": PPOPenalty,
}

__all__ = ["ALGORITHMS", "PPOPenalty", "__version__"]
