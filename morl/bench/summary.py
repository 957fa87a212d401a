"""The numbers of a bench report, apart from how they are written: per problem one summary per
agent over its finished seeds, and per agent one row of the aggregate across problems. The
Markdown/HTML report (:mod:`.report`) and the LaTeX tables (:mod:`.latex`) render the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from morl.bench.aggregate import iqm, iqm_interval, stratified_iqm


def mean_std(values: list[float] | tuple[float, ...] | np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0


@dataclass(frozen=True)
class AgentSummary:
    """One agent on one problem over its finished seeds: what a table row shows."""

    agent: str
    env_steps: tuple[int, ...]  # the distinct training budgets of its runs (one, normally)
    hypervolume: tuple[float, ...]  # one per seed
    iqm: float
    iqm_low: float
    iqm_high: float
    sparsity: tuple[float, ...]
    expected_utility: tuple[float, ...]  # empty where the metric does not apply
    front_size: tuple[float, ...]
    wall_time_s: tuple[float, ...]
    env_steps_per_second: tuple[float, ...]
    parameters: tuple[int, ...]  # empty for records from before the field

    @property
    def seeds(self) -> int:
        return len(self.hypervolume)

    @classmethod
    def of(cls, agent: str, runs: list[dict[str, Any]]) -> AgentSummary:
        hv = np.asarray([r["metrics"]["hypervolume"] for r in runs], dtype=np.float64)
        low, high = iqm_interval(hv)
        return cls(
            agent=agent,
            env_steps=tuple(sorted({int(r["training_env_steps"]) for r in runs})),
            hypervolume=tuple(hv.tolist()),
            iqm=iqm(hv),
            iqm_low=low,
            iqm_high=high,
            sparsity=tuple(float(r["metrics"]["sparsity"]) for r in runs),
            expected_utility=tuple(
                float(r["metrics"]["expected_utility"]) for r in runs if r["metrics"]["expected_utility"] is not None
            ),
            front_size=tuple(float(r["metrics"]["num_non_dominated"]) for r in runs),
            wall_time_s=tuple(float(r["wall_time_s"]) for r in runs),
            env_steps_per_second=tuple(float(r["env_steps_per_second"]) for r in runs),
            parameters=tuple(int(r["parameters"]) for r in runs if "parameters" in r),
        )


def summaries(finished: list[dict[str, Any]]) -> dict[str, list[AgentSummary]]:
    """problem -> one summary per agent (sorted by name), from the finished records."""
    out: dict[str, list[AgentSummary]] = {}
    for problem in sorted({r["problem"] for r in finished}):
        rows = [r for r in finished if r["problem"] == problem]
        agents = sorted({r["agent"] for r in rows})
        out[problem] = [AgentSummary.of(a, [r for r in rows if r["agent"] == a]) for a in agents]
    return out


@dataclass(frozen=True)
class AggregateRow:
    """One agent across problems: its runs' hypervolumes as fractions of the best run of their
    problem, their IQM with a 95 % stratified-bootstrap interval, and their mean."""

    agent: str
    problems: int
    runs: int
    iqm: float
    iqm_low: float
    iqm_high: float
    mean: float


def aggregate_rows(scores: dict[str, dict[str, np.ndarray]]) -> list[AggregateRow]:
    """One row per agent (sorted by name) of the aggregate across problems, from the normalised
    scores (:func:`morl.bench.aggregate.normalized_scores`, which the profiles use too)."""
    rows = []
    for agent, by_problem in sorted(scores.items()):
        value, low, high = stratified_iqm(by_problem)
        pooled = np.concatenate(list(by_problem.values()))
        rows.append(AggregateRow(agent, len(by_problem), len(pooled), value, low, high, float(pooled.mean())))
    return rows
