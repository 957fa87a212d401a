"""benchmarks/long_runs.py's job specs name the runs that reproduce.py names."""

from __future__ import annotations

import argparse

import pytest
from long_runs import parse_job


@pytest.mark.parametrize("spec,name,extra", [
    ("MO-Ant-v2:0", "reproduce-MO-Ant-v2-seed0", []),
    ("MO-Swimmer-v2:2:pgmorl", "reproduce-pgmorl-MO-Swimmer-v2-seed2", ["--agent", "pgmorl"]),
    ("MO-Hopper-v2:0:pd-morl:steps=1000000", "reproduce-pd-morl-MO-Hopper-v2-seed0-steps1000000",
     ["--agent", "pd-morl", "--steps", "1000000"]),
    ("MO-Hopper-v2:0:authors-code", "reproduce-authors-code-MO-Hopper-v2-seed0", ["--authors-deviations"]),
])  # fmt: skip
def test_job_specs(spec: str, name: str, extra: list[str]) -> None:
    job = parse_job(spec)
    assert job.name == name and job.extra == extra


@pytest.mark.parametrize("spec", ["MO-Ant-v2", "MO-Ant-v2:x", "MO-Ant-v2:0:steps=-3", "MO-Ant-v2:0:pgmorl:authors-code",
                                  "MO-Ant-v2:0:a/b"])  # fmt: skip
def test_bad_job_specs(spec: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"job {spec!r}"):
        parse_job(spec)
