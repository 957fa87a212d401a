"""A standalone policy for one preference: ``predict(obs)`` in any gymnasium loop.

It carries its observation normaliser (frozen statistics) and the actor's weights, and runs in
numpy: no torch needed to use it. It saves to a single ``.npz`` file read with
``allow_pickle=False``, so loading a file never executes code from it.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from morl.agents.normalization import CLIP, EPSILON
from morl.io import atomic_write_bytes

FORMAT = "morl.policy"
FORMAT_VERSION = 1
LAYERS = ("actor.0", "actor.1", "actor.2")


class PreferencePolicy:
    """The actor of the policy for ``preference`` on ``problem_id``.

    ``predict(obs, deterministic=True)`` takes one observation (obs_dim,) or a batch
    (n, obs_dim) of raw observations and returns float32 actions of the matching shape: the mean
    action when deterministic, else a sample from the Gaussian policy (from this policy's own
    RNG, see ``seed``). Actions are not clipped: the env clips them as the problem defines.
    """

    def __init__(
        self,
        *,
        problem_id: str,
        preference: np.ndarray,
        weights: dict[str, np.ndarray],
        obs_mean: np.ndarray,
        obs_var: np.ndarray,
        metadata: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        self.problem_id = problem_id
        self.preference = np.asarray(preference, dtype=np.float64)
        self.weights = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
        self.obs_mean = np.asarray(obs_mean, dtype=np.float64)
        self.obs_var = np.asarray(obs_var, dtype=np.float64)
        self.metadata = dict(metadata or {})
        self._check()
        self._rng = np.random.default_rng(seed)

    def _check(self) -> None:
        expected = [f"{layer}.{kind}" for layer in LAYERS for kind in ("weight", "bias")] + ["log_std"]
        missing = [k for k in expected if k not in self.weights]
        if missing:
            raise ValueError(f"policy weights lack {missing}")
        obs_dim = self.weights["actor.0.weight"].shape[1]
        if self.obs_mean.shape != (obs_dim,) or self.obs_var.shape != (obs_dim,):
            raise ValueError(
                f"observation statistics have shapes {self.obs_mean.shape}, {self.obs_var.shape}; expected ({obs_dim},)"
            )

    @property
    def obs_dim(self) -> int:
        return int(self.weights["actor.0.weight"].shape[1])

    @property
    def action_dim(self) -> int:
        return int(self.weights["actor.2.weight"].shape[0])

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        array = np.asarray(obs, dtype=np.float64)
        single = array.ndim == 1
        batch = array[None] if single else array
        if batch.ndim != 2 or batch.shape[1] != self.obs_dim:
            raise ValueError(f"obs has shape {array.shape}; expected ({self.obs_dim},) or (n, {self.obs_dim})")
        x = np.clip((batch - self.obs_mean) / np.sqrt(self.obs_var + EPSILON), -CLIP, CLIP)
        for i, layer in enumerate(LAYERS):
            x = x @ self.weights[f"{layer}.weight"].T + self.weights[f"{layer}.bias"]
            if i < len(LAYERS) - 1:
                x = np.tanh(x)
        if not deterministic:
            x = x + np.exp(self.weights["log_std"]) * self._rng.standard_normal(x.shape)
        actions = x.astype(np.float32)
        return actions[0] if single else actions

    __call__ = predict

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write to ``path`` (an .npz file), atomically."""
        meta = {**self.metadata, "format": FORMAT, "format_version": FORMAT_VERSION, "problem_id": self.problem_id}
        arrays = {f"w/{k}": v for k, v in self.weights.items()}
        arrays.update(preference=self.preference, obs_mean=self.obs_mean, obs_var=self.obs_var,
                      metadata=np.array(json.dumps(meta)))  # fmt: skip
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str], seed: int | None = None) -> PreferencePolicy:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"policy file {str(path)!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["metadata"]))
                if meta.get("format") != FORMAT:
                    raise ValueError(f"expected format {FORMAT!r}")
                weights = {k[2:]: data[k] for k in data.files if k.startswith("w/")}
                return cls(
                    problem_id=str(meta["problem_id"]),
                    preference=data["preference"],
                    weights=weights,
                    obs_mean=data["obs_mean"],
                    obs_var=data["obs_var"],
                    metadata=meta,
                    seed=seed,
                )
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
            raise ValueError(f"{str(path)!r} is not a valid morl policy file ({error})") from None
