"""Objective formulas, termination and truncation, checked against the spec's formulas.

Each test sets a known state and action, steps, and recomputes the reward vector here from the
state before and after (dt written out from the spec, not read from the env).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import morl
from morl.envs.state import State


def _env(problem_id: str) -> gym.Env:
    env = gym.make(problem_id)
    env.reset(seed=0)
    return env


def _start(env: gym.Env, qpos_changes: dict[int, float], qvel: float = 0.3) -> None:
    model = env.unwrapped.model
    qpos = model.qpos0.copy()
    for index, value in qpos_changes.items():
        qpos[index] = value
    velocity = np.full(model.nv, qvel)
    env.unwrapped.set_state(qpos, velocity)


def test_swimmer_formula() -> None:
    env = _env("morl/MO-Swimmer-v2")
    _start(env, {0: 0.2})
    action = np.array([0.5, -2.0], dtype=np.float32)  # the second is clipped to -1
    _, reward, terminated, _, info = env.step(action)
    x_after = env.unwrapped.data.qpos[0]
    expected = [(x_after - 0.2) / 0.04, 0.3 - 0.15 * (0.25 + 1.0)]
    np.testing.assert_allclose(reward, expected, rtol=1e-5)
    assert not terminated
    assert info["ctrl_sq_sum"] == pytest.approx(1.25)


def test_half_cheetah_formula_and_speed_cap() -> None:
    env = _env("morl/MO-HalfCheetah-v2")
    _start(env, {0: 1.0})
    action = np.array([3.0, -0.5, 0.2, 0.0, 1.0, -1.0], dtype=np.float32)
    _, reward, _, _, _ = env.step(action)
    vx = (env.unwrapped.data.qpos[0] - 1.0) / 0.05
    energy = 1.0 + 0.25 + 0.04 + 0.0 + 1.0 + 1.0
    np.testing.assert_allclose(reward, [min(4.0, vx) + 1.0, 4.0 - energy + 1.0], rtol=1e-5)
    # a large forward velocity is capped at 4 (+1)
    env.unwrapped.set_state(env.unwrapped.model.qpos0, np.r_[10.0, np.zeros(8)])
    _, reward, _, _, info = env.step(np.zeros(6, dtype=np.float32))
    assert info["x_velocity"] > 4.0
    assert reward[0] == pytest.approx(5.0)


def test_walker2d_formula() -> None:
    env = _env("morl/MO-Walker2d-v2")
    _start(env, {0: -0.5})
    action = np.array([0.1, 0.2, -0.3, 1.5, 0.0, 0.0], dtype=np.float32)
    obs, reward, _, _, _ = env.step(action)
    vx = (env.unwrapped.data.qpos[0] + 0.5) / 0.008
    energy = 0.01 + 0.04 + 0.09 + 1.0
    np.testing.assert_allclose(reward, [vx + 1.0, 4.0 - energy + 1.0], rtol=1e-5)
    assert np.all(np.abs(obs[8:]) <= 10.0)


def test_walker2d_observation_clips_velocity() -> None:
    env = _env("morl/MO-Walker2d-v2")
    env.unwrapped.set_state(env.unwrapped.model.qpos0, np.r_[50.0, np.zeros(8)])
    obs, *_ = env.step(np.zeros(6, dtype=np.float32))
    assert obs[8] == 10.0
    np.testing.assert_array_equal(obs[:8], env.unwrapped.data.qpos[1:])


def test_ant_formula_uses_torso_position() -> None:
    env = _env("morl/MO-Ant-v2")
    _start(env, {})
    data = env.unwrapped.data
    torso = env.unwrapped.model.body("torso").id
    before = data.xpos[torso, :2].copy()
    action = np.array([0.5, -0.5, 1.0, 2.0, 0.0, 0.0, 0.1, -0.1], dtype=np.float32)
    _, reward, terminated, _, _ = env.step(action)
    velocity = (data.xpos[torso, :2] - before) / 0.05
    energy = 0.25 + 0.25 + 1.0 + 1.0 + 0.0 + 0.0 + 0.01 + 0.01
    common = 1.0 - 0.5 * energy
    np.testing.assert_allclose(reward, velocity + common, rtol=1e-5, atol=1e-6)
    assert not terminated


@pytest.mark.parametrize("problem_id", ["morl/MO-Hopper-v2", "morl/MO-Hopper-v3"])
def test_hopper_formulas(problem_id: str) -> None:
    env = _env(problem_id)
    _start(env, {0: 0.3, 1: 1.4})
    action = np.array([1.0, -3.0, 5.0], dtype=np.float32)  # clipped to [1, -2, 4]
    _, reward, _, _, _ = env.step(action)
    qpos = env.unwrapped.data.qpos
    vx = (qpos[0] - 0.3) / 0.01
    energy = 1.0 + 4.0 + 16.0
    if problem_id.endswith("v2"):
        common = 1.0 - 2e-4 * energy
        expected = [1.5 * vx + common, 12.0 * (qpos[1] - 1.25) + common]
    else:
        expected = [1.5 * vx + 1.0, 12.0 * (qpos[1] - 1.25) + 1.0, 4.0 - energy + 1.0]
    np.testing.assert_allclose(reward, expected, rtol=1e-5)


def test_humanoid_formula_clamped_energy_and_mass_center() -> None:
    env = _env("morl/MO-Humanoid-v2")
    model, data = env.unwrapped.model, env.unwrapped.data
    mass = model.body_mass

    def com_x() -> float:
        return float(mass @ data.xipos[:, 0] / mass.sum())

    before = com_x()
    action = np.full(17, 0.1, dtype=np.float32)
    action[0] = 1.0  # outside the control range: not clipped in step; the energy term clamps it
    _, reward, _, _, _ = env.step(action)
    vx = (com_x() - before) / 0.015
    energy = 16 * 0.01 + 0.4**2  # as MuJoCo 2.0's in-place clamp of data.ctrl made the original see it
    np.testing.assert_allclose(reward, [1.25 * vx + 3.0, 3.0 - 4.0 * energy + 3.0], rtol=1e-5)
    np.testing.assert_allclose(data.ctrl, action.astype(np.float64))  # MuJoCo clamps internally


def _state(qpos: np.ndarray) -> State:
    qpos = np.atleast_2d(qpos)
    return State(qpos, np.zeros_like(qpos), {})


@pytest.mark.parametrize(
    ("problem_id", "index", "values", "expected"),
    [
        (
            "MO-HalfCheetah-v2",
            2,
            [0.0, np.deg2rad(49.9), -np.deg2rad(49.9), np.deg2rad(50.0), -1.0, np.nan],
            [False, False, False, True, True, True],
        ),
        ("MO-Walker2d-v2", 1, [1.25, 0.81, 0.8, 1.99, 2.0], [False, False, True, False, True]),
        ("MO-Walker2d-v2", 2, [0.0, 0.99, 1.0, -0.99, -1.0], [False, False, True, False, True]),
        ("MO-Hopper-v2", 1, [1.25, 0.41, 0.4, 5.0], [False, False, True, False]),
        ("MO-Hopper-v3", 4, [0.0, np.deg2rad(89.9), np.deg2rad(90.0), -np.deg2rad(91)], [False, False, True, True]),
        ("MO-Humanoid-v2", 2, [1.4, 1.0, 0.99, 2.0, 2.01], [False, False, True, False, True]),
        ("MO-Ant-v2", 2, [0.75, -5.0, np.inf, np.nan], [False, False, True, True]),
        ("MO-Swimmer-v2", 2, [0.0, 100.0, -100.0], [False, False, False]),
    ],
)
def test_termination_boundaries(problem_id: str, index: int, values: list[float], expected: list[bool]) -> None:
    problem = morl.get_problem(problem_id)
    env = gym.make(problem.id)
    qpos = np.tile(env.unwrapped.model.qpos0, (len(values), 1))
    qpos[:, index] = values
    np.testing.assert_array_equal(problem.terminated(_state(qpos)), expected)


def test_env_terminates_when_unhealthy() -> None:
    env = _env("morl/MO-Hopper-v2")
    qpos = env.unwrapped.model.qpos0.copy()
    qpos[1] = 0.3  # below 0.4
    env.unwrapped.set_state(qpos, np.zeros(6))
    _, _, terminated, truncated, _ = env.step(np.zeros(3, dtype=np.float32))
    assert terminated and not truncated


@pytest.mark.parametrize(("problem_id", "horizon"), [("morl/MO-Swimmer-v2", 500), ("morl/MO-Ant-v2", 500)])
def test_truncation_at_time_limit(problem_id: str, horizon: int) -> None:
    env = gym.make(problem_id)
    env.reset(seed=0)
    zero = np.zeros(env.action_space.shape, dtype=np.float32)
    for t in range(1, horizon + 1):
        _, _, terminated, truncated, _ = env.step(zero)
        assert not terminated
        assert truncated == (t == horizon)


def test_humanoid_horizon_is_1000() -> None:
    assert gym.spec("morl/MO-Humanoid-v2").max_episode_steps == 1000
    assert morl.get_problem("MO-Humanoid-v2").max_episode_steps == 1000
