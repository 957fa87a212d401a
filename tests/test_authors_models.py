"""Replaying the authors' trained models: their files read as data, their hypernetwork's θ cut in
their order, and a replay that gives exactly what the same policies give through morl.

The authors' files are not in this repository (no licence), so the files here are made in their
formats: a shipped morl set, whose hypernetwork is the same function, written out as the authors'
state dict (their parameter names and order, a critic between actor and action head) and
normaliser pickle (their class names), must replay to the returns of the set's own policies."""

from __future__ import annotations

import io
import json
import pickle
import sys
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from authors_fronts import SUMMARY
from authors_models import RECORD, AuthorsHypernet, load_normalization, replay_seed

from morl.envs.fingerprint import fingerprint
from morl.evaluation import evaluate_front
from morl.zoo import PretrainedParetoSet, pretrained

HIDDEN = 64


def _authors_pickle(mean: np.ndarray, var: np.ndarray) -> bytes:
    """A normaliser pickled as the authors' code pickled it: utils.NormalizationRecorder holding
    baselines' RunningMeanStd objects (stand-in classes under those module names, removed after)."""
    names = ("utils", "baselines", "baselines.common", "baselines.common.running_mean_std")
    modules = {name: types.ModuleType(name) for name in names}
    recorder_cls = type("NormalizationRecorder", (), {"__module__": "utils"})
    stats_cls = type("RunningMeanStd", (), {"__module__": "baselines.common.running_mean_std"})
    modules["utils"].NormalizationRecorder = recorder_cls  # type: ignore[attr-defined]
    modules["baselines.common.running_mean_std"].RunningMeanStd = stats_cls  # type: ignore[attr-defined]
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        ob, obj = stats_cls(), stats_cls()
        ob.__dict__.update(mean=mean, var=var, count=1234.0)
        obj.__dict__.update(mean=np.zeros(2), var=np.ones(2), count=99.0)
        recorder = recorder_cls()
        recorder.__dict__.update(norm={"ob_rms": ob, "obj_rms": obj})
        return pickle.dumps(recorder, protocol=4)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name)
            else:
                sys.modules[name] = module


def _authors_state(shipped: PretrainedParetoSet, m: int) -> OrderedDict[str, torch.Tensor]:
    """A shipped set's hypernetwork as the authors' state dict: their names, their θ order (actor,
    critic, value head, action mean, log-std (A, 1)), the critic's columns zero."""
    layers = dict(shipped.segments)
    obs_dim, action_dim = layers["actor.0.weight"][1], layers["actor.2.weight"][0]
    ours = {"actor.0.weight": "base.actor.0.weight", "actor.0.bias": "base.actor.0.bias",
            "actor.1.weight": "base.actor.2.weight", "actor.1.bias": "base.actor.2.bias",
            "actor.2.weight": "dist.fc_mean.weight", "actor.2.bias": "dist.fc_mean.bias",
            "log_std": "dist.logstd._bias"}  # fmt: skip
    theirs = [("base.actor.0.weight", (HIDDEN, obs_dim)), ("base.actor.0.bias", (HIDDEN,)),
              ("base.actor.2.weight", (HIDDEN, HIDDEN)), ("base.actor.2.bias", (HIDDEN,)),
              ("base.critic.0.weight", (HIDDEN, obs_dim)), ("base.critic.0.bias", (HIDDEN,)),
              ("base.critic.2.weight", (HIDDEN, HIDDEN)), ("base.critic.2.bias", (HIDDEN,)),
              ("base.critic_linear.weight", (m, HIDDEN)), ("base.critic_linear.bias", (m,)),
              ("dist.fc_mean.weight", (action_dim, HIDDEN)), ("dist.fc_mean.bias", (action_dim,)),
              ("dist.logstd._bias", (action_dim, 1))]  # fmt: skip
    offsets, at = {}, 0
    for name, shape in shipped.segments:
        offsets[ours[name]] = (at, int(np.prod(shape)))
        at += int(np.prod(shape))
    columns_w, columns_b = [], []
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for name, shape in theirs:
        size = int(np.prod(shape))
        state[f"target_policy.{name}"] = torch.zeros(shape, dtype=torch.float64)
        if name in offsets:
            start, length = offsets[name]
            columns_w.append(shipped.W[:, start : start + length])
            columns_b.append(shipped.b[start : start + length])
        else:
            columns_w.append(np.zeros((shipped.W.shape[0], size)))
            columns_b.append(np.zeros(size))
    for i, (weight, bias) in enumerate(shipped.embedding):  # morl keeps (in, out); torch (out, in)
        state[f"hypernet.pref_mlp.{2 * i}.weight"] = torch.from_numpy(np.ascontiguousarray(weight.T))
        state[f"hypernet.pref_mlp.{2 * i}.bias"] = torch.from_numpy(bias.copy())
    state["hypernet.W"] = torch.from_numpy(np.concatenate(columns_w, axis=1))
    state["hypernet.b"] = torch.from_numpy(np.concatenate(columns_b))
    return state


@pytest.fixture(scope="module")
def authors_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work tree laid out as the authors' repository, with the shipped Swimmer set as seed 0."""
    repo = tmp_path_factory.mktemp("Hyper-MORL")
    folder = repo / "pretrained/MO-Swimmer-v2/Hyper-MORL/default/0/final"
    folder.mkdir(parents=True)
    shipped = pretrained("MO-Swimmer-v2")
    buffer = io.BytesIO()
    torch.save(_authors_state(shipped, 2), buffer)
    (folder / "policy.pt").write_bytes(buffer.getvalue())
    (folder / "normalization.pkl").write_bytes(_authors_pickle(shipped.obs_mean, shipped.obs_var))
    (folder / "objs.txt").write_text("hv=123.5\ntime=60.0\n10.0,1.0\n5.0,5.0\n1.0,10.0\n")
    return repo


def test_a_replay_gives_what_the_same_policies_give_through_morl(authors_repo: Path) -> None:
    preferences = np.array([[1.0, 0.0], [0.7, 0.3], [0.4, 0.6], [0.0, 1.0]])
    row = replay_seed(authors_repo, "MO-Swimmer-v2", 0, preferences=preferences)
    shipped = pretrained("MO-Swimmer-v2")
    direct = evaluate_front([shipped.policy_for(w) for w in preferences], "MO-Swimmer-v2", preferences, workers=1)
    assert row["replayed_hv"] == pytest.approx(direct.metrics.hypervolume, rel=1e-9)
    np.testing.assert_allclose(row["replayed"]["best"], direct.returns.max(axis=0), rtol=1e-9)
    assert row["recorded_hv"] == 123.5 and row["recorded"]["best"] == [10.0, 10.0]
    assert row["replayed_over_recorded"] == pytest.approx(row["replayed_hv"] / 123.5)
    assert row["replay_env_steps"] == 4 * 500  # Swimmer never terminates: the time limit


def test_the_normaliser_is_read_without_the_authors_classes() -> None:
    mean, var = np.arange(3.0), np.array([1.0, 2.0, 3.0])
    got_mean, got_var = load_normalization(_authors_pickle(mean, var), "normalization.pkl")
    np.testing.assert_array_equal(got_mean, mean)
    np.testing.assert_array_equal(got_var, var)


def test_a_pickle_that_would_run_code_is_refused_by_name() -> None:
    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return (os.system, ("true",))

    with pytest.raises(ValueError, match=r"evil\.pkl: .*(posix|os)\.system is not allowed"):
        load_normalization(pickle.dumps(Payload()), "evil.pkl")
    with pytest.raises(ValueError, match=r"n\.pkl: not an observation normaliser"):
        load_normalization(pickle.dumps({"norm": {}}), "n.pkl")


def test_a_foreign_model_file_is_named(authors_repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pretrained/MO-Swimmer-v2/Hyper-MORL/default/0/final"
    folder.mkdir(parents=True)
    for name in ("normalization.pkl", "objs.txt"):
        (folder / name).write_bytes((authors_repo / folder.relative_to(tmp_path) / name).read_bytes())
    (folder / "policy.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match=r"final/policy\.pt: not a state dict torch reads with weights_only"):
        replay_seed(tmp_path, "MO-Swimmer-v2", 0)
    buffer = io.BytesIO()
    torch.save([torch.zeros(2)], buffer)
    (folder / "policy.pt").write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match=r"final/policy\.pt: holds a list; expected the authors' state dict"):
        replay_seed(tmp_path, "MO-Swimmer-v2", 0)


def test_theta_is_cut_in_the_authors_order() -> None:
    """W = 0: θ(ω) = b for every ω, so each actor array must be b's slice at its place among the
    critic's; the log-std comes back flat."""
    shapes = [("base.actor.0.weight", (2, 3)), ("base.actor.0.bias", (2,)), ("base.actor.2.weight", (2, 2)),
              ("base.actor.2.bias", (2,)), ("base.critic.0.weight", (2, 3)), ("dist.fc_mean.weight", (1, 2)),
              ("dist.fc_mean.bias", (1,)), ("dist.logstd._bias", (1, 1))]  # fmt: skip
    total = sum(int(np.prod(s)) for _, s in shapes)
    b = torch.arange(total, dtype=torch.float64)
    state: OrderedDict[str, torch.Tensor] = OrderedDict((f"target_policy.{n}", torch.zeros(s)) for n, s in shapes)
    for i, (fan_in, fan_out) in enumerate([(2, 4), (4, 4), (4, 3)]):
        state[f"hypernet.pref_mlp.{2 * i}.weight"] = torch.ones(fan_out, fan_in)
        state[f"hypernet.pref_mlp.{2 * i}.bias"] = torch.zeros(fan_out)
    state["hypernet.W"], state["hypernet.b"] = torch.zeros(3, total), b
    actor = AuthorsHypernet(state, "policy.pt").actor(np.array([0.5, 0.5]))
    np.testing.assert_array_equal(actor["actor.0.weight"], np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(actor["actor.1.bias"], [12.0, 13.0])
    np.testing.assert_array_equal(actor["actor.2.weight"], [[20.0, 21.0]])  # after the critic's 6
    np.testing.assert_array_equal(actor["log_std"], [23.0])
    state["hypernet.b"] = b[:-1]
    with pytest.raises(ValueError, match=r"policy\.pt: the target network has 24 parameters but W is \(3, 24\)"):
        AuthorsHypernet(state, "policy.pt")
    del state["hypernet.W"]
    with pytest.raises(ValueError, match=r"policy\.pt: not the authors' Hyper-MORL state dict \(no hypernet\.W\)"):
        AuthorsHypernet(state, "policy.pt")


def test_the_committed_record_is_of_todays_definitions_and_the_authors_numbers() -> None:
    """Each replay in ``benchmarks/results/authors_models.json`` ran on today's definition of its
    problem (a change of physics makes it stale: rerun the script), its recorded hypervolumes are
    the authors' own (as ``authors_fronts.json`` has them from the same files) and its ratios are
    its numbers'."""
    record = json.loads(RECORD.read_text())
    fronts = json.loads(SUMMARY.read_text())["problems"]
    assert record["problems"], "no problem replayed"
    for problem, entry in record["problems"].items():
        assert entry["fingerprint"] == fingerprint(problem), f"{problem}: replayed on another definition; rerun"
        assert entry["seeds"] or entry["skipped"]
        theirs = {s["seed"]: s["hv"] for s in fronts[problem]["seeds"]}
        for row in entry["seeds"]:
            assert row["recorded_hv"] == pytest.approx(theirs[row["seed"]], rel=1e-9)
            assert row["replayed_over_recorded"] == pytest.approx(row["replayed_hv"] / row["recorded_hv"])
            assert row["replay_env_steps"] > 0
    for problem, entry in record.get("todays_compiler", {}).items():  # the ablation: another definition
        assert entry["fingerprint"].startswith(f"{problem}@") and entry["fingerprint"] != fingerprint(problem)
        theirs = {s["seed"]: s["hv"] for s in fronts[problem]["seeds"]}
        assert all(row["recorded_hv"] == pytest.approx(theirs[row["seed"]], rel=1e-9) for row in entry["seeds"])
