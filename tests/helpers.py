"""Small helpers shared by several test files."""

import os
from pathlib import Path

import torch as th

REPO = Path(__file__).resolve().parent.parent
# Where tests/test_docs_browser.py builds the site, photographs it and writes its counts (build/ is not committed)
DOCS_CHECK_DIR = Path(os.environ.get("SB3_NOTES_DOCS_CHECK_DIR", REPO / "build" / "docs-check"))
DOCS_CHECK_SUMMARY = DOCS_CHECK_DIR / "_browser_check.json"


def perturb(policy: th.nn.Module, scale: float, seed: int) -> None:
    """Add N(0, scale²) noise to every parameter, from a generator of its own (the global RNG is left alone)."""
    gen = th.Generator().manual_seed(seed)
    with th.no_grad():
        for p in policy.parameters():
            p.add_(th.randn(p.shape, generator=gen) * scale)
