"""Replay each shipped pretrained set under today's problem definition, and measure how far a replay
moves between two machines' arithmetic.

1. **Physics change** (default): every shipped model, evaluated on the paper protocol under this
   morl's definition of its problem (fingerprint in the record), beside the hypervolume recorded
   when it was exported (under the definition it was trained on: morl < 0.4.0, today's-compiler
   masses and margins, Humanoid's unclamped energy term). Also the returns of the export's few
   recorded preferences under today's definition: ``tests/test_zoo.py`` replays those.
2. **Kernels** (``--kernels PROBLEM``): one model's front evaluated in child processes under two
   OpenBLAS kernel families (``OPENBLAS_CORETYPE``) and with NumPy's AVX-512 dispatch switched off
   (``NPY_DISABLE_CPU_FEATURES``), once with the actor on BLAS in float32 (what morl < 0.4.0 did)
   and once with :mod:`morl.portable_math` (what it does now); the record gives, per arithmetic,
   the largest change of any preference's return and of the hypervolume against the first setting.

3. **The other instruction set** (``--other-isa``): MuJoCo's own arithmetic differs between CPUs
   with and without AVX-512 (google-deepmind/mujoco#2659; NumPy's dispatch and the portable actor
   are not the cause: they are switched off or fixed in 2.), so the recorded preferences' returns
   replayed on a machine of the other kind can differ on contact-rich robots (MO-Humanoid-v2:
   one of three preferences, 24 %). Run on such a machine, this adds that machine's replay of
   every shipped model to the physics record (``other_isa``), and ``tests/test_zoo.py`` holds
   each kind of machine to its own replay.

Usage: python benchmarks/pretrained_replay.py [--problems MO-Ant-v2,...] [--out FILE]
       python benchmarks/pretrained_replay.py --kernels MO-Ant-v2 [--out FILE]
       python benchmarks/pretrained_replay.py --other-isa [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import morl
from morl.versions import machine, versions
from morl.zoo import PretrainedParetoSet, available

RESULTS = Path(__file__).parent / "results"
# The kernel settings compared: the machine image's own, another OpenBLAS family, no AVX-512 in NumPy.
SETTINGS: dict[str, dict[str, str]] = {
    "OPENBLAS_CORETYPE=Haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "OPENBLAS_CORETYPE=SkylakeX": {"OPENBLAS_CORETYPE": "SkylakeX"},
    "OPENBLAS_CORETYPE=Haswell, NumPy without AVX-512": {
        "OPENBLAS_CORETYPE": "Haswell",
        "NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR",
    },
}


class BlasFloat32Actor:
    """The zoo's evaluation actor as morl < 0.4.0 ran it: NumPy matrix products (BLAS) in float32."""

    def __init__(self, model: PretrainedParetoSet) -> None:
        self.model = model

    def predict_batch(self, obs: np.ndarray, preferences: np.ndarray, deterministic: bool = True) -> np.ndarray:
        from morl.normalization import RunningMeanStd, normalize_observations

        del deterministic
        m = self.model
        x = np.asarray(preferences, dtype=np.float32)
        for i, (weight, bias) in enumerate(m.embedding):
            x = x @ weight + bias
            if i < len(m.embedding) - 1:
                x = np.maximum(x, 0.0)
        parts = m._split(x @ m.W + m.b)
        h = normalize_observations(obs, RunningMeanStd(m.obs_mean, m.obs_var)).astype(np.float32)[:, None]
        layers = sum(1 for name, _ in m.segments if name.startswith("actor") and name.endswith("weight"))
        for i in range(layers):
            h = h @ np.swapaxes(parts[f"actor.{i}.weight"], 1, 2) + parts[f"actor.{i}.bias"][:, None, :]
            if i < layers - 1:
                h = np.tanh(h)
        return h[:, 0].astype(np.float64)


def _child(problem: str, arithmetic: str) -> None:
    """One front of ``problem`` with ``arithmetic``; one JSON object on stdout."""
    from morl.evaluation import evaluate_front
    from morl.preferences import evaluation_preferences
    from morl.versions import numpy_blas_core

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the model's definition is reported by the parent
        model = morl.pretrained(problem)
    source: Any = model if arithmetic == "portable" else BlasFloat32Actor(model)
    result = evaluate_front(source, problem, evaluation_preferences(model.m))
    json.dump({"blas_core": numpy_blas_core(), "hypervolume": result.metrics.hypervolume,
               "returns": result.returns.tolist()}, sys.stdout)  # fmt: skip


def _run_child(problem: str, arithmetic: str, setting: dict[str, str]) -> dict[str, Any]:
    environment = {**os.environ, **setting}
    if "NPY_DISABLE_CPU_FEATURES" not in setting:
        environment.pop("NPY_DISABLE_CPU_FEATURES", None)
    done = subprocess.run([sys.executable, __file__, "--child", problem, arithmetic], env=environment,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"child {problem} {arithmetic} {setting} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout))


def kernels(problem: str) -> dict[str, Any]:
    """Per arithmetic, the largest move of a return and of the HV across :data:`SETTINGS`."""
    found: dict[str, Any] = {}
    for arithmetic in ("blas-float32", "portable"):
        runs = {name: _run_child(problem, arithmetic, setting) for name, setting in SETTINGS.items()}
        first = next(iter(runs.values()))
        base = np.asarray(first["returns"])
        rows = {}
        for name, run in runs.items():
            returns = np.asarray(run["returns"])
            relative = np.abs(returns - base) / np.maximum(np.abs(base), 1.0)
            rows[name] = {"openblas_core": run["blas_core"], "hypervolume": run["hypervolume"],
                          "hypervolume_change": run["hypervolume"] / first["hypervolume"] - 1.0,
                          "max_relative_return_change": float(relative.max()),
                          "preferences_changed": int(np.any(returns != base, axis=1).sum()),
                          "bit_identical": bool(np.array_equal(returns, base))}  # fmt: skip
        found[arithmetic] = rows
    return found


def physics(problems: list[str]) -> dict[str, Any]:
    """Each shipped model's front under today's definition beside its recorded one."""
    rows: dict[str, Any] = {}
    for problem in problems:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = morl.pretrained(problem)
        start = time.time()
        front = model.evaluate()
        recorded = model.provenance["recorded"]
        replay = model.evaluate(np.asarray(recorded["preferences"]))
        before = float(model.provenance["hypervolume_of_the_model"])
        rows[problem] = {
            "trained_on": model.provenance.get("fingerprint"),
            "replayed_on": morl.fingerprint(problem),
            "load_warning": [str(w.message) for w in caught],
            "hypervolume_recorded": before,
            "hypervolume_today": front.metrics.hypervolume,
            "change": front.metrics.hypervolume / before - 1.0,
            "non_dominated_today": front.metrics.num_non_dominated,
            "recorded_preferences": recorded["preferences"],
            "returns_recorded": recorded["returns"],
            "returns_today": replay.returns.tolist(),
            "wall_clock_s": time.time() - start,
        }
        print(f"{problem:20s} recorded {before:.4g}  today {front.metrics.hypervolume:.4g}  "
              f"({rows[problem]['change']:+.1%})", flush=True)  # fmt: skip
    return rows


def has_avx512(machine_record: dict[str, Any]) -> bool:
    """Whether a record's machine had AVX-512 (the instruction set MuJoCo's results depend on)."""
    return "avx512f" in machine_record.get("simd", [])


def replayed(model: PretrainedParetoSet, record: dict[str, Any]) -> tuple[list[list[float]], list[list[float]]]:
    """The preferences a shipped model's replay runs and the returns recorded for them: the export's
    own for a model of today's definition, the physics record's replay under today's definition for
    an older one (what ``tests/test_zoo.py`` checks)."""
    if model.definition_mismatch() is None:
        recorded = model.provenance["recorded"]
        return recorded["preferences"], recorded["returns"]
    row = record["problems"][model.problem.name]
    if row["replayed_on"] != morl.fingerprint(model.problem_id):
        raise SystemExit(f"{model.problem_id}: the definition changed since the record; rerun the physics replay")
    return row["recorded_preferences"], row["returns_today"]


def other_isa(record: dict[str, Any]) -> dict[str, Any]:
    """This machine's replay of every problem of ``record`` (a physics record made on a machine of
    the other kind): the returns of the recorded preferences, and whether they equal the record's."""
    here = machine()
    if has_avx512(here) == has_avx512(record["machine"]):
        raise SystemExit(f"this machine {'has' if has_avx512(here) else 'lacks'} AVX-512 as the record's did: "
                         "its replay is the record's own; run --other-isa on a machine of the other kind")  # fmt: skip
    produced_by = versions()
    rows: dict[str, Any] = {}
    for problem in available():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the record names the definitions
            model = morl.pretrained(problem)
        preferences, expected = replayed(model, record)
        returns = model.evaluate(np.asarray(preferences)).returns
        rows[problem] = {"preferences": preferences, "returns_today": returns.tolist(),
                         "same_as_recorded": bool(np.array_equal(returns, np.asarray(expected)))}  # fmt: skip
        print(f"{problem:20s} same as the record's machine: {rows[problem]['same_as_recorded']}", flush=True)
    return {"avx512": has_avx512(here), "machine": here, "git_commit": produced_by.get("git_commit"),
            "versions": produced_by, "command": "python benchmarks/pretrained_replay.py " + " ".join(sys.argv[1:]),
            "problems": rows}  # fmt: skip


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default=",".join(available()), help="comma-separated (default: all shipped)")
    parser.add_argument("--kernels", metavar="PROBLEM", help="measure one model across kernel settings instead")
    parser.add_argument(
        "--other-isa",
        action="store_true",
        help="add this machine's replay to the physics record made on a machine of the other kind",
    )
    parser.add_argument("--out", help="JSON record (default benchmarks/results/pretrained_replay[_kernels].json)")
    args = parser.parse_args()
    if args.other_isa:
        path = Path(args.out) if args.out else RESULTS / "pretrained_replay.json"
        record = json.loads(path.read_text())
        record["other_isa"] = other_isa(record)
        path.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {path}")
        return
    produced_by = versions()
    record: dict[str, Any] = {"git_commit": produced_by.get("git_commit"), "versions": produced_by,
                              "command": "python benchmarks/pretrained_replay.py " + " ".join(sys.argv[1:]),
                              "machine": machine()}  # fmt: skip
    if args.kernels:
        problem = morl.get_problem(args.kernels).name
        record["fingerprint"] = {problem: morl.fingerprint(problem)}
        record["kernels"] = {problem: kernels(problem)}
        default = RESULTS / "pretrained_replay_kernels.json"
        for arithmetic, rows in record["kernels"][problem].items():
            for name, row in rows.items():
                print(f"{arithmetic:13s} {name:50s} HV {row['hypervolume_change']:+.3%}  max return change "
                      f"{row['max_relative_return_change']:.2%}  bit-identical {row['bit_identical']}")  # fmt: skip
    else:
        problems = [morl.get_problem(p).name for p in args.problems.split(",") if p.strip()]
        record["fingerprint"] = {p: morl.fingerprint(p) for p in problems}
        record["problems"] = physics(problems)
        default = RESULTS / "pretrained_replay.json"
    out = Path(args.out) if args.out else default
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
