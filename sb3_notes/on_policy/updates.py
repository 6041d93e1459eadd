"""What the on-policy updates share (PPOPenalty, TRPO): the rollout as one batch, minibatch orders, π_old's snapshot.

They read SB3's rollout buffer through its public ``get()`` once per update and then index tensors directly,
so that per-sample quantities computed once for the whole rollout (e.g. the old policy's distribution
parameters) can be lined up with each minibatch.
"""

from collections.abc import Iterator

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import PyTorchObs, RolloutBufferSamples

from sb3_notes.common.kl import DistributionParams, analytic_kl, distribution_params, has_analytic_kl, sample_kl


def flat_rollout(rollout_buffer: RolloutBuffer, shuffle: bool = False) -> RolloutBufferSamples:
    """
    The whole rollout as one batch of tensors on the buffer's device (``RolloutBufferSamples`` or
    ``DictRolloutBufferSamples``).

    SB3's ``get()`` draws a permutation from NumPy's global generator every time it is called. With
    ``shuffle=False`` the batch comes back in the buffer's own (flattened, env-major) order and NumPy's generator
    is left exactly where it was, so that :func:`minibatch_indices` then draws the same permutations as SB3's
    ``get(batch_size)`` would, epoch by epoch: the run stays identical to SB3's PPO under the same seed.

    :param rollout_buffer: A full SB3 rollout buffer (returns and advantages computed)
    :param shuffle: Return SB3's shuffled order instead (one permutation drawn, as ``get(None)`` does)
    :return: One samples tuple holding every transition (``observations`` is a dict for a ``DictRolloutBuffer``)
    """
    if shuffle:
        return next(iter(rollout_buffer.get(batch_size=None)))  # type: ignore[arg-type]
    state = np.random.get_state()
    order = np.random.permutation(rollout_buffer.buffer_size * rollout_buffer.n_envs)  # the one get() is about to draw
    np.random.set_state(state)
    shuffled = next(iter(rollout_buffer.get(batch_size=None)))
    np.random.set_state(state)
    unshuffle = th.as_tensor(np.argsort(order), device=shuffled.advantages.device)
    return type(shuffled)(*(index_observations(field, unshuffle) for field in shuffled))  # type: ignore[arg-type]


def index_observations(observations: PyTorchObs, idx: th.Tensor | slice) -> PyTorchObs:
    """
    Rows ``idx`` of a tensor observation, or of each entry of a dict observation.

    :param observations: A batch of observations (tensor or dict of tensors)
    :param idx: Row indices or a slice
    :return: The selected rows, in the same structure
    """
    if isinstance(observations, dict):
        return {key: obs[idx] for key, obs in observations.items()}
    return observations[idx]


def n_samples(observations: PyTorchObs) -> int:
    """
    Number of rows of a tensor or dict observation batch.

    :param observations: A batch of observations (tensor or dict of tensors)
    :return: The batch size
    """
    if isinstance(observations, dict):
        return len(next(iter(observations.values())))
    return len(observations)


def minibatch_indices(n: int, batch_size: int, device: th.device) -> Iterator[th.Tensor]:
    """
    A random permutation of ``range(n)`` split into minibatches of ``batch_size`` (the last may be smaller),
    drawn as SB3's ``RolloutBuffer.get(batch_size)`` draws it: ``np.random.permutation`` from NumPy's global
    generator (which SB3's ``set_random_seed`` seeds), so one call here is one epoch of SB3's PPO.

    :param n: Number of samples
    :param batch_size: Minibatch size
    :param device: Device of the index tensors
    :return: An iterator over index tensors
    """
    order = th.as_tensor(np.random.permutation(n), device=device)
    yield from order.split(int(batch_size))


def chunks(n: int, chunk_size: int) -> Iterator[slice]:
    """
    Consecutive slices covering ``range(n)``, for evaluating a whole rollout without a huge batch.

    :param n: Number of samples
    :param chunk_size: Largest slice length
    :return: An iterator over slices
    """
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def policy_actions(action_space: spaces.Space, actions: th.Tensor) -> th.Tensor:
    """
    The buffer stores discrete actions as float columns; SB3's distributions expect long indices.

    :param action_space: The action space
    :param actions: Actions as the rollout buffer stores them
    :return: Actions as SB3's distributions take them
    """
    if isinstance(action_space, spaces.Discrete):
        return actions.long().flatten()
    return actions


# A whole rollout is evaluated in chunks of at most this many states: one batch for SB3's default rollout of 2048,
# bounded memory for a rollout of images or of many envs.
EVAL_CHUNK = 2048


def old_policy_params(
    policy: ActorCriticPolicy, observations: PyTorchObs, chunk_size: int = EVAL_CHUNK
) -> DistributionParams | None:
    """
    Parameters of π_old's distribution on every state of a rollout, taken before the first gradient step (while
    the policy still equals the one that collected the rollout), in chunks.

    :param policy: The policy, still π_old
    :param observations: The rollout's observations
    :param chunk_size: Largest batch evaluated at once
    :return: The parameters, lined up with the samples, or ``None`` if the distribution has no closed-form KL
    """
    params = []
    with th.no_grad():
        for rows in chunks(n_samples(observations), chunk_size):
            dist = policy.get_distribution(index_observations(observations, rows))
            if not has_analytic_kl(dist):
                return None
            params.append(distribution_params(dist))
    second = None if params[0].second is None else th.cat([p.second for p in params])  # type: ignore[misc]
    return DistributionParams(th.cat([p.first for p in params]), second)


def mean_rollout_kl(
    policy: ActorCriticPolicy,
    observations: PyTorchObs,
    actions: th.Tensor,
    old_log_prob: th.Tensor,
    old: DistributionParams | None,
    chunk_size: int = EVAL_CHUNK,
) -> float:
    """
    d = mean over a rollout of KL(π_old ‖ π_θ): analytic from :func:`old_policy_params`, or the sample
    estimator from the old log-probabilities when ``old`` is ``None``.

    :param policy: The policy, now π_θ
    :param observations: The rollout's observations
    :param actions: The actions taken (as the policy's ``log_prob`` takes them)
    :param old_log_prob: log π_old(a|s) of those actions
    :param old: π_old's distribution parameters, or ``None``
    :param chunk_size: Largest batch evaluated at once
    :return: The mean KL, a Python float
    """
    total = 0.0
    with th.no_grad():
        for rows in chunks(len(actions), chunk_size):
            dist = policy.get_distribution(index_observations(observations, rows))
            if old is not None:
                kl = analytic_kl(old.take(rows), dist)
            else:
                kl = sample_kl(dist.log_prob(actions[rows]) - old_log_prob[rows])
            total += kl.double().sum().item()  # float64 sum: a tiny KL is not lost in the rounding of a large one
    return total / len(actions)


def prefer_foreach(optimizer: th.optim.Optimizer) -> None:
    """
    Adam's multi-tensor (``foreach``) implementation, unless the user chose one: one kernel per operation for all
    parameters instead of one per parameter, with bitwise the same results as the per-parameter loop (checked in
    tests/test_rollout.py). ``fused`` is faster still but rounds differently, so it is left to the user.

    :param optimizer: The policy's optimizer (left as it is unless it is ``torch.optim.Adam``)
    """
    if type(optimizer) is th.optim.Adam:
        for group in optimizer.param_groups:
            if group.get("foreach") is None and not group.get("fused"):
                group["foreach"] = True
