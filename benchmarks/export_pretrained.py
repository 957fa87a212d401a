"""Export the best reproduction run of a problem as the pretrained model shipped with the package.

Reads ``benchmarks/results/reproduce-<problem>-seed<S>.json`` for the seeds given, picks the seed
with the highest hypervolume, loads its run directory (``~/morl-runs/reproduce-<problem>-seed<S>``
by default) and writes ``morl/data/pretrained/<problem>.npz``: the hypernetwork's actor part
(``morl.zoo.PretrainedParetoSet``), the observation statistics and the provenance (the run's
commit, versions, command, budget, seed and hypervolume; the exporting commit and command; the
exported model's own hypervolume on the paper protocol; its returns on three preferences, which
the test suite checks). A model that falls more than ``morl.zoo.MODEL_HV_TOLERANCE`` below its
run's hypervolume, or whose saved file does not replay its recorded returns exactly, is refused
(exit status 1, nothing written): ``long_runs.py`` then commits the run's results without a model,
and the shipped one (if any) stays as it was.
Usage: python benchmarks/export_pretrained.py MO-Swimmer-v2 [--seeds 0 1 2] [--runs DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

import morl
from morl.versions import provenance as run_provenance
from morl.zoo import DATA, MODEL_HV_TOLERANCE, PretrainedParetoSet

RECORDED = {2: [[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]], 3: [[1.0, 0.0, 0.0], [0.4, 0.3, 0.3], [0.1, 0.2, 0.7]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problem")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", default=str(Path.home() / "morl-runs"), help="where the run directories are")
    args = parser.parse_args()
    problem = morl.get_problem(args.problem).name
    results = Path(__file__).parent / "results"
    candidates = {}
    for seed in args.seeds:
        path = results / f"reproduce-{problem}-seed{seed}.json"
        if path.is_file():
            candidates[seed] = json.loads(path.read_text())
    if not candidates:
        raise SystemExit(f"no reproduction results for {problem} (seeds {args.seeds}) in {results}")
    seed = max(candidates, key=lambda s: candidates[s]["hypervolume"])
    record = candidates[seed]
    agent = morl.load(Path(args.runs) / f"reproduce-{problem}-seed{seed}")
    if agent.name != "hyper-morl" or not agent.finished:
        raise SystemExit(f"the run of seed {seed} is not a finished Hyper-MORL run")
    trained_on = record.get("fingerprint") or "a definition from before fingerprints"
    if trained_on != morl.fingerprint(problem):  # its model would carry another problem's numbers
        raise SystemExit(f"the run of seed {seed} ran on {trained_on}, not this morl's {morl.fingerprint(problem)}")
    exporter = run_provenance()
    provenance = {
        "fingerprint": record["fingerprint"],  # the definition it was trained on (checked on load)
        "problem": problem,
        "seed": seed,
        "seeds_compared": {str(s): c["hypervolume"] for s, c in sorted(candidates.items())},
        "total_steps": record["total_steps"],
        "training_env_steps": agent.env_steps,
        "hypervolume_of_the_run": record["hypervolume"],
        "protocol": record["protocol"],
        "run_git_commit": record["versions"].get("git_commit"),
        "run_versions": record["versions"],
        "run_command": record["command"],
        "exported_by": exporter,
    }
    model = PretrainedParetoSet.from_agent(agent, provenance)
    # The exported model runs in numpy (float32): its own front may differ slightly from the run's.
    front = model.evaluate()
    preferences = np.asarray(RECORDED[model.m])
    provenance["hypervolume_of_the_model"] = front.metrics.hypervolume
    # The machine is part of what the returns are: MuJoCo's arithmetic differs with and without
    # AVX-512, and tests/test_zoo.py holds each kind of machine to a replay made on its kind.
    returns = model.evaluate(preferences).returns
    provenance["recorded"] = {"preferences": preferences.tolist(), "returns": returns.tolist(),
                              "machine": exporter["machine"]}  # fmt: skip
    model.provenance = provenance
    check(model, provenance)
    DATA.mkdir(parents=True, exist_ok=True)
    out = DATA / f"{problem}.npz"
    model.save(out)
    print(json.dumps({k: v for k, v in provenance.items() if k != "run_versions"}, indent=1))
    print(f"written {out} ({out.stat().st_size / 1024:.0f} KiB)")


def check(model: PretrainedParetoSet, provenance: dict[str, Any]) -> None:
    """Refuse a model the test suite would fail: its hypervolume too far below the run's, or its
    saved file not replaying the recorded returns exactly (what ``tests/test_zoo.py`` checks,
    there with a tolerance for other machines' float paths)."""
    run_hv, model_hv = provenance["hypervolume_of_the_run"], provenance["hypervolume_of_the_model"]
    if model_hv < (1.0 - MODEL_HV_TOLERANCE) * run_hv:
        raise SystemExit(f"not exported: the model's hypervolume {model_hv:.6g} is more than "
                         f"{MODEL_HV_TOLERANCE:.0%} below its run's {run_hv:.6g}")  # fmt: skip
    recorded = provenance["recorded"]
    with tempfile.TemporaryDirectory() as scratch:
        model.save(Path(scratch) / "model.npz")
        replayed = PretrainedParetoSet.load(Path(scratch) / "model.npz").evaluate(np.asarray(recorded["preferences"]))
    if not np.array_equal(replayed.returns, np.asarray(recorded["returns"])):
        raise SystemExit(f"not exported: the saved model's returns {replayed.returns.tolist()} differ from "
                         f"those just recorded {recorded['returns']}")  # fmt: skip


if __name__ == "__main__":
    main()
