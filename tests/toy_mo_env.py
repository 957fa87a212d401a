"""A tiny multi-objective env outside the benchmark, for the generic evaluation path."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class ToyMOEnv(gym.Env[np.ndarray, np.ndarray]):
    """Two objectives: r = (a, 1 - a) for the action a in [0, 1]; 5 steps per episode."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(0.0, 5.0, shape=(1,), dtype=np.float64)
        self.action_space = gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        self.reward_space = gym.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
        self.reward_dim = 2
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._t = 0
        return np.zeros(1), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, bool, dict]:
        self._t += 1
        a = float(np.clip(action[0], 0.0, 1.0))
        return np.array([float(self._t)]), np.array([a, 1.0 - a], dtype=np.float32), self._t >= 5, False, {}


if "test/ToyMO-v0" not in gym.registry:
    gym.register(id="test/ToyMO-v0", entry_point=ToyMOEnv, disable_env_checker=True)
