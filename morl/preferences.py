"""Preferences: points on the simplex that weight the objectives.

A preference ω has one non-negative entry per objective; a policy for ω maximises ω·r.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PreferenceLike = Sequence[float] | np.ndarray


def validate_preference(preference: PreferenceLike, num_objectives: int, *, name: str = "preference") -> np.ndarray:
    """Check a user's preference and return it as float64, normalised to sum to 1.

    A preference that does not sum to 1 (for example ``[1, 3]``) is rescaled: only the ratios
    between the weights matter for a linear scalarisation, and every method here expects simplex
    points. Raises ValueError naming ``name``, the value and what is expected when the length is
    not ``num_objectives`` or an entry is negative, NaN or infinite, or all entries are zero.
    """
    try:
        array = np.asarray(preference, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}={preference!r} is not a sequence of numbers; expected {num_objectives} non-negative weights"
        ) from None
    shown = array.tolist() if array.ndim <= 1 else f"array of shape {array.shape}"
    if array.ndim != 1 or array.shape[0] != num_objectives:
        raise ValueError(
            f"{name}={shown} has length {array.size if array.ndim else 0}; expected {num_objectives} weights, "
            f"one per objective"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}={shown} has NaN or infinite entries; expected finite non-negative weights")
    if np.any(array < 0):
        raise ValueError(f"{name}={shown} has negative entries; expected non-negative weights")
    largest = float(array.max())
    if largest <= 0.0:
        raise ValueError(f"{name}={shown} sums to 0; expected at least one positive weight")
    scaled = array / largest  # first to [0, 1]: a sum of huge weights (1e308 + 1e308) would overflow
    return scaled / scaled.sum()


def parse_preference(text: str, *, name: str = "preference") -> list[float]:
    """The weights of a preference written as text, ``"0.3,0.7"`` (a command-line option, a URL
    query): the numbers only; :func:`validate_preference` checks them against a problem. Raises
    ValueError naming ``name`` and the text when an entry is not a number."""
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"{name} {text!r} must be comma-separated numbers, e.g. 0.3,0.7") from None


# The papers' evaluation sets: 200 evenly spaced preferences for m=2, 406 (27 splits) for m=3.
PAPER_EVALUATION_SPLITS = {2: 199, 3: 27}


def simplex_grid(num_objectives: int, splits: int) -> np.ndarray:
    """All points of the simplex whose coordinates are multiples of ``1/splits``.

    An exact grid (``comb(splits + m - 1, m - 1)`` points, in lexicographic order of the first
    coordinates, descending), so the corners and the equal preference are hit exactly when
    ``splits`` allows.
    """
    if num_objectives < 1:
        raise ValueError(f"num_objectives={num_objectives} must be >= 1")
    if splits < 1:
        raise ValueError(f"splits={splits} must be >= 1")

    def compositions(total: int, parts: int) -> list[list[int]]:
        if parts == 1:
            return [[total]]
        return [[first, *rest] for first in range(total, -1, -1) for rest in compositions(total - first, parts - 1)]

    return np.array(compositions(splits, num_objectives), dtype=np.float64) / splits


def evaluation_preferences(num_objectives: int, splits: int | None = None) -> np.ndarray:
    """The evaluation preference set: the papers' (200 for m=2, 406 for m=3) by default."""
    if splits is None:
        if num_objectives not in PAPER_EVALUATION_SPLITS:
            raise ValueError(
                f"num_objectives={num_objectives}: no paper evaluation set; pass splits= "
                f"(known: {sorted(PAPER_EVALUATION_SPLITS)})"
            )
        splits = PAPER_EVALUATION_SPLITS[num_objectives]
    return simplex_grid(num_objectives, splits)


def project_to_simplex(points: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row onto the probability simplex (sort-based, exact)."""
    points = np.atleast_2d(np.asarray(points, dtype=np.float64))
    m = points.shape[1]
    ordered = -np.sort(-points, axis=1)
    cumulative = np.cumsum(ordered, axis=1) - 1.0
    index = np.arange(1, m + 1)
    condition = ordered - cumulative / index > 0
    rho = m - 1 - np.argmax(condition[:, ::-1], axis=1)
    theta = cumulative[np.arange(len(points)), rho] / (rho + 1)
    return np.maximum(points - theta[:, None], 0.0)


def in_cell(points: np.ndarray, centers: np.ndarray, splits: int, *, atol: float = 1e-12) -> np.ndarray:
    """Whether each point lies in the grid cell of its center: no other point of the (unbounded)
    grid with step ``1/splits`` is nearer. On the plane Σw = 1 that cell is
    ``{c + d : max(d) - min(d) <= 1/splits}`` (the grid is the root lattice A_{m-1}, whose
    Voronoi-relevant vectors are the (e_i - e_j)/splits)."""
    delta = np.asarray(points) - np.asarray(centers)
    return np.asarray(delta.max(axis=1) - delta.min(axis=1) <= 1.0 / splits + atol)


class PerturbedPreferenceSampler:
    """Hyper-MORL's preference sampler: one uniform random point per grid cell.

    For each point c of ``simplex_grid(m, splits)`` it draws a point uniformly from c's cell
    (the points nearer to c than to any other grid point), with the grid extended half a step
    beyond the simplex, and projects it back onto the simplex when it falls outside. For m=2 an
    interior preference is uniform within ±1/(2·splits) of its grid point and a corner
    preference lands exactly on the corner half the time. Defaults: splits 5 for m=2 (K = 6),
    4 for m=3 (K = 15), the authors' settings.
    """

    def __init__(self, num_objectives: int, splits: int | None = None) -> None:
        if splits is None:
            splits = {2: 5, 3: 4}.get(num_objectives, 4)
        self.num_objectives = num_objectives
        self.splits = splits
        self.centers = simplex_grid(num_objectives, splits)
        # Orthonormal basis of the plane Σw = 0: the cells are sampled in its coordinates.
        m = num_objectives
        basis, _ = np.linalg.qr(np.eye(m) - 1.0 / m)
        self._basis = basis[:, : m - 1]

    @property
    def num_preferences(self) -> int:
        return len(self.centers)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """(K, m) preferences, one per grid cell, in the order of ``centers``."""
        m, k = self.num_objectives, self.splits
        if m == 1:
            return np.ones((1, 1))
        out = np.empty_like(self.centers)
        radius = np.sqrt(m) / k  # bounds every cell point's distance from its center
        for i, center in enumerate(self.centers):
            while True:  # rejection sampling from a cube around the cell (accepts ~1/2 for m=3)
                delta = self._basis @ rng.uniform(-radius, radius, size=m - 1)
                if delta.max() - delta.min() <= 1.0 / k:
                    break
            out[i] = center + delta
        return project_to_simplex(out)
