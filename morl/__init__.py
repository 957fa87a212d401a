"""morl: multi-objective robot control.

Importing ``morl`` registers the seven benchmark problems with gymnasium under ``morl/``
(``gymnasium.make("morl/MO-Hopper-v2")``). It does not import torch.
"""

from __future__ import annotations

import os
from typing import Any

from morl.envs.catalog import PROBLEM_IDS, get_problem
from morl.envs.fingerprint import fingerprint
from morl.envs.registration import make, register_envs
from morl.envs.vector import MOVectorEnv, make_vec
from morl.envs.wrappers import LinearScalarization
from morl.preferences import validate_preference
from morl.versions import MORL_VERSION

__version__ = MORL_VERSION

register_envs()


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
    "HyperMORL": "morl.agents.hyper_morl.agent",
    "HyperMORLConfig": "morl.agents.hyper_morl.config",
    "ConditionedPPO": "morl.agents.conditioned_ppo",
    "ConditionedPPOConfig": "morl.agents.conditioned_ppo",
    "PGMORL": "morl.agents.pgmorl",
    "PGMORLConfig": "morl.agents.pgmorl",
    "PDMORL": "morl.agents.pdmorl",
    "PDMORLConfig": "morl.agents.pdmorl",
    "SB3MultiPolicy": "morl.agents.sb3",
    "SB3MultiPolicyConfig": "morl.agents.sb3",
    "AGENTS": "morl.agents",
    "register_agent": "morl.agents",
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
    "register_agent",
    "validate_preference",
]
