"""Shared switch of the examples: ``--small`` or ``SB3_NOTES_SMALL_BUDGET=1`` runs a tiny budget (used by the tests)."""

import os
import sys


def small_budget() -> bool:
    """Whether to run the example on a tiny budget."""
    return "--small" in sys.argv[1:] or os.environ.get("SB3_NOTES_SMALL_BUDGET", "") not in ("", "0")


def budget(full: int, small: int) -> int:
    """``full`` normally, ``small`` under the small-budget switch."""
    return small if small_budget() else full
