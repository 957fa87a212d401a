"""Batched physics state: the arrays a problem's observation, objectives and termination read.

Both the single gymnasium env (a batch of one) and the vector env (a batch of ``num_envs``, in
shared memory) hold their state in this one structure, so a problem is written once and used by
both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mujoco
import numpy as np


@dataclass(frozen=True)
class State:
    """The state of a batch of simulations after a step (or after a reset).

    ``extras`` holds copies of further ``MjData`` fields a problem needs (for example ``xipos``
    for Humanoid's centre of mass), read right after ``mj_step`` exactly as the original envs read
    them: MuJoCo computes those quantities at the start of the last sub-step, so they lag ``qpos``
    by one sub-step, as they did in the original code.
    """

    qpos: np.ndarray  # (B, nq)
    qvel: np.ndarray  # (B, nv)
    extras: Mapping[str, np.ndarray]  # name -> (B, *field shape)

    @property
    def batch_size(self) -> int:
        return int(self.qpos.shape[0])

    def copy(self) -> State:
        return State(self.qpos.copy(), self.qvel.copy(), {k: v.copy() for k, v in self.extras.items()})


def field_shapes(model: mujoco.MjModel, extra_fields: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """Shapes (without the batch axis) of qpos, qvel and the extra MjData fields of a model."""
    data = mujoco.MjData(model)
    shapes: dict[str, tuple[int, ...]] = {"qpos": (model.nq,), "qvel": (model.nv,)}
    for name in extra_fields:
        shapes[name] = tuple(np.asarray(getattr(data, name)).shape)
    return shapes


def state_from_arrays(arrays: Mapping[str, np.ndarray]) -> State:
    """A State viewing ``arrays`` (no copy): keys qpos, qvel and the extra fields."""
    extras = {k: v for k, v in arrays.items() if k not in ("qpos", "qvel")}
    return State(arrays["qpos"], arrays["qvel"], extras)


def allocate_state(shapes: Mapping[str, tuple[int, ...]], batch: int) -> State:
    return state_from_arrays({k: np.zeros((batch, *s)) for k, s in shapes.items()})
