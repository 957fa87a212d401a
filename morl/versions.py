"""What produced a result: versions of morl and of the packages that change results, and the
git commit when morl runs from a checkout. Torch-free: versions come from package metadata."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

MORL_VERSION = "0.4.0"  # morl.__version__; pyproject.toml's version says the same

# The instruction sets that pick different floating-point kernels in numpy, torch and MuJoCo's
# compiler output: two machines that differ here can run one seed's training to different results.
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@functools.cache
def git_commit() -> str | None:
    """The commit of the checkout morl runs from (``+dirty`` with local changes), else None."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


@functools.cache
def _package_versions() -> dict[str, str]:
    """Read once per process: package metadata lookups cost ~5 ms each, and exporting a policy
    (PGMORL exports its offspring every iteration) asks for them every time."""
    return {name: _version(name) for name in ("mujoco", "torch", "gymnasium", "numpy")}


def versions() -> dict[str, str]:
    """Versions of morl and of the packages that change results; the git commit when known.

    Read from package metadata, so reporting torch's version does not import torch.
    """
    found = {"morl": MORL_VERSION}
    found.update(_package_versions())
    commit = git_commit()
    if commit is not None:
        found["git_commit"] = commit
    return found


def _cpu_info() -> tuple[str, list[str]]:
    """The CPU's model name and which of :data:`SIMD_FLAGS` it has, from ``/proc/cpuinfo`` (Linux);
    elsewhere ``platform.processor()`` and no flags."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown", []
    model, flags = "unknown", set[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model == "unknown":
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    return model, [f for f in SIMD_FLAGS if f in flags]


_CORENAME_SYMBOLS = ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                     "openblas_get_corename")  # fmt: skip


def numpy_blas_core() -> str | None:
    """The kernel family numpy's OpenBLAS picked for this CPU (``Haswell``, ``SkylakeX``, ``Zen``,
    ...), or None when numpy does not link a loaded OpenBLAS (or not on Linux).

    OpenBLAS chooses its kernels at load time from the CPU unless ``OPENBLAS_CORETYPE`` forces a
    family (the project's development machines set ``Haswell``; left alone, OpenBLAS picks
    ``SkylakeX`` on their AVX-512 EPYC), and another kernel family changes numpy's matrix products
    in the last bits, which changes a training run from its first update (measured:
    ``OPENBLAS_CORETYPE=Prescott`` against ``Haswell`` on 500 k Ant steps).
    """
    import ctypes

    import numpy  # noqa: F401  (loads numpy's OpenBLAS)

    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    libraries = sorted({line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower() and "/" in line})
    for library in libraries:
        try:
            handle = ctypes.CDLL(library)
        except OSError:
            continue
        for symbol in _CORENAME_SYMBOLS:
            function = getattr(handle, symbol, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                name: bytes | None = function()
                return name.decode() if name else None
    return None


# Environment variables that choose kernels, blocking or threads of the numeric libraries.
ARITHMETIC_ENVIRONMENT = ("OPENBLAS_", "GOTO", "OMP_", "MKL_", "KMP_", "ATEN_CPU_CAPABILITY", "MUJOCO_")


def arithmetic_environment() -> dict[str, str]:
    """The set environment variables that steer numpy's, torch's or MuJoCo's numeric kernels
    (``OPENBLAS_CORETYPE``, ``OMP_NUM_THREADS``, ``ATEN_CPU_CAPABILITY``, ...): a machine image may
    set them, and then two machines of one CPU model still compute differently."""
    return {key: value for key, value in sorted(os.environ.items()) if key.startswith(ARITHMETIC_ENVIRONMENT)}


def machine() -> dict[str, object]:
    """What a result's arithmetic depends on beyond the versions: cores, CPU model, its SIMD
    instruction sets, the kernels numpy's OpenBLAS picked, the environment variables that steer the
    numeric libraries, the platform, python, and (when torch is already loaded) the SIMD level torch
    dispatches to.

    One seed's training is bit-for-bit repeatable on one machine, but the same seed and arithmetic on
    another CPU can take other float paths and end elsewhere (an Ant run of this project did); this
    is what a reader needs to tell those apart. Torch is not imported for it.
    """
    model, flags = _cpu_info()
    found: dict[str, object] = {"cores": os.cpu_count(), "cpu": model, "simd": flags,
                                "numpy_blas_core": numpy_blas_core(), "environment": arithmetic_environment(),
                                "platform": platform.platform(),
                                "python": platform.python_version()}  # fmt: skip
    torch = sys.modules.get("torch")
    if torch is not None:
        found["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return found


def provenance(argv: list[str] | None = None) -> dict[str, Any]:
    """What every result file of ``benchmarks/`` opens with: the git commit, the versions, the
    exact command that wrote it and the machine.

    One helper, so no script can forget a field or spell the command differently: a reader reruns
    a result from its ``command``, which names the script as a path from the repository's root
    (from any directory, by any path) followed by its arguments as given, shell-quoted (arguments
    that are paths stay as the caller wrote them: a record names where its inputs came from).
    The commit is read once per process (:func:`git_commit` is cached), so a script that calls
    this after a long run still names the commit it started on.
    """
    args = list(sys.argv if argv is None else argv)
    if args:
        script, root = Path(args[0]).resolve(), Path(__file__).resolve().parents[1]
        args[0] = script.relative_to(root).as_posix() if script.is_relative_to(root) else Path(args[0]).as_posix()
    produced_by = versions()
    return {"git_commit": produced_by.get("git_commit"), "versions": produced_by,
            "command": shlex.join(["python", *args]), "machine": machine()}  # fmt: skip
