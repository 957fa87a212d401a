"""What MuJoCo 2.0 computed for these robots, put back on today's MuJoCo.

Every published number of this benchmark was produced by MuJoCo 2.0 (through mujoco-py). For the
same XML, today's MuJoCo compiles and simulates two things differently for our robots:

1. **Capsule mass and inertia.** MuJoCo 2.0's compiler treated a capsule of radius r and
   half-length h as a *cylinder of length 2h + r* (the capsule extended by r/2 at each end):
   mass ρπr²(2h + r), inertia of that cylinder. MuJoCo 2.1.1 made capsule inertias exact, so a
   naive port is 3–6 % heavier, with 8–40 % larger inertias on some bodies (Hopper's torso
   3.665 instead of the 3.53429174 every mujoco-py user saw). Spheres (and any other primitive)
   were computed as today.
2. **Contact margin.** MuJoCo 2.x gave a contact the *larger* of its two geoms' margins (and
   gaps); since 3.5.0 it is their *sum*. On these robots every collidable geom shares one margin,
   so halving each geom's margin restores the original combination exactly. Models where the
   margins differ cannot be restored per geom, and are refused.

The third change (``data.ctrl`` no longer clamped in place since 2.2.1) touches only Humanoid's
energy term and is handled in its objective, not in the model.

The body inertias are recomputed here from the compiled geometry (each geom's position,
orientation, type, size and density) with 2.0's formulas, combined per body with the parallel-
axis theorem, and written back as explicit inertials so that MuJoCo itself diagonalises them into
``body_inertia``/``body_iquat``/``body_ipos``. :func:`body_inertials` with ``exact=True`` uses
today's formulas instead; the tests check that it reproduces today's compiled model, which
validates the combination independently of the 2.0 formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np


@dataclass(frozen=True)
class Inertial:
    """Mass, centre of mass and full inertia tensor (about the centre of mass) of one body, all in
    the body frame."""

    mass: float
    com: np.ndarray  # (3,)
    inertia: np.ndarray  # (3, 3)

    @property
    def fullinertia(self) -> list[float]:
        """MJCF's ``fullinertia`` order: Ixx, Iyy, Izz, Ixy, Ixz, Iyz."""
        i = self.inertia
        return [i[0, 0], i[1, 1], i[2, 2], i[0, 1], i[0, 2], i[1, 2]]


def geom_mass_inertia(geom_type: int, size: np.ndarray, density: float, *, exact: bool) -> tuple[float, np.ndarray]:
    """Mass and principal inertia (in the geom frame) of a primitive of uniform ``density``.

    ``exact=False`` is MuJoCo 2.0's compiler: a capsule is a cylinder of length 2h + r.
    ``exact=True`` is MuJoCo >= 2.1.1's exact capsule (cylinder plus two hemispheres).
    Only the primitives of the benchmark's robots are supported; anything else is an error rather
    than a silent guess.
    """
    r = float(size[0])
    if geom_type == mujoco.mjtGeom.mjGEOM_SPHERE:
        mass = density * 4.0 / 3.0 * np.pi * r**3
        return mass, np.full(3, 0.4 * mass * r * r)
    if geom_type == mujoco.mjtGeom.mjGEOM_CAPSULE:
        h = float(size[1])
        if not exact:
            length = 2.0 * h + r
            mass = density * np.pi * r * r * length
            side = mass * (3.0 * r * r + length * length) / 12.0
            return mass, np.array([side, side, mass * r * r / 2.0])
        length = 2.0 * h
        m_cyl = density * np.pi * r * r * length
        m_sph = density * 4.0 / 3.0 * np.pi * r**3
        side = m_cyl * (3.0 * r * r + length * length) / 12.0
        # Two hemispheres (a sphere's mass): each one's own inertia about its centre of mass (3r/8
        # from its flat face) plus the parallel-axis term; the (3r/8)² terms cancel.
        side += m_sph * (0.4 * r * r + length * length / 4.0 + 3.0 * length * r / 8.0)
        return m_cyl + m_sph, np.array([side, side, m_cyl * r * r / 2.0 + 0.4 * m_sph * r * r])
    raise ValueError(
        f"geom_type={int(geom_type)} is not supported; "
        "expected a sphere or a capsule (the primitives of the benchmark's robots)"
    )


def body_inertials(model: mujoco.MjModel, densities: np.ndarray, *, exact: bool) -> dict[int, Inertial]:
    """Each non-world body's inertial, combined from its geoms (``model`` supplies the compiled
    geom frames in body coordinates; ``densities`` the geoms' densities, by geom id)."""
    found: dict[int, Inertial] = {}
    for body in range(1, model.nbody):
        start, count = int(model.body_geomadr[body]), int(model.body_geomnum[body])
        if count == 0 or start < 0:
            continue
        masses, centres, tensors = [], [], []
        for geom in range(start, start + count):
            mass, principal = geom_mass_inertia(
                int(model.geom_type[geom]), model.geom_size[geom], float(densities[geom]), exact=exact
            )
            flat = np.empty(9)
            mujoco.mju_quat2Mat(flat, model.geom_quat[geom])
            rotation = flat.reshape(3, 3)
            masses.append(mass)
            centres.append(model.geom_pos[geom].copy())
            tensors.append(rotation @ np.diag(principal) @ rotation.T)
        total = float(sum(masses))
        com = sum(m * c for m, c in zip(masses, centres, strict=True)) / total
        inertia = np.zeros((3, 3))
        for mass, centre, tensor in zip(masses, centres, tensors, strict=True):
            d = centre - com
            inertia += tensor + mass * (np.dot(d, d) * np.eye(3) - np.outer(d, d))
        found[body] = Inertial(mass=total, com=com, inertia=inertia)
    return found


def restore_inertias(spec: mujoco.MjSpec) -> None:
    """Give every body of ``spec`` the mass, centre of mass and inertia MuJoCo 2.0 computed from
    its geoms, as an explicit inertial (so today's compiler does not recompute them)."""
    for geom in spec.geoms:
        if not np.isnan(geom.mass):
            raise ValueError(f"geom {geom.name!r} has an explicit mass; expected masses from density only")
    for body in spec.bodies[1:]:
        if body.explicitinertial:
            raise ValueError(f"body {body.name!r} has an explicit <inertial>; expected inertias from geoms only")
    # Elements are matched to the compiled model by name (the order of spec.bodies is not the
    # compiled order on every MuJoCo release, and element ids are not always exposed): unnamed
    # geoms and bodies get a name first, which changes nothing in the physics.
    geoms = list(spec.geoms)
    for index, geom in enumerate(geoms):
        if not geom.name:
            geom.name = f"morl_geom_{index}"
    for index, body in enumerate(spec.bodies[1:]):
        if not body.name:
            body.name = f"morl_body_{index}"
    model = spec.compile()
    densities = np.empty(model.ngeom)
    for geom in geoms:
        densities[model.geom(geom.name).id] = geom.density
    bodies = {model.body(body.name).id: body for body in spec.bodies[1:]}
    for body_id, inertial in body_inertials(model, densities, exact=False).items():
        body = bodies[body_id]
        body.explicitinertial = True
        body.mass = inertial.mass
        body.ipos = inertial.com
        body.fullinertia = inertial.fullinertia
    spec.compiler.inertiafromgeom = mujoco.mjtInertiaFromGeom.mjINERTIAFROMGEOM_AUTO


# MuJoCo 3.5.0 made a contact's margin (and gap) the sum of its geoms'; before, it was the larger.
MARGINS_SUMMED = tuple(int(part) for part in mujoco.__version__.split(".")[:3]) >= (3, 5, 0)


def restore_margins(spec: mujoco.MjSpec, *, summed: bool = MARGINS_SUMMED) -> None:
    """Make every contact's margin (and gap) the larger of its two geoms', as MuJoCo 2.x did.

    Since MuJoCo 3.5.0 a contact's margin is the sum of both geoms' (``summed``). With one shared
    value per model (true of every robot here), halving each geom's margin gives max(a, a) = a back
    exactly; an older MuJoCo already takes the larger, and the margins stay as they are.
    """
    collidable = [g for g in spec.geoms if g.contype or g.conaffinity]
    for name in ("margin", "gap"):
        values = {float(getattr(g, name)) for g in collidable}
        if len(values) > 1:
            raise ValueError(
                f"geom {name}s {sorted(values)} differ; expected one shared {name} per model "
                "(only then can MuJoCo 2.x's max rule be restored per geom)"
            )
    if not summed:
        return
    for geom in spec.geoms:
        geom.margin = geom.margin / 2.0
        geom.gap = geom.gap / 2.0
