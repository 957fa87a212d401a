"""morl explore without a browser: the recording (episodes, kinematics), the page file, the
server's answers and the command line's errors. The page's drawing and controls are tested in a
real browser in test_explore_browser.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path
from threading import Thread

import mujoco
import numpy as np
import pytest

from morl.cli import main
from morl.envs.models import ROBOTS, build_model
from morl.envs.registration import make
from morl.explore import load_source, page_data, record_episode, render_page
from morl.explore.page import default_grid
from morl.explore.recording import decode, encode, kinematics, preference_grid
from morl.explore.server import ExplorerServer

pytestmark = pytest.mark.filterwarnings("ignore:.*was made on a definition:UserWarning")
SCRIPT = resources.files("morl.explore").joinpath("static", "explorer.js")
NODE = shutil.which("node")


def gymnasium_return(env, policy, seed: int) -> np.ndarray:
    """A policy's return over one episode in the plain gymnasium loop (deterministic actions)."""
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(policy.predict(obs, deterministic=True))
        total, done = total + np.asarray(reward, dtype=np.float64), terminated or truncated
    return total


def embedded(html: str) -> dict:
    """The data a page carries (its application/json script element)."""
    found = re.search(r'<script id="morl-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def cheetah() -> tuple[object, dict]:
    source, label = load_source("pretrained:MO-HalfCheetah-v2")
    return source, page_data(source, label, grid=5, seed=3)


def test_an_episode_is_the_plain_gymnasium_loops_episode(cheetah) -> None:
    """The recorded return is what a plain gymnasium loop gets for the same policy and seed, and
    the recorded qpos is the reset state followed by every step's."""
    source, _ = cheetah
    policy = source.policy_for([0.3, 0.7])
    env = make("MO-HalfCheetah-v2")
    episode = record_episode(env, policy, seed=5)
    np.testing.assert_array_equal(episode.returns, gymnasium_return(env, policy, seed=5))
    env.reset(seed=5)
    np.testing.assert_array_equal(episode.qpos[0], env.unwrapped.data.qpos.astype(np.float32))
    assert episode.qpos.shape == (env.spec.max_episode_steps + 1, 9)
    env.close()
    np.testing.assert_array_equal(decode(encode(episode.qpos), 9), episode.qpos)


def test_the_grid_is_21_preferences_for_two_objectives_and_the_tenth_simplex_for_three() -> None:
    assert len(preference_grid(2, 21)) == 21 and np.allclose(preference_grid(2, 21)[:, 0], np.linspace(1, 0, 21))
    three = preference_grid(3, 11)
    assert len(three) == 66 and np.allclose(three.sum(axis=1), 1) and np.allclose(three * 10, np.round(three * 10))
    with pytest.raises(ValueError, match="grid=1"):
        preference_grid(2, 1)


@pytest.mark.parametrize("robot", ROBOTS)
def test_the_pages_kinematics_rebuild_mujocos_body_poses(robot: str, tmp_path: Path) -> None:
    """The page's forward kinematics (explorer.js, run in node) turn recorded qpos into MuJoCo's
    own xpos and xquat: a few steps of random actions, from a random state. Where the browser
    tests are required (CI), node is too."""
    if NODE is None:
        if os.environ.get("MORL_BROWSER_TESTS") == "required":
            pytest.fail("node is not installed, and MORL_BROWSER_TESTS=required")
        pytest.skip("node is not installed (the browser tests check the kinematics of one robot)")
    model = build_model(robot)
    data = mujoco.MjData(model)
    rng = np.random.default_rng(0)
    data.qpos[:] = model.qpos0 + rng.uniform(-0.2, 0.2, model.nq)
    if model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
        data.qpos[3:7] = np.array([0.9, 0.2, -0.3, 0.1]) / np.linalg.norm([0.9, 0.2, -0.3, 0.1])
    poses, expected = [], []
    for _ in range(5):
        data.ctrl[:] = rng.uniform(-1, 1, model.nu)
        mujoco.mj_step(model, data, nstep=5)
        mujoco.mj_kinematics(model, data)  # after a step, xpos is still the last substep's start
        poses.append(data.qpos.astype(np.float32).tolist())
        expected.append((data.xpos.copy(), data.xquat.copy()))
    (tmp_path / "input.json").write_text(json.dumps({"kin": kinematics(model), "poses": poses}))
    program = (f"const e = require({str(SCRIPT)!r}); const i = require({str(tmp_path / 'input.json')!r});"
               "console.log(JSON.stringify(i.poses.map((q) => e.forwardKinematics(i.kin, q))));")  # fmt: skip
    done = subprocess.run([NODE, "-e", program], capture_output=True, text=True, check=True)
    for fk, (xpos, xquat) in zip(json.loads(done.stdout), expected, strict=True):
        np.testing.assert_allclose(fk["xpos"], xpos, atol=2e-5)  # float32 qpos
        signs = np.sign(np.sum(np.asarray(fk["xquat"]) * xquat, axis=1, keepdims=True))  # q and -q: one rotation
        np.testing.assert_allclose(np.asarray(fk["xquat"]) * signs, xquat, atol=2e-5)


def test_the_page_is_self_contained_and_carries_its_data(cheetah) -> None:
    """Style, script and data inline; a policy forbidding any request; nothing addressed outside."""
    _, data = cheetah
    html = render_page(data)
    assert "default-src 'none'" in html and "connect-src 'none'" in html  # a file asks nothing of anyone
    assert "connect-src 'self'" in render_page({**data, "serve": True})  # a served page asks its server
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", html), "an external resource"
    assert "http://" not in html and "https://" not in html
    back = embedded(html)
    assert back["problem"] == "MO-HalfCheetah-v2" and back["objectives"] == ["forward_speed", "energy_efficiency"]
    assert len(back["episodes"]) == 5 and back["non_dominated"] == data["non_dominated"]
    assert back["fingerprint"].startswith("MO-HalfCheetah-v2@") and back["serve"] is False


def test_data_cannot_end_the_script_element(cheetah) -> None:
    _, data = cheetah
    label = "run </script><script>alert(1)</script><!--<script"
    html = render_page({**data, "source": label})
    assert embedded(html)["source"] == label
    assert html.count("</script>") == 2 and "<!--" not in html  # the data's and the program's own


@pytest.mark.slow
def test_the_pretrained_pages_fit_their_budget(tmp_path: Path) -> None:
    """`morl explore pretrained:...`: the two-objective page under 5 MB with 21 preferences; a
    three-objective page records the 66 of the 0.1-step simplex by default (the browser test makes
    one of MO-Hopper-v3 on a coarser grid: the full one takes ~12 s)."""
    assert main(["explore", "pretrained:MO-HalfCheetah-v2", "--out", str(tmp_path / "c.html")]) == 0
    page = tmp_path / "c.html"
    assert page.stat().st_size < 5 * 2**20 and len(embedded(page.read_text())["episodes"]) == 21
    assert len(preference_grid(3, default_grid(3))) == 66 and default_grid(2) == 21


def test_an_off_grid_preference_is_recorded_and_shown_first(tmp_path: Path) -> None:
    out = tmp_path / "x.html"
    assert main(["explore", "pretrained:MO-Swimmer-v2", "--out", str(out), "--grid", "3", "--preference", "1,3"]) == 0
    data = embedded(out.read_text())
    assert [e["preference"] for e in data["episodes"]][-1] == [0.25, 0.75] and data["initial"] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nowhere/run"], "no such run directory or checkpoint"),
        (["pretrained:MO-Nothing-v0"], "MO-Nothing-v0"),
        (["pretrained:MO-Swimmer-v2", "--preference", "0.2,0.3,0.5"], "has length 3; expected 2 weights"),
        (["pretrained:MO-Swimmer-v2", "--preference=-1,2"], "negative entries"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.html"
    out.write_text("kept")
    assert main(["explore", *argv, "--out", str(out), "--grid", "2"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("morl explore: error:") and message in error and error.count("\n") == 1
    assert out.read_text() == "kept"  # nothing half-written


def test_a_foreign_file_as_source_is_refused(tmp_path: Path, capsys) -> None:
    foreign = tmp_path / "checkpoint.pt"
    foreign.write_bytes(b"not a checkpoint")
    assert main(["explore", str(foreign), "--out", str(tmp_path / "x.html")]) == 2
    assert "not a readable morl checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_an_unwritable_target_is_refused_before_recording(tmp_path: Path, capsys) -> None:
    assert main(["explore", "pretrained:MO-Swimmer-v2", "--out", str(tmp_path / "no" / "x.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["explore", "pretrained:MO-Swimmer-v2", "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["explore", "pretrained:MO-Swimmer-v2"]) == 2  # neither --out nor --serve
    assert "--serve" in capsys.readouterr().err


@pytest.fixture()
def server(cheetah):
    source, _ = cheetah
    running = ExplorerServer(source, seed=3, port=0, page="<html>page</html>")
    thread = Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_server_answers_any_preference_and_names_a_bad_one(server, cheetah) -> None:
    source, _ = cheetah
    assert server.server_address[0] == "127.0.0.1" and server.url.startswith("http://127.0.0.1:")
    assert _get(server.url) == (200, b"<html>page</html>")
    status, body = _get(server.url + "api/episode?preference=0.37,0.63")
    assert status == 200
    answer = json.loads(body)
    env = make("MO-HalfCheetah-v2")
    expected = gymnasium_return(env, source.policy_for([0.37, 0.63]), seed=3)
    env.close()
    np.testing.assert_allclose(answer["returns"], expected, atol=1e-3)
    assert decode(answer["qpos"], 9).shape == (answer["steps"] + 1, 9)
    for query, message in [("preference=1,2,3", "length"), ("preference=a,b", "comma-separated"), ("", "missing")]:
        status, body = _get(server.url + "api/episode?" + query)
        assert status == 400 and message in json.loads(body)["error"]
    assert _get(server.url + "elsewhere")[0] == 404


def test_a_failing_episode_is_a_500_and_the_server_goes_on(server, monkeypatch) -> None:
    def broken(preference):
        raise RuntimeError("the policy's library failed")

    monkeypatch.setattr(server.source, "policy_for", broken)
    status, body = _get(server.url + "api/episode?preference=0.5,0.5")
    assert status == 500 and "RuntimeError: the policy's library failed" in json.loads(body)["error"]
    monkeypatch.undo()
    assert _get(server.url + "api/episode?preference=0.5,0.5")[0] == 200


def test_a_port_in_use_is_named(cheetah) -> None:
    source, _ = cheetah
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match=rf"--port {port}: already in use on 127\.0\.0\.1"):
            ExplorerServer(source, seed=0, port=port)
