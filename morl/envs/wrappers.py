"""Turning a multi-objective problem into an ordinary single-reward gymnasium env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import RecordConstructorArgs

from morl.preferences import PreferenceLike, validate_preference


class LinearScalarization(gym.Wrapper[np.ndarray, np.ndarray, np.ndarray, np.ndarray], RecordConstructorArgs):
    """Reward ω·r as a Python float, for single-objective code such as Stable-Baselines3.

    ``preference`` is validated and normalised to sum to 1 (see
    :func:`morl.preferences.validate_preference`). ``info`` gains ``"vector_reward"`` (the
    objective vector) and ``"preference"``, fresh copies each step (gymnasium's ``check_env``
    rejects an ``info`` that shares arrays between steps).
    """

    def __init__(self, env: gym.Env[np.ndarray, np.ndarray], preference: PreferenceLike) -> None:
        reward_dim = getattr(env.unwrapped, "reward_dim", None)
        if reward_dim is None:
            raise TypeError(f"{env} has no reward_dim: LinearScalarization needs a multi-objective env")
        weights = validate_preference(preference, int(reward_dim))
        RecordConstructorArgs.__init__(self, preference=tuple(float(w) for w in weights))
        gym.Wrapper.__init__(self, env)
        self.preference = weights

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, vector_reward, terminated, truncated, info = self.env.step(action)
        info = {**info, "vector_reward": np.array(vector_reward, copy=True), "preference": self.preference.copy()}
        return obs, float(np.dot(self.preference, np.asarray(vector_reward))), terminated, truncated, info
