"""Front plots render for 2 and 3 objectives; TensorBoard and JSONL metrics read back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from morl.evaluation import EvaluationProtocol, FrontResult
from morl.pareto import FrontMetrics
from morl.plotting import plot_front, plot_preference_curves
from morl.preferences import evaluation_preferences, simplex_grid
from morl.training_log import MetricsWriter

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def synthetic_result(m: int, problem_id: str) -> FrontResult:
    preferences = evaluation_preferences(2) if m == 2 else simplex_grid(3, 8)
    rng = np.random.default_rng(0)
    returns = 100.0 * preferences + rng.uniform(-5, 5, size=preferences.shape)
    metrics = FrontMetrics(ref_point=tuple([0.0] * m), weights=preferences)
    return FrontResult(
        preferences=preferences,
        returns=returns,
        episode_returns=returns[:, None, :],
        front_indices=tuple(int(i) for i in metrics.front(returns)),
        metrics=metrics(returns),
        protocol=EvaluationProtocol(problem_id, tuple([0.0] * m), 1.0, 1, 0, True),
        env_steps=len(returns) * 500,
    )


@pytest.mark.parametrize(("m", "problem_id"), [(2, "morl/MO-HalfCheetah-v2"), (3, "morl/MO-Hopper-v3")])
def test_front_plot_renders(m: int, problem_id: str, tmp_path) -> None:
    path = tmp_path / "front.png"
    plot_front(synthetic_result(m, problem_id), path)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000


def test_preference_curves(tmp_path) -> None:
    path = tmp_path / "curves.png"
    plot_preference_curves(synthetic_result(2, "morl/MO-Swimmer-v2"), path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(ValueError, match="need 2 objectives"):
        plot_preference_curves(synthetic_result(3, "morl/MO-Hopper-v3"), tmp_path / "x.png")


def test_metrics_writer_tensorboard_and_jsonl(tmp_path) -> None:
    result = synthetic_result(2, "morl/MO-Walker2d-v2")
    with MetricsWriter(tmp_path) as writer:
        writer.write(1, {"train/loss": 0.5, "train/lr": 3e-4})
        writer.write(2, {"train/loss": 0.25, "train/lr": None})
        writer.write_front(2, result)
    events = EventAccumulator(str(tmp_path), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    tags = events.Tags()
    assert [e.value for e in events.Scalars("train/loss")] == [0.5, 0.25]
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]
    assert len(events.Scalars("train/lr")) == 1
    hv = events.Scalars("eval/hypervolume")
    assert hv[0].value == pytest.approx(result.metrics.hypervolume, rel=1e-6)
    assert events.Scalars("eval/num_non_dominated")[0].value == result.metrics.num_non_dominated
    assert "eval/front" in tags["images"]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines[0] == {"step": 1, "train/loss": 0.5, "train/lr": 3e-4}
    assert lines[1]["train/lr"] is None
    assert lines[2]["eval/hypervolume"] == pytest.approx(result.metrics.hypervolume)
