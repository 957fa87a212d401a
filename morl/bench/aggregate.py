"""The report's statistics: the interquartile mean with a percentile-bootstrap interval over one
problem's seeds, and the aggregate across problems: hypervolumes normalised by the best run of
each problem, their interquartile mean with a stratified bootstrap confidence interval, and
performance profiles.

Hypervolumes of different problems differ by orders of magnitude (Swimmer ~1e4, Hopper-v3
~1e10), so they are compared as fractions of the best run of their problem in the bench. The
confidence interval resamples seeds within each problem (the stratified bootstrap of Agarwal et
al., 2021, as rliable does), and a performance profile is the fraction of an agent's runs whose
normalised score exceeds τ, for every τ in [0, 1]: a whole distribution instead of one number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import trim_mean

BOOTSTRAP_SAMPLES = 2000


def normalized_scores(records: list[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    """agent -> problem -> the agent's runs' HV / the best HV of that problem (finished runs)."""
    best: dict[str, float] = {}
    for r in records:
        best[r["problem"]] = max(best.get(r["problem"], 0.0), float(r["metrics"]["hypervolume"]))
    scores: dict[str, dict[str, list[float]]] = {}
    for r in records:
        top = best[r["problem"]]
        value = float(r["metrics"]["hypervolume"]) / top if top > 0 else 0.0
        scores.setdefault(r["agent"], {}).setdefault(r["problem"], []).append(value)
    return {a: {p: np.asarray(v) for p, v in by.items()} for a, by in scores.items()}


def iqm(values: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50 % (the plain mean below 4 values)."""
    return float(trim_mean(values, 0.25)) if len(values) >= 4 else float(np.mean(values))


def iqm_interval(values: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95 % percentile-bootstrap confidence interval of the IQM over runs."""
    rng = np.random.default_rng(seed)
    samples = rng.choice(values, size=(BOOTSTRAP_SAMPLES, len(values)), replace=True)
    estimates = np.array([iqm(s) for s in samples])
    low, high = np.percentile(estimates, [2.5, 97.5])
    return float(low), float(high)


def stratified_iqm(by_problem: dict[str, np.ndarray], seed: int = 0) -> tuple[float, float, float]:
    """IQM of all runs' scores, and its 95 % stratified-bootstrap interval (seeds resampled
    within each problem)."""
    pooled = np.concatenate(list(by_problem.values()))
    rng = np.random.default_rng(seed)
    estimates = np.empty(BOOTSTRAP_SAMPLES)
    for i in range(BOOTSTRAP_SAMPLES):
        resampled = [rng.choice(v, size=len(v), replace=True) for v in by_problem.values()]
        estimates[i] = iqm(np.concatenate(resampled))
    low, high = np.percentile(estimates, [2.5, 97.5])
    return iqm(pooled), float(low), float(high)


def performance_profile(by_problem: dict[str, np.ndarray], taus: np.ndarray) -> np.ndarray:
    """The fraction of runs (all problems pooled) whose normalised score is above each τ."""
    pooled = np.concatenate(list(by_problem.values()))
    return np.asarray([(pooled > tau).mean() for tau in taus])
