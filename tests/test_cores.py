"""The cores a process may use size morl's "all cores" defaults, not the machine's core count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_a_process_pinned_to_one_core_sizes_its_defaults_by_it() -> None:
    """Pinned to one core (taskset, a cpuset, a pinned test worker), a run's update threads and
    physics processes default to 1, whatever the machine has."""
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
        "from morl.cores import available_cores; from morl.agents.base import update_threads;"
        "from morl.agents.hyper_morl import HyperMORLConfig; import morl;"
        "env = morl.make_vec('MO-Hopper-v2', 64);"
        "print(available_cores(), update_threads(HyperMORLConfig()), env.workers, os.cpu_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    cores, threads, workers, machine = (int(v) for v in out.stdout.split())
    assert (cores, threads, workers) == (1, 1, 1)
    assert machine == os.cpu_count()  # the machine's count is unchanged: only what the process may use
