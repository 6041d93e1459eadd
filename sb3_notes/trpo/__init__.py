from sb3_notes.trpo.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_notes.trpo.trpo import TRPO

__all__ = ["TRPO", "CnnPolicy", "MlpPolicy", "MultiInputPolicy"]
