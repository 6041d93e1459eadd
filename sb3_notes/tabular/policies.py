"""The tabular policy: a Q-table (or two, for Double Q-learning) and the greedy / ε-greedy action on it."""

import random
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import Schedule

from sb3_notes.common.state_encoding import StateEncoder, check_tabular_space, n_states

# 2^28 float64 entries = 2 GiB: beyond that a table is almost surely a mistake (an unbinned space, a huge product)
MAX_TABLE_ENTRIES = 2**28


def action_values(q: np.ndarray, states: np.ndarray) -> np.ndarray:
    """
    The values acted on: Q(s, ·) of tables ``q`` (n_tables, n_states, n_actions), their mean with two tables.

    :param q: The tables
    :param states: State indices, any shape
    :return: Array of shape ``states.shape + (n_actions,)``
    """
    # take() rather than q[0][states]: the same rows, a few times faster for the small batches of a VecEnv
    return q[0].take(states, axis=0) if len(q) == 1 else q.take(states, axis=1).mean(axis=0)


class RandomDraws:
    """
    The random numbers ε-greedy needs for ``n_envs`` envs, drawn from NumPy's global generator (which SB3's
    ``set_random_seed`` seeds) ``block`` steps at a time: a uniform U per env (explore if U < ε) and a uniformly
    random action per env. A training step then reads two rows instead of calling the generator two or three
    times, each call costing about as much as the step's whole table arithmetic.

    :param n_envs: Number of envs (values per row)
    :param n_actions: Number of actions
    :param block: Number of steps drawn at once
    """

    def __init__(self, n_envs: int, n_actions: int, block: int = 256):
        self.n_envs, self.n_actions, self.block = n_envs, n_actions, block
        self._row = block  # empty: the first call draws

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        """
        :return: The next step's uniforms, shape (n_envs,), and random actions, shape (n_envs,)
        """
        if self._row == self.block:
            self._uniforms = np.random.random((self.block, self.n_envs))
            self._actions = np.random.randint(self.n_actions, size=(self.block, self.n_envs))
            self._row = 0
        row = self._row
        self._row += 1
        return self._uniforms[row], self._actions[row]


def epsilon_greedy(values: np.ndarray, epsilon: float, draws: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """
    ε-greedy actions: uniformly random with probability ε, else the greedy argmax_a Q(s, a) (first maximum on
    ties, matching :func:`~sb3_notes.common.td_targets.epsilon_greedy_probs`). Draws from NumPy's global
    generator, which SB3's ``set_random_seed`` seeds.

    :param values: Q(s, ·) of a batch of states, shape (n, n_actions)
    :param epsilon: Exploration rate ε
    :param draws: Pre-drawn (uniforms, random actions), each of shape (n,), from :meth:`RandomDraws.next`:
        explore where the uniform is below ε, taking the random action there; drawn now if omitted
    :return: Actions, shape (n,)
    """
    actions = values.argmax(axis=-1)
    if draws is not None:
        uniforms, random_actions = draws
        np.copyto(actions, random_actions, where=uniforms < epsilon)
        return actions
    explore = np.random.random(actions.shape) < epsilon
    n_explore = np.count_nonzero(explore)
    if n_explore:
        # floor(U · |A|) is uniform on the actions; several times cheaper per call than np.random.randint
        actions[explore] = (np.random.random(n_explore) * values.shape[-1]).astype(actions.dtype)
    return actions


def epsilon_greedy_one(values: list[float], epsilon: float) -> int:
    """
    :func:`epsilon_greedy` for one state in plain Python (the one-env fast path): uniformly random with
    probability ε, else the first maximum of ``values``. Draws from Python's ``random``, which SB3's
    ``set_random_seed`` seeds as well.

    :param values: Q(s, ·), one value per action
    :param epsilon: Exploration rate ε
    :return: The action
    """
    if random.random() < epsilon:
        return int(random.random() * len(values))  # floor(U · |A|), uniform on the actions
    return values.index(max(values))


class TableShapeError(ValueError, RuntimeError):
    """
    A Q-table whose shape does not match the model's spaces. A ``ValueError`` for users; also a
    ``RuntimeError`` so that SB3's ``load`` re-raises it as is (it rewrites other ``ValueError``s of
    ``set_parameters`` into an unrelated ``KeyError`` while patching old DQN files).
    """


class TabularPolicy(BasePolicy):
    """
    Tabular action-value policy: Q(s, a) in a table of shape (n_tables, n_states, n_actions), kept as a
    float64 torch buffer so that SB3's ``get_parameters`` / ``set_parameters`` / ``save`` / ``load`` carry it.
    The table always lives on the CPU (the learners update it in NumPy through a shared-memory view).

    Deterministic ``predict`` is the greedy action argmax_a Q(s, a) (first maximum on ties; with two tables,
    on their mean); non-deterministic ``predict`` is ε-greedy at ``exploration_rate``, which the algorithm keeps
    equal to its current ε.

    :param observation_space: Observation space (Discrete, MultiDiscrete, MultiBinary, Tuple/Dict of those)
    :param action_space: Action space (Discrete)
    :param lr_schedule: Learning rate schedule (unused: the table has no optimizer; accepted for SB3's signature)
    :param n_tables: Number of Q-tables (2 for Double Q-learning)
    :param initial_q: Initial value of every entry (optimistic if above the returns' scale)
    """

    q_table: th.Tensor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule | None = None,
        n_tables: int = 1,
        initial_q: float = 0.0,
    ):
        super().__init__(observation_space, action_space)
        check_tabular_space(observation_space)
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"`action_space`={action_space} is not supported by a tabular method; accepted: Discrete")
        self.n_tables = n_tables
        self.initial_q = initial_q
        self.n_states = n_states(observation_space)
        self.n_actions = int(action_space.n)
        size = n_tables * self.n_states * self.n_actions
        if size > MAX_TABLE_ENTRIES:
            raise ValueError(
                f"A Q-table for `observation_space`={observation_space} ({self.n_states} states) and "
                f"`action_space`={action_space} ({self.n_actions} actions) x {n_tables} table(s) would have {size} "
                f"entries ({size * 8 / 2**30:.1f} GiB), over the limit of {MAX_TABLE_ENTRIES} (2^28); "
                "coarsen the observation space or use a function approximator such as DQN"
            )
        self._encode = StateEncoder(observation_space)
        self.register_buffer("q_table", th.full((n_tables, self.n_states, self.n_actions), float(initial_q), dtype=th.float64))
        self.exploration_rate = 0.0

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(n_tables=self.n_tables, initial_q=self.initial_q)
        return data

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        saved = state_dict.get(prefix + "q_table")
        if saved is not None and tuple(saved.shape) != tuple(self.q_table.shape):
            raise TableShapeError(
                f"The saved Q-table has shape {tuple(saved.shape)}, but this model's spaces need "
                f"{tuple(self.q_table.shape)} = (n_tables, n_states of {self.observation_space}, "
                f"n_actions of {self.action_space}); the table belongs to another environment"
            )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def q_values(self, states: np.ndarray) -> np.ndarray:
        """
        Q(s, ·) for state indices (the mean of the tables when there are two).

        :param states: State indices, any shape
        :return: Array of shape ``states.shape + (n_actions,)``
        """
        return action_values(self.q_table.numpy(), states)

    def greedy_policy(self) -> np.ndarray:
        """
        π'(s) = argmax_a Q(s, a) for every state index, first maximum on ties (as ``predict``): one action per
        row, the form :func:`~sb3_notes.tabular.policy_evaluation` takes.

        :return: Array of shape ``(n_states,)``
        """
        return self.q_values(np.arange(self.n_states)).argmax(axis=1)

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        Greedy (``deterministic=True``) or ε-greedy action(s) for one observation or a batch.

        :param observation: One observation, or a batch with a leading axis
        :param state: Unused (no recurrent state); returned as is
        :param episode_start: Unused
        :param deterministic: Greedy action if True, ε-greedy at ``exploration_rate`` otherwise
        :return: Action(s) (shape () for one observation, (k,) for k) and ``state``
        """
        states = self._encode(observation)
        flat = states.reshape(-1)
        values = self.q_values(flat)
        # π'(s) = argmax_a Q(s, a) (notes §5), first maximum on ties
        actions = values.argmax(axis=-1) if deterministic else epsilon_greedy(values, self.exploration_rate)
        return actions.reshape(states.shape).astype(np.int64), state

    def _predict(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        """Actions for a batch of raw observations (tensors or arrays), as a tensor (SB3's abstract method)."""
        if isinstance(observation, th.Tensor):
            observation = observation.cpu().numpy()
        elif isinstance(observation, dict):
            observation = {k: th.as_tensor(v).cpu().numpy() for k, v in observation.items()}
        actions, _ = self.predict(observation, deterministic=deterministic)
        return th.as_tensor(actions)

    def forward(self, observation: Any, deterministic: bool = False) -> th.Tensor:
        """
        Greedy or ε-greedy actions, as :meth:`_predict`.

        :param observation: A batch of observations
        :param deterministic: Greedy (``True``) or ε-greedy (``False``)
        :return: The actions
        """
        return self._predict(observation, deterministic)


__all__ = [
    "MAX_TABLE_ENTRIES",
    "RandomDraws",
    "TableShapeError",
    "TabularPolicy",
    "action_values",
    "epsilon_greedy",
    "epsilon_greedy_one",
]
