"""MORL agents behind one protocol (:class:`morl.agents.base.Agent`), by name.

``AGENTS`` maps each name to its class, imported on first use (so listing the names does not
import Stable-Baselines3); :func:`load` reads a run directory's checkpoint header and returns
the agent that wrote it.

Agents from outside morl join the same registry, so ``morl train``, ``morl bench``,
``morl.load`` and the benchmarks run them as they run morl's own:

- an installed package declares them as entry points of the group ``morl.agents``
  (``my-agent = "my_package.agent:MyAgent"`` under ``[project.entry-points."morl.agents"]``),
  found in every process, the CLI's and ``morl bench``'s workers included;
- or a program registers one with :func:`register_agent` (this process; ``morl bench`` hands a
  registration on to the processes and Ray tasks it starts by its ``module:Class`` path).

morl's own names cannot be taken; a registration wins over an entry point of the same name.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from morl.agents.base import Agent

ENTRY_POINT_GROUP = "morl.agents"
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
_REGISTERED: dict[str, str] = {}  # register_agent's: name -> "module:Class"
_REGISTERED_CLASSES: dict[str, type[Agent]] = {}  # ... and the class itself when one was given
_NAME = re.compile(r"^(?!.*__)[a-z0-9][a-z0-9._-]*$")  # no "__": bench keys are agent__problem__seed
_ENTRY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def _plugins() -> dict[str, tuple[str, str]]:
    """name -> ("module:Class", its distribution) for the installed packages' entry points.
    Read on every call (a few milliseconds): a package installed while this process runs is seen."""
    found: dict[str, tuple[str, str]] = {}
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if point.name in _CLASSES or point.name in found:
            continue  # morl's own names are morl's; of two packages, the first found
        dist = getattr(point, "dist", None)
        where = dist.name if dist is not None else "an installed package"
        if not _NAME.match(point.name):  # it could not name a run directory or a bench key
            message = (f"entry point {point.name!r} of {where!r} (group {ENTRY_POINT_GROUP}) left out: an agent's "
                       "name is lowercase letters, digits, '.', '_' or '-' (no '__')")  # fmt: skip
            warnings.warn(message, stacklevel=3)
            continue
        found[point.name] = (point.value, where)
    return found


def _entries() -> dict[str, str]:
    """Every known name -> "module:Class": morl's own, then the registered ones, then the plugins."""
    entries = dict(_CLASSES)
    for name, entry in _REGISTERED.items():
        entries.setdefault(name, entry)
    for name, (entry, _) in _plugins().items():
        entries.setdefault(name, entry)
    return entries


def _source(name: str) -> str:
    """Where a non-built-in name comes from, for error messages."""
    if name in _REGISTERED:
        return "registered with morl.register_agent"
    plugin = _plugins().get(name)
    return f"an entry point of {plugin[1]!r}" if plugin else "unknown"


def _resolve(entry: str) -> object:
    if not _ENTRY.match(entry):
        raise ImportError(f"{entry!r} is not an import path 'module:Class'")
    module, qualname = entry.split(":")
    target: object = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _checked(name: str, cls: object, where: str) -> type[Agent]:
    """``cls`` if it is an Agent class that calls itself ``name``; a TypeError/ValueError otherwise."""
    from morl.agents.base import Agent

    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise TypeError(f"agent {name!r} ({where}) is {cls!r}: expected a subclass of morl.agents.base.Agent")
    own = getattr(cls, "name", None)
    if own != name:  # checkpoints name their agent by cls.name, and morl.load finds it by that name
        raise ValueError(f"agent {name!r} ({where}): its class {cls.__qualname__} has name={own!r}; "
                         f"expected name={name!r} (register it under its own name)")  # fmt: skip
    return cls


class _Registry(Mapping[str, "type[Agent]"]):
    """name -> agent class, each module imported when its class is first asked for."""

    def __getitem__(self, name: str) -> type[Agent]:
        if name in _CLASSES:  # morl's own: no look at the installed packages
            module, cls = _CLASSES[name].split(":")
            agent: type[Agent] = getattr(importlib.import_module(module), cls)
            return agent
        entries = _entries()
        if name not in entries:
            raise KeyError(f"agent {name!r} is unknown; expected one of: {', '.join(entries)}")
        if name in _REGISTERED_CLASSES:
            return _REGISTERED_CLASSES[name]
        where = f"{entries[name]!r}, {_source(name)}"
        try:
            target = _resolve(entries[name])
        except Exception as error:  # a plugin's module may fail in any way while it is imported
            raise ImportError(f"agent {name!r}: cannot import {where}: {type(error).__name__}: {error}") from error
        return _checked(name, target, where)

    def __iter__(self) -> Iterator[str]:
        return iter(_entries())

    def __len__(self) -> int:
        return len(_entries())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in _CLASSES or name in _entries())


AGENTS: Mapping[str, type[Agent]] = _Registry()


def register_agent(name: str, agent: str | type[Agent]) -> None:
    """Make an agent from outside morl known as ``name`` in this process: ``agent`` is its class
    or its import path ``"module:Class"`` (imported when first used). The class must subclass
    :class:`morl.agents.base.Agent` and set ``name`` to ``name``: a checkpoint names its agent so,
    and :func:`load` finds the class by it. Registering a name again replaces it (with a warning
    when the class differs), as in a notebook that redefines the class.

    For every process: declare an entry point instead (see the module docstring). ``morl bench``
    passes a registration on to its workers and Ray tasks by the ``module:Class`` path, so a class
    defined in ``__main__`` or a notebook runs in ``--jobs 1`` only."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name={name!r}: expected lowercase letters, digits, '.', '_' or '-' (no '__'), e.g. "
                         "'my-agent'")  # fmt: skip
    if name in _CLASSES:
        raise ValueError(f"name={name!r} is one of morl's own agents ({', '.join(_CLASSES)}); choose another name")
    if isinstance(agent, str):
        if not _ENTRY.match(agent):
            raise ValueError(f"agent={agent!r}: expected an import path 'module:Class' or an Agent class")
        entry, cls = agent, None
    else:
        cls = _checked(name, agent, "given to morl.register_agent")
        entry = f"{cls.__module__}:{cls.__qualname__}"  # for other processes: see importable_elsewhere
    previous = _REGISTERED.get(name)
    if previous is not None and (previous != entry or _REGISTERED_CLASSES.get(name) not in (None, cls)):
        warnings.warn(f"agent {name!r} was registered as {previous!r}; now {entry!r}", stacklevel=2)
    _REGISTERED[name] = entry
    _REGISTERED_CLASSES.pop(name, None)
    if cls is not None:
        _REGISTERED_CLASSES[name] = cls


def agent_entry(name: str) -> str | None:
    """The ``module:Class`` path of an agent from outside morl (None for morl's own), what another
    process needs to register it again."""
    return None if name in _CLASSES else _entries().get(name)


def importable_elsewhere(name: str) -> None:
    """A ValueError unless another process can import agent ``name`` by its path: a class
    registered from ``__main__`` (a script, a notebook) or from inside a function cannot be, so
    ``morl bench`` refuses to hand it to worker processes or Ray tasks before it starts any."""
    entry = agent_entry(name)
    if entry is None:
        return
    module, qualname = entry.split(":", 1)
    if module == "__main__" or "<locals>" in qualname:
        raise ValueError(f"agent {name!r} is registered as {entry!r}, which processes that morl bench starts "
                         "cannot import; run it with jobs=1, or define the class in an importable module")  # fmt: skip


def get_agent(name: str) -> type[Agent]:
    """The agent class called ``name``; a ValueError listing the known names otherwise."""
    if name not in AGENTS:
        raise ValueError(f"agent={name!r} is unknown; expected one of: {', '.join(_entries())}")
    return AGENTS[name]


def load(directory: str | os.PathLike[str]) -> Agent:
    """The agent saved in ``directory`` (its checkpoint's header names the agent)."""
    from morl.agents.checkpoint import read_checkpoint

    name = read_checkpoint(directory)["agent"]
    return get_agent(str(name)).load(directory)
