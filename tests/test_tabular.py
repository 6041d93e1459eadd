"""Tabular learners (notes §五): construction checks, the update rule, DP references, value estimation, learning."""

import importlib.util
import io
import itertools
import random
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_notes import ALGORITHMS
from sb3_notes.common.state_encoding import encode
from sb3_notes.tabular import (
    SARSA,
    DoubleQLearning,
    ExpectedSARSA,
    QLearning,
    TableShapeError,
    estimate_v,
    plot_grid_policy,
    policy_evaluation,
    value_iteration,
)
from sb3_notes.tabular.one_env import td_update_one
from sb3_notes.tabular.policies import RandomDraws, epsilon_greedy, epsilon_greedy_one

LEARNERS = (QLearning, SARSA, ExpectedSARSA, DoubleQLearning)


class TwoStepEnv(gym.Env):
    """s0 --any action, r=0--> s1, where the episode terminates (``terminate=True``) or goes on (then a TimeLimit
    of 1 step truncates it). Reset returns s0, whose value differs from s1's."""

    observation_space = spaces.Discrete(2)
    action_space = spaces.Discrete(2)

    def __init__(self, terminate: bool):
        self.terminate = terminate

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 1, 0.0, self.terminate, False, {}


class RandomWalkEnv(gym.Env):
    """Sutton & Barto's random walk: states 1..5 inside, 0 and 6 terminal; start 3; +1 on reaching 6.
    Action 0 moves left, 1 right. Exposes the model ``P`` like gymnasium's toy-text envs."""

    observation_space = spaces.Discrete(7)
    action_space = spaces.Discrete(2)

    def __init__(self):
        self.P = {s: {a: [] for a in range(2)} for s in range(7)}
        for s in range(7):
            for a in range(2):
                if s in (0, 6):
                    self.P[s][a] = [(1.0, s, 0.0, True)]
                else:
                    nxt = s - 1 if a == 0 else s + 1
                    self.P[s][a] = [(1.0, nxt, float(nxt == 6), nxt in (0, 6))]
        self.s = 3

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 3
        return self.s, {}

    def step(self, action):
        self.s += -1 if action == 0 else 1
        return self.s, float(self.s == 6), self.s in (0, 6), False, {}


def two_step_model(cls, terminate: bool, n_envs: int = 1):
    def make():
        env = TwoStepEnv(terminate)
        return env if terminate else TimeLimit(env, max_episode_steps=1)

    # one env runs the scalar loop, several the batched one: both are checked
    model = cls("TabularPolicy", DummyVecEnv([make] * n_envs), learning_rate=1.0, gamma=0.5, seed=0)
    model.policy.q_table[:, 1, :] = 10.0  # V(s1) = 10, V(reset state s0) = 0
    return model


# --- bad input ------------------------------------------------------------------------------------------


def test_box_observations_raise_naming_the_space_and_discretisation():
    with pytest.raises(ValueError, match=r"observation_space.*Box.*discretise"):
        QLearning("TabularPolicy", "CartPole-v1")


def test_box_actions_raise():
    class BoxActions(TwoStepEnv):
        action_space = spaces.Box(-1, 1, (1,))

    with pytest.raises(ValueError, match="action_space"):
        QLearning("TabularPolicy", BoxActions(True))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("gamma", 1.5),
        ("gamma", -0.1),
        ("exploration_initial_eps", 1.1),
        ("exploration_final_eps", -0.2),
        ("exploration_fraction", 2.0),
        ("learning_rate", -0.1),
        ("learning_rate", 1.5),
        ("learning_starts", -1),
        ("initial_q", float("inf")),
        ("initial_q", float("nan")),
    ],
)
def test_out_of_range_hyperparameters_raise_naming_the_argument(name, value):
    with pytest.raises(ValueError, match=name):
        QLearning("TabularPolicy", "FrozenLake-v1", **{name: value})


def test_negative_learning_rate_schedule_raises():
    with pytest.raises(ValueError, match="learning_rate"):
        QLearning("TabularPolicy", "FrozenLake-v1", learning_rate=lambda progress: progress - 0.5)


def test_huge_table_is_refused_with_its_size_before_allocation():
    class Huge(TwoStepEnv):
        observation_space = spaces.MultiDiscrete([2**15, 2**15])

    with pytest.raises(ValueError, match=r"2147483648 entries"):
        QLearning("TabularPolicy", Huge(True))


def test_loading_a_table_of_another_shape_raises_a_clear_error(tmp_path):
    model = QLearning("TabularPolicy", "FrozenLake-v1", seed=0)
    other = QLearning("TabularPolicy", "FrozenLake8x8-v1", seed=0)
    with pytest.raises(TableShapeError, match=r"\(1, 64, 4\).*\(1, 16, 4\)"):
        model.set_parameters(other.get_parameters())
    other.save(tmp_path / "big.zip")
    with pytest.raises(ValueError, match="Observation spaces do not match"):
        QLearning.load(tmp_path / "big.zip", env=gym.make("FrozenLake-v1"))
    # a file whose table was swapped for another shape (spaces unchanged) is refused too
    params = model.get_parameters()
    params["policy"]["q_table"] = th.zeros(1, 64, 4, dtype=th.float64)
    with pytest.raises(ValueError, match="saved Q-table has shape"):
        model.set_parameters(params)


# --- the update rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_envs", [1, 2])
@pytest.mark.parametrize("cls", LEARNERS)
def test_truncated_step_bootstraps_from_the_final_observation_not_the_reset_one(cls, n_envs):
    model = two_step_model(cls, terminate=False, n_envs=n_envs)
    model.learn(n_envs)
    # y = 0 + 0.5 * V(s1) = 5 with α = 1; the reset observation s0 (value 0) would have given 0
    assert model.policy.q_table[:, 0, :].max().item() == pytest.approx(5.0)


@pytest.mark.parametrize("n_envs", [1, 2])
@pytest.mark.parametrize("cls", LEARNERS)
def test_terminated_step_does_not_bootstrap(cls, n_envs):
    model = two_step_model(cls, terminate=True, n_envs=n_envs)
    model.learn(n_envs)
    assert model.policy.q_table[:, 0, :].abs().max().item() == 0.0


@pytest.mark.parametrize("n_envs", [1, 2])
def test_discrete_start_rows_are_shifted_in_both_loops(n_envs):
    class Shifted(TwoStepEnv):
        observation_space = spaces.Discrete(2, start=3)

        def reset(self, seed=None, options=None):
            return 3, {}

        def step(self, action):
            return 4, 1.0, True, False, {}

    model = QLearning("TabularPolicy", DummyVecEnv([lambda: Shifted(True)] * n_envs), learning_rate=1.0, seed=0)
    model.learn(n_envs)
    # observation 3 is row 0: y = r = 1 there, row 1 (observation 4) untouched
    assert model.policy.q_table[0, 0].max().item() == 1.0 and model.policy.q_table[0, 1].abs().max().item() == 0.0


@pytest.mark.parametrize("cls", LEARNERS)
def test_one_env_targets_equal_the_batched_ones(cls):
    # the scalar path (one env) and the batched path (several) must compute the same y on any transition
    model = cls("TabularPolicy", "FrozenLake-v1", gamma=0.9, seed=0)
    model.exploration_rate = 0.3
    rng = np.random.default_rng(0)
    q = rng.normal(size=model.policy.q_table.shape)
    n = 50
    tables = rng.integers(len(q), size=n) if len(q) == 2 else 0
    rewards, next_states = rng.normal(size=n).astype(np.float32), rng.integers(16, size=n)
    next_actions, terminated = rng.integers(4, size=n), rng.random(n) < 0.3
    batched = model._td_target(q, tables, rewards, next_states, next_actions, terminated)
    for i in range(n):
        table = int(tables[i]) if len(q) == 2 else 0
        one = model._td_target(q, table, float(rewards[i]), int(next_states[i]), int(next_actions[i]), bool(terminated[i]))
        assert type(one) is float and one == pytest.approx(batched[i], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("cls", [QLearning, SARSA, ExpectedSARSA])
def test_one_env_update_equals_the_batched_update_of_one_transition(cls):
    model = cls("TabularPolicy", "FrozenLake-v1", learning_rate=0.3, gamma=0.9, seed=0)
    rng = np.random.default_rng(1)
    q_batched = rng.normal(size=model.policy.q_table.shape)
    q_one = q_batched.copy()
    for _ in range(200):
        s, a, s2, a2 = rng.integers(16), rng.integers(4), rng.integers(16), rng.integers(4)
        r, term = float(rng.normal()), bool(rng.random() < 0.3)
        d1 = model._td_update(
            q_batched, np.array([s]), np.array([a]), np.array([r]), np.array([s2]), np.array([a2]), np.array([term])
        )
        d2 = td_update_one(model, q_one, int(s), int(a), r, int(s2), int(a2), term)
        assert d2 == pytest.approx(d1[0], rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(q_one, q_batched, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_envs", [1, 3])
@pytest.mark.parametrize("cls", LEARNERS)
def test_a_fixed_seed_gives_the_same_table(cls, n_envs):
    tables = []
    for _ in range(2):
        model = cls("TabularPolicy", make_vec_env("FrozenLake-v1", n_envs=n_envs, seed=3), initial_q=1.0, seed=3)
        model.learn(1500)
        tables.append(model.policy.q_table.clone())
    assert th.equal(tables[0], tables[1]) and (tables[0] != 1.0).any()  # learned something, identically


def test_envs_hitting_the_same_entry_share_one_mean_step():
    model = QLearning("TabularPolicy", "FrozenLake-v1", learning_rate=0.5, seed=0)
    q = model.policy.q_table.numpy()
    s = np.array([0, 0, 0, 5])
    a = np.array([1, 1, 1, 2])
    r = np.array([1.0, 2.0, 6.0, 4.0])
    model._td_update(q, s, a, r, s, None, np.ones(4, dtype=bool))
    assert q[0, 0, 1] == pytest.approx(0.5 * (1 + 2 + 6) / 3)  # mean of the three δ, not their sum
    assert q[0, 5, 2] == pytest.approx(0.5 * 4.0)


def test_sarsa_takes_the_action_its_target_used():
    taken, used = [], []

    dones = []

    class Record(BaseCallback):
        def _on_step(self):
            taken.append(self.locals["actions"].copy())
            dones.append(self.locals["dones"].copy())
            return True

    class RecordingSARSA(SARSA):
        def _td_target(self, q, tables, rewards, next_states, next_actions, terminated):
            used.append((next_actions.copy(), self._next_actions.copy()))
            return super()._td_target(q, tables, rewards, next_states, next_actions, terminated)

    env = make_vec_env("FrozenLake-v1", n_envs=3, seed=0)
    model = RecordingSARSA("TabularPolicy", env, seed=0)
    model.learn(600, callback=Record())
    assert len(used) == len(taken) == 200
    for t in range(len(used) - 1):
        target_next, chosen_next = used[t]
        np.testing.assert_array_equal(chosen_next, taken[t + 1])  # a' chosen at t is the action taken at t+1
        going_on = ~dones[t]  # where the episode goes on, the target's a' is that same action
        np.testing.assert_array_equal(target_next[going_on], taken[t + 1][going_on])
    assert any(d.any() for d in dones) and any((~d).any() for d in dones)


def test_predict_is_greedy_or_epsilon_greedy():
    model = QLearning("TabularPolicy", "FrozenLake-v1", seed=0)
    model.policy.q_table[0, :, 2] = 1.0
    states = np.arange(16)
    np.testing.assert_array_equal(model.predict(states, deterministic=True)[0], np.full(16, 2))
    model.exploration_rate = 0.0
    np.testing.assert_array_equal(model.predict(states, deterministic=False)[0], np.full(16, 2))
    model.exploration_rate = 1.0
    actions = model.predict(np.zeros(4000, dtype=np.int64), deterministic=False)[0]
    np.testing.assert_allclose(np.bincount(actions, minlength=4) / 4000, 0.25, atol=0.03)


def test_epsilon_greedy_with_pre_drawn_numbers_by_hand():
    values = np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 0.0], [0.0, 1.0, 0.0]])
    uniforms, random_actions = np.array([0.2, 0.9, 0.5]), np.array([0, 2, 2])
    # ε = 0.5: env 0 explores (0.2 < 0.5) and takes its random action 0; env 1 is greedy, first maximum 0;
    # env 2 is greedy too (0.5 is not below 0.5): action 1
    np.testing.assert_array_equal(epsilon_greedy(values, 0.5, (uniforms, random_actions)), [0, 0, 1])


def test_random_draws_are_uniform_and_refill():
    np.random.seed(0)
    draws = RandomDraws(n_envs=4, n_actions=3, block=16)
    rows = [draws.next() for _ in range(1000)]  # 62 refills
    uniforms = np.concatenate([u for u, _ in rows])
    actions = np.concatenate([a for _, a in rows])
    assert 0.0 <= uniforms.min() and uniforms.max() < 1.0 and abs(uniforms.mean() - 0.5) < 0.02
    np.testing.assert_allclose(np.bincount(actions, minlength=3) / len(actions), 1 / 3, atol=0.02)
    assert not np.array_equal(rows[0][0], rows[16][0])  # a refill draws new numbers


def test_epsilon_greedy_one_by_hand():
    random.seed(0)
    assert epsilon_greedy_one([1.0, 3.0, 3.0], 0.0) == 1  # greedy, first maximum on ties
    counts = np.bincount([epsilon_greedy_one([1.0, 3.0, 2.0], 1.0) for _ in range(6000)], minlength=3)
    np.testing.assert_allclose(counts / 6000, 1 / 3, atol=0.03)  # ε = 1: uniform
    greedy = sum(epsilon_greedy_one([1.0, 3.0, 2.0], 0.3) == 1 for _ in range(6000)) / 6000
    assert greedy == pytest.approx(0.7 + 0.3 / 3, abs=0.03)  # 1 − ε + ε/|A|


def test_double_q_learning_acts_on_the_mean_of_its_tables():
    model = DoubleQLearning("TabularPolicy", "FrozenLake-v1", seed=0)
    model.policy.q_table[0, 3] = th.tensor([0.0, 4.0, 0.0, 0.0], dtype=th.float64)
    model.policy.q_table[1, 3] = th.tensor([0.0, -6.0, 3.0, 0.0], dtype=th.float64)
    assert model.predict(3, deterministic=True)[0] == 2  # means: [0, -1, 1.5, 0]
    # the whole greedy policy: 2 in state 3 (the means), the first action where every value ties
    assert model.policy.greedy_policy().tolist() == [0, 0, 0, 2] + [0] * 12


def test_save_load_restores_tables_and_schedule_state():
    model = DoubleQLearning("TabularPolicy", make_vec_env("FrozenLake-v1", n_envs=2, seed=0), initial_q=0.3, seed=0)
    model.learn(500)
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    loaded = DoubleQLearning.load(buffer)
    assert th.equal(loaded.policy.q_table, model.policy.q_table)
    assert loaded.exploration_rate == model.exploration_rate and loaded._current_progress_remaining == 0.0
    assert loaded.policy.exploration_rate == model.exploration_rate


@pytest.mark.parametrize("cls", LEARNERS)
def test_tuple_observations_blackjack(cls):
    model = cls("TabularPolicy", make_vec_env("Blackjack-v1", n_envs=4, seed=0), seed=0)
    model.learn(400)
    q = model.policy.q_table
    assert q.shape[1] == 704
    # |Q| <= 1: every return of Blackjack is in [-1, 1.5] and each update is a convex combination (α = 0.1 <= 1)
    assert q.abs().max() <= 1.5 and (q != 0).any()
    # a player sum below 4 cannot be dealt: those rows are never visited, so never written
    assert (q[:, : 4 * 22] == 0).all()
    action, _ = model.predict((np.array([20, 13]), np.array([10, 2]), np.array([0, 1])), deterministic=True)
    assert action.shape == (2,)


class _Transitions(gym.Wrapper):
    """Records every (s, a, r, s', terminated) the learner sees."""

    def __init__(self, env, log):
        super().__init__(env)
        self.log = log

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.obs = obs
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.log.append((self.obs, int(action), float(reward), obs, terminated))
        self.obs = obs
        return obs, reward, terminated, truncated, info


def test_blackjack_q_table_equals_a_plain_replay_of_the_updates():
    log: list = []
    env = make_vec_env("Blackjack-v1", n_envs=1, seed=0, wrapper_class=_Transitions, wrapper_kwargs=dict(log=log))
    model = QLearning("TabularPolicy", env, seed=0, learning_rate=0.1, gamma=0.9).learn(600)
    # the same updates, one transition at a time, on a dict table: Q(s,a) += α (r + γ max_a' Q(s',a') − Q(s,a))
    space = env.observation_space
    q: dict = {}
    for obs, action, reward, next_obs, terminated in log:
        s_, s2 = int(encode(space, obs)), int(encode(space, next_obs))
        target = reward + (0.0 if terminated else 0.9 * max(q.get((s2, b), 0.0) for b in (0, 1)))
        q[s_, action] = q.get((s_, action), 0.0) + 0.1 * (target - q.get((s_, action), 0.0))
    assert len(log) == 600 and len(q) > 20
    table = model.policy.q_table[0].numpy()
    expected = np.zeros_like(table)
    for (row, action), value in q.items():
        expected[row, action] = value
    np.testing.assert_allclose(table, expected, rtol=0, atol=1e-12)


# --- dynamic programming and value estimation (notes §五: V^π by MC and TD) ------------------------------


def test_dp_policy_evaluation_of_the_random_walk_by_hand():
    # uniform random policy, γ = 1: V(s) = s / 6 for the inside states (probability of exiting right)
    v = policy_evaluation(RandomWalkEnv(), np.full((7, 2), 0.5), gamma=1.0)
    np.testing.assert_allclose(v[1:6], np.arange(1, 6) / 6)


def test_value_iteration_on_frozen_lake_matches_the_known_optimum():
    solution = value_iteration(gym.make("FrozenLake-v1"), gamma=1.0)
    # the optimal success probability from the start of the 4x4 slippery lake, with no time limit: 14/17
    assert solution.v[0] == pytest.approx(14 / 17, abs=1e-8)
    np.testing.assert_allclose(solution.v, solution.q.max(axis=1))
    # the optimal policy is a fixed point: evaluating it gives V* back
    np.testing.assert_allclose(policy_evaluation(gym.make("FrozenLake-v1"), solution.policy, 1.0), solution.v, atol=1e-8)


@pytest.mark.parametrize("p_right", [0.5, 0.7])
@pytest.mark.parametrize("method", ["mc", "td"])
def test_mc_and_td_estimates_converge_to_the_dp_value(method, p_right):
    env = RandomWalkEnv()
    policy = np.tile([1 - p_right, p_right], (7, 1))
    exact = policy_evaluation(env, policy, gamma=0.9)
    estimate = estimate_v(policy, env, method=method, n_episodes=3000, gamma=0.9, learning_rate=lambda n: n**-0.7, seed=0)
    # stated tolerance: 0.03 absolute on every non-terminal state (values lie in [0, 1])
    np.testing.assert_allclose(estimate[1:6], exact[1:6], atol=0.03)


def test_estimate_v_bad_input():
    with pytest.raises(ValueError, match="method"):
        estimate_v(np.zeros(7, dtype=int), RandomWalkEnv(), method="dp")
    with pytest.raises(ValueError, match="gamma"):
        estimate_v(np.zeros(7, dtype=int), RandomWalkEnv(), gamma=2.0)


# --- learning -------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("cls", LEARNERS)
def test_frozen_lake_greedy_policy_succeeds_at_least_60_percent(cls):
    env = make_vec_env("FrozenLake-v1", n_envs=8, seed=0)
    # Double Q-learning updates each of its two tables half as often: a larger step for the same budget
    learning_rate = 0.1 if cls is DoubleQLearning else 0.05
    model = cls("TabularPolicy", env, learning_rate=learning_rate, exploration_fraction=0.5, exploration_final_eps=0.0, seed=0)
    model.learn(100_000, log_interval=None)
    eval_env = make_vec_env("FrozenLake-v1", n_envs=8, seed=123)
    rewards, _ = evaluate_policy(model, eval_env, n_eval_episodes=1000, deterministic=True, return_episode_rewards=True)
    assert np.mean(rewards) >= 0.60


def test_all_four_are_registered():
    assert {ALGORITHMS[k] for k in ("qlearning", "sarsa", "expected_sarsa", "double_qlearning")} == set(LEARNERS)


def test_plot_grid_policy_draws_one_arrow_per_decided_cell():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    solution = value_iteration(gym.make("FrozenLake-v1"), gamma=1.0)
    desc = gym.make("FrozenLake-v1").unwrapped.desc
    ax = plot_grid_policy(solution.q, (4, 4), labels=desc, title="V*")
    (quiver,) = ax.collections
    # holes and the goal have all-equal Q (0): 5 terminal cells, 11 arrows
    assert len(quiver.get_offsets()) == 11
    with pytest.raises(ValueError, match="grid"):
        plot_grid_policy(solution.q, (3, 3))


@pytest.mark.parametrize("n_envs", [1, 2])
def test_callbacks_see_the_step_locals_in_both_loops(n_envs):
    seen = []

    def on_step(local_vars, global_vars):  # an old-style function callback, as SB3 accepts it
        seen.append((local_vars["actions"].shape, local_vars["rewards"].shape, len(local_vars["infos"])))
        return True

    model = QLearning("TabularPolicy", make_vec_env("FrozenLake-v1", n_envs=n_envs, seed=0), seed=0)
    model.learn(10 * n_envs, callback=on_step)
    assert seen == [((n_envs,), (n_envs,), n_envs)] * 10


@pytest.mark.parametrize("n_envs", [1, 2])
def test_epsilon_follows_dqns_linear_schedule_every_step_and_restarts_with_learn(n_envs):
    model = QLearning(
        "TabularPolicy",
        make_vec_env("FrozenLake-v1", n_envs=n_envs, seed=0),
        exploration_initial_eps=0.9,
        exploration_final_eps=0.1,
        exploration_fraction=0.25,
        seed=0,
    )
    steps = []

    def on_step(local_vars, global_vars):
        steps.append((model.num_timesteps, model.exploration_rate))
        return True

    for _ in range(2):  # the second learn() starts over: ε back at its start
        steps.clear()
        model.learn(400 * n_envs, callback=on_step)
        # the callback runs before ε moves: the step's ε is the schedule at the previous step's progress
        for (t, _), (_, next_eps) in itertools.pairwise(steps):
            fraction_done = t / (400 * n_envs)
            expected = 0.9 + fraction_done * (0.1 - 0.9) / 0.25 if fraction_done <= 0.25 else 0.1
            assert next_eps == pytest.approx(expected, abs=1e-12)
        assert model.exploration_rate == 0.1


# --- a fifth learner in one file (examples/tabular_new_learner.py, shown in the docs' "Adding a learner") ---------


def _clipped_double_q():
    path = Path(__file__).parent.parent / "examples" / "tabular_new_learner.py"
    spec = importlib.util.spec_from_file_location("tabular_new_learner", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))  # its `_budget` import
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module.ClippedDoubleQLearning


def test_the_docs_fifth_learner_computes_its_target_by_hand_in_both_forms():
    model = _clipped_double_q()("TabularPolicy", "FrozenLake-v1", gamma=0.9, seed=0)
    q = np.zeros((2, 16, 4))
    q[0, 5], q[1, 5] = [1.0, 3.0, 2.0, 0.0], [5.0, 2.0, 0.0, 0.0]
    # table 0 updated: a* = 1, min(3, 2) = 2, y = 0.5 + 0.9 * 2 = 2.3; table 1: a* = 0, min(5, 1) = 1, y = 1.4
    assert model._td_target(q, 0, 0.5, 5, None, False) == pytest.approx(2.3)
    assert model._td_target(q, 1, 0.5, 5, None, False) == pytest.approx(1.4)
    assert model._td_target(q, 1, 0.5, 5, None, True) == 0.5
    batched = model._td_target(q, np.array([0, 1]), np.array([0.5, 0.5]), np.array([5, 5]), None, None)
    np.testing.assert_allclose(batched, [2.3, 1.4])


@pytest.mark.parametrize("n_envs", [1, 3])
def test_the_docs_fifth_learner_trains_saves_and_loads(tmp_path, n_envs):
    cls = _clipped_double_q()
    model = cls("TabularPolicy", make_vec_env("FrozenLake-v1", n_envs=n_envs, seed=0), seed=0)
    model.learn(3000)
    assert model.policy.q_table.abs().sum() > 0 and th.isfinite(model.policy.q_table).all()
    model.save(tmp_path / "clipped")
    assert th.equal(cls.load(tmp_path / "clipped").policy.q_table, model.policy.q_table)


def test_a_learner_that_changes_the_update_runs_the_batched_loop_with_one_env():
    calls = []

    class Counting(QLearning):
        def _td_update(self, *args, **kwargs):
            calls.append(len(args[1]))
            return super()._td_update(*args, **kwargs)

    Counting("TabularPolicy", "FrozenLake-v1", seed=0).learn(50)
    assert calls == [1] * 50
