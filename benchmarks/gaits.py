"""What a saved Pareto set's policies do across its front: per preference, the return vector, how
the episode ended (the robot fell, or it ran to the time limit), its length and the robot's mean
forward velocity.

Why: a front that misses a stretch (Walker2d's fast end, on the original's physics) leaves open
what its policies do there. A preference can score a low speed return because its policy runs
slowly for the whole episode or because it runs fast and falls early; the two call for different
diagnoses (the physics makes fast gaits unstable, or the method never found them), and the
hypervolume cannot tell them apart. Comparing two sets' rows at the same preferences (the new run's
model and one trained on another definition) says which it is.

Each MODEL is a file saved by morl (``.npz``; e.g. a model once shipped, from git history: ``git
show 5abb3dd:morl/data/pretrained/MO-Walker2d-v2.npz > old.npz``), a run directory of any agent
(``~/morl-runs/reproduce-pgmorl-MO-Walker2d-v2-seed0``: for each preference ω, the archive member
whose evaluated returns G maximise ω·G, as PGMORL's ``policy_for``) or a problem id (its shipped
set). Every model runs on today's definition of its problem, one deterministic episode per
preference from the problem's reset with seed 0. Where resets are noisy (Humanoid), a row is one
draw: a set's own evaluation seeds env i with seed + i (and PGMORL averages 6 episodes there), so
its rows need not repeat the front's points.

Usage: python benchmarks/gaits.py MODEL [MODEL ...] [--points 11] [--out RECORD.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import morl
from morl.evaluation import run_episode
from morl.preferences import simplex_grid
from morl.versions import provenance
from morl.zoo import DATA, PretrainedParetoSet, available


@dataclass(frozen=True)
class Source:
    """A set of policies to replay: anything with ``policy_for(ω)``, its problem, the SHA-256 of
    the file it came from and the definition it was trained on."""

    policies: Any
    problem: str
    sha256: str
    trained_on: str | None  # None: unknown (a model from before fingerprints, a run without front.json)


def load(model: str) -> Source:
    """A model file, an agent's run directory (any agent, through its own ``policy_for``), or the
    shipped set of a problem id (``morl/`` prefix or not); a clear error for none."""
    path = Path(model)
    if path.is_dir():
        agent = morl.load(path)  # names what is missing or foreign in the directory
        front = path / "front.json"  # the definition its last evaluation ran on
        trained_on = json.loads(front.read_text()).get("protocol", {}).get("fingerprint") if front.is_file() else None
        checkpoint = hashlib.sha256((path / "checkpoint.pt").read_bytes()).hexdigest()
        return Source(agent, morl.get_problem(agent.problem_id).name, checkpoint, trained_on)
    if not path.is_file():
        name = model.removeprefix("morl/")  # gymnasium's id names the shipped set too
        if name not in available():
            raise SystemExit(f"MODEL {model!r}: no such file or run directory and no shipped set of that name; "
                             f"expected a model file saved by morl (.npz), a run directory or one of "
                             f"{', '.join(available())}")  # fmt: skip
        path = DATA / f"{name}.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a model of an older definition warns; the record names both
        found = PretrainedParetoSet.load(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return Source(found, morl.get_problem(found.problem_id).name, sha256, found.provenance.get("fingerprint"))


class _Gait(gym.Wrapper[Any, Any, Any, Any]):
    """Keeps what a return vector leaves out: every step's forward velocity and whether the
    episode ended by a termination (the robot fell) rather than the time limit."""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.velocities: list[float] = []
        self.fell = False
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.velocities.append(float(info["x_velocity"]))
        self.fell = bool(terminated)
        return obs, reward, terminated, truncated, info


def episode(env: gym.Env[Any, Any], policy: Any) -> dict[str, Any]:
    """One deterministic episode (the evaluation's own loop, from the reset with seed 0): its
    returns, length, ending and mean forward velocity."""
    gait = _Gait(env)
    total = run_episode(gait, policy, seed=0)
    return {"returns": total.tolist(), "steps": len(gait.velocities), "fell": gait.fell,
            "mean_x_velocity": float(np.mean(gait.velocities))}  # fmt: skip


def gaits(source: Source, preferences: np.ndarray) -> list[dict[str, Any]]:
    env = morl.make(source.problem)
    try:
        return [{"preference": p.tolist(), **episode(env, source.policies.policy_for(p))} for p in preferences]
    finally:
        env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", metavar="MODEL",
                        help="a model file (.npz), a run directory or a problem id (its shipped set)")  # fmt: skip
    parser.add_argument(
        "--points",
        type=int,
        default=11,
        help="preferences per objective axis: the simplex grid of points-1 splits (default 11)",
    )
    parser.add_argument("--out", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    if args.points < 2:
        parser.error(f"--points {args.points}: expected an integer >= 2 (both ends of each axis)")
    header = provenance()
    loaded = [load(m) for m in args.models]
    problems = {source.problem for source in loaded}
    if len(problems) > 1:
        parser.error(f"MODEL: the models are of different problems ({', '.join(sorted(problems))}); expected one")
    problem = morl.get_problem(problems.pop())
    preferences = simplex_grid(problem.reward_dim, args.points - 1)
    names = problem.objective_names
    record: dict[str, Any] = {**header, "problem": problem.name, "fingerprint": morl.fingerprint(problem.name),
                              "episode_seed": 0, "models": []}  # fmt: skip
    for source, given in zip(loaded, args.models, strict=True):
        rows = gaits(source, preferences)
        record["models"].append({"model": given, "sha256": source.sha256, "trained_on": source.trained_on,
                                 "rows": rows})  # fmt: skip
        print(f"\n{given} (trained on {source.trained_on or 'an unknown definition (no fingerprint recorded)'})")
        print("  " + " ".join(f"{'w_' + n[:10]:>12s}" for n in names) + " " +
              " ".join(f"{n[:12]:>12s}" for n in names) + f" {'steps':>6s} {'ending':>8s} {'mean vx':>8s}")  # fmt: skip
        for row in rows:
            ending = "fell" if row["fell"] else "time up"
            print("  " + " ".join(f"{w:12.2f}" for w in row["preference"]) + " " +
                  " ".join(f"{r:12.1f}" for r in row["returns"]) +
                  f" {row['steps']:6d} {ending:>8s} {row['mean_x_velocity']:8.2f}")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
