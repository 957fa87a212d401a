"""Projected wall-clock of a full-budget Hyper-MORL run on each of the seven problems, here.

For each problem, the authors' settings: env-steps/s of warm-up and Pareto-set-learning
iterations (through the public ``learn`` with a timing callback, the best of ``--iterations``
timed iterations after an untimed first one), combined with the budget's 15 % warm-up split into
a whole-run rate (evaluation excluded: it adds about 1 % at the default cadence), and the paper
budget divided by it. Usage: python benchmarks/run_hours.py [--iterations 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import mujoco
import torch
from reproduction import PUBLISHED  # the authors' mean wall-clock per run, among their results

import morl
from morl.versions import provenance

sys.path.insert(0, str(Path(__file__).parent))
from train_throughput import agent_rates, whole_run_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=2, help="timed iterations per stage (best kept)")
    parser.add_argument("--out", help="also write the results as JSON")
    args = parser.parse_args()
    header = (f"morl {morl.__version__}, mujoco {mujoco.__version__}, torch {torch.__version__}, "
              f"python {platform.python_version()}, {os.cpu_count()} cores")  # fmt: skip
    print(header)
    produced_by = provenance()  # the commit as the run starts
    rows = {}
    print(
        f"{'problem':20s} {'warm-up/s':>10s} {'PSL/s':>8s} {'run/s':>8s} {'budget':>8s} {'hours':>6s} {'authors h':>9s}"
    )
    for problem in PUBLISHED:
        budget = morl.get_problem(problem).paper_budget
        # Just enough warm-up iterations to time them, then PSL: the iterations are the authors'.
        envs = morl.HyperMORLConfig.for_problem(problem).envs_per_preference
        fraction = (args.iterations + 1) * 2048 * envs / budget
        rates = agent_rates("hyper-morl", args.iterations, kind=lambda a: a.phase, kinds=("warmup", "psl"),
                            problem=problem, warmup_fraction=fraction)  # fmt: skip
        run = whole_run_rate(rates["warmup"], rates["psl"])
        hours = budget / run / 3600
        rows[problem] = {"warmup": rates["warmup"], "psl": rates["psl"], "run": run, "budget": budget,
                         "hours": hours, "authors_hours": PUBLISHED[problem].hours}  # fmt: skip
        print(f"{problem:20s} {rates['warmup']:10.0f} {rates['psl']:8.0f} {run:8.0f} {budget / 1e6:7.0f}M "
              f"{hours:6.1f} {PUBLISHED[problem].hours:9.1f}", flush=True)  # fmt: skip
    total = sum(row["hours"] for row in rows.values())
    print(f"all seven, one seed each: {total:.1f} h")
    if args.out:
        record = {**produced_by, "machine_line": header, "fingerprint": {p: morl.fingerprint(p) for p in rows},
                  "rows": rows, "total_hours": total}  # fmt: skip
        Path(args.out).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
