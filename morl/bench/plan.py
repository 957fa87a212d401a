"""What a bench runs: agents × problems × seeds on one budget, with per-agent config overrides.

Every run is validated before anything starts (agent and problem names, override fields and
values, the budget), so a typo fails the whole bench at once instead of one run an hour in.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from morl.agents import agent_entry, get_agent, register_agent
from morl.cores import available_cores
from morl.envs.catalog import get_problem
from morl.run_files import atomic_write_text


@dataclass(frozen=True)
class BenchRun:
    """One (agent, problem, seed) run and its config overrides; ``total_steps`` None: the
    problem's paper budget."""

    agent: str
    problem: str
    seed: int
    total_steps: int | None
    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """The run's name in the bench directory: ``<agent>__<problem>__seed<S>``."""
        return f"{self.agent}__{self.problem}__seed{self.seed}"

    def config(self, **resources: Any) -> Any:
        """The agent's validated config for this run, with ``resources`` (workers, threads)."""
        cls = get_agent(self.agent)
        budget = {} if self.total_steps is None else {"total_steps": self.total_steps}
        return cls.config_class.for_problem(self.problem, seed=self.seed, **budget, **dict(self.overrides),
                                            **resources)  # fmt: skip


def describe_run(run: BenchRun) -> dict[str, Any]:
    """A run as plain JSON (in its record, and for a run started in another process). An agent
    from outside morl comes with its ``module:Class`` path (``agent_entry``): the process that runs
    it registers it again, and the record says which code it was."""
    description = {**asdict(run), "overrides": dict(run.overrides)}
    entry = agent_entry(run.agent)
    if entry is not None:
        description["agent_entry"] = entry
    return description


def same_description(a: Any, b: Any) -> bool:
    """Whether two run descriptions (a record's, a plan's) describe the same run. An outside
    agent's ``agent_entry`` is provenance, not identity: the same class reached by another path (a
    re-export, a refactored package) must not make finished runs run again."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    return {k: v for k, v in a.items() if k != "agent_entry"} == {k: v for k, v in b.items() if k != "agent_entry"}


def same_run(described: Any, run: BenchRun) -> bool:
    """Whether a record's or plan's description is ``run``'s (see :func:`same_description`)."""
    return same_description(described, describe_run(run))


def register_described_agent(description: dict[str, Any]) -> None:
    """In a process that ``morl bench`` started: register the run's agent from outside morl by the
    path its description carries (the starting process's registration does not cross over)."""
    entry = description.get("agent_entry")
    if entry is not None and agent_entry(description["agent"]) != entry:
        register_agent(description["agent"], entry)


def run_from_description(description: dict[str, Any]) -> BenchRun:
    """The inverse of :func:`describe_run`."""
    return BenchRun(description["agent"], description["problem"], int(description["seed"]),
                    description["total_steps"], tuple(sorted(description["overrides"].items())))  # fmt: skip


PLAN_FORMAT = "morl.bench_plan"


def plan_path(out: str | os.PathLike[str]) -> Path:
    """``out/plan.json``: every run the bench commands on ``out`` asked for."""
    return Path(out) / "plan.json"


def read_plan(out: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """key -> run description of every planned run (empty without a readable plan file)."""
    try:
        data = json.loads(plan_path(out).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    runs = data.get("runs") if isinstance(data, dict) and data.get("format") == PLAN_FORMAT else None
    return dict(runs) if isinstance(runs, dict) else {}


def write_plan(out: str | os.PathLike[str], runs: list[BenchRun], command: str = "") -> None:
    """Add ``runs`` to ``out/plan.json`` (atomically; a run planned again takes its new config),
    so that ``morl bench status`` can list the runs not started yet."""
    planned = read_plan(out)
    planned.update({run.key: describe_run(run) for run in runs})
    payload = {"format": PLAN_FORMAT, "last_command": command, "runs": planned}
    atomic_write_text(plan_path(out), json.dumps(payload, indent=1) + "\n")


def parse_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["pgmorl.update_iter=10", "sb3.algo=sac"]`` → {agent: {field: value}}. A value is read
    as JSON when it parses (10, 1e-3, true) and as a string otherwise (sac)."""
    overrides: dict[str, dict[str, Any]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        agent, dot, field = name.partition(".")
        if not sep or not dot or not agent or not field:
            raise ValueError(f"--set {item!r} must look like AGENT.FIELD=VALUE, e.g. pgmorl.update_iter=10")
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text
        overrides.setdefault(agent, {})[field] = value
    return overrides


def read_overrides(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Per-agent config overrides from a TOML or JSON file, one table per agent::

        [pgmorl]              # or JSON: {"pgmorl": {"update_iter": 10}, "sb3": {"algo": "sac"}}
        update_iter = 10
        [sb3]
        algo = "sac"

    A file keeps a bench's settings beside its results, where a long ``--set`` list would live
    only in a shell history. The values are checked with the runs' configs (:func:`plan_runs`)."""
    file = Path(path)
    if file.suffix not in (".toml", ".json"):
        raise ValueError(f"--overrides {str(file)!r}: expected a .toml or .json file")
    if not file.is_file():
        raise FileNotFoundError(f"--overrides {str(file)!r}: no such file")
    try:
        data = tomllib.loads(file.read_text()) if file.suffix == ".toml" else json.loads(file.read_text())
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"--overrides {str(file)!r} does not parse as {file.suffix[1:].upper()}: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"--overrides {str(file)!r}: expected a table of agents, got {type(data).__name__}")
    for agent, fields in data.items():
        if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
            raise ValueError(
                f"--overrides {str(file)!r}: {agent!r} must be a table of config fields "
                f"(e.g. [{agent}] update_iter = 10), got {fields!r}"
            )
    return {agent: dict(fields) for agent, fields in data.items()}


def merge_overrides(*sources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-agent overrides from several sources, later ones winning field by field (a file,
    then ``--set`` on the command line)."""
    merged: dict[str, dict[str, Any]] = {}
    for source in sources:
        for agent, fields in source.items():
            merged.setdefault(agent, {}).update(fields)
    return merged


def plan_runs(agents: list[str], problems: list[str], seeds: list[int], total_steps: int | None,
              overrides: dict[str, dict[str, Any]] | None = None) -> list[BenchRun]:  # fmt: skip
    """Every combination, validated: each run's config is built once here."""
    overrides = overrides or {}
    if not agents or not problems or not seeds:
        raise ValueError("a bench needs at least one agent, one problem and one seed")
    unknown = set(overrides) - set(agents)
    if unknown:
        raise ValueError(f"overrides (--set, --overrides) name agents not in this bench: {', '.join(sorted(unknown))}")
    if total_steps is not None and (isinstance(total_steps, bool) or total_steps < 1):
        raise ValueError(f"steps={total_steps!r} must be a positive integer (env steps per run)")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed={seed!r} must be a non-negative integer")
    runs = []
    for agent in agents:
        get_agent(agent)  # a ValueError naming the known agents
        extra = tuple(sorted(overrides.get(agent, {}).items()))
        for problem in problems:
            name = get_problem(problem).name
            for seed in seeds:
                run = BenchRun(agent, name, seed, total_steps, extra)
                try:
                    run.config()
                except (TypeError, ValueError) as error:
                    raise ValueError(f"{agent} on {name}: {error}") from None
                runs.append(run)
    return runs


def resources(jobs: int, cores: int | None = None) -> dict[str, int]:
    """Each of ``jobs`` concurrent runs gets its share of the cores: physics workers and update
    threads (collection threads stay 1). Without it every run would take all cores, and torch
    threads waiting on each other across runs slow an update tenfold (measured on 2 cores)."""
    cores = cores or available_cores()
    share = max(1, cores // max(1, jobs))
    return {"workers": share, "torch_threads": 1, "update_threads": share}
