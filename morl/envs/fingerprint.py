"""A short name for what a problem *is*: its compiled physics and the revision of its code.

Two results are comparable only when they were produced on the same problem definition. The
problem id alone does not say that: morl 0.4.0 changed MO-Hopper-v2's masses without changing its
id. So every record a number comes from carries :func:`fingerprint` (``MO-Hopper-v2@1a2b3c4d5e6f``),
and readers that aggregate refuse or split records of different definitions.

What goes in:

- the compiled model's physics arrays (:data:`PHYSICS_FIELDS`: masses, inertias, frames, joints,
  damping, contact parameters, actuators, the options that change integration), as MuJoCo builds
  them on this machine, formatted to 9 significant digits so that a last-bit difference of the
  compiler on another CPU does not change the name;
- the problem's own definition: frame skip, horizon, reset noise, action clipping, objective
  names, and :attr:`morl.envs.problem.Problem.revision`, which is bumped whenever its observation,
  objective or termination *code* changes (code cannot be hashed robustly; a number can).

It does not include the MuJoCo version: the engine changes trajectories without changing the
definition, and every record already names it in ``versions``. Contact margins are hashed as the
contacts get them (MuJoCo >= 3.5.0 sums two geoms' margins, older releases took the larger), so
MuJoCo 3.3 and 4.0 give one definition one name.
"""

from __future__ import annotations

import functools
import hashlib

import mujoco
import numpy as np

from morl.envs.catalog import get_problem
from morl.envs.models import build_model
from morl.envs.mujoco20 import MARGINS_SUMMED
from morl.envs.problem import Problem

PHYSICS_FIELDS = (
    "body_parentid", "body_pos", "body_quat", "body_ipos", "body_iquat", "body_mass", "body_inertia",
    "jnt_type", "jnt_bodyid", "jnt_pos", "jnt_axis", "jnt_limited", "jnt_range", "jnt_stiffness",
    "jnt_solref", "jnt_solimp", "jnt_margin", "qpos0", "qpos_spring",
    "dof_damping", "dof_armature", "dof_frictionloss",
    "geom_type", "geom_bodyid", "geom_size", "geom_pos", "geom_quat", "geom_contype", "geom_conaffinity",
    "geom_condim", "geom_priority", "geom_friction", "geom_solmix", "geom_solref", "geom_solimp",
    "geom_margin", "geom_gap",
    "actuator_trntype", "actuator_trnid", "actuator_gear", "actuator_ctrllimited", "actuator_ctrlrange",
    "actuator_forcelimited", "actuator_forcerange", "actuator_gaintype", "actuator_gainprm",
    "actuator_biastype", "actuator_biasprm", "actuator_dyntype", "actuator_dynprm",
)  # fmt: skip
OPTION_FIELDS = ("timestep", "gravity", "wind", "density", "viscosity", "integrator", "cone", "jacobian",
                 "solver", "iterations", "tolerance", "noslip_iterations", "impratio", "disableflags")  # fmt: skip


def _text(value: object) -> str:
    array = np.atleast_1d(np.asarray(value))
    if np.issubdtype(array.dtype, np.floating):
        # 9 significant digits, and -0 written as 0: last-bit differences must not rename a problem.
        return ",".join(f"{float(x) + 0.0:.9g}" for x in array.ravel())
    return ",".join(str(int(x)) for x in array.ravel())


# Stored per geom, but what a contact gets depends on the engine's rule for combining two geoms'.
CONTACT_FIELDS = ("geom_margin", "geom_gap")


def model_digest(model: mujoco.MjModel) -> str:
    """SHA-256 of the physics arrays of a compiled model (hex).

    Margins and gaps are hashed as a contact between two geoms of equal value gets them under the
    running MuJoCo's rule (doubled where it sums them), so one definition has one name on every
    MuJoCo release (:data:`morl.envs.mujoco20.MARGINS_SUMMED`)."""
    digest = hashlib.sha256()
    for name in PHYSICS_FIELDS:
        value = getattr(model, name)
        if name in CONTACT_FIELDS and MARGINS_SUMMED:
            value = 2.0 * value
        digest.update(f"{name}={_text(value)};".encode())
    for name in OPTION_FIELDS:
        digest.update(f"opt.{name}={_text(getattr(model.opt, name))};".encode())
    return digest.hexdigest()


def definition_text(problem: Problem) -> str:
    """The parts of a problem's definition that are not in its model, as one line."""
    return (f"{problem.name};revision={problem.revision};frame_skip={problem.frame_skip};"
            f"horizon={problem.max_episode_steps};reset_noise={problem.reset_noise!r};"
            f"clip_actions={problem.clip_actions};objectives={','.join(problem.objective_names)}")  # fmt: skip


@functools.cache
def _fingerprint(problem: Problem) -> str:
    digest = hashlib.sha256()
    digest.update(definition_text(problem).encode())
    digest.update(model_digest(build_model(problem.robot)).encode())
    return f"{problem.name}@{digest.hexdigest()[:12]}"


def fingerprint(problem: Problem | str) -> str:
    """``NAME@<12 hex>``: the name of this problem's definition (physics and code revision).

    Accepts a :class:`Problem` or a problem id (``"MO-Hopper-v2"`` or ``"morl/MO-Hopper-v2"``).
    Computed once per process (one model compile).
    """
    if isinstance(problem, str):
        problem = get_problem(problem)
    return _fingerprint(problem)


def same_definition(recorded: str | None, problem: Problem | str) -> bool:
    """Whether a result's recorded fingerprint names today's definition of ``problem`` (a record
    without one predates fingerprints: morl < 0.4.0, today's-compiler physics)."""
    return recorded is not None and recorded == fingerprint(problem)


BEFORE_FINGERPRINTS = "a definition from before fingerprints (morl < 0.4.0)"


def named_definition(recorded: str | None) -> str:
    """A recorded fingerprint as a reader should see it; a missing one predates fingerprints."""
    return repr(recorded) if recorded else BEFORE_FINGERPRINTS


def definition_mismatch(recorded: str | None, problem: Problem | str, where: str) -> str | None:
    """None when ``recorded`` names today's definition of ``problem``, else a sentence naming both
    (``where``: the file or record, for the reader). No fingerprint means a result from before
    fingerprints: morl < 0.4.0, on today's-compiler physics rather than MuJoCo 2.0's."""
    here = fingerprint(problem)
    if recorded == here:
        return None
    return f"{where} was made on {named_definition(recorded)}; this morl defines {here.split('@')[0]} as {here!r}"
