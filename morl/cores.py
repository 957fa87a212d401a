"""How many cores this process may use.

``os.cpu_count()`` counts the machine's cores; a process may be allowed fewer (``taskset``, a
container's cpuset, a test worker pinned to one core). Sizing torch's thread pool or the physics
processes by the machine then oversubscribes the cores this process has, and torch's threads,
which spin while they wait for each other, slow an update by an order of magnitude (PD-MORL's:
12 s alone, 178 s beside one other busy process, on 2 cores). Every "all cores" default of
morl means these.
"""

from __future__ import annotations

import os


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity where the platform has one (Linux),
    else the machine's core count; at least 1."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        try:
            return max(1, len(affinity(0)))
        except OSError:
            pass
    return os.cpu_count() or 1
