from typing import Any, ClassVar, NamedTuple, TypeVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, BasePolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, PyTorchObs, Schedule
from stable_baselines3.common.utils import explained_variance
from torch.nn import functional as F

from sb3_notes.common.finite import check_finite
from sb3_notes.common.kl import DistributionParams, analytic_kl, nonnegative_kl, sample_kl
from sb3_notes.common.kl_coef import adapt_kl_coef, check_kl_coef_bounds
from sb3_notes.common.validation import (
    CheckedSchedule,
    as_schedule,
    check_float_or_schedule,
    check_range,
    check_type,
)
from sb3_notes.on_policy.base import FastOnPolicyAlgorithm
from sb3_notes.on_policy.lean_policy import LeanActorCritic
from sb3_notes.on_policy.updates import (
    flat_rollout,
    index_observations,
    mean_rollout_kl,
    minibatch_indices,
    old_policy_params,
    policy_actions,
    prefer_foreach,
)

SelfPPOPenalty = TypeVar("SelfPPOPenalty", bound="PPOPenalty")


class Minibatch(NamedTuple):
    """Transitions of the rollout, lined up: what one gradient step of PPOPenalty reads."""

    observations: PyTorchObs
    actions: th.Tensor  # long indices for Discrete, as SB3's distributions take them
    old_log_prob: th.Tensor  # log π_old(a_t|s_t), recorded at collection
    advantages: th.Tensor  # Â_t (GAE), not normalised
    returns: th.Tensor  # value targets
    old_values: th.Tensor  # V(s_t) at collection, for clip_range_vf
    old_params: DistributionParams | None  # π_old's distribution on s_t, or None (sample KL estimator)

    def take(self, idx: th.Tensor) -> "Minibatch":
        """
        :param idx: Row indices
        :return: Those rows of every field
        """
        return Minibatch(
            index_observations(self.observations, idx),
            self.actions[idx],
            self.old_log_prob[idx],
            self.advantages[idx],
            self.returns[idx],
            self.old_values[idx],
            None if self.old_params is None else self.old_params.take(idx),
        )


class PolicyEvaluation(NamedTuple):
    """The current policy π_θ on a minibatch, with gradients."""

    values: th.Tensor  # V_θ(s_t)
    log_prob: th.Tensor  # log π_θ(a_t|s_t)
    entropy: th.Tensor | None  # H[π_θ(·|s_t)], None where the distribution has no closed form
    kl: th.Tensor  # KL(π_old ‖ π_θ) per sample (analytic, or the k3 sample estimate)


class LossTerms(NamedTuple):
    """The detached terms of one minibatch's loss; each is logged as ``train/<name>`` (mean over minibatches)."""

    policy_gradient_loss: th.Tensor
    kl: th.Tensor
    kl_penalty: th.Tensor
    value_loss: th.Tensor
    entropy_loss: th.Tensor
    approx_kl: th.Tensor
    clip_fraction: th.Tensor
    loss: th.Tensor


class PPOPenalty(FastOnPolicyAlgorithm):
    """
    Proximal Policy Optimization with an adaptive KL penalty (notes §3–§4): maximises
    E_{π_old}[r_t(θ)·Â_t] − β·KL(π_old ‖ π_θ) and adapts β after each update toward ``kl_target``. Every other
    argument is SB3's PPO's, with its name and default; clipping is off unless ``clip_range`` is given. The notes'
    variants as settings, and how it differs from SB3's PPO: docs/algorithms/ppo_penalty.md.

    Paper: https://arxiv.org/abs/1707.06347 (section 4, "Adaptive KL Penalty Coefficient")

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function
        of the current progress remaining (from 1 to 0)
    :param n_steps: The number of steps to run for each environment per update
        (i.e. rollout buffer size is n_steps * n_envs where n_envs is number of environment copies running in parallel)
    :param batch_size: Minibatch size
    :param n_epochs: Number of epoch when optimizing the surrogate loss
    :param gamma: Discount factor
    :param gae_lambda: Factor for trade-off of bias vs variance for Generalized Advantage Estimator
    :param kl_coef: Initial KL-penalty coefficient β (the current β is kept in ``self.kl_coef``)
    :param kl_target: Target mean KL(π_old ‖ π_new) per update, d_targ in the paper
    :param kl_tolerance: β is left alone while kl_target / kl_tolerance <= KL <= kl_target * kl_tolerance
    :param kl_factor: Outside that band β is divided (KL too small) or multiplied (KL too large) by this factor
    :param kl_adaptive: Whether to adapt β after each update; ``False`` keeps β fixed
    :param kl_coef_bounds: (lowest, highest) β; the floor is above 0 so a β that shrank can grow again
    :param clip_range: Optional PPO-clip range added on top of the penalty, it can be a function of the current
        progress remaining (from 1 to 0). ``None`` (default): no clipping
    :param clip_range_vf: Clipping parameter for the value function,
        it can be a function of the current progress remaining (from 1 to 0).
        If None is passed (default), no clipping will be done on the value function.
        IMPORTANT: this clipping depends on the reward scaling.
    :param normalize_advantage: Whether to normalize or not the advantage
    :param ent_coef: Entropy coefficient for the loss calculation
    :param vf_coef: Value function coefficient for the loss calculation
    :param max_grad_norm: The maximum value for the gradient clipping
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE
        Default: -1 (only sample at the beginning of the rollout)
    :param rollout_buffer_class: Rollout buffer class to use. If ``None``, it will be automatically selected.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation
    :param target_kl: SB3's early stopping: stop the epochs of an update when the approximate KL of a minibatch
        exceeds 1.5 * target_kl. Unlike ``kl_target`` it does not change the loss. By default, no limit.
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param fast_rollout: Use ``sb3_notes.on_policy``'s lean path when the policy is SB3's own: rollouts with
        the same buffer contents and action distribution as SB3's loop, and minibatch losses without distribution
        objects. ``False`` always uses SB3's code. Other policies, gSDE and unknown distributions fall back to
        SB3's code automatically (logged as ``rollout/fast_path``).
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }
    supported_action_spaces = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        kl_coef: float = 1.0,
        kl_target: float = 0.01,
        kl_tolerance: float = 1.5,
        kl_factor: float = 2.0,
        kl_adaptive: bool = True,
        kl_coef_bounds: tuple[float, float] = (1e-6, 1e6),
        clip_range: float | Schedule | None = None,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        target_kl: float | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        fast_rollout: bool = True,
        _init_setup_model: bool = True,
    ):
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=False,
        )
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.kl_coef = kl_coef
        self.kl_target = kl_target
        self.kl_tolerance = kl_tolerance
        self.kl_factor = kl_factor
        self.kl_adaptive = kl_adaptive
        bounds = tuple(kl_coef_bounds) if isinstance(kl_coef_bounds, (tuple, list)) else kl_coef_bounds
        self.kl_coef_bounds: tuple[float, float] = bounds  # type: ignore[assignment]  # checked in _validate
        self.clip_range = clip_range
        self.clip_range_vf = clip_range_vf
        self.normalize_advantage = normalize_advantage
        self.target_kl = target_kl
        self.fast_rollout = fast_rollout
        self._validate()

        if _init_setup_model:
            self._setup_model()

    def _validate(self) -> None:
        self._check_spaces()
        check_float_or_schedule("learning_rate", self.learning_rate)
        for name in ("n_steps", "batch_size", "n_epochs"):
            check_type(name, getattr(self, name), int)
            check_range(name, getattr(self, name), 1)
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_range("gae_lambda", self.gae_lambda, 0.0, 1.0)
        check_range("kl_coef", self.kl_coef, 0.0)
        check_range("kl_target", self.kl_target, 0.0, low_inclusive=False)
        check_range("kl_tolerance", self.kl_tolerance, 1.0)
        check_range("kl_factor", self.kl_factor, 1.0, low_inclusive=False)
        check_type("kl_adaptive", self.kl_adaptive, bool)
        check_type("normalize_advantage", self.normalize_advantage, bool)
        check_type("fast_rollout", self.fast_rollout, bool)
        check_kl_coef_bounds(self.kl_coef_bounds)
        if self.kl_adaptive and not self.kl_coef_bounds[0] <= self.kl_coef <= self.kl_coef_bounds[1]:
            raise ValueError(
                f"`kl_coef`={self.kl_coef!r} is outside `kl_coef_bounds`={self.kl_coef_bounds!r}; an adaptive β must "
                "start inside its bounds (use kl_adaptive=False for a fixed β such as 0)"
            )
        for name in ("clip_range", "clip_range_vf"):
            if getattr(self, name) is not None:
                check_float_or_schedule(name, getattr(self, name), 0.0, low_inclusive=False)
        check_range("ent_coef", self.ent_coef, 0.0)
        check_range("vf_coef", self.vf_coef, 0.0)
        check_range("max_grad_norm", self.max_grad_norm, 0.0, low_inclusive=False, finite=False)  # inf: no clipping
        if self.target_kl is not None:
            check_range("target_kl", self.target_kl, 0.0, low_inclusive=False)
        if self.env is not None:
            buffer_size = self.env.num_envs * self.n_steps
            if self.batch_size > buffer_size:
                raise ValueError(
                    f"`batch_size`={self.batch_size} is larger than the rollout, n_steps * n_envs = "
                    f"{self.n_steps} * {self.env.num_envs} = {buffer_size}; accepted: 1 to {buffer_size}"
                )
            if self.normalize_advantage and buffer_size < 2:
                raise ValueError(f"`n_steps` * n_envs = {buffer_size} must be > 1 when normalize_advantage=True")

    def _setup_model(self) -> None:
        super()._setup_model()
        prefer_foreach(self.policy.optimizer)
        # Schedules are wrapped here, not in __init__, so that load() (which calls _setup_model) wraps them too.
        for name in ("clip_range", "clip_range_vf"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), CheckedSchedule):
                setattr(self, name, CheckedSchedule(name, as_schedule(getattr(self, name)), 0.0, low_inclusive=False))

    def train(self) -> None:
        """
        Update policy using the currently gathered rollout buffer: ``n_epochs`` passes of minibatch steps on the
        penalised surrogate, then β adapted on the KL of the whole rollout (the PPO paper's Algorithm, section 4).
        """
        progress = self._current_progress_remaining
        clip_range = None if self.clip_range is None else self.clip_range(progress)  # type: ignore[operator]
        clip_range_vf = None if self.clip_range_vf is None else self.clip_range_vf(progress)  # type: ignore[operator]
        self._update_learning_rate(self.policy.optimizer)

        rollout = self._rollout_minibatch()  # the whole rollout, with π_old's distribution on every state
        lean = self.lean_policy(refresh=True)  # modules may have been replaced since the rollout
        parameters = list(self.policy.parameters())  # walked once, not once per minibatch
        self.policy.set_training_mode(True)
        terms: list[LossTerms] = []
        continue_training = True
        for epoch in range(self.n_epochs):
            for idx in minibatch_indices(len(rollout.actions), self.batch_size, self.device):
                batch = rollout.take(idx)
                loss, batch_terms = self.compute_loss(batch, self.evaluate_policy(batch, lean), clip_range, clip_range_vf)
                if self.target_kl is not None and batch_terms.approx_kl > 1.5 * self.target_kl:
                    # SB3's early stopping, checked before the step as in SB3's PPO
                    continue_training = False
                    if self.verbose >= 1:
                        print(f"Early stopping at step {epoch} due to reaching max kl: {batch_terms.approx_kl:.2f}")
                    break
                self.policy.optimizer.zero_grad()
                loss.backward()
                grad_norm = th.nn.utils.clip_grad_norm_(parameters, self.max_grad_norm)
                # the loss sums the terms (0 · NaN is NaN) and the norm covers the gradient: one sync gates them all
                gate = batch_terms.loss + grad_norm
                check_finite(
                    "PPOPenalty", f"update {self._n_updates + 1}", gate=gate, **batch_terms._asdict(), grad_norm=grad_norm
                )
                self.policy.optimizer.step()
                terms.append(batch_terms)
            self._n_updates += 1
            if not continue_training:
                break

        # d = KL(π_old ‖ π_new) over the whole rollout after the update; adapt β (paper §4). Measured in eval mode,
        # like the snapshot of π_old, so that dropout or batch norm cannot make the two differ.
        self.policy.set_training_mode(False)
        rollout_kl = nonnegative_kl(
            mean_rollout_kl(self.policy, rollout.observations, rollout.actions, rollout.old_log_prob, rollout.old_params)
        )
        check_finite("PPOPenalty", f"update {self._n_updates}", "β was not adapted", kl=rollout_kl)
        if self.kl_adaptive:
            self.kl_coef = adapt_kl_coef(
                self.kl_coef, rollout_kl, self.kl_target, self.kl_tolerance, self.kl_factor, self.kl_coef_bounds
            )
        self._log_train(terms, rollout_kl, clip_range, clip_range_vf)

    def _rollout_minibatch(self) -> "Minibatch":
        """The whole rollout as one :class:`Minibatch`, π_old's parameters taken before any step (in eval mode, as
        the rollout was collected)."""
        data = flat_rollout(self.rollout_buffer)
        actions = policy_actions(self.action_space, data.actions)
        self.policy.set_training_mode(False)
        old_params = old_policy_params(self.policy, data.observations)
        return Minibatch(
            data.observations, actions, data.old_log_prob, data.advantages, data.returns, data.old_values, old_params
        )

    def evaluate_policy(self, batch: "Minibatch", lean: LeanActorCritic | None) -> "PolicyEvaluation":
        """
        V(s), log π_θ(a|s), the entropy and KL(π_old ‖ π_θ) of a minibatch, with gradients.

        :param batch: The minibatch
        :param lean: The lean view of SB3's own policy (the same numbers without distribution objects), or ``None``
            to evaluate through the policy's distribution
        :return: The evaluation; the KL is analytic when π_old's parameters are known, else the sample estimator
        """
        entropy: th.Tensor | None
        if lean is not None:
            values, log_prob, entropy, params = lean.evaluate(batch.observations, batch.actions)
            if batch.old_params is not None:
                return PolicyEvaluation(values, log_prob, entropy, lean.kl(batch.old_params, params))
        else:  # SB3's own evaluate_actions, and the distribution again only where the penalty needs its KL
            values, log_prob, entropy = self.policy.evaluate_actions(batch.observations, batch.actions)
            values = values.flatten()
            if self.kl_coef == 0.0:
                return PolicyEvaluation(values, log_prob, entropy, th.zeros_like(log_prob))
            if batch.old_params is not None:
                dist = self.policy.get_distribution(batch.observations)
                return PolicyEvaluation(values, log_prob, entropy, analytic_kl(batch.old_params, dist))
        return PolicyEvaluation(values, log_prob, entropy, sample_kl(log_prob - batch.old_log_prob))

    def compute_loss(
        self, batch: "Minibatch", evaluation: "PolicyEvaluation", clip_range: float | None, clip_range_vf: float | None
    ) -> tuple[th.Tensor, "LossTerms"]:
        """
        The loss of one minibatch, L = −J_PPO + vf_coef·value loss − ent_coef·entropy, where
        J_PPO = mean(r_t·Â_t) − β·mean KL(π_old ‖ π_θ) (or PPO-clip's min(...) in place of r_t·Â_t when clipping).

        :param batch: The minibatch (its advantages are normalised here if ``normalize_advantage``)
        :param evaluation: The current policy on it (:meth:`evaluate_policy`)
        :param clip_range: PPO-clip range, or ``None``
        :param clip_range_vf: Value clipping range, or ``None``
        :return: The loss (with gradient) and its terms, detached
        """
        advantages = batch.advantages
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

        # Importance-sampled surrogate J^{θ'}(θ) = E[r_t(θ) · A_t] (notes §3)
        log_ratio = evaluation.log_prob - batch.old_log_prob
        ratio = th.exp(log_ratio)
        surrogate = ratio * advantages
        if clip_range is None:
            policy_loss = -surrogate.mean()
            clip_fraction = th.zeros((), device=surrogate.device)
        else:
            clipped = th.clamp(ratio, 1 - clip_range, 1 + clip_range) * advantages
            policy_loss = -th.min(surrogate, clipped).mean()
            clip_fraction = ((ratio - 1).abs() > clip_range).float().mean()

        # Penalty β · KL(π_old ‖ π_θ) (notes §4: J_PPO = J − β KL); a fixed β = 0 is the plain surrogate of §3
        kl = evaluation.kl.mean() if self.kl_coef != 0.0 else th.zeros((), device=ratio.device)
        kl_penalty = self.kl_coef * kl

        values = evaluation.values
        if clip_range_vf is not None:
            values = batch.old_values + th.clamp(values - batch.old_values, -clip_range_vf, clip_range_vf)
        value_loss = F.mse_loss(batch.returns, values)
        entropy = evaluation.entropy
        entropy_loss = -th.mean(-evaluation.log_prob) if entropy is None else -th.mean(entropy)

        loss = policy_loss + kl_penalty + self.ent_coef * entropy_loss + self.vf_coef * value_loss
        with th.no_grad():
            approx_kl = sample_kl(log_ratio).mean()
        terms = LossTerms(policy_loss, kl, kl_penalty, value_loss, entropy_loss, approx_kl, clip_fraction, loss)
        return loss, LossTerms(*(term.detach() for term in terms))

    def _log_train(self, terms: list["LossTerms"], rollout_kl: float, clip_range: float | None, clip_range_vf: float | None):
        if terms:
            means = LossTerms(*th.stack([th.stack(t) for t in terms]).mean(dim=0).tolist())
            for name, value in means._asdict().items():
                if name == "kl":
                    continue  # train/kl is the KL after the update, below
                if name == "clip_fraction" and clip_range is None:
                    continue
                self.logger.record(f"train/{name}", value)
        self.logger.record("train/kl", rollout_kl)
        self.logger.record("train/kl_coef", self.kl_coef)
        explained_var = explained_variance(self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten())
        self.logger.record("train/explained_variance", explained_var)
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if clip_range is not None:
            self.logger.record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            self.logger.record("train/clip_range_vf", clip_range_vf)

    def learn(
        self: SelfPPOPenalty,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "PPOPenalty",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfPPOPenalty:
        """
        Return a trained model (SB3's ``learn``).

        :param total_timesteps: The total number of samples (env steps) to train on
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts (updates) before logging.
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
