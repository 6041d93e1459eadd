"""TRPO's policies are SB3's actor-critic policies (MlpPolicy/CnnPolicy/MultiInputPolicy, as in SB3), plus the
split of a policy's parameters into the actor's (moved by the trust-region step) and the critic's (moved by
value regression), made by module rather than by parameter name."""

import torch as th
from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy
from torch import nn

MlpPolicy = ActorCriticPolicy
CnnPolicy = ActorCriticCnnPolicy
MultiInputPolicy = MultiInputActorCriticPolicy


def _unique_params(modules: list[nn.Module], exclude: set[int]) -> list[nn.Parameter]:
    params: list[nn.Parameter] = []
    for module in modules:
        for p in module.parameters():
            if id(p) not in exclude:
                exclude.add(id(p))
                params.append(p)
    return params


def actor_critic_parameters(policy: ActorCriticPolicy) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """
    Split an SB3 actor-critic policy's parameters into the actor's and the critic's, by module.

    Actor: the modules that produce the action distribution, ``action_net``, ``log_std`` (Gaussian and gSDE
    policies), ``mlp_extractor.policy_net`` and the policy's features extractor. Critic: ``value_net``,
    ``mlp_extractor.value_net`` and, when features are not shared, ``vf_features_extractor``.

    A features extractor shared by both (``share_features_extractor=True``) belongs to the actor: it changes
    the action distribution, so it may only move inside the trust region; the critic then fits its heads on the
    shared features and never moves them (as sb3-contrib does). A custom ``mlp_extractor`` without
    ``policy_net``/``value_net`` is split by the graph: its parameters that ``forward_actor`` uses are the
    actor's, the rest that ``forward_critic`` uses are the critic's.

    :param policy: An SB3 ``ActorCriticPolicy`` (or subclass)
    :return: (actor parameters, critic parameters), disjoint, in module order
    :raises ValueError: if some parameter of the policy belongs to neither (it would never be trained)
    """
    seen: set[int] = set()
    mlp = policy.mlp_extractor
    policy_net = getattr(mlp, "policy_net", None)
    value_net = getattr(mlp, "value_net", None)
    actor_modules: list[nn.Module] = [policy.pi_features_extractor, policy.action_net]
    if isinstance(policy_net, nn.Module):
        actor_modules.append(policy_net)
    actor = _unique_params(actor_modules, seen)
    log_std = getattr(policy, "log_std", None)
    if isinstance(log_std, nn.Parameter) and id(log_std) not in seen:
        seen.add(id(log_std))
        actor.append(log_std)

    critic_modules: list[nn.Module] = [policy.vf_features_extractor, policy.value_net]
    if isinstance(value_net, nn.Module):
        critic_modules.append(value_net)
    critic = _unique_params(critic_modules, seen)

    # Whatever is left in the mlp extractor (a custom one): ask the graph which side uses it.
    rest = [p for p in mlp.parameters() if id(p) not in seen]
    if rest:
        features = next(policy.parameters()).new_zeros((1, policy.features_dim))
        latent_pi, latent_vf = mlp.forward_actor(features), mlp.forward_critic(features)
        used_pi = _depends_on(latent_pi.sum(), rest)
        used_vf = _depends_on(latent_vf.sum(), rest)
        actor += [p for p, u in zip(rest, used_pi, strict=True) if u]
        critic += [p for p, u_pi, u_vf in zip(rest, used_pi, used_vf, strict=True) if u_vf and not u_pi]
        seen.update(id(p) for p in actor + critic)

    orphans = [name for name, p in policy.named_parameters() if id(p) not in seen]
    if orphans:
        raise ValueError(
            f"Parameters {orphans} of {type(policy).__name__} feed neither the action distribution (action_net, "
            "mlp_extractor.policy_net, features extractor, log_std) nor the value (value_net, "
            "mlp_extractor.value_net, vf_features_extractor), so TRPO would never train them"
        )
    return actor, critic


def _depends_on(output: th.Tensor, params: list[nn.Parameter]) -> list[bool]:
    """Whether ``output`` depends on each of ``params`` (its gradient exists), without touching ``.grad``."""
    if not output.requires_grad:
        return [False] * len(params)
    grads = th.autograd.grad(output, params, retain_graph=True, allow_unused=True)
    return [g is not None for g in grads]


__all__ = ["CnnPolicy", "MlpPolicy", "MultiInputPolicy", "actor_critic_parameters"]
