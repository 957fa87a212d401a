"""benchmarks/long_runs.py's job specs name the runs that reproduce.py names."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import comparison
import long_runs
import pytest
import reproduction
from long_runs import parse_job


@pytest.mark.parametrize("spec,name,extra", [
    ("MO-Ant-v2:0", "reproduce-MO-Ant-v2-seed0", []),
    ("MO-Swimmer-v2:2:pgmorl", "reproduce-pgmorl-MO-Swimmer-v2-seed2", ["--agent", "pgmorl"]),
    ("MO-Hopper-v2:0:pd-morl:steps=1000000", "reproduce-pd-morl-MO-Hopper-v2-seed0-steps1000000",
     ["--agent", "pd-morl", "--steps", "1000000"]),
    ("MO-Hopper-v2:0:authors-code", "reproduce-authors-code-MO-Hopper-v2-seed0", ["--authors-deviations"]),
    ("MO-Ant-v2:0:pgmorl:pin=b8cf51a", "reproduce-pgmorl-MO-Ant-v2-seed0", ["--agent", "pgmorl"]),  # same name
])  # fmt: skip
def test_job_specs(spec: str, name: str, extra: list[str]) -> None:
    job = parse_job(spec)
    assert job.name == name and job.extra == [*extra, "--out", str(job.run_dir)]
    assert job.run_dir.name == name  # where reproduce.py trains it: the directory this script carries


@pytest.mark.parametrize("spec", ["MO-Ant-v2", "MO-Ant-v2:x", "MO-Ant-v2:0:steps=-3", "MO-Ant-v2:0:pgmorl:authors-code",
                                  "MO-Ant-v2:0:a/b", "MO-Ant-v2:0:pin=HEAD", "MO-Ant-v2:0:pin=abc"])  # fmt: skip
def test_bad_job_specs(spec: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"job {spec!r}"):
        parse_job(spec)


def test_a_record_of_another_definition_does_not_finish_a_job(tmp_path, monkeypatch) -> None:
    """A record from before morl 0.4.0 (no fingerprint) keeps its name but is history: the job
    trains again on today's definition, and a record of today's finishes it."""
    import json

    import long_runs

    import morl

    monkeypatch.setattr(long_runs, "RESULTS", tmp_path)
    monkeypatch.setattr(long_runs, "INFLIGHT", tmp_path / "inflight")
    job = parse_job("MO-Swimmer-v2:0")
    record = tmp_path / f"{job.name}.json"
    record.write_text(json.dumps({"paper_budget": True, "total_steps": 12_000_000}))
    assert not job.finished()
    record.write_text(json.dumps({"paper_budget": True, "total_steps": 12_000_000,
                                  "fingerprint": morl.fingerprint("MO-Swimmer-v2")}))  # fmt: skip
    assert job.finished()
    (tmp_path / "inflight" / job.name).mkdir(parents=True)  # still carried: in flight
    assert not job.finished()


def test_sharing_counts_the_run_tree_and_leaves_the_rest_to_others() -> None:
    """The run's CPU is its process and every descendant (PPO workers); the record calls the
    wall-clock an upper bound only when others used more than the threshold."""
    import subprocess
    import sys
    import time

    import long_runs

    child = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass\ntime.sleep(3)"
    parent = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {child!r}])"
    run = subprocess.Popen([sys.executable, "-c", parent])
    try:
        time.sleep(2.0)  # the grandchild has burnt its 0.5 s and sleeps
        assert long_runs._tree_cpu_s(run.pid, {}) >= 0.45
        assert long_runs._busy_cpu_s() > 0.45
    finally:
        run.kill()
        run.wait()
    sharing = long_runs.Sharing()
    sharing.add(10.0, busy_s=3.0, run_s=1.0)
    assert sharing.others_cpu_s == 2.0 and sharing.record()["wall_clock_upper_bound"] is True
    assert long_runs.Sharing(wall_s=100.0, others_cpu_s=1.0).record()["wall_clock_upper_bound"] is False


def test_the_comparison_queue_parses_in_order(tmp_path) -> None:
    """The committed queue of the papers' comparison: every line a job, first the paper budgets."""
    jobs = long_runs.read_queue(Path(__file__).resolve().parents[1] / "benchmarks" / "comparison_queue.txt")
    assert jobs[0].name == "reproduce-MO-Swimmer-v2-seed0" and len({j.name for j in jobs}) == len(jobs)
    assert sum(j.agent == "pd-morl" for j in jobs) == 3 and all(j.steps for j in jobs if j.agent == "pd-morl")
    (tmp_path / "q.txt").write_text("MO-Ant-v2:0  # a comment\n\nMO-Ant-v2:nope\n")
    with pytest.raises(argparse.ArgumentTypeError, match="MO-Ant-v2:nope"):
        long_runs.read_queue(tmp_path / "q.txt")


def test_a_finished_run_regenerates_every_page_and_commits_only_the_unedited(tmp_path, monkeypatch) -> None:
    """The generated tables go into docs/benchmarks.md and README.md; a page a person is editing is
    rewritten in place but left out of the run's commit (the check must come before the rewrite)."""
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    for script in ("reproduction.py", "reproduction_summary.py", "comparison.py"):
        shutil.copy(repo / "benchmarks" / script, tmp_path / "benchmarks" / script)
    for name in ("reproduce-MO-Swimmer-v2-seed0.json", "reproduce-MO-Swimmer-v2-seed0-front.json"):
        shutil.copy(repo / "benchmarks" / "results" / name, tmp_path / "benchmarks" / "results" / name)
    both = f"{reproduction.BEGIN}\nold\n{reproduction.END}\n\n{comparison.BEGIN}\nold\n{comparison.END}\n"
    (tmp_path / "docs" / "benchmarks.md").write_text("# Benchmarks\n\n" + both)
    (tmp_path / "README.md").write_text(f"# morl\n\n{comparison.BEGIN}\nold\n{comparison.END}\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text() + "\nA person's paragraph, not committed yet.\n")
    monkeypatch.setattr(long_runs, "REPO", tmp_path)
    monkeypatch.setattr(long_runs, "RESULTS", tmp_path / "benchmarks" / "results")
    monkeypatch.setattr(long_runs, "LOG", [tmp_path / "long_runs.log"])

    paths = long_runs._regenerate_table(sys.executable, dict(os.environ), enabled=True)

    assert tmp_path / "docs" / "benchmarks.md" in paths and readme not in paths
    table = comparison.markdown(comparison.load_runs(tmp_path / "benchmarks" / "results"))
    assert "| MO-Swimmer-v2 | 12 M (paper) | hyper-morl | 1 |" in table
    for page in (readme, tmp_path / "docs" / "benchmarks.md"):
        assert reproduction.read_block(page.read_text(), comparison.BEGIN, comparison.END) == table
    assert "A person's paragraph" in readme.read_text()
    assert "README.md has uncommitted edits" in (tmp_path / "long_runs.log").read_text()
    assert (tmp_path / "benchmarks" / "results" / "comparison" / "comparison-fronts.png").is_file()


def test_status_says_where_each_job_stands(tmp_path, monkeypatch) -> None:
    """Finished (its record), in flight (its run directory's last logged step and wall-clock) and
    pending jobs (with the hours a finished run's rate gives, same agent, problem and budget), the
    env steps left per agent and the hours left where a rate is known."""
    repo = Path(__file__).resolve().parents[1]
    results, inflight, runs = tmp_path / "results", tmp_path / "inflight", tmp_path / "runs"
    results.mkdir()
    shutil.copy(repo / "benchmarks" / "results" / "reproduce-MO-Swimmer-v2-seed0.json", results)
    monkeypatch.setattr(long_runs, "RESULTS", results)
    monkeypatch.setattr(long_runs, "INFLIGHT", inflight)
    specs = ("MO-Swimmer-v2:0", "MO-Swimmer-v2:0:pgmorl", "MO-Hopper-v2:1:pd-morl:steps=1000000", "MO-Swimmer-v2:2",
             "MO-Swimmer-v2:3:steps=1000000")  # fmt: skip
    jobs = [dataclasses.replace(parse_job(spec), runs=runs) for spec in specs]
    flying = jobs[1].run_dir
    flying.mkdir(parents=True)
    (flying / "metrics.jsonl").write_text(
        '{"step": 1000000, "train/steps_per_second": 4000.0}\n{"step": 2000000, "eval/hypervolume": 5.0}\n'
    )
    (flying / "sharing.json").write_text('{"wall_s": 400.0, "others_cpu_s": 0.0}\n')
    lines = long_runs.status_lines(jobs)
    assert lines[0].startswith("finished   reproduce-MO-Swimmer-v2-seed0: HV 2.944e+04, 0.19 h")
    assert lines[1] == ("in flight  reproduce-pgmorl-MO-Swimmer-v2-seed0: 2,000,000 of 12,000,000 env steps (here; "
                        "never carried), 0.11 h so far, 5,000 env-steps/s; ~0.7 h of training left at the last "
                        "iterations' 4,000 env-steps/s")  # fmt: skip
    (inflight / jobs[1].name).mkdir(parents=True)  # a carry at 1 M: what a lost machine restarts from
    (inflight / jobs[1].name / "metrics.jsonl").write_text('{"step": 1000000, "train/steps_per_second": 4000.0}\n')
    assert "(here; carried at 1,000,000), 0.11 h so far" in long_runs.status_lines(jobs)[1]
    assert lines[2] == "pending    reproduce-pd-morl-MO-Hopper-v2-seed1-steps1000000: 1,000,000 env steps"
    # seed 0's rate (11,976,704 steps in 699.9 s) for seed 2 at the same budget; none for another budget
    assert lines[3] == ("pending    reproduce-MO-Swimmer-v2-seed2: 12,000,000 env steps (~0.2 h at a finished run's "
                        "17,112 env-steps/s)")  # fmt: skip
    assert lines[4] == "pending    reproduce-MO-Swimmer-v2-seed3-steps1000000: 1,000,000 env steps"
    assert lines[5] == "env steps left: pgmorl 10,000,000, pd-morl 1,000,000, hyper-morl 13,000,000"
    # 10 M at 4,000/s and 12 M at 17,112/s: 0.69 + 0.19 h; the two 1 M jobs have no rate to go by
    assert lines[6] == ("training left: ~0.9 h for the jobs with a known rate, and 2 job(s) without one (no "
                        "finished run of the same agent, problem and budget)")  # fmt: skip


def test_a_shipped_set_s_gaits_are_recorded_beside_the_run(tmp_path, monkeypatch) -> None:
    """After an export, the shipped set's gaits (gaits.py) are written as gaits-<run>.json, named
    by the run and recorded with a command that reruns from the repository's root."""
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    shutil.copy(repo / "benchmarks" / "gaits.py", tmp_path / "benchmarks" / "gaits.py")
    monkeypatch.setattr(long_runs, "REPO", tmp_path)
    monkeypatch.setattr(long_runs, "RESULTS", tmp_path / "benchmarks" / "results")
    monkeypatch.setattr(long_runs, "LOG", [tmp_path / "long_runs.log"])
    job = parse_job("MO-Swimmer-v2:0")
    [path] = long_runs._gaits(sys.executable, dict(os.environ), job)
    assert path == tmp_path / "benchmarks" / "results" / "gaits-reproduce-MO-Swimmer-v2-seed0.json"
    record = json.loads(path.read_text())
    assert record["problem"] == "MO-Swimmer-v2" and len(record["models"][0]["rows"]) == 11
    out = "benchmarks/results/gaits-reproduce-MO-Swimmer-v2-seed0.json"
    assert record["command"] == f"python benchmarks/gaits.py MO-Swimmer-v2 --out {out}"
    failing = dataclasses.replace(job, problem="MO-Nothing-v9")  # gaits.py refuses it: logged, nothing recorded
    assert long_runs._gaits(sys.executable, dict(os.environ), failing) == []
    assert "gaits.py failed" in (tmp_path / "long_runs.log").read_text()


def test_a_job_s_own_pin_starts_it_on_that_commit(tmp_path, monkeypatch) -> None:
    """``pin=`` in a job spec wins over the queue's ``--pin`` for a run not started yet; a run
    already pinned keeps its commit whatever the spec says now."""
    asked: list[str] = []
    monkeypatch.setattr(long_runs, "git", lambda *args: asked.append(args[-1]) or "f" * 40)
    monkeypatch.setattr(long_runs, "INFLIGHT", tmp_path / "inflight")
    job = dataclasses.replace(parse_job("MO-Ant-v2:0:pgmorl:pin=b8cf51a"), runs=tmp_path / "runs")
    (job.runs / f"code-{'f' * 12}" / ".git").mkdir(parents=True)  # the clone exists: nothing to clone
    assert long_runs.pinned_code(job, "436771f") == ("f" * 40, job.runs / f"code-{'f' * 12}")
    assert asked == ["b8cf51a"]
    assert json.loads((job.carry_dir / "run.json").read_text())["git_commit"] == "f" * 40
    long_runs.pinned_code(dataclasses.replace(job, pin="0123456"), "436771f")  # pinned already: no new pin
    assert asked == ["b8cf51a"]
