"""PD-MORL's parts: the angle term, the per-sample target, the losses, hindsight preferences, the
interpolator, stacked groups (each trains as an independent TD3), the replay buffer's files, and
the agent's stages."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from morl.agents.pdmorl import PDMORL, PDMORLConfig
from morl.agents.pdmorl.interpolator import KeyInterpolator, key_preferences
from morl.agents.pdmorl.losses import actor_loss, angle_degrees, critic_loss, select_target, td_target
from morl.agents.pdmorl.networks import StackedMLP, clip_group_norms
from morl.agents.pdmorl.replay import CHUNK_ROWS, ReplayBuffer, her_preferences
from morl.agents.pdmorl.td3 import TD3, Batch, TD3Settings


# --------------------------------------------------------------------------- the angle term
def test_angle_is_in_degrees_with_the_authors_clamp() -> None:
    u = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [3.0, 4.0]])
    v = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [2.0, 0.0], [4.0, 3.0]])
    expected = [45.0, 90.0, math.degrees(math.acos(0.9999)), math.degrees(math.acos(24 / 25))]
    np.testing.assert_allclose(angle_degrees(u, v).numpy(), expected, rtol=2e-4)  # float32 near cos = 1
    assert 0.80 < expected[2] < 0.82  # aligned vectors keep a floor of ~0.81 degrees


def test_the_clamped_angle_has_no_gradient() -> None:
    """Opposite half-space (cos < 0) and alignment (cos > 0.9999): no gradient; in between the
    derivative of degrees(arccos(cos))."""
    u = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    v = torch.tensor([[-1.0, 0.5], [1.0, 1e-3], [1.0, 1.0]], requires_grad=True)
    angle_degrees(u, v).sum().backward()
    assert v.grad is not None
    assert torch.all(v.grad[:2] == 0)
    # d/dv_y of degrees(atan2(v_y, v_x)) at (1, 1) = (180/π) · v_x / |v|² = (180/π) / 2
    assert v.grad[2, 1].item() == pytest.approx(math.degrees(1.0) / 2, rel=1e-4)


# --------------------------------------------------------------------------- the target
def test_the_target_head_is_chosen_per_sample_by_the_scalarised_value() -> None:
    pref = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]])  # (G=1, B=3, m=2)
    q1 = torch.tensor([[[1.0, 9.0], [1.0, 9.0], [4.0, 4.0]]])
    q2 = torch.tensor([[[2.0, 0.0], [2.0, 0.0], [4.0, 4.0]]])
    chosen = select_target(torch.stack([q1, q2], dim=1), pref)
    # sample 0: ω·Q1 = 1 < 2 -> Q1; sample 1: 9 > 0 -> Q2; sample 2: a tie -> Q1
    np.testing.assert_array_equal(chosen[0].numpy(), [[1.0, 9.0], [2.0, 0.0], [4.0, 4.0]])


def test_only_termination_stops_the_bootstrap() -> None:
    reward = torch.tensor([[[1.0, 2.0], [1.0, 2.0]]])
    q_next = torch.tensor([[[10.0, 20.0], [10.0, 20.0]]])
    y = td_target(reward, torch.tensor([[0.0, 1.0]]), q_next, 0.5)
    np.testing.assert_allclose(y[0].numpy(), [[6.0, 12.0], [1.0, 2.0]])


def test_losses_match_a_hand_computation() -> None:
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(2, 2, 5, 2, generator=gen) * 3  # (G=2, heads, B=5, m=2)
    y = torch.randn(2, 5, 2, generator=gen) * 3
    direction = torch.rand(2, 5, 2, generator=gen)
    pref = torch.rand(2, 5, 2, generator=gen)
    for g in range(2):
        huber = sum(F.smooth_l1_loss(q[g, h], y[g]) for h in range(2))
        angle = sum(angle_degrees(direction[g], q[g, h]).mean() for h in range(2))
        assert critic_loss(q, y, direction, 1.0)[g].item() == pytest.approx(float(huber + angle), rel=1e-5)
        assert critic_loss(q, y, None, 1.0)[g].item() == pytest.approx(float(huber), rel=1e-5)
        expected = -(q[g, 0] * pref[g]).sum(-1).mean() + 10 * angle_degrees(direction[g], q[g, 0]).mean()
        assert actor_loss(q[:, 0], pref, direction, 10.0)[g].item() == pytest.approx(float(expected), rel=1e-5)


# --------------------------------------------------------------------------- hindsight preferences
def test_her_preferences_lie_on_the_simplex_rounded_to_three_decimals() -> None:
    prefs = her_preferences(np.random.default_rng(0), 20_000, 3)
    assert np.all(prefs >= 0) and np.allclose(prefs.sum(axis=1), 1.0, atol=0.002)
    np.testing.assert_array_equal(prefs, np.round(prefs, 3))


def test_her_preferences_are_denser_at_the_centre_than_at_the_corners() -> None:
    """|z|/‖z‖₁ for m = 2: density of ω_1 about 1.8x higher near ½ than near 0 (the authors')."""
    w1 = her_preferences(np.random.default_rng(1), 200_000, 2)[:, 0]
    centre = np.mean(np.abs(w1 - 0.5) < 0.05)
    corner = (np.mean(w1 < 0.1) + np.mean(w1 > 0.9)) / 2  # the same width at each corner
    assert 1.5 < centre / corner < 2.1


def test_hindsight_copies_keep_the_transition_and_change_only_the_preference() -> None:
    agent = PDMORL("MO-Swimmer-v2", _tiny(key_fraction=0.0, her_copies=3, random_steps=0))
    agent.learn(progress=False, callback=lambda *_: False)
    buffer = agent.buffer
    assert buffer is not None and buffer.size == agent.env_steps * 4
    rows = agent.config.num_envs
    first = {k: v[0, : rows * 4] for k, v in buffer.arrays.items()}  # one step: 4 envs + 3 copies each
    for key in ("obs", "action", "reward", "next_obs", "terminated"):
        np.testing.assert_array_equal(first[key][rows:], np.repeat(first[key][:rows], 3, axis=0))
    assert not np.array_equal(first["pref"][rows:], np.repeat(first["pref"][:rows], 3, axis=0))


# --------------------------------------------------------------------------- the interpolator
def test_interpolator_is_piecewise_linear_for_two_objectives() -> None:
    returns = np.array([[100.0, 2000.0], [900.0, 1500.0], [2500.0, 200.0]])
    interp = KeyInterpolator(key_preferences(2), returns)
    w1 = np.linspace(0.0, 1.0, 101)
    unit = returns / np.abs(returns).sum(axis=1, keepdims=True)
    expected = np.stack([np.interp(w1, [0.0, 0.5, 1.0], unit[:, j]) for j in range(2)], axis=1)
    np.testing.assert_allclose(interp(np.stack([w1, 1 - w1], axis=1)), expected, atol=1e-12)


def test_interpolator_passes_through_the_keys_for_three_objectives() -> None:
    keys = key_preferences(3)
    assert len(keys) == 4 and np.allclose(keys.sum(axis=1), 1.0)
    returns = np.abs(np.random.default_rng(0).normal(size=(4, 3))) * 100
    interp = KeyInterpolator(keys, returns)
    np.testing.assert_allclose(interp(keys), returns / np.abs(returns).sum(axis=1, keepdims=True), atol=1e-9)


def test_interpolator_normalises_with_l1_when_built_and_when_rebuilt() -> None:
    """L1 throughout (spec deviation 3): between two keys the direction is the mean of their
    unit-L1 returns, which differs from the unit-L2 one; the same after a key is replaced."""
    interp = KeyInterpolator(key_preferences(2), np.array([[0.0, 10.0], [30.0, 10.0], [10.0, 0.0]]))
    np.testing.assert_allclose(interp.directions, [[0.0, 1.0], [0.75, 0.25], [1.0, 0.0]], atol=1e-12)
    # ω = (¼, ¾): halfway between (0, 1) and (½, ½); by unit L2 norms it would be [0.474, 0.658]
    np.testing.assert_allclose(interp(np.array([[0.25, 0.75]])), [[0.375, 0.625]], atol=1e-12)
    assert interp.offer(1, np.array([15.0, 45.0]))  # better for (½, ½): 30 > 20; unit L1 [0.25, 0.75]
    np.testing.assert_allclose(interp(np.array([[0.25, 0.75]])), [[0.125, 0.875]], atol=1e-12)
    np.testing.assert_allclose(np.abs(interp(key_preferences(2))).sum(axis=1), 1.0, atol=1e-12)


def test_a_key_return_is_replaced_only_when_better_for_its_key() -> None:
    interp = KeyInterpolator(key_preferences(2), np.array([[1.0, 10.0], [5.0, 5.0], [10.0, 1.0]]))
    assert not interp.offer(0, np.array([50.0, 9.0]))  # key (0, 1): 9 < 10
    assert interp.offer(0, np.array([0.0, 11.0]))
    assert not interp.offer(2, np.array([np.nan, 1.0]))
    np.testing.assert_allclose(interp(np.array([[0.0, 1.0]])), [[0.0, 1.0]], atol=1e-12)
    again = KeyInterpolator.from_json(interp.to_json())
    np.testing.assert_array_equal(again.returns, interp.returns)


# --------------------------------------------------------------------------- stacked groups
SETTINGS = TD3Settings(hidden=16, learning_rate=1e-3, gamma=0.99, tau=0.1, policy_noise=0.0, noise_clip=0.5,
                       delay=2, grad_clip=0.5, critic_angle=1.0, actor_angle=10.0)  # fmt: skip


def _batch(groups: int, size: int, seed: int) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    pref = torch.rand(groups, size, 2, generator=gen)
    obs, action = torch.randn(groups, size, 5, generator=gen), torch.rand(groups, size, 3, generator=gen) * 2 - 1
    reward, next_obs = torch.randn(groups, size, 2, generator=gen), torch.randn(groups, size, 5, generator=gen)
    terminated = (torch.rand(groups, size, generator=gen) < 0.2).float()
    return Batch(obs, action, reward, next_obs, terminated, pref / pref.sum(-1, keepdim=True))


def test_each_stacked_group_trains_as_an_independent_td3() -> None:
    """Three groups in one stack, four updates (two of them actor steps and target updates, with
    a gradient clip that bites) = three separate one-group TD3s started from the same weights."""
    low, high = -np.ones(3), np.ones(3)
    stack = TD3(3, 5, 2, low, high, SETTINGS, torch.Generator().manual_seed(0))
    singles = []
    for g in range(3):
        single = TD3(1, 5, 2, low, high, SETTINGS, torch.Generator().manual_seed(1))
        for mine, theirs in ((single.actor.net, stack.actor.net), (single.critic.net, stack.critic.net)):
            heads = slice(g, g + 1) if mine is single.actor.net else slice(2 * g, 2 * g + 2)
            for p, q in zip(mine.parameters(), theirs.parameters(), strict=True):
                p.data.copy_(q.data[heads])
        single.actor_target.load_state_dict(single.actor.state_dict())
        single.critic_target.load_state_dict(single.critic.state_dict())
        singles.append(single)
    for step in range(4):
        batch = _batch(3, 8, step)
        direction = torch.rand(3, 8, 2, generator=torch.Generator().manual_seed(10 + step))
        stack.update(batch, direction, torch.Generator())
        for g, single in enumerate(singles):
            part = Batch(*(t[g : g + 1] for t in vars(batch).values()))
            single.update(part, direction[g : g + 1], torch.Generator())
    for g, single in enumerate(singles):
        torch.testing.assert_close(single.actor.net.weights[1][0], stack.actor.net.weights[1][g])
        torch.testing.assert_close(single.critic.net.weights[2][1], stack.critic.net.weights[2][2 * g + 1])
        torch.testing.assert_close(single.critic_target.net.weights[0][0], stack.critic_target.net.weights[0][2 * g])


def test_group_clipping_equals_clipping_each_network_alone() -> None:
    net = StackedMLP(4, (3, 5, 2), torch.Generator().manual_seed(0))  # 2 groups x 2 heads
    net(torch.randn(4, 6, 3)).pow(2).sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]  # type: ignore[union-attr]
    norms = clip_group_norms(list(net.parameters()), 2, 1.0)
    for g in range(2):
        own = [grad[2 * g : 2 * g + 2].clone().requires_grad_() for grad in grads]
        for o in own:
            o.grad = o.detach().clone()
        expected = torch.nn.utils.clip_grad_norm_(own, 1.0)
        assert norms[g].item() == pytest.approx(expected.item(), rel=1e-5)
        for p, o in zip(net.parameters(), own, strict=True):
            torch.testing.assert_close(p.grad[2 * g : 2 * g + 2], o.grad)  # type: ignore[index]


# --------------------------------------------------------------------------- replay files
def _fill(buffer: ReplayBuffer, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = buffer.groups
    buffer.add(obs=rng.normal(size=(g, rows, 2)), action=rng.normal(size=(g, rows, 1)),
               reward=rng.normal(size=(g, rows, 2)), next_obs=rng.normal(size=(g, rows, 2)),
               terminated=rng.random((g, rows)) < 0.1, pref=rng.random((g, rows, 2)))  # fmt: skip


def test_replay_files_round_trip_rewrite_only_changed_chunks_and_prune(tmp_path: Path) -> None:
    buffer = ReplayBuffer(2, 3 * CHUNK_ROWS, 2, 1, 2, "key")
    _fill(buffer, CHUNK_ROWS + 10, 0)
    first = buffer.save_files(tmp_path)
    _fill(buffer, 2 * CHUNK_ROWS, 1)  # wraps: rows 0..9 overwritten, chunks 1, 2, 0 change
    _fill(buffer, 5, 2)  # rows 10..14: chunk 0 only
    second = buffer.save_files(tmp_path)
    ReplayBuffer.prune(tmp_path, [second])
    names = sorted(p.name for p in (tmp_path / "replay").iterdir())
    assert names == sorted(json.loads(second)["files"].values()) and len(names) == 3
    copy = ReplayBuffer(2, 3 * CHUNK_ROWS, 2, 1, 2, "key")
    copy.load_files(tmp_path, second)
    assert (copy.position, copy.size) == (buffer.position, buffer.size) == (15, 3 * CHUNK_ROWS)
    for key, value in buffer.arrays.items():
        np.testing.assert_array_equal(copy.arrays[key], value)
    _fill(buffer, 3, 3)  # chunk 0 again: only it is rewritten
    third = buffer.save_files(tmp_path)
    changed = {k for k, v in json.loads(third)["files"].items() if v not in json.loads(second)["files"].values()}
    assert changed == {"0"}
    with pytest.raises(ValueError, match="expected 2 x 196608 'main'"):
        ReplayBuffer(2, 3 * CHUNK_ROWS, 2, 1, 2, "main").load_files(tmp_path, first)


def test_a_missing_or_damaged_replay_chunk_is_named(tmp_path: Path) -> None:
    buffer = ReplayBuffer(1, 100, 2, 1, 2, "main")
    _fill(buffer, 50, 0)
    manifest = buffer.save_files(tmp_path)
    (chunk,) = (tmp_path / "replay").iterdir()
    chunk.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match=f"replay chunk '.*{chunk.name}' is damaged"):
        ReplayBuffer(1, 100, 2, 1, 2, "main").load_files(tmp_path, manifest)
    chunk.unlink()
    with pytest.raises(FileNotFoundError, match=f"{chunk.name}' named by the checkpoint is missing"):
        ReplayBuffer(1, 100, 2, 1, 2, "main").load_files(tmp_path, manifest)


# --------------------------------------------------------------------------- the agent
def _tiny(**overrides: object) -> PDMORLConfig:
    values = {"total_steps": 4000, "num_envs": 4, "hidden": 16, "batch_size": 32, "key_batch_size": 16,
              "learning_starts": 64, "steps_per_iteration": 50, "interp_episodes": 1, "key_eval_episodes": 1,
              "key_eval_interval": 100, "eval_splits": 4, "workers": 1, "update_threads": 1}  # fmt: skip
    return PDMORLConfig.for_problem("MO-Swimmer-v2", **{**values, **overrides})


def test_authors_settings_per_problem() -> None:
    swimmer = PDMORLConfig.for_problem("MO-Swimmer-v2")
    assert (swimmer.total_steps, swimmer.policy_delay, swimmer.key_policy_delay) == (13_000_000, 10, 5)
    assert swimmer.key_fraction == pytest.approx(3 / 13)
    hopper = PDMORLConfig.for_problem("MO-Hopper-v2")
    assert (hopper.policy_delay, hopper.key_buffer_size, hopper.key_random_steps) == (20, 1_000_000, 10_000)
    cheetah = PDMORLConfig.for_problem("MO-HalfCheetah-v2")
    assert (cheetah.total_steps, cheetah.key_fraction, cheetah.gamma) == (16_000_000, 0.375, 0.995)


def test_the_plan_splits_the_budget_between_keys_and_main_stage() -> None:
    agent = PDMORL("MO-Swimmer-v2", _tiny())
    run = agent.prepare()
    plan = agent.plan
    key_steps = plan.key_iterations * plan.key_steps * 3
    assert key_steps <= math.floor(4000 * agent.config.key_fraction) and plan.key_iterations >= 5
    assert plan.main_iterations >= 10 and run.planned_steps == key_steps + plan.main_iterations * plan.main_steps * 4
    assert plan.main_random == min(10_000, plan.main_iterations * plan.main_steps // 10)
    with pytest.raises(ValueError, match="total_steps=10 is too small: the key warm start gets 2 steps"):
        PDMORL("MO-Swimmer-v2", _tiny(total_steps=10)).prepare()


@pytest.mark.slow
def test_key_stage_feeds_the_interpolator_then_the_main_stage_trains(tmp_path: Path) -> None:
    agent = PDMORL("MO-Swimmer-v2", _tiny())
    seen: list[tuple[str, bool]] = []
    agent.learn(out_dir=tmp_path, progress=False,
                callback=lambda a, info: seen.append((a.stage, info["metrics"] is not None)))  # fmt: skip
    keys = agent.plan.key_iterations
    assert not any(evaluated for _, evaluated in seen[: keys - 1])  # no front of an untrained main policy
    assert agent.interpolator is not None and np.isfinite(agent.key_best).all()
    np.testing.assert_array_equal(agent.interpolator.keys, key_preferences(2))
    assert agent.counters["interp_env_steps"] > 0 and agent.counters["updates"] > 0
    assert agent.run.history and agent.buffer is not None and agent.buffer.name == "main"
    replay = list((tmp_path / "replay").iterdir())
    assert replay and all(p.name.startswith("main-") for p in replay)  # the key stage's files are gone
    loaded = PDMORL.load(tmp_path)
    assert loaded.buffer is not None and loaded.buffer.size == agent.buffer.size
    np.testing.assert_array_equal(loaded.buffer.arrays["obs"], agent.buffer.arrays["obs"])


def test_policy_for_and_predict_batch_agree() -> None:
    agent = PDMORL("MO-Swimmer-v2", _tiny())
    obs = np.random.default_rng(0).normal(size=(5, agent.obs_dim))
    prefs = np.tile([0.3, 0.7], (5, 1))
    np.testing.assert_allclose(agent.policy_for([0.3, 0.7]).predict(obs), agent.predict_batch(obs, prefs), atol=1e-5)
    with pytest.raises(ValueError, match="deterministic"):
        agent.predict_batch(obs, prefs, deterministic=False)


def test_cuda_is_refused_without_a_gpu() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="device='cuda' but torch sees no CUDA GPU"):
        PDMORL("MO-Swimmer-v2", _tiny(device="cuda"))
