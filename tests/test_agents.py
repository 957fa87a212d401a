"""The agent protocol, for every registered agent: config validation, learn/save/load, resuming,
callbacks, the registry and morl.load, CLI training."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import morl
from morl.agents import AGENTS, get_agent
from morl.agents.base import Agent
from morl.agents.checkpoint import CHECKPOINT
from morl.agents.conditioned_ppo import ConditionedPPOConfig
from morl.agents.hyper_morl.config import HyperMORLConfig
from morl.agents.sb3 import SB3MultiPolicyConfig, member_weights
from morl.cli import main
from morl.evaluation import FrontResult

PROBLEM = "MO-Hopper-v2"
TINY: dict[str, dict[str, Any]] = {
    "hyper-morl": {"total_steps": 4000, "steps_per_env": 64, "envs_per_preference": 2, "epochs": 2,
                   "minibatches": 4, "eval_interval": 4, "eval_splits": 4, "workers": 1},
    "conditioned-ppo": {"total_steps": 6000, "steps_per_env": 64, "num_envs": 8, "epochs": 2, "minibatches": 4,
                        "eval_interval": 4, "eval_splits": 4, "workers": 1},
    "sb3": {"total_steps": 6000, "n_steps": 64, "num_policies": 3, "envs_per_policy": 2, "n_epochs": 2,
            "eval_interval": 4, "eval_splits": 4, "workers": 1},
    "pgmorl": {"total_steps": 8000, "steps_per_env": 64, "num_tasks": 3, "warmup_splits": 2, "envs_per_task": 2,
               "warmup_iter": 2, "update_iter": 2, "epochs": 2, "minibatches": 4, "eval_interval": 4,
               "eval_splits": 4, "workers": 1},
    "pd-morl": {"total_steps": 4000, "num_envs": 4, "hidden": 16, "batch_size": 32, "key_batch_size": 16,
                "learning_starts": 64, "steps_per_iteration": 50, "interp_episodes": 1, "key_eval_episodes": 1,
                "key_eval_interval": 100, "eval_interval": 4, "eval_splits": 4, "workers": 1},
    # MORL-Baselines' agents (morl[peers], in the dev environment): real MORL-Baselines training
    "mb-capql": {"total_steps": 1500, "steps_per_iteration": 500, "learning_starts": 200, "hidden_size": 32,
                 "batch_size": 32, "eval_interval": 2, "eval_splits": 4},
    "mb-gpi-ls": {"total_steps": 1000, "steps_per_iteration": 500, "learning_starts": 100, "gradient_updates": 1,
                  "hidden_size": 32, "batch_size": 32, "selection_episodes": 1, "eval_interval": 2, "eval_splits": 4},
    "mb-pgmorl": {"total_steps": 3000, "num_envs": 1, "pop_size": 4, "steps_per_env": 64, "hidden_size": 16,
                  "num_minibatches": 4, "update_epochs": 2, "eval_interval": 4, "eval_splits": 4},
}  # fmt: skip
PEERS = [name for name in TINY if name.startswith("mb-")]


def tiny(name: str, **overrides: Any) -> Agent:
    cls = get_agent(name)
    return cls(PROBLEM, cls.config_class.for_problem(PROBLEM, **{**TINY[name], **overrides}))


# The MORL-Baselines peers train slowly even when tiny (mb-pgmorl ~19 s): their rows of every
# test below are slow; tests/test_peers.py keeps their fast checks.
@pytest.fixture(scope="module", params=[pytest.param(n, marks=pytest.mark.slow) if n in PEERS else n for n in TINY])
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Agent, Path]:
    out = tmp_path_factory.mktemp(request.param)
    return tiny(request.param).learn(out_dir=out, progress=False), out


def test_registry_lists_every_agent() -> None:
    own = {"hyper-morl", "conditioned-ppo", "sb3", "pgmorl", "pd-morl", *PEERS}
    assert own <= set(AGENTS)  # and any agent an installed package declares
    for name in own:
        cls = AGENTS[name]
        assert cls.name == name and cls.summary
    with pytest.raises(ValueError, match="agent='pgmorl-x' is unknown; expected one of: hyper-morl"):
        get_agent("pgmorl-x")


def test_learn_plans_the_budget_and_evaluates(trained: tuple[Agent, Path]) -> None:
    agent, out = trained
    run = agent.run
    assert agent.finished and run.iteration == run.iterations >= 2
    assert agent.env_steps == run.planned_steps <= run.total_steps == agent.config.total_steps
    assert run.history and run.history[-1]["env_steps"] == agent.env_steps and run.eval_env_steps > 0
    result = FrontResult.load(out / "front.json")
    assert result.training_env_steps == agent.env_steps
    assert (out / "config.json").is_file() and (out / "front.png").is_file()
    if agent.name == "mb-pgmorl":  # its own evaluation steps (task selection) stay out of the budget
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        selection = [r["train/selection_env_steps"] for r in rows if "train/selection_env_steps" in r]
        assert len(selection) == run.iterations and sum(selection) > 0


def test_parameter_count_is_the_results_learned_numbers(trained: tuple[Agent, Path]) -> None:
    """The size of what represents the set: one model for the generative agents, one network
    per member for the populations; unchanged by a save/load."""
    agent, out = trained
    count = agent.parameter_count()
    assert isinstance(count, int) and count > 0
    layout_params = getattr(getattr(agent, "layout", None), "num_params", None)
    if agent.name == "conditioned-ppo":
        assert count == layout_params
    elif agent.name == "hyper-morl":
        assert count > 10 * layout_params  # W alone is embedding_dim x P
    elif agent.name == "pgmorl":
        assert count == len(agent.archive) * layout_params
    elif agent.name == "sb3":
        assert count % agent.config.num_policies == 0  # equal members
    assert type(agent).load(out).parameter_count() == count


def test_save_load_identical_actions(trained: tuple[Agent, Path], tmp_path: Path) -> None:
    agent, out = trained
    loaded = morl.load(out)
    assert type(loaded) is type(agent) and loaded.config == agent.config and loaded.env_steps == agent.env_steps
    obs = np.random.default_rng(0).normal(size=(6, agent.obs_dim))
    for w in ([1.0, 0.0], [0.3, 0.7], [0.5, 0.5]):
        np.testing.assert_array_equal(agent.policy_for(w).predict(obs), loaded.policy_for(w).predict(obs))
    policy = agent.policy_for([0.6, 0.4])
    policy.save(tmp_path / "p.npz")
    again = morl.PreferencePolicy.load(tmp_path / "p.npz")
    np.testing.assert_array_equal(policy.predict(obs), again.predict(obs))
    assert again.metadata["agent"] == agent.name


def test_batched_prediction_matches_the_standalone_policy(trained: tuple[Agent, Path]) -> None:
    agent, _ = trained
    predict_batch = getattr(agent, "predict_batch", None)
    if predict_batch is None:
        pytest.skip(f"{agent.name} evaluates through its standalone policies")
    obs = np.random.default_rng(1).normal(size=(3, agent.obs_dim))
    prefs = np.array([[1.0, 0.0], [0.3, 0.7], [0.0, 1.0]])
    one_by_one = np.stack([agent.policy_for(w).predict(o) for o, w in zip(obs, prefs, strict=True)])
    np.testing.assert_allclose(predict_batch(obs, prefs), one_by_one, rtol=1e-4, atol=1e-5)


def test_evaluate_on_given_preferences(trained: tuple[Agent, Path]) -> None:
    agent, _ = trained
    result = agent.evaluate(np.array([[0.2, 0.8], [0.9, 0.1]]), episodes=2)
    assert result.returns.shape == (2, 2) and result.protocol.episodes == 2
    assert result.training_env_steps == agent.env_steps


def test_tensorboard_events_read_back(trained: tuple[Agent, Path]) -> None:
    agent, out = trained
    events = EventAccumulator(str(out), size_guidance={"scalars": 0})
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"train/steps_per_second", "eval/hypervolume", "eval/expected_utility"} <= scalars
    assert [e.step for e in events.Scalars("eval/hypervolume")][-1] == agent.env_steps


def test_resume_refuses_another_config_naming_the_field(trained: tuple[Agent, Path]) -> None:
    agent, out = trained
    before = (out / CHECKPOINT).read_bytes()
    other = tiny(agent.name, seed=7)
    with pytest.raises(ValueError, match=r"another config \(here vs there: seed=7 vs 0\)"):
        other.learn(out_dir=out, progress=False)
    assert (out / CHECKPOINT).read_bytes() == before
    finished = tiny(agent.name)  # same config: restores the finished run, nothing to do
    finished.learn(out_dir=out, progress=False)
    assert finished.finished and finished.env_steps == agent.env_steps
    assert (out / CHECKPOINT).read_bytes() == before


def test_callback_stops_cleanly_and_learn_continues(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def stop_at_three(agent: Agent, info: dict[str, Any]) -> bool:
        seen.append(info)
        return info["iteration"] < 3

    agent = tiny("conditioned-ppo").learn(out_dir=tmp_path, progress=False, callback=stop_at_three)
    assert [i["iteration"] for i in seen] == [1, 2, 3] and agent.run.iteration == 3 and not agent.finished
    assert seen[0]["env_steps"] > 0 and "policy_loss" in seen[0]["stats"]
    resumed = tiny("conditioned-ppo")
    assert resumed.restore(tmp_path) and resumed.run.iteration == 3
    resumed.learn(out_dir=tmp_path, progress=False)
    assert resumed.finished and resumed.env_steps == agent.run.planned_steps


@pytest.mark.parametrize("bad", [0, -5])
def test_learn_refuses_a_non_positive_budget(bad: int) -> None:
    with pytest.raises(ValueError, match=f"total_steps={bad} must be a positive integer"):
        tiny("hyper-morl").learn(bad, progress=False)


def test_learn_refuses_a_fractional_budget() -> None:
    with pytest.raises(TypeError, match=r"total_steps=1\.9 must be a positive integer"):
        tiny("hyper-morl").learn(1.9, progress=False)  # type: ignore[arg-type]


@pytest.mark.parametrize("config_class", [HyperMORLConfig, ConditionedPPOConfig])
@pytest.mark.parametrize("name", ["learning_rate", "value_coef", "entropy_coef", "adam_eps", "clip"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0])
def test_ppo_settings_reject_bad_numbers(config_class: type, name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"^{name}={value!r} must be a"):
        config_class(**{name: value})


def test_config_types_are_checked_with_the_field_named() -> None:
    with pytest.raises(TypeError, match=r"learning_rate='0.1' must be a finite number > 0 \(got str\)"):
        HyperMORLConfig(learning_rate="0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"epochs=True must be a positive integer \(got bool\)"):
        HyperMORLConfig(epochs=True)
    with pytest.raises(ValueError, match="algo='td3' must be one of 'ppo', 'sac'"):
        SB3MultiPolicyConfig(algo="td3")
    with pytest.raises(ValueError, match="unknown config field"):
        ConditionedPPOConfig.from_dict({"learnig_rate": 1e-3})
    assert HyperMORLConfig(learning_rate=1).learning_rate == 1.0  # an int is a fine float
    assert HyperMORLConfig.from_dict({"epochs": 3.0}).epochs == 3  # JSON's whole floats


def test_for_problem_defaults() -> None:
    assert ConditionedPPOConfig.for_problem("MO-Hopper-v3").num_envs == 60
    assert ConditionedPPOConfig.for_problem("MO-Humanoid-v2").num_envs == 48
    assert SB3MultiPolicyConfig.for_problem("MO-Hopper-v3").num_policies == 15
    assert SB3MultiPolicyConfig.for_problem("MO-Swimmer-v2").total_steps == 12_000_000


@pytest.mark.parametrize("m,count", [(2, 6), (3, 15), (3, 4), (2, 1)])
def test_member_weights_spread_over_the_simplex(m: int, count: int) -> None:
    weights = member_weights(m, count)
    assert weights.shape == (count, m) and np.allclose(weights.sum(axis=1), 1.0) and (weights >= 0).all()
    assert len(np.unique(weights, axis=0)) == count


@pytest.mark.parametrize("name", list(TINY))
def test_every_agent_plans_100k_steps_on_every_problem(name: str) -> None:
    """Schedules scale with the budget: 100k env steps plans at least two whole iterations on every
    problem, with their defaults (the authors' settings), and spends at least half the budget."""
    cls = get_agent(name)
    for problem in morl.PROBLEM_IDS:
        run = cls(problem, cls.config_class.for_problem(problem, total_steps=100_000)).prepare()
        assert run.iterations >= 2 and 0.5 * 100_000 <= run.planned_steps <= 100_000, problem


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in TINY if name not in PEERS])
def test_the_first_iteration_of_a_100k_run_trains(name: str) -> None:
    """The planned schedule runs: one iteration of a 100k-step run with the defaults, on the
    three-objective problem (the peers, whose iterations take minutes, train in the tiny tests)."""
    cls = get_agent(name)
    agent = cls("MO-Hopper-v3", cls.config_class.for_problem("MO-Hopper-v3", total_steps=100_000))
    agent.learn(progress=False, callback=lambda *_: False)
    assert agent.run.iteration == 1 and 0 < agent.env_steps < agent.run.planned_steps


def test_population_agent_policy_for_uses_the_evaluated_returns(trained: tuple[Agent, Path]) -> None:
    agent, _ = trained
    if not hasattr(agent, "pareto_set"):
        pytest.skip("not a population agent")
    if agent.name == "mb-pgmorl":
        pytest.skip("picks by MORL-Baselines' own archive returns (tests/test_peers.py)")
    members = agent.pareto_set()
    assert len(members) == getattr(agent.config, "num_policies", len(members)) >= 2
    result = agent.evaluate()
    assert len(result.preferences) == len(members)  # every member on its own preference
    for w in ([1.0, 0.0], [0.5, 0.5], [0.0, 1.0]):
        best = int(np.argmax(result.returns @ np.asarray(w)))
        np.testing.assert_allclose(agent.policy_for(w).preference, members[best][0])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["conditioned-ppo", "sb3", "pgmorl"])
def test_cli_trains_evaluates_and_samples_any_agent(name: str, tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / name
    options = [f"--{k.replace('_', '-')}={v}" for k, v in TINY[name].items() if k != "total_steps"]
    args = ["train", name, "--problem", PROBLEM, "--steps", str(TINY[name]["total_steps"]), "--out", str(out),
            "--quiet", *options]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"{name} on morl/{PROBLEM}" in text and "hypervolume" in text
    assert main(["evaluate", str(out)]) == 0
    assert "hypervolume" in capsys.readouterr().out
    assert main(["sample", str(out), "--preference", "0.3,0.7"]) == 0
    assert "episode 0: return [forward_speed=" in capsys.readouterr().out
    page = tmp_path / "explorer.html"  # any agent's checkpoint file makes an explorer page
    assert main(["explore", str(out / "checkpoint.pt"), "--out", str(page), "--grid", "3"]) == 0
    assert f"{name} run checkpoint.pt" in page.read_text() and "explorer written to" in capsys.readouterr().out
    assert main(args) == 0  # the same command again resumes the finished run
    assert "resuming from" in capsys.readouterr().out


def test_cli_agents_lists_them(capsys: Any) -> None:
    assert main(["agents"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in AGENTS)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["conditioned-ppo", "sb3", "pgmorl"])
def test_resume_after_kill(name: str, tmp_path: Path) -> None:
    """kill -9 during training, run the same command again: it resumes and ends on the plan."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    options = [f"--{k.replace('_', '-')}={v}" for k, v in TINY[name].items() if k != "total_steps"]
    steps = TINY[name]["total_steps"]
    args = [sys.executable, "-m", "morl", "train", name, "--problem", PROBLEM, "--steps", str(steps), "--out", str(out),
            "--quiet", *options]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (out / CHECKPOINT).exists() and time.time() < deadline:
        time.sleep(0.05)
    assert (out / CHECKPOINT).exists(), "no checkpoint written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not morl.load(out).finished
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "resuming from" in result.stdout
    final = morl.load(out)
    assert final.finished and final.env_steps == final.run.planned_steps and final.run.total_steps == steps


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_sb3_members_export_what_sb3_itself_predicts(algo: str) -> None:
    """The standalone policy of a member acts as SB3's own model.predict on the normalised
    observation (PPO: tanh MLP mean, clipped by SB3 to the bounds; SAC: ReLU MLP, tanh-squashed
    and scaled to the bounds). White-box: the member's SB3 model is rebuilt from its state."""
    options = {"algo": algo, "sac_steps_per_iteration": 50} if algo == "sac" else {}
    agent = tiny("sb3", num_policies=2, total_steps=2000, **options)
    agent.learn(progress=False)
    model = agent.sb3_model(1)
    try:
        obs = np.random.default_rng(0).normal(size=(5, agent.obs_dim))
        normalised = model.get_env().normalize_obs(obs)
        expected, _ = model.predict(normalised, deterministic=True)
        ours = agent.pareto_set()[1][1].predict(obs)
        np.testing.assert_allclose(np.clip(ours, agent.action_low, agent.action_high), expected, rtol=1e-5, atol=1e-6)
    finally:
        model.get_env().close()


@pytest.mark.slow
def test_sb3_agent_leaves_no_logger_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SB3's default logger makes an empty SB3-<timestamp> directory in the temp dir at every
    learn(); the agent calls learn() once per iteration, so a bench left thousands behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stats: list[dict[str, float]] = []
    agent = tiny("sb3", num_policies=2, total_steps=2000)
    agent.learn(progress=False, callback=lambda _, info: stats.append(info["stats"]))
    assert len(stats) >= 2
    assert [p.name for p in temp.iterdir() if p.name.startswith("SB3-")] == []
    assert all("value_loss" in s for s in stats)  # SB3's train/ values still reach the log
