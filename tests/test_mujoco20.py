"""The problems compute what MuJoCo 2.0 computed: capsule masses and inertias, contact margins and
Humanoid's clamped energy term, in the single env, the vector env and the rollout workers."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import morl
from morl.envs.models import build_model, model_xml
from morl.envs.mujoco20 import body_inertials, geom_mass_inertia, restore_margins
from tests.test_models import TODAYS_TOTAL_MASS

ROBOTS = ("swimmer", "half_cheetah", "walker2d", "ant", "hopper", "humanoid")


def _todays_model(robot: str) -> tuple[mujoco.MjSpec, mujoco.MjModel]:
    spec = mujoco.MjSpec.from_string(model_xml(robot))
    return spec, spec.compile()


def test_hopper_body_masses_are_the_originals() -> None:
    # The numbers every mujoco-py user saw for the original Hopper.
    np.testing.assert_allclose(
        build_model("hopper").body_mass, [0, 3.53429174, 3.92699082, 2.71433605, 5.0893801], atol=1e-6
    )


def test_humanoid_masses_are_the_originals() -> None:
    model = build_model("humanoid")
    assert model.body_mass.sum() == pytest.approx(39.646, abs=5e-4)
    assert model.body_mass[model.body("torso").id] == pytest.approx(8.32207894, abs=1e-6)


def test_half_cheetah_split_and_ant_torso() -> None:
    cheetah = build_model("half_cheetah")
    assert cheetah.body_mass.sum() == pytest.approx(14.0, abs=1e-9)
    assert cheetah.body_mass[cheetah.body("torso").id] == pytest.approx(6.3603, abs=1e-4)
    ant = build_model("ant")
    assert ant.body_mass[ant.body("torso").id] == pytest.approx(0.32725, abs=1e-5)  # a sphere: unchanged


@pytest.mark.parametrize("robot", ROBOTS)
def test_exact_rule_reproduces_todays_compiler(robot: str) -> None:
    """The per-body combination (parallel axes, frames) is MuJoCo's: with today's exact capsule
    formula it gives back today's compiled masses, centres and principal inertias."""
    spec, model = _todays_model(robot)
    densities = np.array([g.density for g in spec.geoms])  # the compiled order
    for body, inertial in body_inertials(model, densities, exact=True).items():
        assert inertial.mass == pytest.approx(model.body_mass[body], rel=1e-12)
        np.testing.assert_allclose(inertial.com, model.body_ipos[body], atol=1e-12)
        flat = np.empty(9)
        mujoco.mju_quat2Mat(flat, model.body_iquat[body])
        rotation = flat.reshape(3, 3)
        np.testing.assert_allclose(
            rotation @ np.diag(model.body_inertia[body]) @ rotation.T, inertial.inertia, rtol=1e-9, atol=1e-12
        )
    if robot != "half_cheetah":
        assert model.body_mass.sum() == pytest.approx(TODAYS_TOTAL_MASS[robot], abs=0.006)


def test_capsule_rule_is_an_extended_cylinder() -> None:
    capsule = mujoco.mjtGeom.mjGEOM_CAPSULE
    mass, inertia = geom_mass_inertia(capsule, np.array([0.05, 0.2, 0.0]), 1000.0, exact=False)
    length = 0.4 + 0.05
    assert mass == pytest.approx(1000.0 * np.pi * 0.05**2 * length)
    np.testing.assert_allclose(inertia, [mass * (3 * 0.05**2 + length**2) / 12] * 2 + [mass * 0.05**2 / 2])
    with pytest.raises(ValueError, match="geom_type=6 is not supported"):
        geom_mass_inertia(mujoco.mjtGeom.mjGEOM_BOX, np.ones(3), 1000.0, exact=False)


@pytest.mark.parametrize("robot", ROBOTS)
def test_inertias_differ_from_todays_where_there_are_capsules(robot: str) -> None:
    _, today = _todays_model(robot)
    model = build_model(robot)
    capsule = mujoco.mjtGeom.mjGEOM_CAPSULE
    capsule_bodies = {int(today.geom_bodyid[g]) for g in range(today.ngeom) if today.geom_type[g] == capsule}
    for body in capsule_bodies:
        assert not np.allclose(np.sort(model.body_inertia[body]), np.sort(today.body_inertia[body]), rtol=1e-3)


def test_ant_contacts_have_the_original_effective_margin() -> None:
    model = build_model("ant")
    data = mujoco.MjData(model)
    for _ in range(100):  # falls onto its feet
        mujoco.mj_step(model, data)
    assert data.ncon > 0
    assert all(data.contact[i].includemargin == pytest.approx(0.01) for i in range(data.ncon))


def test_margins_are_halved_only_where_mujoco_sums_them() -> None:
    spec = mujoco.MjSpec.from_string(model_xml("ant"))
    restore_margins(spec, summed=False)  # MuJoCo < 3.5.0 takes the larger margin itself
    assert {g.margin for g in spec.geoms} == {0.01}
    restore_margins(spec, summed=True)
    assert {g.margin for g in spec.geoms} == {0.005}


def test_margins_that_differ_are_refused() -> None:
    spec = mujoco.MjSpec.from_string(model_xml("ant"))
    spec.geoms[1].margin = 0.03
    with pytest.raises(ValueError, match=r"geom margins .* differ; expected one shared margin"):
        restore_margins(spec)


def test_humanoid_energy_is_charged_on_the_clamped_control() -> None:
    env = morl.make("MO-Humanoid-v2")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.ones(17, dtype=np.float32))
    assert reward[1] == pytest.approx(6.0 - 4.0 * 17 * 0.16, abs=1e-6)  # -4.88
    assert reward[1] == pytest.approx(-4.88, abs=1e-6)
    assert info["ctrl_sq_sum"] == pytest.approx(17 * 0.16)
    assert env.unwrapped.reward_space.low[1] == pytest.approx(-4.88)
    env.close()


def test_vector_env_workers_charge_the_clamped_control_too() -> None:
    """One definition: worker processes give the single env's rewards for actions beyond ±0.4."""
    actions = np.random.default_rng(0).uniform(-1, 1, size=(20, 2, 17)).astype(np.float32)
    venv = morl.make_vec("MO-Humanoid-v2", 2, seed=3, workers=2)
    venv.reset()
    single = morl.make("MO-Humanoid-v2").unwrapped
    single.reset(seed=3)
    expected = [single.step(a[0])[1] for a in actions]
    got = [venv.step(a)[1][0] for a in actions]
    venv.close()
    np.testing.assert_array_equal(np.array(got), np.array(expected, dtype=np.float32))
    assert min(r[1] for r in got) >= -4.88 - 1e-6


@pytest.mark.parametrize("robot", ["humanoid", "ant", "hopper", "walker2d"])
def test_constraint_islands_change_nothing_here(robot: str) -> None:
    """MuJoCo 3.3.6 made constraint islands the default; 2.0 solved all constraints at once. On
    these robots every contact belongs to the one kinematic tree, so it is one island either way:
    the trajectories are bit-identical (what docs/problems.md states)."""
    finals = []
    for islands in (True, False):
        model = build_model(robot)
        if not islands:
            model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_ISLAND
        data = mujoco.MjData(model)
        rng = np.random.default_rng(0)
        data.qpos[:] = model.qpos0 + rng.uniform(-0.01, 0.01, model.nq)
        for _ in range(500):
            data.ctrl[:] = rng.uniform(-1, 1, model.nu)
            mujoco.mj_step(model, data)
        finals.append(data.qpos.copy())
    np.testing.assert_array_equal(finals[0], finals[1])
