"""MO-HalfCheetah-v2: run fast vs. save energy."""

from __future__ import annotations

import numpy as np

from morl.envs.base import MOMujocoEnv
from morl.envs.problem import ModelConstants, Problem, forward_velocity, sum_of_squares
from morl.envs.state import State

MAX_PITCH = np.deg2rad(50.0)


def observation(s: State) -> np.ndarray:
    return np.concatenate([s.qpos[:, 1:], s.qvel], axis=1)


def objectives(
    before: State, after: State, ctrl: np.ndarray, c: ModelConstants
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    vx = forward_velocity(before, after, c)
    energy = sum_of_squares(ctrl)
    rewards = np.column_stack([np.minimum(4.0, vx) + 1.0, 4.0 - energy + 1.0])
    return rewards, {"x_velocity": vx, "ctrl_sq_sum": energy}


def terminated(s: State) -> np.ndarray:
    # Written as "not healthy" so a NaN pitch terminates, as in the original.
    return ~(np.abs(s.qpos[:, 2]) < MAX_PITCH)


PROBLEM = Problem(
    name="MO-HalfCheetah-v2",
    robot="half_cheetah",
    frame_skip=5,
    max_episode_steps=500,
    objective_names=("forward_speed", "energy_efficiency"),
    reward_low=(-np.inf, -1.0),
    reward_high=(5.0, 5.0),
    observation=observation,
    objectives=objectives,
    terminated=terminated,
    paper_budget=30_000_000,
)


class MOHalfCheetahEnv(MOMujocoEnv):
    """Planar cheetah: run forward (speed capped at 4) vs. save energy (PGMORL's MO-HalfCheetah-v2).

    ## Observation (17, float64)
    ``qpos[1:]`` (torso height, pitch, six joint angles) then ``qvel`` (9).

    ## Action (6, float32)
    Joint torques in [-1, 1], clipped inside ``step`` before the simulation.

    ## Objectives (maximised), per step
    | # | name | formula |
    |---|---|---|
    | 0 | forward_speed | min(4, vx) + 1, vx = (x_after - x_before) / dt |
    | 1 | energy_efficiency | 4 - Σa² + 1 (clipped action), in [-1, 5] |

    ``info``: ``x_velocity``, ``ctrl_sq_sum``.

    ## Episode
    Terminates when the torso pitch \\|qpos[2]\\| reaches 50°; truncated after 500 steps.
    dt = 0.01 × 5 = 0.05 s (Euler). Deterministic reset: qpos0, zero velocity.

    ## Relation to the original
    Same as PGMORL's ``MO-HalfCheetah-v2``; the model is gymnasium's HalfCheetah (identical
    physics). Its total mass (14) is set with ``mj_setTotalmass`` after compiling instead of the
    deprecated ``settotalmass`` attribute; the trajectories are identical. The split of that
    mass between bodies is MuJoCo 2.0's (capsules weighed as cylinders extended by r/2 per end:
    torso 6.3603 where today's compiler gives 6.2502), and so are the inertias
    (:mod:`morl.envs.mujoco20`).
    """

    problem = PROBLEM
