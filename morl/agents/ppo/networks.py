"""The per-preference target network (actor-critic), run with generated parameters.

Parameters are one flat vector θ per policy; a batch of K policies is a (K, P) tensor, and the
forward pass is batched matrix products over that leading axis, so K policies (one per
preference) run in one call and gradients flow back to whatever produced θ (a hypernetwork or a
plain parameter vector). No weights are ever copied into a module.

Layout of θ (PGMORL's network): actor obs→64→64→action mean (tanh), log-std (action), critic
obs→64→64→m values (tanh). Init: orthogonal, gain √2 for hidden layers and the critic head, 1
for the action-mean head, biases 0, log-std 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from morl.agents.threads import torch_threads

HIDDEN = 64


@dataclass(frozen=True)
class Segment:
    name: str
    shape: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)


class TargetNetworkLayout:
    """Where each weight lives in the flat parameter vector θ."""

    def __init__(self, obs_dim: int, action_dim: int, num_objectives: int, hidden: int = HIDDEN) -> None:
        self.obs_dim, self.action_dim, self.num_objectives, self.hidden = obs_dim, action_dim, num_objectives, hidden
        shapes = [
            ("actor.0.weight", (hidden, obs_dim)), ("actor.0.bias", (hidden,)),
            ("actor.1.weight", (hidden, hidden)), ("actor.1.bias", (hidden,)),
            ("actor.2.weight", (action_dim, hidden)), ("actor.2.bias", (action_dim,)),
            ("log_std", (action_dim,)),
            ("critic.0.weight", (hidden, obs_dim)), ("critic.0.bias", (hidden,)),
            ("critic.1.weight", (hidden, hidden)), ("critic.1.bias", (hidden,)),
            ("critic.2.weight", (num_objectives, hidden)), ("critic.2.bias", (num_objectives,)),
        ]  # fmt: skip
        self.segments: dict[str, Segment] = {}
        offset = 0
        for name, shape in shapes:
            self.segments[name] = Segment(name, shape, offset)
            offset += math.prod(shape)
        self.num_params = offset

    def view(self, theta: torch.Tensor, name: str) -> torch.Tensor:
        """The named weight of a batch of parameter vectors θ (K, P) → (K, *shape)."""
        seg = self.segments[name]
        return theta[:, seg.offset : seg.offset + seg.size].reshape(theta.shape[0], *seg.shape)

    def split(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every named weight of θ (K, P) as (K, *shape), from one ``split``: its backward pass is
        a single concatenation, where slicing each weight out separately would build one
        full-size (K, P) gradient per weight (measured: a third of the update's time)."""
        parts = theta.split([seg.size for seg in self.segments.values()], dim=1)
        k = theta.shape[0]
        return {
            name: part.reshape(k, *seg.shape) for (name, seg), part in zip(self.segments.items(), parts, strict=True)
        }

    @staticmethod
    def layers(parts: dict[str, torch.Tensor], prefix: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight (K, in, out), bias (K, 1, out)) of each layer of ``prefix`` ("actor"/"critic")
        from :meth:`split`, ready for batched matmuls."""
        return [
            (parts[f"{prefix}.{i}.weight"].transpose(1, 2), parts[f"{prefix}.{i}.bias"].unsqueeze(1)) for i in range(3)
        ]

    def unpack(self, theta: torch.Tensor, prefix: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The layers of ``prefix``; unpack once when θ stays fixed over many forward passes."""
        return self.layers(self.split(theta), prefix)

    def initial(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """A freshly initialised θ (P,)."""
        theta = torch.zeros(self.num_params)
        gains = {"actor.0": math.sqrt(2), "actor.1": math.sqrt(2), "actor.2": 1.0,
                 "critic.0": math.sqrt(2), "critic.1": math.sqrt(2), "critic.2": math.sqrt(2)}  # fmt: skip
        for layer, gain in gains.items():
            seg = self.segments[f"{layer}.weight"]
            weight = torch.empty(seg.shape)
            _orthogonal(weight, gain, generator)
            theta[seg.offset : seg.offset + seg.size] = weight.flatten()
        return theta


INIT_THREADS = 2  # the torch threads of the initial QR factorisations (see _orthogonal)


def _orthogonal(tensor: torch.Tensor, gain: float, generator: torch.Generator | None) -> None:
    """Orthogonal init from a seeded Gaussian matrix's QR factorisation.

    The factorisation runs on a fixed number of torch threads: LAPACK's blocked QR rounds
    differently with a different number (measured: a seeded HalfCheetah θ with 1 thread and with 2
    differed), so without it a seed's run would depend on the machine's core count, while the
    updates that follow do not (the same θ trained with 1 and 2 update threads gave the same bits).
    Two: what Hyper-MORL's and conditioned PPO's constructors always used on the development and
    CI machines (2 cores), so their seeded results stay as recorded; PGMORL, which initialises its
    population inside training (one torch thread there), starts from other weights than before."""
    rows, cols = tensor.shape
    flat = torch.randn(max(rows, cols), min(rows, cols), generator=generator)
    with torch_threads(INIT_THREADS):
        q, r = torch.linalg.qr(flat)
    q = q * torch.sign(torch.diagonal(r))
    if rows < cols:
        q = q.T
    tensor.copy_(gain * q[:rows, :cols])


def sigmoid_tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh(x) as 2·sigmoid(2x) − 1 (a new tensor; see :func:`tanh` for why)."""
    return torch.sigmoid(x * 2.0).mul_(2.0).sub_(1.0)


class _SigmoidTanh(torch.autograd.Function):
    """tanh(x) = 2·sigmoid(2x) − 1, with the backward pass g·(1 − y²) from the saved output."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        y = sigmoid_tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors
        return grad * (1.0 - y * y)


# Below this many elements torch.tanh's per-call overhead is what counts, above it its throughput.
_LARGE = 24_576


def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh for the target networks' hidden layers, through sigmoid on large tensors: this torch
    CPU build's float32 tanh runs at about 2.6 ns an element, its sigmoid at 0.45 (measured on
    (6, 256, 64), the PPO mini-batch of Hyper-MORL's PSL: forward + backward 373 → 208 µs). The
    two agree to about 2e-7."""
    if x.numel() < _LARGE:
        return torch.tanh(x)
    if x.requires_grad and torch.is_grad_enabled():
        result: torch.Tensor = _SigmoidTanh.apply(x)
        return result
    return sigmoid_tanh(x)


def mlp(layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    """x (K, B, in) through unpacked 3-layer tanh MLPs (see :meth:`TargetNetworkLayout.unpack`)."""
    last = len(layers) - 1
    for i, (weight_t, bias) in enumerate(layers):
        x = torch.baddbmm(bias, x, weight_t)
        if i < last:
            x = tanh(x)
    return x


def actor_arrays(layout: TargetNetworkLayout, theta: torch.Tensor) -> dict[str, np.ndarray]:
    """The actor's weights and log-std of one θ (P,), as float64 arrays named as the standalone
    :class:`morl.policy.PreferencePolicy` expects them."""
    values = theta.detach().double().numpy()
    return {
        name: values[seg.offset : seg.offset + seg.size].reshape(seg.shape).copy()
        for name, seg in layout.segments.items()
        if name.startswith("actor") or name == "log_std"
    }


NumpyLayers = list[tuple[np.ndarray, np.ndarray]]


def numpy_layers(layers: list[tuple[torch.Tensor, torch.Tensor]]) -> NumpyLayers:
    """Unpacked layers (see :meth:`TargetNetworkLayout.unpack`) as contiguous float32 arrays, for
    :func:`numpy_mlp`."""
    return [(np.ascontiguousarray(w.detach().numpy()), np.ascontiguousarray(b.detach().numpy())) for w, b in layers]


def numpy_mlp(layers: NumpyLayers, x: np.ndarray) -> np.ndarray:
    """:func:`mlp` in numpy, float32, for inference on small batches, where torch's per-call
    overhead dominates (per env step while collecting or evaluating): x (K, B, in), weights
    (K, in, out), biases (K, 1, out). A new array; x is not modified."""
    last = len(layers) - 1
    for i, (weight, bias) in enumerate(layers):
        x = np.matmul(x, weight)
        x += bias
        if i < last:
            np.tanh(x, out=x)
    return x
