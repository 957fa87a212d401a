"""Agents from outside morl: registered by a program or declared by an installed package's entry
point, then trained, listed, loaded and benched like morl's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import morl
import morl.agents as registry
from morl.agents import AGENTS, agent_entry, get_agent, register_agent
from morl.bench.plan import BenchRun, describe_run, run_from_description
from morl.cli import main

PLUGIN = '''
from morl.agents.conditioned_ppo import ConditionedPPO


class TinyPPO(ConditionedPPO):
    """Conditioned PPO under another name: an agent from outside morl."""

    name = "{name}"
    summary = "an agent from outside morl"
'''


SHADOWING = """
from dataclasses import dataclass

from morl.agents.conditioned_ppo import ConditionedPPO, ConditionedPPOConfig
from morl.agents.settings import setting


@dataclass(frozen=True)
class ShadowConfig(ConditionedPPOConfig):
    steps: int = setting(5, low=1, help="a field that `morl train --steps` already means")


class Shadow(ConditionedPPO):
    name = "shadow-e"
    summary = "an agent whose config would shadow --steps"
    config_class = ShadowConfig
"""


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers into its own empty registry (restored afterwards)."""
    monkeypatch.setattr(registry, "_REGISTERED", {})
    monkeypatch.setattr(registry, "_REGISTERED_CLASSES", {})


def _plugin(folder: Path, module: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / f"{module}.py").write_text(PLUGIN.format(name=name))
    monkeypatch.syspath_prepend(str(folder))


@pytest.mark.slow
def test_a_registered_agent_trains_from_the_cli_and_loads_back(tmp_path, monkeypatch, capsys) -> None:
    _plugin(tmp_path, "plug_a", "plug-a", monkeypatch)
    register_agent("plug-a", "plug_a:TinyPPO")
    assert "plug-a" in AGENTS and agent_entry("plug-a") == "plug_a:TinyPPO" and agent_entry("pgmorl") is None
    assert get_agent("plug-a").__qualname__ == "TinyPPO"
    out = tmp_path / "run"
    assert main(["train", "plug-a", "--problem", "MO-Swimmer-v2", "--steps", "100000", "--out", str(out),
                 "--eval-splits", "4", "--quiet"]) == 0  # fmt: skip
    agent = morl.load(out)  # the checkpoint names "plug-a"; the registry finds its class
    assert type(agent).__qualname__ == "TinyPPO" and agent.env_steps == agent.run.planned_steps > 0
    capsys.readouterr()
    assert main(["agents"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("plug-a ")]
    assert len(listed) == 1 and listed[0].endswith("an agent from outside morl  [plug_a:TinyPPO]")


def test_an_installed_packages_entry_points_are_agents(tmp_path, monkeypatch, capsys) -> None:
    _plugin(tmp_path, "plug_b", "plug-b", monkeypatch)
    dist = tmp_path / "plugpkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugpkg\nVersion: 0.1\n")
    (tmp_path / "plug_syntax.py").write_text("def broken(:\n")
    (tmp_path / "plug_shadow.py").write_text(SHADOWING)
    (dist / "entry_points.txt").write_text(
        "[morl.agents]\nplug-b = plug_b:TinyPPO\nbroken-c = no_such_module_here:Nope\npgmorl = plug_b:TinyPPO\n"
        "syntax-d = plug_syntax:Nope\nshadow-e = plug_shadow:Shadow\n"
    )
    assert get_agent("plug-b").name == "plug-b" and agent_entry("plug-b") == "plug_b:TinyPPO"
    assert get_agent("pgmorl").__qualname__ == "PGMORL"  # morl's own names stay morl's
    with pytest.raises(ImportError, match=r"agent 'broken-c': cannot import 'no_such_module_here:Nope', an entry "
                                          r"point of 'plugpkg'"):  # fmt: skip
        get_agent("broken-c")
    with pytest.raises(ImportError, match=r"agent 'syntax-d': cannot import .*SyntaxError"):
        get_agent("syntax-d")
    assert main(["agents"]) == 0  # broken plugins do not take the CLI down
    captured = capsys.readouterr()
    assert "[plug_b:TinyPPO]" in captured.out and "broken-c" not in captured.out and "syntax-d" not in captured.out
    assert captured.err.count("agent 'broken-c' left out") == 1 and "agent 'syntax-d' left out" in captured.err
    assert "agent 'shadow-e' left out of `morl train`" in captured.err and "['steps']" in captured.err
    assert "shadow-e" in captured.out  # still an agent: only its command line would not work
    assert main(["envs"]) == 0
    register_agent("plug-b", "plug_a_elsewhere:Other")  # a registration wins over an entry point
    assert agent_entry("plug-b") == "plug_a_elsewhere:Other"


def test_bench_hands_a_registration_to_the_processes_it_starts(tmp_path, monkeypatch) -> None:
    """A worker process knows nothing of this one's registrations: the run's description carries
    the agent's path, and the worker registers it from there."""
    _plugin(tmp_path, "plug_d", "plug-d", monkeypatch)
    register_agent("plug-d", "plug_d:TinyPPO")
    description = describe_run(BenchRun("plug-d", "MO-Swimmer-v2", 0, 100_000))
    assert description["agent_entry"] == "plug_d:TinyPPO"
    assert "agent_entry" not in describe_run(BenchRun("pgmorl", "MO-Swimmer-v2", 0, 100_000))
    script = (
        "import json, sys; from morl.bench.plan import register_described_agent, run_from_description; "
        "from morl.agents import get_agent; description = json.loads(sys.argv[1]); "
        "register_described_agent(description); run = run_from_description(description); "
        "print(get_agent(run.agent).__module__)"
    )  # fmt: skip  (what morl.bench.worker and the Ray task do)
    done = subprocess.run([sys.executable, "-c", script, json.dumps(description)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": ""}, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "plug_d"
    assert run_from_description(description) == BenchRun("plug-d", "MO-Swimmer-v2", 0, 100_000)


def test_bad_registrations_say_what_is_expected(tmp_path, monkeypatch) -> None:
    _plugin(tmp_path, "plug_e", "not-its-name", monkeypatch)
    with pytest.raises(ValueError, match=r"name='My Agent': expected lowercase letters"):
        register_agent("My Agent", "plug_e:TinyPPO")
    with pytest.raises(ValueError, match=r"name='my__agent': expected"):  # '__' separates a bench key's parts
        register_agent("my__agent", "plug_e:TinyPPO")
    with pytest.raises(ValueError, match=r"name='hyper-morl' is one of morl's own agents"):
        register_agent("hyper-morl", "plug_e:TinyPPO")
    with pytest.raises(ValueError, match=r"agent='plug_e.TinyPPO': expected an import path 'module:Class'"):
        register_agent("plug-e", "plug_e.TinyPPO")
    with pytest.raises(TypeError, match=r"agent 'plug-e' \(given to morl.register_agent\) is <class 'dict'>"):
        register_agent("plug-e", dict)  # type: ignore[arg-type]
    register_agent("plug-e", "plug_e:TinyPPO")  # a path is checked when first used
    with pytest.raises(ValueError, match=r"its class TinyPPO has name='not-its-name'; expected name='plug-e'"):
        get_agent("plug-e")
    with pytest.warns(UserWarning, match="agent 'plug-e' was registered as 'plug_e:TinyPPO'; now 'plug_e:Missing'"):
        register_agent("plug-e", "plug_e:Missing")
    with pytest.raises(ImportError, match=r"agent 'plug-e': cannot import 'plug_e:Missing', registered with"):
        get_agent("plug-e")
    with pytest.raises(ValueError, match=r"agent='nope' is unknown; expected one of: hyper-morl, .*plug-e"):
        get_agent("nope")


def test_registering_a_class_again_replaces_it_with_a_warning(tmp_path, monkeypatch) -> None:
    from morl.agents.conditioned_ppo import ConditionedPPO

    first = type("Mine", (ConditionedPPO,), {"name": "mine", "__module__": "notebook"})
    second = type("Mine", (ConditionedPPO,), {"name": "mine", "__module__": "notebook"})
    register_agent("mine", first)
    register_agent("mine", first)  # the same class: nothing to say
    assert get_agent("mine") is first and agent_entry("mine") == "notebook:Mine"
    with pytest.warns(UserWarning, match="agent 'mine' was registered as 'notebook:Mine'; now 'notebook:Mine'"):
        register_agent("mine", second)
    assert get_agent("mine") is second


def test_bench_refuses_an_agent_other_processes_cannot_import(tmp_path, monkeypatch) -> None:
    import morl.bench.runner as runner
    from morl.agents.conditioned_ppo import ConditionedPPO
    from morl.bench.ray_runner import bench_on_ray

    local = type("Local", (ConditionedPPO,), {"name": "local-one", "__module__": "__main__"})
    register_agent("local-one", local)
    runs = [BenchRun("local-one", "MO-Swimmer-v2", seed, 100_000) for seed in (0, 1)]
    refused = r"agent 'local-one' is registered as '__main__:Local', which processes"
    with pytest.raises(ValueError, match=refused):  # before Ray is even imported
        bench_on_ray(runs, tmp_path / "bench", address="local", cpus_per_run=1, report=lambda line: None)
    # two runs at a time need two cores (on one, bench runs them here, where the class is known)
    monkeypatch.setattr(runner, "available_cores", lambda: 2)
    with pytest.raises(ValueError, match=refused):
        runner.bench(runs, tmp_path / "bench", jobs=2, report=lambda line: None)
    assert not (tmp_path / "bench" / "plan.json").exists()  # refused before anything was written


def test_a_finished_run_stays_finished_when_its_agents_path_changes(tmp_path, monkeypatch) -> None:
    """``agent_entry`` is provenance: the same class reached by another path (a re-export) is the
    same run."""
    from morl.bench.plan import same_description, same_run

    _plugin(tmp_path, "plug_f", "plug-f", monkeypatch)
    register_agent("plug-f", "plug_f:TinyPPO")
    run = BenchRun("plug-f", "MO-Swimmer-v2", 0, 100_000)
    recorded = {**describe_run(run), "agent_entry": "plug_f_reexport:TinyPPO"}
    assert same_run(recorded, run) and same_description(recorded, describe_run(run))
    assert not same_run({**recorded, "seed": 1}, run) and not same_run(None, run)


def test_an_entry_point_whose_name_could_not_name_a_run_is_left_out(tmp_path, monkeypatch) -> None:
    _plugin(tmp_path, "plug_g", "plug-g", monkeypatch)
    dist = tmp_path / "badpkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: badpkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[morl.agents]\nBad__Name = plug_g:TinyPPO\n")
    with pytest.warns(UserWarning, match="entry point 'Bad__Name' of 'badpkg' .* left out"):
        assert "Bad__Name" not in list(AGENTS)
