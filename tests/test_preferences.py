"""Validation of a user's preference."""

from __future__ import annotations

import numpy as np
import pytest

from morl.preferences import validate_preference


def test_normalised_to_simplex() -> None:
    np.testing.assert_allclose(validate_preference([1, 3], 2), [0.25, 0.75])
    np.testing.assert_allclose(validate_preference(np.array([0.0, 0.0, 2.0]), 3), [0, 0, 1])


def test_error_names_parameter_and_value() -> None:
    with pytest.raises(ValueError, match=r"weights=\[1.0\] has length 1; expected 2 weights"):
        validate_preference([1.0], 2, name="weights")
    with pytest.raises(ValueError, match="array of shape"):
        validate_preference(np.ones((2, 2)), 2)


from morl.preferences import (  # noqa: E402
    PerturbedPreferenceSampler,
    evaluation_preferences,
    in_cell,
    project_to_simplex,
    simplex_grid,
)


def test_paper_evaluation_sets() -> None:
    two, three = evaluation_preferences(2), evaluation_preferences(3)
    assert two.shape == (200, 2) and three.shape == (406, 3)
    for grid in (two, three):
        np.testing.assert_allclose(grid.sum(axis=1), 1.0)
        assert grid.min() >= 0.0
        assert len(np.unique(grid.round(12), axis=0)) == len(grid)
    assert [1.0, 0.0] in two.tolist() and [0.0, 1.0] in two.tolist()
    with pytest.raises(ValueError, match="no paper evaluation set"):
        evaluation_preferences(4)
    assert simplex_grid(4, 3).shape == (20, 4)


def test_projection_onto_simplex() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(200, 3))
    projected = project_to_simplex(points)
    np.testing.assert_allclose(projected.sum(axis=1), 1.0)
    assert projected.min() >= 0.0
    inside = np.array([[0.2, 0.3, 0.5]])
    np.testing.assert_allclose(project_to_simplex(inside), inside)
    np.testing.assert_allclose(project_to_simplex([[-0.2, 1.2]]), [[0.0, 1.0]])


def test_sampler_two_objectives_statistics() -> None:
    sampler = PerturbedPreferenceSampler(2)
    assert sampler.num_preferences == 6
    rng = np.random.default_rng(0)
    samples = np.stack([sampler.sample(rng) for _ in range(3000)])  # (3000, 6, 2)
    np.testing.assert_allclose(samples.sum(axis=2), 1.0)
    for i, center in enumerate(sampler.centers):
        assert in_cell(samples[:, i], np.broadcast_to(center, samples[:, i].shape), 5).all()
    # corners land exactly on the corner about half the time
    assert 0.45 < np.mean(samples[:, 0, 0] == 1.0) < 0.55
    assert 0.45 < np.mean(samples[:, 5, 1] == 1.0) < 0.55
    # an interior preference is uniform within +-0.1 of its grid point
    interior = samples[:, 2, 0]
    assert interior.min() >= 0.5 and interior.max() <= 0.7
    assert interior.min() < 0.505 and interior.max() > 0.695
    assert abs(interior.mean() - 0.6) < 0.005
    assert abs(np.mean(interior < 0.6) - 0.5) < 0.05


def test_sampler_three_objectives_and_seeding() -> None:
    sampler = PerturbedPreferenceSampler(3)
    assert sampler.num_preferences == 15
    a = sampler.sample(np.random.default_rng(7))
    b = sampler.sample(np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    samples = np.stack([sampler.sample(np.random.default_rng(s)) for s in range(500)])
    np.testing.assert_allclose(samples.sum(axis=2), 1.0)
    assert samples.min() >= 0.0
    for i, center in enumerate(sampler.centers):
        assert in_cell(samples[:, i], np.broadcast_to(center, samples[:, i].shape), 4).all()
    # samples differ from their grid point (not a degenerate sampler)
    assert np.mean(np.abs(samples - sampler.centers).sum(axis=2) > 1e-6) > 0.5
