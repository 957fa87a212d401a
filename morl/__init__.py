"""morl: multi-objective robot control.

Importing ``morl`` registers the seven benchmark problems with gymnasium under ``morl/``
(``gymnasium.make("morl/MO-Hopper-v2")``). It does not import torch.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium

from morl.envs.fingerprint import fingerprint
from morl.envs.registration import PROBLEM_IDS, get_problem, register_envs
from morl.envs.vector import MOVectorEnv, make_vec
from morl.envs.wrappers import LinearScalarization
from morl.preferences import PreferenceLike, validate_preference

__version__ = "0.4.0"

register_envs()


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


def load(directory: str | os.PathLike[str]) -> Any:
    """The agent saved in run directory ``directory``, whichever agent wrote it (its checkpoint's
    header says): ``morl.load("runs/cheetah").policy_for([0.3, 0.7])``."""
    from morl.agents import load as _load

    return _load(directory)


def pretrained(problem_id: str) -> Any:
    """The pretrained Pareto set shipped for ``problem_id`` (:class:`morl.zoo.PretrainedParetoSet`):
    ``morl.pretrained("MO-HalfCheetah-v2").policy_for([0.3, 0.7])``, nothing trained locally."""
    from morl.zoo import pretrained as _pretrained

    return _pretrained(problem_id)


# Heavier parts load on first use, so that ``import morl`` stays light and torch-free.
_LAZY = {
    "HyperMORL": "morl.agents.hyper_morl",
    "HyperMORLConfig": "morl.agents.config",
    "ConditionedPPO": "morl.agents.conditioned_ppo",
    "ConditionedPPOConfig": "morl.agents.conditioned_ppo",
    "PGMORL": "morl.agents.pgmorl",
    "PGMORLConfig": "morl.agents.pgmorl",
    "PDMORL": "morl.agents.pdmorl",
    "PDMORLConfig": "morl.agents.pdmorl",
    "SB3MultiPolicy": "morl.agents.sb3",
    "SB3MultiPolicyConfig": "morl.agents.sb3",
    "AGENTS": "morl.agents",
    "PreferencePolicy": "morl.policy",
    "evaluate_front": "morl.evaluation",
    "FrontResult": "morl.evaluation",
    "FrontMetrics": "morl.pareto",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'morl' has no attribute {name!r}")


__all__ = [
    "AGENTS",
    "PDMORL",
    "PGMORL",
    "PROBLEM_IDS",
    "ConditionedPPO",
    "ConditionedPPOConfig",
    "FrontMetrics",
    "FrontResult",
    "HyperMORL",
    "HyperMORLConfig",
    "LinearScalarization",
    "MOVectorEnv",
    "PDMORLConfig",
    "PGMORLConfig",
    "PreferencePolicy",
    "SB3MultiPolicy",
    "SB3MultiPolicyConfig",
    "__version__",
    "evaluate_front",
    "fingerprint",
    "get_problem",
    "load",
    "make",
    "make_vec",
    "pretrained",
    "validate_preference",
]
