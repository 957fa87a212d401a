"""Stable-Baselines3 on morl's fast vector env: a scalarised SB3 ``VecEnv`` adapter.

SB3's own ``DummyVecEnv`` steps one Python env at a time; this adapter steps all envs of a
:class:`morl.MOVectorEnv` at once (physics in worker processes) and scalarises the reward vector
with a preference, ω·r. SB3's conventions hold: same-step autoreset with the last observation of an
ended episode in ``info["terminal_observation"]``, ``info["TimeLimit.truncated"]`` true when the
episode was cut by the time limit and not terminated (so SB3 bootstraps it), ``info["episode"]``
for SB3's episode statistics (``"r"`` the scalarised return, ``"l"`` the length, ``"r_vector"`` the
return vector). Env ``i`` seeded with ``seed + i`` (``VecEnv.seed``, which SB3 calls with the
model's seed) gives the transitions of ``DummyVecEnv`` over ``morl.make(id, preference=ω)`` envs
seeded the same way (a test checks it).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from morl.envs.vector import MOVectorEnv
from morl.preferences import PreferenceLike, validate_preference


class ScalarizedVecEnv(VecEnv):
    """``num_envs`` copies of ``problem_id`` for SB3, rewarding ω·r."""

    def __init__(self, problem_id: str, preference: PreferenceLike, num_envs: int, *, seed: int | None = None,
                 workers: int | None = None) -> None:  # fmt: skip
        self.venv = MOVectorEnv(problem_id, num_envs, workers=workers)
        self.preference = validate_preference(preference, self.venv.reward_dim)
        self.render_mode = None
        super().__init__(num_envs, self.venv.single_observation_space, self.venv.single_action_space)
        self._actions: np.ndarray | None = None
        self._started = time.perf_counter()
        self._finished: list[np.ndarray] = []
        if seed is not None:
            self.seed(seed)

    def reset(self) -> np.ndarray:
        seeds = list(self._seeds)
        obs, _ = self.venv.reset(seed=seeds if any(s is not None for s in seeds) else None)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        obs, vector, terminated, truncated, info = self.venv.step(self._actions)
        self._actions = None
        rewards = (vector @ self.preference).astype(np.float32)
        dones = terminated | truncated
        cut = truncated & ~terminated
        infos: list[dict[str, Any]] = [{"TimeLimit.truncated": bool(cut[i])} for i in range(self.num_envs)]
        if dones.any():
            elapsed = round(time.perf_counter() - self._started, 6)
            episode = info["morl_episode"]
            for i in np.flatnonzero(dones):
                infos[i]["terminal_observation"] = info["final_obs"][i]
                infos[i]["episode"] = {"r": float(episode["r"][i] @ self.preference), "l": int(episode["l"][i]),
                                       "t": elapsed, "r_vector": episode["r"][i].copy()}  # fmt: skip
                self._finished.append(episode["r"][i].astype(np.float64))
        return obs, rewards, dones, infos

    def drain_episodes(self) -> list[np.ndarray]:
        """The return vectors of the episodes that ended since the last call."""
        finished, self._finished = self._finished, []
        return finished

    def close(self) -> None:
        self.venv.close()

    # SB3 asks these of any VecEnv; the envs here are one batched env, not separate objects.
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = (
            getattr(self, attr_name) if attr_name in ("render_mode", "preference") else getattr(self.venv, attr_name)
        )
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"ScalarizedVecEnv does not set attributes of its envs (asked for {attr_name!r})")

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:  # fmt: skip
        raise AttributeError(f"ScalarizedVecEnv does not call methods of single envs (asked for {method_name!r})")

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]
