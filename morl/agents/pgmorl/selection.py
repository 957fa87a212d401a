"""PGMORL's population and its prediction-guided task selection (Xu et al., ICML 2020, Sec. 4).

- :class:`PerformanceBuffers`: the population is what survives in buffers over directions of the
  objective space (m = 2: 100 angular buckets over [0, π/2]; m = 3: 210 directions, 20 per side
  of the simplex), each keeping the 2 policies farthest from the origin; a policy with any
  objective below 1e-7 is not kept.
- :func:`candidate_weights`: the weights a population member may be trained with next.
- :func:`select_tasks`: greedily pick n (policy, weight) pairs, each maximising
  HV − α·SP of the virtual archive with its predicted outcome added, which is then inserted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from morl.pareto import hypervolume, non_dominated, sparsity
from morl.preferences import simplex_grid

MIN_OBJECTIVE = 1e-7
CANDIDATE_HALF_ANGLE = np.pi / 4
M3_CANDIDATE_GRID = 10  # simplex-grid splits of the weights offered around a policy for m >= 3
M3_RANDOM_CANDIDATES = 6


class PerformanceBuffers:
    """Buckets of objective-space directions, each keeping the ``size`` policies farthest from
    the origin (the reference point)."""

    def __init__(self, num_objectives: int, num_buffers: int = 100, size: int = 2, side: int = 20) -> None:
        """m = 2: ``num_buffers`` equal angular buckets over [0, π/2]; m >= 3: the directions of
        the simplex grid with ``side`` points per side (210 for m = 3)."""
        self.m, self.size = num_objectives, size
        if num_objectives == 2:
            self.num_buffers = num_buffers
            self.directions = None
        else:
            grid = simplex_grid(num_objectives, side - 1)
            self.directions = grid / np.linalg.norm(grid, axis=1, keepdims=True)
            self.num_buffers = len(grid)

    def bucket(self, objs: np.ndarray) -> np.ndarray:
        """The bucket of each return vector (n, m); −1 for vectors not kept (an objective < 1e-7)."""
        objs = np.asarray(objs, dtype=np.float64).reshape(-1, self.m)
        keep = np.all(objs >= MIN_OBJECTIVE, axis=1)
        norms = np.linalg.norm(objs, axis=1)
        if self.directions is None:
            theta = np.arccos(np.clip(objs[:, 1] / np.maximum(norms, 1e-300), -1.0, 1.0))
            ids = np.minimum((theta // (np.pi / 2 / self.num_buffers)).astype(np.int64), self.num_buffers - 1)
        else:
            ids = np.argmax(objs @ self.directions.T, axis=1)
        return np.where(keep, ids, -1)

    def select(self, objs: np.ndarray) -> np.ndarray:
        """Indices (into ``objs``) of the policies the buffers keep, bucket by bucket, farthest
        first; among equally far ones the earlier index wins."""
        objs = np.asarray(objs, dtype=np.float64).reshape(-1, self.m)
        ids = self.bucket(objs)
        norms = np.linalg.norm(objs, axis=1)
        kept: list[int] = []
        for bucket in np.unique(ids[ids >= 0]):
            members = np.flatnonzero(ids == bucket)
            order = members[np.lexsort((members, -norms[members]))]
            kept.extend(int(i) for i in order[: self.size])
        return np.asarray(kept, dtype=np.int64)


def candidate_weights(centre: np.ndarray, used: list[np.ndarray], rng: np.random.Generator,
                      count: int = 7) -> np.ndarray:  # fmt: skip
    """The weights (L1-normalised rows) a policy last trained with ``centre`` is offered next.

    m = 2: ``count`` directions evenly spaced in angle over ±π/4 around the centre's, those
    outside the first quadrant dropped. m >= 3: the centre and up to 6 weights drawn (``rng``)
    from the simplex grid of step 1/10 within π/4 of it. Weights the policy was already trained
    with from this node (``used``) are dropped in both cases.
    """
    centre = np.asarray(centre, dtype=np.float64)
    m = len(centre)
    if m == 2:
        angle = np.arctan2(centre[1], centre[0])
        angles = angle + np.linspace(-CANDIDATE_HALF_ANGLE, CANDIDATE_HALF_ANGLE, count)
        directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        directions = directions[np.all(directions >= -1e-7, axis=1)]
        directions = np.clip(directions, 0.0, None)
    else:
        grid = simplex_grid(m, M3_CANDIDATE_GRID)
        unit = grid / np.linalg.norm(grid, axis=1, keepdims=True)
        c = centre / np.linalg.norm(centre)
        near = np.flatnonzero((unit @ c > np.cos(CANDIDATE_HALF_ANGLE)) & (np.linalg.norm(unit - c, axis=1) > 1e-6))
        picked = rng.choice(near, size=min(M3_RANDOM_CANDIDATES, len(near)), replace=False) if len(near) else near
        directions = np.concatenate([c[None], unit[np.sort(picked)]], axis=0)
    directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    seen = [np.asarray(u, dtype=np.float64) / np.linalg.norm(u) for u in used]
    fresh = [d for d in directions if all(np.linalg.norm(d - u) >= 1e-3 for u in seen)]
    if not fresh:
        return np.zeros((0, m))
    weights = np.asarray(fresh)
    return weights / weights.sum(axis=1, keepdims=True)


def front_score(points: np.ndarray, alpha: float) -> float:
    """HV − α·SP of the non-dominated subset of ``points`` (reference point: the origin)."""
    if len(points) == 0:
        return 0.0
    front = points[non_dominated(points)]
    return hypervolume(front, ref_point=np.zeros(points.shape[1])) - alpha * sparsity(front)


@dataclass(frozen=True)
class Task:
    """Train the population member ``source`` (a policy id) with ``weight`` next; ``predicted``:
    the return vector the prediction model expects."""

    source: int
    weight: np.ndarray
    predicted: np.ndarray


def select_tasks(candidates: list[Task], archive: np.ndarray, count: int, alpha: float) -> list[Task]:
    """Greedily pick ``count`` distinct candidates, each maximising :func:`front_score` of the
    virtual archive (starting as ``archive``'s return vectors) with its prediction added; the
    pick's prediction then joins the virtual archive. Fewer when candidates run out."""
    if not candidates:
        return []
    virtual = np.asarray(archive, dtype=np.float64).reshape(-1, len(candidates[0].weight))
    remaining = list(range(len(candidates)))
    picked: list[Task] = []
    while remaining and len(picked) < count:
        scores = [front_score(np.vstack([virtual, candidates[i].predicted[None]]), alpha) for i in remaining]
        best = remaining.pop(int(np.argmax(scores)))  # the first of equal scores, as the authors
        picked.append(candidates[best])
        virtual = np.vstack([virtual, candidates[best].predicted[None]])
        virtual = virtual[non_dominated(virtual)]
    return picked
