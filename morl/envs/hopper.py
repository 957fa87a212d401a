"""MO-Hopper-v2 (speed vs. jump height) and MO-Hopper-v3 (speed, jump height, energy)."""

from __future__ import annotations

import numpy as np

from morl.envs.base import MOMujocoEnv
from morl.envs.problem import ModelConstants, Problem, forward_velocity, sum_of_squares
from morl.envs.state import State

INITIAL_HEIGHT = 1.25  # qpos0 of the root z joint
MAX_ANGLE = np.deg2rad(90.0)


def observation(s: State) -> np.ndarray:
    return np.concatenate([s.qpos[:, 1:], np.minimum(np.maximum(s.qvel, -10.0), 10.0)], axis=1)


def _terms(before: State, after: State, ctrl: np.ndarray, c: ModelConstants) -> dict[str, np.ndarray]:
    return {
        "x_velocity": forward_velocity(before, after, c),
        "height": after.qpos[:, 1].copy(),
        "ctrl_sq_sum": sum_of_squares(ctrl),
    }


def objectives_v2(
    before: State, after: State, ctrl: np.ndarray, c: ModelConstants
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    t = _terms(before, after, ctrl, c)
    common = 1.0 - 2e-4 * t["ctrl_sq_sum"]
    rewards = np.column_stack([1.5 * t["x_velocity"] + common, 12.0 * (t["height"] - INITIAL_HEIGHT) + common])
    return rewards, t


def objectives_v3(
    before: State, after: State, ctrl: np.ndarray, c: ModelConstants
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    t = _terms(before, after, ctrl, c)
    rewards = np.column_stack(
        [
            1.5 * t["x_velocity"] + 1.0,
            12.0 * (t["height"] - INITIAL_HEIGHT) + 1.0,
            4.0 - t["ctrl_sq_sum"] + 1.0,
        ]
    )
    return rewards, t


def terminated(s: State) -> np.ndarray:
    healthy = (s.qpos[:, 1] > 0.4) & np.all(np.abs(s.qpos[:, 2:6]) < MAX_ANGLE, axis=1)
    return ~healthy


_COMMON = dict(
    robot="hopper",
    frame_skip=5,
    max_episode_steps=500,
    observation=observation,
    terminated=terminated,
    paper_budget=48_000_000,
)

PROBLEM_V2 = Problem(
    name="MO-Hopper-v2",
    objective_names=("forward_speed", "jump_height"),
    reward_low=(-np.inf, -np.inf),
    reward_high=(np.inf, np.inf),
    objectives=objectives_v2,
    **_COMMON,  # type: ignore[arg-type]
)

PROBLEM_V3 = Problem(
    name="MO-Hopper-v3",
    objective_names=("forward_speed", "jump_height", "energy_efficiency"),
    reward_low=(-np.inf, -np.inf, -19.0),
    reward_high=(np.inf, np.inf, 5.0),
    objectives=objectives_v3,
    **{**_COMMON, "paper_budget": 120_000_000},  # type: ignore[arg-type]
)

_HOPPER_DOC = """
    ## Observation (11, float64)
    ``qpos[1:]`` (torso height, angle, three joint angles) then ``clip(qvel, -10, 10)`` (6).

    ## Action (3, float32)
    Thigh, leg, foot torques, clipped inside ``step`` to [-2, -2, -4] .. [2, 2, 4] (the model's
    control range) before the simulation.

    ## Episode
    Terminates unless height qpos[1] > 0.4 and \\|qpos[2:6]\\| < 90° (torso and every joint);
    truncated after 500 steps. dt = 0.002 × 5 = 0.01 s (RK4). Deterministic reset: qpos0 (height
    1.25), zero velocity.

    ## Relation to the original
    The original model differs from gymnasium's Hopper: no joint limits at all, joint damping 40
    (standard 1), control range ±2, ±2, ±4 (standard ±1), foot gear 300 (standard 200). Built
    from gymnasium's local-coordinate ``hopper.xml`` with those edits (the original file uses
    ``coordinate="global"``, which MuJoCo 3 rejects). Masses and inertias are MuJoCo 2.0's
    (capsules weighed as cylinders extended by r/2 per end): body masses 3.53429174 (torso),
    3.92699082, 2.71433605, 5.0893801, total 15.265, where today's compiler gives 15.82. Contacts
    use MuJoCo 2.x's margin rule (the larger of the two geoms' margins, 0.001; today's MuJoCo
    would add them). See :mod:`morl.envs.mujoco20`.
"""


class MOHopperEnv(MOMujocoEnv):
    __doc__ = (
        """One-legged hopper: run forward vs. jump high (PGMORL's MO-Hopper-v2).

    ## Objectives (maximised), per step; c = 1 - 2e-4·Σa² (clipped action)
    | # | name | formula |
    |---|---|---|
    | 0 | forward_speed | 1.5·vx + c |
    | 1 | jump_height | 12·(height - 1.25) + c |

    ``info``: ``x_velocity``, ``height``, ``ctrl_sq_sum``.
"""
        + _HOPPER_DOC
    )

    problem = PROBLEM_V2


class MOHopper3Env(MOMujocoEnv):
    __doc__ = (
        """One-legged hopper with three objectives: speed, jump height, energy (MO-Hopper-v3).

    ## Objectives (maximised), per step
    | # | name | formula |
    |---|---|---|
    | 0 | forward_speed | 1.5·vx + 1 |
    | 1 | jump_height | 12·(height - 1.25) + 1 |
    | 2 | energy_efficiency | 4 - Σa² + 1 (clipped action), in [-19, 5] |

    ``info``: ``x_velocity``, ``height``, ``ctrl_sq_sum``.
"""
        + _HOPPER_DOC
    )

    problem = PROBLEM_V3
