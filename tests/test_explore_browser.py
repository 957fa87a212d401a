"""The explorer page in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by Selenium. The page loads from ``file://`` with no console error and
no request; the preference control shows the recorded episode and highlights its point; the
animation runs at 30 fps or better; the robot is drawn inside the frame and matches MuJoCo's own
rendering of the same pose; the served page answers a preference off the grid."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mujoco
import numpy as np
import pytest

from morl.cli import main
from morl.envs.models import ROBOTS, build_model
from morl.envs.registration import make
from morl.explore.recording import VIEWS, kinematics
from morl.zoo import pretrained
from tests.test_explore import gymnasium_return

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    if os.environ.get("MORL_BROWSER_TESTS") == "required":
        raise RuntimeError("MORL_BROWSER_TESTS=required but chromium or chromedriver is not installed")
    pytest.skip("Chromium and its chromedriver are not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)  # fmt: skip

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# serial: one Chromium for the file, and its frame-rate check measures wall-clock, so not beside another test.
pytestmark = [pytest.mark.browser, pytest.mark.serial,
              pytest.mark.filterwarnings("ignore:.*was made on a definition:UserWarning")]  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def cheetah_page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("explore") / "cheetah.html"
    assert main(["explore", "pretrained:MO-HalfCheetah-v2", "--out", str(out)]) == 0
    return out


def _open(browser, url: str) -> dict:
    browser.get(url)
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return !!(window.morlExplorer && morlExplorer.app)"))
    browser.get_log("performance")  # from here on: what the page does after loading
    return browser.execute_script("return JSON.parse(document.getElementById('morl-data').textContent)")


def shown(readout: str) -> dict[str, float]:
    """The return vector a readout shows (``name = value`` pairs, one decimal: JavaScript rounds a
    half up where Python's format rounds it to even, so they are compared as numbers)."""
    return {name: float(value) for name, value in re.findall(r"(\w+) = (-?[\d.]+)", readout)}


def _png(data_url: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def test_the_page_opens_offline_with_no_error_and_no_request(browser, cheetah_page: Path) -> None:
    browser.get(cheetah_page.as_uri())
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return !!(window.morlExplorer && morlExplorer.app)"))
    time.sleep(1.0)  # a frame or sixty: anything the page would fetch, it has asked for by now
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    requests = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    urls = [r["params"]["request"]["url"] for r in requests if r["method"] == "Network.requestWillBeSent"]
    assert urls and all(u == cheetah_page.as_uri() or u.startswith("data:") for u in urls), urls


def test_the_slider_shows_the_recorded_return_and_highlights_its_point(browser, cheetah_page: Path) -> None:
    data = _open(browser, cheetah_page.as_uri())
    slider = browser.find_element(By.ID, "pref-slider")
    slider.send_keys(Keys.HOME)  # all weight on the second objective
    for presses, weight in ((0, 0.0), (3, 0.15)):
        for _ in range(presses):
            slider.send_keys(Keys.ARROW_RIGHT)  # a step of the grid (0.05)
        index = next(i for i, e in enumerate(data["episodes"]) if abs(e["preference"][0] - weight) < 1e-9)
        returns = data["episodes"][index]["returns"]
        text = browser.find_element(By.ID, "return-readout").text
        assert shown(text) == pytest.approx({"forward_speed": returns[0], "energy_efficiency": returns[1]}, abs=0.051)
        assert f"{weight:.3f}" in browser.find_element(By.ID, "pref-readout").text
        assert browser.execute_script("return morlExplorer.app.currentIndex") == index
        # the ring around the chosen point: black pixels on the circle of radius 9 around it
        x, y = browser.execute_script("return morlExplorer.app.fronts[0].px(...arguments[0])", returns)
        front = _png(browser.execute_script("return morlExplorer.app.fronts[0].canvas.toDataURL()"))
        ring = [front[round(y + 9 * np.sin(a)), round(x + 9 * np.cos(a))].max() for a in np.linspace(0, 2 * np.pi, 16)]
        assert np.median(ring) < 60, ring


def test_the_animation_plays_at_30_fps_and_the_robot_is_in_the_frame(browser, cheetah_page: Path) -> None:
    _open(browser, cheetah_page.as_uri())
    before = browser.execute_script("return [morlExplorer.app.framesDrawn, morlExplorer.app.stepShown]")
    time.sleep(2.0)
    after = browser.execute_script("return [morlExplorer.app.framesDrawn, morlExplorer.app.stepShown]")
    assert (after[0] - before[0]) / 2.0 >= 30, "frames per second"
    assert after[1] > before[1], "the episode's clock advances"
    browser.find_element(By.ID, "play").click()  # pause: the clock stops
    paused = browser.execute_script("return morlExplorer.app.stepShown")
    time.sleep(0.3)
    assert browser.execute_script("return morlExplorer.app.stepShown") == paused
    image = _png(browser.execute_script("return document.getElementById('robot').toDataURL()"))
    # the robot's colours: neither the white sky, nor the grey floor and its lines
    robot = np.abs(image.astype(int) - image.mean(axis=2, keepdims=True)).max(axis=2) > 12
    rows, cols = np.nonzero(robot)
    assert robot.sum() > 500, "the robot is drawn"
    assert rows.min() > 2 and cols.min() > 2 and rows.max() < image.shape[0] - 3 and cols.max() < image.shape[1] - 3
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20, "not a blank frame"
    browser.save_screenshot(str(cheetah_page.with_suffix(".png")))
    assert cheetah_page.with_suffix(".png").stat().st_size > 20_000


@pytest.mark.parametrize("robot", ROBOTS)
def test_the_pages_drawing_of_a_pose_is_mujocos(browser, cheetah_page: Path, robot: str) -> None:
    """A random pose drawn by the page (silhouette: black robot on white) beside MuJoCo's own
    orthographic rendering of it from the same camera (segmentation: the robot's geoms): the two
    silhouettes overlap (intersection over union)."""
    model = build_model(robot)
    data = mujoco.MjData(model)
    rng = np.random.default_rng(1)
    data.qpos[:] = model.qpos0 + rng.uniform(-0.3, 0.3, model.nq)
    if model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
        data.qpos[3:7] = np.array([0.95, 0.1, 0.2, 0.05]) / np.linalg.norm([0.95, 0.1, 0.2, 0.05])
    mujoco.mj_forward(model, data)
    view, width, height = VIEWS[robot], 400, 300
    centre = [float(data.xpos[1][0]), float(data.xpos[1][1]), view.height]
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_FREE
    camera.orthographic = 1  # the free camera's fovy is then the view's height in metres
    camera.lookat[:], camera.distance = centre, 10.0
    camera.azimuth, camera.elevation = view.azimuth, view.elevation
    model.vis.global_.fovy = view.extent
    with mujoco.Renderer(model, height, width) as renderer:
        renderer.enable_segmentation_rendering()
        renderer.update_scene(data, camera)
        segments = renderer.render()
    floor = [g for g in range(model.ngeom) if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_PLANE]
    theirs = (segments[..., 1] == mujoco.mjtObj.mjOBJ_GEOM) & ~np.isin(segments[..., 0], floor)
    _open(browser, cheetah_page.as_uri())
    drawn = browser.execute_script(
        "const c = document.createElement('canvas'); c.width = arguments[3]; c.height = arguments[4];"
        "morlExplorer.renderPose(c, arguments[0], arguments[1], arguments[2], arguments[5], true);"
        "return c.toDataURL();",
        kinematics(model), data.qpos.tolist(), VIEWS[robot].__dict__, width, height, centre,
    )  # fmt: skip
    ours = _png(drawn).mean(axis=2) < 128
    assert theirs.sum() > 1000
    assert (ours & theirs).sum() / (ours | theirs).sum() > 0.95


def test_the_triangle_picks_a_three_objective_preference(browser, tmp_path: Path) -> None:
    out = tmp_path / "hopper.html"
    assert main(["explore", "pretrained:MO-Hopper-v3", "--out", str(out), "--grid", "5"]) == 0
    data = _open(browser, out.as_uri())
    triangle = browser.find_element(By.ID, "pref-triangle")
    corner = browser.execute_script("return morlExplorer.app.triangle.corners[1]")  # jump_height's corner
    size = triangle.size
    x = corner[0] * size["width"] / 300 - size["width"] / 2 + 2  # offsets from the element's centre
    y = corner[1] * size["height"] / 270 - size["height"] / 2 - 1
    ActionChains(browser).move_to_element_with_offset(triangle, x, y).click().perform()
    index = next(i for i, e in enumerate(data["episodes"]) if e["preference"] == [0.0, 1.0, 0.0])
    assert browser.execute_script("return morlExplorer.app.currentIndex") == index
    returns = data["episodes"][index]["returns"]
    assert shown(browser.find_element(By.ID, "return-readout").text)["jump_height"] == pytest.approx(
        returns[1], abs=0.051
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, "canvas.front")) == 3


@pytest.fixture()
def served():
    command = [sys.executable, "-m", "morl", "explore", "pretrained:MO-HalfCheetah-v2", "--serve", "--port", "0",
               "--grid", "5"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("serving http://127.0.0.1:"), line
        yield line.split()[1]
        process.send_signal(signal.SIGINT)  # Ctrl-C: the way to stop it, a normal end
        assert process.wait(timeout=30) == 0 and "server stopped" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_served_page_computes_a_preference_off_the_grid(browser, served: str) -> None:
    _open(browser, served)
    browser.execute_script(
        "const s = document.getElementById('pref-slider'); s.value = '0.37'; s.dispatchEvent(new Event('input'));"
    )
    WebDriverWait(browser, 60).until(lambda d: "computed on demand" in d.find_element(By.ID, "status").text)
    env = make("MO-HalfCheetah-v2")
    expected = gymnasium_return(env, pretrained("MO-HalfCheetah-v2").policy_for([0.37, 0.63]), seed=0)
    env.close()
    text = browser.find_element(By.ID, "return-readout").text
    assert shown(text) == pytest.approx({"forward_speed": expected[0], "energy_efficiency": expected[1]}, abs=0.051)
    assert browser.execute_script("return morlExplorer.app.chosen.steps") > 0
    port = int(served.rstrip("/").rsplit(":", 1)[1])
    assert _listening(port) == ["127.0.0.1"]  # nothing listens on the machine's other interfaces


def _listening(port: int) -> list[str]:
    """The addresses with a socket listening on ``port`` (the kernel's own table, /proc/net/tcp
    and tcp6: whatever the host's interfaces are, a socket bound to 0.0.0.0 would show)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)  # IPv4: one little-endian word
                found.append(socket.inet_ntoa(raw[::-1]) if len(raw) == 4 else f"IPv6 {address}")
    return found


def test_the_pages_kinematics_in_the_browser_are_mujocos(browser, cheetah_page: Path) -> None:
    """The page's forward kinematics against MuJoCo's xpos, in the browser itself (the node test
    skips where node is absent)."""
    model = build_model("humanoid")
    data = mujoco.MjData(model)
    data.qpos[:] = model.qpos0 + np.random.default_rng(2).uniform(-0.3, 0.3, model.nq)
    data.qpos[3:7] /= np.linalg.norm(data.qpos[3:7])
    mujoco.mj_kinematics(model, data)
    _open(browser, cheetah_page.as_uri())
    fk = browser.execute_script("return morlExplorer.forwardKinematics(arguments[0], arguments[1])",
                                kinematics(model), data.qpos.tolist())  # fmt: skip
    np.testing.assert_allclose(fk["xpos"], data.xpos, atol=1e-6)  # the model's offsets are sent to 6 digits
    signs = np.sign(np.sum(np.asarray(fk["xquat"]) * data.xquat, axis=1, keepdims=True))  # q and -q: one rotation
    np.testing.assert_allclose(np.asarray(fk["xquat"]) * signs, data.xquat, atol=1e-6)
