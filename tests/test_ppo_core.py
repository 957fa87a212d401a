"""Unit tests of the PPO core: GAE, losses' ingredients, normalisers, networks, hypernetwork."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import morl
from morl.agents.hyper_morl.hypernet import HyperNetwork
from morl.agents.ppo.core import gae, gaussian_log_prob
from morl.agents.ppo.networks import TargetNetworkLayout, mlp, numpy_layers, numpy_mlp
from morl.normalization import (
    ReturnNormalizer,
    RunningMeanStd,
    normalize_observations,
    update_stats,
    update_stats_from_rows,
)

P_PER_PROBLEM = {
    "MO-Swimmer-v2": 9734,
    "MO-HalfCheetah-v2": 11150,
    "MO-Walker2d-v2": 11150,
    "MO-Ant-v2": 12562,
    "MO-Hopper-v2": 10184,
    "MO-Hopper-v3": 10249,
    "MO-Humanoid-v2": 57828,
}


def test_gae_hand_computation_with_truncation_and_termination() -> None:
    g, lam = 0.9, 0.5
    # one env, one objective, 4 steps: episode truncated after step 1, terminated after step 3
    rewards = np.array([1.0, 2.0, 3.0, 4.0]).reshape(4, 1, 1)
    values = np.array([0.5, 0.6, 0.7, 0.8]).reshape(4, 1, 1)
    next_values = np.array([0.6, 10.0, 0.8, 99.0]).reshape(4, 1, 1)  # 10: V(final obs) at truncation
    terminated = np.array([False, False, False, True]).reshape(4, 1)
    ended = np.array([False, True, False, True]).reshape(4, 1)
    adv, ret = gae(rewards, values, next_values, terminated, ended, g, lam)
    d3 = 4.0 - 0.8  # terminal: no bootstrap
    d2 = 3.0 + g * 0.8 - 0.7
    d1 = 2.0 + g * 10.0 - 0.6  # truncation: bootstrap from the final observation's value
    d0 = 1.0 + g * 0.6 - 0.5
    expected = [d0 + g * lam * d1, d1, d2 + g * lam * d3, d3]
    np.testing.assert_allclose(adv[:, 0, 0], expected)
    np.testing.assert_allclose(ret, adv + values)


def test_gae_is_per_objective() -> None:
    rng = np.random.default_rng(0)
    rewards, values, nxt = (rng.normal(size=(5, 2, 2)) for _ in range(3))
    term = np.zeros((5, 2), dtype=bool)
    both, _ = gae(rewards, values, nxt, term, term, 0.99, 0.95)
    for j in range(2):
        single, _ = gae(rewards[..., j : j + 1], values[..., j : j + 1], nxt[..., j : j + 1], term, term, 0.99, 0.95)
        np.testing.assert_allclose(both[..., j : j + 1], single)


def test_gaussian_log_prob_matches_torch_distribution() -> None:
    mean = torch.randn(2, 5, 3)
    log_std = torch.randn(2, 3)
    actions = torch.randn(2, 5, 3)
    expected = torch.distributions.Normal(mean, log_std.exp().unsqueeze(1)).log_prob(actions).sum(-1)
    torch.testing.assert_close(gaussian_log_prob(actions, mean, log_std), expected)


def test_running_mean_std_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(3.0, 2.0, size=(1000, 4))
    stats = RunningMeanStd.zeros((4,))
    for chunk in np.array_split(data, 7):
        stats.update(chunk)
    np.testing.assert_allclose(stats.mean, data.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(stats.var, data.var(axis=0), rtol=1e-4)
    assert stats.count == pytest.approx(1000 + 1e-4)
    normalized = normalize_observations(np.array([[1e6, 3.0, 3.0, 3.0]]), stats)
    assert normalized[0, 0] == 10.0  # clipped


def test_return_normalizer_records_terminal_return_then_resets() -> None:
    norm = ReturnNormalizer(num_envs=1, num_objectives=2, gamma=0.5)
    norm(np.array([[2.0, 4.0]]), np.array([False]))
    norm(np.array([[2.0, 4.0]]), np.array([True]))  # terminal step: return 3, 6 recorded
    assert norm.stats.count == pytest.approx(2 + 1e-4)
    np.testing.assert_allclose(norm.stats.mean, [2.5, 5.0], rtol=1e-4)
    np.testing.assert_array_equal(norm.returns, 0.0)
    scaled = norm(np.array([[1.0, 1.0]]), np.array([False]))
    np.testing.assert_allclose(scaled[0], 1.0 / norm.scale)  # divided by the std, not centred


@pytest.mark.parametrize("name", list(P_PER_PROBLEM))
def test_parameter_count_per_problem(name: str) -> None:
    venv = morl.make_vec(name, 1, workers=1)
    layout = TargetNetworkLayout(venv.single_observation_space.shape[0], venv.single_action_space.shape[0],
                                 venv.reward_dim)  # fmt: skip
    venv.close()
    assert layout.num_params == P_PER_PROBLEM[name]


def test_initialisation() -> None:
    layout = TargetNetworkLayout(17, 6, 2)
    theta = layout.initial(torch.Generator().manual_seed(0)).unsqueeze(0)
    w0 = layout.view(theta, "actor.0.weight")[0]
    # orthogonal, gain sqrt(2): the 17 columns of the 64 x 17 matrix are orthogonal with norm sqrt(2)
    torch.testing.assert_close(w0.T @ w0, 2.0 * torch.eye(17), atol=1e-5, rtol=0)
    head = layout.view(theta, "actor.2.weight")[0]
    torch.testing.assert_close(head @ head.T, torch.eye(6), atol=1e-5, rtol=0)
    for name in ("actor.0.bias", "actor.2.bias", "critic.2.bias", "log_std"):
        assert torch.all(layout.view(theta, name) == 0)


def test_initialisation_does_not_depend_on_the_thread_count() -> None:
    """A seed gives the same θ on any number of cores: torch's QR rounds differently with 1 and
    with 2 threads (HalfCheetah's θ differed before the factorisation's threads were fixed)."""
    layout = TargetNetworkLayout(17, 6, 2)
    before = torch.get_num_threads()
    thetas = []
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            thetas.append(layout.initial(torch.Generator().manual_seed(0)))
            assert torch.get_num_threads() == threads  # restored after the factorisation
    finally:
        torch.set_num_threads(before)
    for theta in thetas[1:]:
        assert torch.equal(theta, thetas[0])


def test_batched_forward_equals_unbatched() -> None:
    layout = TargetNetworkLayout(11, 3, 3)
    gen = torch.Generator().manual_seed(2)
    thetas = torch.stack([layout.initial(gen) + 0.01 * torch.randn(layout.num_params, generator=gen) for _ in range(4)])
    obs = torch.randn(4, 7, 11, generator=gen)
    mean = mlp(layout.unpack(thetas, "actor"), obs)
    values = mlp(layout.unpack(thetas, "critic"), obs)
    # the numpy inference path (collection, evaluation) computes the same actions
    np.testing.assert_allclose(numpy_mlp(numpy_layers(layout.unpack(thetas, "actor")), obs.numpy()), mean.numpy(),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    for k in range(4):
        one = thetas[k : k + 1]
        torch.testing.assert_close(mean[k], mlp(layout.unpack(one, "actor"), obs[k : k + 1])[0])
        torch.testing.assert_close(values[k], mlp(layout.unpack(one, "critic"), obs[k : k + 1])[0])
        # and equal to a plain module-free reference computation
        x = obs[k]
        for i in range(3):
            w = layout.view(thetas[k : k + 1], f"actor.{i}.weight")[0]
            b = layout.view(thetas[k : k + 1], f"actor.{i}.bias")[0]
            x = x @ w.T + b
            x = torch.tanh(x) if i < 2 else x
        torch.testing.assert_close(mean[k], x)


def test_hypernetwork_shapes_and_initial_bias() -> None:
    layout = TargetNetworkLayout(8, 2, 2)
    net = HyperNetwork(2, layout.num_params, embedding_dim=10)
    assert net.W.shape == (10, layout.num_params) and torch.all(net.W == 0)
    b = layout.initial(torch.Generator().manual_seed(0))
    with torch.no_grad():
        net.b.copy_(b)
    prefs = torch.tensor([[1.0, 0.0], [0.3, 0.7], [0.0, 1.0]])
    theta = net(prefs).detach()
    assert theta.shape == (3, layout.num_params)
    for row in theta:
        torch.testing.assert_close(row, b)  # W = 0: every preference yields the warm-up policy
    assert sum(p.numel() for p in net.embedding.parameters()) == 2 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    assert math.isclose(float(theta.sum()), float(3 * b.sum()), rel_tol=1e-5)


@pytest.mark.parametrize("groups", [None, 3])
def test_rollout_reward_normalisation_equals_step_by_step(groups: int | None) -> None:
    """ReturnNormalizer.normalize_rollout = T calls of the per-step normaliser (episode ends
    resetting the running returns, shared or grouped statistics), to rounding."""
    rng = np.random.default_rng(0)
    steps, envs, m = 300, 6, 2
    rewards = rng.normal(size=(steps, envs, m)) * [1.0, 50.0] + [3.0, -200.0]
    ends = rng.random((steps, envs)) < 0.02
    make = (lambda: RunningMeanStd.zeros((m,))) if groups is None else (lambda: RunningMeanStd.grouped(groups, (m,)))
    step_by_step, at_once = ReturnNormalizer(envs, m, 0.99, make()), ReturnNormalizer(envs, m, 0.99, make())
    for normalizer in (step_by_step, at_once):  # statistics that already hold a past
        normalizer(rewards[0] * 2, np.zeros(envs, bool))
    expected = np.stack([step_by_step(rewards[t], ends[t]) for t in range(steps)])
    got = at_once.normalize_rollout(rewards, ends)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    np.testing.assert_allclose(at_once.returns, step_by_step.returns, rtol=1e-12)
    np.testing.assert_allclose(at_once.stats.mean, step_by_step.stats.mean, rtol=1e-9)
    np.testing.assert_allclose(at_once.stats.var, step_by_step.stats.var, rtol=1e-9)
    np.testing.assert_allclose(at_once.stats.count, step_by_step.stats.count)
    assert np.shape(at_once.stats.count) == np.shape(step_by_step.stats.count)


@pytest.mark.parametrize("groups", [None, 2])
def test_statistics_from_row_moments_equal_the_observations(groups: int | None) -> None:
    """update_stats_from_rows (each row's mean and squared deviations over T samples) gives the
    statistics of updating with all the rows' samples (rows in G blocks when grouped)."""
    rng = np.random.default_rng(3)
    steps, rows, d = 50, 4, 3
    samples = rng.normal(size=(steps, rows, d)) * [1.0, 10.0, 0.1] + [5.0, -2.0, 0.0]
    make = (lambda: RunningMeanStd.zeros((d,))) if groups is None else (lambda: RunningMeanStd.grouped(groups, (d,)))
    direct, moments = make(), make()
    for stats in (direct, moments):
        update_stats(stats, samples[0] * 3)  # a past
    update_stats(direct, samples.reshape(steps, -1, rows // (groups or 1), d).swapaxes(0, 1).reshape(-1, d)
                 if groups else samples.reshape(-1, d))  # fmt: skip
    mean = samples.mean(axis=0)
    update_stats_from_rows(moments, mean, np.square(samples - mean).sum(axis=0), steps)
    np.testing.assert_allclose(moments.mean, direct.mean, rtol=1e-12)
    np.testing.assert_allclose(moments.var, direct.var, rtol=1e-10)
    np.testing.assert_allclose(moments.count, direct.count)
