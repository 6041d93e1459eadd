"""Tabular TD learners on SB3's API (notes §5), MC/TD value estimation, DP (with an exact Blackjack model), a plot."""

from sb3_notes.tabular.base import TabularAlgorithm
from sb3_notes.tabular.blackjack import BlackjackModel, blackjack_model
from sb3_notes.tabular.double_q_learning import DoubleQLearning
from sb3_notes.tabular.dp import (
    DPSolution,
    TabularModel,
    optimal_values_within,
    policy_evaluation,
    tabular_model,
    value_iteration,
)
from sb3_notes.tabular.expected_sarsa import ExpectedSARSA
from sb3_notes.tabular.plotting import CLIFF_WALKING_ARROWS, FROZEN_LAKE_ARROWS, plot_grid_policy
from sb3_notes.tabular.policies import MAX_TABLE_ENTRIES, TableShapeError, TabularPolicy
from sb3_notes.tabular.q_learning import QLearning
from sb3_notes.tabular.sarsa import SARSA
from sb3_notes.tabular.value_estimation import estimate_v

__all__ = [
    "CLIFF_WALKING_ARROWS",
    "FROZEN_LAKE_ARROWS",
    "MAX_TABLE_ENTRIES",
    "SARSA",
    "BlackjackModel",
    "DPSolution",
    "DoubleQLearning",
    "ExpectedSARSA",
    "QLearning",
    "TableShapeError",
    "TabularAlgorithm",
    "TabularModel",
    "TabularPolicy",
    "blackjack_model",
    "estimate_v",
    "optimal_values_within",
    "plot_grid_policy",
    "policy_evaluation",
    "tabular_model",
    "value_iteration",
]
