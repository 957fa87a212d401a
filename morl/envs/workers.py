"""Physics stepping for the vector env: slices of simulations over shared memory.

The batch of simulations is split into contiguous slices. The calling process steps slice 0
itself; each other slice lives in a worker process that owns its MjData objects and writes
their state into arrays shared with the caller. Only a one-word command crosses the pipe per
step; all arrays stay in shared memory. With ``workers=1`` everything runs in-process.
While the caller steps its own slice, the workers step theirs: mj_step releases no GIL, so
processes, not threads, give the parallelism.
"""

from __future__ import annotations

import itertools
import mmap
import multiprocessing as mp
import multiprocessing.connection
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from typing import Any

import mujoco
import numpy as np

from morl.cores import available_cores
from morl.envs.catalog import get_problem
from morl.envs.models import build_model
from morl.envs.problem import Problem
from morl.envs.simulator import Simulator
from morl.envs.state import State, field_shapes, state_from_arrays

Layout = list[tuple[str, tuple[int, ...]]]


def buffer_layout(state_shapes: Mapping[str, tuple[int, ...]], nu: int, num_envs: int, full_state: int) -> Layout:
    """Names and shapes of the shared arrays: controls in, state out, reset requests in, and the
    full integration state of every simulation (for saving and restoring a batch exactly)."""
    layout: Layout = [("ctrl", (num_envs, nu))]
    layout += [(name, (num_envs, *shape)) for name, shape in state_shapes.items()]
    layout += [
        ("reset_qpos", (num_envs, *state_shapes["qpos"])),
        ("reset_qvel", (num_envs, *state_shapes["qvel"])),
        ("reset_mask", (num_envs,)),
        ("full_state", (num_envs, full_state)),
    ]
    return layout


_NOT_STATE = ("ctrl", "reset_qpos", "reset_qvel", "reset_mask", "full_state")


class SharedBuffers:
    """float64 arrays laid out in one block of memory (``buffer``) that worker processes map."""

    def __init__(self, layout: Layout, buffer: Any) -> None:
        flat = np.frombuffer(buffer, dtype=np.float64)
        self.arrays: dict[str, np.ndarray] = {}
        offset = 0
        for name, shape in layout:
            size = int(np.prod(shape))
            self.arrays[name] = flat[offset : offset + size].reshape(shape)
            offset += size
        self.state: State = state_from_arrays({k: v for k, v in self.arrays.items() if k not in _NOT_STATE})


def layout_bytes(layout: Layout) -> int:
    return 8 * sum(int(np.prod(shape)) for _, shape in layout)


class SliceRunner:
    """Steps and resets the simulations ``lo:hi`` of a batch held in :class:`SharedBuffers`."""

    def __init__(self, problem: Problem, buffers: SharedBuffers, lo: int, hi: int) -> None:
        model = build_model(problem.robot)
        self.rows = range(lo, hi)
        self.sims = [Simulator(problem, model) for _ in self.rows]
        self.datas = [sim.data for sim in self.sims]
        self.buffers = buffers

    def step(self) -> None:
        # The hot loop: locals and direct MjData access instead of Simulator.step/write, which
        # cost a few microseconds per env (a tenth of HalfCheetah's physics time).
        ctrl, state = self.buffers.arrays["ctrl"], self.buffers.state
        qpos, qvel, extras = state.qpos, state.qvel, list(state.extras.items())
        step, model, nstep = mujoco.mj_step, self.sims[0].model, self.sims[0].problem.frame_skip
        for row, data in zip(self.rows, self.datas, strict=True):
            data.ctrl[:] = ctrl[row]
            step(model, data, nstep)
            qpos[row] = data.qpos
            qvel[row] = data.qvel
            for name, array in extras:
                array[row] = getattr(data, name)

    def save(self) -> None:
        """Each simulation's full integration state into ``full_state``."""
        full = self.buffers.arrays["full_state"]
        for row, sim in zip(self.rows, self.sims, strict=True):
            full[row] = sim.get_full_state()

    def load(self) -> None:
        """Each simulation's full integration state from ``full_state`` (the caller restores the
        state arrays it read after the last step: they are not recomputed here)."""
        full = self.buffers.arrays["full_state"]
        for row, sim in zip(self.rows, self.sims, strict=True):
            sim.set_full_state(full[row])

    def reset(self) -> None:
        a = self.buffers.arrays
        mask, qpos, qvel, state = a["reset_mask"], a["reset_qpos"], a["reset_qvel"], self.buffers.state
        for row, sim in zip(self.rows, self.sims, strict=True):
            if mask[row]:
                sim.reset_to(qpos[row], qvel[row])
                sim.write(state, row)


def problem_layout(problem: Problem, num_envs: int) -> Layout:
    """The shared-memory layout of a batch of ``problem`` (computed alike in every process)."""
    model = build_model(problem.robot)
    full_state = mujoco.mj_stateSize(model, Simulator.STATE_SPEC)
    return buffer_layout(field_shapes(model, problem.extra_fields), model.nu, num_envs, full_state)


def split_rows(num_envs: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous, nearly equal slices of ``range(num_envs)``."""
    bounds = np.linspace(0, num_envs, parts + 1).round().astype(int)
    return [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds) if hi > lo]


def _anonymous_memory(size: int) -> tuple[int, mmap.mmap]:
    """A file descriptor of ``size`` bytes of memory-backed storage and its mapping."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("morl-vector-env", 0)
    else:  # other POSIX systems: an unlinked temporary file
        handle = tempfile.TemporaryFile()
        fd = os.dup(handle.fileno())
        handle.close()
    os.ftruncate(fd, size)
    return fd, mmap.mmap(fd, size)


class SlicedPhysics:
    """Runs step/reset commands over all slices: slice 0 here, the others in worker processes.

    Workers are plain ``python -m morl.envs._worker`` subprocesses, not ``multiprocessing``
    children: that needs no ``if __name__ == "__main__"`` guard in the user's script, is safe
    when torch threads are running (no fork), and a worker exits by itself when its pipe to the
    parent closes, so an abandoned env leaves no process behind.
    """

    def __init__(self, problem: Problem, num_envs: int, workers: int) -> None:
        layout = problem_layout(problem, num_envs)
        slices = split_rows(num_envs, max(1, min(workers, num_envs)))
        if len(slices) > 1 and os.name != "posix":
            slices = [(0, num_envs)]  # worker processes need fd passing (POSIX)
        size = layout_bytes(layout)
        self._fd = -1
        buffer: mmap.mmap | bytearray
        if len(slices) > 1:
            self._fd, buffer = _anonymous_memory(size)
        else:
            buffer = bytearray(size)
        self.buffers = SharedBuffers(layout, buffer)
        self._local = SliceRunner(problem, self.buffers, *slices[0])
        self._conns: list[mp.connection.Connection] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        # Polling instead of blocking pays only while every process has a core of its own.
        self._spin = SPIN_SECONDS if len(slices) <= available_cores() else 0.0
        for lo, hi in slices[1:]:
            args = [problem.name, str(num_envs), str(lo), str(hi), str(self._fd), str(self._spin)]
            conn, proc = spawn_worker("morl.envs._worker", args, pass_fds=(self._fd,))
            self._conns.append(conn)
            self._procs.append(proc)
        for conn in self._conns:
            self._expect(conn, "ready", 0.0)

    @property
    def num_processes(self) -> int:
        return 1 + len(self._procs)

    @property
    def worker_pids(self) -> list[int]:
        return [proc.pid for proc in self._procs]

    def run(self, command: str) -> None:
        for conn in self._conns:
            conn.send(command)
        getattr(self._local, command)()
        for conn in self._conns:
            self._expect(conn, "ok", self._spin)

    @staticmethod
    def _expect(conn: mp.connection.Connection, reply: str, spin: float) -> None:
        try:
            await_message(conn, spin)
            message = conn.recv()
        except (EOFError, OSError):
            raise RuntimeError("a vector env worker process died") from None
        if message != reply:
            raise RuntimeError(f"vector env worker failed: {message}")

    def close(self) -> None:
        stop_workers(self._conns, self._procs)
        self._conns, self._procs = [], []
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


# Both sides of a command poll for the other's message for this long before blocking. A blocked
# process is woken by the kernel, which on a VM costs tens of microseconds each way (a halted
# vCPU is woken by an interrupt); per env step that was a sixth of HalfCheetah's step time. The
# next step's command comes within a millisecond while collecting; during a long pause (the
# update) a worker polls this long once, then blocks.
SPIN_SECONDS = 0.002


def await_message(conn: mp.connection.Connection, seconds: float) -> None:
    """Poll ``conn`` until it has a message or ``seconds`` pass (the caller then blocks in recv)."""
    deadline = time.perf_counter() + seconds
    while not conn.poll(0) and time.perf_counter() < deadline:
        pass


def worker_main(argv: list[str]) -> None:
    """Entry point of a worker process (see :class:`SlicedPhysics`)."""
    # Ctrl-C in a terminal reaches the whole process group: the parent handles it (saving what
    # it needs from these workers first), so a worker must not die of it. (It started with
    # SIGINT blocked, see spawn_worker: ignoring it discards one pending since.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    name, num_envs, lo, hi, mem_fd, spin, conn_fd = argv
    conn = mp.connection.Connection(int(conn_fd))
    try:
        problem = get_problem(name)
        layout = problem_layout(problem, int(num_envs))
        buffer = mmap.mmap(int(mem_fd), layout_bytes(layout))
        runner = SliceRunner(problem, SharedBuffers(layout, buffer), int(lo), int(hi))
        conn.send("ready")
        while True:
            await_message(conn, float(spin))
            command = conn.recv()
            if command == "close":
                break
            if command not in ("step", "reset", "save", "load"):
                raise ValueError(f"unknown command {command!r}")
            getattr(runner, command)()
            conn.send("ok")
    except (KeyboardInterrupt, EOFError, OSError):
        pass
    except Exception as error:  # report to the parent instead of dying silently
        conn.send(f"error: {error!r}")
    finally:
        conn.close()


def spawn_worker(module: str, args: list[str], pass_fds: tuple[int, ...] = ()) -> tuple[mp.connection.Connection, Any]:
    """Start ``python -m module *args CONN_FD``: a plain subprocess (no fork of a process that
    may run torch threads, no main guard needed in the user's script) connected by a socket pair
    whose child end's descriptor is its last argument. Returns the parent's connection and the
    process.

    The worker starts with SIGINT blocked (the signal mask is inherited through fork and exec):
    a terminal's Ctrl-C reaches the whole process group, and a worker ignores SIGINT only once
    its own code runs, a second or so after it starts (imports); one arriving before that killed
    it with a KeyboardInterrupt traceback on the terminal. Blocking it in this thread while the
    worker is started loses nothing here: a SIGINT meanwhile is taken by another thread of this
    process or stays pending until the mask is restored."""
    parent, child = socket.socketpair()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args, str(child.fileno())],
            pass_fds=(*pass_fds, child.fileno()),
            stdin=subprocess.DEVNULL,
        )
    finally:
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child.close()
    return mp.connection.Connection(parent.detach()), proc


def stop_workers(conns: list[mp.connection.Connection], procs: list[Any]) -> None:
    """Ask each worker to close, wait for it (killing one that does not exit within 5 s), and
    close the connections."""
    for conn in conns:
        try:
            conn.send("close")
        except OSError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for conn in conns:
        conn.close()
