"""Whole rollouts inside the worker processes (morl.envs.rollout) and the collector on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import morl
from morl.agents.ppo.core import Collector, PPOSettings, RowPreferences
from morl.agents.ppo.networks import TargetNetworkLayout
from morl.envs.rollout import RolloutBatch, RolloutEngine, RolloutRequest

PROBLEM = "MO-Hopper-v2"  # falls within tens of steps under random actions: episode ends in every rollout
OBS, ACT, M = 11, 3, 2
FIELDS = (
    "inputs", "first_obs", "last_obs", "obs_mean", "obs_m2", "actions", "rewards", "terminated", "truncated",
    "end_step", "end_row", "final_obs", "episode_returns", "preferences", "last_preferences",
)  # fmt: skip


def request(num_envs: int, steps: int, policies: int, seed: int, conditioned: bool = False) -> RolloutRequest:
    rng = np.random.default_rng(seed)
    in_dim = OBS + (M if conditioned else 0)
    shapes = ((in_dim, 16), (16, 16), (16, ACT))
    layers = [(rng.normal(size=(policies, i, o)).astype(np.float32) * 0.5,
               rng.normal(size=(policies, 1, o)).astype(np.float32) * 0.1) for i, o in shapes]  # fmt: skip
    return RolloutRequest(
        steps=steps, layers=layers, row_policy=np.repeat(np.arange(policies), num_envs // policies),
        obs_mean=rng.normal(size=(num_envs, OBS)) * 0.1, obs_std=np.full((num_envs, OBS), 1.5), obs_clip=10.0,
        noise=rng.normal(size=(steps, num_envs, ACT)).astype(np.float32),
        preferences=rng.dirichlet(np.ones(M), size=num_envs) if conditioned else None,
        preference_draws=rng.dirichlet(np.ones(M), size=(steps, num_envs)) if conditioned else None,
    )  # fmt: skip


def assert_same(a: RolloutBatch, b: RolloutBatch) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.dtype == y.dtype and np.array_equal(x, y), name


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name] if name == "rngs" else np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize("conditioned", [False, True])
def test_one_two_and_three_processes_give_bit_identical_rollouts(conditioned: bool) -> None:
    """Every random number is drawn per (step, row) by the caller and each row's arithmetic
    does not depend on which rows share its process: the number of processes changes nothing,
    over two consecutive rollouts (episodes crossing the boundary) and in the saved state."""
    policies = 1 if conditioned else 3
    runs = []
    for workers in (1, 2, 3):
        engine = RolloutEngine(PROBLEM, 6, seed=11, workers=workers)
        try:
            assert engine.workers == workers
            batches = [engine.rollout(request(6, 60, policies, s, conditioned)) for s in (0, 1)]
            runs.append((batches, engine.get_state()))
        finally:
            engine.close()
    (first, state), others = runs[0], runs[1:]
    assert len(first[0].end_step) > 0 and len(first[1].end_step) > 0
    for batches, other_state in others:
        for a, b in zip(first, batches, strict=True):
            assert_same(a, b)
        assert_same_state(state, other_state)


def test_a_rollout_is_the_vector_envs_transitions() -> None:
    """Row i seeded with seed + i gives exactly morl.make_vec's transitions for the same actions:
    observations, rewards, flags, final observations and episode returns; the actor inputs are
    the clipped normalised observations and the actions the actor's mean plus the noise."""
    req = request(4, 80, 2, 3)
    engine = RolloutEngine(PROBLEM, 4, seed=5, workers=2)
    try:
        batch = engine.rollout(req)
    finally:
        engine.close()
    env = morl.make_vec(PROBLEM, 4, seed=5, workers=1)
    obs, _ = env.reset()
    ends: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    observed = []
    assert np.array_equal(obs, batch.first_obs)
    try:
        for t in range(req.steps):
            expected_in = np.clip((obs - req.obs_mean) / req.obs_std, -10, 10).astype(np.float32)
            assert np.array_equal(batch.inputs[t], expected_in)
            for k in range(2):
                x = expected_in[2 * k : 2 * k + 2].astype(np.float64)
                for i, (w, b) in enumerate(req.layers):
                    x = x @ w[k] + b[k]
                    x = np.tanh(x) if i < 2 else x
                np.testing.assert_allclose(batch.actions[t, 2 * k : 2 * k + 2] - req.noise[t, 2 * k : 2 * k + 2], x,
                                           atol=1e-5)  # fmt: skip
            obs, rewards, terminated, truncated, info = env.step(batch.actions[t].astype(np.float64))
            observed.append(obs)
            assert np.array_equal(rewards, batch.rewards[t])
            assert np.array_equal(terminated, batch.terminated[t]) and np.array_equal(truncated, batch.truncated[t])
            for row in np.flatnonzero(terminated | truncated):
                ends.append((t, int(row), info["final_obs"][row], info["morl_episode"]["r"][row]))
        assert np.array_equal(obs, batch.last_obs)
    finally:
        env.close()
    observed_array = np.array(observed)  # what the observation statistics take, as per-row moments
    np.testing.assert_allclose(batch.obs_mean, observed_array.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(batch.obs_m2, observed_array.var(axis=0) * req.steps, rtol=1e-9, atol=1e-12)
    assert [(t, r) for t, r, _, _ in ends] == list(zip(batch.end_step.tolist(), batch.end_row.tolist(), strict=True))
    assert np.array_equal(np.array([f for *_, f, _ in ends]), batch.final_obs)
    assert np.array_equal(np.array([r for *_, r in ends]), batch.episode_returns)


def test_row_preferences_change_only_at_episode_ends_to_that_steps_draw() -> None:
    req = request(4, 80, 1, 2, conditioned=True)
    engine = RolloutEngine(PROBLEM, 4, seed=0, workers=2)
    try:
        batch = engine.rollout(req)
    finally:
        engine.close()
    assert batch.preferences is not None and req.preferences is not None and req.preference_draws is not None
    current = req.preferences.copy()
    ended = batch.terminated | batch.truncated
    for t in range(req.steps):
        assert np.array_equal(batch.preferences[t], current)
        assert np.array_equal(batch.inputs[t, :, OBS:], current.astype(np.float32))
        current[ended[t]] = req.preference_draws[t][ended[t]]
    assert batch.last_preferences is not None and np.array_equal(batch.last_preferences, current)
    assert ended.sum() > 0


def test_a_state_saved_with_some_processes_continues_with_others() -> None:
    """get_state/set_state use one vector env's format: saved from 2 processes, restored into 3
    (and into a plain MOVectorEnv), the batch continues as if never stopped."""
    first, second = request(6, 40, 3, 0), request(6, 40, 3, 1)
    straight = RolloutEngine(PROBLEM, 6, seed=4, workers=1)
    try:
        straight.rollout(first)
        expected = straight.rollout(second)
    finally:
        straight.close()
    saver = RolloutEngine(PROBLEM, 6, seed=4, workers=2)
    try:
        saver.rollout(first)
        state = saver.get_state()
    finally:
        saver.close()
    resumed = RolloutEngine(PROBLEM, 6, workers=3, state=state)
    try:
        assert np.array_equal(resumed.observe(), expected.first_obs)
        assert_same(resumed.rollout(second), expected)
    finally:
        resumed.close()
    env = morl.make_vec(PROBLEM, 6, workers=1)
    env.set_state(state)
    assert np.array_equal(env.observe(), expected.first_obs)
    env.close()


def test_a_failed_command_leaves_the_engine_refusing_until_closed() -> None:
    engine = RolloutEngine(PROBLEM, 4, seed=0, workers=2)
    try:
        bad = request(4, 10, 1, 0)
        bad = RolloutRequest(**{**bad.__dict__, "noise": np.zeros((10, 4, ACT + 1), dtype=np.float32)})
        with pytest.raises(ValueError):
            engine.rollout(bad)
        with pytest.raises(RuntimeError, match="interrupted mid-command"):
            engine.get_state()
    finally:
        engine.close()
    with pytest.raises(ValueError, match="workers=0"):
        RolloutEngine(PROBLEM, 4, workers=0)


@pytest.mark.parametrize("conditioned", [False, True])
def test_collections_do_not_depend_on_the_number_of_processes(conditioned: bool) -> None:
    """The collector's whole output (inputs, actions, log-probabilities, values, returns,
    advantages, episode returns) and its normalisers after two rollouts: 1 process = 2 processes."""
    results = []
    for workers in (1, 2):
        settings = PPOSettings(steps_per_env=150)
        rows = RowPreferences(4, M, np.random.default_rng(0)) if conditioned else None
        collector = Collector(PROBLEM, 1 if conditioned else 2, 4 if conditioned else 2, settings, seed=3,
                              workers=workers, row_preferences=rows)  # fmt: skip
        layout = TargetNetworkLayout(OBS + (M if conditioned else 0), ACT, M)
        generator = torch.Generator().manual_seed(0)
        theta = torch.stack([layout.initial(generator) for _ in range(1 if conditioned else 2)])
        prefs = None if conditioned else np.array([[0.2, 0.8], [0.7, 0.3]])
        try:
            rollouts = [collector.collect(layout, theta, prefs, generator) for _ in range(2)]
            results.append((rollouts, collector.obs_stats, collector.returns.stats))
        finally:
            collector.close()
    (a, obs_a, ret_a), (b, obs_b, ret_b) = results
    for x, y in zip(a, b, strict=True):
        for name in ("obs", "actions", "log_probs", "values", "returns", "advantages"):
            assert torch.equal(getattr(x, name), getattr(y, name)), name
        assert np.array_equal(np.array(x.episode_returns), np.array(y.episode_returns))
    assert sum(len(x.episode_returns) for x in a) > 0
    assert np.array_equal(obs_a.mean, obs_b.mean) and np.array_equal(obs_a.var, obs_b.var)
    assert np.array_equal(ret_a.var, ret_b.var)
