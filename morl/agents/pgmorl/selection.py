"""PGMORL's population and its prediction-guided task selection (Xu et al., ICML 2020, Sec. 4).

- :class:`PerformanceBuffers`: the population is what survives in buffers over directions of the
  objective space (m = 2: 100 angular buckets over [0, π/2]; m = 3: 210 directions, 20 per side
  of the simplex), each keeping the 2 policies farthest from the origin; a policy with any
  objective below 1e-7 is not kept.
- :func:`candidate_weights`: the weights a population member may be trained with next.
- :func:`select_tasks`: greedily pick n (policy, weight) pairs, each maximising
  HV − α·SP of the virtual archive with its predicted outcome added, which is then inserted.
- :func:`archive_indices`: the Pareto archive (the result): non-dominated, no negative objective.

Points with a negative objective never count: the authors' archive (``ep.py`` through
``utils.get_ep_indices``) drops them, their virtual archive never takes one in
(``utils.update_ep``), and their score of a prediction ignores it (``population_2d.py`` scores
through ``get_ep_indices``, ``population_3d.py`` through ``update_ep``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from morl.pareto import hypervolume, non_dominated, sparsity
from morl.preferences import simplex_grid

MIN_OBJECTIVE = 1e-7
CANDIDATE_HALF_ANGLE = np.pi / 4
# m >= 3: the candidates come from the simplex grid of step delta_weight / 2 (authors'
# ``population_3d.py``), delta_weight being the warm-up grid's step: 0.25 / 2 → 8 splits, 45 weights.
M3_CANDIDATE_SPLITS = 8
USED_TOLERANCE = 1e-3  # a candidate this close to a weight already trained from the node is dropped


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
                      count: int = 7, grid_splits: int = M3_CANDIDATE_SPLITS) -> np.ndarray:  # fmt: skip
    """The weights (L1-normalised rows) a policy last trained with ``centre`` is offered next.

    Weights the policy was already trained with from this node (``used``) are never offered.

    m = 2 (authors' ``population_2d.py``): ``count`` directions evenly spaced in angle over ±π/4
    around the centre's, those outside the first quadrant dropped.

    m >= 3 (authors' ``population_3d.py``): the centre (unless used), then the weights of the
    simplex grid with ``grid_splits`` splits (45 weights for the authors' 8) in an order shuffled
    by ``rng``, each taken when it is within π/4 of the centre (not the centre itself, not used),
    until ``count`` weights are offered. So a policy whose centre is used is offered ``count``
    grid weights, not one fewer; and the offer is a random subset of the grid's weights near the
    centre, a different one at each selection.
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count={count!r} must be a positive integer (candidate weights per policy)")
    centre = np.asarray(centre, dtype=np.float64)
    m = len(centre)
    if m == 2:
        angle = np.arctan2(centre[1], centre[0])
        angles = angle + np.linspace(-CANDIDATE_HALF_ANGLE, CANDIDATE_HALF_ANGLE, count)
        directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        directions = directions[np.all(directions >= -1e-7, axis=1)]
        directions = np.clip(directions, 0.0, None)
        directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
        seen = [np.asarray(u, dtype=np.float64) / np.linalg.norm(u) for u in used]  # compared as unit vectors
        fresh = [d for d in directions if all(np.linalg.norm(d - u) >= USED_TOLERANCE for u in seen)]
        if not fresh:
            return np.zeros((0, m))
        weights = np.asarray(fresh)
        return weights / weights.sum(axis=1, keepdims=True)
    centre = centre / centre.sum()
    seen = [np.asarray(u, dtype=np.float64) / np.sum(u) for u in used]  # compared L1-normalised

    def is_used(w: np.ndarray) -> bool:
        return any(np.linalg.norm(w - u) < USED_TOLERANCE for u in seen)

    offered = [] if is_used(centre) else [centre]
    grid = simplex_grid(m, grid_splits)
    cos_bound = np.cos(CANDIDATE_HALF_ANGLE)
    unit_centre = centre / np.linalg.norm(centre)
    for index in rng.permutation(len(grid)):
        if len(offered) >= count:
            break
        w = grid[index]
        if np.linalg.norm(w - centre) < USED_TOLERANCE or is_used(w):
            continue
        if float(w @ unit_centre) / np.linalg.norm(w) > cos_bound:  # angle < π/4
            offered.append(w)
    return np.asarray(offered, dtype=np.float64).reshape(-1, m)


def non_negative(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows with no negative objective (0 counts as non-negative, as the
    authors' ``utils.get_ep_indices``: ``(objs >= 0).all()``)."""
    return np.all(np.asarray(points, dtype=np.float64) >= 0.0, axis=-1)


def archive_indices(objs: np.ndarray) -> np.ndarray:
    """Indices (into ``objs`` (n, m)) of the Pareto archive they make: the non-dominated ones
    among those with no negative objective (authors' ``ep.py``, ``utils.get_ep_indices``).

    While none of them is non-negative (early in a run on a problem whose objectives can be
    negative), the non-dominated ones of all: the authors' archive would be empty, and ours must
    not be (the training front, ``pareto_set`` and the selection's fallback need a member). Its
    hypervolume at the origin is 0 either way, and the first non-negative point to arrive
    replaces them all (:func:`select_tasks` ignores them meanwhile).
    """
    objs = np.asarray(objs, dtype=np.float64)
    if objs.ndim != 2:
        raise ValueError(f"objs of shape {objs.shape} must be (n, m)")
    keep = non_negative(objs) if len(objs) else np.zeros(0, dtype=bool)
    pool = np.flatnonzero(keep) if keep.any() else np.arange(len(objs))
    return pool[non_dominated(objs[pool])] if len(pool) else pool


def front_score(points: np.ndarray, alpha: float) -> float:
    """HV − α·SP of the non-dominated subset of ``points`` with no negative objective (reference
    point: the origin). A point with a negative objective changes nothing: adding one leaves the
    score exactly as it was (authors' ``population_2d.py`` scores through ``get_ep_indices``,
    ``population_3d.py`` through ``update_ep``, both of which drop it), so a prediction such as
    (12, −1) cannot buy a lower sparsity."""
    points = np.asarray(points, dtype=np.float64)
    points = points[non_negative(points)] if len(points) else points
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
    virtual archive (starting as ``archive``'s non-negative, non-dominated return vectors) with
    its prediction added; the pick's prediction then joins the virtual archive, unless it has a
    negative objective (authors' ``utils.update_ep``). Fewer when candidates run out."""
    if not candidates:
        return []
    virtual = np.asarray(archive, dtype=np.float64).reshape(-1, len(candidates[0].weight))
    virtual = virtual[non_negative(virtual)]
    virtual = virtual[non_dominated(virtual)] if len(virtual) else virtual
    remaining = list(range(len(candidates)))
    picked: list[Task] = []
    while remaining and len(picked) < count:
        scores = [front_score(np.vstack([virtual, candidates[i].predicted[None]]), alpha) for i in remaining]
        best = remaining.pop(int(np.argmax(scores)))  # the first of equal scores, as the authors
        picked.append(candidates[best])
        if non_negative(candidates[best].predicted):
            virtual = np.vstack([virtual, candidates[best].predicted[None]])
            virtual = virtual[non_dominated(virtual)]
    return picked
