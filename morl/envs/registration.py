"""The seven problems by id, and their registration with gymnasium under ``morl/``."""

from __future__ import annotations

import functools

import gymnasium

from morl.envs import ant, half_cheetah, hopper, humanoid, swimmer, walker2d
from morl.envs.problem import Problem

_ENTRY_POINTS: dict[str, tuple[Problem, str]] = {
    "MO-Swimmer-v2": (swimmer.PROBLEM, "morl.envs.swimmer:MOSwimmerEnv"),
    "MO-HalfCheetah-v2": (half_cheetah.PROBLEM, "morl.envs.half_cheetah:MOHalfCheetahEnv"),
    "MO-Walker2d-v2": (walker2d.PROBLEM, "morl.envs.walker2d:MOWalker2dEnv"),
    "MO-Ant-v2": (ant.PROBLEM, "morl.envs.ant:MOAntEnv"),
    "MO-Hopper-v2": (hopper.PROBLEM_V2, "morl.envs.hopper:MOHopperEnv"),
    "MO-Hopper-v3": (hopper.PROBLEM_V3, "morl.envs.hopper:MOHopper3Env"),
    "MO-Humanoid-v2": (humanoid.PROBLEM, "morl.envs.humanoid:MOHumanoidEnv"),
}

PROBLEM_IDS: tuple[str, ...] = tuple(p.id for p, _ in _ENTRY_POINTS.values())


def get_problem(problem_id: str) -> Problem:
    """The :class:`Problem` for ``problem_id`` (``"morl/MO-Hopper-v2"`` or ``"MO-Hopper-v2"``)."""
    if not isinstance(problem_id, str):
        raise TypeError(f"problem_id must be a str, got {type(problem_id).__name__} ({problem_id!r})")
    name = problem_id.removeprefix("morl/")
    entry = _ENTRY_POINTS.get(name)
    if entry is None:
        raise ValueError(f"problem_id={problem_id!r} is unknown; expected one of: {', '.join(PROBLEM_IDS)}")
    return entry[0]


def register_envs() -> None:
    """Register every problem with gymnasium (idempotent).

    The passive env checker is disabled: it warns on vector rewards, which are the point here
    (MO-Gymnasium does the same).
    """
    from morl.envs.vector import make_vec

    for problem, entry_point in _ENTRY_POINTS.values():
        if problem.id in gymnasium.registry:
            continue
        gymnasium.register(
            id=problem.id,
            entry_point=entry_point,
            vector_entry_point=functools.partial(make_vec, problem.id),
            max_episode_steps=problem.max_episode_steps,
            disable_env_checker=True,
        )
    # The papers call the 3-objective Hopper MO-Hopper-v3, a different problem from MO-Hopper-v2,
    # not a newer version of it; gymnasium would warn on every make of v2 that it is "out of date".
    # Its spec is kept out of gymnasium's version lookup (which compares the versions of specs of
    # one name), so every id makes without a warning, under the papers' names.
    gymnasium.registry[hopper.PROBLEM_V3.id].version = None
