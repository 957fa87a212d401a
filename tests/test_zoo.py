"""The model zoo: every shipped Pareto set reproduces its recorded returns; export from a trained
Hyper-MORL keeps its policies; bad names and files are clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from pretrained_replay import isa_kind, model_sha256, replayed

import morl
import morl.zoo
from morl.agents.hyper_morl.agent import HyperMORL
from morl.agents.hyper_morl.config import HyperMORLConfig
from morl.versions import machine
from morl.zoo import DATA, MODEL_HV_TOLERANCE, PretrainedParetoSet, available

SHIPPED = available()


def test_models_ship_with_the_package_actor_only() -> None:
    """A shipped file holds the hypernetwork of the actor and the observation statistics, nothing
    else (no critic, no optimiser state), so it weighs what those arrays weigh: about 300 KiB for
    most robots, about 1 MB for Humanoid, whose actor reads 376 observations. A fixed size cap
    would have to grow with the robot; this holds for every one."""
    assert {"MO-Swimmer-v2", "MO-HalfCheetah-v2"} <= set(SHIPPED)
    for name in SHIPPED:
        path = DATA / f"{name}.npz"
        problem = morl.get_problem(name)
        env = morl.make(name)
        obs_dim, act_dim = int(np.prod(env.observation_space.shape or ())), int(np.prod(env.action_space.shape or ()))
        env.close()
        hidden = 64  # the authors' target network: two tanh layers of 64
        actor = obs_dim * hidden + hidden + hidden * hidden + hidden + hidden * act_dim + 2 * act_dim  # + log-std
        with np.load(path, allow_pickle=False) as data:
            arrays = {k for k in data.files if not k.startswith("embedding.")}
            assert arrays == {"header", "W", "b", "obs_mean", "obs_var"}, name
            assert data["W"].shape == (10, actor) and data["b"].shape == (actor,), name
            assert data["W"].dtype == np.float32 and data["obs_mean"].shape == (obs_dim,), name
            assert data["embedding.0.w"].shape[0] == problem.reward_dim, name  # takes an m-preference
            payload = sum(data[k].nbytes for k in data.files)
        assert path.stat().st_size < payload + 16 * 1024, name  # compressed: never more than its arrays


REPLAY = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "pretrained_replay.json"


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_replays_the_returns_recorded_for_this_definition(name: str) -> None:
    """A model trained on this morl's problem definition replays the returns recorded at export; one
    of another definition (morl < 0.4.0) loads with a warning naming both, and replays the returns
    that ``benchmarks/pretrained_replay.py`` recorded under today's definition.

    The actor runs in fixed-order IEEE arithmetic (morl.portable_math) and resets are seeded, so the
    returns come back to the last bits on any machine running this mujoco with the same instruction
    set: the check is tight, because a last-bit difference grows into a different gait on the
    contact-rich robots rather than into a small error that a tolerance could absorb. MuJoCo's own
    arithmetic differs with and without AVX-512 (mujoco#2659: one of Humanoid's three recorded
    preferences moves by 24 %), so a machine of another kind than the one that recorded a model's
    returns is held to the replay filed for its kind (``pretrained_replay.py --isa-replay``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = morl.pretrained(name)
    today = morl.fingerprint(name)
    record = json.loads(REPLAY.read_text())
    if model.definition_mismatch() is None:
        assert not caught
    else:
        assert len(caught) == 1 and today in str(caught[0].message) and "before fingerprints" in str(caught[0].message)
        assert record["problems"][name]["replayed_on"] == today, "rerun benchmarks/pretrained_replay.py"
    preferences, expected, recorded_on = replayed(model, record)
    here = isa_kind(machine())
    filed = record.get("replays_by_isa", {}).get(here, {}).get("problems", {}).get(name)
    if filed is not None and (filed["model_sha256"], filed["replayed_on"]) == (model_sha256(name), today):
        assert filed["preferences"] == preferences
        expected = filed["returns_today"]  # this kind of machine's own replay of this file
    elif recorded_on != "unknown" and recorded_on != here:  # "unknown": exported before exports named machines
        pytest.skip(
            f"{name}'s returns were recorded on a machine of kind {recorded_on}, this one is {here}, and no "
            "replay of this model is filed for its kind: run benchmarks/pretrained_replay.py --isa-replay"
        )
    result = model.evaluate(np.asarray(preferences))
    np.testing.assert_allclose(result.returns, expected, rtol=1e-9, atol=1e-9)
    provenance = model.provenance
    assert provenance["run_git_commit"] and provenance["total_steps"] == morl.get_problem(name).paper_budget
    assert provenance["hypervolume_of_the_model"] > (1 - MODEL_HV_TOLERANCE) * provenance["hypervolume_of_the_run"]


def test_a_model_of_this_definition_loads_without_a_warning(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = morl.pretrained("MO-Swimmer-v2")
    model.provenance = {**model.provenance, "fingerprint": morl.fingerprint("MO-Swimmer-v2")}
    model.save(tmp_path / "m.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert PretrainedParetoSet.load(tmp_path / "m.npz").definition_mismatch() is None
    model.provenance = {**model.provenance, "fingerprint": "MO-Swimmer-v2@000000000000"}
    model.save(tmp_path / "other.npz")
    with pytest.warns(UserWarning, match=r"was made on 'MO-Swimmer-v2@000000000000'; this morl defines MO-Swimmer-v2"):
        PretrainedParetoSet.load(tmp_path / "other.npz")


def test_policy_for_any_preference_is_a_standalone_policy(tmp_path: Path) -> None:
    model = morl.pretrained("morl/MO-HalfCheetah-v2")
    policy = model.policy_for([3, 7])
    np.testing.assert_allclose(policy.preference, [0.3, 0.7])
    obs = np.random.default_rng(0).normal(size=(4, 17))
    np.testing.assert_allclose(policy.predict(obs), model.predict_batch(obs, np.tile([0.3, 0.7], (4, 1))), atol=1e-5)
    policy.save(tmp_path / "p.npz")
    np.testing.assert_array_equal(morl.PreferencePolicy.load(tmp_path / "p.npz").predict(obs), policy.predict(obs))
    with pytest.raises(ValueError, match="preference"):
        model.policy_for([0.3, -0.7])


def test_export_keeps_the_agents_policies(tmp_path: Path) -> None:
    cfg = HyperMORLConfig.for_problem("MO-Hopper-v2", total_steps=4000, steps_per_env=64, envs_per_preference=2,
                                      epochs=2, minibatches=4, eval_interval=100, workers=1,
                                      update_threads=1)  # fmt: skip
    agent = HyperMORL("MO-Hopper-v2", cfg).learn(progress=False)
    PretrainedParetoSet.from_agent(agent, {"note": "test"}).save(tmp_path / "m.npz")
    model = PretrainedParetoSet.load(tmp_path / "m.npz")
    obs = np.random.default_rng(1).normal(size=(5, agent.obs_dim))
    for w in ([1.0, 0.0], [0.25, 0.75]):
        np.testing.assert_allclose(model.policy_for(w).predict(obs), agent.policy_for(w).predict(obs), atol=1e-5)
    assert model.provenance == {"note": "test"}


def test_unknown_or_unshipped_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="MO-Spider-v1"):
        morl.pretrained("MO-Spider-v1")
    # a package data folder holding one model: the others are named as not shipped (whatever ships)
    shutil.copyfile(DATA / "MO-Swimmer-v2.npz", tmp_path / "MO-Swimmer-v2.npz")
    monkeypatch.setattr(morl.zoo, "DATA", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no pretrained model ships for MO-Ant-v2; shipped: MO-Swimmer-v2$"):
        morl.pretrained("MO-Ant-v2")
    assert morl.pretrained("morl/MO-Swimmer-v2").problem_id.endswith("MO-Swimmer-v2")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04broken"])
def test_a_damaged_model_file_names_itself(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"bad\.npz' is not a morl pretrained model"):
        PretrainedParetoSet.load(path)


def test_a_policy_file_is_not_a_model(tmp_path: Path) -> None:
    morl.pretrained("MO-Swimmer-v2").policy_for([0.5, 0.5]).save(tmp_path / "policy.npz")
    with pytest.raises(ValueError, match="is not a morl pretrained model"):
        PretrainedParetoSet.load(tmp_path / "policy.npz")


@pytest.mark.slow
def test_cli_samples_a_pretrained_model_with_nothing_trained(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "morl", "sample", "pretrained:MO-Swimmer-v2", "--preference",
                           "0.3,0.7"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "episode 0: return [forward_speed=" in done.stdout
    done = subprocess.run([sys.executable, "-m", "morl", "sample", "pretrained:MO-Nope-v1", "--preference", "1,0"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "MO-Nope-v1" in done.stderr


def test_a_model_file_replays_under_todays_definition(tmp_path: Path) -> None:
    """``pretrained_replay.py --model``: any saved set (here the shipped Swimmer one, copied) on the
    paper protocol under today's definition: its record names the file and the definitions, and its
    front result is what ``authors_fronts.py --compare`` reads."""
    from authors_fronts import compare

    model = tmp_path / "swimmer.npz"
    shutil.copy(DATA / "MO-Swimmer-v2.npz", model)
    out = tmp_path / "replay.json"
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "pretrained_replay.py"
    done = subprocess.run([sys.executable, str(script), "--model", str(model), "--out", str(out)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    record = json.loads(out.read_text())
    row = record["model"]
    assert row["replayed_on"] == row["trained_on"] == morl.fingerprint("MO-Swimmer-v2") and not row["load_warning"]
    assert row["hypervolume_today"] == pytest.approx(row["hypervolume_recorded"], rel=MODEL_HV_TOLERANCE)
    front = morl.evaluation.FrontResult.load(tmp_path / record["front_result"])
    assert row["best_today"]["forward_speed"] == front.front[:, 0].max() and "HV today" in done.stdout
    summary = json.loads((script.parent / "results" / "authors_fronts.json").read_text())
    assert "best forward_speed" in compare(tmp_path / record["front_result"], summary)
    missing = subprocess.run([sys.executable, str(script), "--model", str(tmp_path / "nope.npz"), "--out", str(out)],
                             capture_output=True, text=True)  # fmt: skip
    assert missing.returncode == 2 and "no such file" in missing.stderr
