"""The compiled robot models match the facts of the original problems' models."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import morl
from morl.envs.models import build_model

# The original's compiled totals (MuJoCo 2.0: capsules weighed as cylinders extended by r/2 per
# end), and what today's compiler gives for the same XML (what a naive port gets).
TOTAL_MASS = {
    "hopper": 15.265,
    "walker2d": 34.047,
    "swimmer": 103.67,
    "half_cheetah": 14.00,
    "ant": 0.8787,
    "humanoid": 39.646,
}
TODAYS_TOTAL_MASS = {
    "hopper": 15.82,
    "walker2d": 35.52,
    "swimmer": 106.81,
    "half_cheetah": 21.18,  # before settotalmass
    "ant": 0.911,
    "humanoid": 42.12,
}
TIMESTEP = {"swimmer": 0.01, "half_cheetah": 0.01, "walker2d": 0.002, "ant": 0.01, "hopper": 0.002, "humanoid": 0.003}
RK4, EULER = mujoco.mjtIntegrator.mjINT_RK4, mujoco.mjtIntegrator.mjINT_EULER
INTEGRATOR = {"swimmer": RK4, "half_cheetah": EULER, "walker2d": RK4, "ant": RK4, "hopper": RK4, "humanoid": RK4}
FRAME_SKIP = {
    "MO-Swimmer-v2": 4,
    "MO-HalfCheetah-v2": 5,
    "MO-Walker2d-v2": 4,
    "MO-Ant-v2": 5,
    "MO-Hopper-v2": 5,
    "MO-Hopper-v3": 5,
    "MO-Humanoid-v2": 5,
}


def _hinge_dofs(model: mujoco.MjModel) -> np.ndarray:
    """dof indices of the actuated (non-root) joints."""
    return np.array([model.jnt_dofadr[model.actuator_trnid[i, 0]] for i in range(model.nu)])


@pytest.mark.parametrize("robot", list(TOTAL_MASS))
def test_mass_timestep_integrator(robot: str) -> None:
    model = build_model(robot)
    assert model.body_mass.sum() == pytest.approx(TOTAL_MASS[robot], rel=5e-5)  # to the digits quoted
    assert model.opt.timestep == TIMESTEP[robot]
    assert model.opt.integrator == INTEGRATOR[robot]


@pytest.mark.parametrize("name", list(FRAME_SKIP))
def test_frame_skip(name: str) -> None:
    assert morl.get_problem(name).frame_skip == FRAME_SKIP[name]


def test_swimmer_gear_and_no_contacts() -> None:
    model = build_model("swimmer")
    np.testing.assert_array_equal(model.actuator_gear[:, 0], [300, 300])
    assert np.all(model.geom_contype == 0) and np.all(model.geom_conaffinity == 0)
    np.testing.assert_array_equal(model.actuator_ctrlrange, [[-1, 1]] * 2)


def test_half_cheetah_standard_physics() -> None:
    model = build_model("half_cheetah")
    np.testing.assert_array_equal(model.actuator_gear[:, 0], [120, 90, 60, 120, 60, 30])
    np.testing.assert_allclose(model.dof_damping[3:], [6, 4.5, 3, 4.5, 3, 1.5])


def test_walker2d_damping_density_friction() -> None:
    model = build_model("walker2d")
    np.testing.assert_allclose(model.dof_damping[_hinge_dofs(model)], 3.0)
    np.testing.assert_allclose(model.dof_damping[:3], 0.0)  # root joints stay undamped
    right = model.geom("foot_geom").id
    left = model.geom("foot_left_geom").id
    assert model.geom_friction[right, 0] == pytest.approx(0.9)
    assert model.geom_friction[left, 0] == pytest.approx(1.9)
    np.testing.assert_array_equal(model.actuator_gear[:, 0], [100] * 6)
    # density 1500 = 1.5 x the standard model's mass (22.698 under MuJoCo 2.0's capsule rule)
    assert model.body_mass.sum() == pytest.approx(1.5 * 22.698, abs=0.001)


def test_ant_gear() -> None:
    model = build_model("ant")
    np.testing.assert_array_equal(model.actuator_gear[:, 0], [100] * 8)
    np.testing.assert_array_equal(model.actuator_ctrlrange, [[-1, 1]] * 8)


def test_hopper_no_limits_damping_ctrlrange_gear() -> None:
    model = build_model("hopper")
    assert not np.any(model.jnt_limited)
    np.testing.assert_allclose(model.dof_damping[_hinge_dofs(model)], 40.0)
    np.testing.assert_array_equal(model.actuator_ctrlrange, [[-2, 2], [-2, 2], [-4, 4]])
    np.testing.assert_array_equal(model.actuator_gear[:, 0], [200, 200, 300])
    assert model.qpos0[1] == pytest.approx(1.25)


def test_humanoid_standard_model() -> None:
    model = build_model("humanoid")
    np.testing.assert_array_equal(model.actuator_ctrlrange, [[-0.4, 0.4]] * 17)
    assert model.nbody == 14 and model.nq == 24 and model.nv == 23


def test_half_cheetah_total_mass_without_deprecated_attribute() -> None:
    # The deprecated settotalmass attribute is replaced by mj_setTotalmass after compiling.
    assert "settotalmass" not in morl.envs.models.model_xml("half_cheetah")


def test_unknown_robot() -> None:
    with pytest.raises(ValueError, match="robot='spider' is unknown"):
        build_model("spider")
