"""The bench report's tables as LaTeX (``report.tex``), to paste into a paper: one booktabs table
per problem (mean ± std over seeds, the IQM with its interval, the best mean hypervolume in bold)
and the aggregate across problems. Hypervolumes of one problem share a power of ten, given in the
column head, as papers print them; the numbers are those of the Markdown report.
"""

from __future__ import annotations

import math
import re

from morl.bench.summary import AgentSummary, AggregateRow, mean_std

_SPECIAL = re.compile(r"([\\&%$#_{}~^])")
_REPLACEMENT = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (agent and problem names are free text)."""
    return _SPECIAL.sub(lambda m: _REPLACEMENT.get(m.group(1), "\\" + m.group(1)), text)


def _power(value: float) -> int:
    """The power of ten of ``value`` (0 for zero)."""
    return math.floor(math.log10(abs(value))) if value else 0


def mean_pm_std(values: tuple[float, ...]) -> str:
    """``mean ± std`` in math mode: the mean to three significant digits and the std to the same
    decimals, both scaled by the mean's power of ten outside [0.01, 10^4)."""
    if not values:
        return "n/a"
    mean, std = mean_std(values)
    power = _power(mean) if mean and not 1e-2 <= abs(mean) < 1e4 else 0
    mean, std = mean / 10.0**power, std / 10.0**power
    decimals = max(0, 2 - _power(mean))
    text = f"{mean:.{decimals}f} \\pm {std:.{decimals}f}"
    return f"$({text})\\times 10^{{{power}}}$" if power else f"${text}$"


def _problem_table(problem: str, rows: list[AgentSummary]) -> list[str]:
    hv = [mean_std(row.hypervolume) for row in rows]
    best = max(mean for mean, _ in hv)
    power = _power(best) if best > 0 else 0
    scale = 10.0**power
    steps = sorted({s for row in rows for s in row.env_steps})
    budget = f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,}--{steps[-1]:,}"
    head = f"Hypervolume ($\\times 10^{{{power}}}$)" if power else "Hypervolume"
    lines = [
        "\\begin{table}[ht]",
        "  \\centering",
        f"  \\caption{{{escape(problem)}: mean $\\pm$ std over seeds, {budget.replace(',', '{,}')} env steps per run; "
        "interquartile mean with its 95\\,\\% bootstrap interval. Best mean hypervolume in bold.}",
        f"  \\label{{tab:bench-{re.sub(r'[^a-z0-9]+', '-', problem.lower()).strip('-')}}}",
        "  \\begin{tabular}{lrlllll}",
        "    \\toprule",
        f"    Agent & Seeds & {head} & HV IQM [95\\,\\% CI] & Sparsity & Expected utility & Front size \\\\",
        "    \\midrule",
    ]
    for row, (mean, std) in zip(rows, hv, strict=True):
        hv_mean = f"\\mathbf{{{mean / scale:.2f}}}" if mean == best else f"{mean / scale:.2f}"
        cells = [
            escape(row.agent),
            str(row.seeds),
            f"${hv_mean} \\pm {std / scale:.2f}$",
            f"${row.iqm / scale:.2f}$ [${row.iqm_low / scale:.2f}$, ${row.iqm_high / scale:.2f}$]",
            mean_pm_std(row.sparsity),
            mean_pm_std(row.expected_utility),
            mean_pm_std(row.front_size),
        ]
        lines.append("    " + " & ".join(cells) + " \\\\")
    return [*lines, "    \\bottomrule", "  \\end{tabular}", "\\end{table}", ""]


def _aggregate_table(rows: list[AggregateRow]) -> list[str]:
    best = max(row.iqm for row in rows)
    lines = [
        "\\begin{table}[ht]",
        "  \\centering",
        "  \\caption{Across problems: each run's hypervolume as a fraction of the best run of its problem; "
        "interquartile mean over all runs with its 95\\,\\% stratified bootstrap interval "
        "(seeds resampled within each problem). Best IQM in bold.}",
        "  \\label{tab:bench-aggregate}",
        "  \\begin{tabular}{lrrll}",
        "    \\toprule",
        "    Agent & Problems & Runs & Normalised HV IQM [95\\,\\% CI] & Mean \\\\",
        "    \\midrule",
    ]
    for row in rows:
        value = f"\\mathbf{{{row.iqm:.3f}}}" if row.iqm == best else f"{row.iqm:.3f}"
        lines.append(f"    {escape(row.agent)} & {row.problems} & {row.runs} & ${value}$ "
                     f"[${row.iqm_low:.3f}$, ${row.iqm_high:.3f}$] & ${row.mean:.3f}$ \\\\")  # fmt: skip
    return [*lines, "    \\bottomrule", "  \\end{tabular}", "\\end{table}", ""]


def to_latex(by_problem: dict[str, list[AgentSummary]], aggregate: list[AggregateRow], preamble: str = "") -> str:
    """The tables of a bench report as one LaTeX fragment (needs ``\\usepackage{booktabs}``)."""
    lines = ["% morl bench report: the tables (needs \\usepackage{booktabs})"]
    if preamble:
        lines.append(f"% {preamble}")
    lines.append("")
    for problem, rows in by_problem.items():
        lines += _problem_table(problem, rows)
    if aggregate:
        lines += _aggregate_table(aggregate)
    return "\n".join(lines)
