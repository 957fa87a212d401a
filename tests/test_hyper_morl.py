"""Hyper-MORL end to end: determinism, save/load, standalone policies, CLI errors (kill and resume:
tests/test_run_directory.py)."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import morl
from morl.agents.checkpoint import CHECKPOINT
from morl.agents.hyper_morl.agent import HyperMORL
from morl.agents.hyper_morl.config import HyperMORLConfig
from morl.cli import main
from morl.policy import PreferencePolicy
from tests.test_run_directory import cli, one_line

TINY = {"steps_per_env": 64, "envs_per_preference": 2, "epochs": 2, "minibatches": 4, "eval_interval": 2,
        "eval_splits": 4, "workers": 1}  # fmt: skip


def tiny_agent(problem: str = "MO-Hopper-v2", **overrides: object) -> HyperMORL:
    cfg = HyperMORLConfig.for_problem(problem, **{**TINY, "total_steps": 4000, **overrides})
    return HyperMORL(problem, cfg)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[HyperMORL, Path]:
    out = tmp_path_factory.mktemp("run")
    agent = tiny_agent().learn(out_dir=out, progress=False)
    return agent, out


@pytest.mark.slow
def test_budget_and_phases(trained: tuple[HyperMORL, Path]) -> None:
    agent, _ = trained
    plan, run = agent.plan, agent.run
    # the budget is small: the rollout is halved from 64 until PSL gets >= 10 iterations
    assert plan.steps == 16
    per_warmup, per_psl = 16 * 2, 16 * 2 * 6
    assert agent.finished and agent.phase == "psl"
    assert plan.warmup_iterations == round(0.15 * 4000 / per_warmup)
    assert plan.psl_iterations == (4000 - plan.warmup_iterations * per_warmup) // per_psl >= 10
    assert run.env_steps == run.planned_steps == plan.warmup_iterations * per_warmup + plan.psl_iterations * per_psl
    assert run.env_steps <= 4000 and run.iterations == plan.warmup_iterations + plan.psl_iterations
    assert len(run.history) >= 1 and "hypervolume" in run.history[-1]


def test_paper_budget_keeps_the_authors_rollout() -> None:
    agent = HyperMORL("MO-Swimmer-v2")
    agent.learn(callback=lambda *_: False, progress=False)  # plan, one warm-up iteration, stop
    assert agent.plan.steps == 2048 and agent.run.total_steps == 12_000_000
    assert (agent.plan.warmup_iterations, agent.plan.psl_iterations) == (220, 207)


def test_psl_starts_from_warmup_policy_with_reset_log_std() -> None:
    agent = tiny_agent(total_steps=2000)
    agent._plan(2000)
    warm = agent.warmup_theta.detach().clone()
    with torch.no_grad():
        warm[agent.layout.segments["log_std"].offset] = 0.7  # as if the warm-up had changed it
        agent.warmup_theta.copy_(warm)
    agent._start_psl()
    theta = agent.parameters_for(np.array([[1.0, 0.0], [0.5, 0.5]]))
    seg = agent.layout.segments["log_std"]
    expected = warm.clone()
    expected[seg.offset : seg.offset + seg.size] = 0.0
    for row in theta:
        torch.testing.assert_close(row, expected)


def test_evaluation_sees_the_trained_parameters() -> None:
    agent = tiny_agent(total_steps=2000)
    before = agent.evaluate()
    agent.learn(progress=False)
    after = agent.evaluate()
    assert not np.array_equal(before.returns, after.returns)
    obs = np.random.default_rng(0).normal(size=(4, 11))
    prefs = np.array([[1.0, 0.0], [0.7, 0.3], [0.3, 0.7], [0.0, 1.0]])
    one_by_one = np.stack([agent.policy_for(w).predict(o) for o, w in zip(obs, prefs, strict=True)])
    np.testing.assert_allclose(agent.predict_batch(obs, prefs), one_by_one, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_same_seed_same_front() -> None:
    a = tiny_agent(total_steps=2000).learn(progress=False)
    b = tiny_agent(total_steps=2000).learn(progress=False)
    c = tiny_agent(total_steps=2000, seed=1).learn(progress=False)
    ra, rb, rc = (x.evaluate() for x in (a, b, c))
    np.testing.assert_array_equal(ra.returns, rb.returns)
    assert not np.array_equal(ra.returns, rc.returns)


def test_policy_for_runs_in_a_plain_gymnasium_loop(trained: tuple[HyperMORL, Path]) -> None:
    agent, _ = trained
    policy = agent.policy_for([0.3, 0.7])
    env = gym.make("morl/MO-Hopper-v2")
    obs, _ = env.reset(seed=0)
    for _ in range(20):
        action = policy.predict(obs)
        assert action.shape == (3,) and action.dtype == np.float32
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    # the numpy policy agrees with the batched torch forward pass used in evaluation
    batch = np.stack([env.observation_space.sample() * 0.1 for _ in range(5)])
    np.testing.assert_allclose(
        policy.predict(batch), agent.predict_batch(batch, np.tile([0.3, 0.7], (5, 1))), rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ValueError, match=r"preference=\[0.3\] has length 1; expected 2"):
        agent.policy_for([0.3])
    with pytest.raises(ValueError, match="obs has shape"):
        policy.predict(np.zeros(4))


def test_save_load_identical_actions(trained: tuple[HyperMORL, Path], tmp_path: Path) -> None:
    agent, out = trained
    loaded = HyperMORL.load(out)
    assert loaded.env_steps == agent.env_steps and loaded.config == agent.config
    obs = np.random.default_rng(0).normal(size=(8, 11))
    for w in ([1.0, 0.0], [0.25, 0.75]):
        np.testing.assert_array_equal(agent.policy_for(w).predict(obs), loaded.policy_for(w).predict(obs))
    policy = agent.policy_for([0.6, 0.4])
    policy.save(tmp_path / "p.npz")
    again = PreferencePolicy.load(tmp_path / "p.npz")
    np.testing.assert_array_equal(policy.predict(obs), again.predict(obs))
    assert again.problem_id == "morl/MO-Hopper-v2"
    np.testing.assert_allclose(again.preference, [0.6, 0.4])


def test_checkpoint_is_self_contained_and_safe(trained: tuple[HyperMORL, Path]) -> None:
    agent, out = trained
    payload = torch.load(out / CHECKPOINT, weights_only=True)
    assert payload["format"] == "morl.agent" and payload["agent"] == "hyper-morl"
    assert payload["problem_id"] == "morl/MO-Hopper-v2"
    assert json.loads(payload["config"]) == agent.config.to_dict()
    assert {"morl", "mujoco", "torch", "gymnasium", "numpy"} <= set(payload["versions"])
    assert json.loads(payload["state"]["run"])["env_steps"] == agent.env_steps
    assert json.loads(payload["state"]["obs_stats"])["count"] > 1
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_tensorboard_logs(trained: tuple[HyperMORL, Path]) -> None:
    _, out = trained
    events = EventAccumulator(str(out), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    for tag in ("train/policy_loss", "train/value_loss", "train/entropy", "train/learning_rate",
                "train/steps_per_second", "eval/hypervolume", "eval/sparsity", "eval/expected_utility",
                "eval/num_non_dominated"):  # fmt: skip
        assert tag in scalars, tag
    assert "eval/front" in events.Tags()["images"]
    assert (out / "front.json").is_file() and (out / "front.png").is_file()


def test_load_errors(tmp_path: Path, trained: tuple[HyperMORL, Path]) -> None:
    _, out = trained
    with pytest.raises(FileNotFoundError, match="no morl checkpoint"):
        HyperMORL.load(tmp_path)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable morl checkpoint"):
        HyperMORL.load(corrupt)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    torch.save({"weights": torch.zeros(3)}, foreign / CHECKPOINT)
    with pytest.raises(ValueError, match="not a morl checkpoint"):
        HyperMORL.load(foreign)
    header_only = tmp_path / "header_only"
    header_only.mkdir()
    torch.save({"format": "morl.agent", "format_version": 2}, header_only / CHECKPOINT)
    with pytest.raises(ValueError, match=r"damaged morl checkpoint \(missing \['agent'"):
        HyperMORL.load(header_only)
    with pytest.raises(ValueError, match="checkpoint for morl/MO-Hopper-v2, not morl/MO-Swimmer-v2"):
        HyperMORL.load(out, problem_id="MO-Swimmer-v2")


@pytest.mark.slow
def test_cli_bad_input_through_the_morl_command(trained: tuple[HyperMORL, Path]) -> None:
    """One case through ``python -m morl`` itself: the exit status and the single stderr line
    reach the shell (the other cases call the same ``main`` in-process, 3 s of imports each
    spared)."""
    _, out = trained
    status, _, err = cli("sample", str(out), "--preference", "0.2,0.3,0.5")
    one_line(status, err, "has length 3; expected 2")


def test_cli_bad_input(trained: tuple[HyperMORL, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = trained
    before = (out / CHECKPOINT).read_bytes()

    def error(text: str, *args: str) -> None:
        capsys.readouterr()
        status = main(list(args))
        one_line(status, capsys.readouterr().err, text)

    error("has negative entries", "sample", str(out), "--preference", "0.2,-1")
    error("must be comma-separated numbers", "sample", str(out), "--preference", "a,b")
    error("does not exist", "sample", str(tmp_path / "missing"))
    error("no morl checkpoint", "evaluate", str(tmp_path))
    error("is a checkpoint for morl/MO-Hopper-v2, not morl/MO-Swimmer-v2",
          "train", "hyper-morl", "--problem", "MO-Swimmer-v2", "--steps", "4000", "--out", str(out))  # fmt: skip
    error("holds a run with another config",
          "train", "hyper-morl", "--problem", "MO-Hopper-v2", "--steps", "9000", "--out", str(out))  # fmt: skip
    blocker = tmp_path / "file"
    blocker.write_text("x")
    error("cannot be created", "train", "hyper-morl", "--problem", "MO-Hopper-v2", "--out", str(blocker / "sub"))
    error("is unknown", "train", "hyper-morl", "--problem", "MO-Spider-v1", "--out", str(tmp_path))
    zero_epochs = ["--epochs", "0", "--out", str(tmp_path / "x")]
    error("epochs=0 must be a positive integer", "train", "hyper-morl", "--problem", "MO-Hopper-v2", *zero_epochs)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / CHECKPOINT).write_bytes(b"garbage")
    error("not a readable morl checkpoint", "sample", str(corrupt), "--preference", "0.5,0.5")
    error("not a readable morl checkpoint", "evaluate", str(corrupt))
    assert (corrupt / CHECKPOINT).read_bytes() == b"garbage"
    assert (out / CHECKPOINT).read_bytes() == before  # nothing already saved was touched


def test_cli_sample_and_evaluate(trained: tuple[HyperMORL, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out = trained
    assert main(["sample", str(out), "--preference", "0.3,0.7", "--episodes", "2"]) == 0
    text = capsys.readouterr().out
    assert "preference [0.3, 0.7]" in text and "mean return [forward_speed=" in text


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="unknown config field"):
        HyperMORLConfig.from_dict({"learnig_rate": 1e-3})
    with pytest.raises(ValueError, match=r"warmup_fraction=1\.0"):
        HyperMORLConfig(warmup_fraction=1.0)
    with pytest.raises(ValueError, match="too small"):
        tiny_agent(total_steps=100).learn(progress=False)
    cfg = HyperMORLConfig.for_problem("MO-Hopper-v3")
    assert (cfg.total_steps, cfg.preference_splits) == (120_000_000, 4)
    assert HyperMORLConfig.for_problem("MO-Humanoid-v2").envs_per_preference == 8
    assert morl.get_problem("MO-Swimmer-v2").paper_budget == HyperMORLConfig.for_problem("MO-Swimmer-v2").total_steps


@pytest.mark.slow
def test_learning_improves_the_front() -> None:
    """Fixed seed, small budget on MO-HalfCheetah-v2 (learns fast): the trained front must dominate
    far more of the objective space than the untrained policy, with several distinct trade-offs.
    Measured when written: HV 3.9e5 untrained, 3.2e6 trained, 7 non-dominated points; mean speed
    1376 vs 694 and energy efficiency 1171 vs 2210 for speed- vs energy-leaning preferences."""
    cfg = HyperMORLConfig.for_problem(
        "MO-HalfCheetah-v2", total_steps=150_000, steps_per_env=128, envs_per_preference=4, epochs=5,
        minibatches=4, learning_rate=1e-3, warmup_fraction=0.1, eval_interval=1000, eval_splits=10, seed=1,
    )  # fmt: skip
    agent = HyperMORL("MO-HalfCheetah-v2", cfg)
    untrained = agent.evaluate()
    agent.learn(progress=False)
    trained = agent.evaluate()
    assert trained.metrics.hypervolume > 4.0 * untrained.metrics.hypervolume
    assert trained.metrics.num_non_dominated >= 4
    # the preference steers the policy: speed-leaning preferences run faster, energy-leaning ones
    # spend less energy
    speed, energy = trained.returns[:, 0], trained.returns[:, 1]
    fast, frugal = trained.preferences[:, 0] > 0.5, trained.preferences[:, 0] < 0.5
    assert speed[fast].mean() > speed[frugal].mean() + 200
    assert energy[frugal].mean() > energy[fast].mean() + 200
