"""``morl bench status DIR``: where a bench stands, read from its directory while it runs or after.

Each run is finished or failed (its record), running (its run directory's lock is held: the pid,
its progress and, at its recent training rate, the time left), interrupted (a run directory
without a record and without a live holder: resumes, or for an agent that cannot resume starts
over, on the next ``morl bench``) or pending (planned by a ``morl bench`` command, never started).
The plan is ``DIR/plan.json``, written by every bench command before its first run (merged
with the earlier commands' runs on the same directory); a bench from before the plan file shows
its started runs only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from morl.agents import get_agent
from morl.bench.plan import read_plan, same_description
from morl.run_files import DirectoryLock

STATES = ("finished", "failed", "running", "interrupted", "pending")


@dataclass(frozen=True)
class RunStatus:
    """One run's state (one of :data:`STATES`) and a line saying more."""

    key: str
    state: str
    detail: str


def run_progress(directory: Path) -> tuple[int, int | None, float | None]:
    """(env steps logged so far, the planned total, the mean training rate of the last five
    iterations in env-steps/s) of a run directory; a part it lacks reads as 0 or None."""
    steps, rates = 0, []
    try:
        lines = (directory / "metrics.jsonl").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a kill
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int):
            steps = max(steps, row["step"])
            if isinstance(row.get("train/steps_per_second"), (int, float)):
                rates.append(float(row["train/steps_per_second"]))
    try:
        total = json.loads((directory / "config.json").read_text()).get("total_steps")
    except (OSError, json.JSONDecodeError, AttributeError):
        total = None
    recent = rates[-5:]
    return steps, total if isinstance(total, int) else None, sum(recent) / len(recent) if recent else None


def _agent_resumes(key: str) -> bool:
    try:
        return get_agent(key.split("__", 1)[0]).resumes
    except Exception:  # unknown here (registered in another program) or an installed agent that fails
        return True


def _unfinished(key: str, directory: Path, pid: int | None) -> RunStatus:
    """A run directory without a finished record: running when ``pid`` holds its lock."""
    steps, total, rate = run_progress(directory)
    done = f"{steps:,} / {total:,} env steps ({100 * steps / total:.0f} %)" if total else f"{steps:,} env steps"
    if pid is not None:
        left = ""
        if total and rate:
            left = f", ~{max(total - steps, 0) / rate / 60:.0f} min of training left at {rate:,.0f} env-steps/s"
        return RunStatus(key, "running", f"{done}, pid {pid}{left}")
    then = "resumes from its last checkpoint" if _agent_resumes(key) else "starts over (this agent cannot resume)"
    return RunStatus(key, "interrupted", f"{done}; {then} on the next `morl bench`")


def bench_status(out: str | Path) -> list[RunStatus]:
    """Every run of the bench in ``out``: planned ones in plan order, then any others by name."""
    root = Path(out)
    if not root.is_dir():
        raise FileNotFoundError(f"no bench directory at {str(root)!r}")
    records = {p.stem: p for p in sorted((root / "records").glob("*.json"))}
    started = {p.name: p for p in sorted((root / "runs").glob("*__*")) if p.is_dir()}
    planned = read_plan(root)
    keys = list(planned)
    keys += sorted((set(records) | set(started)) - set(keys))
    if not keys:
        raise FileNotFoundError(f"{str(root)!r} holds no bench (no plan.json, records/ or runs/)")
    statuses = []
    for key in keys:
        record: dict[str, Any] | None = None
        if key in records:
            try:
                record = json.loads(records[key].read_text())
            except (OSError, json.JSONDecodeError):
                record = None
        pid = DirectoryLock.holder(started[key]) if key in started else None
        stale = record is not None and key in planned and not same_description(record.get("run"), planned[key])
        if stale and pid is None:
            statuses.append(RunStatus(key, "pending", "its record is of another config; runs again on the next bench"))
        elif record is not None and record.get("status") == "finished":
            detail = (f"HV {record['metrics']['hypervolume']:.4g}, {record['training_env_steps']:,} env steps, "
                      f"{record['wall_time_s']:.0f} s")  # fmt: skip
            statuses.append(RunStatus(key, "finished", detail))
        elif pid is not None:
            statuses.append(_unfinished(key, started[key], pid))  # running: a first try or a failed run retried
        elif record is not None:
            statuses.append(RunStatus(key, "failed", str(record.get("error", "no error recorded"))[:300]))
        elif key in started:
            statuses.append(_unfinished(key, started[key], None))
        else:
            statuses.append(RunStatus(key, "pending", "not started"))
    return statuses


def format_status(out: str | Path, statuses: list[RunStatus]) -> str:
    """A count per state, then one line per run."""
    counts = ", ".join(f"{sum(s.state == state for s in statuses)} {state}" for state in STATES)
    width = max(len(s.key) for s in statuses)
    lines = [f"{out}: {len(statuses)} runs: {counts}"]
    lines += [f"  {s.state:<11} {s.key:<{width}}  {s.detail}" for s in statuses]
    return "\n".join(lines)
