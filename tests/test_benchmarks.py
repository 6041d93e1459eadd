"""The benchmark harness cannot rot: its quick suite runs here, and its statistics are checked by hand."""

import json

import numpy as np
import pytest

from benchmarks import run
from benchmarks.runner import _iqm, summary
from benchmarks.specs import SUITES, Target


def test_iqm_by_hand():
    # n=4: the middle two; n=5: weights (0, .75, 1, .75, 0) / 2.5
    assert _iqm(np.array([1.0, 2.0, 3.0, 100.0])) == 2.5
    assert _iqm(np.array([5.0, 1.0, 2.0, 3.0, 4.0])) == pytest.approx((0.75 * 2 + 3 + 0.75 * 4) / 2.5)
    assert _iqm(np.array([7.0])) == 7.0


def test_summary_interval_contains_the_iqm_and_collapses_for_constant_data():
    s = summary([1.0, 2.0, 3.0, 4.0, 5.0])
    assert s["median"] == 3.0 and s["low"] <= s["iqm"] <= s["high"]
    c = summary([2.0] * 5)
    assert c["low"] == c["high"] == c["iqm"] == 2.0


def test_targets():
    assert Target(">=", 475).met(475) and not Target(">=", 475).met(474.9)
    assert Target("==", -13).met(-13.0) and not Target("==", -13).met(-14)


@pytest.mark.slow
def test_quick_suite_runs_resumes_and_reports(tmp_path):
    assert run.main(["--suite", "quick", "--out", str(tmp_path), "--in-process"]) == 0
    runs = sorted((tmp_path / "runs").glob("*/*/*.json"))
    n_pairs = len(SUITES["quick"]["pairs"]())
    assert len(runs) == n_pairs * 2 * SUITES["quick"]["seeds"]
    first = json.loads(runs[0].read_text())
    assert first["steps"] >= first["budget"] and first["steps_per_second"] > 0 and first["curve"]
    report = (tmp_path / "benchmarks.md").read_text()
    assert "throughput ours/peer" in report and "| cpu |" in report
    assert list((tmp_path / "benchmarks").glob("*.png")), "no learning-curve plot"
    # a second start finds every run on disk and recomputes nothing
    mtimes = [p.stat().st_mtime_ns for p in runs]
    assert run.main(["--suite", "quick", "--out", str(tmp_path), "--in-process"]) == 0
    assert [p.stat().st_mtime_ns for p in runs] == mtimes
