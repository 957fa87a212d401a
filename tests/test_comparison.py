"""The papers' comparison table: generated from the records, checked against the docs page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from comparison import BEGIN, DUELS_BEGIN, DUELS_END, END, duels, figures, head_to_head, latex, load_runs, markdown
from reproduction import read_block

import morl

REPO = Path(__file__).resolve().parents[1]


def _record(folder: Path, agent: str, problem: str, seed: int, hv: float, steps: int | None = None,
            front: list[list[float]] | None = None, **extra: object) -> None:  # fmt: skip
    prefix = "" if agent == "hyper-morl" else f"{agent}-"
    suffix = f"-steps{steps}" if steps else ""
    name = f"reproduce-{prefix}{problem}-seed{seed}{suffix}"
    budget = morl.get_problem(problem).paper_budget
    data = {"agent": agent, "problem": problem, "seed": seed, "total_steps": steps or budget,
            "paper_budget": steps is None, "hypervolume": hv, "sparsity": 100.0 + seed, "num_non_dominated": 40 + seed,
            "parameters": 12_345, "train_wall_clock_s": 3600.0 * (1 + seed), "training_env_steps": steps or budget,
            "fingerprint": morl.fingerprint(problem),
            "trajectory": [{"env_steps": 1000, "wall_time": 10.0, "hypervolume": hv / 2},
                           {"env_steps": 2000, "wall_time": 100.0, "hypervolume": hv}], **extra}  # fmt: skip
    (folder / f"{name}.json").write_text(json.dumps(data))
    returns = [[1.0, 3.0], [2.0, 2.0], [0.5, 0.5]] if front is None else front
    indices = [0, 1] if front is None else list(range(len(front)))
    (folder / f"{name}-front.json").write_text(json.dumps({"returns": returns, "front_indices": indices}))


@pytest.mark.parametrize("page", ["docs/benchmarks.md", "README.md"])
def test_the_pages_table_is_the_one_the_committed_records_give(page: str) -> None:
    """Regenerate with ``python benchmarks/comparison.py --page docs/benchmarks.md --page README.md``
    when this fails."""
    runs = load_runs(REPO / "benchmarks" / "results")
    text = (REPO / page).read_text(encoding="utf-8")
    assert read_block(text, BEGIN, END) == markdown(runs)
    if page == "docs/benchmarks.md":  # the README carries the table only
        assert read_block(text, DUELS_BEGIN, DUELS_END) == head_to_head(runs)


def test_methods_budgets_and_what_is_left_out(tmp_path: Path) -> None:
    _record(tmp_path, "hyper-morl", "MO-Swimmer-v2", 0, 2.9e4)
    _record(tmp_path, "hyper-morl", "MO-Swimmer-v2", 1, 3.1e4)
    _record(tmp_path, "pgmorl", "MO-Swimmer-v2", 0, 2.5e4)
    _record(tmp_path, "pd-morl", "MO-Swimmer-v2", 0, 1.0e4, steps=1_000_000)
    _record(tmp_path, "hyper-morl", "MO-Swimmer-v2", 2, 9e9, fingerprint=None)  # another definition
    _record(tmp_path, "hyper-morl", "MO-Swimmer-v2", 3, 9e9, authors_deviations=True)  # a variant
    _record(tmp_path, "sb3", "MO-Swimmer-v2", 0, 9e9)  # not in the papers' comparison
    runs = load_runs(tmp_path)
    assert [(r.method, r.seed, r.paper_budget) for r in runs] == [
        ("hyper-morl", 0, True), ("hyper-morl", 1, True), ("pgmorl", 0, True), ("pd-morl", 0, False)]  # fmt: skip
    table = markdown(runs)
    assert "| MO-Swimmer-v2 | 12 M (paper) | hyper-morl | 2 | 3.00e4 ± 1.41e3 | 2.88e4 ± 4.40e3 |" in table
    assert "| MO-Swimmer-v2 | 12 M (paper) | pgmorl | 1 | 2.50e4 |  |" in table
    assert "| MO-Swimmer-v2 | 1 M (reduced) | pd-morl | 1 | 1.00e4 |  |" in table
    assert "| 12,345 | 1.5 ± 0.71 h |" in table and "9e9" not in table
    tex = latex(runs)
    table_tex, duel_tex = tex.split("\\end{tabular}")[:2]
    assert table_tex.count("\\\\") == 4 and "hyper-morl & 2 & $(3.00 \\pm 0.14)\\times 10^{4}$" in tex  # header, 3 rows
    assert duel_tex.count("\\\\") == 3  # header, the two methods of seed 0 (the same fronts: neither adds)
    assert "MO-Swimmer-v2 & 12 M (paper) & hyper-morl vs pgmorl & 0 & $5$ & pgmorl & 0.0\\% & 0.028 \\\\" in duel_tex
    assert "| hyper-morl vs pgmorl | 0 | 5.00e0 | pgmorl | 0 | 1.7 min |" in head_to_head(runs)  # the same fronts
    assert "pgmorl & 1 & $2.5e4$" in tex
    paths = figures(runs, tmp_path)
    assert [p.name for p in paths] == ["MO-Swimmer-v2-comparison-fronts.png", "MO-Swimmer-v2-comparison-wallclock.png",
                                       "comparison-fronts.png", "comparison-wallclock.png"]  # fmt: skip
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    np.testing.assert_array_equal(runs[0].front, [[1.0, 3.0], [2.0, 2.0]])


def test_the_table_says_where_a_front_s_points_are_means_of_several_episodes(tmp_path: Path) -> None:
    """PGMORL scores Humanoid's policies by the mean of 6 episodes (the authors' eval_num), Hyper-MORL
    by one per preference: the note under the table names such rows, read from the front's protocol."""
    _record(tmp_path, "hyper-morl", "MO-Swimmer-v2", 0, 2.9e4)
    assert "several episodes" not in markdown(load_runs(tmp_path))  # one episode everywhere: nothing to say
    _record(tmp_path, "pgmorl", "MO-Humanoid-v2", 0, 2.0e7)
    front = tmp_path / "reproduce-pgmorl-MO-Humanoid-v2-seed0-front.json"
    front.write_text(json.dumps({**json.loads(front.read_text()), "protocol": {"episodes": 6}}))
    runs = load_runs(tmp_path)
    assert [r.episodes for r in runs] == [1, 6]
    assert "by several episodes (pgmorl on MO-Humanoid-v2, the mean of 6)." in markdown(runs)
    assert "pgmorl on MO-Humanoid-v2, the mean of 6" in latex(runs)


def test_no_runs_yet() -> None:
    assert markdown([]).startswith("No run of the comparison on this version's problem definitions")
    assert head_to_head([]).startswith("No two methods have run the same seed")


def test_the_overview_figures_have_a_panel_per_problem(tmp_path: Path) -> None:
    """The README's two figures: one panel per problem (up to four in a row), three objectives
    drawn by their first two."""
    _record(tmp_path, "hyper-morl", "MO-Swimmer-v2", 0, 2.9e4)
    _record(tmp_path, "pgmorl", "MO-Hopper-v3", 0, 3.0e10)
    out = tmp_path / "figures"
    out.mkdir()
    paths = figures(load_runs(tmp_path), out)
    assert sorted(p.name for p in paths) == sorted(
        [f"{p}-comparison-{kind}.png" for p in ("MO-Swimmer-v2", "MO-Hopper-v3") for kind in ("fronts", "wallclock")]
        + ["comparison-fronts.png", "comparison-wallclock.png"])  # fmt: skip
    for name in ("comparison-fronts.png", "comparison-wallclock.png"):
        header = (out / name).read_bytes()[:24]
        width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
        assert (width, height) == (576, 279)  # 2 panels of 3.2 in side by side, one row, at 90 dpi


def test_a_three_objective_duel(tmp_path: Path) -> None:
    """Hopper-v3's fronts are 3-D: the head-to-head measures them in three objectives (the
    figures draw the first two)."""
    _record(tmp_path, "hyper-morl", "MO-Hopper-v3", 0, 8.0, front=[[2.0, 2.0, 2.0]])
    _record(tmp_path, "pgmorl", "MO-Hopper-v3", 0, 8.0, front=[[1.0, 1.0, 4.0]])
    [duel] = duels(load_runs(tmp_path))
    # 2x2x2 and 1x1x4 boxes overlap in 1x1x2: together 8 + 4 - 2 = 10; each adds 10 minus the other's
    assert duel.union_hv == pytest.approx(10.0)
    assert duel.adds == pytest.approx({"hyper-morl": 6.0, "pgmorl": 2.0})
    assert "| MO-Hopper-v3 | 120 M (paper) | hyper-morl vs pgmorl | 0 | 1.00e1 | hyper-morl | 6.00e0 (+150.0 %) |" in (
        head_to_head(load_runs(tmp_path)))  # fmt: skip


def test_any_agent_with_records_can_join_the_comparison(tmp_path: Path) -> None:
    """``--methods``: an agent of one's own (a name with '_' or '.') beside the papers' ones."""
    _record(tmp_path, "hyper-morl", "MO-Swimmer-v2", 0, 2.9e4)
    _record(tmp_path, "my_agent.v2", "MO-Swimmer-v2", 0, 3.3e4)
    assert [r.method for r in load_runs(tmp_path)] == ["hyper-morl"]  # the papers' three by default
    runs = load_runs(tmp_path, ("my_agent.v2", "hyper-morl"))
    assert [r.method for r in runs] == ["my_agent.v2", "hyper-morl"]
    assert "| MO-Swimmer-v2 | 12 M (paper) | my_agent.v2 | 1 | 3.30e4 |  |" in markdown(runs)
    out = tmp_path / "figures"
    out.mkdir()
    assert len(figures(runs, out)) == 4


def test_head_to_head_what_each_front_adds_and_when_each_reached_a_common_level(tmp_path: Path) -> None:
    """Fronts (1,3),(2,2) and (3,1) at reference point 0: together 6, the first alone 5, the second
    alone 3; so the second adds 1 and the first adds 3. The level is 95 % of the lower final HV
    (3 → 2.85): the first's periodic evaluation passed it at 40 s, the second's only at its end."""
    _record(
        tmp_path,
        "hyper-morl",
        "MO-Swimmer-v2",
        0,
        5.0,
        front=[[1.0, 3.0], [2.0, 2.0]],
        trajectory=[
            {"env_steps": 1, "wall_time": 10.0, "hypervolume": 1.0},
            {"env_steps": 2, "wall_time": 40.0, "hypervolume": 2.9},
        ],
        train_wall_clock_s=900.0,
    )
    _record(tmp_path, "pgmorl", "MO-Swimmer-v2", 0, 3.0, front=[[3.0, 1.0]],
            trajectory=[{"env_steps": 1, "wall_time": 10.0, "hypervolume": 2.0}], train_wall_clock_s=1800.0,
            wall_clock_upper_bound=True)  # fmt: skip
    _record(tmp_path, "pgmorl", "MO-Swimmer-v2", 1, 3.0)  # no Hyper-MORL seed 1: not in the duel
    _record(tmp_path, "hyper-morl", "MO-Hopper-v2", 0, 1e7)  # one method only: no duel
    runs = load_runs(tmp_path)
    [duel] = duels(runs)
    assert (duel.problem, duel.budget, duel.methods, duel.seeds) == ("MO-Swimmer-v2", "12 M (paper)",
                                                                     ("hyper-morl", "pgmorl"), (0,))  # fmt: skip
    assert duel.union_hv == pytest.approx(6.0) and duel.level == pytest.approx(2.85)
    assert duel.adds == pytest.approx({"hyper-morl": 3.0, "pgmorl": 1.0})
    assert duel.reaches_s == {"hyper-morl": 40.0, "pgmorl": 1800.0} and duel.upper_bound == {"pgmorl"}
    table = head_to_head(runs)
    pair = "| MO-Swimmer-v2 | 12 M (paper) | hyper-morl vs pgmorl | 0 | 6.00e0 |"
    assert f"{pair} hyper-morl | 3.00e0 (+100.0 %) | 0.67 min |" in table
    assert f"{pair} pgmorl | 1.00e0 (+20.0 %) | (0.5 h) |" in table
    tex = latex(runs)  # upper bounds in parentheses, in both tables
    assert "pgmorl & 2 & $3.00 \\pm 0.00$ & $100 \\pm 1$ & 12{,}345 & ($1.25 \\pm 1.06$)" in tex  # seeds 0, 1
    assert "pgmorl & 20.0\\% & (0.5) \\\\" in tex


def test_head_to_head_is_pairwise_over_the_seeds_each_pair_shares(tmp_path: Path) -> None:
    """Three methods at 1 M steps, one of them on seed 0 only: the other two still meet on seeds
    0 and 1 (means over both), each meets the third on seed 0 alone, and a run whose front file is
    missing is in no duel (it would seem to add nothing)."""
    steps = 1_000_000
    for seed, (low, high) in enumerate(((1.0, 3.0), (2.0, 4.0))):  # Hyper-MORL: (1, 3) then (2, 4)
        _record(tmp_path, "hyper-morl", "MO-Swimmer-v2", seed, low * high, steps, front=[[low, high]])
        _record(tmp_path, "pgmorl", "MO-Swimmer-v2", seed, low * high, steps, front=[[high, low]])  # mirrored
    _record(tmp_path, "pd-morl", "MO-Swimmer-v2", 0, 1.0, steps, front=[[1.0, 1.0]])  # inside both: adds nothing
    _record(tmp_path, "pd-morl", "MO-Swimmer-v2", 1, 1.0, steps)
    (tmp_path / "reproduce-pd-morl-MO-Swimmer-v2-seed1-steps1000000-front.json").unlink()
    found = {d.methods: d for d in duels(load_runs(tmp_path))}
    assert list(found) == [("hyper-morl", "pgmorl"), ("hyper-morl", "pd-morl"), ("pgmorl", "pd-morl")]
    both = found[("hyper-morl", "pgmorl")]
    # seed 0: (1,3) and (3,1) give 3 + 3 − 1 = 5, each adds 2; seed 1: (2,4), (4,2): 8 + 8 − 4 = 12, adds 4
    assert both.seeds == (0, 1) and both.union_hv == pytest.approx(8.5)
    assert both.adds == pytest.approx({"hyper-morl": 3.0, "pgmorl": 3.0})
    assert both.level == pytest.approx(0.95 * (3 + 8) / 2)
    third = found[("hyper-morl", "pd-morl")]
    assert third.seeds == (0,) and third.adds == pytest.approx({"hyper-morl": 2.0, "pd-morl": 0.0})
    assert third.level == pytest.approx(0.95)  # the lower final HV of the pair: PD-MORL's
    assert "| hyper-morl vs pd-morl | 0 | 3.00e0 | pd-morl | 0 |" in head_to_head(load_runs(tmp_path))
