"""The standalone policy for any agent's actor, and the SB3 VecEnv adapter on morl's vector env."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

import morl
from morl.agents.sb3_vec import ScalarizedVecEnv
from morl.policy import PreferencePolicy


def sac_like(rng: np.random.Generator, preference_input: bool = False) -> PreferencePolicy:
    extra = 2 if preference_input else 0
    weights = {"actor.0.weight": rng.normal(size=(8, 11 + extra)), "actor.0.bias": rng.normal(size=8),
               "actor.1.weight": rng.normal(size=(3, 8)), "actor.1.bias": rng.normal(size=3)}  # fmt: skip
    return PreferencePolicy(problem_id="morl/MO-Hopper-v2", preference=np.array([0.25, 0.75]), weights=weights,
                            obs_mean=rng.normal(size=11), obs_var=rng.uniform(0.5, 2, size=11), activation="relu",
                            squash="tanh", action_low=-2 * np.ones(3), action_high=np.ones(3),
                            preference_input=preference_input)  # fmt: skip


def test_relu_tanh_squashed_conditioned_actor_by_hand(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    policy = sac_like(rng, preference_input=True)
    obs = rng.normal(size=(4, 11)) * 5
    x = np.clip((obs - policy.obs_mean) / np.sqrt(policy.obs_var + 1e-8), -10, 10)
    x = np.concatenate([x, np.tile([0.25, 0.75], (4, 1))], axis=1)
    w = policy.weights
    hidden = np.maximum(x @ w["actor.0.weight"].T + w["actor.0.bias"], 0)
    expected = -2 + 0.5 * (np.tanh(hidden @ w["actor.1.weight"].T + w["actor.1.bias"]) + 1) * 3
    np.testing.assert_allclose(policy.predict(obs), expected, rtol=1e-5)
    assert policy.obs_dim == 11 and policy.action_dim == 3
    with pytest.raises(ValueError, match="no state-independent log_std"):
        policy.predict(obs, deterministic=False)
    policy.save(tmp_path / "p.npz")
    again = PreferencePolicy.load(tmp_path / "p.npz")
    np.testing.assert_array_equal(again.predict(obs), policy.predict(obs))
    assert (again.activation, again.squash, again.preference_input) == ("relu", "tanh", True)


def test_policy_without_normaliser_and_bad_shapes() -> None:
    rng = np.random.default_rng(1)
    good = sac_like(rng)
    plain = PreferencePolicy(problem_id=good.problem_id, preference=good.preference, weights=good.weights,
                             obs_mean=None, obs_var=None, activation="relu", squash="tanh",
                             action_low=good.action_low, action_high=good.action_high)  # fmt: skip
    assert plain.predict(np.zeros(11)).shape == (3,)
    with pytest.raises(ValueError, match=r"layer actor\.1 takes 5 inputs; the layer before gives 8"):
        PreferencePolicy(problem_id="x", preference=np.ones(2) / 2, obs_mean=None, obs_var=None,
                         weights={**good.weights, "actor.1.weight": np.zeros((3, 5))})  # fmt: skip
    with pytest.raises(ValueError, match="squash='tanh' needs action_low"):
        PreferencePolicy(problem_id="x", preference=np.ones(2) / 2, weights=good.weights, obs_mean=None,
                         obs_var=None, squash="tanh")  # fmt: skip
    with pytest.raises(ValueError, match="activation='gelu' must be one of"):
        PreferencePolicy(problem_id="x", preference=np.ones(2) / 2, weights=good.weights, obs_mean=None,
                         obs_var=None, activation="gelu")  # fmt: skip


def test_format_version_1_files_still_load(tmp_path: Path) -> None:
    """Policies saved by morl 0.1 (tanh actor of three layers with log_std, no new fields)."""
    rng = np.random.default_rng(2)
    arrays = {f"w/actor.{i}.{kind}": rng.normal(size=shape) for i, (w_shape, b_shape) in
              enumerate([((4, 11), (4,)), ((4, 4), (4,)), ((3, 4), (3,))])
              for kind, shape in (("weight", w_shape), ("bias", b_shape))}  # fmt: skip
    arrays["w/log_std"] = np.zeros(3)
    meta = {"format": "morl.policy", "format_version": 1, "problem_id": "morl/MO-Hopper-v2"}
    np.savez(tmp_path / "old.npz", preference=np.array([0.5, 0.5]), obs_mean=np.zeros(11), obs_var=np.ones(11),
             metadata=np.array(json.dumps(meta)), **arrays)  # fmt: skip
    policy = PreferencePolicy.load(tmp_path / "old.npz")
    assert policy.activation == "tanh" and policy.squash == "none" and policy.num_layers == 3
    assert policy.predict(np.zeros(11), deterministic=False).shape == (3,)


@pytest.mark.parametrize("problem", ["MO-Hopper-v2", "MO-Swimmer-v2"])
def test_sb3_adapter_gives_dummy_vec_env_transitions(problem: str) -> None:
    """Same seeds, same actions: the same observations, rewards, dones, terminal observations and
    TimeLimit.truncated flags as SB3's DummyVecEnv over morl.make(..., preference=ω) envs."""
    weights = [0.3, 0.7]
    ours = ScalarizedVecEnv(problem, weights, 3, workers=1)
    theirs = DummyVecEnv([lambda: morl.make(problem, preference=weights) for _ in range(3)])
    ours.seed(5)
    theirs.seed(5)
    obs_a, obs_b = ours.reset(), theirs.reset()
    np.testing.assert_array_equal(obs_a, obs_b)
    rng = np.random.default_rng(0)
    ended = truncations = 0
    for _ in range(1100):  # past Swimmer's 500-step time limit twice
        actions = rng.uniform(-1, 1, size=(3, ours.action_space.shape[0]))
        obs_a, rew_a, done_a, info_a = ours.step(actions)
        obs_b, rew_b, done_b, info_b = theirs.step(actions)
        np.testing.assert_array_equal(obs_a, obs_b)
        np.testing.assert_allclose(rew_a, rew_b, rtol=1e-6)
        np.testing.assert_array_equal(done_a, done_b)
        for a, b in zip(info_a, info_b, strict=True):
            assert a["TimeLimit.truncated"] == b["TimeLimit.truncated"]
            if "terminal_observation" in b:
                np.testing.assert_array_equal(a["terminal_observation"], b["terminal_observation"])
                ended += 1
                truncations += int(b["TimeLimit.truncated"])
    assert ended >= 3 and (problem != "MO-Swimmer-v2" or truncations == 6)
    ours.close()
    theirs.close()
