"""PD-MORL's interpolator: the target direction I(ω) of the angle term, from the returns of the
key preferences.

The keys are the simplex corners and its centre ((0, 1), (½, ½), (1, 0) for m = 2, the
authors'). Their return vectors X_k, normalised to unit L1 norm (X_k / Σ_j |X_kj|), are
interpolated over the simplex by ``scipy.interpolate.RBFInterpolator`` with the linear kernel, in
the coordinates ω_1..ω_{m-1} (the last weight is implied; on the full coordinates the keys would
lie on a plane, which the kernel's linear polynomial cannot be fitted on). For m = 2 that is
piecewise-linear interpolation in ω_1.

One normalisation throughout, L1: the authors normalised X by its L2 norm when building the
interpolator and by its L1 norm when rebuilding it after a key's return was replaced (a bug:
between two keys, the direction of the interpolated vector depends on the norm, which scales
each key's vector by a different factor). The first replacement comes early in training, so
theirs was in effect L1 for almost all of it; L1 from the start is the faithful choice (spec
pd-morl.md, deviation 3). A checkpoint stores the raw key returns, not the directions, so the
normalisation is applied again whenever a checkpoint is loaded.
"""

from __future__ import annotations

import json

import numpy as np
from scipy.interpolate import RBFInterpolator


def key_preferences(m: int) -> np.ndarray:
    """The corners of the simplex and its centre, ordered as the authors' for m = 2:
    (0, 1), (½, ½), (1, 0)."""
    corners = np.eye(m)[::-1]
    return np.concatenate([corners[:1], np.full((1, m), 1.0 / m), corners[1:]])


class KeyInterpolator:
    """I(ω) from the key returns; :meth:`offer` replaces a key's return when a new one is better
    for that key (ω_k·X_new > ω_k·X_k) and rebuilds the interpolator."""

    def __init__(self, keys: np.ndarray, returns: np.ndarray) -> None:
        self.keys = np.asarray(keys, dtype=np.float64)
        self.returns = np.asarray(returns, dtype=np.float64).copy()
        if self.returns.shape != self.keys.shape:
            raise ValueError(f"returns have shape {self.returns.shape}; expected one per key {self.keys.shape}")
        self._build()

    def _build(self) -> None:
        """The unit-L1 directions of the key returns and their interpolator (L1 as the authors'
        rebuilt interpolator, which is the one their training ran with; see the module)."""
        norms = np.linalg.norm(self.returns, ord=1, axis=1, keepdims=True)
        self.directions = self.returns / np.maximum(norms, 1e-12)
        self._rbf = RBFInterpolator(self.keys[:, :-1], self.directions, kernel="linear")

    def __call__(self, preferences: np.ndarray) -> np.ndarray:
        """The target directions of (n, m) preferences, (n, m) (not renormalised: the angle term
        only reads their direction)."""
        prefs = np.asarray(preferences, dtype=np.float64)
        return np.asarray(self._rbf(prefs[:, :-1]))

    def offer(self, index: int, returns: np.ndarray) -> bool:
        """A new return vector for key ``index``: kept (and the interpolator rebuilt) if it
        scores higher under that key's preference. Returns whether it was kept."""
        new = np.asarray(returns, dtype=np.float64)
        if not np.all(np.isfinite(new)) or self.keys[index] @ new <= self.keys[index] @ self.returns[index]:
            return False
        self.returns[index] = new
        self._build()
        return True

    def to_json(self) -> str:
        return json.dumps({"keys": self.keys.tolist(), "returns": self.returns.tolist()})

    @classmethod
    def from_json(cls, text: str) -> KeyInterpolator:
        data = json.loads(text)
        return cls(np.asarray(data["keys"]), np.asarray(data["returns"]))
