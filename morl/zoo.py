"""The model zoo: a trained Hyper-MORL hypernetwork per robot, shipped with the package.

``morl.pretrained("MO-HalfCheetah-v2").policy_for([0.3, 0.7])`` gives the policy of any
preference with nothing trained locally. A shipped model is the hypernetwork's actor part only
(its embedding MLP and the rows of W and b that generate the actor and its log-std), the
observation statistics and its provenance (commit, budget, seed, hypervolume on the paper
protocol, a few recorded returns), in one ``.npz`` read with ``allow_pickle=False``: no optimiser,
no critic, no torch needed to use it.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from morl import portable_math
from morl.envs.catalog import get_problem
from morl.envs.fingerprint import definition_mismatch
from morl.policy import PreferencePolicy, actor_forward
from morl.preferences import validate_preference

FORMAT = "morl.pretrained"
FORMAT_VERSION = 1
DATA = Path(__file__).parent / "data" / "pretrained"
PRETRAINED = "pretrained:"  # how the command line names a shipped set: pretrained:MO-HalfCheetah-v2
# How far below its run's hypervolume a shipped model may fall. The model runs the hypernetwork in
# numpy float32 where the run evaluated in torch; over 1000-step episodes the tiny action
# differences grow (Ant: 0.56 %). Further off, the shipped model would not be the Pareto set its
# provenance describes: export refuses it and the test fails.
MODEL_HV_TOLERANCE = 0.01


def available() -> list[str]:
    """The problems with a shipped model."""
    return sorted(p.stem for p in DATA.glob("*.npz"))


def pretrained(problem_id: str) -> PretrainedParetoSet:
    """The shipped Pareto set of ``problem_id`` (``MO-HalfCheetah-v2`` or ``morl/MO-...``)."""
    name = get_problem(problem_id).name
    path = DATA / f"{name}.npz"
    if not path.is_file():
        shipped = ", ".join(available()) or "none"
        raise FileNotFoundError(f"no pretrained model ships for {name}; shipped: {shipped}")
    return PretrainedParetoSet.load(path)


class PretrainedParetoSet:
    """A trained hypernetwork's actor: ω → the standalone policy of ω, for any preference."""

    def __init__(self, problem_id: str, embedding: list[tuple[np.ndarray, np.ndarray]], W: np.ndarray,
                 b: np.ndarray, segments: list[tuple[str, tuple[int, ...]]], obs_mean: np.ndarray,
                 obs_var: np.ndarray, provenance: dict[str, Any]) -> None:  # fmt: skip
        """``embedding``: the MLP's (weight (in, out), bias) layers, ReLU between them; θ_actor(ω)
        = f(ω) @ W + b, laid out as ``segments`` (name, shape) in order."""
        self.problem = get_problem(problem_id)
        self.problem_id = self.problem.id
        self.m = self.problem.reward_dim
        self.embedding, self.W, self.b = embedding, W, b
        self.segments = segments
        self.obs_mean, self.obs_var = obs_mean, obs_var
        self.provenance = provenance
        self._last_weights: tuple[bytes, dict[str, np.ndarray]] | None = None  # see _actor_weights
        if W.shape[1] != b.shape[0] or b.shape[0] != sum(int(np.prod(s)) for _, s in segments):
            raise ValueError(f"W {W.shape}, b {b.shape} and the segments {segments} do not fit together")

    # ----------------------------------------------------------------------------- using it
    def parameters(self, preferences: np.ndarray) -> np.ndarray:
        """The actor parameter vectors (K, P) of (K, m) preferences."""
        x = np.asarray(preferences, dtype=np.float64)
        last = len(self.embedding) - 1
        for i, (weight, bias) in enumerate(self.embedding):
            x = portable_math.linear(x, weight, bias)
            if i < last:
                x = np.maximum(x, 0.0)
        return portable_math.linear(x, self.W, self.b)

    def _split(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Parameter vectors (K, P) → each named weight (K, *shape), in the segments' order."""
        parts, offset = {}, 0
        for name, shape in self.segments:
            size = int(np.prod(shape))
            parts[name] = theta[:, offset : offset + size].reshape(len(theta), *shape)
            offset += size
        return parts

    def policy_for(self, preference: Any) -> PreferencePolicy:
        """The standalone policy of ``preference`` (validated, normalised to sum to 1)."""
        weights = validate_preference(preference, self.m)
        return PreferencePolicy(
            problem_id=self.problem_id,
            preference=weights,
            weights={n: v[0].astype(np.float64) for n, v in self._split(self.parameters(weights[None])).items()},
            obs_mean=self.obs_mean.copy(),
            obs_var=self.obs_var.copy(),
            metadata={"agent": "hyper-morl", "pretrained": self.provenance},
        )

    def evaluate(self, preferences: np.ndarray | None = None, **kwargs: Any) -> Any:
        """The front on the paper protocol (:func:`morl.evaluation.evaluate_front`): the papers'
        preference set (PD-MORL's with ``protocol="pd-morl"``) unless ``preferences`` is given."""
        from morl.evaluation import evaluate_front

        return evaluate_front(self, self.problem_id, preferences, **kwargs)

    # ----------------------------------------------------------------------------- files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model atomically (``.npz``, no pickled objects)."""
        import io

        from morl.run_files import atomic_write_bytes

        header = {"format": FORMAT, "version": FORMAT_VERSION, "problem_id": self.problem_id,
                  "segments": [[n, list(s)] for n, s in self.segments], "provenance": self.provenance}  # fmt: skip
        arrays: dict[str, np.ndarray] = {"header": np.asarray(json.dumps(header)), "W": self.W, "b": self.b,
                                         "obs_mean": self.obs_mean, "obs_var": self.obs_var}  # fmt: skip
        for i, (weight, bias) in enumerate(self.embedding):
            arrays[f"embedding.{i}.w"], arrays[f"embedding.{i}.b"] = weight, bias
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PretrainedParetoSet:
        """Read a model written by :meth:`save`; a ValueError naming the file otherwise."""
        where = str(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
                    raise ValueError(f"format {header.get('format')!r} version {header.get('version')!r}")
                layers = sorted({int(k.split(".")[1]) for k in data.files if k.startswith("embedding.")})
                embedding = [(data[f"embedding.{i}.w"], data[f"embedding.{i}.b"]) for i in layers]
                segments = [(str(n), tuple(int(x) for x in s)) for n, s in header["segments"]]
                model = cls(header["problem_id"], embedding, data["W"], data["b"], segments, data["obs_mean"],
                            data["obs_var"], header["provenance"])  # fmt: skip
        except FileNotFoundError:
            raise
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            raise ValueError(f"{where!r} is not a morl pretrained model ({error})") from None
        mismatch = model.definition_mismatch(where)
        if mismatch is not None:  # usable, but its recorded numbers belong to another definition
            warnings.warn(f"{mismatch}: its recorded returns and hypervolume are that definition's", stacklevel=2)
        return model

    def definition_mismatch(self, where: str | None = None) -> str | None:
        """None when this model was trained on today's definition of its problem, else a sentence
        naming both fingerprints (``provenance["fingerprint"]``; absent before morl 0.4.0)."""
        return definition_mismatch(self.provenance.get("fingerprint"), self.problem, repr(where or self.problem.name))

    @classmethod
    def from_agent(cls, agent: Any, provenance: dict[str, Any]) -> PretrainedParetoSet:
        """The actor part of a trained :class:`morl.agents.hyper_morl.HyperMORL`."""
        layout = agent.layout
        names = [n for n in layout.segments if n.startswith("actor") or n == "log_std"]
        columns = np.concatenate([
            np.arange(layout.segments[n].offset, layout.segments[n].offset + layout.segments[n].size) for n in names
        ])  # fmt: skip
        net = agent.hypernet
        linear = [module for module in net.embedding if hasattr(module, "weight")]
        embedding = [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in linear]
        return cls(
            agent.problem_id,
            embedding,
            net.W.detach().numpy()[:, columns].copy(),
            net.b.detach().numpy()[columns].copy(),
            [(n, tuple(layout.segments[n].shape)) for n in names],
            agent.obs_stats.mean.copy(),
            agent.obs_stats.var.copy(),
            provenance,
        )

    def _actor_weights(self, preferences: np.ndarray) -> dict[str, np.ndarray]:
        """The actors' weights of ``preferences``, kept for the next call with the same rows: an
        evaluation asks for every step of its episodes with the same preferences, and generating
        the weights (fixed-order products over all P parameters) costs more than the actors."""
        key = np.ascontiguousarray(preferences, dtype=np.float64).tobytes()
        if self._last_weights is None or self._last_weights[0] != key:
            self._last_weights = (key, self._split(self.parameters(preferences)))
        return self._last_weights[1]

    def predict_batch(self, obs: np.ndarray, preferences: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Deterministic actions for one observation per row, each from its row's preference
        (for :func:`~morl.evaluation.evaluate_front`, one pass for all rows)."""
        if not deterministic:
            raise ValueError("deterministic=False: sample through policy_for(ω).predict(obs, deterministic=False)")
        parts = self._actor_weights(preferences)
        count = sum(1 for name, _ in self.segments if name.startswith("actor") and name.endswith("weight"))
        # Row k through its own weights (K, in, out), the standalone policies' fixed-order arithmetic.
        layers = [(np.swapaxes(parts[f"actor.{i}.weight"], 1, 2), parts[f"actor.{i}.bias"]) for i in range(count)]
        return actor_forward(np.asarray(obs, dtype=np.float64), layers, self.obs_mean, self.obs_var, None, "tanh")
