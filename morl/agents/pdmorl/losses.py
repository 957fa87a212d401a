"""PD-MORL's losses, as pure functions of batched tensors (G groups, B samples, m objectives).

From the authors' code (``lib/common_ptan/agent.py``, MO_TD3_HER):

- the **angle term** ∠(u, v) = rad2deg(arccos(clamp(cos(u, v), 0, 0.9999))), in degrees: the
  directional guidance that aligns a Q vector with the interpolator's target direction I(ω);
  outside the clamp (opposite half-space, or already aligned) it has no gradient;
- the **target**: per sample, the target critic whose ω·Q' is lower (TD3's min over the twin
  critics, taken on the scalarised value, the whole vector of the chosen head kept);
- the **critic loss** Huber(Q1, y) + Huber(Q2, y) + c·(mean ∠(I(ω), Q1) + mean ∠(I(ω), Q2));
- the **actor loss** −mean(ω·Q1(s, π(s, ω), ω)) + c·mean ∠(I(ω), Q1).

Each returns one loss per group (G,), so that a sum over groups gives every group exactly its own
gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

COS_MAX = 0.9999


def angle_degrees(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The angle between u and v along the last axis, in degrees, with cos clamped to
    [0, 0.9999] (so at most 90 and at least ~0.81 degrees; no gradient where clamped)."""
    cos = F.cosine_similarity(u, v, dim=-1)
    return torch.rad2deg(torch.arccos(cos.clamp(0.0, COS_MAX)))


def select_target(q_target: torch.Tensor, pref: torch.Tensor) -> torch.Tensor:
    """(G, 2, B, m) target values of both heads → (G, B, m): per sample the head whose ω·Q' is
    lower (the first on a tie)."""
    scalar = (q_target * pref.unsqueeze(1)).sum(dim=-1)  # (G, 2, B)
    first = (scalar[:, 0] <= scalar[:, 1]).unsqueeze(-1)
    return torch.where(first, q_target[:, 0], q_target[:, 1])


def td_target(reward: torch.Tensor, terminated: torch.Tensor, q_next: torch.Tensor, gamma: float) -> torch.Tensor:
    """y = r + γ (1 − terminated) Q'(s', a', ω). Only a termination stops the bootstrap: an
    episode cut by the time limit continues in value (the authors treated it as terminal)."""
    return reward + gamma * (1.0 - terminated).unsqueeze(-1) * q_next


def critic_loss(q: torch.Tensor, y: torch.Tensor, direction: torch.Tensor | None, angle_weight: float) -> torch.Tensor:
    """(G, 2, B, m) values of both heads, (G, B, m) targets, (G, B, m) target directions I(ω)
    (None: no angle term, the key warm start) → (G,) losses."""
    huber = F.smooth_l1_loss(q, y.unsqueeze(1).expand_as(q), reduction="none", beta=1.0)
    loss = huber.mean(dim=(2, 3)).sum(dim=1)
    if direction is not None:
        loss = loss + angle_weight * angle_degrees(direction.unsqueeze(1), q).mean(dim=2).sum(dim=1)
    return loss


def actor_loss(
    q1: torch.Tensor, pref: torch.Tensor, direction: torch.Tensor | None, angle_weight: float
) -> torch.Tensor:
    """(G, B, m) first-head values of the actor's actions → (G,) losses."""
    loss = -(q1 * pref).sum(dim=-1).mean(dim=1)
    if direction is not None:
        loss = loss + angle_weight * angle_degrees(direction, q1).mean(dim=1)
    return loss
