"""Robot models of the benchmark.

The original problems shipped their own XML files written for MuJoCo 2.0 (``coordinate="global"``
for Hopper and Walker2d, which MuJoCo 3 rejects). Rather than carrying converted copies, each
model here is built from gymnasium's local-coordinate XML with the documented differences of the
original applied as explicit attribute edits. That keeps every difference in one readable table
(``_EDITS``) and lets the tests check the compiled result against the facts of the original models.
"""

from __future__ import annotations

import functools
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable

import gymnasium
import mujoco

from morl.envs.mujoco20 import restore_inertias, restore_margins

ROBOTS = ("swimmer", "half_cheetah", "walker2d", "ant", "hopper", "humanoid")

_ASSETS = os.path.join(os.path.dirname(gymnasium.__file__), "envs", "mujoco", "assets")
_FILES = {
    "swimmer": "swimmer.xml",
    "half_cheetah": "half_cheetah.xml",
    "walker2d": "walker2d.xml",  # the asymmetric-feet version (right 0.9, left 1.9)
    "ant": "ant.xml",
    "hopper": "hopper.xml",
    "humanoid": "humanoid.xml",
}


def _swimmer(root: ET.Element) -> None:
    # Original: gear 300; collision="predefined" with no pairs == no contacts at all.
    for motor in root.iter("motor"):
        motor.set("gear", "300")
    for geom in root.iter("geom"):
        geom.set("contype", "0")
        geom.set("conaffinity", "0")


def _half_cheetah(root: ET.Element) -> None:
    # Same physics. ``settotalmass`` is deprecated in MuJoCo 4 (it prints a warning on every
    # compile); the total mass is applied after compiling instead, see ``_TOTAL_MASS``.
    compiler = root.find("compiler")
    if compiler is not None and "settotalmass" in compiler.attrib:
        del compiler.attrib["settotalmass"]


def _walker2d(root: ET.Element) -> None:
    default = _main_default(root)
    _default_child(default, "joint").set("damping", "3.0")
    _default_child(default, "geom").set("density", "1500")


def _ant(root: ET.Element) -> None:
    for motor in root.iter("motor"):
        motor.set("gear", "100")


def _hopper(root: ET.Element) -> None:
    default = _main_default(root)
    joint_default = _default_child(default, "joint")
    joint_default.set("damping", "40")
    joint_default.set("limited", "false")
    for joint in root.iter("joint"):
        joint.attrib.pop("range", None)
        joint.set("limited", "false")
    ranges = {"thigh_joint": "-2 2", "leg_joint": "-2 2", "foot_joint": "-4 4"}
    for motor in root.iter("motor"):
        joint_name = motor.get("joint")
        if joint_name is None:
            continue
        motor.set("ctrlrange", ranges[joint_name])
        if joint_name == "foot_joint":
            motor.set("gear", "300")


def _humanoid(root: ET.Element) -> None:
    del root  # identical to the standard model


def _main_default(root: ET.Element) -> ET.Element:
    default = root.find("default")
    if default is None:
        raise RuntimeError("model XML has no <default> section")
    return default


def _default_child(default: ET.Element, tag: str) -> ET.Element:
    child = default.find(tag)
    if child is None:
        child = ET.SubElement(default, tag)
    return child


_EDITS: dict[str, Callable[[ET.Element], None]] = {
    "swimmer": _swimmer,
    "half_cheetah": _half_cheetah,
    "walker2d": _walker2d,
    "ant": _ant,
    "hopper": _hopper,
    "humanoid": _humanoid,
}

_TOTAL_MASS = {"half_cheetah": 14.0}


@functools.cache
def model_xml(robot: str) -> str:
    """The XML of ``robot`` with the original problem's differences applied."""
    if robot not in _FILES:
        raise ValueError(f"robot={robot!r} is unknown; expected one of {', '.join(ROBOTS)}")
    tree = ET.parse(os.path.join(_ASSETS, _FILES[robot]))
    _EDITS[robot](tree.getroot())
    return ET.tostring(tree.getroot(), encoding="unicode")


def build_model(robot: str) -> mujoco.MjModel:
    """Compile the model of ``robot`` as MuJoCo 2.0 compiled it (the original's physics).

    Today's compiler runs on the edited XML; then MuJoCo 2.0's capsule masses and inertias and its
    contact-margin rule are put back (:mod:`morl.envs.mujoco20`), and HalfCheetah's total mass is
    applied after that, as its XML's ``settotalmass`` asked of 2.0's compiler. Each call returns a
    new, independent MjModel.
    """
    # The XML references textures/materials only by builtin generators, so no asset directory
    # is needed; the include-free files compile from a string.
    spec = mujoco.MjSpec.from_string(model_xml(robot))
    restore_inertias(spec)
    restore_margins(spec)
    model = spec.compile()
    total = _TOTAL_MASS.get(robot)
    if total is not None:
        mujoco.mj_setTotalmass(model, total)
        mujoco.mj_setConst(model, mujoco.MjData(model))
    return model
