"""The standalone policy for any agent's actor, and the SB3 VecEnv adapter on morl's vector env."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

import morl
from morl import portable_math
from morl.agents.sb3_vec import ScalarizedVecEnv
from morl.policy import PolicyStack, PreferencePolicy


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


def tanh_mlp(rng: np.random.Generator, scale: float = 1.0) -> PreferencePolicy:
    """A PPO-like actor on MO-Hopper-v2: two tanh layers of 16, normalised observations."""
    weights = {"actor.0.weight": rng.normal(size=(16, 11)) * scale, "actor.0.bias": rng.normal(size=16),
               "actor.1.weight": rng.normal(size=(16, 16)), "actor.1.bias": rng.normal(size=16),
               "actor.2.weight": rng.normal(size=(3, 16)), "actor.2.bias": rng.normal(size=3)}  # fmt: skip
    return PreferencePolicy(problem_id="morl/MO-Hopper-v2", preference=rng.dirichlet(np.ones(2)), weights=weights,
                            obs_mean=rng.normal(size=11), obs_var=rng.uniform(0.5, 2, size=11))  # fmt: skip


@pytest.mark.parametrize("make", [tanh_mlp, lambda rng: sac_like(rng, preference_input=True)], ids=["tanh", "sac"])
def test_a_stack_gives_each_row_its_own_policys_bits(make: Any) -> None:
    """Row r of a stack is bit for bit policy r // rows_per_policy's own predict (the evaluation
    relies on it: PGMORL's recorded returns must not depend on how many policies ran together)."""
    rng = np.random.default_rng(3)
    policies = [make(rng) for _ in range(4)]
    stack = PolicyStack.of(policies, rows_per_policy=3)
    assert stack is not None and stack.num_rows == 12
    obs = rng.normal(size=(12, 11)) * 4
    own = np.concatenate([p.predict(obs[3 * i : 3 * i + 3]) for i, p in enumerate(policies)])
    stacked = stack.predict(obs)
    assert stacked.dtype == np.float32
    assert stacked.tobytes() == own.tobytes()
    with pytest.raises(ValueError, match=r"obs has shape \(11, 11\); expected \(12, 11\)"):
        stack.predict(obs[:11])


def test_fixed_order_products_give_each_row_the_same_bits_in_any_layout() -> None:
    """portable_math.linear: one weight per row, or one per group of rows (broadcast), gives each
    row what the row alone with its weight gives; shapes that do not fit are named."""
    rng = np.random.default_rng(6)
    x, weight, bias = rng.normal(size=(3, 2, 5)), rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 4))
    grouped = portable_math.linear(x, weight[:, None], bias[:, None])
    per_row = portable_math.linear(x.reshape(6, 5), np.repeat(weight, 2, axis=0), np.repeat(bias, 2, axis=0))
    alone = [portable_math.linear(x[g, r][None], weight[g], bias[g])[0] for g in range(3) for r in range(2)]
    assert grouped.shape == (3, 2, 4) and grouped.reshape(6, 4).tobytes() == per_row.tobytes()
    assert per_row.tobytes() == np.stack(alone).tobytes()
    np.testing.assert_allclose(per_row, np.einsum("nk,nko->no", x.reshape(6, 5), np.repeat(weight, 2, axis=0))
                               + np.repeat(bias, 2, axis=0), rtol=1e-12)  # fmt: skip
    with pytest.raises(ValueError, match=r"x of shape \(6, 4\) and weight of shape \(5, 4\): expected"):
        portable_math.linear(x.reshape(6, 5)[:, :4], weight[0], bias[0])
    with pytest.raises(ValueError, match="leading axes do not broadcast"):
        portable_math.linear(x, weight[:2, None], bias[:2, None])


def test_only_one_architecture_of_plain_policies_stacks() -> None:
    rng = np.random.default_rng(4)
    ppo, sac = tanh_mlp(rng), sac_like(rng)
    assert PolicyStack.of([ppo, sac]) is None and PolicyStack.of([]) is None
    with pytest.raises(ValueError, match=r"policies\[1\] has architecture"):
        PolicyStack([ppo, sac])
    with pytest.raises(ValueError, match="rows_per_policy=0 must be a positive integer"):
        PolicyStack([ppo], rows_per_policy=0)

    class Custom(PreferencePolicy):
        pass

    custom = Custom(problem_id=ppo.problem_id, preference=ppo.preference, weights=ppo.weights,
                    obs_mean=ppo.obs_mean, obs_var=ppo.obs_var)  # fmt: skip
    assert PolicyStack.of([ppo, custom]) is None  # a subclass may predict otherwise: asked one by one
    assert PolicyStack.of([ppo, ppo]) is None  # one object serving two preferences: asked in turn, not copied
    assert PolicyStack.of([ppo, tanh_mlp(rng)], rows_per_policy=np.int64(2)).num_rows == 4  # type: ignore[union-attr]


def test_evaluating_a_list_of_policies_stacked_or_one_by_one_gives_the_same_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """evaluate_front runs plain policies as one stack: the returns are bit for bit those of
    asking each policy in turn (as before the stack), episodes > 1 included."""
    from morl import evaluation

    rng = np.random.default_rng(5)
    policies = [tanh_mlp(rng, scale=0.3) for _ in range(3)]
    preferences = np.array([p.preference for p in policies])
    stacked = evaluation.evaluate_front(policies, "MO-Hopper-v2", preferences, episodes=2, workers=1)
    monkeypatch.setattr(evaluation.PolicyStack, "of", classmethod(lambda cls, policies, rows=1: None))
    one_by_one = evaluation.evaluate_front(policies, "MO-Hopper-v2", preferences, episodes=2, workers=1)
    assert stacked.episode_returns.tobytes() == one_by_one.episode_returns.tobytes()
    assert stacked.env_steps == one_by_one.env_steps > 3 * 2


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
