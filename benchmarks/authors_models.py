"""The authors' own trained Hyper-MORL models, replayed on morl's definition of each problem.

Why: a front of ours below the authors' range (Walker2d's, on the original's physics) leaves two
explanations open: our training found less, or our physics is not the one their numbers were
measured on. Neither our runs nor their fronts can tell them apart; their trained policies can.
The authors' repository (HisaoLabSUSTC/Hyper-MORL, ``pretrained/<problem>/Hyper-MORL/default/
<seed>/final/``) ships each of its 9 runs per problem as the hypernetwork's state dict
(``policy.pt``), the observation normaliser (``normalization.pkl``) and the front they measured
on MuJoCo 2.0 (``objs.txt``). Replayed here under the paper protocol, a set that keeps its recorded
hypervolume says that morl's physics, observations, actions and rewards behave as the original's
wherever those policies go; a set that loses it (gaits that fall, a front that shrinks) says where
they do not. A problem's replay beside our own run's front says which explanation holds.

Their hypernetwork is the one morl's Hyper-MORL implements (preference → MLP m→128→128→10 →
θ = f(ω)·W + b, θ the flat parameters of the whole actor-critic, in the order of the target
network's ``named_parameters``); a policy is its actor: obs → 64 tanh → 64 tanh → action mean,
deterministic, the env clipping the action, on observations normalised as
``clip((o − μ) / sqrt(σ² + 1e-8), ±10)`` with the run's final statistics, as their own evaluation
did. θ is computed in float64, as theirs.

The files are read as data only: the state dict through ``torch.load(weights_only=True)``, the
normaliser's pickle through an unpickler that admits numpy arrays and turns the authors' two
classes into plain attribute holders; nothing of theirs is imported or run. The record
(``benchmarks/results/authors_models.json``) keeps numbers only (the repository has no licence):
per seed the recorded and the replayed hypervolume and where each front reaches. A file the
checkout lacks (MO-Humanoid-v2's models are not in every mirror: they are the largest) is named
and the seed skipped. Re-running for some problems replaces their entries and keeps the others.

``--physics todays-compiler`` replays them instead on the models as today's MuJoCo compiles the
robots' XML (MuJoCo 2.0's capsule masses and inertias and its contact-margin rule not put back:
morl 0.3's physics, what any port of the original XML to today's MuJoCo gets) and records them apart
(``todays_compiler``): what those two changes of MuJoCo since 2.0 do to the authors' own policies.

Usage:
    python benchmarks/authors_models.py --repo PATH/TO/Hyper-MORL [PROBLEM ...] [--seeds 0 1 ...]
        [--physics original|todays-compiler]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import numpy as np
import torch
from authors_fronts import parse_objs, read_from, summarise_front
from numpy._core import multiarray as np_multiarray
from reproduction import PUBLISHED

from morl.envs import models
from morl.envs.catalog import get_problem
from morl.envs.fingerprint import _fingerprint, fingerprint
from morl.evaluation import evaluate_front
from morl.policy import PreferencePolicy
from morl.preferences import evaluation_preferences
from morl.run_files import atomic_write_text
from morl.versions import provenance

RECORD = Path(__file__).resolve().parent / "results" / "authors_models.json"
FOLDER = "pretrained/{problem}/Hyper-MORL/default/{seed}/final"

# The target network's parameters, as the authors name them, and their names in a morl policy.
ACTOR = {
    "target_policy.base.actor.0.weight": "actor.0.weight",
    "target_policy.base.actor.0.bias": "actor.0.bias",
    "target_policy.base.actor.2.weight": "actor.1.weight",
    "target_policy.base.actor.2.bias": "actor.1.bias",
    "target_policy.dist.fc_mean.weight": "actor.2.weight",
    "target_policy.dist.fc_mean.bias": "actor.2.bias",
    "target_policy.dist.logstd._bias": "log_std",
}
PREF_MLP = ("hypernet.pref_mlp.0", "hypernet.pref_mlp.2", "hypernet.pref_mlp.4")


class _Attributes:
    """Stands in for the authors' ``NormalizationRecorder`` and baselines' ``RunningMeanStd``:
    it takes their pickled attributes and runs none of their code."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


class _DataUnpickler(pickle.Unpickler):
    """Admits what a normaliser's pickle needs (numpy arrays, the two classes as attribute
    holders) and refuses every other global by name."""

    HOLDERS: ClassVar = frozenset({("utils", "NormalizationRecorder"),
                                   ("baselines.common.running_mean_std", "RunningMeanStd")})  # fmt: skip
    # numpy 1 pickled its array helpers from numpy.core.multiarray, numpy 2 from numpy._core
    NUMPY: ClassVar = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                       **{(f"numpy.{core}.multiarray", name): getattr(np_multiarray, name)
                          for core in ("core", "_core") for name in ("_reconstruct", "scalar")}}  # fmt: skip

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.HOLDERS:
            return _Attributes
        if (module, name) in self.NUMPY:
            return self.NUMPY[module, name]
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a normaliser file")


def load_normalization(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The observation statistics (mean, var) of one ``normalization.pkl``; a ValueError naming
    ``where`` when the file is not one."""
    try:
        recorder = _DataUnpickler(io.BytesIO(data)).load()
        stats = recorder.norm["ob_rms"]
        mean = np.asarray(stats.mean, dtype=np.float64)
        var = np.asarray(stats.var, dtype=np.float64)
    except (pickle.UnpicklingError, AttributeError, KeyError, TypeError, EOFError) as error:
        raise ValueError(f"{where}: not an observation normaliser of the authors' ({error})") from None
    if mean.ndim != 1 or mean.shape != var.shape or (var < 0).any():
        raise ValueError(f"{where}: ob_rms mean {mean.shape}, var {var.shape}; expected equal 1-D arrays, var >= 0")
    return mean, var


class AuthorsHypernet:
    """The authors' hypernetwork from its state dict: ``actor(ω)`` is the actor of preference ω
    as morl's arrays (float64)."""

    def __init__(self, state: dict[str, torch.Tensor], where: str) -> None:
        needed = (*ACTOR, "hypernet.W", "hypernet.b", *(f"{p}.weight" for p in PREF_MLP))
        missing = [k for k in needed if k not in state]
        if missing:
            raise ValueError(f"{where}: not the authors' Hyper-MORL state dict (no {', '.join(missing)})")
        self.layers = [(state[f"{p}.weight"].double(), state[f"{p}.bias"].double()) for p in PREF_MLP]
        self.W, self.b = state["hypernet.W"].double(), state["hypernet.b"].double()
        # θ's segments: the target network's parameters, in the order the state dict keeps them
        # (its named_parameters order: the one the authors' hypernetwork cuts θ in)
        self.segments = [(k, tuple(v.shape)) for k, v in state.items() if k.startswith("target_policy.")]
        total = sum(int(np.prod(shape)) for _, shape in self.segments)
        if total != self.W.shape[1] or self.b.shape != (total,):
            raise ValueError(f"{where}: the target network has {total} parameters but W is {tuple(self.W.shape)} "
                             f"and b {tuple(self.b.shape)}")  # fmt: skip
        self.num_objectives = self.layers[0][0].shape[1]

    def actor(self, preference: np.ndarray) -> dict[str, np.ndarray]:
        x = torch.as_tensor(preference, dtype=torch.float64)
        for i, (weight, bias) in enumerate(self.layers):
            x = x @ weight.T + bias
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        theta = (x @ self.W + self.b).numpy()
        arrays, offset = {}, 0
        for name, shape in self.segments:
            size = int(np.prod(shape))
            if name in ACTOR:
                arrays[ACTOR[name]] = theta[offset : offset + size].reshape(shape)
            offset += size
        arrays["log_std"] = arrays["log_std"].reshape(-1)  # the authors' AddBias keeps it (A, 1)
        return arrays


@contextlib.contextmanager
def physics(name: str) -> Iterator[None]:
    """``original``: morl's problems as they are; ``todays-compiler``: every model built in this
    process without MuJoCo 2.0's masses and margins restored (the replay's envs step in this
    process: ``workers=1``)."""
    if name == "original":
        yield
        return
    _fingerprint.cache_clear()  # a definition's name is cached by problem: not across the switch
    try:
        with mock.patch.object(models, "restore_inertias", lambda spec: None), \
                mock.patch.object(models, "restore_margins", lambda spec: None):  # fmt: skip
            yield
    finally:
        _fingerprint.cache_clear()


def replay_seed(repo: Path, problem: str, seed: int, workers: int = 1,
                preferences: np.ndarray | None = None) -> dict[str, Any]:  # fmt: skip
    """One run of the authors' replayed on morl's problem (on the paper's preferences unless
    ``preferences`` are given): the numbers of both fronts."""
    folder = FOLDER.format(problem=problem, seed=seed)
    try:
        state = torch.load(io.BytesIO(read_from(repo, f"{folder}/policy.pt")), map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError) as error:  # torch's errors for a file it cannot read
        raise ValueError(f"{folder}/policy.pt: not a state dict torch reads with weights_only ({error})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{folder}/policy.pt: holds a {type(state).__name__}; expected the authors' state dict")
    hypernet = AuthorsHypernet(state, f"{folder}/policy.pt")
    mean, var = load_normalization(read_from(repo, f"{folder}/normalization.pkl"), f"{folder}/normalization.pkl")
    recorded_hv, _, recorded = parse_objs(read_from(repo, f"{folder}/objs.txt").decode(), f"{folder}/objs.txt")
    m = get_problem(problem).reward_dim
    if hypernet.num_objectives != m:
        raise ValueError(f"{folder}/policy.pt: {hypernet.num_objectives} objectives; {problem} has {m}")
    preferences = evaluation_preferences(m) if preferences is None else preferences
    policies = [PreferencePolicy(problem_id=problem, preference=w, weights=hypernet.actor(w), obs_mean=mean,
                                 obs_var=var) for w in preferences]  # fmt: skip
    result = evaluate_front(policies, problem, preferences, workers=workers)
    replayed_hv = float(result.metrics.hypervolume)
    return {
        "seed": seed,
        "recorded_hv": recorded_hv,
        "replayed_hv": replayed_hv,
        "replayed_over_recorded": replayed_hv / recorded_hv if recorded_hv else None,
        "recorded": summarise_front(recorded),
        "replayed": summarise_front(result.returns),
        "replay_env_steps": result.env_steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, required=True, help="a checkout (or mirror) of HisaoLabSUSTC/Hyper-MORL")
    parser.add_argument("problems", nargs="*", metavar="PROBLEM", help="default: all seven")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(9)), help="the authors' runs (default 0-8)")
    parser.add_argument("--workers", type=int, default=1, help="evaluation processes (default 1)")
    parser.add_argument("--physics", choices=("original", "todays-compiler"), default="original",
                        help="morl's problems (default), or their models as today's MuJoCo compiles them")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RECORD)
    args = parser.parse_args()
    if not args.repo.exists():
        parser.error(f"--repo {args.repo}: no such directory; expected a checkout of HisaoLabSUSTC/Hyper-MORL")
    unknown = [p for p in args.problems if p not in PUBLISHED]
    if unknown:
        parser.error(f"PROBLEM {', '.join(unknown)}: unknown; expected some of {', '.join(PUBLISHED)}")
    bad = [s for s in args.seeds if not 0 <= s <= 8]
    if bad:
        parser.error(f"--seeds {bad}: the authors ran seeds 0-8")
    if args.physics != "original" and args.workers != 1:
        parser.error(f"--workers {args.workers}: --physics {args.physics} needs the envs in this process (1)")
    section = "problems" if args.physics == "original" else "todays_compiler"
    record: dict[str, Any] = {"format": "morl.authors_models", "format_version": 1, "problems": {}}
    if args.out.is_file():  # other problems' entries stay
        try:
            record = json.loads(args.out.read_text())
        except json.JSONDecodeError as error:
            parser.error(f"--out {args.out}: not JSON ({error}); expected a record of this script, or a new path")
        if record.get("format") != "morl.authors_models":
            parser.error(f"--out {args.out}: format {record.get('format')!r}; expected 'morl.authors_models'")
    # the command without this machine's path to the authors' clone
    rest = [a for i, a in enumerate(sys.argv[1:]) if a != "--repo" and not a.startswith("--repo=")
            and not (i and sys.argv[i] == "--repo")]  # fmt: skip
    command = [str(Path(__file__).resolve()), "--repo", "PATH/TO/Hyper-MORL", *rest]
    header = provenance(command)
    for problem in args.problems or list(PUBLISHED):
        seeds, skipped = [], []
        for seed in args.seeds:
            try:
                with physics(args.physics):
                    row = replay_seed(args.repo, problem, seed, args.workers)
            except FileNotFoundError as error:
                skipped.append({"seed": seed, "why": str(error).replace(str(args.repo), "PATH/TO/Hyper-MORL")})
                print(f"{problem} seed {seed}: skipped, {skipped[-1]['why']}")
                continue
            except ValueError as error:  # a file there but not the authors' (the problems done are written)
                raise SystemExit(f"{args.repo}/{error}") from None
            seeds.append(row)
            print(f"{problem} seed {seed}: HV recorded {row['recorded_hv']:.4g}, replayed {row['replayed_hv']:.4g} "
                  f"({row['replayed_over_recorded']:.3f}); best replayed {row['replayed']['best']}, "
                  f"recorded {row['recorded']['best']}")  # fmt: skip
        with physics(args.physics):
            definition = fingerprint(problem)
        record.setdefault(section, {})[problem] = {**header, "fingerprint": definition, "seeds": seeds,
                                                   "skipped": skipped}  # fmt: skip
        atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
