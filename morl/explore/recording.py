"""What an explorer page shows, recorded in Python: the robot's kinematic tree and shapes, and one
deterministic episode per preference (its return vector and its joint positions at every step).

Why joint positions and not body poses: the page rebuilds every body's pose from ``qpos`` with
MuJoCo's own forward-kinematics rule (``explorer.js``; a test holds it to MuJoCo's ``xpos`` and
``xquat``), which is 6-24 numbers per step instead of 7 per body. A two-objective page of 21
HalfCheetah episodes is then ~1 MB; body poses would be ~6 MB, past the page's 5 MB budget.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Protocol

import mujoco
import numpy as np

from morl.envs.catalog import get_problem
from morl.envs.registration import make
from morl.evaluation import run_episode
from morl.pareto import non_dominated
from morl.preferences import simplex_grid, validate_preference


class PolicySource(Protocol):
    """What the explorer needs of a trained set: a policy for any preference (an agent, a
    pretrained set)."""

    problem_id: str
    m: int

    def policy_for(self, preference: Any) -> Any: ...


@dataclass(frozen=True)
class View:
    """An orthographic camera, as MuJoCo's free camera names it (degrees), the vertical extent
    of the view in metres and the height it looks at (the camera follows the robot across the
    floor, not up and down)."""

    azimuth: float
    elevation: float
    extent: float
    height: float


# Planar robots from the side (x to the right, z up), the swimmer from above (it moves in the
# floor's plane), the 3-D robots from an oblique angle so that their legs do not hide each other.
VIEWS = {
    "swimmer": View(azimuth=90.0, elevation=-90.0, extent=3.0, height=0.0),
    "half_cheetah": View(azimuth=90.0, elevation=0.0, extent=2.6, height=0.4),
    "walker2d": View(azimuth=90.0, elevation=0.0, extent=3.0, height=1.0),
    "hopper": View(azimuth=90.0, elevation=0.0, extent=3.0, height=1.0),
    "ant": View(azimuth=120.0, elevation=-30.0, extent=4.0, height=0.5),
    "humanoid": View(azimuth=120.0, elevation=-10.0, extent=3.0, height=1.0),
}

_JOINTS = {mujoco.mjtJoint.mjJNT_FREE: "free", mujoco.mjtJoint.mjJNT_BALL: "ball",
           mujoco.mjtJoint.mjJNT_SLIDE: "slide", mujoco.mjtJoint.mjJNT_HINGE: "hinge"}  # fmt: skip
_GEOMS = {mujoco.mjtGeom.mjGEOM_PLANE: "plane", mujoco.mjtGeom.mjGEOM_SPHERE: "sphere",
          mujoco.mjtGeom.mjGEOM_CAPSULE: "capsule"}  # fmt: skip


def _floats(values: np.ndarray, digits: int = 6) -> list[float]:
    return [round(float(v), digits) for v in np.ravel(values)]


def kinematics(model: mujoco.MjModel) -> dict[str, Any]:
    """The model's kinematic tree and shapes, as the page's renderer reads them: every body's
    parent and offset, its joints (type, ``qpos`` address, anchor, axis, ``qpos0``), every geom's
    body, shape, size, offset and colour (its material's where it has one). Shapes other than
    planes, spheres and capsules (all the benchmark's robots use) are refused: the page's
    orthographic drawing is exact for those only."""
    bodies = []
    for b in range(model.nbody):
        joints = []
        for j in range(model.body_jntadr[b], model.body_jntadr[b] + model.body_jntnum[b]):
            kind = _JOINTS[mujoco.mjtJoint(model.jnt_type[j])]
            address = int(model.jnt_qposadr[j])
            width = {"free": 7, "ball": 4}.get(kind, 1)
            joints.append({"type": kind, "qposadr": address, "pos": _floats(model.jnt_pos[j]),
                           "axis": _floats(model.jnt_axis[j]),
                           "qpos0": _floats(model.qpos0[address : address + width])})  # fmt: skip
        bodies.append({"name": model.body(b).name, "parent": int(model.body_parentid[b]),
                       "pos": _floats(model.body_pos[b]), "quat": _floats(model.body_quat[b]),
                       "joints": joints})  # fmt: skip
    geoms = []
    for g in range(model.ngeom):
        shape = _GEOMS.get(mujoco.mjtGeom(model.geom_type[g]))
        if shape is None:
            raise ValueError(f"geom {model.geom(g).name!r} is a {mujoco.mjtGeom(model.geom_type[g]).name}: "
                             "the explorer draws planes, spheres and capsules only")  # fmt: skip
        material = model.geom_matid[g]
        rgba = model.mat_rgba[material] if material >= 0 else model.geom_rgba[g]
        geoms.append({"body": int(model.geom_bodyid[g]), "type": shape, "size": _floats(model.geom_size[g]),
                      "pos": _floats(model.geom_pos[g]), "quat": _floats(model.geom_quat[g]),
                      "rgba": _floats(rgba, 3)})  # fmt: skip
    return {"nq": int(model.nq), "bodies": bodies, "geoms": geoms}


def encode(array: np.ndarray) -> str:
    """Little-endian float32, base64: how the page receives ``qpos`` (``Float32Array`` decodes it)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def decode(text: str, width: int) -> np.ndarray:
    """:func:`encode`'s inverse, as rows of ``width``."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(-1, width)


@dataclass(frozen=True)
class Episode:
    """One deterministic episode of the policy for ``preference``: the joint positions of its
    every state (the reset state first) and its undiscounted return vector."""

    preference: np.ndarray
    returns: np.ndarray
    qpos: np.ndarray  # (steps + 1, nq), float32

    def to_dict(self) -> dict[str, Any]:
        return {"preference": _floats(self.preference), "returns": _floats(self.returns, 3),
                "steps": len(self.qpos) - 1, "qpos": encode(self.qpos)}  # fmt: skip


def record_episode(env: Any, policy: Any, seed: int) -> Episode:
    """Run ``policy`` (deterministic actions) from ``env.reset(seed=seed)`` to the episode's end,
    keeping ``qpos`` after every step."""
    data = env.unwrapped.data
    poses: list[np.ndarray] = []
    total = run_episode(env, policy, seed=seed, observe=lambda: poses.append(data.qpos.astype(np.float32)))
    return Episode(np.asarray(policy.preference, dtype=np.float64), total, np.stack(poses))


def preference_grid(m: int, points: int) -> np.ndarray:
    """The preferences a page records: ``points`` evenly spaced for two objectives (21: steps of
    0.05), the simplex at steps of ``1/(points - 1)`` for more (11: the 0.1-step simplex, 66
    preferences for three)."""
    if points < 2:
        raise ValueError(f"grid={points}: expected at least 2 preferences per objective")
    return simplex_grid(m, points - 1)


def record(source: PolicySource, *, grid: int, seed: int, extra: np.ndarray | None = None) -> dict[str, Any]:
    """Everything a page shows: the problem, its kinematics and view, and one episode per
    preference of the grid (plus ``extra``, validated, when it is not on the grid)."""
    problem = get_problem(source.problem_id)
    preferences = preference_grid(source.m, grid)
    if extra is not None:
        chosen = validate_preference(extra, source.m, name="--preference")
        if not np.any(np.all(np.isclose(preferences, chosen, atol=1e-9), axis=1)):
            preferences = np.vstack([preferences, chosen])
    env = make(problem.id)
    try:
        episodes = [record_episode(env, source.policy_for(p), seed) for p in preferences]
        model = env.unwrapped.model  # type: ignore[attr-defined]
        frame_dt = float(model.opt.timestep) * problem.frame_skip
        kin = kinematics(model)
    finally:
        env.close()
    returns = np.array([e.returns for e in episodes])
    view = VIEWS[problem.robot]
    return {
        "problem": problem.name,
        "objectives": list(problem.objective_names),
        "frame_dt": frame_dt,
        "seed": seed,
        "view": {"azimuth": view.azimuth, "elevation": view.elevation, "extent": view.extent, "height": view.height},
        "kinematics": kin,
        "episodes": [e.to_dict() for e in episodes],
        "non_dominated": [bool(x) for x in non_dominated(returns)],
    }
