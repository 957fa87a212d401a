"""The reproduction table: derived from the records, checked against the docs page that shows it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from reproduction import (
    BEGIN,
    END,
    PUBLISHED,
    figure,
    format_hv,
    load_records,
    read_block,
    render_block,
    replace_block,
    summarise,
)

import morl

REPO = Path(__file__).resolve().parents[1]


def _record(directory: Path, problem: str, seed: int, hv: float, authors_code: bool = False, **extra: object) -> Path:
    name = f"reproduce-{'authors-code-' if authors_code else ''}{problem}-seed{seed}.json"
    data = {
        "git_commit": "0" * 40,
        "versions": {"morl": "9.9.9"},
        "command": "python benchmarks/reproduce.py",
        "problem": problem,
        "seed": seed,
        "authors_deviations": authors_code,
        "total_steps": 12_000_000,
        "paper_budget": True,
        "hypervolume": hv,
        "num_non_dominated": 50 + seed,
        "train_wall_clock_s": 900.0 + 60 * seed,
        "fingerprint": morl.fingerprint(problem),
        **extra,
    }
    path = directory / name
    path.write_text(json.dumps(data))
    return path


def test_the_readme_table_is_the_one_the_committed_records_give() -> None:
    """A finished run's record and the benchmarks page cannot disagree: regenerate with
    ``python benchmarks/reproduction_summary.py --readme docs/benchmarks.md`` when this fails."""
    records = load_records(REPO / "benchmarks" / "results")
    assert all(r.fingerprint == morl.fingerprint(r.problem) for r in records)
    assert read_block((REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")) == render_block(records)


def test_verdicts_and_distances_against_the_authors_range() -> None:
    swimmer = PUBLISHED["MO-Swimmer-v2"]  # 2.88e4 ± 4.4e3, 1.78e4–3.19e4
    assert swimmer.verdict(1.78e4) == "within" and swimmer.verdict(3.19e4) == "within"
    assert swimmer.verdict(1.5e4) == "below" and swimmer.verdict(3.2e4) == "above"
    assert swimmer.distance(2.88e4 - 2 * 4.4e3) == pytest.approx(-2.0)
    with pytest.raises(ValueError, match="hypervolume=nan"):
        swimmer.verdict(math.nan)


def test_a_value_just_below_a_bound_does_not_print_as_the_bound() -> None:
    ant = PUBLISHED["MO-Ant-v2"]
    assert format_hv(7_205_291.3, (ant.low, ant.high)) == "7.205e6"  # 3 digits would read 7.21e6 = their min
    assert format_hv(7_205_291.3) == "7.21e6"
    assert format_hv(28_804.67, (1.78e4, 3.19e4)) == "2.88e4"
    assert format_hv(2.9083e10) == "2.91e10"


def test_summary_of_seeds_in_words(tmp_path: Path) -> None:
    for seed, hv in enumerate((2.88e4, 3.08e4, 1.50e4)):
        _record(tmp_path, "MO-Swimmer-v2", seed, hv)
    _record(tmp_path, "MO-HalfCheetah-v2", 0, 5.70e6, wall_clock_upper_bound=True)
    (tmp_path / "reproduce-MO-Swimmer-v2-seed0-front.json").write_text("{}")  # fronts are not records
    (tmp_path / "reproduce-pgmorl-MO-Swimmer-v2-seed0.json").write_text("{}")  # nor other agents'
    _record(tmp_path, "MO-Swimmer-v2", 7, 1.0e3, total_steps=60_000, paper_budget=False)  # nor a trial
    records = load_records(tmp_path)
    assert [(r.problem, r.seed) for r in records] == [("MO-Swimmer-v2", s) for s in range(3)] + [
        ("MO-HalfCheetah-v2", 0)
    ]
    swimmer, cheetah = summarise(records)
    assert swimmer.mean == pytest.approx(2.4867e4, rel=1e-4)
    assert swimmer.std == pytest.approx(8.6e3, rel=0.01)  # ddof 1: sqrt(((.39)² + (.59)² + (.99)²)/2) e4
    assert swimmer.where() == "2 within, 1 below; mean −0.9 σ"
    assert cheetah.where() == "above the range, +1.7 σ" and math.isnan(cheetah.std)
    table = render_block(records)
    assert "| MO-Swimmer-v2 | 12 M | 2.88e4, 3.08e4, 1.50e4 (seeds 0, 1, 2; morl 9.9.9) | **2.49e4 ± 8.6e3** |" in table
    assert "| 15, 16, 17 min |" in table
    assert "| (15) min |" in table  # an upper bound: the machine was shared
    assert "authors' deviations" not in table


def test_records_of_another_definition_leave_the_table(tmp_path: Path) -> None:
    _record(tmp_path, "MO-Swimmer-v2", 0, 2.88e4)
    _record(tmp_path, "MO-Swimmer-v2", 1, 3.0e4, fingerprint=None)  # morl < 0.4.0: today's-compiler physics
    _record(tmp_path, "MO-Swimmer-v2", 2, 3.1e4, fingerprint="MO-Swimmer-v2@000000000000")
    assert [r.seed for r in load_records(tmp_path)] == [0]
    assert render_block([]).startswith("No full-budget run on this version's problem definitions")


def test_an_authors_code_run_is_set_beside_the_method_of_its_seed(tmp_path: Path) -> None:
    _record(tmp_path, "MO-Hopper-v2", 0, 1.88e7)
    _record(tmp_path, "MO-Hopper-v2", 0, 2.02e7, authors_code=True, hyper_morl_same_seed={"hypervolume": 1.88e7})
    records = load_records(tmp_path)
    assert [r.authors_code for r in records] == [False, True]
    assert len(summarise(records)) == 1 and summarise(records)[0].records == (records[0],)  # kept out of the mean
    assert "| MO-Hopper-v2 | 0 | 2.02e7 (within) | 1.88e7 | 1.074 | 1.96e7–2.14e7 | 15 min |" in render_block(records)


def test_bad_records_name_themselves(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="results="):
        load_records(tmp_path / "missing")
    broken = tmp_path / "reproduce-MO-Ant-v2-seed3.json"
    broken.write_text('{"problem": "MO-Ant-v2"')
    with pytest.raises(ValueError, match=r"reproduce-MO-Ant-v2-seed3\.json: unreadable"):
        load_records(tmp_path)
    broken.unlink()
    path = _record(tmp_path, "MO-Ant-v2", 3, 7.0e6)
    path.rename(tmp_path / "reproduce-MO-Ant-v2-seed4.json")  # the name says seed 4, the contents 3
    with pytest.raises(ValueError, match="its name says"):
        load_records(tmp_path)


def test_the_block_is_replaced_between_its_markers_only() -> None:
    text = f"intro\n- item:\n\n  {BEGIN}\n  old table\n  {END}\n\noutro\n"
    block = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    once = replace_block(text, block)
    assert once.startswith("intro\n- item:\n\n  " + BEGIN) and once.endswith(END + "\n\noutro\n")
    assert "  | 1 | 2 |\n" in once and "old table" not in once
    assert read_block(once) == block
    assert replace_block(once, block) == once  # idempotent
    with pytest.raises(ValueError, match="expected one"):
        replace_block("no markers here", block)
    with pytest.raises(ValueError, match="expected one"):
        replace_block(text + BEGIN, block)


def test_the_figure_is_a_png(tmp_path: Path) -> None:
    for seed, hv in enumerate((2.88e4, 1.50e4)):
        _record(tmp_path, "MO-Swimmer-v2", seed, hv)
    out = tmp_path / "reproduction.png"
    figure(summarise(load_records(tmp_path)), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
