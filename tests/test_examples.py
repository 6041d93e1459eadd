"""Every example runs, on its small budget, so none can rot; what it prints and writes holds what it claims."""

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples").glob("*.py") if not p.name.startswith("_"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _importance_sampling(stdout: str) -> None:
    # rows: μ, KL, exact variance, Monte Carlo variance, [5%, 95%] of the 100-draw estimates
    rows = [
        [float(v) for v in re.findall(r"[-+]?\d+\.\d+", line)]
        for line in stdout.splitlines()
        if re.match(r"\s*\d+\.\d+\s", line)
    ]
    assert len(rows) >= 5
    mus, kls, exact, measured = ([r[i] for r in rows] for i in range(4))
    assert kls == pytest.approx([mu**2 / 2 for mu in mus], abs=1e-3)
    assert exact[0] == pytest.approx(1.0) and all(b > a for a, b in itertools.pairwise(exact))
    for mu, e, m in zip(mus, exact, measured, strict=True):
        if mu <= 0.5:  # beyond, the small budget's sample variance is too noisy to hold to 20%
            assert m == pytest.approx(e, rel=0.2)
    widths = [r[5] - r[4] for r in rows]
    assert widths[-1] > 2 * widths[0], "estimates from a distant q spread wider than those from p itself"


def _qlearning_quickstart(stdout: str) -> None:
    learned, optimum = map(float, re.search(r"probability ([\d.]+) \(DP optimum ([\d.]+)\)", stdout).groups())
    assert 0.0 <= learned <= optimum + 1e-9, "no policy beats the DP optimum"


def _trpo_quickstart(stdout: str) -> None:
    kl = float(re.search(r"last KL\(π_old ‖ π_new\) = ([\d.]+)", stdout).group(1))
    assert kl <= 0.01 + 1e-9, "the line search accepts no step outside the trust region"


OUTPUT_CHECKS: dict[str, Callable[[str], None]] = {
    "importance_sampling_variance.py": _importance_sampling,
    "qlearning_quickstart.py": _qlearning_quickstart,
    "trpo_quickstart.py": _trpo_quickstart,
}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_on_a_small_budget(script, tmp_path):
    env = {
        **os.environ,
        "SB3_NOTES_SMALL_BUDGET": "1",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(script.parent), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example prints what it found"
    # the figure its docstring promises ("# writes NAME.png") is there and is a PNG
    for figure in re.findall(r"#\s*writes (\S+\.png)", script.read_text()):
        assert (tmp_path / figure).read_bytes()[:8] == PNG_SIGNATURE, f"{script.name} should write {figure}"
    if script.name in OUTPUT_CHECKS:
        OUTPUT_CHECKS[script.name](done.stdout)
