"""The ``morl`` command line."""

from __future__ import annotations

import subprocess
import sys

from morl.cli import main


def test_envs_lists_the_seven(capsys) -> None:
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert out.count("morl/MO-") == 7
    assert "forward_speed, jump_height, energy_efficiency" in out


def test_random_rollout_prints_return_vectors(capsys) -> None:
    assert main(["random-rollout", "--problems", "MO-Hopper-v2", "--envs", "2", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "morl/MO-Hopper-v2" in out and "forward_speed=" in out and "jump_height=" in out


def test_unknown_problem_is_one_line_error_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "morl", "random-rollout", "--problems", "MO-Spider-v1"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "problem_id='MO-Spider-v1' is unknown" in result.stderr
    assert "Traceback" not in result.stderr


def test_evaluate_prints_metrics_and_plots(tmp_path, capsys) -> None:
    from tests.test_plotting_logging import synthetic_result

    result = synthetic_result(2, "morl/MO-Swimmer-v2")
    path = tmp_path / "front.json"
    result.save(path)
    plot = tmp_path / "front.png"
    assert main(["evaluate", str(path), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert f"hypervolume           {result.metrics.hypervolume:.6g}" in out
    assert "undiscounted returns" in out and "reference point [0.0, 0.0]" in out
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_evaluate_missing_file_is_a_one_line_error(tmp_path, capsys) -> None:
    assert main(["evaluate", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_demo_main_job_on_a_small_budget(tmp_path, capsys) -> None:
    """The README's main job end to end (train, evaluate on the paper set, plot, sample)."""
    out = tmp_path / "demo"
    assert main(["demo", "--steps", "12000", "--out", str(out), "--quiet", "--problem", "MO-Swimmer-v2"]) == 0
    text = capsys.readouterr().out
    assert "preferences: 200" in text and "hypervolume" in text
    assert "sampled preference [0.5, 0.5]: return [forward_speed=" in text
    for name in ("checkpoint.pt", "front.json", "front.png", "preference_curves.png", "policy.npz"):
        assert (out / name).is_file(), name
    # running it again resumes the finished run instead of training anew
    assert main(["demo", "--steps", "12000", "--out", str(out), "--quiet", "--problem", "MO-Swimmer-v2"]) == 0
    assert "resuming from" in capsys.readouterr().out
