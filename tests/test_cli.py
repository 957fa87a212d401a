"""The ``morl`` command line."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from morl.cli import build_parser, main


def test_envs_lists_the_seven(capsys) -> None:
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert out.count("morl/MO-") == 7
    assert "forward_speed, jump_height, energy_efficiency" in out


@pytest.mark.parametrize(("argv", "imported"), [(["envs"], False), (["--help"], False), (["explore", "--help"], False),
                                                (["train", "--help"], True)])  # fmt: skip
def test_only_train_imports_the_agents(argv: list[str], imported: bool) -> None:
    """``morl train``'s options need every agent's class, and importing the agents (torch, scipy)
    cost seconds; the other commands build the parser without them. ``main()`` reads the command
    from ``sys.argv``, as the ``morl`` script calls it."""
    code = ("import sys\nfrom morl.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules, 'morl.agents.pgmorl' in sys.modules, file=sys.stderr)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == f"{imported} {imported}"
    if imported:
        assert "pgmorl" in done.stdout and "hyper-morl" in done.stdout  # the agents listed in train's help


def test_train_builds_every_agents_options() -> None:
    argv = ["train", "pgmorl", "--problem", "MO-Swimmer-v2", "--out", "x", "--update-iter", "3"]
    args = build_parser(argv).parse_args(argv)
    assert (args.agent, args.update_iter) == ("pgmorl", 3)
    agents = build_parser().parse_args(["train", "hyper-morl", "--problem", "MO-Swimmer-v2", "--out", "x"])
    assert agents.agent == "hyper-morl"


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


def test_evaluate_pdmorl_protocol_on_a_pretrained_model(monkeypatch, capsys) -> None:
    """``--protocol pd-morl`` evaluates on PD-MORL's grid (shrunk here to 3 of its 1001 rows) with
    its three seeded repetitions, and prints their HV and sparsity as mean ± std."""
    import morl.evaluation

    grid = morl.evaluation.pdmorl_preferences
    asked: list[int] = []

    def small_grid(m: int) -> np.ndarray:
        asked.append(m)
        return grid(m)[::500]

    monkeypatch.setattr(morl.evaluation, "pdmorl_preferences", small_grid)
    assert main(["evaluate", "pretrained:MO-Humanoid-v2", "--protocol", "pd-morl"]) == 0
    out = capsys.readouterr().out
    assert asked == [2] and "preferences: 3" in out
    assert "pd-morl protocol, morl/MO-Humanoid-v2: undiscounted returns" in out
    assert "3 repetitions seeded 0, 11, 22" in out
    assert re.search(r"HV mean ± std +\S+ ± \S+", out) and "sparsity mean ± std" in out


def test_evaluate_protocol_of_a_saved_result(tmp_path, capsys) -> None:
    """A saved result states its protocol; asking for another one is an error, not a relabelling."""
    from morl.evaluation import PROTOCOLS, front_result
    from tests.test_plotting_logging import synthetic_result

    parser = build_parser()
    assert parser.parse_args(["evaluate", "x"]).protocol is None  # a run is evaluated on the paper protocol
    assert [parser.parse_args(["evaluate", "x", "--protocol", p]).protocol for p in PROTOCOLS] == list(PROTOCOLS)
    with pytest.raises(SystemExit):
        parser.parse_args(["evaluate", "x", "--protocol", "pdmorl"])
    paper = tmp_path / "paper.json"
    synthetic_result(2, "morl/MO-Swimmer-v2").save(paper)
    assert main(["evaluate", str(paper), "--protocol", "paper"]) == 0
    assert "HV mean ± std" not in capsys.readouterr().out
    assert main(["evaluate", str(paper), "--protocol", "pd-morl"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "measured with protocol 'paper'; --protocol applies to a run directory" in err
    returns = np.array([[[10.0, 1.0], [12.0, 1.0], [11.0, 1.0]], [[1.0, 9.0], [1.0, 9.0], [1.0, 9.0]]])
    pdmorl = tmp_path / "pdmorl.json"
    front_result("morl/MO-Swimmer-v2", [[1.0, 0.0], [0.0, 1.0]], returns, protocol="pd-morl").save(pdmorl)
    assert main(["evaluate", str(pdmorl)]) == 0
    out = capsys.readouterr().out
    # HV per repetition: 10·1 + 1·9 - 1·1 = 18, 20, 19; population std of (18, 20, 19) = 0.816497
    assert "HV mean ± std         19 ± 0.816497" in out and "pd-morl protocol" in out


def test_evaluate_missing_file_is_a_one_line_error(tmp_path, capsys) -> None:
    assert main(["evaluate", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


@pytest.mark.slow
def test_demo_main_job_on_a_small_budget(tmp_path, capsys) -> None:
    """The README's main job end to end (train, evaluate on the paper set, plot, sample)."""
    out = tmp_path / "demo"
    assert main(["demo", "--steps", "12000", "--out", str(out), "--quiet", "--problem", "MO-Swimmer-v2"]) == 0
    text = capsys.readouterr().out
    assert "preferences: 200" in text and "hypervolume" in text
    assert "sampled preference [0.5, 0.5]: return [forward_speed=" in text
    for name in ("checkpoint.pt", "front.json", "front.png", "preference_curves.png", "policy.npz", "explorer.html"):
        assert (out / name).is_file(), name
    # running it again resumes the finished run instead of training anew
    assert main(["demo", "--steps", "12000", "--out", str(out), "--quiet", "--problem", "MO-Swimmer-v2"]) == 0
    assert "resuming from" in capsys.readouterr().out


def test_sample_video_renders_every_other_step_of_episode_zero(tmp_path, capsys) -> None:
    """``--video``: a GIF of episode 0 from the reset to its last step at every second step (only
    those are rendered), 320 × 240, and the same printed return as without it. A fresh agent's
    policy topples the hopper within a few dozen steps, which keeps the software rendering short."""
    import gymnasium as gym
    from PIL import Image

    from morl.agents import get_agent
    from morl.evaluation import run_episode

    cls = get_agent("hyper-morl")
    policy = cls("MO-Hopper-v2", cls.config_class.for_problem("MO-Hopper-v2")).policy_for([0.5, 0.5])
    path = tmp_path / "policy.npz"
    policy.save(path)
    env = gym.make("morl/MO-Hopper-v2")
    calls = []
    run_episode(env, policy, seed=0, observe=lambda: calls.append(1))
    env.close()
    assert len(calls) < 200
    assert main(["sample", str(path)]) == 0
    plain = capsys.readouterr().out
    video = tmp_path / "episode.gif"
    assert main(["sample", str(path), "--video", str(video)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == plain.splitlines()[1]  # "episode 0: return [...]"
    with Image.open(video) as gif:
        assert gif.size == (320, 240)
        assert gif.n_frames == (len(calls) + 1) // 2  # observations 0, 2, 4, ... of reset + steps
