"""``authors_deviations=True``: Hyper-MORL as the authors' code ran it, not as the method reads.

Each deviation is checked against what it must do and against the default it replaces, so a
switch that silently did nothing (or changed the default path) fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from morl.agents.ppo.core import AuthorsCode, Collector, PPOSettings, Rollout
from morl.agents.ppo.networks import TargetNetworkLayout
from morl.normalization import ReturnNormalizer, RunningMeanStd, update_stats
from tests.test_hyper_morl import tiny_agent

PROBLEM, OBS, ACT, M = "MO-Hopper-v2", 11, 3, 2
SETTINGS = PPOSettings(steps_per_env=48)


def collect(**flags: object) -> tuple[Rollout, RunningMeanStd, RunningMeanStd]:
    """Two identical policies (same θ, same preference), two envs each, on Hopper (deterministic
    resets): (rollout, observation statistics before, after)."""
    layout = TargetNetworkLayout(OBS, ACT, M)
    theta = layout.initial(torch.Generator().manual_seed(0)).unsqueeze(0).expand(2, -1).clone()
    stats = RunningMeanStd.zeros((OBS,))
    collector = Collector(PROBLEM, 2, 2, SETTINGS, seed=0, workers=1, obs_stats=stats,
                          authors_code=AuthorsCode(**flags))  # type: ignore[arg-type]  # fmt: skip
    try:
        before = RunningMeanStd.from_state(stats.state())
        rollout = collector.collect(layout, theta, np.full((2, M), 0.5), torch.Generator().manual_seed(1))
    finally:
        collector.close()
    return rollout, before, stats


@pytest.mark.parametrize("shared", [False, True])
def test_shared_noise_gives_identical_policies_identical_experience(shared: bool) -> None:
    """The authors' collectors shared one torch seed: two policies with the same θ then act alike;
    with a noise sequence of their own they do not."""
    rollout, _, _ = collect(shared_noise=shared)
    assert torch.equal(rollout.actions[0], rollout.actions[1]) == shared
    assert torch.equal(rollout.obs[0], rollout.obs[1]) == shared


def test_observation_statistics_from_the_normalised_inputs() -> None:
    """The statistics take the normalised, clipped observations the actors saw (the authors'
    normaliser was fed its own output in Pareto set learning), not the raw ones."""
    rollout, before, after = collect(stats_from_inputs=True)
    expected = RunningMeanStd.from_state(before.state())
    update_stats(expected, rollout.obs.reshape(-1, OBS).double().numpy())
    np.testing.assert_allclose(after.mean, expected.mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(after.var, expected.var, rtol=1e-9)
    assert after.count == pytest.approx(expected.count)
    _, _, raw = collect()
    assert raw.count == pytest.approx(after.count) and not np.allclose(raw.mean, after.mean, atol=1e-3)


def test_normalised_statistics_need_one_shared_normaliser() -> None:
    with pytest.raises(ValueError, match="stats_from_inputs"):
        Collector(PROBLEM, 2, 1, SETTINGS, seed=0, workers=1, obs_stats=RunningMeanStd.grouped(2, (OBS,)),
                  authors_code=AuthorsCode(stats_from_inputs=True))  # fmt: skip


def test_terminal_return_recorded_as_zero() -> None:
    """The default records the terminal step's discounted return (3, 6 here); the authors' code
    recorded 0 in its place."""
    norm = ReturnNormalizer(num_envs=1, num_objectives=2, gamma=0.5, zero_at_episode_end=True)
    norm(np.array([[2.0, 4.0]]), np.array([False]))
    norm(np.array([[2.0, 4.0]]), np.array([True]))
    np.testing.assert_allclose(norm.stats.mean, [1.0, 2.0], rtol=1e-4)  # (2 + 0) / 2, (4 + 0) / 2
    np.testing.assert_array_equal(norm.returns, 0.0)


def test_terminal_zero_rollout_equals_step_by_step() -> None:
    rng = np.random.default_rng(0)
    steps, envs, m = 200, 4, 2
    rewards = rng.normal(size=(steps, envs, m)) * [1.0, 30.0] + [2.0, -50.0]
    ends = rng.random((steps, envs)) < 0.05
    step_by_step, at_once, default = (
        ReturnNormalizer(envs, m, 0.99, zero_at_episode_end=z) for z in (True, True, False)
    )
    expected = np.stack([step_by_step(rewards[t], ends[t]) for t in range(steps)])
    np.testing.assert_allclose(at_once.normalize_rollout(rewards, ends), expected, rtol=1e-9)
    np.testing.assert_allclose(at_once.stats.var, step_by_step.stats.var, rtol=1e-9)
    default.normalize_rollout(rewards, ends)
    assert not np.allclose(default.stats.var, at_once.stats.var)


def _learning_rates(out: Path) -> list[float]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [r["train/learning_rate"] for r in rows if "train/learning_rate" in r]


@pytest.mark.slow
def test_last_psl_update_at_rate_zero_only_with_the_authors_deviations(tmp_path: Path) -> None:
    authors = tiny_agent(authors_deviations=True).learn(out_dir=tmp_path / "authors", progress=False)
    method = tiny_agent().learn(out_dir=tmp_path / "method", progress=False)
    assert authors.plan == method.plan and authors.plan.psl_iterations >= 2
    lr_authors, lr_method = _learning_rates(tmp_path / "authors"), _learning_rates(tmp_path / "method")
    assert lr_authors[-1] == 0.0 and lr_method[-1] > 0.0
    warmup = authors.plan.warmup_iterations
    assert lr_authors[:warmup] == lr_method[:warmup]  # the warm-up schedule is the method's
    assert authors.config.authors_deviations and not method.config.authors_deviations
