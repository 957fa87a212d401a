"""The seven problems' registration with gymnasium under ``morl/`` (the table of problems itself is
:mod:`morl.envs.catalog`; its names are re-exported here for callers of the registration)."""

from __future__ import annotations

import functools
from typing import Any

import gymnasium

from morl.envs.catalog import ENTRY_POINTS, PROBLEM_IDS, get_problem
from morl.envs.hopper import PROBLEM_V3
from morl.envs.vector import make_vec
from morl.envs.wrappers import LinearScalarization
from morl.preferences import PreferenceLike

__all__ = ["PROBLEM_IDS", "get_problem", "make", "register_envs"]


def register_envs() -> None:
    """Register every problem with gymnasium (idempotent).

    The passive env checker is disabled: it warns on vector rewards, which are the point here
    (MO-Gymnasium does the same).
    """
    for problem, entry_point in ENTRY_POINTS.values():
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
    gymnasium.registry[PROBLEM_V3.id].version = None


def make(problem_id: str, *, preference: PreferenceLike | None = None, **kwargs: Any) -> gymnasium.Env[Any, Any]:
    """``gymnasium.make`` for a benchmark problem, with a clear error for an unknown id.

    With ``preference`` the env is wrapped in :class:`LinearScalarization` (a float reward ω·r),
    ready for single-objective libraries such as Stable-Baselines3.
    """
    problem = get_problem(problem_id)
    env = gymnasium.make(problem.id, **kwargs)
    if preference is not None:
        env = LinearScalarization(env, preference)
    return env
