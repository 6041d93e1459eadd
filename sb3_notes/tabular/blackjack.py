"""An exact model of gymnasium's ``Blackjack-v1``, so DP gives its optimum and the exact value of any table policy.

Blackjack has no ``env.unwrapped.P``; this builds one. The deck is infinite (cards drawn with replacement: 1-9
with probability 1/13 each, 10 with 4/13), the dealer draws while below 17 (standing on a soft 17), and the
observation is ``(player_sum, dealer_card, usable_ace)`` of ``Tuple(Discrete(32), Discrete(11), Discrete(2))``,
numbered as :mod:`sb3_notes.common.state_encoding` numbers it, so a learner's Q-table rows line up with the
model's states.

The observation is Markov for every rule but one: under ``sab=True`` (``Blackjack-v1``'s default) or
``natural=True``, sticking on a *natural* (ace and ten as the first two cards) pays differently from sticking
on a later soft 21, which the player sees as the same observation. The model therefore adds one hidden
"natural" state per dealer card; a table policy acts there as it acts on the observation ``(21, card, 1)``
(:meth:`BlackjackModel.model_policy`).
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
from gymnasium import spaces

from sb3_notes.common.state_encoding import StateEncoder

OBSERVATION_SPACE = spaces.Tuple((spaces.Discrete(32), spaces.Discrete(11), spaces.Discrete(2)))
CARDS = np.arange(1, 11)
# One draw from the infinite deck [1, ..., 9, 10, 10, 10, 10]
CARD_PROBS = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 4]) / 13
STICK, HIT = 0, 1
BUST = 0  # the dealer's score when bust, as gymnasium's ``score``


@dataclass(frozen=True)
class BlackjackModel:
    """
    ``Blackjack-v1`` as a tabular MDP.

    :param p: ``p[s][a] = [(prob, s', reward, terminated), ...]``, gymnasium's toy-text format, over the
        model's states (every observation index, then the hidden "natural" states)
    :param initial: The start-state distribution over the model's states
    :param observation: For each model state, the observation index a policy sees there
    """

    p: dict[int, dict[int, list[tuple[float, int, float, bool]]]]
    initial: np.ndarray
    observation: np.ndarray

    @property
    def n_observations(self) -> int:
        """Number of observation indices (rows of a learner's Q-table)."""
        return int(self.observation.max()) + 1

    def model_policy(self, policy: np.ndarray) -> np.ndarray:
        """
        A policy over observation indices (one action per row of a Q-table, or π(a|s) rows) → over model states.

        :param policy: Shape ``(n_observations,)`` or ``(n_observations, 2)``
        :return: The same per model state, for :func:`~sb3_notes.tabular.dp.policy_evaluation`
        """
        return np.asarray(policy)[self.observation]


def _hand(total: int, has_ace: bool) -> tuple[int, int]:
    """(sum, usable_ace) as gymnasium reports a hand whose cards add to ``total`` (aces as 1)."""
    if has_ace and total + 10 <= 21:
        return total + 10, 1
    return total, 0


@cache
def _dealer_finals(total: int, has_ace: bool) -> tuple[float, ...]:
    """Distribution of the dealer's final score (index 0: bust, 17-21) from a hand adding to ``total``."""
    score, _ = _hand(total, has_ace)
    finals = np.zeros(22)
    if score > 21:
        finals[BUST] = 1.0
    elif score >= 17:
        finals[score] = 1.0
    else:
        for card, prob in zip(CARDS, CARD_PROBS, strict=True):
            finals += prob * np.array(_dealer_finals(total + int(card), has_ace or card == 1))
    return tuple(finals)


def dealer_final_distribution(dealer_card: int) -> np.ndarray:
    """
    P(dealer's final score = k | the face-up card), k = 0 (bust) or 17-21, the hidden card drawn like any other.

    :param dealer_card: The face-up card, 1 (ace) to 10
    :return: Array of length 22, indexed by score
    """
    # the face-up card alone scores at most 11, so the dealer's rule draws the hidden card first, like any other
    return np.array(_dealer_finals(dealer_card, dealer_card == 1))


def _stick_reward(player_score: int, finals: np.ndarray) -> float:
    # E[cmp(player, dealer)] with bust scoring 0 on both sides, as gymnasium's ``cmp(score(...), score(...))``
    scores = np.arange(22)
    return float(finals @ (np.sign(player_score - scores)))


def blackjack_model(natural: bool = False, sab: bool = True) -> BlackjackModel:
    """
    The exact model of ``gym.make("Blackjack-v1", natural=natural, sab=sab)`` (defaults as registered).

    :param natural: Whether a winning natural pays 1.5 (used only when ``sab=False``, as in gymnasium)
    :param sab: Sutton & Barto's rule: a natural beats any dealer hand that is not a natural
    :return: The model: transitions, start distribution, and the observation seen in each state
    """
    encode = StateEncoder(OBSERVATION_SPACE)

    def index(total: int, has_ace: bool, dealer_card: int) -> int:
        player_sum, usable = _hand(total, has_ace)
        return encode.one((player_sum, dealer_card, usable))

    n_obs = 32 * 11 * 2
    natural_state = {card: n_obs + i for i, card in enumerate(CARDS.tolist())}
    n_states = n_obs + len(natural_state)
    # Every state gets both actions: unreachable observations stay as absorbing zero-reward dead ends
    p: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {
        s: {STICK: [(1.0, s, 0.0, True)], HIT: [(1.0, s, 0.0, True)]} for s in range(n_states)
    }
    observation = np.concatenate([np.arange(n_obs), np.zeros(len(natural_state), dtype=np.int64)])
    # The player's hand as (cards' total with aces as 1, holds an ace): the observation determines what
    # matters of it (a hand without a usable ace and a total ≤ 11 holds no ace)
    hands = [(total, False) for total in range(2, 22)] + [(total, True) for total in range(2, 12)]
    for dealer_card in CARDS.tolist():
        finals = dealer_final_distribution(dealer_card)
        for total, has_ace in hands:
            s = index(total, has_ace, dealer_card)
            player_sum, _ = _hand(total, has_ace)
            p[s][STICK] = [(1.0, s, _stick_reward(player_sum, finals), True)]
            p[s][HIT] = _hit(total, has_ace, dealer_card, index)
        # The natural: ace + ten as the first two cards; hitting it is hitting a soft 21
        dealer_natural = CARD_PROBS[9] if dealer_card == 1 else CARD_PROBS[0] if dealer_card == 10 else 0.0
        if sab:
            natural_reward = 1.0 - dealer_natural  # wins unless the dealer has one too (then a draw)
        elif natural:
            natural_reward = 1.5 * float(finals[:21].sum())  # a win (dealer bust or below 21) pays 1.5
        else:
            natural_reward = _stick_reward(21, finals)
        s = natural_state[dealer_card]
        p[s][STICK] = [(1.0, s, natural_reward, True)]
        p[s][HIT] = _hit(11, True, dealer_card, index)
        observation[s] = index(11, True, dealer_card)

    initial = np.zeros(n_states)
    for dealer_card, p_dealer in zip(CARDS.tolist(), CARD_PROBS, strict=True):
        for first, p_first in zip(CARDS.tolist(), CARD_PROBS, strict=True):
            for second, p_second in zip(CARDS.tolist(), CARD_PROBS, strict=True):
                prob = p_dealer * p_first * p_second
                if sorted((first, second)) == [1, 10]:
                    initial[natural_state[dealer_card]] += prob
                else:
                    initial[index(first + second, 1 in (first, second), dealer_card)] += prob
    return BlackjackModel(p, initial, observation)


def _hit(total, has_ace, dealer_card, index) -> list[tuple[float, int, float, bool]]:
    transitions = []
    for card, prob in zip(CARDS.tolist(), CARD_PROBS, strict=True):
        new_total, new_ace = total + card, has_ace or card == 1
        if new_total > 21:  # bust: -1, the episode ends (the next state is irrelevant)
            transitions.append((float(prob), 0, -1.0, True))
        else:
            transitions.append((float(prob), index(new_total, new_ace, dealer_card), 0.0, False))
    return transitions


__all__ = ["OBSERVATION_SPACE", "BlackjackModel", "blackjack_model", "dealer_final_distribution"]
