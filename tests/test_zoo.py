"""The RL Zoo bridge: registration, shipped hyperparameter files, train / enjoy, Optuna tuning across processes, bad input."""

import argparse
import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml
from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER
from rl_zoo3.utils import ALGOS
from sb3_contrib import TRPO as ContribTRPO

from sb3_notes import ALGORITHMS
from sb3_notes.zoo import HYPERPARAMS_DIR, NotesExperimentManager, ZooBridgeError, open_storage, register
from sb3_notes.zoo.__main__ import main
from sb3_notes.zoo.samplers import CONVERTERS, SAMPLERS

optuna.logging.set_verbosity(optuna.logging.WARNING)

SHIPPED = sorted((path.stem, env_id) for path in HYPERPARAMS_DIR.glob("*.yml") for env_id in yaml.safe_load(path.read_text()))
# Constructor arguments the shipped entries set that a model keeps under the same name (checked after building).
PLAIN_ATTRS = (
    "n_steps",
    "batch_size",
    "n_epochs",
    "gamma",
    "gae_lambda",
    "kl_target",
    "n_episodes",
    "returns",
    "baseline",
    "cg_damping",
    "n_critic_updates",
    "exploration_fraction",
    "exploration_final_eps",
)


def zoo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sb3_notes.zoo", *args]


def run_zoo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(zoo_command(*args), cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def manager(tmp_path: Path, algo: str, env_id: str, **kwargs) -> NotesExperimentManager:
    """The zoo's experiment manager as `train` builds it, logging under tmp_path, no evaluation."""
    register()
    args = argparse.Namespace(algo=algo, env=env_id)
    kwargs = {"eval_freq": -1, "seed": 0, "verbose": 0, "device": "cpu", **kwargs}
    return NotesExperimentManager(args, algo, env_id, str(tmp_path / "logs"), **kwargs)


def test_register_adds_every_algorithm_sampler_and_converter_and_keeps_the_zoo_own():
    register()
    register()  # idempotent
    for key, cls in ALGORITHMS.items():
        assert ALGOS[key] is cls
        assert HYPERPARAMS_SAMPLER[key] is SAMPLERS[key]
        assert HYPERPARAMS_CONVERTER[key] is CONVERTERS[key]
    assert ALGOS["trpo"] is ContribTRPO  # our TRPO is "trpo_notes"; the zoo's key keeps sb3-contrib's


def test_every_algorithm_has_a_sampler_a_converter_and_a_shipped_file():
    assert set(SAMPLERS) == set(ALGORITHMS) == set(CONVERTERS)
    assert {path.stem for path in HYPERPARAMS_DIR.glob("*.yml")} == set(ALGORITHMS)


def test_shipped_file_is_the_default_config_only_for_our_keys(tmp_path):
    assert manager(tmp_path, "ppo_penalty", "CartPole-v1").config == str(HYPERPARAMS_DIR / "ppo_penalty.yml")
    assert manager(tmp_path, "ppo_penalty", "CartPole-v1", config="mine.yml").config == "mine.yml"
    assert Path(manager(tmp_path, "ppo", "CartPole-v1").config).parent.parent.name == "rl_zoo3"


@pytest.mark.parametrize(("algo", "env_id"), SHIPPED, ids=[f"{a}-{e}" for a, e in SHIPPED])
def test_every_shipped_entry_constructs_its_model(tmp_path, algo, env_id):
    entry = yaml.safe_load((HYPERPARAMS_DIR / f"{algo}.yml").read_text())[env_id]
    exp = manager(tmp_path, algo, env_id)
    # Unknown keys fail here with the key and the file named (see the bad-input tests below).
    model, saved = exp.setup_experiment()
    try:
        assert type(model) is ALGORITHMS[algo]
        assert saved == entry
        assert model.n_envs == entry.get("n_envs", 1)
        for name in PLAIN_ATTRS:
            if name in entry:
                assert getattr(model, name) == entry[name], name
        assert exp.n_timesteps == int(entry["n_timesteps"])
        assert exp.normalize == entry.get("normalize", False)
    finally:
        model.env.close()


def test_unknown_hyperparameter_in_a_file_names_the_key_and_the_file(tmp_path):
    conf = tmp_path / "typo.yml"
    conf.write_text("CartPole-v1:\n  n_timesteps: 1000\n  policy: MlpPolicy\n  kl_targt: 0.02\n")
    exp = manager(tmp_path, "ppo_penalty", "CartPole-v1", config=str(conf))
    with pytest.raises(ZooBridgeError, match=r"'kl_targt'.*typo\.yml.*Did you mean 'kl_target'"):
        exp.setup_experiment()
    assert not (tmp_path / "logs").exists()  # rejected before any log folder or model


def test_unknown_hyperparameter_given_with_params_says_so(tmp_path):
    exp = manager(tmp_path, "qlearning", "FrozenLake-v1", hyperparams={"epsilon": 0.1})
    with pytest.raises(ZooBridgeError, match=r"'epsilon' given with -params for qlearning \(QLearning\)"):
        exp.setup_experiment()


def test_entry_setting_a_command_line_argument_is_rejected(tmp_path):
    conf = tmp_path / "seeded.yml"
    conf.write_text("FrozenLake-v1:\n  n_timesteps: 1000\n  policy: TabularPolicy\n  seed: 3\n")
    with pytest.raises(ZooBridgeError, match=r"'seed'.*seeded\.yml.*command line"):
        manager(tmp_path, "sarsa", "FrozenLake-v1", config=str(conf)).setup_experiment()


def test_command_line_reports_a_bad_file_as_an_error_message(tmp_path, monkeypatch):
    conf = tmp_path / "typo.yml"
    conf.write_text("FrozenLake-v1:\n  n_timesteps: 1000\n  policy: TabularPolicy\n  learning_rte: 0.5\n")
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--algo", "qlearning", "--env", "FrozenLake-v1", "-conf", str(conf), "-f", str(tmp_path / "logs")])
    message = str(exit_info.value.code)  # sys.exit(message): printed on stderr, exit status 1
    assert message.startswith("sb3-notes-zoo train: error: unknown hyperparameter 'learning_rte'")
    assert str(conf) in message


def test_unknown_algo_lists_the_valid_keys(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--algo", "ppo_penalti", "--env", "CartPole-v1"])
    assert exit_info.value.code == 2  # argparse's usage error
    err = capsys.readouterr().err
    assert "invalid choice: 'ppo_penalti'" in err
    for key in [*ALGORITHMS, "ppo", "trpo"]:
        assert f"'{key}'" in err


def test_unknown_script_lists_the_scripts(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    with pytest.raises(SystemExit, match=r"unknown script 'trian'; choose from train, enjoy"):
        main(["trian"])


@pytest.mark.parametrize(
    ("algo", "env_id", "extra"),
    [("ppo_penalty", "CartPole-v1", ["-n", "256"]), ("qlearning", "FrozenLake-v1", ["-n", "500"])],
)
def test_train_writes_the_zoo_layout_from_the_shipped_file_and_enjoy_runs_it(
    tmp_path, monkeypatch, capsys, algo, env_id, extra
):
    train = run_zoo("train", "--algo", algo, "--env", env_id, "--seed", "1", "--num-threads", "1",
                    "--eval-freq", "-1", "-f", "logs", *extra, cwd=tmp_path)  # fmt: skip
    assert train.returncode == 0, train.stderr[-3000:]
    run_dir = tmp_path / "logs" / algo / f"{env_id}_1"
    entry = yaml.safe_load((HYPERPARAMS_DIR / f"{algo}.yml").read_text())[env_id]
    assert (run_dir / f"{env_id}.zip").is_file()
    assert len(list(run_dir.glob("*.monitor.csv"))) == entry.get("n_envs", 1)
    assert dict(yaml.unsafe_load((run_dir / env_id / "config.yml").read_text())) == entry
    assert yaml.unsafe_load((run_dir / env_id / "args.yml").read_text())["algo"] == algo
    assert f"Loading hyperparameters from: {HYPERPARAMS_DIR / algo}.yml" in train.stdout
    model = ALGORITHMS[algo].load(run_dir / f"{env_id}.zip")
    assert model.num_timesteps >= int(extra[1])

    # enjoy in this process (the command-line start is covered by train above)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    capsys.readouterr()
    main(["enjoy", "--algo", algo, "--env", env_id, "-f", "logs", "--no-render", "-n", "300", "--deterministic"])
    out = capsys.readouterr().out
    assert f"Loading logs/{algo}/{env_id}_1/{env_id}.zip" in out
    assert "Episode Reward:" in out  # at least one episode finished within 300 steps


def sampler_trials(key: str, n: int = 4) -> list[tuple[dict, dict]]:
    """(trial.params, what the sampler returned) for n random trials of the key's sampler."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    outputs = {}

    def objective(trial: optuna.Trial) -> float:
        outputs[trial.number] = SAMPLERS[key](trial, 0, 1, {})
        return 0.0

    study.optimize(objective, n_trials=n)
    return [(trial.params, outputs[trial.number]) for trial in study.trials]


@pytest.mark.parametrize("key", sorted(SAMPLERS))
def test_sampled_parameters_build_the_model_and_the_converter_rebuilds_them(key):
    cls = ALGORITHMS[key]
    env_id = "FrozenLake-v1" if "TabularPolicy" in cls.policy_aliases else "CartPole-v1"
    policy = next(iter(cls.policy_aliases))
    accepted = set(inspect.signature(cls.__init__).parameters)
    for params, sampled in sampler_trials(key):
        assert set(sampled) <= accepted
        # --trial-id rebuilds a stored trial's arguments from its params alone
        assert CONVERTERS[key](params) == sampled
        model = cls(policy, env_id, **sampled)
        for name, value in sampled.items():
            if name != "policy_kwargs" and not callable(value):
                assert getattr(model, name) == value, name


def test_ppo_penalty_sampler_never_asks_for_a_minibatch_larger_than_the_rollout():
    params = {"n_steps_pow": 5, "batch_size_pow": 9, "one_minus_gamma": 0.01, "one_minus_gae_lambda": 0.05,
              "net_arch": "tiny", "activation_fn": "tanh"}  # fmt: skip
    assert CONVERTERS["ppo_penalty"](params)["batch_size"] == 32
    assert CONVERTERS["ppo_penalty"](params)["gamma"] == pytest.approx(0.99)


def optimize_args(algo: str, env_id: str, storage: str, seed: int, budget: str) -> list[str]:
    return ["train", "--algo", algo, "--env", env_id, "-optimize", "--n-trials", "2", "--n-jobs", "1",
            "--storage", storage, "--study-name", "shared", "--sampler", "random", "--pruner", "none",
            "--eval-episodes", "1", "--no-optim-plots", "-n", budget, "-params", "n_envs:1",
            "--seed", str(seed), "--num-threads", "1", "--verbose", "0", "-f", "logs"]  # fmt: skip


@pytest.mark.parametrize(
    ("algo", "env_id", "budget", "storage_name"),
    [("ppo_penalty", "CartPole-v1", "256", "sqlite"), ("qlearning", "FrozenLake-v1", "1000", "journal")],
)
def test_two_workers_started_together_share_one_study(tmp_path, algo, env_id, budget, storage_name):
    if storage_name == "sqlite":
        storage_arg = f"sqlite:///{tmp_path / 'study.db'}"
    else:
        storage_arg = str(tmp_path / "optuna" / "journal.log")  # the zoo's spelling: a path ending in .log
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen(
            zoo_command(*optimize_args(algo, env_id, storage_arg, seed, budget)),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
    study = optuna.load_study(study_name="shared", storage=open_storage(storage_arg))
    states = [trial.state for trial in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE] * 4
    assert all(np.isfinite(trial.value) for trial in study.trials)
    assert set(study.trials[0].params) == set(sampler_trials(algo, 1)[0][0])
    assert "-optimize" in study.user_attrs["command"]
    assert len(list((tmp_path / "logs" / algo).glob("report_*.csv"))) >= 1  # the zoo's report (needs pandas)


def test_unreachable_storage_fails_clearly_before_writing_anything(tmp_path, monkeypatch):
    url = "postgresql://nobody@127.0.0.1:1/x"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    with pytest.raises(SystemExit) as exit_info:
        main(optimize_args("qlearning", "FrozenLake-v1", url, 0, "500"))
    assert str(exit_info.value.code).startswith(f"sb3-notes-zoo train: error: cannot open the Optuna storage '{url}'")
    assert not (tmp_path / "logs").exists()


def test_sqlite_storage_in_a_missing_folder_fails_and_creates_nothing(tmp_path):
    missing = tmp_path / "no" / "such" / "folder" / "study.db"
    with pytest.raises(ZooBridgeError, match="cannot open the Optuna storage"):
        manager(tmp_path, "qlearning", "FrozenLake-v1", optimize_hyperparameters=True, storage=f"sqlite:///{missing}")
    assert not (tmp_path / "no").exists()
    assert not (tmp_path / "logs").exists()


def test_bad_input_found_after_the_storage_opened_leaves_no_study_in_it(tmp_path, monkeypatch):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    with pytest.raises(SystemExit, match="unknown hyperparameter 'epsilon'"):
        main([*optimize_args("qlearning", "FrozenLake-v1", storage, 0, "500"), "-params", "epsilon:0.1"])
    assert optuna.get_all_study_names(storage=storage) == []


def test_zoo_plot_train_reads_our_training_logs(tmp_path, monkeypatch):
    pytest.importorskip("seaborn")  # the zoo's plots need its `plots` dependencies
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    monkeypatch.setattr(plt, "show", lambda: None)
    main(["train", "--algo", "qlearning", "--env", "FrozenLake-v1", "-n", "2000", "--seed", "0", "--eval-freq", "-1",
          "-f", "logs", "--verbose", "0"])  # fmt: skip
    main(["plot_train", "-a", "qlearning", "-e", "FrozenLake-v1", "-f", "logs", "-w", "10"])
    lines = plt.gcf().axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["FrozenLake-v1_1"]
    assert len(lines[0].get_xdata()) > 10  # one point per finished episode after the first window
    plt.close("all")
