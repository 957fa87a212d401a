"""The gymnasium envs: MO-Gymnasium's contract, determinism, pickling, bad input."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import morl
from tests.conftest import random_actions

OBS_DIM = {
    "morl/MO-Swimmer-v2": 8,
    "morl/MO-HalfCheetah-v2": 17,
    "morl/MO-Walker2d-v2": 17,
    "morl/MO-Ant-v2": 27,
    "morl/MO-Hopper-v2": 11,
    "morl/MO-Hopper-v3": 11,
    "morl/MO-Humanoid-v2": 376,
}
REWARD_DIM = {pid: 3 if pid.endswith("Hopper-v3") else 2 for pid in OBS_DIM}


def test_all_seven_registered() -> None:
    assert sorted(morl.PROBLEM_IDS) == sorted(OBS_DIM)
    for pid in OBS_DIM:
        assert pid in gym.registry


def test_spaces_and_horizon(problem_id: str) -> None:
    env = gym.make(problem_id)
    assert env.observation_space.shape == (OBS_DIM[problem_id],)
    assert env.unwrapped.reward_dim == REWARD_DIM[problem_id]
    assert env.unwrapped.reward_space.shape == (REWARD_DIM[problem_id],)
    assert len(env.unwrapped.objective_names) == REWARD_DIM[problem_id]
    assert env.spec is not None
    assert env.spec.max_episode_steps == (1000 if "Humanoid" in problem_id else 500)


@pytest.mark.filterwarnings("ignore:.*is different from the unwrapped version")
@pytest.mark.filterwarnings("ignore:.*symmetric and normalized space")
def test_gymnasium_check_env_through_scalarisation(problem_id: str) -> None:
    env = morl.make(problem_id, preference=np.ones(REWARD_DIM[problem_id]))
    check_env(env, skip_render_check=True)


def test_vector_reward_in_reward_space_and_fresh_info(problem_id: str) -> None:
    env = gym.make(problem_id)
    env.reset(seed=3)
    space = env.unwrapped.reward_space
    previous_info = None
    for action in random_actions(env.action_space, 60, seed=1):
        _, reward, terminated, truncated, info = env.step(action)
        assert isinstance(reward, np.ndarray) and reward.dtype == np.float32
        assert reward.shape == (REWARD_DIM[problem_id],)
        assert space.contains(reward), reward
        assert "x_velocity" in info and "ctrl_sq_sum" in info
        assert info is not previous_info
        previous_info = info
        if terminated or truncated:
            env.reset()


def _rollout(env: gym.Env, seed: int, actions: np.ndarray) -> list[tuple]:
    out = [tuple(env.reset(seed=seed)[0])]
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        out.append((obs.tobytes(), reward.tobytes(), terminated, truncated))
        if terminated or truncated:
            out.append(env.reset()[0].tobytes())
    return out


def test_same_seed_same_rollout(problem_id: str) -> None:
    env_a, env_b = gym.make(problem_id), gym.make(problem_id)
    actions = random_actions(env_a.action_space, 80, seed=2)
    assert _rollout(env_a, 7, actions) == _rollout(env_b, 7, actions)


def test_resets_deterministic_except_humanoid(problem_id: str) -> None:
    env = gym.make(problem_id)
    first, _ = env.reset(seed=1)
    second, _ = env.reset(seed=2)
    if "Humanoid" in problem_id:
        assert not np.array_equal(first, second)
        model = env.unwrapped.model
        qpos = env.unwrapped.data.qpos
        assert np.all(np.abs(qpos - model.qpos0) <= 0.01)
        assert np.any(qpos != model.qpos0)
    else:
        np.testing.assert_array_equal(first, second)
        np.testing.assert_array_equal(env.unwrapped.data.qpos, env.unwrapped.model.qpos0)
        np.testing.assert_array_equal(env.unwrapped.data.qvel, 0.0)


def test_pickle_continues_identically(problem_id: str) -> None:
    env = gym.make(problem_id)
    env.reset(seed=5)
    actions = random_actions(env.action_space, 30, seed=4)
    for action in actions[:10]:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    clone = pickle.loads(pickle.dumps(env))
    for action in actions[10:]:
        a = env.step(action)
        b = clone.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert a[2:4] == b[2:4]
        if a[2] or a[3]:
            np.testing.assert_array_equal(env.reset()[0], clone.reset()[0])


def test_humanoid_contact_force_block_is_zero() -> None:
    env = gym.make("morl/MO-Humanoid-v2")
    env.reset(seed=0)
    for action in random_actions(env.action_space, 10, seed=0):
        obs, *_ = env.step(action)
        np.testing.assert_array_equal(obs[-84:], 0.0)
        assert np.any(obs[-84 - 23 : -84] != 0.0)  # qfrc_actuator is filled


def test_action_of_wrong_shape_rejected() -> None:
    env = gym.make("morl/MO-Hopper-v2")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action has shape \(2,\); MO-Hopper-v2 expects shape \(3,\)"):
        env.step(np.zeros(2))
    with pytest.raises(ValueError, match="NaN or infinite"):
        env.step(np.array([0.0, np.nan, 0.0]))


@pytest.mark.parametrize("bad", ["morl/MO-Spider-v1", "MO-Hopper-v9", ""])
def test_unknown_id_lists_valid_ones(bad: str) -> None:
    with pytest.raises(ValueError, match=r"is unknown; expected one of: morl/MO-Swimmer-v2, .*MO-Humanoid-v2"):
        morl.make(bad)
    with pytest.raises(ValueError, match="is unknown"):
        morl.make_vec(bad, 2)


def test_plain_names_accepted() -> None:
    assert morl.get_problem("MO-Ant-v2") is morl.get_problem("morl/MO-Ant-v2")


def test_import_does_not_load_torch() -> None:
    import subprocess
    import sys

    code = "import sys, morl, gymnasium; gymnasium.make('morl/MO-Swimmer-v2'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_docstrings_document_each_env(problem_id: str) -> None:
    doc = type(gym.make(problem_id).unwrapped).__doc__ or ""
    for section in ("## Observation", "## Action", "## Objectives", "## Episode", "## Relation to the original"):
        assert section in doc, (problem_id, section)
