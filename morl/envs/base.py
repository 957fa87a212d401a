"""The gymnasium env shared by all seven problems (MO-Gymnasium's conventions)."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from morl.envs.problem import Problem
from morl.envs.simulator import Simulator
from morl.envs.state import allocate_state, field_shapes


def check_actions(actions: Any, expected_shape: tuple[int, ...], problem: Problem) -> np.ndarray:
    """Actions as a float64 array, or a ValueError naming the shape/values and what is expected."""
    array = np.asarray(actions, dtype=np.float64)
    if array.shape != expected_shape:
        raise ValueError(f"action has shape {array.shape}; {problem.name} expects shape {expected_shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"action contains NaN or infinite entries ({array.tolist()}); expected finite values")
    return array


def make_spaces(problem: Problem, sim: Simulator) -> tuple[spaces.Box, spaces.Box, spaces.Box]:
    """Observation, action and reward spaces of one env of ``problem``."""
    model = sim.model
    probe = allocate_state(field_shapes(model, problem.extra_fields), 1)
    obs_dim = problem.observation(probe).shape[1]
    observation_space = spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float64)
    low, high = model.actuator_ctrlrange.T.astype(np.float32)
    action_space = spaces.Box(low=low, high=high, dtype=np.float32)
    reward_space = spaces.Box(
        low=np.array(problem.reward_low, dtype=np.float32),
        high=np.array(problem.reward_high, dtype=np.float32),
        dtype=np.float32,
    )
    return observation_space, action_space, reward_space


class MOMujocoEnv(gym.Env[np.ndarray, np.ndarray]):
    """Base class of the benchmark envs; each subclass sets ``problem`` and documents it.

    ``step`` returns the objective vector as the reward (float32, shape ``(reward_dim,)``);
    ``reward_space`` and ``reward_dim`` are on the unwrapped env (MO-Gymnasium's contract);
    ``info`` is a fresh dict each step holding the terms the objectives are made of.
    The time limit is applied by gymnasium's ``TimeLimit`` (``gymnasium.make`` adds it).
    """

    problem: ClassVar[Problem]
    metadata: dict[str, Any] = {"render_modes": ["rgb_array", "depth_array"], "render_fps": 20}  # noqa: RUF012

    def __init__(self, render_mode: str | None = None, width: int = 480, height: int = 480) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; expected one of {self.metadata['render_modes']} or None"
            )
        self.render_mode = render_mode
        self._width, self._height = width, height
        self._sim = Simulator(self.problem)
        self._constants = self.problem.constants(self._sim.model)
        self._shapes = field_shapes(self._sim.model, self.problem.extra_fields)
        self.observation_space, self.action_space, self.reward_space = make_spaces(self.problem, self._sim)
        self.reward_dim = self.problem.reward_dim
        self._action_shape = (self._sim.model.nu,)
        self.objective_names = self.problem.objective_names
        self._ctrl_low, self._ctrl_high = self._sim.model.actuator_ctrlrange.T.copy()
        self._state = allocate_state(self._shapes, 1)
        self._renderer: Any = None
        self.metadata = {**self.metadata, "render_fps": int(np.round(1.0 / self._constants.dt))}

    @property
    def model(self) -> Any:
        """The compiled ``mujoco.MjModel``."""
        return self._sim.model

    @property
    def data(self) -> Any:
        """The live ``mujoco.MjData``."""
        return self._sim.data

    @property
    def dt(self) -> float:
        return self._constants.dt

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        qpos, qvel = self.problem.initial_state(self._sim.model, self.np_random)
        self._sim.reset_to(qpos, qvel)
        self._sim.write(self._state, 0)
        info = {name: float(value[0]) for name, value in self.problem.positions(self._state).items()}
        return self.problem.observation(self._state)[0], info

    def set_state(self, qpos: Any, qvel: Any) -> None:
        """Put the simulation in state (qpos, qvel), as gymnasium's MujocoEnv.set_state does; the
        next step's objectives are measured from this state."""
        qpos, qvel = np.asarray(qpos, dtype=np.float64), np.asarray(qvel, dtype=np.float64)
        model = self._sim.model
        if qpos.shape != (model.nq,) or qvel.shape != (model.nv,):
            raise ValueError(
                f"qpos, qvel have shapes {qpos.shape}, {qvel.shape}; expected ({model.nq},), ({model.nv},)"
            )
        self._sim.reset_to(qpos, qvel)
        self._sim.write(self._state, 0)

    def step(self, action: Any) -> tuple[np.ndarray, np.ndarray, bool, bool, dict[str, Any]]:
        actions = check_actions(action, self._action_shape, self.problem)[None]
        ctrl = self.problem.control(actions, self._ctrl_low, self._ctrl_high)
        before = self._state
        after = allocate_state(self._shapes, 1)
        self._sim.step(ctrl[0])
        self._sim.write(after, 0)
        self._state = after
        obs, rewards, terminated, terms = self.problem.transition(before, after, ctrl, self._constants)
        info = {name: float(value[0]) for name, value in terms.items()}
        return obs[0], rewards[0].astype(np.float32), bool(terminated[0]), False, info

    def render(self) -> Any:
        """An (height, width, 3) uint8 image (``rgb_array``) or a depth map (``depth_array``) from
        the model's tracking camera when it has one. Needs an OpenGL context: on a machine without
        a display set ``MUJOCO_GL=egl`` (or ``osmesa``) before importing mujoco."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to the constructor")
            return None
        import mujoco

        if self._renderer is None:
            try:
                self._renderer = mujoco.Renderer(self._sim.model, self._height, self._width)
            except Exception as error:  # no OpenGL context: mujoco raises several kinds
                raise RuntimeError(
                    f"rendering needs an OpenGL context ({type(error).__name__}: {error}); "
                    "set MUJOCO_GL=egl or MUJOCO_GL=osmesa"
                ) from None
            if self.render_mode == "depth_array":
                self._renderer.enable_depth_rendering()
        model = self._sim.model
        camera = "track" if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "track") >= 0 else -1
        self._renderer.update_scene(self._sim.data, camera=camera)
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # Pickling: MjData is rebuilt from the problem; the integration state restores it exactly.
    def __getstate__(self) -> dict[str, Any]:
        return {
            "render_mode": self.render_mode,
            "size": (self._width, self._height),
            "np_random": self._np_random,
            "np_random_seed": self._np_random_seed,
            "physics": self._sim.get_full_state(),
            "state": self._state.copy(),
        }

    def __setstate__(self, saved: dict[str, Any]) -> None:
        width, height = saved["size"]
        self.__init__(render_mode=saved["render_mode"], width=width, height=height)  # type: ignore[misc]
        self._np_random = saved["np_random"]
        self._np_random_seed = saved["np_random_seed"]
        self._sim.set_full_state(saved["physics"])
        self._state = saved["state"]
