"""Shared helpers of the test suite."""

from __future__ import annotations

import os
import sys

# MuJoCo's offscreen rendering (the explorer's silhouette test, GIFs): EGL works headless, the
# default (GLFW) needs a display. Set before mujoco is first imported.
if sys.platform.startswith("linux"):  # elsewhere mujoco picks its platform's own
    os.environ.setdefault("MUJOCO_GL", "egl")
# The PPO update eagerly even where a test's budget would compile it (compiled_update="auto" at
# >= 5 M steps, "on"): each new shape compiles for seconds; tests/test_ppo_gradient.py holds the
# compiled gradient to the eager one.
os.environ.setdefault("MORL_EAGER_UPDATE", "1")


def _pin_xdist_worker() -> None:
    """Under pytest-xdist (``make test``), each worker on cores of its own. Unpinned, a worker's
    torch update takes every core (``update_threads=0``) while the other worker is busy, and
    torch's threads, spinning while they wait for each other, slowed PD-MORL's tests tenfold. A
    pinned worker's "all cores" are its own (:func:`morl.cores.available_cores`), and so are its
    physics processes'. With more workers than cores, workers share a core each, round-robin."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if not worker.startswith("gw") or count < 1 or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    index = int(worker[2:]) % count
    if len(cores) <= count:  # a core each, shared round-robin when there are more workers than cores
        mine = [cores[index % len(cores)]]
    else:
        share = len(cores) // count
        last = index == count - 1  # the last worker also takes the cores the division leaves over
        mine = cores[index * share : len(cores) if last else (index + 1) * share]
    try:
        os.sched_setaffinity(0, mine)
    except OSError:  # a sandbox that forbids it: the workers share the cores unpinned
        pass


_pin_xdist_worker()  # before numpy's and torch's thread pools start: threads inherit the affinity

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import morl  # noqa: E402

ALL_IDS = list(morl.PROBLEM_IDS)


@pytest.fixture(params=ALL_IDS)
def problem_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def random_actions(space, steps: int, seed: int = 0, batch: int | None = None) -> np.ndarray:
    """Uniform random actions inside ``space`` (a Box), reproducible."""
    rng = np.random.default_rng(seed)
    shape = (steps, *space.shape) if batch is None else (steps, batch, *space.shape)
    return rng.uniform(space.low, space.high, size=shape).astype(np.float32)


# Files whose tests take minutes (learning tests, stopped-and-resumed runs, benches): first in the
# run, so that `make test`'s two workers (pytest-xdist, --dist load --maxschedchunk 1: one test at a
# time to whichever worker is free, in collection order) start on them and the short tests fill
# in around them, instead of one worker ending the suite alone on a five-minute learning test.
LONGEST_FIRST = ("test_baselines_learn.py", "test_run_directory.py", "test_bench.py", "test_agents.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests first, those of :data:`LONGEST_FIRST`'s files before the others (a stable sort:
    within a rank the order stays the files' own)."""

    def rank(item: pytest.Item) -> tuple[int, int]:
        slow = item.get_closest_marker("slow") is not None
        name = item.path.name
        return (0 if slow else 1, LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST))

    items.sort(key=rank)
