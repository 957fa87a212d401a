"""How far the MuJoCo release alone moves a front: each shipped model replayed under several.

The shipped models were trained and recorded under mujoco 4.0; the authors ran MuJoCo 2.0
through mujoco-py, which no longer installs (2.3.7 is the oldest ``mujoco`` release with a
wheel for Python 3.11). A trained policy is fixed arithmetic on observations, so replaying it
under another engine release, on the same protocol (the papers' preferences, deterministic
actions, the same resets), measures how much the engine's trajectories alone change its front:
the scale of the difference that "MuJoCo 4 against 2.0" can contribute when our hypervolumes are
set beside the authors'. It is a lower bound on that contribution, not the whole of it: a policy
trained under the other release would have adapted to it.

Each version is installed (``pip install --no-deps --target``, cached under
``~/.cache/morl/mujoco-VERSION``) and put first on the ``PYTHONPATH`` of a child process that
evaluates the models; the child reports the mujoco it imported, and the parent checks it.

Since morl 0.4.0 the models are built through ``mujoco.MjSpec`` (to put MuJoCo 2.0's inertias
back), so only releases from 3.3.0 on can build them; the committed results for 2.3.7 and 3.0.0
were measured on the 0.3 definitions.

Usage: python benchmarks/mujoco_versions.py [--versions 3.3.0,4.0.0]
           [--problems MO-Hopper-v2,...] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

import morl
from morl.versions import provenance
from morl.zoo import available

DEFAULT_VERSIONS = ("3.3.0", "4.0.0")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "morl"


def _child(problems: list[str]) -> None:
    """Evaluate each model under the mujoco this process imports; one JSON object on stdout."""
    import mujoco

    out: dict[str, Any] = {"mujoco": mujoco.__version__, "mujoco_file": mujoco.__file__, "problems": {}}
    for problem in problems:
        result = morl.pretrained(problem).evaluate()
        out["problems"][problem] = {"hypervolume": result.metrics.hypervolume, "returns": result.returns.tolist()}
    json.dump(out, sys.stdout)


def _site(version: str) -> Path:
    """A directory holding mujoco ``version`` alone, installed once."""
    target = CACHE / f"mujoco-{version}"
    if not (target / "mujoco").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                        f"mujoco=={version}"], check=True)  # fmt: skip
    return target


def _evaluate(version: str, problems: list[str]) -> dict[str, Any]:
    import mujoco

    env = dict(os.environ)
    if version != mujoco.__version__:
        site = _site(version)
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run([sys.executable, __file__, "--child", "--problems", ",".join(problems)], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"mujoco {version}: the evaluation failed:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout)
    if found["mujoco"] != version:
        raise RuntimeError(f"asked for mujoco {version}, the child imported {found['mujoco']} ({found['mujoco_file']})")
    return found


def _compare(returns: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Per preference, the distance between the two return vectors relative to the reference's norm."""
    change = np.linalg.norm(returns - reference, axis=1) / np.maximum(np.linalg.norm(reference, axis=1), 1e-12)
    return {"median_relative_change": float(np.median(change)), "max_relative_change": float(change.max()),
            "share_changed_over_10pct": float(np.mean(change > 0.10))}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", default=",".join(DEFAULT_VERSIONS), help="comma-separated mujoco releases")
    parser.add_argument("--problems", default=None, help="comma-separated problems (default: every shipped model)")
    parser.add_argument("--out", help="also write the results as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    problems = args.problems.split(",") if args.problems else available()
    if args.child:
        _child(problems)
        return
    import mujoco

    installed = mujoco.__version__
    wanted = [v.strip() for v in args.versions.split(",") if v.strip()]
    if installed not in wanted:
        wanted.append(installed)  # the reference: the release the models were recorded under
    runs = {version: _evaluate(version, problems) for version in wanted}
    header = provenance()
    print(", ".join(f"{k} {v}" for k, v in header["versions"].items()) + f", python {sys.version.split()[0]}")
    print(f"Reference: mujoco {installed} (installed, the models' own). HV of each shipped model's front on the paper "
          f"protocol under each release, and per preference the change of the return vector from the reference's "
          f"(|Δ| / |reference|)")  # fmt: skip
    rows: dict[str, Any] = {}
    for problem in problems:
        reference = runs[installed]["problems"][problem]
        recorded = morl.pretrained(problem).provenance["hypervolume_of_the_model"]
        print(f"\n{problem} (recorded HV {recorded:.4g})")
        print(f"  {'mujoco':8s} {'HV':>10s} {'HV / ref':>9s} {'median Δ':>9s} {'max Δ':>7s} {'Δ > 10 %':>9s}")
        rows[problem] = {"recorded_hypervolume": recorded, "versions": {}}
        for version, run in runs.items():
            entry = run["problems"][problem]
            row = {"hypervolume": entry["hypervolume"], "hv_ratio": entry["hypervolume"] / reference["hypervolume"],
                   **_compare(np.asarray(entry["returns"]), np.asarray(reference["returns"]))}  # fmt: skip
            rows[problem]["versions"][version] = row
            print(f"  {version:8s} {row['hypervolume']:10.4g} {row['hv_ratio']:9.3f} "
                  f"{row['median_relative_change']:9.1%} {row['max_relative_change']:7.0%} "
                  f"{row['share_changed_over_10pct']:9.0%}")  # fmt: skip
    if args.out:
        # provenance first, as every result file of benchmarks/ has it
        record = {**header, "reference_mujoco": installed, "problems": rows}
        Path(args.out).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
