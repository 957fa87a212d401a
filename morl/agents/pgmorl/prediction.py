"""PGMORL's optimisation history and its prediction model (Xu et al., ICML 2020, Sec. 4.2).

The history is a graph: every ``update_iter`` iterations of a task, the policy it has reached is a
node (its weight, its evaluated return vector, the node it was trained from). The model predicts
what training a policy with weight ω would change in each objective j, as a scaled tanh of ω_j
fitted to the changes observed from the nodes around the policy in objective space:

    f(ω_j) = A · (e^{a(ω_j − b)} − 1) / (e^{a(ω_j − b)} + 1) + c,

by a robust (soft-L1) weighted least-squares fit (``scipy.optimize.least_squares``), the samples
weighted by exp(−(d/σ)²/2) with d the relative distance of their start point to the policy's.
The neighbourhood (relative threshold 0.1, σ 0.03) doubles, both together, until more than 3
distinct weights are found. For m >= 3 the doubling stops once the threshold reaches 1
(authors' ``population_3d.py``: ``threshold >= 1.0``), so the widest neighbourhood used is 1.6;
for m = 2 it has no cap (authors' ``population_2d.py``), and it ends only where doubling can add
nothing more (every step of the history in the neighbourhood, or none reachable because the
policy has an objective of 0): there the authors' loop would never end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

INITIAL_THRESHOLD = 0.1
INITIAL_SIGMA = 0.03
MIN_DISTINCT_WEIGHTS = 4  # "more than 3"
M3_THRESHOLD_LIMIT = 1.0  # m >= 3: no doubling past a threshold >= 1, i.e. beyond 0.1 · 2⁴ = 1.6
F_SCALE = 20.0  # soft-L1 scale of the residuals (the authors')


def scaled_tanh(x: np.ndarray, amplitude: float, a: float, b: float, c: float) -> np.ndarray:
    """A·(e^{a(x−b)} − 1)/(e^{a(x−b)} + 1) + c, i.e. A·tanh(a(x−b)/2) + c (written with tanh:
    the exponential form overflows for a(x−b) > 709)."""
    return amplitude * np.tanh(0.5 * a * (np.asarray(x, dtype=np.float64) - b)) + c


def fit_scaled_tanh(x: np.ndarray, y: np.ndarray, sample_weights: np.ndarray) -> np.ndarray:
    """The parameters (A, a, b, c) of :func:`scaled_tanh` fitted to (x, y): residuals weighted
    by ``sample_weights``, soft-L1 loss, the authors' start (all ones) and bounds
    A ∈ [0, clip(max y − min y, 1, 500)], a ∈ [0.1, 20], b ∈ [−5, 5], c ∈ [−500, 500]."""
    x, y, w = (np.asarray(v, dtype=np.float64) for v in (x, y, sample_weights))
    upper_amplitude = float(np.clip(np.max(y) - np.min(y), 1.0, 500.0))

    def residuals(params: np.ndarray) -> np.ndarray:
        return (scaled_tanh(x, *params) - y) * w

    start = np.clip(np.ones(4), [0.0, 0.1, -5.0, -500.0], [upper_amplitude, 20.0, 5.0, 500.0])
    fit = least_squares(residuals, start, loss="soft_l1", f_scale=F_SCALE,
                        bounds=([0.0, 0.1, -5.0, -500.0], [upper_amplitude, 20.0, 5.0, 500.0]))  # fmt: skip
    return np.asarray(fit.x, dtype=np.float64)


@dataclass
class OptimizationGraph:
    """PGMORL's optimisation history: node i is a policy reached by training with ``weights[i]``
    (L1-normalised) from node ``prev[i]`` (−1: a warm-up start), evaluated at ``objs[i]``."""

    weights: list[np.ndarray] = field(default_factory=list)
    objs: list[np.ndarray] = field(default_factory=list)
    prev: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.objs)

    def insert(self, weight: np.ndarray, objs: np.ndarray, prev: int) -> int:
        """Add a node; returns its id."""
        if not -1 <= prev < len(self):
            raise ValueError(f"prev={prev} is not a node of this graph (0..{len(self) - 1}) or -1")
        w = np.asarray(weight, dtype=np.float64)
        self.weights.append(w / w.sum())
        self.objs.append(np.asarray(objs, dtype=np.float64).copy())
        self.prev.append(int(prev))
        return len(self) - 1

    def successors(self, node: int) -> list[int]:
        return [i for i, p in enumerate(self.prev) if p == node]

    def neighbourhood(self, node: int, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training outcomes near ``node``: for every node i whose return vector is within
        ``threshold`` of the node's, relative to the node's in every objective, each step taken
        from i: (i's returns, the weight of the step, the change it made). Arrays (n, m)."""
        objs = np.asarray(self.objs)
        prev = np.asarray(self.prev)
        centre = objs[node]
        near = np.all(np.abs(objs - centre) < np.abs(centre) * threshold, axis=1)
        steps = np.flatnonzero((prev >= 0) & near[np.maximum(prev, 0)])
        start = objs[prev[steps]]
        return start, np.asarray(self.weights)[steps].reshape(-1, objs.shape[1]), objs[steps] - start

    def fit_neighbourhood(self, node: int) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
        """The neighbourhood the prediction for ``node`` is fitted to: (threshold, σ, and the
        :meth:`neighbourhood` arrays at that threshold).

        Threshold 0.1 and σ 0.03 double together until the neighbourhood holds more than 3
        distinct step weights. m >= 3: the doubling also stops once the threshold is >= 1 (the
        last neighbourhood is at 1.6, σ 0.48; authors' ``population_3d.py``). m = 2: no cap
        (authors' ``population_2d.py``); it stops where doubling cannot add a step (all the
        history's steps are in, or none can be: an objective of 0 makes the relative threshold
        0), where the authors' loop would run forever.
        """
        m = len(self.objs[node])
        threshold, sigma = INITIAL_THRESHOLD, INITIAL_SIGMA
        centre = self.objs[node]
        prev = np.asarray(self.prev)
        reachable = 0 if np.any(centre == 0.0) else int(np.count_nonzero(prev >= 0))
        while True:
            start, step_weights, deltas = self.neighbourhood(node, threshold)
            if _distinct(step_weights) >= MIN_DISTINCT_WEIGHTS:
                break
            if m >= 3 and threshold >= M3_THRESHOLD_LIMIT:
                break
            if m < 3 and len(deltas) >= reachable:
                break
            threshold, sigma = threshold * 2.0, sigma * 2.0
        return threshold, sigma, start, step_weights, deltas

    def predict(self, node: int, weights: np.ndarray) -> np.ndarray:
        """Predicted return vectors (n, m) of training ``node``'s policy with each of ``weights``
        (n, m; normalised here to sum to 1)."""
        test = np.asarray(weights, dtype=np.float64)
        test = test / test.sum(axis=1, keepdims=True)
        centre = self.objs[node]
        _, sigma, start, step_weights, deltas = self.fit_neighbourhood(node)
        if len(deltas) == 0:
            return np.repeat(centre[None], len(test), axis=0)  # nothing to learn from: no change
        distance = np.linalg.norm((start - centre) / np.abs(centre), axis=1)
        sample_weights = np.exp(-0.5 * np.square(distance / sigma))
        change = np.stack([
            scaled_tanh(test[:, j], *fit_scaled_tanh(step_weights[:, j], deltas[:, j], sample_weights))
            for j in range(test.shape[1])
        ], axis=1)  # fmt: skip
        return centre + change

    def state(self) -> dict[str, Any]:
        return {"weights": np.asarray(self.weights).tolist(), "objs": np.asarray(self.objs).tolist(),
                "prev": list(self.prev)}  # fmt: skip

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> OptimizationGraph:
        weights = [np.asarray(w, dtype=np.float64) for w in state["weights"]]
        graph = cls(weights, [np.asarray(o, dtype=np.float64) for o in state["objs"]], [int(p) for p in state["prev"]])
        if not len(graph.weights) == len(graph.objs) == len(graph.prev):
            raise ValueError("optimisation graph: weights, objs and prev differ in length")
        return graph


def _distinct(weights: np.ndarray, tol: float = 1e-5) -> int:
    """Number of distinct rows (within ``tol`` in Euclidean distance)."""
    kept: list[np.ndarray] = []
    for w in weights:
        if all(np.linalg.norm(w - k) >= tol for k in kept):
            kept.append(w)
            if len(kept) >= MIN_DISTINCT_WEIGHTS:
                break
    return len(kept)
