"""What the authors' own Hyper-MORL fronts reach, per problem and seed, beside ours.

The Hyper-MORL authors ship each of their 9 runs per problem with its final front
(``pretrained/<problem>/Hyper-MORL/default/<seed>/final/objs.txt`` in HisaoLabSUSTC/Hyper-MORL:
a line ``hv=...``, a line ``time=...`` in seconds, then one comma-separated objective vector per
evaluated preference, on MuJoCo 2.0). A hypervolume says how much of the objective space a front
covers, not where; these summaries say where: per seed, the best value the non-dominated front
reaches on each objective and, for two objectives, the widest gap along the first. They answer the
diagnosis a problem outside the authors' range needs (which end of the front is missing) without
the authors' files: ``benchmarks/results/authors_fronts.json`` keeps only these numbers (their
repository has no licence; its raw fronts stay there).

Usage:
    python benchmarks/authors_fronts.py --repo PATH/TO/Hyper-MORL   # writes the summary JSON
    python benchmarks/authors_fronts.py --compare benchmarks/results/reproduce-MO-Ant-v2-seed0-front.json
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from reproduction import PUBLISHED

from morl.envs.catalog import get_problem
from morl.envs.fingerprint import fingerprint
from morl.pareto import non_dominated
from morl.run_files import atomic_write_text
from morl.versions import provenance

SUMMARY = Path(__file__).resolve().parent / "results" / "authors_fronts.json"
SOURCE = "HisaoLabSUSTC/Hyper-MORL: pretrained/<problem>/Hyper-MORL/default/<seed>/final/objs.txt"


def parse_objs(text: str, where: str) -> tuple[float, float, np.ndarray]:
    """(hv, seconds, the evaluated objective vectors) of one ``objs.txt``; a ValueError naming
    ``where`` and the line when the file is not in that format."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 3 or not lines[0].startswith("hv=") or not lines[1].startswith("time="):
        raise ValueError(f"{where}: expected 'hv=...', 'time=...' and objective lines; got {lines[:2]!r}")
    try:
        points = np.array([[float(x) for x in line.split(",")] for line in lines[2:]], dtype=np.float64)
        return float(lines[0][3:]), float(lines[1][5:]), points
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def summarise_front(points: np.ndarray) -> dict[str, Any]:
    """Where one front reaches: its non-dominated points' count, each objective's best value and,
    for two objectives, the widest gap between neighbours along the first (its two ends)."""
    front = points[non_dominated(points)]
    summary: dict[str, Any] = {"points": len(points), "non_dominated": len(front),
                               "best": [float(v) for v in front.max(axis=0)]}  # fmt: skip
    if front.shape[1] == 2 and len(front) > 1:
        first = np.sort(front[:, 0])
        i = int(np.argmax(np.diff(first)))
        summary["widest_gap_first_objective"] = [float(first[i]), float(first[i + 1])]
    return summary


def read_from(repo: Path, relative: str) -> bytes:
    """One file of a checkout of the authors' repository: a work tree, or a git directory without
    one (a mirror), read at its HEAD; a FileNotFoundError naming the file and the repository."""
    if (repo / relative).is_file():
        return (repo / relative).read_bytes()
    done = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{relative}"], capture_output=True)
    if done.returncode:
        raise FileNotFoundError(f"{relative} is not in {repo} ({done.stderr.decode(errors='replace').strip()})")
    return done.stdout


def from_repository(repo: Path) -> dict[str, Any]:
    """Every problem's 9 seeds from a checkout (a work tree, or a bare git directory) of the authors'."""

    def read(relative: str) -> str:
        return read_from(repo, relative).decode()

    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
    problems: dict[str, Any] = {}
    for problem in PUBLISHED:
        seeds = []
        for seed in range(9):
            relative = f"pretrained/{problem}/Hyper-MORL/default/{seed}/final/objs.txt"
            hv, seconds, points = parse_objs(read(relative), relative)
            seeds.append({"seed": seed, "hv": hv, "seconds": seconds, **summarise_front(points)})
        # the fingerprint of this morl's definition of the problem: the one that reproduces the
        # authors' MuJoCo 2.0 problem these fronts were measured on, and the one ours are compared on
        problems[problem] = {"objectives": list(get_problem(problem).objective_names),
                             "fingerprint": fingerprint(problem), "seeds": seeds}  # fmt: skip
    # the command without this machine's path to the authors' clone
    header = provenance([str(Path(__file__).resolve()), "--repo", "PATH/TO/Hyper-MORL"])
    return {"format": "morl.authors_fronts", "format_version": 1, "source": SOURCE,
            "source_commit": commit.stdout.strip() or None, **header, "problems": problems}  # fmt: skip


def compare(front_file: Path, summary: dict[str, Any]) -> str:
    """Lines setting one of our fronts (a ``FrontResult`` JSON) beside the authors' nine."""
    saved = json.loads(front_file.read_text())
    problem = get_problem(saved["protocol"]["problem_id"]).name
    theirs = summary["problems"][problem]
    ours = summarise_front(np.asarray(saved["returns"], dtype=np.float64))
    lines = [f"{problem}: ours {front_file.name}, theirs the authors' 9 seeds (min–max)"]
    for k, name in enumerate(theirs["objectives"]):
        values = [s["best"][k] for s in theirs["seeds"]]
        lines.append(f"  best {name:<20} ours {ours['best'][k]:10.1f}   theirs {min(values):10.1f} – {max(values):.1f}")
    counts = [s["non_dominated"] for s in theirs["seeds"]]
    lines.append(
        f"  non-dominated points       ours {ours['non_dominated']:10d}   theirs {min(counts):10d} – {max(counts)}"
    )
    if "widest_gap_first_objective" in ours:
        gaps = [s["widest_gap_first_objective"] for s in theirs["seeds"] if "widest_gap_first_objective" in s]
        mine = ours["widest_gap_first_objective"]
        lines.append(f"  widest gap in {theirs['objectives'][0]}: ours {mine[0]:.0f} → {mine[1]:.0f}; theirs "
                     + ", ".join(f"{a:.0f} → {b:.0f}" for a, b in gaps))  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, help="a checkout of HisaoLabSUSTC/Hyper-MORL: (re)write the summary")
    parser.add_argument("--compare", type=Path, nargs="*", default=[], help="our front JSON files to set beside theirs")
    args = parser.parse_args()
    if args.repo:
        summary = from_repository(args.repo)
        atomic_write_text(SUMMARY, json.dumps(summary, indent=1) + "\n")
        print(f"wrote {SUMMARY}", file=sys.stderr)
    if not SUMMARY.is_file():
        parser.error(f"no {SUMMARY}: write it first with --repo")
    summary = json.loads(SUMMARY.read_text())
    for front in args.compare:
        print(compare(front, summary))
    if not args.compare:
        for problem, data in summary["problems"].items():
            hvs = [s["hv"] for s in data["seeds"]]
            print(f"{problem}: HV {np.mean(hvs):.4g} ± {np.std(hvs, ddof=1):.2g}, "
                  f"{math.fsum(s['seconds'] for s in data['seeds']) / 9 / 3600:.1f} h a run")  # fmt: skip


if __name__ == "__main__":
    main()
