"""The batched vector env gives exactly the transitions of the single env."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest

import morl
from tests.conftest import random_actions


def test_same_transitions_as_single_env(problem_id: str) -> None:
    num_envs, seed = 3, 11
    steps = 520 if "Swimmer" in problem_id else 120  # Swimmer: cross the 500-step truncation
    venv = morl.make_vec(problem_id, num_envs, seed=seed, workers=2)
    assert venv.workers == 2
    envs = [gym.make(problem_id) for _ in range(num_envs)]
    try:
        obs, _ = venv.reset()
        single = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
        np.testing.assert_array_equal(obs, np.stack(single))
        actions = random_actions(venv.single_action_space, steps, seed=3, batch=num_envs)
        episodes_ended = 0
        for action in actions:
            obs, rewards, terminated, truncated, info = venv.step(action)
            assert rewards.shape == (num_envs, venv.reward_dim) and rewards.dtype == np.float32
            for i, env in enumerate(envs):
                s_obs, s_reward, s_term, s_trunc, s_info = env.step(action[i])
                np.testing.assert_array_equal(rewards[i], s_reward)
                assert (terminated[i], truncated[i]) == (s_term, s_trunc)
                assert info["x_velocity"][i] == s_info["x_velocity"]
                if s_term or s_trunc:
                    episodes_ended += 1
                    assert info["_final_obs"][i] and info["_morl_episode"][i]
                    np.testing.assert_array_equal(info["final_obs"][i], s_obs)
                    s_obs, _ = env.reset()
                np.testing.assert_array_equal(obs[i], s_obs)
        if "Swimmer" in problem_id:
            assert episodes_ended == num_envs  # every env truncated once at 500
    finally:
        venv.close()


def test_episode_statistics_are_undiscounted_returns() -> None:
    venv = morl.make_vec("MO-Hopper-v2", 4, seed=0, workers=1)
    venv.reset()
    totals = np.zeros((4, 2))
    lengths = np.zeros(4, dtype=int)
    checked = 0
    for action in random_actions(venv.single_action_space, 200, seed=0, batch=4):
        _, rewards, terminated, truncated, info = venv.step(action)
        totals += rewards
        lengths += 1
        if "_morl_episode" in info:
            done = info["_morl_episode"]
            np.testing.assert_array_equal(done, terminated | truncated)
            np.testing.assert_allclose(info["morl_episode"]["r"][done], totals[done], rtol=1e-12)
            np.testing.assert_array_equal(info["morl_episode"]["l"][done], lengths[done])
            totals[done], lengths[done] = 0.0, 0
            checked += int(done.sum())
    assert checked > 0
    venv.close()


def test_workers_do_not_change_results() -> None:
    results = []
    for workers in (1, 2, 3):
        venv = morl.make_vec("MO-Walker2d-v2", 5, seed=4, workers=workers)
        venv.reset()
        out = [venv.step(a)[:2] for a in random_actions(venv.single_action_space, 40, seed=9, batch=5)]
        venv.close()
        results.append(out)
    for other in results[1:]:
        for (obs_a, rew_a), (obs_b, rew_b) in zip(results[0], other, strict=True):
            np.testing.assert_array_equal(obs_a, obs_b)
            np.testing.assert_array_equal(rew_a, rew_b)


def test_reset_seeds_and_mask() -> None:
    venv = morl.make_vec("MO-Humanoid-v2", 3, workers=1)
    a, _ = venv.reset(seed=[1, 2, 3])
    b, _ = venv.reset(seed=1)
    np.testing.assert_array_equal(a, b)  # seed=1 means 1, 2, 3
    c, _ = venv.reset(seed=[5, None, None], options={"reset_mask": np.array([True, False, False])})
    assert not np.array_equal(c[0], b[0])
    np.testing.assert_array_equal(c[1:], b[1:])
    with pytest.raises(ValueError, match="seed has 2 entries"):
        venv.reset(seed=[1, 2])
    venv.close()


def test_spaces() -> None:
    venv = morl.make_vec("MO-Hopper-v3", 4, workers=1)
    assert venv.observation_space.shape == (4, 11)
    assert venv.action_space.shape == (4, 3)
    assert venv.single_reward_space.shape == (3,)
    assert venv.reward_space.shape == (3,)  # MO-Gymnasium's convention: one env's reward
    assert venv.batched_reward_space.shape == (4, 3)
    assert venv.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    venv.close()


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="num_envs=0 must be a positive integer"):
        morl.make_vec("MO-Ant-v2", 0)
    with pytest.raises(ValueError, match="workers=0 must be a positive integer"):
        morl.make_vec("MO-Ant-v2", 2, workers=0)
    venv = morl.make_vec("MO-Ant-v2", 2, workers=1)
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(np.zeros((2, 8)))
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"action has shape \(8,\); MO-Ant-v2 expects shape \(2, 8\)"):
        venv.step(np.zeros(8))
    venv.close()


def test_close_stops_worker_processes() -> None:
    venv = morl.make_vec("MO-Swimmer-v2", 4, seed=0, workers=2)
    venv.reset()
    pids = venv.worker_pids
    assert len(pids) == 1 and all(_alive(pid) for pid in pids)  # two processes: this one and a worker
    venv.close()
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (and is not a zombie: close waits for its workers)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_default_workers_keep_a_few_envs_per_process() -> None:
    """A worker's round trip costs more than the physics of a handful of envs: by default a
    process gets at least MIN_ENVS_PER_PROCESS envs (an explicit workers= is obeyed)."""
    from morl.cores import available_cores
    from morl.envs.vector import MIN_ENVS_PER_PROCESS

    few = morl.make_vec("MO-Hopper-v2", MIN_ENVS_PER_PROCESS - 1)
    assert few.workers == 1
    few.close()
    many = morl.make_vec("MO-Hopper-v2", 4 * MIN_ENVS_PER_PROCESS)
    assert many.workers == min(available_cores(), 4)
    many.close()
