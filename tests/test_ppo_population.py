"""The PPO core serving more than one hypernetwork: the value-loss weight, per-policy and joint
gradient clipping, copying rows with their Adam moments, a preference per env row."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from morl.agents.ppo.core import Collector, PPOSettings, Rollout, RowPreferences, copy_rows, ppo_update
from morl.agents.ppo.networks import TargetNetworkLayout, mlp

OBS, ACT, M, B = 5, 2, 2, 16


def rollout(k: int, seed: int, advantage_scale: float = 1.0) -> Rollout:
    g = torch.Generator().manual_seed(seed)
    return Rollout(
        obs=torch.randn(k, B, OBS, generator=g),
        actions=torch.randn(k, B, ACT, generator=g),
        log_probs=torch.randn(k, B, generator=g) - 3.0,
        values=torch.randn(k, B, M, generator=g),
        returns=torch.randn(k, B, M, generator=g),
        advantages=advantage_scale * torch.randn(k, B, generator=g),
        episode_returns=[],
        env_steps=k * B,
    )


def one_sgd_step(theta: torch.Tensor, data: Rollout, settings: PPOSettings) -> torch.Tensor:
    """The parameter change of one PPO step with SGD at rate 1: minus the (clipped) gradient."""
    layout = TargetNetworkLayout(OBS, ACT, M)
    param = torch.nn.Parameter(theta.clone())
    ppo_update(layout, lambda: param, torch.optim.SGD([param], lr=1.0), data, settings, torch.Generator())
    return param.detach() - theta


def test_value_loss_is_weighted_a_quarter_as_the_authors() -> None:
    """0.5·max((V−R)², (V_clip−R)²) weighted by value_coef 0.5: with zero advantages the update is
    the gradient of 0.25·mean(max(...)) alone (it was 0.5 before the fix)."""
    layout = TargetNetworkLayout(OBS, ACT, M)
    theta = layout.initial(torch.Generator().manual_seed(0)).unsqueeze(0)
    data = rollout(1, seed=1)
    data.advantages.zero_()
    settings = PPOSettings(epochs=1, minibatches=1, max_grad_norm=1e9)
    step = one_sgd_step(theta, data, settings)
    param = theta.clone().requires_grad_(True)
    values = mlp(layout.unpack(param, "critic"), data.obs)
    clipped = data.values + torch.clamp(values - data.values, -0.2, 0.2)
    expected = 0.25 * torch.max((values - data.returns) ** 2, (clipped - data.returns) ** 2).mean()
    (grad,) = torch.autograd.grad(expected, param)
    torch.testing.assert_close(step, -grad, rtol=1e-5, atol=1e-7)


def test_per_policy_clipping_gives_each_row_its_own_update() -> None:
    """Two policies as rows of one parameter: with per-policy clipping, row 0 moves exactly as if
    it trained alone, however large the other policy's gradient (the population's semantics)."""
    layout = TargetNetworkLayout(OBS, ACT, M)
    g = torch.Generator().manual_seed(0)
    theta = torch.stack([layout.initial(g), layout.initial(g)])
    pair = rollout(2, seed=3)
    pair.advantages[1] *= 1000.0  # policy 1's gradient is huge
    alone = Rollout(*(x[:1] if isinstance(x, torch.Tensor) else x for x in (
        pair.obs, pair.actions, pair.log_probs, pair.values, pair.returns, pair.advantages)),
        episode_returns=[], env_steps=B)  # fmt: skip
    settings = PPOSettings(epochs=1, minibatches=1, grad_clip="per_policy")
    together = one_sgd_step(theta, pair, settings)
    by_itself = one_sgd_step(theta[:1], alone, settings)
    torch.testing.assert_close(together[0], by_itself[0])
    assert together[1].norm() == pytest.approx(0.5, rel=1e-4)  # clipped to max_grad_norm on its own
    joint = one_sgd_step(theta, pair, PPOSettings(epochs=1, minibatches=1))
    assert joint.norm() == pytest.approx(0.5, rel=1e-4)  # one norm over both rows
    assert not torch.allclose(joint[0], by_itself[0])


def test_per_policy_clipping_needs_population_rows() -> None:
    layout = TargetNetworkLayout(OBS, ACT, M)
    flat = torch.nn.Parameter(layout.initial())  # (P,), not (K, P)
    settings = PPOSettings(epochs=1, minibatches=1, grad_clip="per_policy")
    with pytest.raises(ValueError, match="needs parameters shaped"):
        ppo_update(layout, lambda: flat.unsqueeze(0), torch.optim.SGD([flat], lr=1.0), rollout(1, 0), settings,
                   torch.Generator())  # fmt: skip


def test_copy_rows_carries_the_adam_moments() -> None:
    param = torch.nn.Parameter(torch.randn(3, 4))
    optimizer = torch.optim.Adam([param])
    param.grad = torch.randn(3, 4)
    optimizer.step()
    state = optimizer.state[param]
    copy_rows(param, optimizer, source=[0], target=[2])
    torch.testing.assert_close(param[2], param[0])
    torch.testing.assert_close(state["exp_avg"][2], state["exp_avg"][0])
    torch.testing.assert_close(state["exp_avg_sq"][2], state["exp_avg_sq"][0])
    assert not torch.equal(param[1], param[0])
    with pytest.raises(ValueError, match="the same number"):
        copy_rows(param, optimizer, source=[0, 1], target=[2])


def test_row_preferences_are_resampled_when_an_episode_ends() -> None:
    """A conditioned collector: each row's input ends with its preference, constant within an
    episode, drawn anew after the row's episode ends; preferences lie on the simplex."""
    settings = PPOSettings(steps_per_env=200)
    rows = RowPreferences(4, 2, np.random.default_rng(0))
    collector = Collector("MO-Hopper-v2", 1, 4, settings, seed=0, workers=1, row_preferences=rows)
    layout = TargetNetworkLayout(11 + 2, 3, 2)
    try:
        data = collector.collect(layout, layout.initial().unsqueeze(0), None, torch.Generator().manual_seed(0))
    finally:
        collector.close()
    prefs = data.obs[0, :, -2:].numpy().reshape(200, 4, 2)  # (T, E, m): per_policy order is (T·E)
    assert np.allclose(prefs.sum(axis=-1), 1.0, atol=1e-6) and (prefs >= 0).all()
    changes = (np.abs(np.diff(prefs, axis=0)).sum(axis=-1) > 0).sum(axis=0)
    assert len(data.episode_returns) >= 4 and changes.sum() >= 4  # a random Hopper falls within 200 steps
    assert changes.sum() <= len(data.episode_returns)  # and only then
