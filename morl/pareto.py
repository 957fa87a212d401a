"""Pareto-front indicators for maximised objectives (pymoo inside).

pymoo minimises; the negation of maximised objectives happens in exactly one place,
:func:`_to_pymoo`. Reference points are always explicit: they are never derived from the points
being measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.indicators.igd_plus import IGDPlus
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

ArrayLike = Sequence[Sequence[float]] | np.ndarray


def _points(points: ArrayLike, name: str = "points") -> np.ndarray:
    array = np.asarray(points, dtype=np.float64)
    if array.size == 0:
        return array.reshape(0, array.shape[-1] if array.ndim == 2 else 0)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n points x m objectives); got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _to_pymoo(points: np.ndarray) -> np.ndarray:
    """The one place where maximised objectives become pymoo's minimised ones."""
    return -points


def non_dominated(points: ArrayLike) -> np.ndarray:
    """Boolean mask of the points no other point dominates (maximisation).

    Duplicates do not dominate each other: all copies of a non-dominated point are kept.
    """
    array = _points(points)
    mask = np.zeros(len(array), dtype=bool)
    if len(array):
        front = NonDominatedSorting().do(_to_pymoo(array), only_non_dominated_front=True)
        mask[np.asarray(front, dtype=int)] = True
    return mask


def cardinality(points: ArrayLike) -> int:
    """Number of non-dominated points (copies of a point each count)."""
    return int(non_dominated(points).sum())


def _check_ref(ref_point: ArrayLike | Sequence[float], m: int) -> np.ndarray:
    ref = np.asarray(ref_point, dtype=np.float64)
    if ref.shape != (m,) or not np.all(np.isfinite(ref)):
        raise ValueError(f"ref_point={ref.tolist()} must be {m} finite numbers, one per objective")
    return ref


def dominating_reference(points: np.ndarray, ref_point: np.ndarray) -> np.ndarray:
    """Mask of the points strictly better than the reference point in every objective (the
    points that can contribute to the hypervolume)."""
    return np.all(points > ref_point, axis=1) if len(points) else np.zeros(0, dtype=bool)


def hypervolume(points: ArrayLike, *, ref_point: Sequence[float] | np.ndarray) -> float:
    """Volume of the objective space dominated by ``points`` and bounded by ``ref_point``.

    Points that do not dominate the reference point contribute nothing (the papers drop points
    with a negative objective at reference point 0: the same thing). Empty set → 0.
    """
    array = _points(points)
    if array.size == 0:
        return 0.0
    ref = _check_ref(ref_point, array.shape[1])
    inside = array[dominating_reference(array, ref)]
    if len(inside) == 0:
        return 0.0
    return float(HV(ref_point=_to_pymoo(ref))(_to_pymoo(inside)))


def sparsity(points: ArrayLike) -> float:
    """PGMORL's sparsity: (1/(N-1)) Σ_j Σ_i (P̃_j(i+1) - P̃_j(i))², with each objective's values
    sorted separately; 0 when N < 2. Lower is denser. Apply it to a non-dominated set."""
    array = _points(points)
    if len(array) < 2:
        return 0.0
    ordered = np.sort(array, axis=0)
    return float(np.sum(np.square(np.diff(ordered, axis=0))) / (len(array) - 1))


def expected_utility(points: ArrayLike, weights: ArrayLike) -> float:
    """Mean over ``weights`` (rows) of the best weighted return w·p among ``points``."""
    array, w = _points(points), _points(weights, "weights")
    if len(array) == 0:
        raise ValueError("expected_utility of an empty set of points is undefined")
    if w.shape[1] != array.shape[1]:
        raise ValueError(f"weights have {w.shape[1]} objectives; points have {array.shape[1]}")
    return float(np.mean(np.max(w @ array.T, axis=1)))


def igd_plus(points: ArrayLike, reference_front: ArrayLike) -> float:
    """IGD+ of ``points`` against a known reference front (lower is better; pymoo's IGD+ with
    objectives negated for maximisation)."""
    array, ref = _points(points), _points(reference_front, "reference_front")
    if len(array) == 0 or len(ref) == 0:
        raise ValueError("igd_plus needs non-empty points and reference_front")
    return float(IGDPlus(_to_pymoo(ref))(_to_pymoo(array)))


@dataclass(frozen=True)
class FrontMetricsResult:
    """Indicators of one front (see :class:`FrontMetrics` for the protocol)."""

    hypervolume: float
    sparsity: float
    expected_utility: float | None
    num_non_dominated: int
    igd_plus: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FrontMetrics:
    """Indicators configured once (reference point, utility weights, reference front) and
    applied to many fronts.

    Protocol (the papers'): the front is the non-dominated subset of the given returns, restricted
    to points that dominate ``ref_point`` (at the origin: no negative objective). Hypervolume,
    sparsity, IGD+ and the count are computed on that set; an empty set gives hypervolume 0 and
    sparsity 0. Expected utility is taken over all non-dominated returns (the box of the reference
    point does not bound a user's utility), None only when there are no returns.
    """

    ref_point: tuple[float, ...]
    weights: np.ndarray | None = None
    reference_front: np.ndarray | None = None

    def __post_init__(self) -> None:
        ref = np.asarray(self.ref_point, dtype=np.float64)
        if ref.ndim != 1 or not np.all(np.isfinite(ref)):
            raise ValueError(f"ref_point={self.ref_point!r} must be a sequence of finite numbers")
        object.__setattr__(self, "ref_point", tuple(float(x) for x in ref))
        if self.weights is not None:
            object.__setattr__(self, "weights", _points(self.weights, "weights"))
        if self.reference_front is not None:
            object.__setattr__(self, "reference_front", _points(self.reference_front, "reference_front"))

    def front(self, points: ArrayLike) -> np.ndarray:
        """Indices of the points that form the front under this protocol."""
        array = _points(points)
        ref = _check_ref(self.ref_point, array.shape[1]) if array.size else np.zeros(0)
        keep = non_dominated(array) & dominating_reference(array, ref) if array.size else np.zeros(0, bool)
        return np.flatnonzero(keep)

    def __call__(self, points: ArrayLike) -> FrontMetricsResult:
        array = _points(points)
        front = array[self.front(array)] if array.size else array
        undominated = array[non_dominated(array)] if array.size else array
        eu = expected_utility(undominated, self.weights) if self.weights is not None and len(undominated) else None
        return FrontMetricsResult(
            hypervolume=hypervolume(front, ref_point=self.ref_point) if len(front) else 0.0,
            sparsity=sparsity(front),
            expected_utility=eu,
            num_non_dominated=len(front),
            igd_plus=igd_plus(front, self.reference_front) if self.reference_front is not None and len(front) else None,
        )
