"""The reproduction table, from the records: our seeds of each problem against the authors' nine.

Reads every ``benchmarks/results/reproduce-[authors-code-]<problem>-seed<S>.json`` (written by
``reproduce.py``), prints the Markdown table (per problem: our seeds' hypervolumes, mean ± std,
the authors' mean ± std and range, where we are in words and in the authors' std, fronts' sizes,
training times), and optionally writes it into a page between its markers (docs/benchmarks.md),
draws the figure and saves a JSON summary. ``tests/test_reproduction.py`` fails when the page's
table is not the one these records give, so a finished run's record and the docs cannot disagree;
``long_runs.py`` reruns this with ``--readme`` whenever a run finishes.

Usage: python benchmarks/reproduction_summary.py [--results benchmarks/results] [--readme docs/benchmarks.md]
           [--figure benchmarks/results/reproduction.png] [--out benchmarks/results/reproduction.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reproduction import figure, load_records, render_block, replace_block, summarise

from morl.run_files import atomic_write_bytes
from morl.versions import provenance

REPO = Path(__file__).resolve().parents[1]


def _shown(path: Path) -> str:
    """A record's path relative to the repository when it lies inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results", help="the records' directory")
    parser.add_argument("--readme", type=Path, help="write the table between this file's reproduction-table markers")
    parser.add_argument("--figure", type=Path, help="draw our seeds against the authors' ranges (PNG)")
    parser.add_argument("--out", type=Path, help="save the summary as JSON")
    args = parser.parse_args()
    records = load_records(args.results)  # on this morl's problem definitions only
    if not records:
        print(f"--results {args.results}: no reproduction record on this morl's problem definitions", file=sys.stderr)
    block = render_block(records)
    print(block, end="")
    if args.readme:
        text = args.readme.read_text(encoding="utf-8")
        updated = replace_block(text, block)
        if updated != text:
            atomic_write_bytes(args.readme, updated.encode("utf-8"))
            print(f"updated {args.readme}", file=sys.stderr)
    summaries = summarise(records)
    if args.figure and summaries:  # nothing to draw before a run on these definitions finishes
        figure(summaries, args.figure)
    if args.out:
        summary = {
            **provenance(),
            "problems": {
                s.problem: {
                    "seeds": [r.seed for r in s.records],
                    "hypervolumes": s.hypervolumes.tolist(),
                    "mean": s.mean,
                    "std_over_seeds": None if len(s.records) < 2 else s.std,
                    "authors": vars(s.published),
                    "where": s.where(),
                    "records": [_shown(r.path) for r in s.records],
                }
                for s in summaries
            },
        }
        atomic_write_bytes(args.out, (json.dumps(summary, indent=1) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
