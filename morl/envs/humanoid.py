"""MO-Humanoid-v2: run fast vs. save energy."""

from __future__ import annotations

import numpy as np

from morl.envs.base import MOMujocoEnv
from morl.envs.problem import ModelConstants, Problem, sum_of_squares
from morl.envs.state import State

CONTACT_FORCE_SIZE = 14 * 6  # cfrc_ext of 14 bodies: always zero in the original


def observation(s: State) -> np.ndarray:
    batch = s.batch_size
    e = s.extras
    return np.concatenate(
        [
            s.qpos[:, 2:],
            s.qvel,
            e["cinert"].reshape(batch, -1),
            e["cvel"].reshape(batch, -1),
            e["qfrc_actuator"],
            np.zeros((batch, CONTACT_FORCE_SIZE)),
        ],
        axis=1,
    )


def mass_center_x(s: State, c: ModelConstants) -> np.ndarray:
    """x of the mass-weighted centre of mass (gym's ``mass_center``, from ``xipos``)."""
    # An elementwise product and a row sum, not a matmul: BLAS picks different kernels for
    # different batch sizes, and the vector env must match the single env bit for bit.
    return np.sum(s.extras["xipos"][:, :, 0] * c.body_mass, axis=1) / np.sum(c.body_mass)


def objectives(
    before: State, after: State, ctrl: np.ndarray, c: ModelConstants
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    vx = (mass_center_x(after, c) - mass_center_x(before, c)) / c.dt
    # The original read data.ctrl after mj_step, and MuJoCo 2.0 had clamped it to the control
    # range in place (no longer since 2.2.1): the energy term charges the clamped control.
    energy = sum_of_squares(np.clip(ctrl, c.ctrl_low, c.ctrl_high))
    rewards = np.column_stack([1.25 * vx + 3.0, 3.0 - 4.0 * energy + 3.0])
    return rewards, {"x_velocity": vx, "ctrl_sq_sum": energy}


def terminated(s: State) -> np.ndarray:
    height = s.qpos[:, 2]
    return (height < 1.0) | (height > 2.0)


PROBLEM = Problem(
    name="MO-Humanoid-v2",
    robot="humanoid",
    frame_skip=5,
    max_episode_steps=1000,
    objective_names=("forward_speed", "energy_efficiency"),
    reward_low=(-np.inf, 6.0 - 4.0 * 17 * 0.4**2),  # f2 >= -4.88: the energy term sees ctrl in ±0.4
    reward_high=(np.inf, 6.0),
    observation=observation,
    objectives=objectives,
    terminated=terminated,
    clip_actions=False,
    extra_fields=("xipos", "cinert", "cvel", "qfrc_actuator"),
    reset_noise=0.01,
    paper_budget=120_000_000,
    paper_gamma=0.99,
    revision=2,  # 2 (morl 0.4.0): the energy term charges the control clamped to ±0.4
)


class MOHumanoidEnv(MOMujocoEnv):
    """3-D humanoid: run forward vs. save energy (PGMORL's MO-Humanoid-v2).

    ## Observation (376, float64)
    ``qpos[2:]`` (22), ``qvel`` (23), ``cinert`` (14×10), ``cvel`` (14×6), ``qfrc_actuator``
    (23), ``cfrc_ext`` (14×6, always zero: the original called only ``mj_step``, which does not
    fill it; kept for the original dimension 376).

    ## Action (17, float32)
    Joint torques; the action space is the control range [-0.4, 0.4]. Not clipped in ``step``
    (as the original): MuJoCo clamps the control itself, and the energy term charges the control
    clamped to ±0.4, which is what the original computed (see below).

    ## Objectives (maximised), per step
    | # | name | formula |
    |---|---|---|
    | 0 | forward_speed | 1.25·vx_com + 3, vx_com of the mass-weighted centre of mass |
    | 1 | energy_efficiency | 3 - 4·Σclip(a, ±0.4)² + 3, so per step >= -4.88 |

    ``info``: ``x_velocity``, ``ctrl_sq_sum``.

    ## Episode
    Terminates when torso height qpos[2] < 1.0 or > 2.0; truncated after 1000 steps.
    dt = 0.003 × 5 = 0.015 s (RK4). Reset: qpos0 and zero velocity plus U(-0.01, 0.01) noise on
    each qpos and qvel entry, drawn from the env's own RNG (``reset(seed=...)``).

    ## Relation to the original
    Same as PGMORL's ``MO-Humanoid-v2`` on MuJoCo 2.0: gymnasium's Humanoid model, compiled with
    MuJoCo 2.0's capsule masses and inertias (total mass 39.646, torso 8.32207894; today's
    compiler would give 42.12) and its contact-margin rule (:mod:`morl.envs.mujoco20`). The
    centre of mass in ``forward_speed`` is weighted with those masses. The original read
    ``data.ctrl`` after stepping, and MuJoCo up to 2.2.0 clamped it to the control range in
    place, so its energy term saw the clamped control: ours clamps it explicitly. The derived
    quantities (cinert, cvel, centre of mass) are read after ``mj_step`` as in the original, so
    they lag qpos by one sub-step exactly as there. Not restorable: MuJoCo's PGS solver and
    constraint islanding have changed since 2.0 (3.3.6 and later); the effect is unmeasured.
    """

    problem = PROBLEM
