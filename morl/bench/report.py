"""``morl bench report DIR``: the bench's records as Markdown tables, one per problem (and the
same as one self-contained ``report.html``).

Per agent (over its finished seeds): mean ± std of hypervolume, sparsity, expected utility, front
size, wall-clock and env-steps/s, the learned parameters of the result (``Agent.parameter_count``),
and the interquartile mean (IQM) of the hypervolume with a 95 % percentile-bootstrap confidence
interval over seeds (the robust aggregate rliable recommends; computed here with numpy, as
rliable 1.2.0's arch < 8 does not import beside pandas 3); figures
of the hypervolume against env steps and wall-clock and of the final fronts overlaid
(:mod:`.figures`); with two problems or more, the aggregate across them (:mod:`.aggregate`).
Failed runs are listed with their errors.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import trim_mean

from morl.bench.aggregate import normalized_scores, performance_profile, stratified_iqm
from morl.bench.figures import problem_figures, profile_figure
from morl.bench.html import to_html
from morl.bench.runner import RECORD_FORMAT
from morl.io import atomic_write_text

BOOTSTRAP_SAMPLES = 2000


def load_records(out: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record in ``out/records`` (a ValueError if there is none or one is not a record)."""
    folder = Path(out) / "records"
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not paths:
        raise FileNotFoundError(f"no bench records in {str(folder)!r}: run `morl bench ... --out {out}` first")
    records = []
    for path in paths:
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{str(path)!r} is not valid JSON ({error})") from None
        if record.get("format") != RECORD_FORMAT:
            raise ValueError(f"{str(path)!r} is not a morl bench record")
        records.append(record)
    return records


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


def _mean_std(values: list[float], fmt: str) -> str:
    array = np.asarray(values, dtype=np.float64)
    std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return f"{array.mean():{fmt}} ± {std:{fmt}}"


def _parameters(runs: list[dict[str, Any]]) -> str:
    """The learned parameters of the result (records from before the field: n/a); one number
    when the seeds agree (a model's size), else mean ± std (an archive's grows with its front)."""
    counts = [r["parameters"] for r in runs if "parameters" in r]
    if not counts:
        return "n/a"
    return f"{counts[0]:,}" if len(set(counts)) == 1 else _mean_std(counts, ".3g")


def report(out: str | os.PathLike[str]) -> str:
    """The Markdown report of the bench in ``out`` (also written to ``out/report.md``)."""
    records = load_records(out)
    finished = [r for r in records if r["status"] == "finished"]
    failed = [r for r in records if r["status"] != "finished"]
    lines = ["# Bench report", ""]
    if finished:
        first = finished[0]
        lines += [f"Protocol: {first['protocol'].split(':', 1)[1].strip()}. "
                  f"Machine: {first['machine']['cores']} cores. morl {first['versions'].get('morl')}, "
                  f"commit {str(first.get('git_commit'))[:7]}.", ""]  # fmt: skip
        fewest = min(Counter((r["agent"], r["problem"]) for r in finished).values())
        if fewest < 4:
            lines += [f"With {fewest} seed(s) per agent and problem the IQM is the plain mean (a quarter of "
                      f"{fewest} trims nothing) and its bootstrap interval is within the seeds' range: "
                      "read the per-problem IQM as a mean with a range, not as a robust estimate.", ""]  # fmt: skip
    for problem in sorted({r["problem"] for r in finished}):
        rows = [r for r in finished if r["problem"] == problem]
        lines += [f"## {problem}", "",
                  "| agent | seeds | env steps | HV mean ± std | HV IQM [95% CI] | sparsity | expected utility | "
                  "front size | wall-clock (s) | env-steps/s | parameters |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for agent in sorted({r["agent"] for r in rows}):
            runs = [r for r in rows if r["agent"] == agent]
            hv = np.asarray([r["metrics"]["hypervolume"] for r in runs])
            low, high = iqm_interval(hv)
            steps = sorted({r["training_env_steps"] for r in runs})
            utility = [r["metrics"]["expected_utility"] for r in runs if r["metrics"]["expected_utility"] is not None]
            cells = [
                agent,
                str(len(runs)),
                ", ".join(f"{s:,}" for s in steps),
                _mean_std(list(hv), ".4g"),
                f"{iqm(hv):.4g} [{low:.4g}, {high:.4g}]",
                _mean_std([r["metrics"]["sparsity"] for r in runs], ".3g"),
                _mean_std(utility, ".4g") if utility else "n/a",
                _mean_std([r["metrics"]["num_non_dominated"] for r in runs], ".3g"),
                _mean_std([r["wall_time_s"] for r in runs], ".0f"),
                _mean_std([r["env_steps_per_second"] for r in runs], ".0f"),
                _parameters(runs),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for path in problem_figures(problem, rows, out):
            lines += [f"![{path.stem}]({path.name})", ""]
    if len({r["problem"] for r in finished}) >= 2:
        lines += _aggregate_section(finished, out)
    if failed:
        lines += ["## Failed runs", ""]
        lines += [f"- {r['agent']} on {r['problem']}, seed {r['seed']}: {r['error']}" for r in failed]
        lines.append("")
    text = "\n".join(lines)
    atomic_write_text(Path(out) / "report.md", text)
    atomic_write_text(Path(out) / "report.html", to_html(text, out))
    return text


def _aggregate_section(finished: list[dict[str, Any]], out: str | os.PathLike[str]) -> list[str]:
    """Across problems: normalised HV (by the best run of each problem), IQM with a stratified
    bootstrap interval, and the performance profiles."""
    scores = normalized_scores(finished)
    lines = ["## Across problems", "",
             "Hypervolume as a fraction of the best run of its problem in this bench; IQM over all runs "
             "with a 95 % stratified bootstrap interval (seeds resampled within each problem).", "",
             "| agent | problems | runs | normalised HV IQM [95% CI] | normalised HV mean |",
             "|---|---|---|---|---|"]  # fmt: skip
    for agent, by_problem in sorted(scores.items()):
        value, low, high = stratified_iqm(by_problem)
        pooled = np.concatenate(list(by_problem.values()))
        lines.append(f"| {agent} | {len(by_problem)} | {len(pooled)} | {value:.3f} [{low:.3f}, {high:.3f}] | "
                     f"{pooled.mean():.3f} |")  # fmt: skip
    taus = np.linspace(0.0, 1.0, 101)
    path = profile_figure({a: performance_profile(b, taus) for a, b in scores.items()}, taus, out)
    return [*lines, "", f"![{path.stem}]({path.name})", ""]
