"""evaluate_front: the batched protocol gives the same returns as plain rollouts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import morl
import tests.toy_mo_env  # noqa: F401  (registers test/ToyMO-v0)
from morl.evaluation import FrontResult, default_utility_weights, evaluate_front, pdmorl_preferences, run_episode
from morl.pareto import FrontMetrics, hypervolume, non_dominated, sparsity


class FixedPolicy:
    """Action depends on the preference only: a = (2ω_0 - 1) * ones; SB3-style tuple output."""

    def __init__(self, preference: np.ndarray, action_dim: int) -> None:
        self.action = np.full(action_dim, 2.0 * preference[0] - 1.0)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        return np.tile(self.action, (len(obs), 1)), None


def manual_return(problem_id: str, preference: np.ndarray, seed: int, discount: float = 1.0) -> np.ndarray:
    env = gym.make(problem_id)
    policy = FixedPolicy(preference, env.action_space.shape[0])
    obs, _ = env.reset(seed=seed)
    total, factor = np.zeros(env.unwrapped.reward_dim), 1.0
    while True:
        action = policy.predict(obs[None])[0][0]
        obs, reward, terminated, truncated, _ = env.step(action)
        total += factor * reward
        factor *= discount
        if terminated or truncated:
            return total


def test_returns_match_single_env_rollouts() -> None:
    preferences = np.array([[1.0, 0.0], [0.3, 0.7], [0.0, 1.0]])
    result = evaluate_front(lambda w: FixedPolicy(w, 6), "MO-HalfCheetah-v2", preferences, seed=3, workers=2)
    for i, w in enumerate(preferences):
        np.testing.assert_allclose(result.returns[i], manual_return("morl/MO-HalfCheetah-v2", w, seed=3 + i))
    assert result.protocol.ref_point == (0.0, 0.0)
    assert result.protocol.discount == 1.0 and result.protocol.deterministic
    assert result.protocol.versions["mujoco"] and result.protocol.versions["morl"] == morl.__version__
    expected = FrontMetrics(ref_point=(0.0, 0.0), weights=morl.evaluation.default_utility_weights(2))
    assert result.metrics == expected(result.returns)
    np.testing.assert_array_equal(result.front_indices, expected.front(result.returns))


class ConstantPolicy:
    """One action for every observation (a single env's ``predict``)."""

    def __init__(self, action: np.ndarray) -> None:
        self.action, self.calls = action, 0

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        self.calls += 1
        return self.action, None  # Stable-Baselines3's shape of an answer


def test_run_episode_observes_the_reset_and_every_step() -> None:
    """The one-episode helper of ``morl sample`` and the explorer: the return of a plain loop, and
    ``observe`` after the reset and after each step, the last included (a GIF or a pose track of
    the whole episode)."""
    env = gym.make("morl/MO-Hopper-v2")
    action = np.full(3, 0.5)
    expected = manual_return("morl/MO-Hopper-v2", np.array([0.75, 0.25]), seed=4)  # FixedPolicy: 2·0.75 − 1
    heights: list[float] = []
    policy = ConstantPolicy(action)
    total = run_episode(env, policy, seed=4, observe=lambda: heights.append(float(env.unwrapped.data.qpos[1])))
    env.close()
    np.testing.assert_array_equal(total, expected)
    assert len(heights) == policy.calls + 1  # one observation per step, and the reset's
    assert 1 < policy.calls < 1000  # a constant torque topples the hopper
    assert heights[0] == pytest.approx(1.25, abs=0.01)  # the reset's pose came first


def test_discount_and_steps_counted() -> None:
    preferences = np.array([[0.5, 0.5], [0.9, 0.1]])
    result = evaluate_front(lambda w: FixedPolicy(w, 3), "MO-Hopper-v2", preferences, discount=0.9, workers=1)
    lengths = 0
    for i, w in enumerate(preferences):
        np.testing.assert_allclose(result.returns[i], manual_return("morl/MO-Hopper-v2", w, i, discount=0.9))
        env = gym.make("morl/MO-Hopper-v2")
        env.reset(seed=i)
        policy = FixedPolicy(w, 3)
        while True:
            lengths += 1
            _, _, terminated, truncated, _ = env.step(policy.action)
            if terminated or truncated:
                break
    assert result.env_steps == lengths


def test_episodes_are_averaged_and_batched_policy_used() -> None:
    calls = []

    class Batched:
        def __call__(self, preference: np.ndarray) -> None:  # never used: predict_batch wins
            raise AssertionError("per-preference path used")

        def predict_batch(self, obs: np.ndarray, preferences: np.ndarray, deterministic: bool) -> np.ndarray:
            calls.append(len(obs))
            return np.tile((2 * preferences[:, :1] - 1) * 0.1, (1, 17))

    result = evaluate_front(Batched(), "MO-Humanoid-v2", [[0.2, 0.8], [0.6, 0.4]], episodes=3, seed=1, workers=1)
    assert set(calls) == {6}
    assert result.episode_returns.shape == (2, 3, 2)
    np.testing.assert_allclose(result.returns, result.episode_returns.mean(axis=1))
    # Humanoid's reset noise: the three episodes of a preference differ
    assert not np.allclose(result.episode_returns[0, 0], result.episode_returns[0, 1])


def test_default_preferences_are_the_paper_set() -> None:
    result = evaluate_front(lambda w: FixedPolicy(w, 2), "MO-Swimmer-v2", workers=2)
    assert result.preferences.shape == (200, 2)
    assert result.env_steps == 200 * 500
    assert result.metrics.num_non_dominated == len(result.front_indices) >= 1


def test_other_problems_need_a_reference_point() -> None:
    with pytest.raises(ValueError, match="ref_point is required for 'test/ToyMO-v0'"):
        evaluate_front(lambda w: None, "test/ToyMO-v0", [[0.5, 0.5]])

    class Toy:
        def __init__(self, w: np.ndarray) -> None:
            self.w = w

        def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
            return np.full((len(obs), 1), self.w[0])

    result = evaluate_front(Toy, "test/ToyMO-v0", [[1.0, 0.0], [0.25, 0.75]], ref_point=(-1.0, -1.0))
    np.testing.assert_allclose(result.returns, [[5.0, 0.0], [1.25, 3.75]])
    assert result.env_steps == 10
    assert result.protocol.ref_point == (-1.0, -1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preferences": [[0.5, 0.5, 0.0]]}, r"preferences must have shape \(P, 2\)"),
        ({"preferences": [[0.5, -0.5]]}, r"preferences\[0\]=\[0.5, -0.5\] has negative entries"),
        ({"episodes": 0}, "episodes=0"),
        ({"discount": 1.5}, "discount=1.5"),
        ({"ref_point": (0.0,)}, r"ref_point=\[0.0\] has 1 entries"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    kwargs.setdefault("preferences", [[0.5, 0.5]])
    with pytest.raises(ValueError, match=message):
        evaluate_front(lambda w: FixedPolicy(w, 2), "MO-Swimmer-v2", **kwargs)


@pytest.fixture(scope="module")
def small_result() -> FrontResult:
    return evaluate_front(lambda w: FixedPolicy(w, 3), "MO-Hopper-v3", morl.preferences.simplex_grid(3, 3), workers=1)


def test_json_round_trip(small_result: FrontResult, tmp_path) -> None:
    path = tmp_path / "front.json"
    small_result.save(path)
    loaded = FrontResult.load(path)
    np.testing.assert_array_equal(loaded.returns, small_result.returns)
    np.testing.assert_array_equal(loaded.preferences, small_result.preferences)
    assert loaded.metrics == small_result.metrics
    assert loaded.protocol == small_result.protocol
    assert loaded.front_indices == small_result.front_indices
    assert loaded.env_steps == small_result.env_steps


def test_load_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FrontResult.load(tmp_path / "missing.json")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"format": "morl.front_res')
    with pytest.raises(ValueError, match="corrupt JSON"):
        FrontResult.load(corrupt)
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="is not a morl front result"):
        FrontResult.load(foreign)
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps({"format": "morl.front_result", "format_version": 1, "returns": []}))
    with pytest.raises(ValueError, match="is not a valid front result"):
        FrontResult.load(truncated)


def test_failed_save_keeps_the_old_file(small_result: FrontResult, tmp_path, monkeypatch) -> None:
    path = tmp_path / "front.json"
    small_result.save(path)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        small_result.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["front.json"]  # no temporary file left


def test_a_list_of_policies_may_share_a_preference() -> None:
    """A population's members are evaluated as given, one per row, even with equal preferences."""
    preferences = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    policies = [FixedPolicy(np.array([a, 1.0 - a]), 3) for a in (0.1, 0.9, 0.5)]
    result = evaluate_front(policies, "MO-Hopper-v2", preferences, workers=1)
    by_callable = evaluate_front(lambda w: FixedPolicy(w, 3), "MO-Hopper-v2", np.array([[0.1, 0.9], [0.9, 0.1]]),
                                 workers=1)  # fmt: skip
    np.testing.assert_allclose(result.returns[:2], by_callable.returns)
    np.testing.assert_array_equal(result.preferences, preferences)
    with pytest.raises(ValueError, match="2 policies for 3 preferences; expected one per preference"):
        evaluate_front(policies[:2], "MO-Hopper-v2", preferences, workers=1)


def test_front_result_of_measured_returns_equals_an_evaluation() -> None:
    preferences = np.array([[1.0, 0.0], [0.3, 0.7], [0.0, 1.0]])
    measured = evaluate_front(lambda w: FixedPolicy(w, 3), "MO-Hopper-v2", preferences, workers=1)
    again = morl.evaluation.front_result("morl/MO-Hopper-v2", preferences, measured.returns)
    assert again.metrics == measured.metrics and again.front_indices == measured.front_indices
    assert again.env_steps == 0 and again.protocol.episodes == 1
    with pytest.raises(ValueError, match="do not match preferences"):
        morl.evaluation.front_result("morl/MO-Hopper-v2", preferences[:2], measured.returns)


# --------------------------------------------------------------------------- PD-MORL's protocol
def test_pdmorl_preference_grid() -> None:
    """The authors' final grid: w1 = 0, 0.001, ..., 1 (1001 rows, w1 ascending); m = 2 only."""
    grid = pdmorl_preferences(2)
    assert grid.shape == (1001, 2)
    np.testing.assert_array_equal(grid[0], [0.0, 1.0])
    np.testing.assert_array_equal(grid[-1], [1.0, 0.0])
    np.testing.assert_allclose(np.diff(grid[:, 0]), 0.001, atol=1e-12)  # sorted, evenly spaced
    np.testing.assert_allclose(grid.sum(axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(grid[500], [0.5, 0.5], atol=1e-15)
    with pytest.raises(ValueError, match=r"num_objectives=3: PD-MORL's protocol defines its preferences .* for 2"):
        pdmorl_preferences(3)
    with pytest.raises(ValueError, match="num_objectives=3"):  # the default grid of a 3-objective problem
        evaluate_front(lambda w: FixedPolicy(w, 3), "MO-Hopper-v3", protocol="pd-morl", workers=1)


def test_pdmorl_protocol_repeats_three_seeded_evaluations(tmp_path) -> None:
    """Humanoid resets with noise, so the three repetitions (env seeds 0, 11, 22) differ; each is
    the paper protocol's evaluation at its seed; HV and sparsity per repetition, then mean ± std."""
    preferences = pdmorl_preferences(2)[::250]  # 5 of the 1001, to keep the test short

    def policy(w: np.ndarray) -> FixedPolicy:  # actions in [-0.1, 0.1]
        return FixedPolicy(np.array([0.45 + 0.1 * w[0]]), 17)

    result = evaluate_front(policy, "MO-Humanoid-v2", preferences, protocol="pd-morl", workers=1, training_env_steps=7)
    assert result.protocol.name == "pd-morl" and result.protocol.repetitions == 3 and result.protocol.episodes == 1
    assert result.protocol.seed == 0 and "3 repetitions seeded 0, 11, 22" in result.protocol.describe()
    assert result.episode_returns.shape == (5, 3, 2) and result.training_env_steps == 7
    steps = 0
    for e, seed in enumerate((0, 11, 22)):
        alone = evaluate_front(policy, "MO-Humanoid-v2", preferences, seed=seed, workers=1)
        np.testing.assert_array_equal(result.episode_returns[:, e], alone.returns)
        steps += alone.env_steps
        front = alone.returns[non_dominated(alone.returns)]  # the authors': negatives kept
        assert result.repetition_metrics is not None and result.repetition_metrics.seeds[e] == seed
        assert result.repetition_metrics.hypervolume[e] == hypervolume(front, ref_point=(0.0, 0.0))
        assert result.repetition_metrics.sparsity[e] == sparsity(front)
    assert result.env_steps == steps
    assert not np.allclose(result.episode_returns[:, 0], result.episode_returns[:, 1])
    reps = result.repetition_metrics
    assert reps.hypervolume_mean == pytest.approx(np.mean(reps.hypervolume))
    assert reps.hypervolume_std == pytest.approx(np.std(reps.hypervolume)) and reps.hypervolume_std > 0
    assert reps.sparsity_mean == pytest.approx(np.mean(reps.sparsity))
    assert reps.sparsity_std == pytest.approx(np.std(reps.sparsity))
    np.testing.assert_allclose(result.returns, result.episode_returns.mean(axis=1))
    np.testing.assert_array_equal(result.front_indices, np.flatnonzero(non_dominated(result.returns)))
    assert result.metrics == FrontMetrics(ref_point=(0.0, 0.0), weights=default_utility_weights(2))(result.returns)
    path = tmp_path / "front.json"
    result.save(path)
    loaded = FrontResult.load(path)
    assert loaded.protocol == result.protocol and loaded.repetition_metrics == result.repetition_metrics
    assert json.loads(path.read_text())["repetition_metrics"]["hypervolume_std"] == reps.hypervolume_std


def test_pdmorl_protocol_seeds_and_restores_the_global_generators() -> None:
    """A stochastic policy drawing from NumPy's and torch's global generators sees them seeded
    with 11·e in repetition e (so the evaluation is reproducible), and the caller's streams are
    the same afterwards as if no evaluation had run."""

    class Noisy:
        def __init__(self, preference: np.ndarray) -> None:
            pass

        def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
            noise = np.random.uniform(-1, 1, size=(len(obs), 2)) + torch.rand(len(obs), 2).numpy()  # noqa: NPY002
            return noise - 0.5

    np.random.seed(5)  # noqa: NPY002
    torch.manual_seed(5)
    first = evaluate_front(Noisy, "MO-Swimmer-v2", [[0.5, 0.5], [1.0, 0.0]], protocol="pd-morl", deterministic=False,
                           workers=1)  # fmt: skip
    after = np.random.random(), torch.rand(1).item()  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    torch.manual_seed(5)
    assert after == (np.random.random(), torch.rand(1).item())  # noqa: NPY002
    second = evaluate_front(Noisy, "MO-Swimmer-v2", [[0.5, 0.5], [1.0, 0.0]], protocol="pd-morl", deterministic=False,
                            workers=1)  # fmt: skip
    np.testing.assert_array_equal(first.episode_returns, second.episode_returns)
    assert not first.protocol.deterministic
    assert not np.allclose(first.episode_returns[:, 0], first.episode_returns[:, 1])  # 0 and 11 draw differently


def test_the_paper_protocol_stays_the_default(small_result: FrontResult, tmp_path) -> None:
    result = evaluate_front(lambda w: FixedPolicy(w, 3), "MO-Hopper-v2", [[0.5, 0.5], [0.9, 0.1]], workers=1)
    explicit = evaluate_front(lambda w: FixedPolicy(w, 3), "MO-Hopper-v2", [[0.5, 0.5], [0.9, 0.1]], workers=1,
                              protocol="paper")  # fmt: skip
    np.testing.assert_array_equal(result.returns, explicit.returns)
    assert result.protocol == explicit.protocol and result.metrics == explicit.metrics
    assert (result.protocol.name, result.protocol.repetitions, result.repetition_metrics) == ("paper", 1, None)
    assert result.protocol.describe() == (
        "morl/MO-Hopper-v2: undiscounted returns, 1 episode(s) per preference, deterministic actions, seed 0, "
        "reference point [0.0, 0.0]"
    )
    # a result saved before protocols had names is the paper protocol's
    path = tmp_path / "old.json"
    small_result.save(path)
    data = json.loads(path.read_text())
    del data["protocol"]["name"], data["protocol"]["repetitions"], data["repetition_metrics"]
    path.write_text(json.dumps(data))
    loaded = FrontResult.load(path)
    assert loaded.protocol == small_result.protocol and loaded.protocol.name == "paper"
    assert loaded.repetition_metrics is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "pdmorl"}, r"protocol='pdmorl' is unknown; expected one of \['paper', 'pd-morl'\]"),
        ({"protocol": "pd-morl", "episodes": 2}, "episodes=2 with protocol='pd-morl'.*expected episodes=1"),
    ],
)
def test_bad_protocol_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_front(lambda w: FixedPolicy(w, 2), "MO-Swimmer-v2", [[0.5, 0.5]], **kwargs)


def test_a_front_names_the_problem_definition_it_was_measured_on(tmp_path: Path) -> None:
    from morl.evaluation import front_result

    result = front_result("MO-Swimmer-v2", np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert result.protocol.fingerprint == morl.fingerprint("MO-Swimmer-v2")
    result.save(tmp_path / "front.json")
    assert FrontResult.load(tmp_path / "front.json").protocol.fingerprint == morl.fingerprint("MO-Swimmer-v2")
