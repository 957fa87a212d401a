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
