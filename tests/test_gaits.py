"""benchmarks/gaits.py: what a saved set's policies do across its front."""

from __future__ import annotations

import numpy as np
import pytest
from gaits import gaits, load

import morl


def test_gaits_tell_a_fall_from_the_time_limit_and_agree_with_the_set_s_own_returns() -> None:
    """A row's returns are the episode the set's evaluation runs (same reset, same actions); its
    ending and length come from the same episode: Hopper's policies either hop to the time limit
    or fall, and the two must be told apart."""
    model, _ = load("MO-Hopper-v2")
    preferences = np.array([[1.0, 0.0], [0.5, 0.5]])
    rows = gaits(model, preferences)
    expected = model.evaluate(preferences).returns
    limit = morl.get_problem("MO-Hopper-v2").max_episode_steps
    for row, returns in zip(rows, expected, strict=True):
        np.testing.assert_allclose(row["returns"], returns, rtol=1e-6)
        assert 0 < row["steps"] <= limit and row["fell"] == (row["steps"] < limit)
        assert np.isfinite(row["mean_x_velocity"])


def test_gaits_name_a_model_that_is_neither_a_file_nor_a_shipped_set() -> None:
    with pytest.raises(SystemExit, match=r"MODEL 'MO-Nothing-v9': no such file.*MO-Swimmer-v2"):
        load("MO-Nothing-v9")
