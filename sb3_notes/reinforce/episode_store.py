"""Storage of a VecEnv's steps until the episodes they belong to have finished.

SB3's ``RolloutBuffer`` holds a fixed number of steps per env; REINFORCE's batch is a number of *whole* episodes,
whose total length varies. The store keeps every step, time-major as the VecEnv hands them out, and remembers
where each env's running episode started. ``pop_finished`` hands out the finished episodes and drops their steps;
the steps of episodes still running stay, so they are carried into the next batch and used once they finish.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

Obs = np.ndarray | dict[str, np.ndarray]


@dataclass
class FinishedEpisode:
    """Where one finished episode lies in the store (absolute step indices, ``end`` exclusive)."""

    env: int
    start: int
    end: int
    truncated: bool
    terminal_observation: Any = None  # s_T of a truncated episode, for the γ·V(s_T) bootstrap


@dataclass
class EpisodeBatch:
    """Finished episodes, their steps concatenated in episode order."""

    observations: Obs
    actions: np.ndarray
    rewards: list[np.ndarray]  # one array per episode
    truncated: list[bool]
    terminal_observations: list[Any]  # s_T per episode, None unless truncated with a known s_T


def _copy(obs: Obs) -> Obs:
    # A VecEnv may reuse its buffers between steps (e.g. VecFrameStack): keep a copy, as RolloutBuffer.add does.
    if isinstance(obs, dict):
        return {key: np.array(value) for key, value in obs.items()}
    return np.array(obs)


def _stack(items: list[Obs]) -> Obs:
    if isinstance(items[0], dict):
        return {key: np.stack([item[key] for item in items]) for key in items[0]}  # type: ignore[index]
    return np.stack(items)  # type: ignore[arg-type]


def _concat_rows(stacked: Obs, episodes: list[FinishedEpisode], offset: int) -> Obs:
    """Rows [start, end) of each episode's env, concatenated (``stacked`` is [time, env, ...])."""
    if isinstance(stacked, dict):
        return {key: _concat_rows(value, episodes, offset) for key, value in stacked.items()}  # type: ignore[misc]
    return np.concatenate([stacked[ep.start - offset : ep.end - offset, ep.env] for ep in episodes])


class EpisodeStore:
    """
    Steps of ``n_envs`` envs, kept until their episode finishes.

    :param n_envs: Number of envs of the VecEnv
    """

    def __init__(self, n_envs: int):
        self.n_envs = n_envs
        self.observations: list[Obs] = []
        self.actions: list[np.ndarray] = []
        self.rewards: list[np.ndarray] = []
        self.offset = 0  # absolute index of the first step still stored
        self.episode_start = np.zeros(n_envs, dtype=np.int64)  # absolute index where each running episode began
        self.finished: list[FinishedEpisode] = []

    @property
    def n_steps(self) -> int:
        """Absolute index of the next step (= VecEnv steps seen)."""
        return self.offset + len(self.rewards)

    @property
    def n_finished(self) -> int:
        """Finished episodes waiting to be used."""
        return len(self.finished)

    def running_lengths(self) -> np.ndarray:
        """Steps taken so far by each env's running episode."""
        return self.n_steps - self.episode_start

    def add(self, obs: Obs, actions: np.ndarray, rewards: np.ndarray, dones: np.ndarray, infos: list[dict]) -> None:
        """
        One VecEnv step: s_t (the observation the actions were chosen on), a_t, r_t and whether each env's episode
        ended (then ``infos[i]`` tells whether it was truncated, and holds s_T).

        :param obs: Observations s_t, one per env
        :param actions: Actions a_t
        :param rewards: Rewards r_t
        :param dones: Whether each env's episode ended at this step
        :param infos: The VecEnv's infos of this step
        """
        self.observations.append(_copy(obs))
        self.actions.append(np.array(actions))
        self.rewards.append(np.asarray(rewards, dtype=np.float64).copy())
        end = self.n_steps
        for env in np.flatnonzero(dones):
            info = infos[env]
            truncated = bool(info.get("TimeLimit.truncated", False))
            terminal = info.get("terminal_observation") if truncated else None
            self.finished.append(FinishedEpisode(int(env), int(self.episode_start[env]), end, truncated, terminal))
            self.episode_start[env] = end

    def pop_finished(self) -> EpisodeBatch:
        """Hand out every finished episode and forget their steps; running episodes keep theirs."""
        if not self.finished:
            raise RuntimeError("No finished episode to hand out")
        episodes, self.finished = self.finished, []
        last = max(ep.end for ep in episodes) - self.offset
        observations = _stack(self.observations[:last])
        actions = np.stack(self.actions[:last])
        rewards = np.stack(self.rewards[:last])
        batch = EpisodeBatch(
            observations=_concat_rows(observations, episodes, self.offset),
            actions=_concat_rows(actions, episodes, self.offset),  # type: ignore[arg-type]
            rewards=[rewards[ep.start - self.offset : ep.end - self.offset, ep.env] for ep in episodes],
            truncated=[ep.truncated for ep in episodes],
            terminal_observations=[ep.terminal_observation for ep in episodes],
        )
        # Steps before the oldest running episode's start belong to no one any more.
        drop = int(self.episode_start.min()) - self.offset
        del self.observations[:drop], self.actions[:drop], self.rewards[:drop]
        self.offset += drop
        return batch
