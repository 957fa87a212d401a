"""What the original's physics changes in training: the first 10 M steps of a full-budget run on the
problem definitions of morl 0.4.0 (MuJoCo 2.0's masses, margins and Humanoid's clamped energy term)
beside the same seed's run on the definitions of morl 0.3 (today's-compiler physics).

The new runs are ``reproduce.py PROBLEM --seed S --stop-at 10000000`` (the authors' settings, the
full budget's schedule, stopped at 10 M). The old curves come from the 0.3 reproduction runs' own
logs, which ``long_runs.py`` carried through the repository: both runs take whole iterations of the
same size, so their logged steps coincide and the comparison is at equal steps.

- MO-Hopper-v2 (seed 1): its warm-up ends at 7.2 M steps, so the periodic hypervolumes (every 10
  PSL iterations) from 7.7 M to 10 M are compared, and the 10 M front's.
- MO-Humanoid-v2 (seed 0): its warm-up (one policy, the equal preference) runs to 18 M, so there is
  no periodic front before 10 M; compared are the warm-up's training episode returns (exploration
  noise on, mean over the episodes ending in each iteration) in 1 M-step windows, and the 10 M
  policy's front (one policy for every preference). The speed objective has one formula on both
  definitions; the energy objective does not (0.4 charges the clamped control), so its returns are
  shown but are not the same quantity.

Usage: python benchmarks/physics_change.py [--runs ~/morl-runs] [--out benchmarks/results/physics_change.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

import morl
from morl.versions import provenance

REPO = Path(__file__).resolve().parents[1]
STOP = 10_000_000
# problem -> (seed, the commit whose carried logs hold the 0.3 run from its start, objective names)
OLD_RUNS = {
    "MO-Hopper-v2": (1, "9b9a995", ("forward_speed", "jump_height")),
    "MO-Humanoid-v2": (0, "0400a2c", ("forward_speed", "energy_efficiency")),
}
WINDOW = 1_000_000


def _rows(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _old_rows(problem: str, seed: int, commit: str) -> list[dict[str, Any]]:
    path = f"benchmarks/inflight/reproduce-{problem}-seed{seed}/metrics.jsonl"
    shown = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=REPO, capture_output=True, text=True, check=True)
    return _rows(shown.stdout)


def _hypervolumes(rows: list[dict[str, Any]]) -> dict[int, float]:
    return {int(r["step"]): float(r["eval/hypervolume"]) for r in rows if "eval/hypervolume" in r and r["step"] <= STOP}


def _windows(rows: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Mean training episode return per objective over consecutive 1 M-step windows."""
    found = []
    for start in range(0, STOP, WINDOW):
        inside = [r for r in rows if start < r["step"] <= start + WINDOW and f"train/episode_return/{names[0]}" in r]
        if inside:
            means = {n: float(np.mean([r[f"train/episode_return/{n}"] for r in inside])) for n in names}
            found.append({"steps": f"{start / 1e6:.0f}-{(start + WINDOW) / 1e6:.0f} M", **means})
    return found


def compare(problem: str, runs: Path) -> dict[str, Any]:
    seed, commit, names = OLD_RUNS[problem]
    name = f"reproduce-{problem}-seed{seed}"
    new_dir = runs / f"physics-{problem}-seed{seed}"
    new = _rows((new_dir / "metrics.jsonl").read_text())
    old = _old_rows(problem, seed, commit)
    record_path = REPO / "benchmarks" / "results" / f"{name}-stop{STOP}.json"
    final = json.loads(record_path.read_text()) if record_path.is_file() else None
    new_hv, old_hv = _hypervolumes(new), _hypervolumes(old)
    common = sorted(set(new_hv) & set(old_hv))
    old_windows = {w["steps"]: w for w in _windows(old, names)}
    periodic = [{"step": s, "old": old_hv[s], "new": new_hv[s], "ratio": new_hv[s] / old_hv[s]} for s in common]
    returns = [{"steps": w["steps"], "new": w, "old": old_windows.get(w["steps"])} for w in _windows(new, names)]
    kept = ("hypervolume", "num_non_dominated", "training_env_steps")
    return {
        "seed": seed,
        "old": {"definition": "morl 0.3 (no fingerprint): today's-compiler physics", "logs": f"{commit}:{name}"},
        "new": {"fingerprint": morl.fingerprint(problem), "run": str(new_dir), "record": record_path.name},
        "periodic_hypervolume": periodic,
        "training_returns": returns,
        "final_front_new": None if final is None else {k: final[k] for k in kept},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=Path.home() / "morl-runs")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "physics_change.json")
    args = parser.parse_args()
    header = provenance()
    problems = {p: compare(p, args.runs) for p in OLD_RUNS}
    record = {**header, "problems": problems}
    for problem, found in problems.items():
        print(f"{problem} (seed {found['seed']}), old definition vs {found['new']['fingerprint']}")
        for row in found["periodic_hypervolume"]:
            print(f"  HV at {row['step']:>10,}: old {row['old']:.4g}  new {row['new']:.4g}  ({row['ratio'] - 1:+.1%})")
        for row in found["training_returns"]:
            old = row["old"] or {}
            pairs = [(k, v) for k, v in row["new"].items() if k != "steps"]
            cells = "  ".join(f"{k} old {old.get(k, float('nan')):8.1f} new {v:8.1f}" for k, v in pairs)
            print(f"  training returns {row['steps']:>8s}: {cells}")
        if found["final_front_new"]:
            print(f"  front at 10 M (new): {found['final_front_new']}")
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
