"""The PPO loss of K target networks and its gradient with respect to θ (K, P), by hand.

Autograd records every operation of the forward pass and replays one node per operation
backward; on mini-batches this small (256 samples × K policies, 64-wide layers) the per-node
overhead, not the arithmetic, was most of an update. The target network is a fixed two-hidden-
layer tanh MLP pair, so its backward pass is written out here: one batched matrix product per
weight gradient and per input gradient, and the loss terms' derivatives in closed form
(including torch's conventions where they matter: ``min``/``max`` send half the gradient to
each side on a tie, ``clamp`` passes it at the bounds). The hypernetwork (or the plain parameter
vector) that produced θ still gets its gradient from autograd: ``theta.backward(gradient)``.

Tested against autograd on the same loss (float tolerance) in ``tests/test_ppo_gradient.py``.

Compiled (:func:`loss_gradient`): even written out, a mini-batch step was ~60 small torch
operations, each paying the dispatcher's overhead on tensors of a few thousand numbers; torch.compile
(inductor: C++ loops on the CPU) fuses the elementwise chains between the products into a few
kernels. Measured here for 6 policies × 256 samples: 2.15 ms → 0.63 ms per call; one policy (the
warm-up): 0.62 → 0.29 ms. The arithmetic is the same up to float rounding (fused loops may
reassociate sums): the eager function stays the reference, and a test holds the two together.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from morl.agents.ppo.networks import TargetNetworkLayout, sigmoid_tanh

LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MiniBatch:
    """One PPO mini-batch of K policies, every tensor (K, b, ...)."""

    obs: torch.Tensor
    actions: torch.Tensor
    old_log_probs: torch.Tensor
    advantages: torch.Tensor
    old_values: torch.Tensor
    returns: torch.Tensor


@dataclass(frozen=True)
class LossTerms:
    """The mini-batch's loss terms, as the update reports them (0-d tensors): per-policy means
    of the policy loss, value loss and entropy with ``per_policy`` reduction (the loss is their
    sum over policies), means over all policies otherwise; and the approximate KL and clip
    fraction over all samples."""

    policy_loss: torch.Tensor
    value_loss: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor
    clip_fraction: torch.Tensor


def _forward(layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> list[torch.Tensor]:
    """The inputs of every layer and the output: [x, h1, h2, out]. Weights are (K, out, in)."""
    outputs = [x]
    last = len(layers) - 1
    for i, (weight, bias) in enumerate(layers):
        x = torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
        if i < last:  # this torch build's sigmoid is ~6x faster than its tanh
            x = sigmoid_tanh(x)
        outputs.append(x)
    return outputs


def _backward(
    layers: list[tuple[torch.Tensor, torch.Tensor]], outputs: list[torch.Tensor], grad: torch.Tensor
) -> list[torch.Tensor]:
    """Gradients [dW1, db1, dW2, db2, dW3, db3] of an MLP from the gradient of its output."""
    grads: list[torch.Tensor] = []
    for i in range(len(layers) - 1, -1, -1):
        x = outputs[i]
        grads += [torch.bmm(grad.transpose(1, 2), x), grad.sum(dim=1)]
        if i > 0:
            weight = layers[i][0]
            grad = torch.bmm(grad, weight).mul_(1.0 - x * x)  # through the tanh that produced x
    pairs = [grads[j : j + 2] for j in range(0, len(grads), 2)][::-1]
    return [g for pair in pairs for g in pair]


def _min_grad(first: torch.Tensor, second: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shares of the gradient of ``torch.min(first, second)`` going to each (ties: half each)."""
    to_first = torch.where(first < second, 1.0, torch.where(first == second, 0.5, 0.0))
    return to_first, 1.0 - to_first


def ppo_loss_gradient(
    layout: TargetNetworkLayout,
    theta: torch.Tensor,
    batch: MiniBatch,
    *,
    clip: float,
    value_coef: float,
    entropy_coef: float,
    per_policy: bool,
) -> tuple[torch.Tensor, LossTerms]:
    """The gradient of the PPO loss with respect to θ (K, P), and the loss terms.

    loss = −reduce(min(r·A, clip(r, 1±ε)·A)) + c_v · ½·reduce(max((V − R)², (V_clip − R)²))
    − c_e · reduce(entropy), with r the probability ratio and V_clip the value clipped to ±ε of
    the rollout's; ``reduce`` is the mean over everything, or with ``per_policy`` the mean over
    each policy's samples summed over policies (each row of θ then gets its own policy's
    gradient)."""
    k, b = batch.obs.shape[0], batch.obs.shape[1]
    parts = layout.split(theta)
    actor = [(parts[f"actor.{i}.weight"], parts[f"actor.{i}.bias"]) for i in range(3)]
    critic = [(parts[f"critic.{i}.weight"], parts[f"critic.{i}.bias"]) for i in range(3)]
    log_std = parts["log_std"]  # (K, A)
    per_sample = 1.0 / b if per_policy else 1.0 / (k * b)

    # policy term
    actor_out = _forward(actor, batch.obs)
    inv_std = torch.exp(-log_std).unsqueeze(1)  # (K, 1, A)
    z = (batch.actions - actor_out[-1]) * inv_std
    log_prob = (-0.5 * z.square() - log_std.unsqueeze(1) - 0.5 * LOG_2PI).sum(dim=-1)
    log_ratio = log_prob - batch.old_log_probs
    ratio = torch.exp(log_ratio)
    clamped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    adv = batch.advantages
    unclipped_term, clipped_term = ratio * adv, clamped * adv
    surrogate = torch.minimum(unclipped_term, clipped_term)
    to_unclipped, _ = _min_grad(unclipped_term, clipped_term)
    inside = (ratio >= 1.0 - clip) & (ratio <= 1.0 + clip)
    d_log_prob = (-per_sample) * adv * torch.where(inside, 1.0, to_unclipped) * ratio  # (K, b)
    d_z = d_log_prob.unsqueeze(-1) * z
    d_mean = d_z * inv_std  # d log_prob / d mean = z / σ
    d_log_std = (d_log_prob.unsqueeze(-1) * (z.square() - 1.0)).sum(dim=1)
    d_log_std -= entropy_coef * (1.0 if per_policy else 1.0 / k)
    actor_grads = _backward(actor, actor_out, d_mean)

    # value term
    critic_out = _forward(critic, batch.obs)
    values, old = critic_out[-1], batch.old_values
    delta = values - old
    clipped_values = old + torch.clamp(delta, -clip, clip)
    error, clipped_error = values - batch.returns, clipped_values - batch.returns
    squared, clipped_squared = error.square(), clipped_error.square()
    value_inside = (delta >= -clip) & (delta <= clip)
    to_plain, to_clipped_v = _min_grad(-squared, -clipped_squared)  # max(x, y) = −min(−x, −y)
    per_value = per_sample / values.shape[-1]
    through_clip = torch.where(value_inside, clipped_error, 0.0)
    d_values = (value_coef * per_value) * (to_plain * error + to_clipped_v * through_clip)
    critic_grads = _backward(critic, critic_out, d_values)

    named = {f"actor.{i // 2}.{'weight' if i % 2 == 0 else 'bias'}": g for i, g in enumerate(actor_grads)}
    named.update({f"critic.{i // 2}.{'weight' if i % 2 == 0 else 'bias'}": g for i, g in enumerate(critic_grads)})
    named["log_std"] = d_log_std
    gradient = torch.cat([named[name].reshape(k, -1) for name in layout.segments], dim=1)

    scale = 1.0 / k  # the reported terms are per-policy means either way
    maximum = torch.maximum(squared, clipped_squared)
    entropy = (log_std + 0.5 * (1.0 + LOG_2PI)).sum(dim=-1)
    terms = LossTerms(
        policy_loss=-surrogate.mean(),
        value_loss=0.5 * maximum.mean(),
        entropy=entropy.sum() * scale,
        approx_kl=((ratio - 1.0) - log_ratio).mean(),
        clip_fraction=((ratio - 1.0).abs() > clip).to(ratio.dtype).mean(),
    )
    return gradient, terms


EAGER_ENV = "MORL_EAGER_UPDATE"  # "1": never compile (the test suite: each new shape compiles for seconds)
_compiled: list[Callable[..., tuple[torch.Tensor, LossTerms]]] = []  # this process's compiled function
_failed: list[str] = []  # why compiling failed here, once: the update then runs eagerly


def loss_gradient(compiled: bool) -> Callable[..., tuple[torch.Tensor, LossTerms]]:
    """:func:`ppo_loss_gradient`, compiled with torch.compile when ``compiled`` (the PPO settings'
    ``compiled_update``: ``core.compile_update``) unless ``MORL_EAGER_UPDATE=1`` or compiling
    already failed in this process. One compiled function per process: torch.compile keeps a kernel per input shape
    (a run has two: the warm-up's and PSL's mini-batches), compiled on first use (5–20 s)."""
    if not compiled or os.environ.get(EAGER_ENV) == "1" or _failed:
        return ppo_loss_gradient
    if not _compiled:
        # dynamo keeps 8 kernels per function by default and then runs it eagerly, silently but
        # for a log line: a run needs two, but one process that trains several problems (the
        # projected-hours benchmark: fourteen shapes) would lose the compiled path midway
        limit = "recompile_limit" if hasattr(torch._dynamo.config, "recompile_limit") else "cache_size_limit"
        setattr(torch._dynamo.config, limit, max(64, getattr(torch._dynamo.config, limit)))
        _compiled.append(torch.compile(ppo_loss_gradient, dynamic=False))
    return _compiled_or_eager


def _compiled_or_eager(*args: Any, **kwargs: Any) -> tuple[torch.Tensor, LossTerms]:
    """The compiled gradient; where compiling fails (no C++ compiler, an unsupported platform),
    the eager one from then on, with one warning: it computes the same, only slower."""
    if _failed:
        return ppo_loss_gradient(*args, **kwargs)
    try:
        return _compiled[0](*args, **kwargs)
    except Exception as error:  # torch raises many kinds from its compiler and backends
        result = ppo_loss_gradient(*args, **kwargs)  # an error of the inputs raises here again, compiling stays on
        _failed.append(f"{type(error).__name__}: {str(error)[:200]}")
        message = (f"torch.compile of the PPO update failed ({_failed[0]}); it runs eagerly, the same "
                   f"arithmetic, slower (set {EAGER_ENV}=1 to skip trying)")  # fmt: skip
        warnings.warn(message, UserWarning, stacklevel=2)
        return result
