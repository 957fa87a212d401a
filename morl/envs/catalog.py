"""The seven problems by id: the one table every layer looks a problem up in.

Kept apart from gymnasium's registration (:mod:`morl.envs.registration`), which needs the vector
env: the vector env's worker processes look problems up here, so nothing imports in a circle.
"""

from __future__ import annotations

from morl.envs import ant, half_cheetah, hopper, humanoid, swimmer, walker2d
from morl.envs.problem import Problem

# name -> (problem, the gymnasium entry point of its single env)
ENTRY_POINTS: dict[str, tuple[Problem, str]] = {
    "MO-Swimmer-v2": (swimmer.PROBLEM, "morl.envs.swimmer:MOSwimmerEnv"),
    "MO-HalfCheetah-v2": (half_cheetah.PROBLEM, "morl.envs.half_cheetah:MOHalfCheetahEnv"),
    "MO-Walker2d-v2": (walker2d.PROBLEM, "morl.envs.walker2d:MOWalker2dEnv"),
    "MO-Ant-v2": (ant.PROBLEM, "morl.envs.ant:MOAntEnv"),
    "MO-Hopper-v2": (hopper.PROBLEM_V2, "morl.envs.hopper:MOHopperEnv"),
    "MO-Hopper-v3": (hopper.PROBLEM_V3, "morl.envs.hopper:MOHopper3Env"),
    "MO-Humanoid-v2": (humanoid.PROBLEM, "morl.envs.humanoid:MOHumanoidEnv"),
}

PROBLEM_IDS: tuple[str, ...] = tuple(p.id for p, _ in ENTRY_POINTS.values())


def get_problem(problem_id: str) -> Problem:
    """The :class:`Problem` for ``problem_id`` (``"morl/MO-Hopper-v2"`` or ``"MO-Hopper-v2"``)."""
    if not isinstance(problem_id, str):
        raise TypeError(f"problem_id must be a str, got {type(problem_id).__name__} ({problem_id!r})")
    name = problem_id.removeprefix("morl/")
    entry = ENTRY_POINTS.get(name)
    if entry is None:
        raise ValueError(f"problem_id={problem_id!r} is unknown; expected one of: {', '.join(PROBLEM_IDS)}")
    return entry[0]
