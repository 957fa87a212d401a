"""``morl bench``: a tiny end-to-end bench through the CLI, its report, skipping and resuming on
re-run, a failing run recorded while the others finish, and bad input."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import morl
from morl.agents import get_agent
from morl.bench.aggregate import iqm, normalized_scores, performance_profile, stratified_iqm
from morl.bench.latex import escape, mean_pm_std
from morl.bench.plan import (
    describe_run,
    merge_overrides,
    parse_overrides,
    plan_runs,
    read_overrides,
    resources,
    write_plan,
)
from morl.bench.report import report
from morl.bench.runner import RECORD_FORMAT, _read_record, bench, record_path
from morl.bench.status import RunStatus, bench_status
from morl.cli import main
from morl.cores import available_cores
from morl.run_files import DirectoryLock

PROBLEM = "MO-Hopper-v2"
TINY = {
    "hyper-morl": ["steps_per_env=64", "envs_per_preference=2", "epochs=2", "minibatches=4", "eval_interval=4",
                   "eval_splits=4"],
    "conditioned-ppo": ["steps_per_env=64", "num_envs=8", "epochs=2", "minibatches=4", "eval_interval=4",
                        "eval_splits=4"],
}  # fmt: skip


def sets(agents: list[str]) -> list[str]:
    return [f"--set={a}.{item}" for a in agents for item in TINY[a]]


def overrides(agents: list[str]) -> dict[str, dict[str, Any]]:
    return parse_overrides([f"{a}.{item}" for a in agents for item in TINY[a]])


@pytest.mark.slow
@pytest.mark.serial  # --jobs 2 needs two cores: a pinned test worker has one (tests/conftest.py)
def test_a_tiny_bench_end_to_end_with_its_report_and_skip_on_rerun(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "bench"
    # hyper-morl's settings from a TOML file, conditioned-ppo's from --set, which wins over the file
    settings = tmp_path / "settings.toml"
    toml = "\n".join(item.replace("=", " = ") for item in TINY["hyper-morl"])
    settings.write_text(f"[hyper-morl]\n{toml}\n\n[conditioned-ppo]\nsteps_per_env = 32\n")
    args = ["bench", "run", "--agents", "hyper-morl,conditioned-ppo", "--problems", PROBLEM, "--seeds", "2",
            "--steps", "6000", "--jobs", "2", "--out", str(out), "--overrides", str(settings),
            *sets(["conditioned-ppo"])]  # fmt: skip
    assert main(args) == 0
    assert "4 runs, 0 finished before, 4 to run, 2 at a time" in capsys.readouterr().out
    records = [json.loads(p.read_text()) for p in sorted((out / "records").glob("*.json"))]
    assert len(records) == 4 and all(r["status"] == "finished" for r in records)
    for record in records:
        assert record["training_env_steps"] <= 6000 and record["metrics"]["hypervolume"] >= 0
        assert record["config"]["workers"] == 1 and record["config"]["update_threads"] >= 1  # a share of the cores
        assert record["versions"]["morl"] and record["machine"]["cores"] and record["trajectory"]
        assert record["machine"]["cpu"] and "torch_cpu_capability" in record["machine"]  # float paths differ by CPU
        assert record["config"]["steps_per_env"] == 64  # the file's and --set's overrides reached the config
        evaluation = record["evaluation"]  # every evaluated policy: the grid's 4+1 preferences
        assert len(evaluation["preferences"]) == len(evaluation["returns"]) >= len(record["front"])
    sizes = {r["agent"]: r["parameters"] for r in records}  # a hypernetwork's W alone is 10 x P
    assert sizes["conditioned-ppo"] > 0 and sizes["hyper-morl"] > 10 * sizes["conditioned-ppo"]
    assert main(["bench", "report", str(out)]) == 0
    text = capsys.readouterr().out
    assert "## MO-Hopper-v2" in text and "| hyper-morl | 2 |" in text and "| conditioned-ppo | 2 |" in text
    assert "| parameters |" in text and f"| {sizes['hyper-morl']:,} |" in text
    assert (out / "report.md").read_text() == text.split("\nreport written to")[0]
    for figure in ("MO-Hopper-v2-hypervolume.png", "MO-Hopper-v2-fronts.png", "MO-Hopper-v2-returns.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({figure})" in text
    page = (out / "report.html").read_text()  # self-contained: the figures inline, nothing fetched
    assert page.count("data:image/png;base64,") == 3 and "<table>" in page and "<td>hyper-morl</td>" in page
    assert 'src="http' not in page and '.png"' not in page
    assert "hyper-morl & 2 &" in (out / "report.tex").read_text()  # and the tables as LaTeX
    for agent in ("hyper-morl", "conditioned-ppo"):  # each agent's best seed, to pick a trade-off by looking
        best = max((r for r in records if r["agent"] == agent), key=lambda r: r["metrics"]["hypervolume"])
        explorer = out / "explorers" / f"MO-Hopper-v2-{agent}-seed{best['seed']}.html"
        assert explorer.stat().st_size > 10_000 and f"](explorers/{explorer.name})" in text
    assert [s.state for s in bench_status(out)] == ["finished"] * 4  # plan.json lists the four
    assert main(args) == 0  # the same bench again: nothing left to run
    assert "4 runs, 4 finished before, 0 to run" in capsys.readouterr().out


@pytest.mark.slow
def test_an_interrupted_run_resumes_and_ends_as_an_uninterrupted_one(tmp_path: Path) -> None:
    runs = plan_runs(["conditioned-ppo"], [PROBLEM], [0], 6000, overrides(["conditioned-ppo"]))
    whole = bench(runs, tmp_path / "whole", report=lambda _: None)[0]
    run = runs[0]
    cls = get_agent(run.agent)
    partial = cls(run.problem, run.config(**resources(1)))
    partial.learn(out_dir=tmp_path / "cut" / "runs" / run.key, progress=False, callback=lambda *_: False)
    assert 0 < partial.env_steps < whole["training_env_steps"]
    (state,) = bench_status(tmp_path / "cut")  # no plan.json there: the run directory tells
    assert state.state == "interrupted" and f"{partial.env_steps:,} / 6,000 env steps" in state.detail
    assert "resumes from its last checkpoint" in state.detail
    resumed = bench(runs, tmp_path / "cut", report=lambda _: None)[0]
    assert resumed["training_env_steps"] == whole["training_env_steps"]
    assert resumed["metrics"] == whole["metrics"]  # resumed bit for bit


def test_a_run_whose_process_died_is_recorded_failed_with_its_provenance(tmp_path: Path) -> None:
    run = plan_runs(["hyper-morl"], [PROBLEM], [0], 4000)[0]
    record = _read_record(tmp_path, run, -9, started=0.0, command="morl bench --agents hyper-morl")
    assert record["status"] == "failed" and "exited with status -9 without a record" in record["error"]
    assert list(record)[:4] == ["format", "git_commit", "versions", "command"]  # provenance first, as for any record
    assert record["versions"]["morl"] and record["command"] == "morl bench --agents hyper-morl"
    assert json.loads(record_path(tmp_path, run).read_text()) == record


@pytest.mark.slow
def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    good = plan_runs(["hyper-morl"], [PROBLEM], [0], 4000, overrides(["hyper-morl"]))
    # a config that is valid but cannot be planned at this budget: fails when training starts
    bad = plan_runs(["conditioned-ppo"], [PROBLEM], [0], 4000, {"conditioned-ppo": {"minibatches": 100_000}})
    records = bench(bad + good, tmp_path, report=lambda _: None)
    assert [r["status"] for r in records] == ["failed", "finished"]
    assert "minibatches=100000 exceeds" in records[0]["error"]
    assert "Failed runs" in report(tmp_path) and "minibatches=100000" in report(tmp_path)
    states = {s.key: s for s in bench_status(tmp_path)}
    assert states[bad[0].key].state == "failed" and "minibatches=100000" in states[bad[0].key].detail
    assert states[good[0].key].state == "finished" and states[good[0].key].detail.startswith("HV ")
    again = bench(bad + good, tmp_path, report=lambda _: None)  # the failed run is tried again, not the finished
    assert [r["agent"] for r in again] == ["conditioned-ppo"]
    assert json.loads(record_path(tmp_path, good[0]).read_text())["status"] == "finished"


@pytest.mark.slow
@pytest.mark.serial  # a local Ray instance starts a dozen processes: alone, not beside another test
def test_a_bench_on_a_local_ray_instance(tmp_path: Path, capsys: Any) -> None:
    """--ray local through the CLI: each run a Ray task with its CPU request, records written by
    the driver, a failing run recorded while the other finishes, a re-run skips the finished one,
    and the report reads the records as a local bench's."""
    pytest.importorskip("ray")  # installed with the dev extra; skipped only where someone removed it
    out = tmp_path / "bench"
    args = ["bench", "run", "--agents", "conditioned-ppo,hyper-morl", "--problems", PROBLEM, "--seeds", "1", "--steps",
            "4000", "--ray", "local", "--cpus-per-run", "1", "--out", str(out), *sets(["hyper-morl"]),
            *sets(["conditioned-ppo"]), "--set=conditioned-ppo.minibatches=100000"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    cores = available_cores()
    assert f"bench on Ray (local, {cores} CPUs): 2 runs, 0 finished before, 2 to run, 1 CPUs each" in printed
    records = {r["agent"]: r for r in (json.loads(p.read_text()) for p in (out / "records").glob("*.json"))}
    assert records["hyper-morl"]["status"] == "finished" and records["hyper-morl"]["training_env_steps"] <= 4000
    assert records["hyper-morl"]["config"]["workers"] == 1 and records["hyper-morl"]["parameters"] > 0
    assert records["conditioned-ppo"]["status"] == "failed"
    assert "minibatches=100000 exceeds" in records["conditioned-ppo"]["error"]
    assert (out / "runs").is_dir()  # the task's run directory: this machine is the node
    assert main(["bench", "report", str(out)]) == 0 and "| hyper-morl | 1 |" in capsys.readouterr().out
    assert main(args) == 0  # the finished run is skipped, the failed one tried again
    assert "2 runs, 1 finished before, 1 to run" in capsys.readouterr().out


def listening_sockets(pids: set[int]) -> list[tuple[str, int, str]]:
    """The TCP sockets that processes ``pids`` listen on: (address, port, process name)."""
    import psutil  # Ray's dependency (vendored in its wheel); imported after ray

    found = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            name = process.name()
            connections = process.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # ended meanwhile
        found += [(c.laddr.ip, c.laddr.port, name) for c in connections if c.status == psutil.CONN_LISTEN]
    return found


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1
        ip = ip.ipv4_mapped
    return ip.is_loopback


@pytest.mark.slow
@pytest.mark.serial
def test_a_local_ray_instance_listens_on_loopback_only() -> None:
    """Issue 29: ``--ray local`` starts Ray for this machine alone, so none of its processes (GCS,
    raylet, agents, workers, this driver's core worker) may listen beyond loopback: Ray's gRPC
    servers bound every interface and the runtime env agent the machine's address."""
    ray = pytest.importorskip("ray")
    psutil = pytest.importorskip("psutil")  # Ray's dependency (vendored in its wheel)

    from morl.bench.ray_runner import _connect

    assert not ray.is_initialized()
    assert _connect("local")
    try:
        assert ray.get(ray.remote(lambda: os.getpid()).remote()) > 0  # a worker runs a task
        me = psutil.Process()
        sockets = listening_sockets({me.pid} | {child.pid for child in me.children(recursive=True)})
    finally:
        ray.shutdown()
    names = {name for *_, name in sockets}
    assert {"gcs_server", "raylet"} <= names, sockets  # what listens was found at all
    exposed = [s for s in sockets if not is_loopback(s[0])]
    assert not exposed, f"listening beyond loopback: {exposed}"


def test_ray_options_are_checked(tmp_path: Path, capsys: Any) -> None:
    base = ["bench", "run", "--agents", "hyper-morl", "--problems", PROBLEM, "--seeds", "1", "--steps", "4000",
            "--out", str(tmp_path)]  # fmt: skip
    assert main([*base, "--cpus-per-run", "2"]) == 2
    assert "--cpus-per-run is for --ray" in capsys.readouterr().err


@pytest.mark.parametrize("items,message", [
    (["pgmorl.update_iter"], "must look like AGENT.FIELD=VALUE"),
    (["update_iter=3"], "must look like AGENT.FIELD=VALUE"),
])  # fmt: skip
def test_bad_overrides(items: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_overrides(items)


def test_overrides_are_read_as_json_when_they_parse() -> None:
    assert parse_overrides(["sb3.algo=sac", "pgmorl.update_iter=10", "x.lr=1e-3", "x.flag=true"]) == {
        "sb3": {"algo": "sac"}, "pgmorl": {"update_iter": 10}, "x": {"lr": 1e-3, "flag": True}}  # fmt: skip


def test_overrides_files_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "o.toml"
    toml.write_text('[pgmorl]\nupdate_iter = 10\n[sb3]\nalgo = "sac"\nlearning_rate = 1e-3\n')
    as_json = tmp_path / "o.json"
    as_json.write_text(json.dumps({"pgmorl": {"update_iter": 10}, "sb3": {"algo": "sac", "learning_rate": 1e-3}}))
    assert read_overrides(toml) == read_overrides(as_json) == {
        "pgmorl": {"update_iter": 10}, "sb3": {"algo": "sac", "learning_rate": 1e-3}}  # fmt: skip
    merged = merge_overrides(read_overrides(toml), parse_overrides(["sb3.algo=ppo", "pd-morl.gamma=0.9"]))
    assert merged == {"pgmorl": {"update_iter": 10}, "sb3": {"algo": "ppo", "learning_rate": 1e-3},
                      "pd-morl": {"gamma": 0.9}}  # fmt: skip


@pytest.mark.parametrize("name,text,error,message", [
    ("o.yaml", "pgmorl: {}", ValueError, "expected a .toml or .json file"),
    ("missing.toml", None, FileNotFoundError, "no such file"),
    ("o.toml", "[pgmorl\nupdate_iter = 10", ValueError, "does not parse as TOML"),
    ("o.json", "{'pgmorl': 1}", ValueError, "does not parse as JSON"),
    ("o.json", "[1, 2]", ValueError, "expected a table of agents, got list"),
    ("o.toml", "pgmorl = 10", ValueError, "'pgmorl' must be a table of config fields"),
])  # fmt: skip
def test_bad_overrides_files(tmp_path: Path, name: str, text: str | None, error: type, message: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(error, match=message) as raised:
        read_overrides(path)
    assert "--overrides" in str(raised.value) and name in str(raised.value)


def test_plans_are_validated_before_anything_runs() -> None:
    with pytest.raises(ValueError, match="agent='nope' is unknown"):
        plan_runs(["nope"], [PROBLEM], [0], 1000)
    with pytest.raises(ValueError, match="MO-Spider-v1"):
        plan_runs(["hyper-morl"], ["MO-Spider-v1"], [0], 1000)
    with pytest.raises(ValueError, match="hyper-morl on MO-Hopper-v2: unknown config field"):
        plan_runs(["hyper-morl"], [PROBLEM], [0], 1000, {"hyper-morl": {"learnig_rate": 1e-3}})
    with pytest.raises(ValueError, match=r"learning_rate=-1\.0 must be"):
        plan_runs(["hyper-morl"], [PROBLEM], [0], 1000, {"hyper-morl": {"learning_rate": -1}})
    with pytest.raises(ValueError, match=r"overrides \(--set, --overrides\) name agents not in this bench: sb3"):
        plan_runs(["hyper-morl"], [PROBLEM], [0], 1000, {"sb3": {"algo": "sac"}})
    assert len(plan_runs(["hyper-morl", "pgmorl"], [PROBLEM, "MO-Swimmer-v2"], [0, 1, 2], None)) == 12


def test_cli_bench_errors_are_one_line(tmp_path: Path, capsys: Any) -> None:
    assert main(["bench", "run", "--agents", "hyper-morl", "--problems", PROBLEM, "--out", str(tmp_path)]) == 2
    assert "give --steps N" in capsys.readouterr().err
    assert main(["bench", "report", str(tmp_path / "empty")]) == 2
    assert "no bench records" in capsys.readouterr().err


def test_iqm() -> None:
    assert iqm([1.0, 2.0, 3.0, 100.0]) == 2.5  # type: ignore[arg-type]
    assert iqm([1.0, 3.0]) == 2.0  # type: ignore[arg-type]


def _record(agent: str, problem: str, seed: int, hv: float) -> dict[str, Any]:
    """A finished record with what the report reads (the aggregate needs no training)."""
    metrics = {"hypervolume": hv, "sparsity": 1.0, "expected_utility": 2.0, "num_non_dominated": 3, "igd_plus": None}
    return {"format": RECORD_FORMAT, "status": "finished", "agent": agent, "problem": problem, "seed": seed,
            "metrics": metrics, "training_env_steps": 1000, "wall_time_s": 1.0, "env_steps_per_second": 1000.0,
            "protocol": "paper: 200 preferences", "machine": {"cores": 2}, "versions": {"morl": "0"},
            "git_commit": "abc", "trajectory": [{"env_steps": 1000, "wall_time": 1.0, "hypervolume": hv}],
            "front": [[1.0, 2.0]]}  # fmt: skip


HVS = {("a", "MO-Swimmer-v2"): [10.0, 8.0], ("b", "MO-Swimmer-v2"): [5.0, 5.0],
       ("a", "MO-Hopper-v2"): [100.0], ("b", "MO-Hopper-v2"): [200.0, 50.0]}  # fmt: skip


def test_the_aggregate_normalises_by_the_best_run_of_each_problem() -> None:
    records = [_record(a, p, s, hv) for (a, p), hvs in HVS.items() for s, hv in enumerate(hvs)]
    scores = normalized_scores(records)
    assert scores["a"]["MO-Swimmer-v2"].tolist() == [1.0, 0.8] and scores["a"]["MO-Hopper-v2"].tolist() == [0.5]
    assert scores["b"]["MO-Hopper-v2"].tolist() == [1.0, 0.25]
    assert performance_profile(scores["a"], np.array([0.0, 0.6, 0.9])).tolist() == [1.0, 2 / 3, 1 / 3]
    value, low, high = stratified_iqm(scores["a"])  # three runs: the IQM is the mean
    assert value == pytest.approx((1.0 + 0.8 + 0.5) / 3) and 0.5 <= low <= value <= high <= 1.0
    value, low, high = stratified_iqm(scores["b"])  # four runs: the middle two, 0.5 and 0.5
    assert value == pytest.approx(0.5) and low <= value <= high


def test_the_report_of_two_problems_has_the_aggregate(tmp_path: Path) -> None:
    (tmp_path / "records").mkdir()
    for (agent, problem), hvs in HVS.items():
        for seed, hv in enumerate(hvs):
            path = tmp_path / "records" / f"{agent}__{problem}__seed{seed}.json"
            path.write_text(json.dumps(_record(agent, problem, seed, hv)))
    text = report(tmp_path)
    tex = (tmp_path / "report.tex").read_text()  # the same numbers as LaTeX tables
    assert "## Across problems" in text and "| a | 2 | 3 | 0.767 [" in text and "| b | 2 | 4 | 0.500 [" in text
    assert "With 1 seed(s) per agent and problem the IQM is the plain mean" in text  # a on MO-Hopper-v2
    for seed in range(2, 4):  # four seeds everywhere: the note goes
        for agent, problem in HVS:
            record = _record(agent, problem, seed, 1.0)
            (tmp_path / "records" / f"{agent}__{problem}__seed{seed}.json").write_text(json.dumps(record))
    (tmp_path / "records" / "a__MO-Hopper-v2__seed1.json").write_text(json.dumps(_record("a", "MO-Hopper-v2", 1, 1.0)))
    assert "IQM is the plain mean" not in report(tmp_path)
    assert (tmp_path / "aggregate-profiles.png").read_bytes()[:4] == b"\x89PNG"
    assert "Across problems</h2>" in (tmp_path / "report.html").read_text()
    assert tex.count("\\begin{tabular}") == 3 and "\\label{tab:bench-mo-swimmer-v2}" in tex
    assert "Hypervolume ($\\times 10^{2}$)" in tex  # MO-Hopper-v2: means 100 (a) and 125 (b)
    assert "    b & 2 & $\\mathbf{1.25} \\pm 1.06$" in tex and "    a & 1 & $1.00 \\pm 0.00$" in tex
    assert "    a & 2 & 3 & $\\mathbf{0.767}$ [" in tex  # the aggregate, best IQM in bold
    if shutil.which("pdflatex"):  # where TeX is installed: the fragment compiles
        (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}"
                                          "\\input{report.tex}\\end{document}")  # fmt: skip
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("values,text", [
    ((1340.0, 1220.0), "$1280 \\pm 85$"),
    ((19300.0, 19300.0), "$(1.93 \\pm 0.00)\\times 10^{4}$"),
    ((0.321, 0.123), "$0.222 \\pm 0.140$"),
    ((1e-4, 3e-4), "$(2.00 \\pm 1.41)\\times 10^{-4}$"),
    ((), "n/a"),
])  # fmt: skip
def test_latex_numbers(values: tuple[float, ...], text: str) -> None:
    assert mean_pm_std(values) == text


def test_latex_escapes_names() -> None:
    assert escape("my_agent&co 100%") == "my\\_agent\\&co 100\\%"
    assert escape("a~b^c\\d") == "a\\textasciitilde{}b\\textasciicircum{}c\\textbackslash{}d"


def test_jobs_are_bounded_by_the_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import morl.bench.runner

    monkeypatch.setattr(morl.bench.runner, "available_cores", lambda: 2)
    lines: list[str] = []
    assert bench([], tmp_path, jobs=64, report=lines.append) == []
    assert lines == ["bench: --jobs 64 is more than the 2 cores this process may use; running 2 at a time",
                     "bench: 0 runs, 0 finished before, 0 to run, 2 at a time"]  # fmt: skip


def test_status_lists_pending_and_running_runs(tmp_path: Path, capsys: Any) -> None:
    runs = plan_runs(["hyper-morl", "mb-capql"], [PROBLEM], [0, 1], 4000)
    write_plan(tmp_path, runs[:2], "morl bench first")
    write_plan(tmp_path, runs, "morl bench second")  # merged: a later command adds its runs
    assert [s.key for s in bench_status(tmp_path)] == [run.key for run in runs]
    assert {s.state for s in bench_status(tmp_path)} == {"pending"}
    busy = tmp_path / "runs" / runs[0].key
    busy.mkdir(parents=True)
    (busy / "config.json").write_text(json.dumps({"total_steps": 4000}))
    (busy / "metrics.jsonl").write_text(
        "\n".join(json.dumps({"step": 1000 * i, "train/steps_per_second": 50.0}) for i in (1, 2)) + "\n{cut"
    )
    peer = tmp_path / "runs" / runs[2].key  # an mb-capql run left behind: it starts over
    peer.mkdir(parents=True)
    with DirectoryLock(busy):
        states = bench_status(tmp_path)
        assert main(["bench", "status", str(tmp_path)]) == 0
    assert states[0].state == "running" and f"pid {os.getpid()}" in states[0].detail
    assert "2,000 / 4,000 env steps (50 %)" in states[0].detail and "~1 min of training left" in states[0].detail
    assert states[2].state == "interrupted" and "starts over (this agent cannot resume)" in states[2].detail
    assert [s.state for s in states[1::2]] == ["pending", "pending"]
    out = capsys.readouterr().out
    assert "4 runs: 0 finished, 0 failed, 1 running, 1 interrupted, 2 pending" in out
    assert bench_status(tmp_path)[0].state == "interrupted"  # the lock released: nobody runs it now
    (tmp_path / "records").mkdir()
    stale = {**_record("hyper-morl", PROBLEM, 1, 5.0), "run": {**describe_run(runs[1]), "total_steps": 9}}
    (tmp_path / "records" / f"{runs[1].key}.json").write_text(json.dumps(stale))
    assert bench_status(tmp_path)[1] == RunStatus(
        runs[1].key, "pending", "its record is of another config; runs again on the next bench"
    )
    (tmp_path / "records" / f"{runs[1].key}.json").write_text(json.dumps({**stale, "run": describe_run(runs[1])}))
    assert bench_status(tmp_path)[1].state == "finished"


def test_status_errors(tmp_path: Path, capsys: Any) -> None:
    assert main(["bench", "status", str(tmp_path / "nothing")]) == 2
    assert "no bench directory" in capsys.readouterr().err
    assert main(["bench", "status", str(tmp_path)]) == 2
    assert "holds no bench" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # argparse: the usage and what is missing, status 2
        main(["bench", "status"])
    assert exited.value.code == 2 and "the following arguments are required: dir" in capsys.readouterr().err


def test_a_report_names_its_definitions_and_refuses_to_mix_them(tmp_path: Path) -> None:
    (tmp_path / "records").mkdir()
    today = morl.fingerprint("MO-Swimmer-v2")
    for seed in range(2):
        record = {**_record("a", "MO-Swimmer-v2", seed, 1.0), "fingerprint": today}
        (tmp_path / "records" / f"a__MO-Swimmer-v2__seed{seed}.json").write_text(json.dumps(record))
    assert f"Problem definitions: {today}." in report(tmp_path)
    old = _record("b", "MO-Swimmer-v2", 0, 2.0)  # no fingerprint: written before morl 0.4.0
    (tmp_path / "records" / "b__MO-Swimmer-v2__seed0.json").write_text(json.dumps(old))
    with pytest.raises(ValueError, match=r"mixes definitions of MO-Swimmer-v2 \(.*: a seed 0, a seed 1; a definition "
                       r"from before fingerprints \(morl < 0.4.0\): b seed 0\)"):  # fmt: skip
        report(tmp_path)
    (tmp_path / "records" / "a__MO-Swimmer-v2__seed0.json").unlink()
    (tmp_path / "records" / "a__MO-Swimmer-v2__seed1.json").unlink()
    text = report(tmp_path)  # one old definition alone: reported, and flagged as not today's
    assert f"MO-Swimmer-v2: a definition from before fingerprints (morl < 0.4.0), not this morl's {today}" in text


def test_a_bench_does_not_add_runs_beside_another_definitions(tmp_path: Path) -> None:
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "a__MO-Swimmer-v2__seed0.json").write_text(
        json.dumps(_record("a", "MO-Swimmer-v2", 0, 1.0))
    )
    runs = plan_runs(["hyper-morl"], ["MO-Swimmer-v2"], [0], 1000)
    with pytest.raises(ValueError, match="holds finished runs of MO-Swimmer-v2 on a definition from before"):
        bench(runs, tmp_path)
