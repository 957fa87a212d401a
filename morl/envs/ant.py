"""MO-Ant-v2: run along x vs. run along y."""

from __future__ import annotations

import numpy as np

from morl.envs.base import MOMujocoEnv
from morl.envs.problem import ModelConstants, Problem, sum_of_squares
from morl.envs.state import State

TORSO = 1  # body id of the torso


def observation(s: State) -> np.ndarray:
    return np.concatenate([s.qpos[:, 2:], s.qvel], axis=1)


def objectives(
    before: State, after: State, ctrl: np.ndarray, c: ModelConstants
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    # The original reads the torso body position (``get_body_com``, i.e. data.xpos) after mj_step.
    velocity = (after.extras["xpos"][:, TORSO, :2] - before.extras["xpos"][:, TORSO, :2]) / c.dt
    energy = sum_of_squares(ctrl)
    common = 1.0 - 0.5 * energy
    rewards = velocity + common[:, None]
    return rewards, {"x_velocity": velocity[:, 0], "y_velocity": velocity[:, 1], "ctrl_sq_sum": energy}


def terminated(s: State) -> np.ndarray:
    return ~(np.all(np.isfinite(s.qpos), axis=1) & np.all(np.isfinite(s.qvel), axis=1))


PROBLEM = Problem(
    name="MO-Ant-v2",
    robot="ant",
    frame_skip=5,
    max_episode_steps=500,
    objective_names=("x_velocity", "y_velocity"),
    reward_low=(-np.inf, -np.inf),
    reward_high=(np.inf, np.inf),
    observation=observation,
    objectives=objectives,
    terminated=terminated,
    extra_fields=("xpos",),
    paper_budget=48_000_000,
)


class MOAntEnv(MOMujocoEnv):
    """Quadruped: run along x vs. run along y (PGMORL's MO-Ant-v2).

    ## Observation (27, float64)
    ``qpos[2:]`` (torso height, orientation quaternion, eight joint angles) then ``qvel`` (14).
    No contact forces.

    ## Action (8, float32)
    Hip and ankle torques in [-1, 1], clipped inside ``step``. Motor gear 100 (standard 150).

    ## Objectives (maximised), per step; c = 1 - 0.5·Σa² (clipped action)
    | # | name | formula |
    |---|---|---|
    | 0 | x_velocity | vx_torso + c |
    | 1 | y_velocity | vy_torso + c |

    vx_torso, vy_torso: displacement of the torso body position over the step / dt.
    ``info``: ``x_velocity``, ``y_velocity``, ``ctrl_sq_sum``.

    ## Episode
    Terminates only when the state (qpos, qvel) is not finite (no height check); truncated after
    500 steps. dt = 0.01 × 5 = 0.05 s (RK4). Deterministic reset: qpos0, zero velocity.

    ## Relation to the original
    Same as PGMORL's ``MO-Ant-v2`` on MuJoCo 2.0: gymnasium's Ant model with gear 100 on all
    eight motors, capsule masses and inertias as MuJoCo 2.0 computed them (total 0.8787, where
    today's compiler gives 0.911; the torso sphere is unchanged, 0.32725) and contact margins
    combined as MuJoCo 2.x did: the larger of the two geoms' 0.01, so the ant stands on a 1 cm
    cushion (today's MuJoCo adds them: 2 cm). See :mod:`morl.envs.mujoco20`.
    """

    problem = PROBLEM
