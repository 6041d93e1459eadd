"""The benchmark harness cannot rot: its quick suite runs here, and its statistics are checked by hand."""

import json

import numpy as np
import pytest

from benchmarks import run
from benchmarks.plain_q import plain_q_learning
from benchmarks.runner import _iqm, summary
from benchmarks.specs import PAIRS, SUITES, Target
from benchmarks.tabular import exact_score, greedy_from_dict
from sb3_notes.common.state_encoding import encode
from sb3_notes.tabular.blackjack import OBSERVATION_SPACE


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
    n_sides = sum(len(pair.sides) for pair in SUITES["quick"]["pairs"]())
    assert len(runs) == n_sides * SUITES["quick"]["seeds"]
    first = json.loads(runs[0].read_text())
    assert first["steps"] >= first["budget"] and first["steps_per_second"] > 0 and first["curve"]
    report = (tmp_path / "benchmarks.md").read_text()
    assert "throughput ours/peer" in report and "| cpu |" in report and "only checks the harness" in report
    assert list((tmp_path / "benchmarks").glob("*.png")), "no learning-curve plot"
    # a second start finds every run on disk and recomputes nothing
    mtimes = [p.stat().st_mtime_ns for p in runs]
    assert run.main(["--suite", "quick", "--out", str(tmp_path), "--in-process"]) == 0
    assert [p.stat().st_mtime_ns for p in runs] == mtimes


def test_plain_loop_first_update_by_hand():
    # CliffWalking starts at 36; greedy on a zero table takes action 0 (up) to 24 with reward -1, not terminal:
    # Q(36, up) = 0 + α (-1 + γ max Q(24, ·) - 0) = -α
    q = plain_q_learning("CliffWalking-v1", 1, seed=0, learning_rate=0.5, exploration_initial_eps=0.0)
    assert q[36].tolist() == [-0.5, 0.0, 0.0, 0.0]
    # a schedule is called with the progress remaining after the step, as SB3 (and our learners) do
    seen = []
    plain_q_learning("CliffWalking-v1", 2, seed=0, learning_rate=lambda p: seen.append(p) or 0.5)
    assert seen == [0.5, 0.0]
    # an int initial_q still gives a float table (an int one would truncate every update)
    q = plain_q_learning("CliffWalking-v1", 1, seed=0, learning_rate=0.5, exploration_initial_eps=0.0, initial_q=0)
    assert q[36].tolist() == [-0.5, 0.0, 0.0, 0.0]


def test_plain_loop_table_maps_to_the_learners_rows():
    q = {(20, 10, 0): np.array([1.0, 0.0]), (13, 2, 1): np.array([0.0, 1.0])}
    greedy = greedy_from_dict(q, OBSERVATION_SPACE, 2, initial_q=0.0)
    # rows by hand: (sum, card, ace) -> sum * 22 + card * 2 + ace (mixed radix 32, 11, 2)
    assert greedy[20 * 22 + 10 * 2 + 0] == 0 and greedy[13 * 22 + 2 * 2 + 1] == 1
    assert greedy.sum() == 1  # unseen rows: argmax of equal initial values, the first action
    assert int(encode(OBSERVATION_SPACE, (13, 2, 1))) == 13 * 22 + 2 * 2 + 1


@pytest.mark.parametrize(
    ("env_id", "optimum"),
    [("FrozenLake-v1", 0.744), ("FrozenLake8x8-v1", 0.913), ("Taxi-v4", 7.93)],  # the optima issue 6 quotes
)
def test_exact_score_optimum_and_a_greedy_score(env_id, optimum):
    case = next(c for c in PAIRS["tabular"].cases if c.env_id == env_id)
    scorer = exact_score(env_id, case.eval_horizon)
    assert scorer.optimum() == pytest.approx(optimum, abs=5e-4)
    # a policy that never moves toward the goal scores nothing (FrozenLake) or the time limit's -200 (Taxi)
    left = np.zeros(scorer.model.n_states, dtype=np.int64)  # FrozenLake: left; Taxi: south, never delivering
    assert scorer(left) == pytest.approx(0.0 if "Frozen" in env_id else -200.0)


def test_cliff_walking_scored_within_its_horizon():
    scorer = exact_score("CliffWalking-v1", 200)
    assert scorer.optimum() == -13.0 and scorer.stationary_optimum() == -13.0
    with pytest.raises(ValueError, match="eval_horizon"):
        exact_score("CliffWalking-v1")
