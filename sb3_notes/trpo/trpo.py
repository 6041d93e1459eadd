import math
import warnings
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.type_aliases import (
    DictRolloutBufferSamples,
    GymEnv,
    MaybeCallback,
    PyTorchObs,
    RolloutBufferSamples,
    Schedule,
)
from stable_baselines3.common.utils import explained_variance
from torch import nn
from torch.nn import functional as F

from sb3_notes.common.conjugate_gradient import conjugate_gradient
from sb3_notes.common.finite import check_finite
from sb3_notes.common.fisher import fisher_vector_product, flat_grad, flat_params, set_flat_params
from sb3_notes.common.kl import DistributionParams, analytic_kl, distribution_params, has_analytic_kl
from sb3_notes.common.validation import check_float_or_schedule, check_range, check_type
from sb3_notes.on_policy.base import FastOnPolicyAlgorithm
from sb3_notes.on_policy.updates import flat_rollout, index_observations, minibatch_indices, n_samples, policy_actions
from sb3_notes.trpo.policies import CnnPolicy, MlpPolicy, MultiInputPolicy, actor_critic_parameters

SelfTRPO = TypeVar("SelfTRPO", bound="TRPO")


class PolicyStep(NamedTuple):
    """What one trust-region step did (every quantity is 0 for a step that was not taken)."""

    accepted: bool  # whether the parameters moved
    kl: float  # mean KL(π_old ‖ π_new) over the batch after the step
    surrogate_improvement: float  # J(θ_new) − J(θ_old), measured
    expected_improvement: float  # gᵀΔθ, the linear model's prediction of the same
    line_search_steps: int  # candidate steps evaluated (0 without line search)
    step_fraction: float  # Δθ as a fraction of the maximal step sqrt(2δ / sᵀFs)·s
    cg_residual: float  # ‖g − F s‖ left by conjugate gradient


class TRPO(FastOnPolicyAlgorithm):
    """
    Trust Region Policy Optimization (TRPO) (notes §4): the importance-sampled surrogate maximised under mean
    KL(π_old ‖ π_θ) ≤ ``target_kl``, by a natural-gradient step (conjugate gradient on Fisher-vector products) and a
    backtracking line search; the critic is fitted by ``n_critic_updates`` epochs of regression. A drop-in for
    sb3-contrib's TRPO (same arguments, meanings and defaults); the differences and the logger keys are on the docs
    pages (docs/algorithms/trpo.md, docs/differences.md).

    Paper: https://arxiv.org/abs/1502.05477

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate for the value function, it can be a function
        of the current progress remaining (from 1 to 0)
    :param n_steps: The number of steps to run for each environment per update
        (i.e. rollout buffer size is n_steps * n_envs where n_envs is number of environment copies running in parallel)
        NOTE: n_steps * n_envs must be greater than 1 (because of the advantage normalization)
    :param batch_size: Minibatch size for the value function
    :param gamma: Discount factor
    :param cg_max_steps: maximum number of steps in the Conjugate Gradient algorithm
        for computing the Hessian vector product
    :param cg_damping: damping in the Hessian vector product computation
    :param line_search_shrinking_factor: step-size reduction factor for the line-search
        (i.e., ``theta_new = theta + alpha^i * step``)
    :param line_search_max_iter: maximum number of iteration
        for the backtracking line-search
    :param n_critic_updates: number of critic updates (epochs over the rollout) per policy update
    :param gae_lambda: Factor for trade-off of bias vs variance for Generalized Advantage Estimator
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE
        Default: -1 (only sample at the beginning of the rollout)
    :param rollout_buffer_class: Rollout buffer class to use. If ``None``, it will be automatically selected.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation
    :param normalize_advantage: Whether to normalize or not the advantage
    :param target_kl: Trust-region radius δ: bound on the mean KL(π_old ‖ π_new) of an update.
        Should be small for stability. Values like 0.01, 0.05.
    :param sub_sampling_factor: Sub-sample the batch to make computation faster (every k-th transition of the
        shuffled rollout is used for the policy step; the critic uses all of them)
        see p40-42 of John Schulman thesis http://joschu.net/docs/thesis.pdf
    :param ent_coef: Entropy bonus added to the surrogate (0: the plain TRPO surrogate)
    :param use_line_search: ``False`` takes the maximal natural-gradient step sqrt(2δ / sᵀFs)·s unchecked
        (natural policy gradient with a KL-sized step) instead of backtracking
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: the verbosity level: 0 no output, 1 info, 2 debug
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param fast_rollout: Collect rollouts with ``sb3_notes.on_policy``'s lean path when the policy is SB3's
        own (same buffer contents and action distribution as SB3's loop). ``False`` always uses SB3's code; other
        policies, gSDE and unknown distributions fall back automatically (logged as ``rollout/fast_path``).
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    supported_action_spaces = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        n_steps: int = 2048,
        batch_size: int = 128,
        gamma: float = 0.99,
        cg_max_steps: int = 15,
        cg_damping: float = 0.1,
        line_search_shrinking_factor: float = 0.8,
        line_search_max_iter: int = 10,
        n_critic_updates: int = 10,
        gae_lambda: float = 0.95,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        normalize_advantage: bool = True,
        target_kl: float = 0.01,
        sub_sampling_factor: int = 1,
        ent_coef: float = 0.0,
        use_line_search: bool = True,
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
            vf_coef=0.0,  # the value function is fitted separately
            max_grad_norm=0.0,
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
        self.cg_max_steps = cg_max_steps
        self.cg_damping = cg_damping
        self.line_search_shrinking_factor = line_search_shrinking_factor
        self.line_search_max_iter = line_search_max_iter
        self.n_critic_updates = n_critic_updates
        self.normalize_advantage = normalize_advantage
        self.target_kl = target_kl
        self.sub_sampling_factor = sub_sampling_factor
        self.use_line_search = use_line_search
        self.fast_rollout = fast_rollout
        self._validate()

        if _init_setup_model:
            self._setup_model()

    def _validate(self) -> None:
        self._check_spaces()
        check_float_or_schedule("learning_rate", self.learning_rate)
        for name in ("n_steps", "batch_size", "cg_max_steps", "line_search_max_iter", "n_critic_updates"):
            check_type(name, getattr(self, name), int)
            check_range(name, getattr(self, name), 1)
        check_type("sub_sampling_factor", self.sub_sampling_factor, int)
        check_range("sub_sampling_factor", self.sub_sampling_factor, 1)
        check_range("gamma", self.gamma, 0.0, 1.0)
        check_range("gae_lambda", self.gae_lambda, 0.0, 1.0)
        check_range("cg_damping", self.cg_damping, 0.0)
        shrink = self.line_search_shrinking_factor
        check_range("line_search_shrinking_factor", shrink, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        check_range("target_kl", self.target_kl, 0.0, low_inclusive=False)
        check_range("ent_coef", self.ent_coef, 0.0)
        check_type("normalize_advantage", self.normalize_advantage, bool)
        check_type("use_line_search", self.use_line_search, bool)
        check_type("fast_rollout", self.fast_rollout, bool)
        if self.env is not None:
            buffer_size = self.env.num_envs * self.n_steps
            policy_batch = -(-buffer_size // self.sub_sampling_factor)
            if self.normalize_advantage and policy_batch < 2:
                raise ValueError(
                    f"`n_steps` * n_envs / `sub_sampling_factor` = {self.n_steps} * {self.env.num_envs} / "
                    f"{self.sub_sampling_factor} leaves {policy_batch} sample(s); normalize_advantage=True needs >= 2"
                )
            if buffer_size % self.batch_size > 0:
                warnings.warn(
                    f"You have specified a mini-batch size of {self.batch_size}, but because the `RolloutBuffer` is of "
                    f"size `n_steps * n_envs = {buffer_size}`, there will be a truncated mini-batch of size "
                    f"{buffer_size % self.batch_size}. We recommend a `batch_size` that is a factor of `n_steps * n_envs`."
                )

    def _setup_model(self) -> None:
        super()._setup_model()
        if not has_analytic_kl(self.policy.action_dist):
            raise ValueError(f"TRPO needs a closed-form KL; {type(self.policy.action_dist).__name__} has none")
        # The critic's own optimizer, over the critic's parameters only: the trust-region step is the only thing
        # that moves the actor. It replaces SB3's `policy.optimizer`, so SB3 saves and loads its state unchanged.
        _, critic_params = actor_critic_parameters(self.policy)
        self.policy.optimizer = self.policy.optimizer_class(
            critic_params,
            lr=self.lr_schedule(1),
            **self.policy.optimizer_kwargs,  # type: ignore[call-arg]
        )

    def train(self) -> None:
        """
        Update policy using the currently gathered rollout buffer.
        """
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        actor_params, critic_params = actor_critic_parameters(self.policy)

        data: RolloutBufferSamples | DictRolloutBufferSamples = flat_rollout(self.rollout_buffer, shuffle=True)
        actions = policy_actions(self.action_space, data.actions)
        # Every k-th transition of the shuffled rollout (Schulman's thesis, pp. 40-42): a random subset
        sub = slice(None, None, self.sub_sampling_factor)
        step = self.policy_step(
            actor_params,
            index_observations(data.observations, sub),
            actions[sub],
            data.old_log_prob[sub],
            data.advantages[sub],
        )
        value_loss = self._fit_critic(critic_params, data.observations, data.returns)
        self._n_updates += 1

        for name in ("kl", "surrogate_improvement", "expected_improvement", "line_search_steps", "step_fraction"):
            self.logger.record(f"train/{name}", getattr(step, name))
        self.logger.record("train/cg_residual", step.cg_residual)
        self.logger.record("train/is_line_search_success", float(step.accepted))
        self.logger.record("train/value_loss", value_loss)
        explained_var = explained_variance(self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten())
        self.logger.record("train/explained_variance", explained_var)
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")

    def _surrogate(self, distribution: Any, actions: th.Tensor, old_log_prob: th.Tensor, advantages: th.Tensor) -> th.Tensor:
        """J(θ) = E_{π_old}[π_θ(a|s)/π_old(a|s) · Â] (notes §3–§4), plus ``ent_coef`` · mean entropy."""
        log_prob = distribution.log_prob(actions)
        surrogate = (th.exp(log_prob - old_log_prob) * advantages).mean()
        if self.ent_coef > 0:
            entropy = distribution.entropy()
            surrogate = surrogate + self.ent_coef * (-log_prob if entropy is None else entropy).mean()
        return surrogate

    def policy_step(
        self,
        actor_params: list[nn.Parameter],
        observations: PyTorchObs,
        actions: th.Tensor,
        old_log_prob: th.Tensor,
        advantages: th.Tensor,
    ) -> PolicyStep:
        """
        One trust-region step of the actor on a batch collected by the current policy π_old (notes §4).

        :param actor_params: The actor's parameters θ (from :func:`actor_critic_parameters`)
        :param observations: Observations of the batch
        :param actions: Actions taken (long indices for ``Discrete``)
        :param old_log_prob: log π_old(a|s) recorded at collection
        :param advantages: Advantage estimates Â (normalised here when ``normalize_advantage``)
        :return: What the step did; the parameters are unchanged unless ``accepted``
        """
        if self.normalize_advantage:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        distribution = self.policy.get_distribution(observations)
        params = distribution_params(distribution)
        # π_old is the current policy detached: KL̄ is 0 here, its Hessian is the Fisher matrix
        old = DistributionParams(params.first.detach(), None if params.second is None else params.second.detach())
        mean_kl = analytic_kl(old, distribution).mean()
        surrogate = self._surrogate(distribution, actions, old_log_prob, advantages)
        skipped = PolicyStep(False, 0.0, 0.0, 0.0, 0, 0.0, float("nan"))
        where = f"update {self._n_updates + 1}"
        check_finite("TRPO", where, surrogate=surrogate)

        g = flat_grad(surrogate, actor_params, retain_graph=True)
        check_finite("TRPO", where, policy_gradient=g)
        fvp = fisher_vector_product(mean_kl, actor_params, self.cg_damping)
        s, residual = conjugate_gradient(fvp, g, self.cg_max_steps)
        s_f_s = (s @ fvp(s)).item()
        skipped = skipped._replace(cg_residual=residual.item())
        check_finite("TRPO", where, sFs=s_f_s)
        if s_f_s <= 0:  # zero gradient (e.g. all advantages equal), or no curvature: nothing to improve
            return skipped
        full_step = math.sqrt(2 * self.target_kl / s_f_s) * s
        theta_old = flat_params(actor_params)
        surrogate_old = surrogate.item()

        n_tries = self.line_search_max_iter if self.use_line_search else 1
        accepted: PolicyStep | None = None
        try:
            with th.no_grad():
                for i in range(n_tries):
                    fraction = self.line_search_shrinking_factor**i
                    candidate = theta_old + fraction * full_step
                    if not bool(th.isfinite(candidate).all()):
                        continue  # an overflowing step: rejected, as one that breaks the trust region
                    set_flat_params(actor_params, candidate)
                    distribution = self.policy.get_distribution(observations)
                    kl = analytic_kl(old, distribution).mean().item()
                    improvement = self._surrogate(distribution, actions, old_log_prob, advantages).item() - surrogate_old
                    finite = math.isfinite(kl) and math.isfinite(improvement)
                    if finite and (not self.use_line_search or (kl <= self.target_kl and improvement > 0)):
                        expected = fraction * (g @ full_step).item()
                        steps = i + 1 if self.use_line_search else 0
                        accepted = PolicyStep(True, kl, improvement, expected, steps, fraction, residual.item())
                        return accepted
        finally:
            if accepted is None:  # bit-exact: copies the saved values back, whatever stopped the search
                with th.no_grad():
                    set_flat_params(actor_params, theta_old)
        return skipped._replace(line_search_steps=n_tries if self.use_line_search else 0)

    def _fit_critic(self, critic_params: list[nn.Parameter], observations: PyTorchObs, returns: th.Tensor) -> float:
        """
        ``n_critic_updates`` epochs of minibatch regression of V(s) on the returns, over the critic's parameters
        only (gradients are taken for those alone, so the actor's ``.grad`` is never written).

        :return: Mean value loss over the minibatches
        """
        losses = []
        for _ in range(self.n_critic_updates):
            for idx in minibatch_indices(n_samples(observations), self.batch_size, self.device):
                values = self.policy.predict_values(index_observations(observations, idx)).flatten()
                value_loss = F.mse_loss(returns[idx], values)
                grads = th.autograd.grad(value_loss, critic_params, allow_unused=True)
                grad_norm = th.linalg.vector_norm(th.stack([th.linalg.vector_norm(g) for g in grads if g is not None]))
                gate = value_loss.detach() + grad_norm  # one sync for both in the common case
                check_finite(
                    "TRPO", f"update {self._n_updates + 1}", gate=gate, value_loss=value_loss, value_grad_norm=grad_norm
                )
                for p, grad in zip(critic_params, grads, strict=True):
                    p.grad = grad
                self.policy.optimizer.step()
                losses.append(value_loss.item())
        return float(np.mean(losses))

    def learn(
        self: SelfTRPO,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "TRPO",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfTRPO:
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
