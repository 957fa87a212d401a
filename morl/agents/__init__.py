"""MORL agents behind one protocol (:class:`morl.agents.base.Agent`), by name.

``AGENTS`` maps each name to its class, imported on first use (so listing the names does not
import Stable-Baselines3); :func:`load` reads a run directory's checkpoint header and returns
the agent that wrote it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from morl.agents.base import Agent

_CLASSES = {
    "hyper-morl": "morl.agents.hyper_morl.agent:HyperMORL",
    "conditioned-ppo": "morl.agents.conditioned_ppo:ConditionedPPO",
    "sb3": "morl.agents.sb3:SB3MultiPolicy",
    "pgmorl": "morl.agents.pgmorl:PGMORL",
    "pd-morl": "morl.agents.pdmorl:PDMORL",
    # MORL-Baselines' agents on morl's problems (optional extra morl[peers])
    "mb-pgmorl": "morl.agents.peers.pgmorl:MBPGMORL",
    "mb-capql": "morl.agents.peers.capql:MBCAPQL",
    "mb-gpi-ls": "morl.agents.peers.gpi_ls:MBGPILS",
}


class _Registry(Mapping[str, "type[Agent]"]):
    """name -> agent class, each module imported when its class is first asked for."""

    def __getitem__(self, name: str) -> type[Agent]:
        if name not in _CLASSES:
            raise KeyError(f"agent {name!r} is unknown; expected one of: {', '.join(_CLASSES)}")
        module, cls = _CLASSES[name].split(":")
        agent: type[Agent] = getattr(importlib.import_module(module), cls)
        return agent

    def __iter__(self) -> Iterator[str]:
        return iter(_CLASSES)

    def __len__(self) -> int:
        return len(_CLASSES)


AGENTS: Mapping[str, type[Agent]] = _Registry()


def get_agent(name: str) -> type[Agent]:
    """The agent class called ``name``; a ValueError listing the known names otherwise."""
    if name not in _CLASSES:
        raise ValueError(f"agent={name!r} is unknown; expected one of: {', '.join(_CLASSES)}")
    return AGENTS[name]


def load(directory: str | os.PathLike[str]) -> Agent:
    """The agent saved in ``directory`` (its checkpoint's header names the agent)."""
    from morl.agents.checkpoint import read_checkpoint

    name = read_checkpoint(directory)["agent"]
    return get_agent(str(name)).load(directory)
