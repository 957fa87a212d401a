"""morl's envs in their ecosystem: MO-Gymnasium's vector conventions and wrappers, gymnasium's
autoreset modes, make_vec and vector wrappers, warning-free ids."""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from mo_gymnasium.wrappers.vector import MORecordEpisodeStatistics, MOSyncVectorEnv

import morl
from morl.envs.vector import MOVectorEnv


def steer(obs: np.ndarray, action_dim: int) -> np.ndarray:
    """A deterministic policy of the observation, so that episodes match across autoreset modes."""
    weights = np.sin(np.arange(obs.shape[1] * action_dim)).reshape(obs.shape[1], action_dim)
    return np.tanh(obs @ weights)


@pytest.mark.parametrize("problem", ["MO-Hopper-v2", "MO-Swimmer-v2"])
def test_next_step_autoreset_equals_mo_gymnasium_sync_vector_env(problem: str) -> None:
    ours = morl.make_vec(problem, 3, workers=1, autoreset_mode="next_step")
    theirs = MOSyncVectorEnv([lambda: gym.make(f"morl/{problem}") for _ in range(3)])
    assert ours.metadata["autoreset_mode"] == theirs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs_a, _ = ours.reset(seed=7)
    obs_b, _ = theirs.reset(seed=7)
    np.testing.assert_array_equal(obs_a, obs_b)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(1100):
        actions = rng.uniform(-1, 1, size=ours.action_space.shape)
        a, b = ours.step(actions), theirs.step(actions)
        for x, y in zip(a[:4], b[:4], strict=True):
            np.testing.assert_array_equal(x, y)
        ends += int((a[2] | a[3]).sum())
    assert ends >= 3
    ours.close()
    theirs.close()


def test_mo_gymnasium_episode_statistics_on_make_vec() -> None:
    """MO-Gymnasium's vector MORecordEpisodeStatistics reads reward_space as the single (m,) space
    and records the same episode returns as morl's own same-step statistics."""

    def episodes(env: gym.vector.VectorEnv, key: str) -> dict[int, list[np.ndarray]]:
        """The first two episode return vectors of each env, from info[key]."""
        found: dict[int, list[np.ndarray]] = {0: [], 1: []}
        obs, _ = env.reset(seed=3)
        while min(len(v) for v in found.values()) < 2:
            obs, _, _, _, info = env.step(steer(obs, 3))
            for i in np.flatnonzero(info.get(f"_{key}", [])):
                found[int(i)].append(info[key]["r"][i])
        return {i: v[:2] for i, v in found.items()}

    env = MORecordEpisodeStatistics(morl.make_vec("MO-Hopper-v2", 2, workers=1, autoreset_mode="next_step"))
    own = morl.make_vec("MO-Hopper-v2", 2, workers=1)
    recorded, expected = episodes(env, "episode"), episodes(own, "morl_episode")
    for i in (0, 1):
        np.testing.assert_allclose(np.array(recorded[i]), np.array(expected[i]), rtol=1e-4)
    assert env.unwrapped.reward_space.shape == (2,)
    assert own.batched_reward_space.shape == (2, 2)
    env.close()
    own.close()


def test_mo_gymnasium_episode_statistics_on_the_default_make_vec() -> None:
    """Issue 29: MORecordEpisodeStatistics on make_vec's defaults (same-step autoreset). The env
    leaves info["episode"] to the wrapper, as gymnasium's vector envs do (it raised "Attempted to
    add episode stats when they already exist"), and the wrapper's statistics are the returns and
    lengths summed here from the rewards.

    MO-Gymnasium 1.3.2's wrapper assumes next-step autoreset: on the step after an env's episode
    ends it zeroes that env's sums and skips its reward, which with same-step autoreset is the next
    episode's first reward. So the first episode of each env is recorded exactly and each later
    one without its first transition; checked as such, so that a wrapper that changes shows here."""
    num_envs = 4
    env = MORecordEpisodeStatistics(morl.make_vec("MO-Hopper-v2", num_envs))
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    returns = np.zeros((num_envs, 2))
    lengths = np.zeros(num_envs, dtype=np.int64)
    first_reward = np.zeros((num_envs, 2))
    episodes = np.zeros(num_envs, dtype=np.int64)  # ended so far, per env
    for _ in range(3000):  # Hopper under random actions mostly falls within tens of steps
        if episodes.min() >= 2:
            break
        _, rewards, terminated, truncated, info = env.step(rng.uniform(-1, 1, size=(num_envs, 3)))
        first_reward[lengths == 0] = rewards[lengths == 0]
        returns += rewards
        lengths += 1
        done = terminated | truncated
        if not done.any():
            assert "episode" not in info
            continue
        np.testing.assert_array_equal(info["_episode"], done)
        for i in np.flatnonzero(done):
            recorded_r, recorded_l = info["episode"]["r"][i], info["episode"]["l"][i]
            if episodes[i] == 0:  # the wrapper sums in float32
                np.testing.assert_allclose(recorded_r, returns[i], rtol=1e-4, atol=1e-3)
                assert recorded_l == lengths[i]
            else:  # the wrapper's next-step assumption, see the docstring
                np.testing.assert_allclose(recorded_r, returns[i] - first_reward[i], rtol=1e-4, atol=1e-3)
                assert recorded_l == lengths[i] - 1
            # morl's own statistics, under a key of their own, hold the whole episode
            np.testing.assert_allclose(info["morl_episode"]["r"][i], returns[i], rtol=1e-12)
            assert info["morl_episode"]["l"][i] == lengths[i]
        episodes += done
        returns[done], lengths[done] = 0.0, 0
    assert episodes.min() >= 2 and episodes.sum() >= 8, episodes
    assert len(env.return_queue) == min(episodes.sum(), 100)
    env.close()


def test_the_vector_env_puts_no_episode_key_in_info() -> None:
    """gymnasium's convention: ``episode``/``_episode`` belong to RecordEpisodeStatistics; morl's
    own statistics are ``morl_episode``/``_morl_episode`` (same-step autoreset, steps where an
    episode ended)."""
    env = morl.make_vec("MO-Hopper-v2", 2, seed=0, workers=1)
    env.reset()
    keys: set[str] = set()
    for _ in range(200):
        keys |= set(env.step(np.ones((2, 3)))[4])
    assert {"morl_episode", "_morl_episode", "final_obs", "_final_obs"} <= keys
    assert not keys & {"episode", "_episode"}
    env.close()


def test_gymnasium_vector_observation_wrappers_need_next_step() -> None:
    wrapped = gym.wrappers.vector.TransformObservation(
        morl.make_vec("MO-Hopper-v2", 2, workers=1, autoreset_mode="next_step"), lambda o: o * 2.0
    )
    wrapped.reset(seed=0)
    assert wrapped.step(np.zeros((2, 3)))[0].shape == (2, 11)
    wrapped.close()
    same_step = morl.make_vec("MO-Hopper-v2", 2, workers=1)
    with pytest.raises(ValueError, match="Expected autoreset_mode to be NEXT_STEP"):
        gym.wrappers.vector.TransformObservation(same_step, lambda o: o)
    same_step.close()


def test_gymnasium_make_vec_returns_the_fast_vector_env() -> None:
    env = gym.make_vec("morl/MO-Walker2d-v2", num_envs=3, vectorization_mode="vector_entry_point", workers=1)
    assert isinstance(env.unwrapped, MOVectorEnv) and env.num_envs == 3
    reference = morl.make_vec("MO-Walker2d-v2", 3, workers=1)
    np.testing.assert_array_equal(env.reset(seed=1)[0], reference.reset(seed=1)[0])
    actions = np.full((3, 6), 0.3)
    np.testing.assert_array_equal(env.step(actions)[1], reference.step(actions)[1])
    env.close()
    reference.close()
    with pytest.raises(ValueError, match="autoreset_mode='sideways' must be an AutoresetMode"):
        morl.make_vec("MO-Walker2d-v2", 1, autoreset_mode="sideways")


def test_every_id_makes_without_a_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for problem in morl.PROBLEM_IDS:
            gym.make(problem).close()
    code = "import gymnasium as gym, morl\nfor p in morl.PROBLEM_IDS: gym.make(p).close()"
    done = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "problem,keys", [("MO-Hopper-v2", {"x_position"}), ("MO-Ant-v2", {"x_position", "y_position"})]
)
def test_info_reports_positions_on_reset_and_step(problem: str, keys: set[str]) -> None:
    env = gym.make(f"morl/{problem}")
    _, info = env.reset(seed=0)
    assert set(info) == keys
    _, _, _, _, info = env.step(env.action_space.sample())
    assert keys <= set(info)
    venv = morl.make_vec(problem, 2, workers=1)
    venv.reset(seed=0)
    assert keys <= set(venv.step(np.zeros(venv.action_space.shape))[4])
    venv.close()
