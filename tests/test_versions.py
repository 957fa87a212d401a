"""Provenance helpers: what every result file records about the code and the machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from morl.versions import SIMD_FLAGS, arithmetic_environment, machine, numpy_blas_core, provenance, versions


def test_machine_names_the_cpu_and_its_simd_sets() -> None:
    import torch

    found = machine()
    assert found["cores"] and isinstance(found["cpu"], str) and found["cpu"]
    simd = found["simd"]
    assert isinstance(simd, list) and set(simd) <= set(SIMD_FLAGS)
    assert found["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()


def test_versions_and_machine_do_not_import_torch() -> None:
    """Reporting provenance from a torch-free process (the zoo, ``morl evaluate``) stays torch-free:
    the torch capability is recorded only where torch is already loaded."""
    code = ("import sys, morl.versions as v; m = v.machine(); v.versions(); "
            "print('torch' in sys.modules, 'torch_cpu_capability' in m)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_versions_name_the_packages_that_change_results() -> None:
    found = versions()
    assert set(found) >= {"morl", "mujoco", "torch", "gymnasium", "numpy"}


def test_provenance_heads_a_result_with_its_commit_versions_command_and_machine() -> None:
    """A result names the script from the repository's root however it was invoked (absolute path,
    from another directory), so the recorded command reruns it from a checkout."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "reproduce.py"
    found = provenance([str(script), "MO-Swimmer-v2", "--seed", "1"])
    assert found["command"] == "python benchmarks/reproduce.py MO-Swimmer-v2 --seed 1"
    assert found["versions"] == versions() and found["git_commit"] == versions().get("git_commit")
    assert found["machine"]["cpu"] == machine()["cpu"]
    outside = provenance(["/elsewhere/run.py", "--x", "a b"])["command"]  # not in the checkout: as given
    assert outside == "python /elsewhere/run.py --x 'a b'"  # quoted: the command reruns in a shell


def test_numpy_blas_core_follows_the_kernels_openblas_picked() -> None:
    """The recorded kernel family is the one OpenBLAS runs: forcing another (which changes a
    training run's arithmetic) changes what is recorded."""
    if platform.machine() != "x86_64" or numpy_blas_core() is None:
        pytest.skip("numpy links no OpenBLAS with x86 kernel families here")
    code = "from morl.versions import numpy_blas_core; print(numpy_blas_core())"
    names = {}
    for coretype in ("Haswell", "Prescott"):
        env = {**os.environ, "OPENBLAS_CORETYPE": coretype}
        names[coretype] = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                         check=True, env=env).stdout.strip()  # fmt: skip
    assert names["Haswell"] == "Haswell" and names["Prescott"] not in ("Haswell", "", "None")
    assert machine()["numpy_blas_core"] == numpy_blas_core()


def test_machine_records_the_variables_that_steer_the_numeric_kernels() -> None:
    """A machine image may force OpenBLAS's kernel family or thread counts through the environment
    (this project's machines set ``OPENBLAS_CORETYPE``): the record says which are set, and only
    those."""
    code = "import json; from morl.versions import machine; print(json.dumps(machine()['environment']))"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    env.update({"OPENBLAS_CORETYPE": "Prescott", "OMP_NUM_THREADS": "1", "MORL_UNRELATED": "x"})
    found = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                      env=env).stdout)  # fmt: skip
    assert found["OPENBLAS_CORETYPE"] == "Prescott" and found["OMP_NUM_THREADS"] == "1"
    assert "MORL_UNRELATED" not in found and "PATH" not in found
    assert machine()["environment"] == arithmetic_environment()
