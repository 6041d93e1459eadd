"""Tuning that holds up: multi-seed trials, a live PostgreSQL shared by workers, workers killed mid-trial, `tune`."""

import argparse
import functools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml
from optuna.trial import TrialState
from rl_zoo3.hyperparams_opt import HYPERPARAMS_SAMPLER

from sb3_notes import PPOPenalty
from sb3_notes.zoo import NotesExperimentManager, TuningOptions, ZooBridgeError, open_storage, register
from sb3_notes.zoo.__main__ import main
from sb3_notes.zoo.cluster import best_entry, study_progress
from sb3_notes.zoo.samplers import CONVERTERS, SAMPLERS
from sb3_notes.zoo.tuning import (
    aggregate,
    convert_trial_params,
    focused_sampler,
    parse_tuning_args,
    searchable_params,
    trial_seeds,
    zoo_entry,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

WORKER_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def zoo(*args: str) -> list[str]:
    return [sys.executable, "-m", "sb3_notes.zoo", *args]


def search_args(algo: str, env_id: str, storage: str, study: str, budget: str, *extra: str) -> list[str]:
    """A tiny `train -optimize` command line: random sampler, no pruning, one thread, quiet."""
    return ["train", "--algo", algo, "--env", env_id, "-optimize", "--storage", storage, "--study-name", study,
            "--sampler", "random", "--pruner", "none", "--no-optim-plots", "-n", budget, "--num-threads", "1",
            "--verbose", "0", "-f", "logs", *extra]  # fmt: skip


def cartpole_manager(tmp_path: Path, tuning: TuningOptions, **kwargs) -> NotesExperimentManager:
    """A CartPole-v1 search as `train -optimize -n 512 -params n_envs:1 --n-evaluations 2` builds it, set up."""
    register()
    kwargs = {"n_timesteps": 512, "n_evaluations": 2, "n_eval_episodes": 2, "seed": 5, "verbose": 0, "device": "cpu",
              "optimize_hyperparameters": True, "hyperparams": {"n_envs": 1}, **kwargs}  # fmt: skip
    exp = NotesExperimentManager(
        argparse.Namespace(algo="ppo_penalty", env="CartPole-v1"), "ppo_penalty", "CartPole-v1", str(tmp_path / "logs"),
        tuning=tuning, **kwargs,
    )  # fmt: skip
    assert exp.setup_experiment() is None  # -optimize: hyperparameters read, no model yet
    return exp


PPO_PARAMS = {"n_steps_pow": 7, "batch_size_pow": 6, "n_epochs": 5, "one_minus_gamma": 0.02, "one_minus_gae_lambda": 0.05,
              "learning_rate": 1e-3, "ent_coef": 1e-6, "kl_target": 0.01, "kl_coef": 1.0, "max_grad_norm": 0.5,
              "net_arch": "tiny", "activation_fn": "tanh"}  # fmt: skip


# --- aggregates, seeds, the zoo entry -------------------------------------------------------------------------------


def test_aggregates_of_known_values():
    values = [7.0, 1.0, 100.0, 3.0, 2.0, 6.0, 4.0, 5.0]
    assert aggregate(values, "median") == 4.5
    assert aggregate(values, "mean") == pytest.approx(16.0)
    assert aggregate(values, "iqm") == pytest.approx(4.5)  # 8 values: 2 cut at each end, mean of 3, 4, 5, 6
    assert aggregate([1.0, 2.0, 30.0], "iqm") == pytest.approx(11.0)  # fewer than 4: nothing cut, as rliable
    assert aggregate([1.0, 2.0, 30.0], "median") == 2.0


def test_trial_seeds_depend_on_the_seed_and_the_trial_number_only():
    assert trial_seeds(0, 3, 3) == trial_seeds(0, 3, 3)
    assert trial_seeds(0, 3, 2) == trial_seeds(0, 3, 3)[:2]  # a prefix: more seeds keep the first ones
    seeds = {seed for number in range(20) for seed in trial_seeds(7, number, 3)}
    assert len(seeds) == 60  # no seed shared between the trials of a study
    assert set(trial_seeds(8, 0, 3)).isdisjoint(trial_seeds(7, 0, 3))
    assert all(0 <= seed < 2**32 for seed in seeds)


def test_zoo_entry_writes_policy_kwargs_as_the_zoo_reads_them():
    from rl_zoo3 import exp_manager

    hyperparams = CONVERTERS["ppo_penalty"](PPO_PARAMS)
    entry = zoo_entry({"n_timesteps": 1e5, "policy": "MlpPolicy", "n_envs": 8}, hyperparams)
    assert entry["policy_kwargs"] == "dict(net_arch=dict(pi=[64], vf=[64]), activation_fn=nn.Tanh)"
    # the zoo evals policy_kwargs strings in its exp_manager module
    assert eval(entry["policy_kwargs"], vars(exp_manager)) == hyperparams["policy_kwargs"]
    assert entry["n_steps"] == 128 and entry["batch_size"] == 64 and entry["n_envs"] == 8
    assert yaml.safe_load(yaml.safe_dump(entry)) == entry  # plain YAML, no Python tags


# --- multi-seed trials -----------------------------------------------------------------------------------------------


def test_lock_step_seeds_run_as_they_would_alone_and_reruns_repeat(tmp_path):
    trial_2 = optuna.trial.FixedTrial(PPO_PARAMS, number=4)
    trial_3 = optuna.trial.FixedTrial(PPO_PARAMS, number=4)
    trial_3_again = optuna.trial.FixedTrial(PPO_PARAMS, number=4)
    value_2 = cartpole_manager(tmp_path, TuningOptions(trial_seeds=2)).objective(trial_2)
    value_3 = cartpole_manager(tmp_path, TuningOptions(trial_seeds=3)).objective(trial_3)
    cartpole_manager(tmp_path, TuningOptions(trial_seeds=3)).objective(trial_3_again)
    values = trial_3.user_attrs["seed_values"]
    assert trial_3.user_attrs["seeds"] == trial_seeds(5, 4, 3)
    assert value_3 == np.median(values) and value_2 == np.mean(values[:2])  # the median of 2 is their mean
    # The first two seeds, trained with a third one interleaved, give what they give without it.
    assert trial_2.user_attrs["seed_values"] == values[:2]
    assert trial_3_again.user_attrs["seed_values"] == values
    assert trial_3.user_attrs["n_evaluations_run"] == 2  # -n 512: evaluations at 256 and 512 steps


def test_pruned_multi_seed_trial_is_cut_on_the_aggregate_and_records_its_seeds(tmp_path):
    exp = cartpole_manager(tmp_path, TuningOptions(trial_seeds=3, trial_aggregate="mean"))
    # The pruner sees the aggregate of the 3 seeds at step 1 and cuts it: nothing reaches 1e9.
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=1e9))
    study.enqueue_trial(PPO_PARAMS)
    study.optimize(exp.objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["n_seeds_run"] == 3
    assert trial.user_attrs["pruned_at_step"] == 1
    assert trial.user_attrs["n_evaluations_run"] == 1
    assert len(trial.user_attrs["seed_values"]) == 3
    assert trial.intermediate_values == {1: pytest.approx(np.mean(trial.user_attrs["seed_values"]))}


def test_trial_seeds_3_from_the_command_line_and_replay_with_trial_id(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    run = subprocess.run(
        zoo(*search_args("ppo_penalty", "CartPole-v1", storage, "seeds", "256", "--n-trials", "2", "--seed", "11",
                         "-params", "n_envs:1", "--eval-episodes", "2", "--n-evaluations", "2", "--trial-seeds", "3")),
        cwd=tmp_path, env=WORKER_ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    study = optuna.load_study(study_name="seeds", storage=storage)
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 2
    for trial in study.trials:
        values = trial.user_attrs["seed_values"]
        assert len(values) == 3 and trial.user_attrs["n_seeds_run"] == 3
        assert trial.value == np.median(values)
        assert trial.user_attrs["seeds"] == trial_seeds(11, trial.number, 3)
        assert trial.intermediate_values[max(trial.intermediate_values)] == trial.value
    assert "seed_values" in run.stdout  # the zoo's report of the best trial lists its user attributes
    report = next((tmp_path / "logs" / "ppo_penalty").glob("report_*.csv")).read_text()
    assert "user_attrs_seed_values" in report

    replay = subprocess.run(
        zoo("train", "--algo", "ppo_penalty", "--env", "CartPole-v1", "--storage", storage, "--study-name", "seeds",
            "--trial-id", "1", "-n", "256", "-params", "n_envs:1", "--eval-freq", "-1", "--seed", "0", "-f", "replay"),
        cwd=tmp_path, env=WORKER_ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr[-3000:]
    config = dict(yaml.unsafe_load((tmp_path / "replay/ppo_penalty/CartPole-v1_1/CartPole-v1/config.yml").read_text()))
    rebuilt = CONVERTERS["ppo_penalty"](study.trials[1].params)
    assert config["n_steps"] == rebuilt["n_steps"] and config["kl_target"] == rebuilt["kl_target"]


# --- a search over some parameters, the entry keeping the rest --------------------------------------------------------


def test_searchable_params_are_those_sampled_under_their_own_argument_name():
    register()
    assert searchable_params(HYPERPARAMS_SAMPLER["ppo_penalty"]) == [
        "ent_coef", "kl_coef", "kl_target", "learning_rate", "max_grad_norm", "n_epochs"]  # fmt: skip
    assert "clip_range" in searchable_params(HYPERPARAMS_SAMPLER["ppo"])  # the zoo's own samplers too
    with pytest.raises(ValueError, match=r"--search-params n_steps gamma: .* accepted: ent_coef, kl_coef, kl_target"):
        focused_sampler(HYPERPARAMS_SAMPLER["ppo_penalty"], ["kl_target", "n_steps", "gamma"])


def test_parameters_tied_to_others_are_not_searchable_alone():
    def sampler(trial, n_actions, n_envs, additional_args):
        n_quantiles = trial.suggest_int("n_quantiles", 5, 50)
        train_freq = trial.suggest_categorical("train_freq", [1, 4, 8])
        return {
            "n_quantiles": n_quantiles,
            "top_quantiles_to_drop": trial.suggest_int("top_quantiles_to_drop", 0, n_quantiles - 1),  # range tied
            "train_freq": train_freq,
            "gradient_steps": train_freq,  # set from another parameter
            "tau": trial.suggest_float("tau", 0.001, 0.08, log=True),
            "scaled": trial.suggest_float("scaled", 0.1, 1.0) * n_quantiles,  # value tied
        }

    # n_quantiles moves scaled, train_freq gradient_steps; scaled moves with n_quantiles, top_quantiles_to_drop its range
    assert searchable_params(sampler) == ["tau"]
    register()
    assert "train_freq" not in searchable_params(HYPERPARAMS_SAMPLER["sac"])  # the zoo's gradient_steps = train_freq


def test_a_full_trial_of_a_conditional_sampler_converts_as_the_zoo_converts_it():
    full = {"returns": "reward_to_go", "baseline": "value", "n_episodes": 4, "learning_rate": 1e-3,
            "one_minus_gamma": 0.01, "ent_coef": 1e-4, "normalize_advantage": True, "net_arch": "tiny",
            "activation_fn": "tanh", "one_minus_gae_lambda": 0.05}  # fmt: skip
    convert = CONVERTERS["reinforce"]
    assert convert_trial_params(SAMPLERS["reinforce"], convert, full) == convert(full)
    without_lambda = {k: v for k, v in full.items() if k != "one_minus_gae_lambda"} | {"baseline": "none"}
    assert convert_trial_params(SAMPLERS["reinforce"], convert, without_lambda) == convert(without_lambda)
    assert convert_trial_params(SAMPLERS["reinforce"], convert, {"n_episodes": 8, "baseline": "none"}) == {
        "n_episodes": 8, "baseline": "none"}  # fmt: skip
    with pytest.raises(ValueError, match="no parameters"):
        convert_trial_params(SAMPLERS["reinforce"], convert, {})


@pytest.mark.parametrize("n_seeds", ["1", "2"])  # the zoo's objective, then ours (lock-step)
def test_search_params_trains_the_entry_with_only_the_searched_values_and_replays_them(tmp_path, monkeypatch, n_seeds):
    built = []
    init = PPOPenalty.__init__

    @functools.wraps(init)  # the bridge checks entries against the constructor's signature
    def spy(self, *args, **kwargs):
        built.append(kwargs)
        init(self, *args, **kwargs)

    monkeypatch.setattr(PPOPenalty, "__init__", spy)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    main([*search_args("ppo_penalty", "CartPole-v1", storage, "focus", "256", "--n-trials", "2", "--seed", "3",
                       "-params", "n_envs:1", "batch_size:32", "--eval-episodes", "2", "--n-evaluations", "1",
                       "--trial-seeds", n_seeds, "--search-params", "kl_target", "n_epochs")])  # fmt: skip
    study = optuna.load_study(study_name="focus", storage=storage)
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 2
    assert all(set(trial.params) == {"kl_target", "n_epochs"} for trial in study.trials)
    assert len(built) == 2 * int(n_seeds)
    for trial, kwargs in zip(np.repeat(study.trials, int(n_seeds)), built, strict=True):
        assert (kwargs["kl_target"], kwargs["n_epochs"]) == (trial.params["kl_target"], trial.params["n_epochs"])
        # The shipped CartPole-v1 entry, and -params, for everything else.
        assert (kwargs["n_steps"], kwargs["batch_size"], kwargs["gamma"], kwargs["gae_lambda"]) == (32, 32, 0.98, 0.8)
        assert "policy_kwargs" not in kwargs
    # --trial-id and tune's entry lay the trial over the entry as the search did.
    best = study.best_trial
    entry, _ = best_entry(study, "ppo_penalty", "CartPole-v1", custom_hyperparams={"n_envs": 1, "batch_size": 32})
    assert (entry["kl_target"], entry["n_epochs"]) == (best.params["kl_target"], best.params["n_epochs"])
    assert (entry["n_steps"], entry["gamma"], entry["learning_rate"]) == (32, 0.98, "lin_0.001")
    exp = NotesExperimentManager(
        argparse.Namespace(algo="ppo_penalty", env="CartPole-v1"), "ppo_penalty", "CartPole-v1", str(tmp_path / "replay"),
        storage=storage, study_name="focus", trial_id=best.number, hyperparams={"n_envs": 1}, verbose=0,
    )  # fmt: skip
    hyperparams, _ = exp.read_hyperparameters()
    assert (hyperparams["kl_target"], hyperparams["n_steps"], hyperparams["batch_size"]) == (best.params["kl_target"], 32, 256)


def test_search_params_that_the_sampler_does_not_search_fail_before_any_study(tmp_path, monkeypatch):
    storage = tmp_path / "study.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    with pytest.raises(SystemExit, match=r"--search-params gamma: .*\(ppo_penalty\)"):
        main(search_args("ppo_penalty", "CartPole-v1", f"sqlite:///{storage}", "bad", "256", "--search-params", "gamma"))
    assert not storage.exists()
    assert not (tmp_path / "logs").exists()
    with pytest.raises(SystemExit):
        parse_tuning_args(["--algo", "ppo_penalty", "--search-params", "kl_target"])  # not a search
    with pytest.raises(SystemExit, match=r"--search-params gamma: .*\(ppo_penalty\)"):  # tune: before any worker
        main(["tune", "--workers", "2", *search_args("ppo_penalty", "CartPole-v1", f"sqlite:///{storage}", "bad", "256",
                                                      "--search-params", "gamma")[1:]])  # fmt: skip
    assert not storage.exists()
    assert not (tmp_path / "logs").exists()


# --- bad input -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--trial-seeds", "0"], "--trial-seeds: must be at least 1, got 0"),
        (["--trial-seeds", "two"], "--trial-seeds: expected a whole number, got 'two'"),
        (["--trial-aggregate", "best"], "--trial-aggregate: invalid choice: 'best'"),
        (["--heartbeat-interval", "-1"], "--heartbeat-interval: must be 0 or more"),
    ],
)
def test_bad_tuning_options_fail_before_any_study(tmp_path, monkeypatch, capsys, extra, message):
    storage = tmp_path / "study.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    with pytest.raises(SystemExit) as exit_info:
        main([*search_args("qlearning", "FrozenLake-v1", f"sqlite:///{storage}", "bad", "500"), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not storage.exists()
    assert not (tmp_path / "logs").exists()


def test_trial_seeds_without_optimize_is_an_error():
    with pytest.raises(SystemExit):
        parse_tuning_args(["--algo", "ppo_penalty", "--trial-seeds", "3"])
    options, rest = parse_tuning_args(["-optimize", "--sampler", "random", "--trial-seeds", "3", "--trial-aggregate", "iqm"])
    assert options == TuningOptions(trial_seeds=3, trial_aggregate="iqm")
    assert rest == ["-optimize", "--sampler", "random"]  # the zoo's --sampler is not read as --sampler-seed


def test_unresolvable_database_host_fails_clearly(tmp_path, monkeypatch):
    url = "postgresql+psycopg://optuna:secret@no-such-host.invalid:5432/optuna"
    pytest.importorskip("psycopg")
    with pytest.raises(ZooBridgeError) as error:
        open_storage(url)
    message = str(error.value)
    assert message.startswith("cannot open the Optuna storage 'postgresql+psycopg://optuna:***@no-such-host.invalid:5432")
    assert "failed to resolve host 'no-such-host.invalid'" in message and "Nothing was written" in message
    assert "secret" not in message


# --- a live PostgreSQL -----------------------------------------------------------------------------------------------


def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server on 127.0.0.1 with a database `optuna`, the recipe of docs/zoo.md."""
    pytest.importorskip("psycopg")
    initdb, pg_ctl, createdb = (_postgres_bin(name) for name in ("initdb", "pg_ctl", "createdb"))
    if not (initdb and pg_ctl and createdb):
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, createdb) on this machine")
    as_user: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses root: run the server as the unprivileged user the Debian package creates.
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="sb3-notes-pg-"))  # not under pytest's tmp: that is private to root
    password = "optuna-test-password"
    (root / "pw").write_text(password + "\n")
    if as_user:
        for path in (root, root / "pw"):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = _free_port()
    data = root / "data"
    started = False
    try:
        init = subprocess.run([*as_user, initdb, "-D", str(data), "-U", "optuna", f"--pwfile={root / 'pw'}",
                               "-A", "scram-sha-256"], capture_output=True, text=True, timeout=120)  # fmt: skip
        if init.returncode != 0:
            pytest.skip(f"initdb failed: {init.stderr[-500:]}")
        start = subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "60",
                                "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"],
                               capture_output=True, text=True, timeout=120)  # fmt: skip
        if start.returncode != 0:
            pytest.skip(f"PostgreSQL did not start: {start.stdout[-500:]} {start.stderr[-500:]}")
        started = True
        subprocess.run([createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "optuna", "optuna"],
                       env={**os.environ, "PGPASSWORD": password}, check=True, timeout=60)  # fmt: skip
        yield f"postgresql://optuna:{password}@127.0.0.1:{port}/optuna"
    finally:
        if started:
            subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_sqlalchemy_plain_postgresql_url_uses_psycopg_3():
    # docs/zoo.md tells users `postgresql://` works with the postgres extra (psycopg 3), not psycopg2.
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    assert sqlalchemy.create_engine("postgresql://u:p@127.0.0.1:1/x").dialect.driver == "psycopg"


@pytest.mark.xdist_group("postgres")
def test_three_workers_in_their_own_directories_share_one_postgres_study(tmp_path, postgres_url):
    workers = []
    for index in range(3):
        machine = tmp_path / f"machine{index}"  # as if on separate machines: nothing shared but the database
        machine.mkdir()
        args = search_args("qlearning", "FrozenLake-v1", postgres_url, "pg-three", "1000", "--n-trials", "2",
                           "--seed", str(index), "--eval-episodes", "5", "--trial-seeds", "2")  # fmt: skip
        workers.append(subprocess.Popen(zoo(*args), cwd=machine, env=WORKER_ENV, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True))  # fmt: skip
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
    study = optuna.load_study(study_name="pg-three", storage=postgres_url)
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 6
    assert len({trial.user_attrs["worker"] for trial in study.trials}) == 3
    for trial in study.trials:
        assert 0.0 <= trial.value <= 1.0 and trial.value == np.median(trial.user_attrs["seed_values"])
    for index in range(3):
        assert list((tmp_path / f"machine{index}" / "logs" / "qlearning").glob("report_*.csv"))


@pytest.mark.xdist_group("postgres")
def test_wrong_postgres_password_fails_before_any_study(tmp_path, monkeypatch, postgres_url):
    wrong = postgres_url.replace("optuna-test-password", "not-the-password")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["sb3-notes-zoo"])
    with pytest.raises(SystemExit) as exit_info:
        main(search_args("qlearning", "FrozenLake-v1", wrong, "pg-wrong", "500", "--trial-seeds", "3"))
    message = str(exit_info.value.code)
    assert message.startswith("sb3-notes-zoo train: error: cannot open the Optuna storage 'postgresql://optuna:***@127.0.0.1")
    assert "not-the-password" not in message
    assert 'password authentication failed for user "optuna"' in message
    assert not (tmp_path / "logs").exists()
    assert "pg-wrong" not in optuna.get_all_study_names(storage=postgres_url)


# --- workers that die ------------------------------------------------------------------------------------------------


def _retry_open(storage: str) -> optuna.storages.BaseStorage:
    # The workers may be creating the tables of a fresh SQLite file at this very moment.
    for _ in range(50):
        try:
            return open_storage(storage)
        except ZooBridgeError:
            time.sleep(0.2)
    return open_storage(storage)


def _kill_mid_trial(victim: subprocess.Popen, storage: str, study_name: str) -> tuple[int, dict[int, float]]:
    """
    SIGKILL the victim once it runs a trial that has reported a value and some trial of the study is complete;
    return the killed trial's number and the values of the trials complete at that moment.
    """
    worker = f"{socket.gethostname()}:{victim.pid}"
    # One storage for the whole watch: a new one per poll would open a new connection pool each time.
    opened = _retry_open(storage)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert victim.poll() is None, "the victim ended before it could be killed mid-trial"
        try:
            study = optuna.load_study(study_name=study_name, storage=opened)
        except KeyError:  # the workers have not created the study yet
            time.sleep(0.2)
            continue
        running = [
            trial
            for trial in study.get_trials(states=(TrialState.RUNNING,))
            if trial.user_attrs.get("worker") == worker and trial.intermediate_values
        ]
        if running and study.get_trials(states=(TrialState.COMPLETE,)):
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            # The trial seen RUNNING may have ended in the moment before the kill (trials last about a second), and
            # the victim started its next one: the killed trial is the one still RUNNING under its name now.
            left = [t for t in study.get_trials(states=(TrialState.RUNNING,)) if t.user_attrs.get("worker") == worker]
            done = {trial.number: trial.value for trial in study.get_trials(states=(TrialState.COMPLETE,))}
            return (left or running)[0].number, done
        time.sleep(0.1)
    raise AssertionError("the victim never ran a trial")


@pytest.mark.xdist_group("postgres")
@pytest.mark.parametrize(("storage_name", "retries"), [("sqlite", 0), ("sqlite", 1), ("postgres", 0)])
def test_a_worker_killed_mid_trial_fails_its_trial_and_the_others_finish(tmp_path, request, storage_name, retries):
    storage = request.getfixturevalue("postgres_url") if storage_name == "postgres" else f"sqlite:///{tmp_path / 'study.db'}"
    study_name = f"fault-{storage_name}-{retries}"
    # Each survivor has trials left after the kill well beyond the grace period: one of them fails the dead trial.
    n_trials = 6
    workers = []
    for index in range(3):
        machine = tmp_path / f"machine{index}"
        machine.mkdir()
        # FrozenLake trials of 10k steps with 10 evaluations: about a second each. The victim's are ten times longer,
        # so that the kill, sent after its first evaluation, lands mid-trial even on a fast machine.
        budget = "100000" if index == 0 else "10000"
        args = search_args("qlearning", "FrozenLake-v1", storage, study_name, budget, "--n-trials", str(n_trials),
                           "--seed", str(index), "--eval-episodes", "5", "--n-evaluations", "10",
                           "--heartbeat-interval", "1", "--heartbeat-grace", "2", "--trial-retries", str(retries))  # fmt: skip
        workers.append(subprocess.Popen(zoo(*args), cwd=machine, env=WORKER_ENV, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True))  # fmt: skip
    victim, survivors = workers[0], workers[1:]
    killed, done_before = _kill_mid_trial(victim, storage, study_name)
    for worker in survivors:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
    victim.stderr.close()  # type: ignore[union-attr]

    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.trials
    assert trials[killed].state == TrialState.FAIL  # not RUNNING for ever: failed by a survivor's heartbeat check
    assert done_before
    for number, value in done_before.items():
        assert trials[number].state == TrialState.COMPLETE and trials[number].value == value  # nothing lost
    others = [trial for trial in trials if trial.number != killed]
    assert all(trial.state == TrialState.COMPLETE for trial in others)
    victim_completed = len([t for t in others if t.user_attrs["worker"].endswith(f":{victim.pid}")])
    assert victim_completed == len([n for n in done_before if trials[n].user_attrs["worker"].endswith(f":{victim.pid}")])
    assert len(others) == 2 * n_trials + victim_completed
    retried = [trial for trial in trials if trial.system_attrs.get("failed_trial") == killed]
    if retries:
        # Re-queued with its parameters and run to the end by a survivor (counted in its --n-trials).
        assert len(retried) == 1 and retried[0].state == TrialState.COMPLETE
        assert retried[0].params == trials[killed].params
    else:
        assert retried == []


# --- one command for a cluster ---------------------------------------------------------------------------------------


def test_tune_runs_workers_shows_progress_and_writes_a_shippable_entry(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    args = search_args("qlearning", "FrozenLake-v1", storage, "tuned", "2000", "--max-total-trials", "4", "--seed", "3",
                       "--eval-episodes", "5", "--trial-seeds", "2", "--trial-aggregate", "mean")[1:]  # fmt: skip
    run = subprocess.run(zoo("tune", "--workers", "2", "--progress-interval", "0.5", "--best-yaml", "best.yml", *args),
                         cwd=tmp_path, env=WORKER_ENV, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    study = optuna.load_study(study_name="tuned", storage=storage)
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 4
    assert len({trial.user_attrs["worker"] for trial in study.trials}) == 2
    assert len(set(map(str, (trial.params for trial in study.trials)))) == 4  # each worker its own sampler seed
    assert f"[tune] 2 workers on study 'tuned' at {storage}" in run.stdout
    assert study_progress(study) in run.stdout  # the last progress line is the final state
    assert "tuned: 4 trials: 4 complete, 0 pruned, 0 failed, 0 running; best" in study_progress(study)
    assert len(list((tmp_path / "logs" / "qlearning" / "tune").glob("tuned_worker*.log"))) == 2

    text = (tmp_path / "best.yml").read_text()
    best = study.best_trial
    assert f"trial {best.number} of 4" in text and str(best.user_attrs["seed_values"]) in text
    entry = yaml.safe_load(text)["FrozenLake-v1"]
    assert entry == best_entry(study, "qlearning", "FrozenLake-v1", n_timesteps=2000)[0]
    assert entry["n_timesteps"] == 2000  # the budget the trials were scored on, not the shipped entry's
    assert entry["gamma"] == pytest.approx(1 - best.params["one_minus_gamma"])
    assert entry["learning_rate"] == best.params["learning_rate"]
    # ready to ship: the zoo trains from it as a -conf file
    train = subprocess.run(zoo("train", "--algo", "qlearning", "--env", "FrozenLake-v1", "-conf", "best.yml", "-n", "500",
                               "--eval-freq", "-1", "--seed", "0", "-f", "shipped"),
                           cwd=tmp_path, env=WORKER_ENV, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert train.returncode == 0, train.stderr[-3000:]
    saved = dict(yaml.unsafe_load((tmp_path / "shipped/qlearning/FrozenLake-v1_1/FrozenLake-v1/config.yml").read_text()))
    assert saved["learning_rate"] == best.params["learning_rate"]


def test_trial_id_0_replays_the_first_trial(tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=storage, study_name="replay", direction="maximize")
    study.enqueue_trial(PPO_PARAMS)
    study.optimize(lambda trial: (SAMPLERS["ppo_penalty"](trial, 0, 1, {}), 1.0)[1], n_trials=1)
    register()
    exp = NotesExperimentManager(
        argparse.Namespace(algo="ppo_penalty", env="CartPole-v1"), "ppo_penalty", "CartPole-v1", str(tmp_path / "logs"),
        storage=storage, study_name="replay", trial_id=0, hyperparams={"n_envs": 2}, verbose=0,
    )  # fmt: skip
    hyperparams, saved = exp.read_hyperparameters()
    assert hyperparams["n_steps"] == 128 and hyperparams["kl_target"] == 0.01  # the trial's, not the file's 32
    assert hyperparams["n_envs"] == 2  # -params still wins
    assert list(saved) == sorted(hyperparams) and saved["n_steps"] == 128
