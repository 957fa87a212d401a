"""PD-MORL's networks as stacks: G independent copies of one MLP evaluated in one batched pass.

The key warm start trains one TD3 per key preference; stacking their networks along a leading
group axis (weights (G, in, out), one ``baddbmm`` per layer) trains all of them in one update
with exactly each group's own gradient, as PGMORL's batched rows do. The main stage is a stack of
one. The twin critic heads are a stack of 2G (heads 2g and 2g+1 belong to group g), so both heads
run in one pass as well.

Init as the authors': xavier-normal weights, zero biases.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch


class StackedMLP(torch.nn.Module):
    """``copies`` MLPs of the same shape; ReLU between layers, linear output.

    ``forward(x)`` maps (copies, B, sizes[0]) to (copies, B, sizes[-1]).
    """

    def __init__(self, copies: int, sizes: tuple[int, ...], generator: torch.Generator) -> None:
        super().__init__()
        self.copies, self.sizes = copies, sizes
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for fan_in, fan_out in itertools.pairwise(sizes):
            std = math.sqrt(2.0 / (fan_in + fan_out))  # xavier_normal_, gain 1
            weight = torch.randn(copies, fan_in, fan_out, generator=generator) * std
            self.weights.append(torch.nn.Parameter(weight))
            self.biases.append(torch.nn.Parameter(torch.zeros(copies, 1, fan_out)))

    def forward(self, x: torch.Tensor, heads: slice | None = None) -> torch.Tensor:
        """``heads``: run only these copies (the actor loss reads the first critic head only)."""
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            if heads is not None:
                weight, bias = weight[heads], bias[heads]
            x = torch.baddbmm(bias, x, weight)
            if i < last:
                x = torch.relu(x)
        return x

    def copy_arrays(self, index: int) -> dict[str, np.ndarray]:
        """Copy ``index`` as PyTorch-layout layers ``actor.{i}.weight`` (out, in) / ``.bias``,
        numpy arrays on the CPU (whatever device the network trains on)."""
        arrays: dict[str, np.ndarray] = {}
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"actor.{i}.weight"] = weight[index].detach().T.cpu().numpy().copy()
            arrays[f"actor.{i}.bias"] = bias[index, 0].detach().cpu().numpy().copy()
        return arrays


class Actor(torch.nn.Module):
    """π(s, ω): cat[s, ω] → hidden ReLU → hidden ReLU → |A|, squashed by tanh into the action
    box (centre + half-range · tanh: the authors' tanh · max_action for the symmetric boxes of
    the benchmark, and the same squash :class:`morl.policy.PreferencePolicy` applies)."""

    def __init__(self, groups: int, obs_dim: int, m: int, action_dim: int, hidden: int,
                 low: torch.Tensor, high: torch.Tensor, generator: torch.Generator) -> None:  # fmt: skip
        super().__init__()
        self.net = StackedMLP(groups, (obs_dim + m, hidden, hidden, action_dim), generator)
        self.centre: torch.Tensor
        self.half_range: torch.Tensor
        self.register_buffer("centre", (high + low) / 2)
        self.register_buffer("half_range", (high - low) / 2)

    def forward(self, obs: torch.Tensor, pref: torch.Tensor) -> torch.Tensor:
        """(G, B, obs_dim), (G, B, m) → actions (G, B, |A|) inside the box."""
        return self.centre + self.half_range * torch.tanh(self.net(torch.cat([obs, pref], dim=-1)))


class TwinCritic(torch.nn.Module):
    """Q1, Q2(s, a, ω) ∈ R^m: two heads per group, cat[s, ω, a] → hidden → hidden → m."""

    def __init__(self, groups: int, obs_dim: int, m: int, action_dim: int, hidden: int,
                 generator: torch.Generator) -> None:  # fmt: skip
        super().__init__()
        self.groups = groups
        self.net = StackedMLP(2 * groups, (obs_dim + m + action_dim, hidden, hidden, m), generator)

    def forward(self, obs: torch.Tensor, pref: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """(G, B, ·) inputs → (G, 2, B, m): both heads of every group."""
        x = torch.cat([obs, pref, action], dim=-1).repeat_interleave(2, dim=0)
        q = self.net(x)
        return q.view(self.groups, 2, *q.shape[1:])

    def q1(self, obs: torch.Tensor, pref: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """The first head of every group only: (G, B, m)."""
        return self.net(torch.cat([obs, pref, action], dim=-1), heads=slice(0, None, 2))


def clip_group_norms(parameters: Sequence[torch.Tensor], groups: int, max_norm: float) -> torch.Tensor:
    """Clip the gradient of each group to norm ``max_norm`` (``clip_grad_norm_`` applied to
    each group's own network, as independent runs would). The parameters' leading axis holds
    the groups' copies, consecutive copies per group (the twin heads). Returns the norms (G,)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    squares = torch.stack([g.reshape(groups, -1).pow(2).sum(dim=1) for g in grads]).sum(dim=0)
    norms = squares.sqrt()
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:  # a parameter holds 1 (actor) or 2 (twin critic) copies per group
        g.mul_(scale.repeat_interleave(g.shape[0] // groups).view(-1, *([1] * (g.dim() - 1))))
    return norms


@torch.no_grad()
def polyak(target: torch.nn.Module, online: torch.nn.Module, tau: float) -> None:
    """target ← (1 − τ)·target + τ·online, all parameters in one fused call."""
    torch._foreach_lerp_(list(target.parameters()), list(online.parameters()), tau)
