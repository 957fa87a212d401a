"""The MORL-Baselines adapters (mb-capql, mb-gpi-ls, mb-pgmorl) beyond the protocol tests of
tests/test_agents.py: the exported policies act as MORL-Baselines' own networks, PGMORL's
archive members carry the normaliser they trained behind, unfinished runs start over, and a
missing install says how to get it. Real MORL-Baselines training on real MuJoCo, tiny budgets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import morl
from morl.agents import get_agent
from morl.agents.base import Agent
from morl.agents.peers.base import PeerAgent
from morl.cli import main
from tests.test_agents import PROBLEM, TINY


def release(agent: Agent) -> None:
    """Close the live MORL-Baselines agent of a run stopped by its callback (its envs)."""
    assert isinstance(agent, PeerAgent)
    agent.close()
    assert agent.live is None


def stopped_after_one_iteration(name: str, out: Path | None = None, **overrides: Any) -> PeerAgent:
    cls = get_agent(name)
    agent = cls(PROBLEM, cls.config_class.for_problem(PROBLEM, **{**TINY[name], **overrides}))
    agent.learn(out_dir=out, progress=False, callback=lambda *_: False)
    assert isinstance(agent, PeerAgent) and agent.run.iteration == 1 and agent.live is not None
    return agent


@pytest.mark.parametrize("name", ["mb-capql", "mb-gpi-ls"])
def test_conditioned_actor_exports_as_morl_baselines_acts(name: str) -> None:
    """policy_for(ω) is MORL-Baselines' deterministic action π(s, ω): ReLU MLP over the raw
    observation and ω, tanh scaled to the bounds."""
    agent = stopped_after_one_iteration(name)
    live = agent.live
    obs = np.random.default_rng(0).normal(size=(5, agent.obs_dim))
    for w in ([1.0, 0.0], [0.3, 0.7]):
        with torch.no_grad():
            inputs = (torch.tensor(obs, dtype=torch.float32), torch.tensor([w] * 5, dtype=torch.float32))
            expected = (live.policy.get_action(*inputs) if name == "mb-capql" else live.policy(*inputs)).numpy()
        np.testing.assert_allclose(agent.policy_for(w).predict(obs), expected, rtol=1e-5, atol=1e-5)
        if name == "mb-gpi-ls":  # its eval() (GPI off for continuous actions) is the same action
            np.testing.assert_allclose(live.eval(obs[0], np.asarray(w)), expected[0], rtol=1e-5, atol=1e-5)
    assert agent.parameter_count() == sum(p.numel() for n in [live.policy, *live.q_nets] for p in n.parameters())
    release(agent)


def test_pgmorl_members_carry_the_normaliser_they_trained_behind() -> None:
    """Each archive member is exported with the training envs' observation statistics of when it
    entered the archive, and acts as its MORL-Baselines network's mean action behind them."""
    agent = stopped_after_one_iteration("mb-pgmorl")
    live = agent.live
    assert len(live.archive.individuals) == len(agent.members) >= 1
    env = live.env.envs[0]
    while not hasattr(env, "obs_rms"):
        env = env.env
    assert env.obs_rms.count > 1  # trained behind it
    obs = np.random.default_rng(1).normal(size=(4, agent.obs_dim))
    for individual, member, (weight, policy) in zip(live.archive.individuals, agent.members, agent.pareto_set(),
                                                    strict=True):  # fmt: skip
        # entered at the evaluation before training: the statistics of that moment, not today's
        np.testing.assert_array_equal(policy.obs_mean, member.obs_mean)
        assert not np.allclose(member.obs_mean, env.obs_rms.mean)
        normalised = np.clip((obs - member.obs_mean) / np.sqrt(member.obs_var + 1e-8), -10, 10)
        with torch.no_grad():
            expected = individual.networks.actor_mean(torch.tensor(normalised, dtype=torch.float32)).numpy()
        np.testing.assert_allclose(policy.predict(obs), expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(weight, individual.weights.numpy())
    # policy_for picks by the returns MORL-Baselines' archive holds
    returns = np.asarray(live.archive.evaluations, dtype=np.float64)
    for w in ([1.0, 0.0], [0.0, 1.0]):
        best = int(np.argmax(returns @ np.asarray(w)))
        np.testing.assert_allclose(agent.policy_for(w).preference, agent.members[best].weight)
    release(agent)


@pytest.mark.slow
def test_unfinished_run_starts_over_and_a_loaded_one_refuses_to_continue(tmp_path: Path) -> None:
    stopped = stopped_after_one_iteration("mb-capql", tmp_path)
    release(stopped)
    loaded = morl.load(tmp_path)
    assert loaded.run.iteration == 1 and loaded.policy_for([0.5, 0.5]).predict(np.zeros(loaded.obs_dim)).shape
    with pytest.raises(RuntimeError, match="cannot continue: start a new run"):
        loaded.learn(progress=False)
    again = get_agent("mb-capql")(PROBLEM, stopped.config)
    with pytest.warns(UserWarning, match="unfinished mb-capql run at 500 env steps.*starts over"):
        again.learn(out_dir=tmp_path, progress=False)
    assert again.finished and again.env_steps == again.run.planned_steps == 1500
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "train/steps_per_second" in r] == [500, 1000, 1500]  # logged once each
    finished = get_agent("mb-capql")(PROBLEM, stopped.config)
    finished.learn(out_dir=tmp_path, progress=False)  # a finished run is kept
    assert finished.finished and finished.run.history == again.run.history


def test_capql_refuses_updates_before_a_batch_fits() -> None:
    with pytest.raises(ValueError, match="learning_starts=100 must be >= batch_size=128"):
        get_agent("mb-capql").config_class(learning_starts=100)


def test_pgmorl_refuses_more_tasks_than_warm_up_weights() -> None:
    cls = get_agent("mb-pgmorl")
    agent = cls(PROBLEM, cls.config_class(**{**TINY["mb-pgmorl"], "pop_size": 7}))
    with pytest.raises(ValueError, match=r"pop_size=7 exceeds the 6 warm-up weights delta_weight=0\.2 spaces"):
        agent.learn(progress=False)


def test_missing_morl_baselines_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "morl_baselines.multi_policy.capql.capql", None)
    agent = get_agent("mb-capql")(PROBLEM, get_agent("mb-capql").config_class(**TINY["mb-capql"]))
    with pytest.raises(ImportError, match=r"morl-baselines==1\.3\.0: pip install 'morl\[peers\]'"):
        agent.learn(progress=False)


@pytest.mark.slow
def test_bench_runs_a_peer_and_reports_it(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "bench"
    settings = ["steps_per_iteration=500", "learning_starts=100", "hidden_size=16", "batch_size=32", "eval_splits=4"]
    args = ["bench", "run", "--agents", "mb-capql", "--problems", PROBLEM, "--seeds", "1", "--steps", "1000", "--out",
            str(out), *[f"--set=mb-capql.{s}" for s in settings]]  # fmt: skip
    assert main(args) == 0
    records = [json.loads(p.read_text()) for p in sorted((out / "records").glob("*.json"))]
    assert len(records) == 1 and records[0]["status"] == "finished", records
    record = records[0]
    assert record["agent"] == "mb-capql" and record["training_env_steps"] == 1000
    assert record["config"]["hidden_size"] == 16 and record["metrics"]["hypervolume"] >= 0
    assert len(record["evaluation"]["returns"]) == 5  # the grid of 4 splits: every preference evaluated
    assert record["parameters"] > 0 and len(record["trajectory"]) == 1
    assert main(["bench", "report", str(out)]) == 0
    assert "| mb-capql | 1 |" in capsys.readouterr().out
