"""The on-policy machinery shared by PPOPenalty and TRPO (and REINFORCE's lean sampling)."""

from sb3_notes.on_policy.base import FastOnPolicyAlgorithm
from sb3_notes.on_policy.lean_policy import LeanActorCritic, fast_rollout_fallback_reason

__all__ = ["FastOnPolicyAlgorithm", "LeanActorCritic", "fast_rollout_fallback_reason"]
