"""One MuJoCo simulation of a problem: the only place that touches MjData."""

from __future__ import annotations

import mujoco
import numpy as np

from morl.envs.models import build_model
from morl.envs.problem import Problem
from morl.envs.state import State


class Simulator:
    """An MjModel/MjData pair stepped with the problem's frame skip.

    Stepping calls ``mj_step`` only (as the original mujoco-py envs did), never
    ``mj_rnePostConstraint``: that keeps ``cfrc_ext`` at zero for Humanoid, as in the original.
    """

    def __init__(self, problem: Problem, model: mujoco.MjModel | None = None) -> None:
        self.problem = problem
        self.model = build_model(problem.robot) if model is None else model
        self.data = mujoco.MjData(self.model)

    def reset_to(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Clear the simulation, set the state and recompute derived quantities (mj_forward)."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)

    def step(self, ctrl: np.ndarray) -> None:
        self.data.ctrl[:] = ctrl
        mujoco.mj_step(self.model, self.data, nstep=self.problem.frame_skip)

    def write(self, state: State, row: int) -> None:
        """Copy the current state into row ``row`` of a batched State."""
        data = self.data
        state.qpos[row] = data.qpos
        state.qvel[row] = data.qvel
        for name, array in state.extras.items():
            array[row] = getattr(data, name)

    # Full integration state (incl. warm start), so a restored simulation continues bit-identically.
    STATE_SPEC = mujoco.mjtState.mjSTATE_INTEGRATION

    def get_full_state(self) -> np.ndarray:
        size = mujoco.mj_stateSize(self.model, self.STATE_SPEC)
        out = np.empty(size)
        mujoco.mj_getState(self.model, self.data, out, self.STATE_SPEC)
        return out

    def set_full_state(self, full_state: np.ndarray) -> None:
        mujoco.mj_setState(self.model, self.data, np.asarray(full_state, dtype=np.float64), self.STATE_SPEC)
