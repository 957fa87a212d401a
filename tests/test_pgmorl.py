"""PGMORL's parts: the prediction model, the performance buffers, candidate weights, the task
selection (against a brute force with a hand-written hypervolume), per-task normalisers, and the
agent's row copies (parameters, Adam moments, normalisers) when a generation starts."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

import morl
from morl.agents.pgmorl import PGMORL, PGMORLConfig
from morl.agents.pgmorl import agent as pgmorl_agent
from morl.agents.pgmorl.prediction import OptimizationGraph, fit_scaled_tanh, scaled_tanh
from morl.agents.pgmorl.selection import (
    PerformanceBuffers,
    Task,
    archive_indices,
    candidate_weights,
    front_score,
    select_tasks,
)
from morl.agents.ppo.core import Collector, PPOSettings
from morl.normalization import RunningMeanStd, normalize_observations, update_stats
from morl.preferences import simplex_grid


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


def _far_history(centre: list[float], far: list[float]) -> OptimizationGraph:
    """Node 0 at ``centre`` with no step of its own; a root at ``far`` with 5 steps of distinct
    weights, each moving objective j by 20·tanh(3(ω_j − 0.5))."""
    graph = OptimizationGraph()
    graph.insert(np.full(len(centre), 1.0), centre, -1)
    root = graph.insert(np.full(len(far), 1.0), far, -1)
    for w in np.random.default_rng(0).dirichlet(np.ones(len(far)), size=5):
        graph.insert(w, np.asarray(far) + 20.0 * np.tanh(3.0 * (w - 0.5)), root)
    return graph


def test_two_objective_neighbourhood_doubles_without_a_cap() -> None:
    """m = 2 (authors' population_2d.py): the threshold doubles until more than 3 distinct weights
    are found, however far: here 0.1 · 2⁸ = 25.6 (the first to reach (160, 160) from (10, 10))."""
    graph = _far_history([10.0, 10.0], [160.0, 160.0])
    test = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
    # the far steps' law, learned with uniform sample weights (all start at the same point)
    np.testing.assert_allclose(graph.predict(0, test), 10.0 + 20.0 * np.tanh(3.0 * (test - 0.5)), atol=0.5)
    threshold, sigma, start, _, _ = graph.fit_neighbourhood(0)
    assert (threshold, sigma) == pytest.approx((25.6, 7.68)) and len(start) == 5


def test_two_objective_neighbourhood_stops_where_doubling_adds_nothing() -> None:
    """Fewer than 4 distinct weights in the whole history (the authors' loop would not end): the
    doubling stops once every step is in; a policy with an objective of 0 reaches none."""
    graph = OptimizationGraph()
    root = graph.insert([0.5, 0.5], [10.0, 10.0], -1)
    for w in ([0.2, 0.8], [0.6, 0.4]):
        graph.insert(w, [11.0, 12.0], root)
    far = graph.insert([0.5, 0.5], [1000.0, 1000.0], -1)
    graph.insert([0.9, 0.1], [1001.0, 1000.0], far)
    threshold, _, start, _, _ = graph.fit_neighbourhood(root)
    assert threshold == pytest.approx(102.4) and len(start) == 3  # the first to cover the far root
    zero = graph.insert([1.0, 0.0], [0.0, 5.0], -1)
    assert len(graph.fit_neighbourhood(zero)[2]) == 0
    np.testing.assert_array_equal(graph.predict(zero, np.array([[0.5, 0.5]])), [[0.0, 5.0]])


def test_three_objective_neighbourhood_stops_doubling_at_1_6() -> None:
    """m = 3 (authors' population_3d.py: ``threshold >= 1.0`` ends the doubling): the widest
    neighbourhood is 1.6 (σ 0.48). Steps from a node 2 (relative) away are never used, so with
    nothing nearer no change is predicted; a node 1.5 away is found."""
    test = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    beyond = _far_history([10.0, 10.0, 10.0], [30.0, 30.0, 30.0])
    np.testing.assert_array_equal(beyond.predict(0, test), [[10.0, 10.0, 10.0]] * 2)
    threshold, sigma, start, _, _ = beyond.fit_neighbourhood(0)
    assert (threshold, sigma) == pytest.approx((1.6, 0.48)) and len(start) == 0
    within = _far_history([10.0, 10.0, 10.0], [25.0, 25.0, 25.0])
    assert within.fit_neighbourhood(0)[0] == pytest.approx(1.6) and len(within.fit_neighbourhood(0)[2]) == 5
    assert not np.allclose(within.predict(0, test), 10.0)


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


def _near_grid(centre: np.ndarray) -> set[tuple[float, ...]]:
    """The weights of the simplex grid of step 0.125 within π/4 of ``centre``, the centre excluded."""
    grid = simplex_grid(3, 8)
    unit = centre / np.linalg.norm(centre)
    cosines = grid @ unit / np.linalg.norm(grid, axis=1)
    return {tuple(w) for w in grid if np.linalg.norm(w - centre) > 1e-9} & {
        tuple(w) for w, c in zip(grid, cosines, strict=True) if c > np.cos(np.pi / 4)}  # fmt: skip


def test_three_objective_candidates_come_from_the_eighth_grid_filled_to_seven() -> None:
    """m = 3 (authors' population_3d.py): the centre, then grid weights of step 0.125 within π/4
    in shuffled order, up to 7; with the centre used, 7 grid weights."""
    assert len(simplex_grid(3, 2 * PGMORLConfig.for_problem("MO-Hopper-v3").warmup_splits)) == 45
    centre = np.array([0.25, 0.25, 0.5])
    near = _near_grid(centre)
    assert len(near) > 7
    offered: set[tuple[float, ...]] = set()
    for seed in range(40):
        weights = candidate_weights(centre, [], np.random.default_rng(seed))
        assert len(weights) == 7
        np.testing.assert_array_equal(weights[0], centre)
        rest = {tuple(w) for w in weights[1:]}
        assert len(rest) == 6 and rest <= near  # distinct weights of the 1/8 grid, within π/4
        offered |= rest
        used = candidate_weights(centre, [2.0 * centre], np.random.default_rng(seed))  # the centre, unnormalised
        assert len(used) == 7 and len({tuple(w) for w in used}) == 7 and {tuple(w) for w in used} <= near
    assert offered == near  # shuffled: every near grid weight is offered under some seed
    again = candidate_weights(centre, [], np.random.default_rng(3))
    np.testing.assert_array_equal(again, candidate_weights(centre, [], np.random.default_rng(3)))
    # a used grid weight is never offered; with fewer than 6 near weights (a coarse grid), all of them
    skip = np.array([0.25, 0.375, 0.375])
    assert all(tuple(skip) not in {tuple(w) for w in candidate_weights(centre, [skip], np.random.default_rng(s))}
               for s in range(20))  # fmt: skip
    middle = np.full(3, 1.0 / 3.0)
    weights = candidate_weights(middle, [], np.random.default_rng(0), grid_splits=2)
    assert len(weights) == 4 and {tuple(w) for w in weights[1:]} == {(0.5, 0.5, 0.0), (0.5, 0.0, 0.5), (0.0, 0.5, 0.5)}


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
    points = np.array([p for p in points if (p >= 0).all()]).reshape(-1, 2)  # negative points never count
    if len(points) == 0:
        return 0.0
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


def test_a_negative_prediction_gets_no_credit() -> None:
    """(12, −1) would lower the sparsity of {(10, 1), (5, 5)}: it must not raise the score
    (authors' population_2d.py and utils.update_ep drop it), so it ties with a dominated
    prediction and the first of equal scores wins."""
    archive = np.array([[10.0, 1.0], [5.0, 5.0]])
    for alpha in (0.0, 1.0, 1e6):
        assert front_score(np.vstack([archive, [12.0, -1.0]]), alpha) == front_score(archive, alpha)
    dominated = Task(0, np.array([0.5, 0.5]), np.array([4.0, 4.0]))
    negative = Task(1, np.array([0.9, 0.1]), np.array([12.0, -1.0]))
    assert select_tasks([dominated, negative], archive, 1, 1.0) == [dominated]


def test_task_selection_ignores_negative_points() -> None:
    """Archive points and predictions with a negative objective: every greedy pick is the best
    with them dropped from the virtual archive and from each score."""
    for seed in range(8):
        rng = np.random.default_rng(seed)
        archive = rng.uniform(-2.0, 10.0, size=(6, 2))
        candidates = [Task(i, w, p) for i, (w, p) in enumerate(zip(
            rng.dirichlet([1, 1], size=12), rng.uniform(-3.0, 12.0, size=(12, 2)), strict=True))]  # fmt: skip
        picked = select_tasks(candidates, archive, 4, 1.0)
        assert len(picked) == 4
        virtual, rest = archive, list(candidates)
        for pick in picked:
            scores = [_score(np.vstack([virtual, c.predicted]), 1.0) for c in rest]
            assert pick is rest[int(np.argmax(scores))], f"seed {seed}"
            rest.remove(pick)
            virtual = np.vstack([virtual, pick.predicted])


def test_archive_indices_drop_negative_points() -> None:
    objs = np.array([[12.0, -1.0], [10.0, 1.0], [5.0, 5.0], [4.0, 4.0], [0.0, 6.0]])
    assert archive_indices(objs).tolist() == [1, 2, 4]
    # no non-negative point yet: the non-dominated ones of all (never an empty archive)
    assert archive_indices(np.array([[-1.0, 3.0], [-2.0, 2.0], [2.0, -5.0]])).tolist() == [0, 2]
    assert archive_indices(np.zeros((0, 2))).tolist() == []


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


def _fake_evaluate_front(calls: list[dict[str, Any]], episode: Any) -> Any:
    """A stand-in for evaluate_front: episode(k, e) is the return vector of policy k's episode e;
    each call's keyword arguments are recorded."""

    def fake(policies: Any, problem_id: str, preferences: Any = None, **kwargs: Any) -> Any:
        calls.append(kwargs)
        episodes = kwargs.get("episodes", 1)
        returns = np.array([[episode(k, e) for e in range(episodes)] for k in range(len(preferences))], dtype=float)
        return SimpleNamespace(returns=returns.mean(axis=1), episode_returns=returns, env_steps=0)

    return fake


def test_eval_num_is_a_validated_per_problem_default() -> None:
    """The authors' scripts: --eval-num 6 for Humanoid (noisy resets), 1 for every other problem."""
    assert PGMORLConfig.for_problem("MO-Humanoid-v2").eval_num == 6
    for problem in ("MO-Swimmer-v2", "MO-HalfCheetah-v2", "MO-Walker2d-v2", "MO-Ant-v2", "MO-Hopper-v2",
                    "MO-Hopper-v3"):  # fmt: skip
        assert PGMORLConfig.for_problem(problem).eval_num == 1
    assert PGMORLConfig.for_problem("MO-Humanoid-v2", eval_num=2).eval_num == 2
    with pytest.raises(ValueError, match="eval_num=0 must be a positive integer"):
        PGMORLConfig.for_problem("MO-Swimmer-v2", eval_num=0)
    with pytest.raises(TypeError, match=r"eval_num=1\.5 must be a positive integer"):
        PGMORLConfig.for_problem("MO-Swimmer-v2", eval_num=1.5)


def test_archive_entries_are_scored_with_eval_num_episodes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    fake = _fake_evaluate_front(calls, lambda k, e: [1.0 + e + k, 5.0 - k])  # means (2 + k, 5 - k)
    monkeypatch.setattr(pgmorl_agent, "evaluate_front", fake)
    agent = PGMORL("MO-Hopper-v2", PGMORLConfig.for_problem("MO-Hopper-v2", **TINY, eval_num=3))
    agent.learn(progress=False, callback=lambda a, info: False)  # one iteration: the warm-up's start and end
    assert len(calls) == 2 and all(call["episodes"] == 3 for call in calls)
    records = [agent.records[i] for i in agent.archive]
    assert records and all(r.episode_returns.shape == (3, 2) for r in records)
    np.testing.assert_allclose(sorted(r.objs.tolist() for r in records), [[2.0, 5.0], [3.0, 4.0], [4.0, 3.0]])
    assert agent._training_front().protocol.episodes == 3
    monkeypatch.setattr(morl.agents.base, "evaluate_front", fake)
    agent.evaluate()  # the archive again, as it was scored
    agent.evaluate(np.array([[0.5, 0.5]]))
    assert [call["episodes"] for call in calls[2:]] == [3, 3]


def test_negative_points_never_enter_the_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    """(12, −1) is not dominated by (10, 1) or (5, 5), but has a negative objective: the authors'
    archive (ep.py through utils.get_ep_indices) drops it."""
    values = [[12.0, -1.0], [10.0, 1.0], [5.0, 5.0]]
    monkeypatch.setattr(pgmorl_agent, "evaluate_front", _fake_evaluate_front([], lambda k, e: values[k]))
    agent = PGMORL("MO-Hopper-v2", PGMORLConfig.for_problem("MO-Hopper-v2", **TINY))
    agent.learn(progress=False, callback=lambda a, info: False)
    assert sorted(agent.archive_returns().tolist()) == [[5.0, 5.0], [10.0, 1.0]]


@pytest.mark.slow
def test_archive_members_keep_their_own_normaliser_through_a_last_shorter_generation() -> None:
    """8064 steps leave one iteration after nine whole generations of 2: the authors' loop runs it
    as a tenth generation of one iteration (the sharpest case), which starts from the selection
    made at the end of the ninth, records its offspring as graph nodes, and selects nothing after.
    Every archive member's standalone policy carries its own normaliser."""
    agent = PGMORL("MO-Hopper-v2", PGMORLConfig.for_problem("MO-Hopper-v2", **{**TINY, "total_steps": 8064}))
    run = agent.prepare()
    assert (agent.plan.generations, agent.plan.last_iter, run.iterations) == (9, 1, 21)
    assert agent._stage(19) == (9, 1, 2) and agent._stage(20) == (10, 0, 1)
    agent.learn(progress=False)
    assert agent.finished and agent.env_steps == run.planned_steps == 21 * 3 * 2 * 64
    assert len(agent.graph) == 3 * (1 + 1 + 10)  # roots, warm-up end, nine generations and the last
    assert agent.pending == []  # no selection after the final iteration
    members = agent.pareto_set()
    assert len(members) == len(agent.archive) >= 1
    for (weight, policy), record in zip(members, (agent.records[i] for i in agent.archive), strict=True):
        np.testing.assert_array_equal(policy.obs_mean, record.obs_stats.mean)
        np.testing.assert_allclose(policy.preference, weight / weight.sum())
    # the archive is non-dominated, and the population holds graph nodes only
    assert morl.pareto.non_dominated(agent.archive_returns()).all()
    assert all(agent.records[i].node >= 0 for i in agent.population)


@pytest.mark.slow
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
    # 30M steps: 80 warm-up iterations, then 26 generations of 20 and a last of 10 (the authors'
    # loop runs what is left), 2048 steps x 4 envs x 6 tasks: 610 iterations, as theirs
    plan = agent.plan
    assert (plan.warmup_iter, plan.update_iter, plan.generations, plan.steps, plan.last_iter) == (80, 20, 26, 2048, 10)
    assert run.iterations == 610 and run.planned_steps == 610 * 6 * 4 * 2048 <= cfg.total_steps
    # Ant, 48M: 200 + 19 x 40 + 16 = 976 iterations per task, the authors' int(48M / (6 x 4 x 2048))
    ant = PGMORL("MO-Ant-v2", PGMORLConfig.for_problem("MO-Ant-v2"))
    assert ant.prepare().iterations == 976 and (ant.plan.generations, ant.plan.last_iter) == (19, 16)
    assert ant._stage(975) == (20, 15, 16) and ant._stage(960) == (20, 0, 16) and ant._stage(959) == (19, 39, 40)
