"""Running a bench on a Ray cluster: one Ray task per run, each with its CPU request.

``morl bench run ... --ray local`` starts a Ray instance on this machine, listening on loopback only
(the same as the local runner, through Ray's scheduler); ``--ray auto`` joins the cluster this
machine belongs to (``ray start`` was run); ``--ray ADDRESS`` connects to the head at ADDRESS.
Ray is an optional extra (``pip install 'morl[ray]'``); nothing here is a distribution layer of
our own: Ray places the tasks, and each task is :func:`morl.bench.runner.run_one`, the local
runner's unit.

**Where the files go.** A task writes its run directory (checkpoints) and its record under
``--out`` on the node that runs it, and returns the record, which the driver writes into its own
``--out`` too. With ``--out`` on storage shared by the nodes (NFS and the like), everything lands
in one place and an interrupted bench resumes from its checkpoints; without shared storage the
records still come back to the driver (enough for ``morl bench report``), but the checkpoints
stay on the nodes, so a re-run skips finished runs and restarts unfinished ones from scratch.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from morl.agents import importable_elsewhere
from morl.bench.plan import (
    BenchRun,
    describe_run,
    register_described_agent,
    resources,
    run_from_description,
    write_plan,
)
from morl.bench.runner import failed_record, finished, run_one, summary, write_record
from morl.cores import available_cores
from morl.run_files import writable_directory


def _run_task(description: dict[str, Any], out: str, share: dict[str, int], command: str) -> dict[str, Any]:
    """One bench run inside a Ray worker (importable by reference: Ray ships only its name)."""
    register_described_agent(description)  # an agent from outside morl, by its path
    return run_one(run_from_description(description), Path(out), share, command)


def _connect(address: str) -> bool:
    """Connect to Ray (``local`` starts an instance here); True if this call started it."""
    try:
        import ray
    except ImportError:
        raise ImportError("--ray needs Ray: pip install 'morl[ray]'") from None
    if ray.is_initialized():
        return False
    if address == "local":
        _init_local(ray)
    else:
        ray.init(address=address, log_to_driver=False)
    return True


LOOPBACK = "127.0.0.1"
# Ray's switch for multi-node clusters (its name is from the platforms where it is off by
# default): off, a node is this machine alone and its address is the loopback address.
_CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _init_local(ray: Any) -> None:
    """Start a Ray instance for this machine alone, none of whose processes listens beyond
    loopback: ``--ray local`` needs no other machine to reach it, and Ray's security guidance is
    that its ports be reachable from trusted machines only.

    Ray binds its gRPC servers (GCS, raylet, object manager, every core worker, this driver's
    included) to loopback only when the node's address is exactly 127.0.0.1, and its runtime env
    agent to the node's address; otherwise to all interfaces. ``_node_ip_address="127.0.0.1"``
    alone is not enough on Linux: ``ray.init`` replaces a loopback address with the machine's
    routable one unless Ray's cluster mode is off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which
    each Ray process reads once, at import, into ``ray._private.ray_constants.ENABLE_RAY_CLUSTER``).
    So it is off while Ray starts: in the environment of the processes ``ray.init`` starts (the
    raylet hands it on to its workers and agents) and in this process's constant (read when ray
    was imported, before this call); both are restored afterwards. No dashboard. The node's
    address is checked after the start; any other stops Ray with a RuntimeError.
    """
    try:  # private: Ray (2.60) has no public switch for it
        constants: Any = importlib.import_module("ray._private.ray_constants")
    except ImportError:  # a Ray that moved it: the environment variable and the check remain
        constants = None
    saved_env = os.environ.get(_CLUSTER_SWITCH)
    saved_flag = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    os.environ[_CLUSTER_SWITCH] = "0"
    if saved_flag is not None:
        constants.ENABLE_RAY_CLUSTER = False
    try:
        ray.init(num_cpus=available_cores(), include_dashboard=False, log_to_driver=False,
                 object_store_memory=200 * 1024**2, _node_ip_address=LOOPBACK)  # fmt: skip
    finally:
        if saved_env is None:
            os.environ.pop(_CLUSTER_SWITCH, None)
        else:
            os.environ[_CLUSTER_SWITCH] = saved_env
        if saved_flag is not None:
            constants.ENABLE_RAY_CLUSTER = saved_flag
    node = ray.util.get_node_ip_address()
    if node != LOOPBACK:
        ray.shutdown()
        raise RuntimeError(
            f"--ray local: Ray {ray.__version__} started its node on {node}, not {LOOPBACK}, so its servers "
            "would listen beyond this machine; stopped it"
        )


def bench_on_ray(runs: list[BenchRun], out: str | os.PathLike[str], *, address: str, cpus_per_run: int,
                 command: str = "", report: Callable[[str], None] = print) -> list[dict[str, Any]]:  # fmt: skip
    """Run every run not finished yet as a Ray task requesting ``cpus_per_run`` CPUs (its physics
    workers and update threads); returns the records written by this call. A task that fails or
    whose worker dies is recorded as failed; the others go on. Ctrl-C cancels the tasks."""
    if isinstance(cpus_per_run, bool) or not isinstance(cpus_per_run, int) or cpus_per_run < 1:
        raise ValueError(f"cpus_per_run={cpus_per_run!r} must be a positive integer")
    if not isinstance(address, str) or not address:
        raise ValueError(f"address={address!r}: expected 'local', 'auto' or a Ray head address")
    for agent in sorted({r.agent for r in runs}):  # each task imports its agent by its path
        importable_elsewhere(agent)
    root = Path(out)
    writable_directory(root, "--out")
    write_plan(root, runs, command)
    todo = [run for run in runs if not finished(root, run)]
    started = _connect(address)
    import ray

    try:
        cluster_cpus = int(ray.cluster_resources().get("CPU", 0))
        report(f"bench on Ray ({address}, {cluster_cpus} CPUs): {len(runs)} runs, {len(runs) - len(todo)} "
               f"finished before, {len(todo)} to run, {cpus_per_run} CPUs each")  # fmt: skip
        if todo and cpus_per_run > cluster_cpus:
            raise ValueError(
                f"cpus_per_run={cpus_per_run} exceeds the cluster's {cluster_cpus} CPUs: no run could start"
            )
        share = resources(1, cores=cpus_per_run)  # the task's CPUs, as one local run's share of its cores
        task = ray.remote(num_cpus=cpus_per_run, max_retries=0)(_run_task)
        pending = {task.remote(describe_run(run), str(root.resolve()), share, command): run for run in todo}
        records: list[dict[str, Any]] = []
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                run = pending.pop(ready[0])
                try:
                    record = ray.get(ready[0])
                except Exception as error:  # the task raised past run_one, or its worker died
                    record = failed_record(run, f"Ray task failed: {type(error).__name__}: {error}"[:2000], command)
                write_record(root, run, record)  # the driver's copy (the node's, without shared storage)
                records.append(record)
                report(summary(record))
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref)
            raise
        return records
    finally:
        if started:
            ray.shutdown()
