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

3. **This kind of machine's replay** (``--isa-replay``): MuJoCo's own arithmetic differs between
   CPUs with and without AVX-512 (google-deepmind/mujoco#2659; the evaluation actor is portable and
   NumPy's dispatch was ruled out in 2.), so a model's recorded returns replayed on a machine of
   the other kind can differ on contact-rich robots (MO-Humanoid-v2: one of three preferences,
   24 %). This replays every shipped model's recorded preferences on this machine and files them
   in the physics record under ``replays_by_isa[kind]``, each with the model file's SHA-256;
   ``tests/test_zoo.py`` holds a machine whose kind differs from where a model's returns were
   recorded to the replay filed for its kind (and skips, naming this command, where none is).

4. **Any model file** (``--model FILE``): a Pareto set saved by morl (a model once shipped, taken
   from git history: ``git show 5abb3dd:morl/data/pretrained/MO-Walker2d-v2.npz > old.npz``)
   evaluated on the paper protocol under today's definition of its problem. The record (``--out``)
   names the file's SHA-256 and the definition it was trained on, and gives the hypervolume and
   each objective's best return; the front result beside it (``<out>-front.json``) is what
   ``authors_fronts.py --compare`` reads. Why: it says whether a front a run did not reach exists
   under today's physics at all (a model trained on an older definition may reach it).

Usage: python benchmarks/pretrained_replay.py [--problems MO-Ant-v2,...] [--out FILE]
       python benchmarks/pretrained_replay.py --kernels MO-Ant-v2 [--out FILE]
       python benchmarks/pretrained_replay.py --isa-replay [--out FILE]
       python benchmarks/pretrained_replay.py --model FILE --out RECORD.json
"""

from __future__ import annotations

import argparse
import hashlib
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
from morl.versions import provenance
from morl.zoo import DATA, PretrainedParetoSet, available

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


def isa_kind(machine_record: dict[str, Any]) -> str:
    """The kind of a record's machine as far as MuJoCo's arithmetic goes: an x86 CPU with or
    without AVX-512, or "unknown" where its features were not read (not x86, no /proc/cpuinfo)."""
    simd = machine_record.get("simd", [])
    if not simd:
        return "unknown"
    return "avx512" if "avx512f" in simd else "without_avx512"


def replayed(model: PretrainedParetoSet, record: dict[str, Any]) -> tuple[list[list[float]], list[list[float]], str]:
    """The preferences a shipped model's replay runs, the returns recorded for them and the kind of
    machine that recorded them (:func:`isa_kind`; "unknown" for an export that did not name its
    machine): the export's own for a model of today's definition, the physics record's replay
    under today's definition for an older one."""
    if model.definition_mismatch() is None:
        recorded = model.provenance["recorded"]
        kind = isa_kind(recorded["machine"]) if "machine" in recorded else "unknown"
        return recorded["preferences"], recorded["returns"], kind
    row = record["problems"][model.problem.name]
    if row["replayed_on"] != morl.fingerprint(model.problem_id):
        raise SystemExit(f"{model.problem_id}: the definition changed since the record; rerun the physics replay")
    return row["recorded_preferences"], row["returns_today"], isa_kind(record["machine"])


def model_sha256(problem: str) -> str:
    """The shipped model file's SHA-256: a replay filed for a kind of machine belongs to one file."""
    return hashlib.sha256((DATA / f"{morl.get_problem(problem).name}.npz").read_bytes()).hexdigest()


def isa_replay(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """This machine's kind and its replay of every shipped model's recorded preferences."""
    header = provenance()
    here = header["machine"]
    if isa_kind(here) == "unknown":
        raise SystemExit("this machine's CPU features are unknown (not x86, or no /proc/cpuinfo): nothing to file")
    rows: dict[str, Any] = {}
    for problem in available():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the record names the definitions
            model = morl.pretrained(problem)
        preferences, expected, kind = replayed(model, record)
        returns = model.evaluate(np.asarray(preferences)).returns
        rows[problem] = {"model_sha256": model_sha256(problem), "replayed_on": morl.fingerprint(problem),
                         "preferences": preferences,
                         "returns_today": returns.tolist(), "recorded_on": kind,
                         "same_as_recorded": bool(np.array_equal(returns, np.asarray(expected)))}  # fmt: skip
        print(f"{problem:20s} recorded on {kind}: the same here {rows[problem]['same_as_recorded']}", flush=True)
    return isa_kind(here), {**header, "problems": rows}


def model_replay(path: Path) -> tuple[dict[str, Any], Any]:
    """A model file's front under today's definition of its problem, and what the record says of it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PretrainedParetoSet.load(path)
    front = model.evaluate()
    points = front.front
    names = model.problem.objective_names
    row = {
        "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "trained_on": model.provenance.get("fingerprint"),  # None: before fingerprints (morl < 0.4.0)
        "run_git_commit": model.provenance.get("run_git_commit"),
        "hypervolume_recorded": model.provenance.get("hypervolume_of_the_model"),
        "load_warning": [str(w.message) for w in caught],
        "replayed_on": morl.fingerprint(model.problem_id),
        "hypervolume_today": front.metrics.hypervolume,
        "non_dominated_today": front.metrics.num_non_dominated,
        "best_today": {name: float(points[:, k].max()) for k, name in enumerate(names)},
    }
    return row, front


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default=",".join(available()), help="comma-separated (default: all shipped)")
    parser.add_argument("--kernels", metavar="PROBLEM", help="measure one model across kernel settings instead")
    parser.add_argument("--isa-replay", action="store_true",
                        help="file this machine's replay of the shipped models under its kind of CPU")  # fmt: skip
    parser.add_argument("--model", type=Path, help="replay this model file (.npz) instead; needs --out")
    parser.add_argument("--out", help="JSON record (default benchmarks/results/pretrained_replay[_kernels].json)")
    args = parser.parse_args()
    if args.model is not None:
        if not args.out:
            parser.error("--model needs --out (the record; the front result is written beside it)")
        if not args.model.is_file():
            parser.error(f"--model {str(args.model)!r}: no such file; expected a model saved by morl (.npz)")
    if args.isa_replay and args.model is None:  # --model wins over the other modes (handled below)
        path = Path(args.out) if args.out else RESULTS / "pretrained_replay.json"
        record = json.loads(path.read_text())
        kind, replay = isa_replay(record)
        record.setdefault("replays_by_isa", {})[kind] = replay
        path.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {path}")
        return
    record: dict[str, Any] = provenance()
    if args.model is not None:
        row, front = model_replay(args.model)
        out = Path(args.out)
        front_path = out.with_name(out.stem + "-front.json")
        front.save(front_path)
        record.update(model=row, front_result=front_path.name)
        out.write_text(json.dumps(record, indent=1) + "\n")
        best = ", ".join(f"{k} {v:.1f}" for k, v in row["best_today"].items())
        print(f"{args.model}: HV today {row['hypervolume_today']:.4g} ({row['non_dominated_today']} points); "
              f"best {best}; wrote {out} and {front_path}")  # fmt: skip
        return
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
    if "problems" in record and out.exists():  # machines' replays filed before stay (by file hash and definition)
        record["replays_by_isa"] = json.loads(out.read_text()).get("replays_by_isa", {})
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
