from sb3_notes.reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_notes.reinforce.reinforce import REINFORCE

__all__ = ["REINFORCE", "CnnPolicy", "MlpPolicy", "MultiInputPolicy"]
