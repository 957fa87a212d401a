"""benchmarks/gaits.py: what a saved set's policies do across its front."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from gaits import Source, gaits, load

import morl


def test_gaits_tell_a_fall_from_the_time_limit_and_agree_with_the_set_s_own_returns() -> None:
    """A row's returns are the episode the set's evaluation runs (same reset, same actions); its
    ending and length come from the same episode: Hopper's policies either hop to the time limit
    or fall, and the two must be told apart."""
    source = load("MO-Hopper-v2")
    preferences = np.array([[1.0, 0.0], [0.5, 0.5]])
    rows = gaits(source, preferences)
    expected = source.policies.evaluate(preferences).returns
    limit = morl.get_problem("MO-Hopper-v2").max_episode_steps
    for row, returns in zip(rows, expected, strict=True):
        np.testing.assert_allclose(row["returns"], returns, rtol=1e-6)
        assert 0 < row["steps"] <= limit and row["fell"] == (row["steps"] < limit)
        assert np.isfinite(row["mean_x_velocity"])


class _FullThrottle:
    """Every joint at full torque: Hopper topples within a few dozen steps."""

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return np.ones(3)


def test_gaits_report_a_fall_as_a_fall() -> None:
    source = Source(SimpleNamespace(policy_for=lambda preference: _FullThrottle()), "MO-Hopper-v2", "", None)
    [row] = gaits(source, np.array([[0.5, 0.5]]))
    assert row["fell"] and 0 < row["steps"] < morl.get_problem("MO-Hopper-v2").max_episode_steps


def test_gaits_name_a_model_that_is_neither_a_file_nor_a_shipped_set() -> None:
    with pytest.raises(SystemExit, match=r"MODEL 'MO-Nothing-v9': no such file or run directory.*MO-Swimmer-v2"):
        load("MO-Nothing-v9")
    assert load("morl/MO-Swimmer-v2").problem == "MO-Swimmer-v2"  # gymnasium's id names the shipped set too


@pytest.mark.slow
def test_gaits_replay_an_agent_s_run_directory(tmp_path: Path) -> None:
    """A run directory (any agent; here a short Hyper-MORL run) is replayed through the agent's own
    ``policy_for``, with the definition its front was measured on; Hopper resets deterministically,
    so the rows' returns are the agent's own evaluation's (to rounding)."""
    config = morl.HyperMORLConfig.for_problem("MO-Hopper-v2", total_steps=4_096, epochs=1, minibatches=1,
                                              eval_interval=1000)  # fmt: skip
    agent = morl.HyperMORL("MO-Hopper-v2", config).learn(out_dir=tmp_path / "run", progress=False)
    source = load(str(tmp_path / "run"))
    assert source.problem == "MO-Hopper-v2" and source.trained_on == morl.fingerprint("MO-Hopper-v2")
    preferences = np.array([[0.0, 1.0], [1.0, 0.0]])
    rows = gaits(source, preferences)
    # the agent evaluates its actors batched, a standalone policy one row at a time: rounding apart
    np.testing.assert_allclose([r["returns"] for r in rows], agent.evaluate(preferences).returns, rtol=1e-4, atol=1e-3)
