from sb3_notes.ppo_penalty.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_notes.ppo_penalty.ppo_penalty import PPOPenalty

__all__ = ["CnnPolicy", "MlpPolicy", "MultiInputPolicy", "PPOPenalty"]
