"""The optimised PPO update against the plain implementation it replaced (mini-batches gathered
one by one, torch.tanh, the for-loop Adam): one update of a hypernetwork on a real rollout gives
the same parameters to float tolerance."""

from __future__ import annotations

import copy
import functools

import numpy as np
import torch

from morl.agents.hyper_morl.hypernet import HyperNetwork
from morl.agents.ppo.core import LOG_2PI, Collector, PPOSettings, Rollout, adam, gaussian_log_prob, ppo_update
from morl.agents.ppo.networks import TargetNetworkLayout


def plain_mlp(layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    for i, (weight_t, bias) in enumerate(layers):
        x = torch.baddbmm(bias, x, weight_t)
        if i < len(layers) - 1:
            x = torch.tanh(x)
    return x


def plain_update(layout: TargetNetworkLayout, params, optimizer, rollout: Rollout, settings: PPOSettings,
                 generator: torch.Generator) -> None:  # fmt: skip
    """The update as written before the speed-up (joint clipping, mean over policies)."""
    batch = rollout.obs.shape[1]
    size = max(1, batch // settings.minibatches)
    trainable = [p for group in optimizer.param_groups for p in group["params"]]
    for _ in range(settings.epochs):
        order = torch.randperm(batch, generator=generator)
        for start in range(0, batch - size + 1, size):
            index = order[start : start + size]
            parts = layout.split(params())
            obs = rollout.obs[:, index]
            mean, log_std = plain_mlp(layout.layers(parts, "actor"), obs), parts["log_std"]
            log_ratio = gaussian_log_prob(rollout.actions[:, index], mean, log_std) - rollout.log_probs[:, index]
            ratio = torch.exp(log_ratio)
            adv = rollout.advantages[:, index]
            surrogate = torch.min(ratio * adv, torch.clamp(ratio, 1 - settings.clip, 1 + settings.clip) * adv)
            values = plain_mlp(layout.layers(parts, "critic"), obs)
            old_values, target = rollout.values[:, index], rollout.returns[:, index]
            clipped = old_values + torch.clamp(values - old_values, -settings.clip, settings.clip)
            value_loss = 0.5 * torch.max((values - target).square(), (clipped - target).square()).mean()
            entropy = (log_std + 0.5 * (1.0 + LOG_2PI)).sum(dim=-1).mean()
            loss = -surrogate.mean() + settings.value_coef * value_loss - settings.entropy_coef * entropy
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, settings.max_grad_norm)
            optimizer.step()


def test_optimised_update_equals_the_plain_one() -> None:
    settings = PPOSettings(steps_per_env=128, epochs=3, minibatches=4, learning_rate=3e-4)
    layout = TargetNetworkLayout(17, 6, 2)
    torch.manual_seed(0)
    net = HyperNetwork(2, layout.num_params)
    with torch.no_grad():  # start from a spread of policies, as after some training
        net.b.copy_(layout.initial(torch.Generator().manual_seed(1)))
        net.W.normal_(0.0, 0.01)
    prefs = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])
    collector = Collector("MO-HalfCheetah-v2", 3, 2, settings, seed=0, workers=1)
    try:
        with torch.no_grad():
            theta = net(torch.as_tensor(prefs, dtype=torch.float32))
        rollout = collector.collect(layout, theta, prefs, torch.Generator().manual_seed(2))
    finally:
        collector.close()
    reference = copy.deepcopy(net)
    inputs = torch.as_tensor(prefs, dtype=torch.float32)
    ppo_update(layout, functools.partial(net, inputs), adam(list(net.parameters()), settings), rollout, settings,
               torch.Generator().manual_seed(3))  # fmt: skip
    plain_adam = torch.optim.Adam(reference.parameters(), lr=settings.learning_rate, eps=settings.adam_eps)
    plain_update(layout, functools.partial(reference, inputs), plain_adam, rollout, settings,
                 torch.Generator().manual_seed(3))  # fmt: skip
    start = layout.initial(torch.Generator().manual_seed(1))
    moved = (net.b.detach() - start).abs().max()
    assert moved > 1e-4  # the update did something
    for (name, mine), theirs in zip(net.named_parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-6, msg=name)
