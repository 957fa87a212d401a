"""MO-Walker2d-v2: walk fast vs. save energy."""

from __future__ import annotations

import numpy as np

from morl.envs.base import MOMujocoEnv
from morl.envs.problem import ModelConstants, Problem, forward_velocity, sum_of_squares
from morl.envs.state import State


def observation(s: State) -> np.ndarray:
    return np.concatenate([s.qpos[:, 1:], np.minimum(np.maximum(s.qvel, -10.0), 10.0)], axis=1)


def objectives(
    before: State, after: State, ctrl: np.ndarray, c: ModelConstants
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    vx = forward_velocity(before, after, c)
    energy = sum_of_squares(ctrl)
    rewards = np.column_stack([vx + 1.0, 4.0 - energy + 1.0])
    return rewards, {"x_velocity": vx, "ctrl_sq_sum": energy}


def terminated(s: State) -> np.ndarray:
    height, angle = s.qpos[:, 1], s.qpos[:, 2]
    healthy = (height > 0.8) & (height < 2.0) & (angle > -1.0) & (angle < 1.0)
    return ~healthy


PROBLEM = Problem(
    name="MO-Walker2d-v2",
    robot="walker2d",
    frame_skip=4,
    max_episode_steps=500,
    objective_names=("forward_speed", "energy_efficiency"),
    reward_low=(-np.inf, -1.0),
    reward_high=(np.inf, 5.0),
    observation=observation,
    objectives=objectives,
    terminated=terminated,
    paper_budget=30_000_000,
)


class MOWalker2dEnv(MOMujocoEnv):
    """Planar biped: walk forward vs. save energy (PGMORL's MO-Walker2d-v2).

    ## Observation (17, float64)
    ``qpos[1:]`` (torso height, angle, six joint angles) then ``clip(qvel, -10, 10)`` (9).

    ## Action (6, float32)
    Joint torques in [-1, 1], clipped inside ``step`` before the simulation.

    ## Objectives (maximised), per step
    | # | name | formula |
    |---|---|---|
    | 0 | forward_speed | vx + 1, vx = (x_after - x_before) / dt |
    | 1 | energy_efficiency | 4 - Σa² + 1 (clipped action), in [-1, 5] |

    ``info``: ``x_velocity``, ``ctrl_sq_sum``.

    ## Episode
    Terminates unless 0.8 < height < 2.0 and -1 < angle < 1; truncated after 500 steps.
    dt = 0.002 × 4 = 0.008 s (RK4). Deterministic reset: qpos0, zero velocity.

    ## Relation to the original
    The original model differs from gymnasium's Walker2d: joint damping 3.0 (standard 0.1), geom
    density 1500 (standard 1000), feet friction 0.9 (right) / 1.9 (left). Masses and inertias
    are MuJoCo 2.0's (capsules weighed as cylinders extended by r/2 per end): total 34.047,
    where today's compiler gives 35.52 (:mod:`morl.envs.mujoco20`).
    Built from gymnasium's local-coordinate ``walker2d.xml`` with those edits (the original file
    uses ``coordinate="global"``, which MuJoCo 3 rejects).
    """

    problem = PROBLEM
