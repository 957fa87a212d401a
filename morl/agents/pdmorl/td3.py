"""The TD3 learner of PD-MORL: G independent groups of (actor, twin vector critic, targets).

One :meth:`TD3.update` is one gradient step of every group (the authors' one update per env
step): target policy smoothing, the per-sample target head, the critic step, and every
``delay``-th update the actor step followed by Polyak averaging of both targets (only on those
steps, as the authors'). Gradient norms are clipped per group.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from morl.agents.pdmorl.losses import actor_loss, critic_loss, select_target, td_target
from morl.agents.pdmorl.networks import Actor, TwinCritic, clip_group_norms, polyak


@dataclass(frozen=True)
class TD3Settings:
    """The hyper-parameters of one TD3 (the main stage's or the key warm start's)."""

    hidden: int
    learning_rate: float
    gamma: float
    tau: float
    policy_noise: float
    noise_clip: float
    delay: int
    grad_clip: float
    critic_angle: float
    actor_angle: float


@dataclass
class Batch:
    """Transitions of every group: (G, B, ·) float32 tensors; ``terminated`` is (G, B)."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    pref: torch.Tensor


class TD3:
    """G groups of PD-MORL's TD3 networks and optimisers, updated together."""

    def __init__(self, groups: int, obs_dim: int, m: int, low: np.ndarray, high: np.ndarray,
                 settings: TD3Settings, generator: torch.Generator, device: str = "cpu") -> None:  # fmt: skip
        self.groups, self.settings, self.device = groups, settings, torch.device(device)
        low_t = torch.as_tensor(low, dtype=torch.float32)
        high_t = torch.as_tensor(high, dtype=torch.float32)
        action_dim = len(low)
        self.actor = Actor(groups, obs_dim, m, action_dim, settings.hidden, low_t, high_t, generator)
        self.critic = TwinCritic(groups, obs_dim, m, action_dim, settings.hidden, generator)
        self.actor.to(self.device)
        self.critic.to(self.device)
        self.actor_target = copy.deepcopy(self.actor)
        self.critic_target = copy.deepcopy(self.critic)
        for target in (self.actor_target, self.critic_target):
            target.requires_grad_(False)
        self.actor_parameters = list(self.actor.parameters())
        self.critic_parameters = list(self.critic.parameters())
        lr = settings.learning_rate
        self.actor_optimizer = torch.optim.Adam(self.actor_parameters, lr=lr, fused=True)
        self.critic_optimizer = torch.optim.Adam(self.critic_parameters, lr=lr, fused=True)
        self.low, self.high = low_t.to(self.device), high_t.to(self.device)
        self.updates = 0

    @torch.no_grad()
    def act(self, obs: np.ndarray, pref: np.ndarray) -> np.ndarray:
        """Deterministic actions for (G, B, obs_dim) observations and (G, B, m) preferences."""
        obs_t = torch.as_tensor(obs, dtype=torch.float32).to(self.device)
        pref_t = torch.as_tensor(pref, dtype=torch.float32).to(self.device)
        return self.actor(obs_t, pref_t).cpu().numpy().astype(np.float64)

    def update(self, batch: Batch, direction: torch.Tensor | None, generator: torch.Generator) -> dict[str, float]:
        """One TD3 step of every group; ``direction``: I(ω) of the batch's preferences, (G, B, m)
        (None: no angle terms). Returns the mean losses over the groups (the actor's only on
        the steps that update it). Random draws come from ``generator`` on the CPU whatever the
        device, so a run's random streams do not depend on it."""
        s = self.settings
        if self.device.type != "cpu":
            batch = Batch(*(t.to(self.device, non_blocking=True) for t in vars(batch).values()))
            direction = None if direction is None else direction.to(self.device)
        with torch.no_grad():
            noise = (torch.randn(batch.action.shape, generator=generator) * s.policy_noise).to(self.device)
            next_action = self.actor_target(batch.next_obs, batch.pref) + noise.clamp(-s.noise_clip, s.noise_clip)
            next_action = torch.maximum(torch.minimum(next_action, self.high), self.low)
            q_next = select_target(self.critic_target(batch.next_obs, batch.pref, next_action), batch.pref)
            y = td_target(batch.reward, batch.terminated, q_next, s.gamma)
        q = self.critic(batch.obs, batch.pref, batch.action)
        loss_c = critic_loss(q, y, direction, s.critic_angle)
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss_c.sum().backward()
        clip_group_norms(self.critic_parameters, self.groups, s.grad_clip)
        self.critic_optimizer.step()
        stats = {"critic_loss": float(loss_c.detach().mean())}
        self.updates += 1
        if self.updates % s.delay == 0:
            q1 = self.critic.q1(batch.obs, batch.pref, self.actor(batch.obs, batch.pref))
            loss_a = actor_loss(q1, batch.pref, direction, s.actor_angle)
            grads = torch.autograd.grad(loss_a.sum(), self.actor_parameters)
            for parameter, grad in zip(self.actor_parameters, grads, strict=True):
                parameter.grad = grad
            clip_group_norms(self.actor_parameters, self.groups, s.grad_clip)
            self.actor_optimizer.step()
            polyak(self.actor_target, self.actor, s.tau)
            polyak(self.critic_target, self.critic, s.tau)
            stats["actor_loss"] = float(loss_a.detach().mean())
        return stats

    def state(self) -> dict[str, Any]:
        """Networks, targets, optimisers and the update count (for a checkpoint)."""
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "actor_target": self.actor_target.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "updates": self.updates,
        }

    def load(self, state: dict[str, Any]) -> None:
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.actor_target.load_state_dict(state["actor_target"])
        self.critic_target.load_state_dict(state["critic_target"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.updates = int(state["updates"])
