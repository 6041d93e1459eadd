"""The exact Blackjack model and finite-horizon DP, checked by hand and against gymnasium's own env by simulation."""

import itertools

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.toy_text.blackjack import draw_card, score, sum_hand

from sb3_notes.common.state_encoding import StateEncoder
from sb3_notes.tabular import (
    blackjack_model,
    optimal_values_within,
    policy_evaluation,
    tabular_model,
    value_iteration,
)
from sb3_notes.tabular.blackjack import OBSERVATION_SPACE, dealer_final_distribution
from sb3_notes.tabular.dp import TabularModel

ENCODE = StateEncoder(OBSERVATION_SPACE)


def table_policy(rule) -> np.ndarray:
    """One action per observation index, from ``rule(player_sum, dealer_card, usable_ace)``."""
    policy = np.zeros(32 * 11 * 2, dtype=np.int64)
    for obs in itertools.product(range(32), range(11), range(2)):
        policy[ENCODE.one(obs)] = rule(*obs)
    return policy


def model_value(model, policy: np.ndarray) -> float:
    return float(model.initial @ policy_evaluation(tabular_model(model.p), model.model_policy(policy), 1.0))


def test_transitions_and_start_are_distributions():
    model = blackjack_model()
    for s, actions in model.p.items():
        for a, transitions in actions.items():
            assert sum(prob for prob, *_ in transitions) == pytest.approx(1.0), (s, a)
    assert model.initial.sum() == pytest.approx(1.0)
    # a natural (ace and ten, either order) starts 2 · 1/13 · 4/13 = 8/169 of the hands, in the hidden states
    assert model.initial[model.n_observations :].sum() == pytest.approx(8 / 169)
    # two aces: soft 12; P = 1/169, spread over the dealer's card
    two_aces = sum(model.initial[ENCODE.one((12, d, 1))] for d in range(1, 11))
    assert two_aces == pytest.approx(1 / 169)


@pytest.mark.parametrize("dealer_card", [1, 6])
def test_dealer_distribution_matches_gymnasiums_dealer(dealer_card):
    rng = np.random.default_rng(dealer_card)
    n = 40_000
    counts = np.zeros(22)
    for _ in range(n):
        hand = [dealer_card, draw_card(rng)]
        while sum_hand(hand) < 17:  # gymnasium's dealer rule, with its own functions
            hand.append(draw_card(rng))
        counts[score(hand)] += 1
    exact = dealer_final_distribution(dealer_card)
    assert exact.sum() == pytest.approx(1.0) and exact[1:17].sum() == 0.0
    se = np.sqrt(exact * (1 - exact) / n)
    assert np.all(np.abs(counts / n - exact) <= 4 * se + 1e-12)


def test_the_natural_pays_by_the_rules_by_hand():
    natural = {card: i for i, card in enumerate(range(1, 11))}
    for rules, expected in (
        (dict(sab=True), {1: 1 - 4 / 13, 10: 1 - 1 / 13, 6: 1.0}),  # wins unless the dealer has a natural too
        (dict(sab=False, natural=True), {c: 1.5 * dealer_final_distribution(c)[:21].sum() for c in (1, 6, 10)}),
    ):
        model = blackjack_model(**rules)
        for card, value in expected.items():
            s = model.n_observations + natural[card]
            ((prob, _, reward, terminated),) = model.p[s][0]  # stick
            assert (prob, terminated) == (1.0, True) and reward == pytest.approx(value)
            assert model.observation[s] == ENCODE.one((21, card, 1))  # acts as on a soft 21


@pytest.mark.parametrize("rules", [dict(sab=True, natural=False), dict(sab=False, natural=True), dict(sab=False)])
def test_the_natural_pays_as_gymnasiums_env_pays_it(rules):
    model = blackjack_model(**rules)
    env = gym.make("Blackjack-v1", **rules).unwrapped
    env.reset(seed=0)
    for i, card in enumerate(range(1, 11)):
        if card not in (1, 6, 10):
            continue
        rewards = []
        for _ in range(8_000):  # deal a natural against `card` (the hidden card random), then stick
            env.reset()
            env.player, env.dealer = [1, 10], [card, env.dealer[1]]
            rewards.append(env.step(0)[1])
        ((_, _, exact, _),) = model.p[model.n_observations + i][0]
        assert abs(np.mean(rewards) - exact) <= 4 * np.std(rewards) / np.sqrt(len(rewards)) + 1e-12, (rules, card)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["stick on 20", "optimal", "hit a soft 21"])
def test_exact_value_matches_episodes_of_the_real_env(name):
    model = blackjack_model()
    if name == "optimal":
        optimal = value_iteration(tabular_model(model.p), gamma=1.0).policy[: model.n_observations]
        policy = optimal
    elif name == "stick on 20":
        policy = table_policy(lambda total, dealer, ace: int(total < 20))
    else:  # hitting a natural forfeits it: checks the hidden natural states act as their observation
        policy = table_policy(lambda total, dealer, ace: int(total < 17 or (total == 21 and ace == 1)))
    env = gym.make("Blackjack-v1")
    obs, _ = env.reset(seed=0)
    returns = []
    while len(returns) < 30_000:
        obs, reward, terminated, truncated, _ = env.step(int(policy[ENCODE.one(obs)]))
        if terminated or truncated:
            returns.append(reward)
            obs, _ = env.reset()
    exact = model_value(model, policy)
    assert abs(np.mean(returns) - exact) <= 4 * np.std(returns) / np.sqrt(len(returns))


def test_optimum_is_the_best_of_the_simple_rules():
    model = blackjack_model()
    optimum = float(model.initial @ value_iteration(tabular_model(model.p), gamma=1.0).v)
    for threshold in range(12, 22):
        assert model_value(model, table_policy(lambda total, d, a, t=threshold: int(total < t))) < optimum
    # Blackjack-v1's (sab) optimum lies between the rules without the natural bonus and with 1.5 payouts
    plain = blackjack_model(sab=False)
    bonus = blackjack_model(sab=False, natural=True)
    best = {id(m): float(m.initial @ value_iteration(tabular_model(m.p), gamma=1.0).v) for m in (plain, bonus)}
    assert best[id(plain)] < optimum < best[id(bonus)]


def random_model(n_states: int, n_actions: int, seed: int) -> TabularModel:
    rng = np.random.default_rng(seed)
    prob = rng.dirichlet(np.ones(n_states + 1), size=(n_states, n_actions))[..., :n_states]  # the rest terminates
    return TabularModel(prob, rng.normal(size=(n_states, n_actions)))


def test_optimal_values_within_equal_the_best_of_every_time_dependent_policy():
    model, horizon = random_model(2, 2, seed=0), 3
    best = np.full(2, -np.inf)
    # every deterministic time-dependent policy: one action per (steps left, state)
    for choice in itertools.product(range(2), repeat=2 * horizon):
        actions = np.array(choice).reshape(horizon, 2)
        v = np.zeros(2)
        for step in range(horizon):
            a = actions[step]
            v = model.reward[np.arange(2), a] + model.prob[np.arange(2), a] @ v
        best = np.maximum(best, v)
    np.testing.assert_allclose(optimal_values_within(model, horizon), best)


def test_optimal_values_within_bound_the_stationary_optimum_and_reach_v_star():
    model = tabular_model(gym.make("FrozenLake8x8-v1"))
    pi_star = value_iteration(model, gamma=1.0).policy
    within = optimal_values_within(model, 200)
    assert np.all(within >= policy_evaluation(model, pi_star, 1.0, horizon=200) - 1e-12)
    # the issue's figures: 0.913 within FrozenLake8x8's 200 steps, 0.886 for π*
    assert within[0] == pytest.approx(0.913, abs=5e-4)
    assert policy_evaluation(model, pi_star, 1.0, horizon=200)[0] == pytest.approx(0.886, abs=5e-4)
    discounted = value_iteration(model, gamma=0.9).v
    np.testing.assert_allclose(optimal_values_within(model, 400, gamma=0.9), discounted, atol=1e-9)
