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
    total = float(array.sum())
    if total <= 0.0:
        raise ValueError(f"{name}={shown} sums to 0; expected at least one positive weight")
    return array / total
