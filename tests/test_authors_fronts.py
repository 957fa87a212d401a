"""The authors' fronts, summarised: parsing their files, where a front reaches, and the committed
summary against the numbers the spec quotes from the same runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from authors_fronts import SUMMARY, compare, parse_objs, summarise_front
from reproduction import PUBLISHED

import morl

REPO = Path(__file__).resolve().parents[1]


def test_a_front_file_is_parsed_and_summarised() -> None:
    hv, seconds, points = parse_objs("hv=12.5\ntime=3600.0\n1.0,5.0\n2.0,4.0\n1.5,3.0\n6.0,1.0\n", "objs.txt")
    assert (hv, seconds) == (12.5, 3600.0) and points.shape == (4, 2)
    summary = summarise_front(points)
    assert summary == {"points": 4, "non_dominated": 3, "best": [6.0, 5.0], "widest_gap_first_objective": [2.0, 6.0]}
    three = summarise_front(np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))
    assert three["best"] == [3.0, 2.0, 3.0] and "widest_gap_first_objective" not in three


@pytest.mark.parametrize("text", ["", "hv=1\n1,2\n", "hv=1\ntime=2\n1,x\n"])
def test_a_file_in_another_format_is_named_in_the_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"seed3/objs\.txt"):
        parse_objs(text, "seed3/objs.txt")


def test_the_committed_summary_agrees_with_the_published_numbers() -> None:
    """The spec quotes the same nine runs (mean, std, range to 3 figures, mean hours)."""
    summary = json.loads(SUMMARY.read_text())
    assert summary["git_commit"] and summary["versions"]["morl"] and summary["command"].startswith("python ")
    assert set(summary["problems"]) == set(PUBLISHED)
    for problem, data in summary["problems"].items():
        published, hvs = PUBLISHED[problem], [s["hv"] for s in data["seeds"]]
        assert len(hvs) == 9 and [s["seed"] for s in data["seeds"]] == list(range(9))
        assert np.mean(hvs) == pytest.approx(published.mean, rel=3e-3), problem
        assert min(hvs) == pytest.approx(published.low, rel=6e-3) and max(hvs) == pytest.approx(
            published.high, rel=6e-3
        )
        assert np.mean([s["seconds"] for s in data["seeds"]]) / 3600 == pytest.approx(published.hours, abs=0.05)
        assert all(len(s["best"]) == len(data["objectives"]) for s in data["seeds"])
        assert data["fingerprint"] == morl.fingerprint(problem)  # compared on this morl's definition


def test_our_front_beside_theirs() -> None:
    text = compare(REPO / "benchmarks" / "results" / "reproduce-MO-HalfCheetah-v2-seed0-front.json",
                   json.loads(SUMMARY.read_text()))  # fmt: skip
    assert text.startswith("MO-HalfCheetah-v2: ours reproduce-MO-HalfCheetah-v2-seed0-front.json")
    assert "best forward_speed" in text and "widest gap in forward_speed: ours 507 → 1958; theirs 507 → 2266" in text
