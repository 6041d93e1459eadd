"""The benchmark harness cannot rot: its quick suite and a MuJoCo smoke run go end to end here, and its statistics,
run identities and module layout are checked by hand."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks import stats
from benchmarks.plain_q import plain_q_learning
from benchmarks.spec import RunConfig, Target, from_settings, scale_suite, zoo_settings
from benchmarks.suites import PAPER_TABLE_1, PPO_PENALTY, TRPO_NOTES, ppo_paper_run, suites, tabular_run
from benchmarks.tabular import exact_score, greedy_from_dict
from sb3_notes.common.state_encoding import encode
from sb3_notes.settings import shipped_settings
from sb3_notes.tabular.blackjack import OBSERVATION_SPACE


def test_iqm_by_hand():
    # rliable's IQM cuts floor(n/4) values at each end: n=4 keeps the middle two, n=5 the middle three
    assert stats.iqm([1.0, 2.0, 3.0, 100.0]) == 2.5
    assert stats.iqm([5.0, 1.0, 2.0, 3.0, 4.0]) == 3.0
    assert stats.iqm([7.0]) == 7.0


def test_summary_interval_contains_the_iqm_and_collapses_for_constant_data():
    s = stats.summary([1.0, 2.0, 3.0, 4.0, 5.0])
    assert s.median == 3.0 and s.low <= s.iqm <= s.high and s.low < s.high
    c = stats.summary([2.0] * 5)
    assert c.low == c.high == c.iqm == 2.0
    assert stats.summary([1.0, 2.0, 3.0]).overlaps(stats.summary([2.5, 3.5, 4.5]))
    assert not c.overlaps(stats.summary([3.0] * 5))


def test_probability_of_improvement_by_hand():
    # 9 seed pairs: ours 2 and 3 beat every peer value (6 wins), ours 1 beats 0 and 0.5 and ties 1 (half a win)
    p = stats.probability_of_improvement(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.5, 1.0]))
    assert p.value == pytest.approx(8.5 / 9) and p.low <= p.value <= p.high <= 1.0
    assert stats.probability_of_improvement(np.zeros(3), np.ones(3)).value == 0.0


def test_normalise():
    assert stats.normalise(50.0, zero=10.0, one=90.0) == 0.5
    assert stats.normalise(10.0, zero=10.0, one=90.0) == 0.0


def test_targets():
    assert Target(">=", 475).met(475) and not Target(">=", 475).met(474.9)
    assert Target("==", -13).met(-13.0) and not Target("==", -13).met(-14)
    four_of_five = Target(">=", 85, of_seeds=4)
    assert four_of_five.met_by([90, 90, 90, 90, -1]) and not four_of_five.met_by([90, 90, 90, -1, -1])
    assert Target(">=", 85).met_by([0, 0, 90, 90, 90])  # the median


def test_a_target_waits_for_the_seeds_that_could_change_its_verdict():
    four_of_five = Target(">=", 85, of_seeds=4)
    assert four_of_five.verdict([88.5], 5) == "pending (1 of 1 seeds run meet it)"
    assert four_of_five.verdict([88.5, 0.0], 5) == "pending (1 of 2 seeds run meet it)"  # 3 left could still meet it
    assert four_of_five.verdict([0.0, 0.0], 5) == "no"  # 3 left cannot make 4
    assert four_of_five.verdict([90, 90, 90, 90], 5) == "yes"  # the fifth cannot undo it
    assert Target(">=", 475).verdict([500, 500], 5) == "yes so far (2 of 5 seeds)"
    assert Target(">=", 475).verdict([500, 100, 500], 3) == "yes"


def test_run_key_follows_every_setting_and_only_them():
    a = RunConfig("x", "stable_baselines3:PPO", "Hopper-v5", 1000, kwargs=dict(n_steps=64))
    assert a.key() == RunConfig("x", "stable_baselines3:PPO", "Hopper-v5", 1000, kwargs=dict(n_steps=64)).key()
    assert a.key() != RunConfig("x", "stable_baselines3:PPO", "Hopper-v5", 1000, kwargs=dict(n_steps=32)).key()
    assert a.key() != RunConfig("x", "stable_baselines3:PPO", "Hopper-v5", 2000, kwargs=dict(n_steps=64)).key()
    assert a.path(Path("r"), 2) == Path("r/runs/Hopper-v5") / a.key() / "seed2.json"


def test_ablation_clip_row_and_mujoco_peer_are_one_run():
    deep, ablation = suites()["deep"], suites()["ppo_ablation"]
    hopper_peer = next(c.peer for c in deep.comparisons if c.env_id == "Hopper-v5" and c.pair == "ppo_penalty")
    clip = ablation.ablation.settings["clip_0.2"][2]("Hopper-v5")
    assert hopper_peer.key() == clip.key() and clip.algo == "stable_baselines3:PPO" and clip.kwargs == {}
    assert {c.key() for c, _ in deep.runs()} & {c.key() for c, _ in ablation.runs()}  # shared files, counted once each


def test_ablation_rows_are_the_papers_settings():
    assert len(PAPER_TABLE_1) == 11
    assert ppo_paper_run("no_control", "Hopper-v5").kwargs == dict(clip_range=None, kl_coef=0.0, kl_adaptive=False)
    assert ppo_paper_run("clip_0.3", "Hopper-v5").kwargs == dict(clip_range=0.3, kl_coef=0.0, kl_adaptive=False)
    adaptive = ppo_paper_run("adaptive_kl_0.003", "Hopper-v5")
    assert adaptive.kwargs == dict(kl_target=0.003, kl_coef=1.0, kl_adaptive=True) and adaptive.log_keys == ("train/kl_coef",)
    assert ppo_paper_run("fixed_kl_10", "Hopper-v5").kwargs == dict(kl_coef=10.0, kl_adaptive=False)
    full = suites()["ppo_ablation_full"]
    assert len(full.runs()) == 7 + 7 * (11 * 3)  # a random-policy run per task, 11 settings × 3 seeds per task


def test_our_side_is_the_shipped_entry():
    for c in suites()["deep"].comparisons:
        ours = c.ours[0]
        if ours.name.endswith("_shipped"):
            algo = ours.algo.partition(":")[2]
            entry = shipped_settings(algo, ours.env_id)
            assert repr(ours.kwargs) == repr(entry.kwargs) and ours.budget == entry.n_timesteps and ours.n_envs == entry.n_envs


@pytest.mark.parametrize("env_id", ["Hopper-v5", "HalfCheetah-v5"])
def test_shipped_mujoco_entries_are_the_configurations_their_evidence_comes_from(env_id):
    # The YAML comments quote the deep suite's MuJoCo pairs: PPOPenalty's runs are the ablation's adaptive row,
    # our TRPO entry is the zoo's v4 one that its peer runs.
    shipped = from_settings("shipped", PPO_PENALTY, shipped_settings("ppo_penalty", env_id))
    assert shipped.learner() == ppo_paper_run("adaptive_kl_0.01", env_id).learner()
    assert shipped.learner() != ppo_paper_run("fixed_kl_1", env_id).learner()
    ours = from_settings("ours", TRPO_NOTES, shipped_settings("trpo_notes", env_id))
    peer = from_settings("peer", TRPO_NOTES, zoo_settings("trpo", env_id.replace("-v5", "-v4"), env_id))
    assert ours.learner() == peer.learner()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):  # function-level imports count too: a cycle through them is still a cycle
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("benchmarks"):
            found |= {node.module} if node.module != "benchmarks" else {f"benchmarks.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("benchmarks.")}
    return found


def test_no_module_of_the_benchmarks_imports_one_that_imports_it_back():
    folder = Path(cli.__file__).parent
    graph = {
        f"benchmarks.{p.stem}": _imports(p) - {f"benchmarks.{p.stem}"} for p in folder.glob("*.py") if p.stem != "__init__"
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    cycles = [m for m in graph if reaches(m, m, set())]
    assert not cycles, f"import cycle through {cycles}"


@pytest.mark.slow
def test_quick_suite_runs_resumes_and_reports(tmp_path):
    out = tmp_path / "quick.md"
    args = ["--suite", "quick", "--seeds", "1", "--results", str(tmp_path)]  # one seed keeps CI's share small
    assert cli.main(["run", *args, "--in-process", "--no-report"]) == 0
    runs = sorted((tmp_path / "runs").glob("*/*/*.json"))
    suite = suites()["quick"]
    assert len(runs) == len(scale_suite(suite, 1.0, 1).runs()) == sum(len(c.configs) for c in suite.comparisons)
    first = json.loads(runs[0].read_text())
    assert first["steps"] >= first["budget"] and first["steps_per_second"] > 0 and first["curve"] and first["peak_rss_mb"] > 0
    assert cli.main(["report", *args, "--out", str(out)]) == 0
    report = out.read_text()
    assert "throughput ours/peer" in report and "| cpu |" in report and "P(ours > peer)" in report
    assert len(list((tmp_path / "quick").glob("*.png"))) == len(suite.comparisons), "a learning-curve plot per row"
    # a second start finds every run on disk and recomputes nothing
    mtimes = [p.stat().st_mtime_ns for p in runs]
    assert cli.main(["run", *args, "--in-process", "--no-report"]) == 0
    assert [p.stat().st_mtime_ns for p in runs] == mtimes


def test_mujoco_ablation_smoke_run_and_report(tmp_path):
    pytest.importorskip("mujoco", reason="gymnasium[mujoco] is not installed (the `mujoco` extra)")
    only = ["random_policy@Hopper-v5", "sb3_ppo_defaults@Hopper-v5", "ppo_penalty_adaptive_kl_0.01@Hopper-v5"]
    args = ["--suite", "ppo_ablation", "--smoke", "--seeds", "1", "--results", str(tmp_path)]
    assert cli.main(["run", *args, "--in-process", "--no-report", "--only", *only]) == 0
    suite = scale_suite(suites()["ppo_ablation"], cli.SMOKE_SCALE, 1)
    adaptive = json.loads(suite.ablation.settings["adaptive_kl_0.01"][2]("Hopper-v5").path(tmp_path, 0).read_text())
    # β is traced after every update (two updates on the smoke budget), and the paper's score is recorded
    assert len(adaptive["traces"]["train/kl_coef"]) == 2 and adaptive["train_return_last100"] is not None
    assert adaptive["env_step_seconds"] > 0 and adaptive["steps"] == adaptive["budget"] == 2_000
    random = json.loads(suite.ablation.random("Hopper-v5").path(tmp_path, 0).read_text())
    assert random["algo"] == "uniform random policy" and random["curve"] == []
    assert cli.main(["report", *args, "--out", str(tmp_path / "ablation.md")]) == 0
    text = (tmp_path / "ablation.md").read_text()
    assert "| Clipping, ε = 0.2 | 0.82 |" in text and "ppo_ablation_beta.png" in text
    # two of the four settings have run on Hopper: its cells are raw returns, and it is left out of the order
    assert "| Clipping, ε = 0.2 | 0.82 | — | return " in text
    assert "- not every setting has run on Hopper-v5: left out of the order" in text


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
    [("FrozenLake-v1", 0.744), ("FrozenLake8x8-v1", 0.913), ("Taxi-v4", 7.93)],  # value iteration's optima, to 3 digits
)
def test_exact_score_optimum_and_a_greedy_score(env_id, optimum):
    scorer = exact_score(env_id, tabular_run("qlearning", env_id).eval_horizon)
    assert scorer.optimum() == pytest.approx(optimum, abs=5e-4)
    # a policy that never moves toward the goal scores nothing (FrozenLake) or the time limit's -200 (Taxi)
    left = np.zeros(scorer.model.n_states, dtype=np.int64)  # FrozenLake: left; Taxi: south, never delivering
    assert scorer(left) == pytest.approx(0.0 if "Frozen" in env_id else -200.0)


def test_cliff_walking_scored_within_its_horizon():
    scorer = exact_score("CliffWalking-v1", 200)
    assert scorer.optimum() == -13.0 and scorer.stationary_optimum() == -13.0
    with pytest.raises(ValueError, match="eval_horizon"):
        exact_score("CliffWalking-v1")


def test_ablation_order_compares_settings_only_on_tasks_where_all_ran():
    from benchmarks.report import _ablation_order
    from benchmarks.spec import Ablation

    def run(env_id):
        return RunConfig("x", "random", env_id, 0)

    ablation = Ablation({"a": ("A", 0.8, run), "b": ("B", 0.7, run), "c": ("C", -0.4, run)}, ("T1", "T2", "T3"), run)
    norm = {
        ("a", "T1"): 1.0,
        ("b", "T1"): 0.5,
        ("c", "T1"): 0.0,  # the paper's order
        ("a", "T2"): 0.4,
        ("b", "T2"): 1.0,
        ("c", "T2"): 0.1,  # B first
    }
    # T3: B has not run there, so the section normalises it not at all and names it as left out
    lines = _ablation_order(ablation, norm, ["T3"])
    assert lines[0] == "Order of the settings, the paper's (7-task averages): A > B > C."
    assert "- T1: A > B > C (the paper's order)" in lines
    assert "- T2: B > A > C" in lines
    # over T1 and T2: A 0.7, B 0.75, C 0.05
    assert "- average over these 2 tasks: B > A > C" in lines
    assert "- not every setting has run on T3: left out of the order" in lines


def test_a_hand_written_reading_survives_regenerating_the_section(tmp_path):
    from benchmarks.report import READING, write_into

    page = tmp_path / "page.md"
    page.write_text("# Page\n\nbefore\n")
    write_into(page, "s", f"# Suite\n\ntable v1\n\n{READING[0]}\n{READING[1]}\n\n![fig](f.png)\n")
    text = page.read_text()
    assert "## Suite" in text and "table v1" in text
    page.write_text(text.replace(f"{READING[0]}\n", f"{READING[0]}\nOur reading, by hand.\n"))
    write_into(page, "s", f"# Suite\n\ntable v2\n\n{READING[0]}\n{READING[1]}\n\n![fig](f.png)\n")
    text = page.read_text()
    assert "table v2" in text and "table v1" not in text
    assert text.count("Our reading, by hand.") == 1
    assert text.index("table v2") < text.index("Our reading, by hand.") < text.index("![fig](f.png)")
    assert text.startswith("# Page\n\nbefore\n")


@pytest.mark.parametrize("name", ["tabular_1_env", "tabular_8_envs", "rollout", "ppo_penalty", "ppo_penalty_like", "trpo"])
def test_every_instruction_count_workload_runs(name, monkeypatch):
    """The workloads of `instructions` (run here without valgrind, on tiny budgets) cannot rot."""
    from benchmarks import instructions

    calls = []
    monkeypatch.setattr(instructions, "_instrumented", lambda call: calls.append(call()))
    _, work, _ = instructions.WORKLOADS[name]
    work(128)
    assert len(calls) == 1  # exactly the measured call ran instrumented


def test_callgrinds_summary_is_read():
    from benchmarks.instructions import collected

    stderr = "==2243== Events    : Ir\n==2243== Collected : 1125842776\n==2243== \n==2243== I   refs:      1,125,842,776\n"
    assert collected(stderr) == 1_125_842_776
    with pytest.raises(RuntimeError, match="no instruction count"):
        collected("valgrind: not found")


def test_a_tuned_shipped_entry_is_reported_beside_the_paper_settings_and_is_ours_in_the_aggregate(tmp_path):
    from benchmarks.report import _pair_section
    from benchmarks.spec import Comparison

    paper = ppo_paper_run("adaptive_kl_0.01", "HalfCheetah-v5")
    tuned = RunConfig("ppo_penalty_shipped", PPO_PENALTY, "HalfCheetah-v5", 1_000_000, kwargs={"kl_target": 0.03})
    peer = ppo_paper_run("clip_0.2", "HalfCheetah-v5")
    for config, finals, algo in ((paper, [700, 650, 1000], "PPOPenalty"), (tuned, [2100, 1900, 2500], "PPOPenalty"),
                                 (peer, [1600, 2900, 1500], "PPO")):  # fmt: skip
        for seed, final in enumerate(finals):
            run = {"seed": seed, "algo": algo, "final_return": final, "curve": [[500_000, final / 2], [1_000_000, final]],
                   "steps_per_second": 1000.0, "env_step_seconds": 5e-5, "peak_rss_mb": 300.0}  # fmt: skip
            config.path(tmp_path, seed).parent.mkdir(parents=True, exist_ok=True)
            config.path(tmp_path, seed).write_text(json.dumps(run))
    row = Comparison("ppo_penalty", (paper, tuned), peer, None, (), seeds=3)
    lines, finals = _pair_section("ppo_penalty", None, [row], tmp_path, tmp_path / "plots", tmp_path / "report.md", 3)
    table = [line for line in lines if line.startswith("| HalfCheetah-v5")]
    assert [line.split(" | ")[3].split(":")[0] for line in table] == ["PPOPenalty", "PPOPenalty ppo_penalty_shipped"]
    assert "**lower**" in table[0] and "within noise" in table[1]
    assert [r["final_return"] for r in finals["HalfCheetah-v5"][0]] == [2100, 1900, 2500]  # the shipped entry's
    assert (tmp_path / "plots" / "ppo_penalty_HalfCheetah-v5.png").exists()
