"""MO-Swimmer-v2: swim forward fast vs. save energy."""

from __future__ import annotations

import numpy as np

from morl.envs.base import MOMujocoEnv
from morl.envs.problem import ModelConstants, Problem, forward_velocity, never, sum_of_squares
from morl.envs.state import State


def observation(s: State) -> np.ndarray:
    return np.concatenate([s.qpos[:, 2:], s.qvel], axis=1)


def objectives(
    before: State, after: State, ctrl: np.ndarray, c: ModelConstants
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    vx = forward_velocity(before, after, c)
    energy = sum_of_squares(ctrl)
    return np.column_stack([vx, 0.3 - 0.15 * energy]), {"x_velocity": vx, "ctrl_sq_sum": energy}


PROBLEM = Problem(
    name="MO-Swimmer-v2",
    robot="swimmer",
    frame_skip=4,
    max_episode_steps=500,
    objective_names=("forward_speed", "energy_efficiency"),
    reward_low=(-np.inf, 0.0),
    reward_high=(np.inf, 0.3),
    observation=observation,
    objectives=objectives,
    terminated=never,
    paper_budget=12_000_000,
)


class MOSwimmerEnv(MOMujocoEnv):
    """Three-link swimmer in a viscous fluid: speed vs. energy (PGMORL's MO-Swimmer-v2).

    ## Observation (8, float64)
    ``qpos[2:]`` (body angle and the two joint angles) then ``qvel`` (5). The x, y position are
    excluded.

    ## Action (2, float32)
    Torques of the two joints in [-1, 1]; clipped to that range inside ``step`` before the
    simulation. Motor gear 300 (standard Swimmer: 150).

    ## Objectives (maximised), per step
    | # | name | formula |
    |---|---|---|
    | 0 | forward_speed | vx = (x_after - x_before) / dt, x = qpos[0] |
    | 1 | energy_efficiency | 0.3 - 0.15·Σa² (clipped action), in [0, 0.3] |

    ``info``: ``x_velocity``, ``ctrl_sq_sum``.

    ## Episode
    Never terminates; truncated after 500 steps. dt = 0.01 × 4 = 0.04 s (RK4).
    Deterministic reset: qpos0, zero velocity.

    ## Relation to the original
    Same formulas, observation and horizon as PGMORL's ``MO-Swimmer-v2`` (gym 0.15, mujoco-py).
    The original model disabled collisions with ``collision="predefined"`` (removed from MuJoCo);
    here every geom has contype = conaffinity = 0, which is equivalent. Masses and inertias are
    MuJoCo 2.0's (a capsule weighed as a cylinder extended by r/2 per end): total 103.67, where
    today's compiler gives 106.81 (:mod:`morl.envs.mujoco20`).
    """

    problem = PROBLEM
