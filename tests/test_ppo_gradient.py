"""The hand-written PPO gradient (morl.agents.ppo.gradient) against autograd on the same loss."""

from __future__ import annotations

import warnings

import pytest
import torch

from morl.agents.ppo.core import LOG_2PI, gaussian_log_prob
from morl.agents.ppo.gradient import MiniBatch, ppo_loss_gradient
from morl.agents.ppo.networks import TargetNetworkLayout, mlp

CLIP, VALUE_COEF, ENTROPY_COEF = 0.2, 0.5, 0.01


def autograd_loss(layout: TargetNetworkLayout, theta: torch.Tensor, batch: MiniBatch, per_policy: bool) -> torch.Tensor:
    """The loss as the update wrote it with autograd (torch.tanh, torch.min/max/clamp)."""
    reduce = (lambda x: x.mean(dim=-1).sum()) if per_policy else (lambda x: x.mean())
    parts = layout.split(theta)
    mean, log_std = mlp(layout.layers(parts, "actor"), batch.obs), parts["log_std"]
    log_ratio = gaussian_log_prob(batch.actions, mean, log_std) - batch.old_log_probs
    ratio = torch.exp(log_ratio)
    adv = batch.advantages
    surrogate = torch.min(ratio * adv, torch.clamp(ratio, 1 - CLIP, 1 + CLIP) * adv)
    values = mlp(layout.layers(parts, "critic"), batch.obs)
    clipped = batch.old_values + torch.clamp(values - batch.old_values, -CLIP, CLIP)
    squared = torch.max((values - batch.returns).square(), (clipped - batch.returns).square())
    entropy = reduce((log_std + 0.5 * (1.0 + LOG_2PI)).sum(dim=-1).unsqueeze(-1))
    return -reduce(surrogate) + VALUE_COEF * 0.5 * reduce(squared.flatten(1)) - ENTROPY_COEF * entropy


def minibatch(layout: TargetNetworkLayout, theta: torch.Tensor, k: int, b: int, seed: int) -> MiniBatch:
    """Samples whose ratios and value changes fall inside, outside and exactly on the clip range."""
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(k, b, layout.obs_dim, generator=gen)
    actions = torch.randn(k, b, layout.action_dim, generator=gen)
    with torch.no_grad():
        parts = layout.split(theta)
        log_prob = gaussian_log_prob(actions, mlp(layout.layers(parts, "actor"), obs), parts["log_std"])
        values = mlp(layout.layers(parts, "critic"), obs)
    old_log_probs = log_prob + 0.3 * torch.randn(k, b, generator=gen)  # ratios spread around 1
    old_values = values + 0.3 * torch.randn(k, b, layout.num_objectives, generator=gen)
    old_values[:, :4] = values[:, :4]  # value change 0: the max has a tie (both branches equal)
    old_log_probs[:, 4:8] = log_prob[:, 4:8]  # ratio exactly 1: the min has a tie
    return MiniBatch(obs, actions, old_log_probs, torch.randn(k, b, generator=gen), old_values,
                     values + torch.randn(k, b, layout.num_objectives, generator=gen))  # fmt: skip


@pytest.mark.parametrize(("k", "per_policy"), [(1, False), (3, False), (3, True)])
def test_hand_gradient_equals_autograd(k: int, per_policy: bool) -> None:
    layout = TargetNetworkLayout(7, 3, 2)
    gen = torch.Generator().manual_seed(k)
    theta = torch.stack([layout.initial(gen) for _ in range(k)])
    theta += 0.05 * torch.randn(k, layout.num_params, generator=gen)
    theta[:, layout.segments["log_std"].offset :][:, :3] = torch.tensor([-0.5, 0.0, 0.3])
    batch = minibatch(layout, theta, k, 64, seed=k)
    with torch.no_grad():
        gradient, terms = ppo_loss_gradient(layout, theta, batch, clip=CLIP, value_coef=VALUE_COEF,
                                            entropy_coef=ENTROPY_COEF, per_policy=per_policy)  # fmt: skip
    leaf = theta.clone().requires_grad_(True)
    loss = autograd_loss(layout, leaf, batch, per_policy)
    loss.backward()
    assert leaf.grad is not None
    torch.testing.assert_close(gradient, leaf.grad, rtol=1e-4, atol=1e-6)
    assert gradient.abs().sum() > 0
    # the reported terms: per-policy means of the loss terms
    scale = k if per_policy else 1
    entropy = (theta[:, layout.segments["log_std"].offset :][:, :3] + 0.5 * (1 + LOG_2PI)).sum(-1).mean()
    torch.testing.assert_close(terms.entropy, entropy)
    total = terms.policy_loss + VALUE_COEF * terms.value_loss - ENTROPY_COEF * terms.entropy
    torch.testing.assert_close(total * scale, loss.detach(), rtol=1e-5, atol=1e-6)
    assert 0 < float(terms.clip_fraction) < 1 and float(terms.approx_kl) > 0


@pytest.mark.slow
def test_the_compiled_gradient_is_the_hand_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the update runs by default (``compiled_update``): torch.compile's kernels of the same
    function, equal to the eager one up to float rounding, the ties of min and max included."""
    from morl.agents.ppo.gradient import EAGER_ENV, loss_gradient

    monkeypatch.delenv(EAGER_ENV, raising=False)  # the suite runs eagerly; this test compiles
    compiled = loss_gradient(True)
    assert compiled is not ppo_loss_gradient and loss_gradient(False) is ppo_loss_gradient
    layout = TargetNetworkLayout(7, 3, 2)
    gen = torch.Generator().manual_seed(5)
    theta = torch.stack([layout.initial(gen) for _ in range(3)]) + 0.05 * torch.randn(
        3, layout.num_params, generator=gen
    )
    whole = minibatch(layout, theta, 3, 128, seed=5)
    # as the update slices them: a mini-batch out of an epoch's shuffled tensors (offset, strided)
    batch = MiniBatch(*(x[:, 32:96] for x in (whole.obs, whole.actions, whole.old_log_probs, whole.advantages,
                                              whole.old_values, whole.returns)))  # fmt: skip
    assert not batch.obs.is_contiguous() and batch.obs.storage_offset() > 0
    for per_policy in (False, True):
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("error")  # a failed compile warns and falls back: not here
            fast, fast_terms = compiled(layout, theta, batch, clip=CLIP, value_coef=VALUE_COEF,
                                        entropy_coef=ENTROPY_COEF, per_policy=per_policy)  # fmt: skip
            eager, terms = ppo_loss_gradient(layout, theta, batch, clip=CLIP, value_coef=VALUE_COEF,
                                             entropy_coef=ENTROPY_COEF, per_policy=per_policy)  # fmt: skip
        torch.testing.assert_close(fast, eager, rtol=1e-5, atol=1e-7)
        for name in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"):
            torch.testing.assert_close(getattr(fast_terms, name), getattr(terms, name), rtol=1e-5, atol=1e-7)


def test_auto_compiles_only_runs_long_enough_to_repay_it() -> None:
    from morl.agents.ppo.core import COMPILE_MIN_STEPS, compile_update

    assert compile_update("auto", COMPILE_MIN_STEPS) and not compile_update("auto", COMPILE_MIN_STEPS - 1)
    assert compile_update("on", 1) and not compile_update("off", 10**9)
