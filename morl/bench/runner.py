"""Running a bench locally: every run in its own run directory, one JSON record per run.

``DIR/runs/<key>/`` is the run's directory (checkpoints: an interrupted run resumes from it);
``DIR/records/<key>.json`` its record, written atomically when it ends: finished (the final front
on the paper protocol, the HV trajectory, wall-clock, env steps, config, versions, machine) or
failed (the error; the other runs go on). A re-run skips finished runs and resumes the others.
Runs execute one after another in this process (``jobs=1``) or ``jobs`` at a time, each in its
own process (:mod:`.worker`), each with its share of the cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from morl.agents import get_agent, importable_elsewhere
from morl.bench.definitions import check_resumable
from morl.bench.plan import BenchRun, describe_run, resources, same_run, write_plan
from morl.bench.records import RECORD_FORMAT, read_records
from morl.cores import available_cores
from morl.envs.catalog import get_problem
from morl.envs.fingerprint import fingerprint
from morl.run_files import atomic_write_text, writable_directory
from morl.versions import machine, versions


def record_path(out: Path, run: BenchRun) -> Path:
    return out / "records" / f"{run.key}.json"


def finished(out: Path, run: BenchRun) -> bool:
    """True if ``run`` has a finished record (of the same config: a changed config runs again)."""
    path = record_path(out, run)
    if not path.is_file():
        return False
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return bool(record.get("status") == "finished" and same_run(record.get("run"), run))


def run_one(run: BenchRun, out: Path, share: dict[str, int], command: str) -> dict[str, Any]:
    """Train (or resume) one run, evaluate its front on the paper protocol, write its record."""
    start = time.time()
    base = provenance(run, command)
    try:
        config = run.config(**share)
        agent = get_agent(run.agent)(run.problem, config)
        agent.learn(out_dir=out / "runs" / run.key, progress=False)
        result = agent.evaluate()
        record = {
            **base,
            "status": "finished",
            "agent": run.agent,
            "problem": run.problem,
            "seed": run.seed,
            "config": json.loads(config.to_json()),
            "wall_time_s": agent.run.wall_time,
            "training_env_steps": agent.env_steps,
            "evaluation_env_steps": agent.run.eval_env_steps + result.env_steps,
            "env_steps_per_second": agent.env_steps / max(agent.run.wall_time, 1e-9),
            "parameters": agent.parameter_count(),
            "metrics": result.metrics.as_dict(),
            "front": result.front.tolist(),
            # every evaluated policy, not only the front: the preference -> return curves
            "evaluation": {"preferences": result.preferences.tolist(), "returns": result.returns.tolist()},
            "protocol": result.protocol.describe(),
            "trajectory": agent.run.history,
        }
    except KeyboardInterrupt:
        raise
    except Exception as error:
        record = {**base, "status": "failed", "agent": run.agent, "problem": run.problem, "seed": run.seed,
                  "error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()[-4000:],
                  "seconds_before_failing": time.time() - start}  # fmt: skip
    record["machine"] = machine()  # again now that the agent has loaded torch: its SIMD level
    write_record(out, run, record)
    return record


def write_record(out: Path, run: BenchRun, record: dict[str, Any]) -> None:
    """``out/records/<key>.json``, written atomically."""
    path = record_path(out, run)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(record, indent=1) + "\n")


def provenance(run: BenchRun, command: str) -> dict[str, Any]:
    """What heads every record: format, the commit, versions and command, the run, the machine."""
    produced_by = versions()
    return {
        "format": RECORD_FORMAT,
        "git_commit": produced_by.get("git_commit"),
        "versions": produced_by,
        "command": command,
        "fingerprint": fingerprint(run.problem),  # the problem's definition the numbers come from
        "run": describe_run(run),
        "machine": machine(),
    }


def failed_record(run: BenchRun, error: str, command: str = "") -> dict[str, Any]:
    """The record of a run that ended without one of its own (its process or task died), with
    the provenance of the process that noticed."""
    return {**provenance(run, command), "status": "failed", "agent": run.agent, "problem": run.problem,
            "seed": run.seed, "error": error}  # fmt: skip


def summary(record: dict[str, Any]) -> str:
    """One line of progress for a record."""
    detail = (f"HV {record['metrics']['hypervolume']:.4g}, {record['wall_time_s']:.0f} s"
              if record["status"] == "finished" else record["error"])  # fmt: skip
    return f"  {record['agent']} {record['problem']} seed {record['seed']}: {record['status']} ({detail})"


def bench(runs: list[BenchRun], out: str | os.PathLike[str], *, jobs: int = 1, command: str = "",
          report: Callable[[str], None] = print) -> list[dict[str, Any]]:  # fmt: skip
    """Run every run not finished yet; returns the records written by this call."""
    root = Path(out)
    writable_directory(root, "--out")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs={jobs!r} must be a positive integer (runs at a time)")
    cores = available_cores()
    if jobs > cores:  # more runs than cores would only slow each other down
        report(f"bench: --jobs {jobs} is more than the {cores} cores this process may use; running {cores} at a time")
        jobs = cores
    if jobs > 1:  # the runs go to other processes: each agent must be importable there by its path
        for agent in sorted({r.agent for r in runs}):
            importable_elsewhere(agent)
    check_resumable(read_records(root, strict=False), {get_problem(r.problem).name for r in runs}, repr(str(root)))
    write_plan(root, runs, command)
    todo = [run for run in runs if not finished(root, run)]
    report(f"bench: {len(runs)} runs, {len(runs) - len(todo)} finished before, {len(todo)} to run, {jobs} at a time")
    share = resources(jobs)
    records: list[dict[str, Any]] = []

    def done(record: dict[str, Any]) -> None:
        records.append(record)
        report(summary(record))

    if jobs == 1:
        for run in todo:
            done(run_one(run, root, share, command))
        return records
    queue = list(todo)
    running: dict[subprocess.Popen[bytes], tuple[BenchRun, float]] = {}
    try:
        while queue or running:
            while queue and len(running) < jobs:
                run = queue.pop(0)
                spec = {"run": describe_run(run), "out": str(root), "share": share, "command": command}
                command_line = [sys.executable, "-m", "morl.bench.worker", json.dumps(spec)]
                running[subprocess.Popen(command_line)] = (run, time.time())
            time.sleep(0.2)
            for proc in [p for p in running if p.poll() is not None]:
                run, started = running.pop(proc)
                done(_read_record(root, run, proc.returncode, started, command))
    except KeyboardInterrupt:
        for proc in running:  # they got the Ctrl-C too; wait for their last checkpoints
            proc.wait()
        raise
    return records


def _read_record(out: Path, run: BenchRun, returncode: int, started: float, command: str) -> dict[str, Any]:
    """The record a worker process wrote (after ``started``: not an earlier attempt's), or a
    failed one when it died without writing it."""
    path = record_path(out, run)
    try:
        record: dict[str, Any] = json.loads(path.read_text())
        if record.get("run") == describe_run(run) and path.stat().st_mtime >= started - 1.0:
            return record
    except (OSError, json.JSONDecodeError):
        pass
    record = failed_record(run, f"the run's process exited with status {returncode} without a record", command)
    write_record(out, run, record)
    return record
