"""Hyper-MORL's published results, and our reproduction records set beside them.

Why a module: the authors' table (9 seeds per problem on MuJoCo 2.0, from spec/hyper-morl.md) is
what every reproduction is judged against, and the README's reproduction table is derived from the
records ``benchmarks/reproduce.py`` writes. Hand-copied, that table drifted from the records once a
run finished unattended; generated here (``benchmarks/reproduction_summary.py``) and checked by a
test against the committed records, it cannot.

A record is ``benchmarks/results/reproduce-<problem>-seed<S>.json`` (the method, as the paper
describes it) or ``reproduce-authors-code-<problem>-seed<S>.json`` (with the authors' code's four
deviations put back, set beside the method's run of the same seed). Records of other agents
(``reproduce-pgmorl-...``) are comparisons at the same budget, not reproductions, and are left out.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from morl.envs.fingerprint import same_definition


@dataclass(frozen=True)
class Published:
    """The authors' hypervolumes on one problem (their 9 shipped runs, reference point 0)."""

    mean: float
    std: float
    low: float  # the smallest of their 9 runs
    high: float  # the largest
    hours: float  # their mean wall-clock per run, on a many-core server

    def verdict(self, hypervolume: float) -> str:
        """Where one of our runs lies: "within", "above" or "below" the authors' range."""
        if not math.isfinite(hypervolume):
            raise ValueError(f"hypervolume={hypervolume!r} must be a finite number")
        return "within" if self.low <= hypervolume <= self.high else ("above" if hypervolume > self.high else "below")

    def distance(self, hypervolume: float) -> float:
        """Our hypervolume minus the authors' mean, in units of their std (their seed-to-seed spread)."""
        return (hypervolume - self.mean) / self.std


# spec/hyper-morl.md, "The authors' own results", and their mean wall-clock hours per run
PUBLISHED: dict[str, Published] = {
    "MO-Swimmer-v2": Published(2.88e4, 4.4e3, 1.78e4, 3.19e4, 1.5),
    "MO-HalfCheetah-v2": Published(5.53e6, 1.0e5, 5.34e6, 5.65e6, 4.6),
    "MO-Walker2d-v2": Published(5.37e6, 3.5e5, 4.51e6, 5.87e6, 5.0),
    "MO-Ant-v2": Published(7.49e6, 1.6e5, 7.21e6, 7.70e6, 8.5),
    "MO-Hopper-v2": Published(2.05e7, 5.6e5, 1.96e7, 2.14e7, 7.3),
    "MO-Hopper-v3": Published(3.58e10, 2.5e9, 2.97e10, 3.82e10, 14.6),
    "MO-Humanoid-v2": Published(4.32e7, 4.2e6, 3.57e7, 4.77e7, 24.7),
}

_RECORD = re.compile(r"^reproduce-(?P<variant>authors-code-)?(?P<problem>MO-[A-Za-z0-9]+-v\d)-seed(?P<seed>\d+)\.json$")


@dataclass(frozen=True)
class Record:
    """One finished reproduction run, as its record file states it."""

    problem: str
    seed: int
    authors_code: bool  # trained with the authors' code's deviations (a comparison run)
    hypervolume: float
    num_non_dominated: int
    total_steps: int
    paper_budget: bool  # trained on the authors' budget (a shorter trial is not a reproduction)
    train_seconds: float
    morl_version: str
    git_commit: str
    shared_machine: bool  # its wall-clock is an upper bound (the machine was shared; the record's note says how)
    same_seed_hypervolume: float | None  # the method's run of this seed (authors-code records)
    path: Path
    fingerprint: str | None = None  # the problem definition it ran on (None: before morl 0.4.0)


def load_record(path: Path) -> Record:
    """Read one record; a file that is not a reproduction record, or whose name and contents
    disagree on problem, seed or variant, raises ValueError naming it."""
    match = _RECORD.match(path.name)
    if match is None:
        expected = "reproduce-[authors-code-]<problem>-seed<S>.json"
        raise ValueError(f"{path}: not a reproduction record (expected {expected})")
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        same_seed = data.get("hyper_morl_same_seed") or {}
        record = Record(
            problem=data["problem"],
            seed=int(data["seed"]),
            authors_code=bool(data.get("authors_deviations", False)),
            hypervolume=float(data["hypervolume"]),
            num_non_dominated=int(data["num_non_dominated"]),
            total_steps=int(data["total_steps"]),
            paper_budget=bool(data["paper_budget"]),
            train_seconds=float(data["train_wall_clock_s"]),
            morl_version=str(data["versions"]["morl"]),
            git_commit=str(data["git_commit"]),
            shared_machine=bool(data.get("wall_clock_upper_bound", False)),
            same_seed_hypervolume=None if same_seed.get("hypervolume") is None else float(same_seed["hypervolume"]),
            path=path,
            fingerprint=data.get("fingerprint"),
        )
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: unreadable reproduction record ({type(error).__name__}: {error})") from error
    named = (match["problem"], int(match["seed"]), match["variant"] is not None)
    if (record.problem, record.seed, record.authors_code) != named:
        raise ValueError(f"{path}: its contents are problem {record.problem}, seed {record.seed}, "
                         f"authors_code {record.authors_code}; its name says {named}")  # fmt: skip
    return record


def load_records(results: Path) -> list[Record]:
    """Every reproduction record in ``results`` whose problem has a published result, whose run
    had the authors' budget (a trial at a smaller one is no reproduction) and which ran on this
    morl's definition of its problem (its fingerprint: records of another definition, such as those
    of morl < 0.4.0 on today's-compiler physics, measured another problem), in a stable order (the
    authors' problem order, then seed); an unreadable or misnamed record is an error, not skipped."""
    if not results.is_dir():
        raise FileNotFoundError(f"results={str(results)!r}: no such directory")
    records = []
    for path in sorted(results.glob("reproduce-*.json")):
        match = _RECORD.match(path.name)
        if match is None or match["problem"] not in PUBLISHED:
            continue  # fronts, other agents' records
        record = load_record(path)
        if record.paper_budget and same_definition(record.fingerprint, record.problem):
            records.append(record)
    order = list(PUBLISHED)
    return sorted(records, key=lambda r: (order.index(r.problem), r.authors_code, r.seed))


def format_hv(value: float, avoid: tuple[float, ...] = ()) -> str:
    """A hypervolume in three significant digits ("2.88e4"), four when three would print it equal
    to one of ``avoid`` (the authors' bounds: 7.205e6 is below 7.21e6 and must not read as it)."""
    for digits in (3, 4, 5):
        text = _sci(value, digits)
        if text not in {_sci(a, digits) for a in avoid} or value in avoid:
            return text
    return text


def _sci(value: float, digits: int) -> str:
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


@dataclass(frozen=True)
class ProblemSummary:
    """Our seeds of one problem against the authors' nine."""

    problem: str
    published: Published
    records: tuple[Record, ...]

    @property
    def hypervolumes(self) -> np.ndarray:
        return np.array([r.hypervolume for r in self.records])

    @property
    def mean(self) -> float:
        return float(self.hypervolumes.mean())

    @property
    def std(self) -> float:
        """Sample std over our seeds (ddof 1, as a spread over seeds is usually quoted); nan for one seed."""
        return float(self.hypervolumes.std(ddof=1)) if len(self.records) > 1 else math.nan

    def where(self) -> str:
        """Where we are, in words: each seed against the authors' range, and our mean in their std."""
        verdicts = [self.published.verdict(hv) for hv in self.hypervolumes]
        counts = ", ".join(f"{verdicts.count(v)} {v}" for v in ("within", "above", "below") if v in verdicts)
        distance = f"{self.published.distance(self.mean):+.1f}".replace("-", "−")  # a typographic minus
        if len(self.records) == 1:
            return f"{verdicts[0]} the range, {distance} σ"
        return f"{counts}; mean {distance} σ"


def summarise(records: list[Record]) -> list[ProblemSummary]:
    """The method's records (not the authors'-code comparisons) grouped by problem."""
    by_problem: dict[str, list[Record]] = {}
    for record in records:
        if not record.authors_code:
            by_problem.setdefault(record.problem, []).append(record)
    return [ProblemSummary(p, PUBLISHED[p], tuple(rs)) for p, rs in by_problem.items()]


def _duration(records: tuple[Record, ...]) -> str:
    """Training wall-clock per seed, in minutes (hours when any run took five or more); in
    parentheses when the record says the machine was shared (an upper bound, not the run's cost)."""
    hours = any(r.train_seconds >= 5 * 3600 for r in records)
    parts = []
    for r in records:
        text = f"{r.train_seconds / 3600:.1f}" if hours else f"{r.train_seconds / 60:.0f}"
        parts.append(f"({text})" if r.shared_machine else text)
    return ", ".join(parts) + (" h" if hours else " min")


def _seeds(records: tuple[Record, ...]) -> str:
    seeds = ", ".join(str(r.seed) for r in records)
    versions = ", ".join(dict.fromkeys(r.morl_version for r in records))
    return f"seed{'s' if len(records) > 1 else ''} {seeds}; morl {versions}"


def markdown_table(summaries: list[ProblemSummary]) -> str:
    """The README's reproduction table: one row per problem, every number from the records."""
    rows = [
        "| problem | budget | our seeds: hypervolume | ours: mean ± std | authors (9 seeds, MuJoCo 2.0): "
        "mean ± std, range | where we are (σ: the authors' std) | non-dominated | training time here | authors' |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        p = s.published
        bounds = (p.low, p.high)
        ours = ", ".join(format_hv(hv, bounds) for hv in s.hypervolumes)
        mean = "one seed" if len(s.records) == 1 else f"**{format_hv(s.mean, bounds)} ± {_sci(s.std, 2)}**"
        budget = ", ".join(dict.fromkeys(f"{r.total_steps / 1e6:.0f} M" for r in s.records))
        rows.append(
            f"| {s.problem} | {budget} | {ours} ({_seeds(s.records)}) | {mean} | "
            f"{format_hv(p.mean)} ± {_sci(p.std, 2)}, {format_hv(p.low)}–{format_hv(p.high)} | {s.where()} | "
            f"{', '.join(str(r.num_non_dominated) for r in s.records)} | {_duration(s.records)} | {p.hours} h |"
        )
    return "\n".join(rows) + "\n"


def authors_code_table(records: list[Record]) -> str:
    """The comparison runs with the authors' code's deviations, each beside the method's run of the
    same seed; empty when there are none."""
    pairs = [r for r in records if r.authors_code]
    if not pairs:
        return ""
    rows = [
        "| problem | seed | HV, the authors' deviations | HV, the method (same seed) | ratio | "
        "authors' range | training time here |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in pairs:
        p = PUBLISHED[r.problem]
        method = r.same_seed_hypervolume
        ratio = "—" if method is None else f"{r.hypervolume / method:.3f}"
        rows.append(
            f"| {r.problem} | {r.seed} | {format_hv(r.hypervolume, (p.low, p.high))} ({p.verdict(r.hypervolume)}) | "
            f"{'—' if method is None else format_hv(method, (p.low, p.high))} | {ratio} | "
            f"{format_hv(p.low)}–{format_hv(p.high)} | {_duration((r,))} |"
        )
    return "\n".join(rows) + "\n"


BEGIN = (
    "<!-- reproduction-table: generated by benchmarks/reproduction_summary.py from benchmarks/results; do not edit -->"
)
END = "<!-- /reproduction-table -->"


def render_block(records: list[Record]) -> str:
    """What goes between the README's markers: the table, and the authors'-code table if any (a
    sentence saying so when no record is on this morl's problem definitions yet)."""
    if not records:
        return ("No full-budget run on this version's problem definitions (MuJoCo 2.0's physics, "
                "morl >= 0.4.0) has finished yet.\n")  # fmt: skip
    block = markdown_table(summarise(records))
    extra = authors_code_table(records)
    if extra:
        block += "\nThe same seed trained with the authors' code's four deviations put back"
        block += " (`--authors-deviations`):\n\n"
        block += extra
    return block


def _markers(text: str, begin: str = BEGIN, end: str = END) -> tuple[int, int]:
    """Where the opening marker starts and the closing one starts; anything but one pair, in
    order, is an error."""
    if text.count(begin) != 1 or text.count(end) != 1:
        raise ValueError(f"expected one {begin!r} and one {end!r} in the text")
    start, stop = text.index(begin), text.index(end)
    if stop < start:
        raise ValueError("the closing marker comes before the opening one")
    return start, stop


def replace_block(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` with what lies between its markers replaced by ``block`` (each line indented like
    the opening marker); a text without exactly one pair of markers is an error."""
    start, stop = _markers(text, begin, end)
    line_start = text.rfind("\n", 0, start) + 1
    indent = text[line_start:start]
    if indent.strip():
        raise ValueError("the opening marker must start its line (after indentation)")
    body = "".join(f"{indent}{line}\n" if line else "\n" for line in block.strip("\n").split("\n"))
    # blank lines around the block: Markdown ends the comment's HTML block there, the table stands alone
    return text[: start + len(begin)] + "\n\n" + body + "\n" + indent + text[stop:]


def read_block(text: str, begin: str = BEGIN, end: str = END) -> str:
    """The block between the markers, indentation removed (what ``render_block`` produced)."""
    start, stop = _markers(text, begin, end)
    inner = text[start + len(begin) : stop]
    lines = inner.split("\n")[1:-1]  # the marker lines' own remainders
    indent = min((len(line) - len(line.lstrip(" ")) for line in lines if line.strip()), default=0)
    return "".join(line[indent:] + "\n" for line in lines).strip("\n") + "\n"


def figure(summaries: list[ProblemSummary], path: Path) -> None:
    """Each problem's seeds as hypervolume relative to the authors' mean, over their range (grey)
    and mean ± std (dark): where we are, on one scale for all seven problems."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from morl.plotting import save_figure

    fig = Figure(figsize=(7.0, 0.5 * len(summaries) + 1.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for row, s in enumerate(summaries):
        p = s.published
        y = len(summaries) - 1 - row
        ax.plot([p.low / p.mean, p.high / p.mean], [y, y], color="0.8", lw=9, solid_capstyle="butt",
                label="authors' range (9 seeds)" if row == 0 else None)  # fmt: skip
        ax.plot([1 - p.std / p.mean, 1 + p.std / p.mean], [y, y], color="0.45", lw=9, solid_capstyle="butt",
                label="authors' mean ± std" if row == 0 else None)  # fmt: skip
        ax.scatter(s.hypervolumes / p.mean, np.full(len(s.records), y), color="tab:red", zorder=3, s=28,
                   label="our seeds" if row == 0 else None)  # fmt: skip
    ax.axvline(1.0, color="0.2", lw=0.8, ls=":")
    ax.set_yticks(range(len(summaries)), [s.problem for s in reversed(summaries)])
    ax.set_xlabel("hypervolume / the authors' mean")
    ax.set_title("Hyper-MORL reproduced: our seeds against the authors' (MuJoCo 2.0)", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    save_figure(fig, path)
