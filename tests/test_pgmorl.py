"""PGMORL's parts: the prediction model, the performance buffers, candidate weights, the task
selection (against a brute force with a hand-written hypervolume), per-task normalisers, and the
agent's row copies (parameters, Adam moments, normalisers) when a generation starts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import morl
from morl.agents.normalization import RunningMeanStd, normalize_observations, update_stats
from morl.agents.pgmorl import PGMORL, PGMORLConfig
from morl.agents.pgmorl.prediction import OptimizationGraph, fit_scaled_tanh, scaled_tanh
from morl.agents.pgmorl.selection import PerformanceBuffers, Task, candidate_weights, select_tasks
from morl.agents.ppo import Collector, PPOSettings


# --------------------------------------------------------------------------- prediction model
def test_scaled_tanh_is_the_papers_exponential_form() -> None:
    x = np.linspace(0.0, 1.0, 11)
    amplitude, a, b, c = 3.0, 5.0, 0.4, -1.0
    paper = amplitude * (np.exp(a * (x - b)) - 1) / (np.exp(a * (x - b)) + 1) + c
    np.testing.assert_allclose(scaled_tanh(x, amplitude, a, b, c), paper, rtol=1e-12)


def test_the_fit_recovers_known_parameters() -> None:
    x = np.linspace(0.0, 1.0, 21)
    truth = np.array([30.0, 8.0, 0.45, -5.0])
    params = fit_scaled_tanh(x, scaled_tanh(x, *truth), np.ones_like(x))
    np.testing.assert_allclose(params, truth, rtol=1e-3, atol=1e-3)


def test_sample_weights_decide_which_samples_the_fit_follows() -> None:
    """Two contradicting data sets: the fit follows the one with weight 1, not the one at 1e-6."""
    x = np.linspace(0.0, 1.0, 11)
    near, far = scaled_tanh(x, 20.0, 6.0, 0.5, 0.0), scaled_tanh(x, 20.0, 6.0, 0.5, 100.0)
    params = fit_scaled_tanh(np.r_[x, x], np.r_[near, far], np.r_[np.ones(11), np.full(11, 1e-6)])
    np.testing.assert_allclose(scaled_tanh(x, *params), near, atol=0.05)


def _graph_with_history() -> OptimizationGraph:
    """A root at (10, 10) and steps from it with known outcomes: weight ω moves objective j by
    20·tanh(3(ω_j − 0.5)), the same law from a second start near the root."""
    graph = OptimizationGraph()
    for start in ([10.0, 10.0], [10.3, 9.8]):
        root = graph.insert([0.5, 0.5], start, -1)
        for w0 in np.linspace(0.0, 1.0, 6):
            w = np.array([w0, 1.0 - w0])
            graph.insert(w, np.asarray(start) + 20.0 * np.tanh(3.0 * (w - 0.5)), root)
    return graph


def test_neighbourhood_collects_the_steps_taken_from_nearby_nodes() -> None:
    graph = _graph_with_history()
    start, weights, deltas = graph.neighbourhood(0, 0.1)
    assert len(start) == 12  # both roots are within 10 % of (10, 10); their 6 steps each
    np.testing.assert_allclose(deltas, 20.0 * np.tanh(3.0 * (weights - 0.5)), atol=1e-12)
    assert len(graph.neighbourhood(0, 0.01)[0]) == 6  # only the node's own steps
    assert graph.successors(0) == [1, 2, 3, 4, 5, 6]


def test_prediction_follows_the_observed_law() -> None:
    graph = _graph_with_history()
    test = np.array([[0.1, 0.9], [0.5, 0.5], [0.8, 0.2]])
    predicted = graph.predict(0, test)
    np.testing.assert_allclose(predicted, 10.0 + 20.0 * np.tanh(3.0 * (test - 0.5)), atol=0.5)


def test_prediction_without_history_predicts_no_change() -> None:
    graph = OptimizationGraph()
    node = graph.insert([1.0, 0.0], [5.0, 2.0], -1)
    np.testing.assert_array_equal(graph.predict(node, np.array([[0.3, 0.7]])), [[5.0, 2.0]])


def test_graph_rejects_an_unknown_parent_and_round_trips() -> None:
    graph = _graph_with_history()
    with pytest.raises(ValueError, match="prev=99 is not a node"):
        graph.insert([1.0, 0.0], [1.0, 1.0], 99)
    again = OptimizationGraph.from_state(graph.state())
    np.testing.assert_array_equal(again.predict(0, np.array([[0.2, 0.8]])), graph.predict(0, np.array([[0.2, 0.8]])))


# --------------------------------------------------------------------------- population
def test_performance_buffers_keep_the_farthest_per_direction() -> None:
    buffers = PerformanceBuffers(2, num_buffers=4, size=2)  # buckets of 22.5 degrees
    objs = np.array([
        [10.0, 1.0], [20.0, 2.0], [30.0, 3.0],  # one direction (bucket 3): the two farthest stay
        [1.0, 10.0],  # bucket 0
        [5.0, -1.0],  # an objective below 1e-7: never kept
        [10.0, 10.0],  # 45 degrees: bucket 2
    ])  # fmt: skip
    np.testing.assert_array_equal(buffers.bucket(objs), [3, 3, 3, 0, -1, 2])
    assert sorted(buffers.select(objs).tolist()) == [1, 2, 3, 5]


def test_three_objective_buffers_cover_210_directions() -> None:
    buffers = PerformanceBuffers(3)
    assert buffers.num_buffers == 210
    assert buffers.directions is not None
    along = buffers.directions[[17, 100]] * np.array([[3.0], [0.5]])  # exactly along two directions
    np.testing.assert_array_equal(buffers.bucket(along[(along > 1e-7).all(axis=1)]),
                                  [i for i, d in zip([17, 100], along, strict=True) if (d > 1e-7).all()])  # fmt: skip
    assert buffers.bucket(np.array([[1.0, 0.0, 2.0]])).tolist() == [-1]  # an objective of 0: not kept


def test_candidate_weights_two_objectives() -> None:
    rng = np.random.default_rng(0)
    weights = candidate_weights(np.array([0.5, 0.5]), [], rng, count=7)
    assert len(weights) == 7 and np.allclose(weights.sum(axis=1), 1.0) and (weights >= 0).all()
    np.testing.assert_allclose(weights[[0, 3, 6]], [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], atol=1e-12)
    # at the edge, directions outside the first quadrant are dropped; used weights are too
    edge = candidate_weights(np.array([1.0, 0.0]), [np.array([1.0, 0.0])], rng, count=7)
    assert len(edge) == 3 and (edge[:, 1] > 0).all()


def test_candidate_weights_three_objectives_stay_within_45_degrees() -> None:
    centre = np.array([0.2, 0.3, 0.5])
    weights = candidate_weights(centre, [], np.random.default_rng(1))
    assert 2 <= len(weights) <= 7
    np.testing.assert_allclose(weights[0], centre / centre.sum())
    cosines = (weights / np.linalg.norm(weights, axis=1, keepdims=True)) @ (centre / np.linalg.norm(centre))
    assert (cosines > np.cos(np.pi / 4) - 1e-12).all()


def _hv2(points: np.ndarray) -> float:
    """A hand-written 2-D hypervolume at the origin (sweep over the first objective)."""
    pts = sorted((p for p in points if (p > 0).all()), key=lambda p: -p[0])
    volume, best_y = 0.0, 0.0
    for x, y in pts:
        if y > best_y:
            volume += x * (y - best_y)
            best_y = y
    return volume


def _score(points: np.ndarray, alpha: float) -> float:
    front = np.array([p for p in points if not any((q >= p).all() and (q > p).any() for q in points)])
    order = np.sort(front, axis=0)
    sp = float(np.sum(np.diff(order, axis=0) ** 2) / (len(front) - 1)) if len(front) > 1 else 0.0
    return _hv2(points) - alpha * sp


@pytest.mark.parametrize("alpha", [0.0, 1.0, 50.0])
def test_task_selection_matches_a_brute_force(alpha: float) -> None:
    rng = np.random.default_rng(3)
    archive = np.array([[10.0, 1.0], [8.0, 5.0], [3.0, 9.0]])
    candidates = [Task(i % 4, w, p) for i, (w, p) in enumerate(zip(
        rng.dirichlet([1, 1], size=12), rng.uniform(0.0, 12.0, size=(12, 2)), strict=True))]  # fmt: skip
    picked = select_tasks(candidates, archive, 3, alpha)
    assert len(picked) == 3 and len({id(t) for t in picked}) == 3
    # the first pick is the candidate a brute force over all of them scores best
    scores = [_score(np.vstack([archive, c.predicted]), alpha) for c in candidates]
    assert picked[0] is candidates[int(np.argmax(scores))]
    # greedy: each later pick is the best given the earlier picks' predictions
    virtual = np.vstack([archive, picked[0].predicted])
    rest = [c for c in candidates if c is not picked[0]]
    assert picked[1] is rest[int(np.argmax([_score(np.vstack([virtual, c.predicted]), alpha) for c in rest]))]
    # and for alpha = 0 the pair is never worse than any other pair in HV of the first two picks
    if alpha == 0.0:
        best_pair = max(_hv2(np.vstack([archive, a.predicted, b.predicted]))
                        for a, b in itertools.combinations(candidates, 2))  # fmt: skip
        greedy = _hv2(np.vstack([archive, picked[0].predicted, picked[1].predicted]))
        assert greedy >= 0.5 * best_pair  # greedy's guarantee on a submodular gain, far from tight here


def test_task_selection_with_too_few_candidates() -> None:
    one = [Task(0, np.array([0.5, 0.5]), np.array([1.0, 1.0]))]
    assert select_tasks(one, np.zeros((0, 2)), 4, 1.0) == one
    assert select_tasks([], np.zeros((0, 2)), 4, 1.0) == []


# --------------------------------------------------------------------------- per-task normalisers
def test_grouped_statistics_equal_one_normaliser_per_policy() -> None:
    """Each policy's observation statistics see its own rows only, exactly as a normaliser of
    its own would; its rows are normalised with them."""
    obs_stats, return_stats = RunningMeanStd.grouped(3, (8,)), RunningMeanStd.grouped(3, (2,))
    collector = Collector("MO-Swimmer-v2", 3, 2, PPOSettings(), seed=0, workers=1, obs_stats=obs_stats,
                          return_stats=return_stats)  # fmt: skip
    try:
        raw = np.random.default_rng(0).normal(size=(5, 6, 8)) * np.arange(1, 7)[None, :, None]
        singles = [collector.obs_stats.row(k) for k in range(3)]  # after the reset's observations
        for batch in raw:
            update_stats(collector.obs_stats, batch)
            for k in range(3):
                singles[k].update(batch[2 * k : 2 * k + 2])
        for k in range(3):
            np.testing.assert_allclose(collector.obs_stats.row(k).mean, singles[k].mean, rtol=1e-12)
            np.testing.assert_allclose(collector.obs_stats.row(k).var, singles[k].var, rtol=1e-12)
        normalised = normalize_observations(raw[-1], collector.obs_stats)
        np.testing.assert_allclose(normalised[4:6], normalize_observations(raw[-1][4:6], singles[2]), rtol=1e-12)
    finally:
        collector.close()


def test_collector_refuses_statistics_of_another_population_size() -> None:
    with pytest.raises(ValueError, match="obs_stats has 2 groups; expected one per policy \\(3\\) or none"):
        Collector("MO-Swimmer-v2", 3, 1, PPOSettings(), seed=0, workers=1, obs_stats=RunningMeanStd.grouped(2, (8,)))


def test_grouped_statistics_round_trip() -> None:
    stats = RunningMeanStd.grouped(2, (3,))
    stats.update(np.random.default_rng(0).normal(size=(4, 2, 3)))
    again = RunningMeanStd.from_state(stats.state())
    assert again.groups == 2
    np.testing.assert_array_equal(again.mean, stats.mean)
    np.testing.assert_array_equal(np.asarray(again.count), np.asarray(stats.count))


# --------------------------------------------------------------------------- the agent
TINY = {"total_steps": 8000, "steps_per_env": 64, "num_tasks": 3, "warmup_splits": 2, "envs_per_task": 2,
        "warmup_iter": 2, "update_iter": 2, "epochs": 2, "minibatches": 4, "workers": 1}  # fmt: skip


def test_a_generation_continues_its_sources_parameters_moments_and_normalisers() -> None:
    agent = PGMORL("MO-Hopper-v2", PGMORLConfig.for_problem("MO-Hopper-v2", **TINY))
    agent.learn(progress=False, callback=lambda a, info: info["iteration"] < 2)  # the warm-up only
    assert agent.pending and len(agent.pending) == 3
    tasks = list(agent.pending)
    sources = [agent.records[s] for s, _ in tasks]
    agent.stage_start = 2
    agent._start_generation()
    state = agent.optimizer.state[agent.theta]
    for row, (record, (_, weight)) in enumerate(zip(sources, tasks, strict=True)):
        np.testing.assert_allclose(agent.rows[row].weight, weight)
        np.testing.assert_array_equal(agent.theta[row].detach().numpy(), record.theta)
        np.testing.assert_array_equal(state["exp_avg"][row].numpy(), record.exp_avg)
        np.testing.assert_array_equal(state["exp_avg_sq"][row].numpy(), record.exp_avg_sq)
        np.testing.assert_array_equal(agent.obs_stats.row(row).mean, record.obs_stats.mean)
        np.testing.assert_array_equal(agent.ret_stats.row(row).var, record.ret_stats.var)
        assert agent.rows[row].node == record.node
    assert int(state["step"]) == max(r.adam_step for r in sources) > 0


def test_archive_members_keep_their_own_normaliser() -> None:
    agent = PGMORL("MO-Hopper-v2", PGMORLConfig.for_problem("MO-Hopper-v2", **TINY)).learn(progress=False)
    members = agent.pareto_set()
    assert len(members) == len(agent.archive) >= 1
    for (weight, policy), record in zip(members, (agent.records[i] for i in agent.archive), strict=True):
        np.testing.assert_array_equal(policy.obs_mean, record.obs_stats.mean)
        np.testing.assert_allclose(policy.preference, weight / weight.sum())
    # the archive is non-dominated, and the population holds graph nodes only
    returns = agent.archive_returns()
    assert morl.pareto.non_dominated(returns).all()
    assert all(agent.records[i].node >= 0 for i in agent.population)
    assert len(agent.graph) == 3 * (1 + 1 + agent.plan.generations)  # roots, warm-up end, each generation


def test_three_objectives_plan_and_train() -> None:
    cfg = PGMORLConfig.for_problem("MO-Hopper-v3", **{**TINY, "num_tasks": 4, "total_steps": 9000})
    assert cfg.sparsity_weight == 1e6 and PGMORLConfig.for_problem("MO-Hopper-v3").num_tasks == 15
    agent = PGMORL("MO-Hopper-v3", cfg).learn(progress=False)
    assert agent.finished and agent.archive_returns().shape[1] == 3
    assert torch.isfinite(agent.theta).all()


def test_paper_defaults_and_plan() -> None:
    cfg = PGMORLConfig.for_problem("MO-HalfCheetah-v2")
    assert (cfg.warmup_iter, cfg.update_iter, cfg.num_tasks, cfg.envs_per_task) == (80, 20, 6, 4)
    assert PGMORLConfig.for_problem("MO-Swimmer-v2").warmup_iter == 40
    assert PGMORLConfig.for_problem("MO-Ant-v2").update_iter == 40
    humanoid = PGMORLConfig.for_problem("MO-Humanoid-v2")
    assert humanoid.envs_per_task == 8 and humanoid.gamma == 0.99
    agent = PGMORL("MO-HalfCheetah-v2", cfg)
    run = agent.prepare()
    # 30M steps: 80 warm-up iterations, then 26 generations of 20, 2048 steps x 4 envs x 6 tasks
    plan = agent.plan
    assert (plan.warmup_iter, plan.update_iter, plan.generations, plan.steps) == (80, 20, 26, 2048)
    assert run.planned_steps == (80 + 26 * 20) * 6 * 4 * 2048 <= cfg.total_steps
