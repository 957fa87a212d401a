"""The scalarising wrapper and Stable-Baselines3 on a scalarised problem."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import morl
from morl import LinearScalarization


def test_float_reward_equals_weighted_vector() -> None:
    env = morl.make("MO-Hopper-v3", preference=[1.0, 2.0, 1.0])  # normalised to [.25, .5, .25]
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert type(reward) is float
    np.testing.assert_allclose(info["preference"], [0.25, 0.5, 0.25])
    assert reward == pytest.approx(float(np.dot(info["preference"], info["vector_reward"])))
    _, _, _, _, info2 = env.step(env.action_space.sample())
    assert info2["preference"] is not info["preference"]
    assert info2["vector_reward"] is not info["vector_reward"]


def test_spec_recreates_the_wrapper() -> None:
    env = morl.make("MO-Swimmer-v2", preference=[0.3, 0.7])
    clone = env.spec.make()
    np.testing.assert_allclose(clone.preference, [0.3, 0.7])


@pytest.mark.parametrize(
    ("preference", "message"),
    [
        ([0.5, 0.5, 0.0], r"preference=\[0.5, 0.5, 0.0\] has length 3; expected 2 weights"),
        ([0.5, -0.1], "has negative entries"),
        ([np.nan, 1.0], "has NaN or infinite entries"),
        ([np.inf, 1.0], "has NaN or infinite entries"),
        ([0.0, 0.0], "sums to 0"),
        ("ab", "is not a sequence of numbers"),
    ],
)
def test_bad_preference(preference: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        morl.make("MO-HalfCheetah-v2", preference=preference)


def test_rejects_single_objective_env() -> None:
    with pytest.raises(TypeError, match="multi-objective"):
        LinearScalarization(gym.make("CartPole-v1"), [1.0])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_stable_baselines3_check_env(problem_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env

    env = morl.make(problem_id, preference=np.ones(morl.get_problem(problem_id).reward_dim))
    check_env(env, warn=False)


@pytest.mark.slow
def test_stable_baselines3_ppo_learns_runs() -> None:
    """A short real SB3 PPO run on a scalarised problem (runs, logs, predicts)."""
    from stable_baselines3 import PPO

    env = morl.make("MO-Swimmer-v2", preference=[0.5, 0.5])
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=512)
    assert model.num_timesteps == 512
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)
