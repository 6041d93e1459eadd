"""Optuna samplers and converters for ``train -optimize`` and ``--trial-id`` (the zoo's ``hyperparams_opt`` API).

A sampler suggests raw parameters on an Optuna trial (powers of two, ``one_minus_gamma``, net size names, as
the zoo's own samplers do, so the search space reads the same) and returns the constructor keyword arguments
made from them by the matching converter. ``--trial-id`` rebuilds the arguments of a stored trial by calling
the converter on ``trial.params``, so ``converter(trial.params) == sampler(trial, ...)`` for every sampler.
Every argument a sampler returns is one its class's constructor accepts.
"""

from collections.abc import Callable
from typing import Any

import optuna
from rl_zoo3.hyperparams_opt import convert_onpolicy_params
from torch import nn

from sb3_notes.common.returns import BASELINES, RETURNS

Sampler = Callable[[optuna.Trial, int, int, dict], dict[str, Any]]
Converter = Callable[[dict[str, Any]], dict[str, Any]]

_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
_SHARED_NET_ARCH = {"tiny": [64], "small": [64, 64], "medium": [256, 256]}


def _one_minus(params: dict[str, Any], name: str) -> None:
    # gamma and λ close to 1 are searched on a log scale of 1 - value, as the zoo does.
    params[name] = 1.0 - params.pop(f"one_minus_{name}")


def convert_ppo_penalty_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the raw trial parameters of PPOPenalty or TRPO (the same on-policy search space) into constructor arguments.

    :param sampled_params: ``trial.params`` of a trial sampled by :func:`sample_ppo_penalty_params` or
        :func:`sample_trpo_notes_params`
    :return: keyword arguments for ``PPOPenalty`` / ``sb3_notes.TRPO``
    """
    hyperparams = convert_onpolicy_params(sampled_params)
    # Both reject or truncate batch_size > n_steps * n_envs; capping at n_steps is safe for any n_envs >= 1.
    hyperparams["batch_size"] = min(hyperparams["batch_size"], hyperparams["n_steps"])
    return hyperparams


convert_trpo_notes_params = convert_ppo_penalty_params  # the same conversion: one search space for both


def sample_ppo_penalty_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sample PPOPenalty's hyperparameters: the KL penalty (``kl_target`` d_targ, initial β ``kl_coef``) and the
    usual PPO ones.

    :param trial: Optuna trial
    :param n_actions: Number of continuous actions (unused)
    :param n_envs: Number of parallel envs (unused: batch_size is capped at n_steps)
    :param additional_args: Zoo extras (unused)
    :return: keyword arguments for ``PPOPenalty``
    """
    params = {
        "n_steps_pow": trial.suggest_int("n_steps_pow", 5, 11),
        "batch_size_pow": trial.suggest_int("batch_size_pow", 5, 9),
        "n_epochs": trial.suggest_categorical("n_epochs", [1, 5, 10, 20]),
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-4, 0.03, log=True),
        "one_minus_gae_lambda": trial.suggest_float("one_minus_gae_lambda", 1e-4, 0.1, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 2e-3, log=True),
        "ent_coef": trial.suggest_float("ent_coef", 1e-8, 0.1, log=True),
        # d_targ: the paper tries 0.003, 0.01 and 0.03.
        "kl_target": trial.suggest_float("kl_target", 1e-3, 0.1, log=True),
        # Initial β: the paper reports the rule is insensitive to it; the range checks that claim.
        "kl_coef": trial.suggest_float("kl_coef", 0.1, 10.0, log=True),
        "max_grad_norm": trial.suggest_float("max_grad_norm", 0.3, 2.0),
        "net_arch": trial.suggest_categorical("net_arch", ["tiny", "small", "medium"]),
        "activation_fn": trial.suggest_categorical("activation_fn", ["tanh", "relu"]),
    }
    hyperparams = convert_ppo_penalty_params(params)
    for name in ("gamma", "n_steps", "batch_size"):
        trial.set_user_attr(name, hyperparams[name])
    return hyperparams


def sample_trpo_notes_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sample TRPO's hyperparameters: the trust region (``target_kl`` δ), the Fisher damping ``cg_damping`` and
    conjugate-gradient / line-search settings, and the critic's.

    :param trial: Optuna trial
    :param n_actions: Number of continuous actions (unused)
    :param n_envs: Number of parallel envs (unused)
    :param additional_args: Zoo extras (unused)
    :return: keyword arguments for ``sb3_notes.TRPO``
    """
    params = {
        "n_steps_pow": trial.suggest_int("n_steps_pow", 7, 11),
        "batch_size_pow": trial.suggest_int("batch_size_pow", 5, 9),
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-4, 0.03, log=True),
        "one_minus_gae_lambda": trial.suggest_float("one_minus_gae_lambda", 1e-4, 0.1, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 2e-3, log=True),
        "target_kl": trial.suggest_float("target_kl", 1e-3, 0.1, log=True),
        "cg_damping": trial.suggest_float("cg_damping", 1e-3, 0.5, log=True),
        "cg_max_steps": trial.suggest_int("cg_max_steps", 5, 30),
        "line_search_shrinking_factor": trial.suggest_categorical("line_search_shrinking_factor", [0.5, 0.6, 0.7, 0.8, 0.9]),
        "n_critic_updates": trial.suggest_int("n_critic_updates", 5, 30),
        "net_arch": trial.suggest_categorical("net_arch", ["small", "medium"]),
        "activation_fn": trial.suggest_categorical("activation_fn", ["tanh", "relu"]),
    }
    hyperparams = convert_trpo_notes_params(params)
    for name in ("gamma", "n_steps", "batch_size"):
        trial.set_user_attr(name, hyperparams[name])
    return hyperparams


def convert_reinforce_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn REINFORCE's raw trial parameters into constructor arguments.

    :param sampled_params: ``trial.params`` of a trial sampled by :func:`sample_reinforce_params`
    :return: keyword arguments for ``REINFORCE``
    """
    hyperparams = dict(sampled_params)
    _one_minus(hyperparams, "gamma")
    # λ is searched only where REINFORCE accepts one below 1 (a learned V(s) and per-step returns).
    if "one_minus_gae_lambda" in hyperparams:
        _one_minus(hyperparams, "gae_lambda")
    net_arch = _SHARED_NET_ARCH[hyperparams.pop("net_arch")]
    activation_fn = _ACTIVATIONS[hyperparams.pop("activation_fn")]
    hyperparams["policy_kwargs"] = {"net_arch": {"pi": net_arch, "vf": net_arch}, "activation_fn": activation_fn}
    return hyperparams


def sample_reinforce_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sample REINFORCE's hyperparameters: the return estimator ``returns``, the ``baseline``, the batch size in
    episodes ``n_episodes`` and the step size.

    :param trial: Optuna trial
    :param n_actions: Number of continuous actions (unused)
    :param n_envs: Number of parallel envs (unused)
    :param additional_args: Zoo extras (unused)
    :return: keyword arguments for ``REINFORCE``
    """
    params: dict[str, Any] = {
        "returns": trial.suggest_categorical("returns", list(RETURNS)),
        "baseline": trial.suggest_categorical("baseline", list(BASELINES)),
        "n_episodes": trial.suggest_categorical("n_episodes", [1, 2, 4, 8, 16, 32]),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-4, 0.05, log=True),
        "ent_coef": trial.suggest_float("ent_coef", 1e-8, 0.1, log=True),
        "normalize_advantage": trial.suggest_categorical("normalize_advantage", [True, False]),
        "net_arch": trial.suggest_categorical("net_arch", ["tiny", "small", "medium"]),
        "activation_fn": trial.suggest_categorical("activation_fn", ["tanh", "relu"]),
    }
    if params["baseline"] == "value" and params["returns"] == "reward_to_go":
        params["one_minus_gae_lambda"] = trial.suggest_float("one_minus_gae_lambda", 1e-3, 0.2, log=True)
    hyperparams = convert_reinforce_params(params)
    trial.set_user_attr("gamma", hyperparams["gamma"])
    return hyperparams


def convert_tabular_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the tabular family's raw trial parameters into constructor arguments.

    :param sampled_params: ``trial.params`` of a trial sampled by :func:`sample_tabular_params`
    :return: keyword arguments for ``QLearning``, ``SARSA``, ``ExpectedSARSA`` or ``DoubleQLearning``
    """
    hyperparams = dict(sampled_params)
    _one_minus(hyperparams, "gamma")
    return hyperparams


def sample_tabular_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sample the tabular family's hyperparameters: the step size α and the ε-greedy schedule (ε decays linearly
    from 1 to ``exploration_final_eps`` over ``exploration_fraction`` of the run).

    :param trial: Optuna trial
    :param n_actions: Number of continuous actions (unused)
    :param n_envs: Number of parallel envs (unused)
    :param additional_args: Zoo extras (unused)
    :return: keyword arguments for a tabular algorithm
    """
    params = {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 1.0, log=True),
        "exploration_fraction": trial.suggest_float("exploration_fraction", 0.05, 0.9),
        "exploration_final_eps": trial.suggest_float("exploration_final_eps", 0.0, 0.2),
        # Sparse-reward grid worlds need gamma close to 1, hence the log scale of 1 - gamma.
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-3, 0.2, log=True),
    }
    hyperparams = convert_tabular_params(params)
    trial.set_user_attr("gamma", hyperparams["gamma"])
    return hyperparams


# Zoo key -> sampler / converter. Keys are those of ``sb3_notes.ALGORITHMS``; register() installs the entries of
# the algorithms that are registered.
SAMPLERS: dict[str, Sampler] = {
    "ppo_penalty": sample_ppo_penalty_params,
    "trpo_notes": sample_trpo_notes_params,
    "reinforce": sample_reinforce_params,
    "qlearning": sample_tabular_params,
    "sarsa": sample_tabular_params,
    "expected_sarsa": sample_tabular_params,
    "double_qlearning": sample_tabular_params,
}
CONVERTERS: dict[str, Converter] = {
    "ppo_penalty": convert_ppo_penalty_params,
    "trpo_notes": convert_trpo_notes_params,
    "reinforce": convert_reinforce_params,
    "qlearning": convert_tabular_params,
    "sarsa": convert_tabular_params,
    "expected_sarsa": convert_tabular_params,
    "double_qlearning": convert_tabular_params,
}
