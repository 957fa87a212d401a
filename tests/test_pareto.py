"""Indicators on hand-computed cases, brute-force cross-checks and edge cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from morl.pareto import (
    FrontMetrics,
    cardinality,
    expected_utility,
    hypervolume,
    igd_plus,
    non_dominated,
    sparsity,
)


def brute_force_hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Exact hypervolume by inclusion-exclusion over subsets (small sets only)."""
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in itertools.combinations(points, size):
            corner = np.min(subset, axis=0)
            total += (-1) ** (size + 1) * float(np.prod(np.clip(corner - ref, 0.0, None)))
    return total


def test_non_dominated_mask() -> None:
    points = [[1, 5], [2, 4], [2, 3], [0, 0], [3, 1], [2, 4]]
    np.testing.assert_array_equal(non_dominated(points), [True, True, False, False, True, True])
    assert non_dominated(np.zeros((0, 2))).shape == (0,)
    np.testing.assert_array_equal(non_dominated([[1.0, 1.0]]), [True])
    assert cardinality(points) == 4
    assert cardinality(np.zeros((0, 3))) == 0


def test_hypervolume_hand_computed_2d() -> None:
    ref = [0.0, 0.0]
    assert hypervolume([[3.0, 2.0]], ref_point=ref) == pytest.approx(6.0)
    assert hypervolume([[3.0, 1.0], [1.0, 3.0]], ref_point=ref) == pytest.approx(3 + 3 - 1)
    # staircase of three: 1x4 + 1x3 + 1x1 stripes, from x=0..1, 1..2, 2..3
    assert hypervolume([[1, 4], [2, 3], [3, 1]], ref_point=ref) == pytest.approx(4 + 3 + 1)
    assert hypervolume([[4.0, 4.0]], ref_point=[1.0, 2.0]) == pytest.approx(3 * 2)


def test_hypervolume_3d_case() -> None:
    points = [[1, 2, 3], [3, 2, 1]]
    # 6 + 6 - overlap (1 x 2 x 1)
    assert hypervolume(points, ref_point=[0, 0, 0]) == pytest.approx(10.0)


def test_hypervolume_edge_cases() -> None:
    assert hypervolume(np.zeros((0, 2)), ref_point=[0, 0]) == 0.0
    assert hypervolume([[-1.0, 5.0]], ref_point=[0, 0]) == 0.0  # outside the reference box
    assert hypervolume([[-1.0, 5.0], [2.0, 2.0]], ref_point=[0, 0]) == pytest.approx(4.0)
    assert hypervolume([[2.0, 2.0], [2.0, 2.0]], ref_point=[0, 0]) == pytest.approx(4.0)  # duplicates
    assert hypervolume([[0.0, 5.0]], ref_point=[0, 0]) == 0.0
    with pytest.raises(ValueError, match="ref_point"):
        hypervolume([[1.0, 1.0]], ref_point=[0.0])
    with pytest.raises(TypeError):
        hypervolume([[1.0, 1.0]])  # type: ignore[call-arg]


@pytest.mark.parametrize("m", [2, 3])
def test_hypervolume_matches_brute_force(m: int) -> None:
    rng = np.random.default_rng(m)
    for _ in range(20):
        points = rng.uniform(-0.5, 3.0, size=(rng.integers(1, 7), m))
        ref = rng.uniform(-1.0, 0.5, size=m)
        inside = points[np.all(points > ref, axis=1)]
        expected = brute_force_hypervolume(inside, ref) if len(inside) else 0.0
        assert hypervolume(points, ref_point=ref) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_sparsity_pgmorl_definition() -> None:
    assert sparsity([[1.0, 2.0]]) == 0.0
    assert sparsity(np.zeros((0, 2))) == 0.0
    # objective 0 sorted: 0, 1, 3 -> gaps 1, 2; objective 1 sorted: 1, 2, 4 -> gaps 1, 2
    assert sparsity([[0, 4], [1, 2], [3, 1]]) == pytest.approx((1 + 4 + 1 + 4) / 2)


def test_expected_utility() -> None:
    points = [[4.0, 0.0], [0.0, 2.0]]
    weights = [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]
    assert expected_utility(points, weights) == pytest.approx((4 + 2 + 2) / 3)
    with pytest.raises(ValueError, match="empty"):
        expected_utility(np.zeros((0, 2)), weights)


def test_igd_plus() -> None:
    reference = [[2.0, 0.0], [0.0, 2.0]]
    assert igd_plus(reference, reference) == pytest.approx(0.0)
    # one point (1, 1): d+ to (2, 0) is 1, to (0, 2) is 1 -> mean 1
    assert igd_plus([[1.0, 1.0]], reference) == pytest.approx(1.0)
    # dominating the reference front costs nothing in IGD+
    assert igd_plus([[3.0, 3.0]], reference) == pytest.approx(0.0)


def test_front_metrics_configured_once() -> None:
    metrics = FrontMetrics(ref_point=(0.0, 0.0), weights=np.array([[1.0, 0.0], [0.0, 1.0]]))
    result = metrics([[3, 1], [1, 3], [0.5, 0.5], [-1, 10]])
    assert result.num_non_dominated == 2  # (0.5, 0.5) dominated; (-1, 10) outside the box
    assert result.hypervolume == pytest.approx(5.0)
    assert result.sparsity == pytest.approx((4 + 4) / 1)
    assert result.expected_utility == pytest.approx((3.0 + 10.0) / 2)  # over all non-dominated returns
    np.testing.assert_array_equal(metrics.front([[3, 1], [1, 3], [0.5, 0.5], [-1, 10]]), [0, 1])
    empty = metrics(np.zeros((0, 2)))
    assert (empty.hypervolume, empty.num_non_dominated, empty.expected_utility) == (0.0, 0, None)
    with pytest.raises(ValueError, match="ref_point"):
        FrontMetrics(ref_point=(np.nan, 0.0))
