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

import os
from collections import Counter
from pathlib import Path

import numpy as np

from morl.bench.aggregate import normalized_scores, performance_profile
from morl.bench.definitions import definitions, describe
from morl.bench.explorers import explorer_links
from morl.bench.figures import problem_figures, profile_figure
from morl.bench.html import to_html
from morl.bench.latex import to_latex
from morl.bench.records import read_records
from morl.bench.summary import AgentSummary, AggregateRow, aggregate_rows, mean_std, summaries
from morl.run_files import atomic_write_text


def _mean_std(values: list[float] | tuple[float, ...], fmt: str) -> str:
    mean, std = mean_std(values)
    return f"{mean:{fmt}} ± {std:{fmt}}"


def _parameters(row: AgentSummary) -> str:
    """One number when the seeds agree (a model's size), else mean ± std (an archive's grows with
    its front); n/a for records from before the field."""
    if not row.parameters:
        return "n/a"
    return f"{row.parameters[0]:,}" if len(set(row.parameters)) == 1 else _mean_std(row.parameters, ".3g")


def _markdown_row(row: AgentSummary) -> str:
    cells = [
        row.agent,
        str(row.seeds),
        ", ".join(f"{s:,}" for s in row.env_steps),
        _mean_std(row.hypervolume, ".4g"),
        f"{row.iqm:.4g} [{row.iqm_low:.4g}, {row.iqm_high:.4g}]",
        _mean_std(row.sparsity, ".3g"),
        _mean_std(row.expected_utility, ".4g") if row.expected_utility else "n/a",
        _mean_std(row.front_size, ".3g"),
        _mean_std(row.wall_time_s, ".0f"),
        _mean_std(row.env_steps_per_second, ".0f"),
        _parameters(row),
    ]
    return "| " + " | ".join(cells) + " |"


def report(out: str | os.PathLike[str], *, explorers: bool = True) -> str:
    """The Markdown report of the bench in ``out`` (also written to ``out/report.md``, as HTML to
    ``report.html`` and its tables as LaTeX to ``report.tex``); with ``explorers``, the explorer
    page of each agent's best seed per problem, linked (:mod:`.explorers`)."""
    records = read_records(out, strict=True)
    found = definitions(records, repr(str(out)))  # refuses a bench that mixes definitions
    finished = [r for r in records if r["status"] == "finished"]
    failed = [r for r in records if r["status"] != "finished"]
    lines = ["# Bench report", ""]
    preamble = ""
    if finished:
        first = finished[0]
        preamble = (f"Protocol: {first['protocol'].split(':', 1)[1].strip()}. "
                    f"Machine: {first['machine']['cores']} cores. morl {first['versions'].get('morl')}, "
                    f"commit {str(first.get('git_commit'))[:7]}. {describe(found)}")  # fmt: skip
        lines += [preamble, ""]
        fewest = min(Counter((r["agent"], r["problem"]) for r in finished).values())
        if fewest < 4:
            lines += [f"With {fewest} seed(s) per agent and problem the IQM is the plain mean (a quarter of "
                      f"{fewest} trims nothing) and its bootstrap interval is within the seeds' range: "
                      "read the per-problem IQM as a mean with a range, not as a robust estimate.", ""]  # fmt: skip
    by_problem = summaries(finished)
    for problem, rows in by_problem.items():
        lines += [f"## {problem}", "",
                  "| agent | seeds | env steps | HV mean ± std | HV IQM [95% CI] | sparsity | expected utility | "
                  "front size | wall-clock (s) | env-steps/s | parameters |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        lines += [_markdown_row(row) for row in rows]
        lines.append("")
        for path in problem_figures(problem, [r for r in finished if r["problem"] == problem], out):
            lines += [f"![{path.stem}]({path.name})", ""]
        if explorers:
            lines += explorer_links(problem, finished, out)
    aggregate: list[AggregateRow] = []
    if len(by_problem) >= 2:
        scores = normalized_scores(finished)
        aggregate = aggregate_rows(scores)
        lines += _aggregate_section(aggregate, scores, out)
    if failed:
        lines += ["## Failed runs", ""]
        lines += [f"- {r['agent']} on {r['problem']}, seed {r['seed']}: {r['error']}" for r in failed]
        lines.append("")
    text = "\n".join(lines)
    atomic_write_text(Path(out) / "report.md", text)
    atomic_write_text(Path(out) / "report.html", to_html(text, out))
    atomic_write_text(Path(out) / "report.tex", to_latex(by_problem, aggregate, preamble))
    return text


def _aggregate_section(
    rows: list[AggregateRow], scores: dict[str, dict[str, np.ndarray]], out: str | os.PathLike[str]
) -> list[str]:
    """Across problems: normalised HV (by the best run of each problem), IQM with a stratified
    bootstrap interval, and the performance profiles."""
    lines = ["## Across problems", "",
             "Hypervolume as a fraction of the best run of its problem in this bench; IQM over all runs "
             "with a 95 % stratified bootstrap interval (seeds resampled within each problem).", "",
             "| agent | problems | runs | normalised HV IQM [95% CI] | normalised HV mean |",
             "|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        lines.append(f"| {row.agent} | {row.problems} | {row.runs} | {row.iqm:.3f} "
                     f"[{row.iqm_low:.3f}, {row.iqm_high:.3f}] | {row.mean:.3f} |")  # fmt: skip
    taus = np.linspace(0.0, 1.0, 101)
    path = profile_figure({a: performance_profile(b, taus) for a, b in scores.items()}, taus, out)
    return [*lines, "", f"![{path.stem}]({path.name})", ""]
