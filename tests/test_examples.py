"""Every example runs, on its small budget, so none can rot."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples").glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_on_a_small_budget(script, tmp_path):
    env = {**os.environ, "SB3_NOTES_SMALL_BUDGET": "1", "MPLBACKEND": "Agg", "PYTHONPATH": str(script.parent)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example prints what it found"
