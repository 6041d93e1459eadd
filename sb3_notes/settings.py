"""The shipped settings: one source for every place that trains with "our settings" for an env.

The hyperparameter files in ``sb3_notes/zoo/hyperparams/<key>.yml`` are RL Zoo files (the zoo bridge reads them as
they are). :func:`shipped_settings` reads the same entry for the demo, the README's quick start, the examples, the
tests and the benchmarks, so that a setting changed there changes everywhere, and no copy can drift. It needs no
``rl_zoo3``: the few zoo conventions the files use (``lin_<x>`` schedules, ``policy_kwargs`` as a string,
``normalize``) are read here the way the zoo reads them.
"""

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

HYPERPARAMS_DIR = Path(__file__).parent / "zoo" / "hyperparams"
# Keys of a zoo entry that the zoo's ExperimentManager consumes itself; every other key goes to the constructor.
ZOO_ENTRY_KEYS = frozenset(
    {
        "n_timesteps",
        "n_envs",
        "normalize",
        "frame_stack",
        "env_wrapper",
        "vec_env_wrapper",
        "callback",
        "monitor_kwargs",
        "env_kwargs",
        "noise_type",
        "noise_std",
    }
)
# ... and the policy, which the zoo passes as the constructor's first argument: what ShippedSettings.kwargs leaves out
ZOO_ONLY_KEYS = ZOO_ENTRY_KEYS | {"policy"}


@dataclass(frozen=True)
class ShippedSettings:
    """One entry of a shipped hyperparameter file, ready to use."""

    algo: str  # registry / RL Zoo key, e.g. "ppo_penalty"
    env_id: str
    policy: str
    n_envs: int
    n_timesteps: int
    normalize: bool | dict[str, Any]  # VecNormalize: False, True (its defaults) or its keyword arguments
    kwargs: dict[str, Any]  # constructor arguments, with lin_<x> as SB3's LinearSchedule
    entry: dict[str, Any] = field(repr=False)  # the entry as written in the file

    def make_env(self, seed: int = 0, n_envs: int | None = None, **kwargs: Any) -> VecEnv:
        """
        The entry's VecEnv: ``n_envs`` copies of the env (VecNormalize'd when the entry says so), as the zoo makes it.

        :param seed: Seed of the first env (SB3's ``make_vec_env``)
        :param n_envs: Override the entry's number of envs
        :param kwargs: Passed to ``make_vec_env``
        :return: The VecEnv
        """
        if any(key in self.entry for key in ("frame_stack", "env_wrapper", "vec_env_wrapper", "env_kwargs")):
            raise NotImplementedError(f"{self.algo}/{self.env_id}: wrappers are built by the zoo; use sb3-notes-zoo train")
        env = make_vec_env(self.env_id, n_envs=n_envs or self.n_envs, seed=seed, **kwargs)
        if self.normalize:
            normalize_kwargs = dict(self.normalize) if isinstance(self.normalize, dict) else {}
            if "gamma" in self.kwargs:  # as the zoo does: the reward is normalised with the algorithm's discount
                normalize_kwargs.setdefault("gamma", self.kwargs["gamma"])
            env = VecNormalize(env, **normalize_kwargs)
        return env


def _schedule(value: Any) -> Any:
    """The zoo's ``lin_<x>``: x · progress_remaining, i.e. SB3's LinearSchedule from x to 0 over all training."""
    if isinstance(value, str) and value.startswith("lin_"):
        return LinearSchedule(float(value[len("lin_") :]), 0.0, 1.0)
    return value


def _policy_kwargs(value: Any) -> dict[str, Any]:
    """``policy_kwargs`` as the zoo writes it: a ``dict(...)`` string (only literals are accepted here)."""
    if isinstance(value, dict):
        return value
    tree = ast.parse(value, mode="eval").body
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "dict" and not tree.args):
        raise ValueError(f"policy_kwargs={value!r}: expected dict(key=literal, ...)")
    return {kw.arg: ast.literal_eval(kw.value) for kw in tree.keywords if kw.arg is not None}


def shipped_settings(algo: str, env_id: str) -> ShippedSettings:
    """
    The shipped hyperparameter entry of ``algo`` for ``env_id``.

    :param algo: Registry key (``sb3_notes.ALGORITHMS``), e.g. ``"ppo_penalty"``
    :param env_id: Gymnasium env id, e.g. ``"CartPole-v1"``
    :return: The entry, with its constructor arguments in :attr:`ShippedSettings.kwargs`
    """
    path = HYPERPARAMS_DIR / f"{algo}.yml"
    if not path.is_file():
        shipped = sorted(p.stem for p in HYPERPARAMS_DIR.glob("*.yml"))
        raise ValueError(f"`algo`={algo!r} has no shipped hyperparameter file; accepted: {', '.join(shipped)}")
    entries = yaml.safe_load(path.read_text())
    if env_id not in entries:
        raise ValueError(f"`env_id`={env_id!r} has no entry in {path.name}; accepted: {', '.join(sorted(entries))}")
    entry = dict(entries[env_id])
    kwargs = {key: _schedule(value) for key, value in entry.items() if key not in ZOO_ONLY_KEYS}
    if "policy_kwargs" in kwargs:
        kwargs["policy_kwargs"] = _policy_kwargs(kwargs["policy_kwargs"])
    normalize = entry.get("normalize", False)
    if isinstance(normalize, str):
        normalize = ast.literal_eval(normalize)
    return ShippedSettings(
        algo=algo,
        env_id=env_id,
        policy=entry.get("policy", "MlpPolicy"),
        n_envs=int(entry.get("n_envs", 1)),
        n_timesteps=int(float(entry["n_timesteps"])),
        normalize=normalize,
        kwargs=kwargs,
        entry=entry,
    )


__all__ = ["HYPERPARAMS_DIR", "ZOO_ENTRY_KEYS", "ShippedSettings", "shipped_settings"]
