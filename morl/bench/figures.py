"""The bench report's figures, per problem: hypervolume against env steps and against
wall-clock (one line per run, coloured by agent), the final fronts of all agents overlaid
(m = 2; the first two objectives for m = 3), and for m = 2 the return of each objective against
the preference (how a method's policies follow the trade-off asked of them)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from morl.envs.catalog import get_problem
from morl.run_files import atomic_write_bytes


def _save(figure: Figure, path: Path) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    atomic_write_bytes(path, buffer.getvalue())


def problem_figures(problem: str, records: list[dict[str, Any]], out: str | os.PathLike[str]) -> list[Path]:
    """Write ``<problem>-hypervolume.png`` and ``<problem>-fronts.png`` into ``out``; returns
    their paths. ``records``: the finished records of this problem."""
    folder = Path(out)
    agents = sorted({r["agent"] for r in records})
    from matplotlib import colormaps

    colors = {a: colormaps["tab10"](i % 10) for i, a in enumerate(agents)}
    curves = Figure(figsize=(11, 4))
    FigureCanvasAgg(curves)
    by_steps, by_time = curves.add_subplot(1, 2, 1), curves.add_subplot(1, 2, 2)
    labelled: set[str] = set()
    for record in records:
        history = [h for h in record["trajectory"] if "hypervolume" in h]
        if not history:
            continue
        steps = [h["env_steps"] for h in history]
        seconds = [max(h["wall_time"], 1e-3) for h in history]  # > 0 on the log axis
        hv = [h["hypervolume"] for h in history]
        label = None if record["agent"] in labelled else record["agent"]  # one legend entry per agent
        labelled.add(record["agent"])
        by_steps.plot(steps, hv, color=colors[record["agent"]], alpha=0.8, label=label)
        by_time.plot(seconds, hv, color=colors[record["agent"]], alpha=0.8)
    by_steps.set_xlabel("training env steps")
    # Log time: runs of one bench differ in speed by orders of magnitude (an on-policy run is done
    # before an off-policy one has warmed up), and a linear axis shrinks the fast ones to pixels.
    if by_time.lines:
        by_time.set_xscale("log")
    by_time.set_xlabel("wall-clock (s, log scale)")
    for ax in (by_steps, by_time):
        ax.set_ylabel("hypervolume")
        ax.grid(alpha=0.3)
    by_steps.legend(fontsize=8)
    curves.suptitle(f"{problem}: hypervolume during training (one line per seed)")
    curves.tight_layout()
    paths = [folder / f"{problem}-hypervolume.png"]
    _save(curves, paths[0])

    names = get_problem(problem).objective_names
    fronts = Figure(figsize=(6, 5))
    FigureCanvasAgg(fronts)
    ax = fronts.add_subplot()
    for record in records:
        front = np.asarray(record["front"], dtype=np.float64).reshape(-1, len(names))
        if len(front):
            order = np.argsort(front[:, 0])
            ax.plot(front[order, 0], front[order, 1], "o-", ms=3, lw=0.8, color=colors[record["agent"]], alpha=0.7,
                    label=f"{record['agent']} seed {record['seed']}")  # fmt: skip
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7)
    else:  # every front empty (no point beyond the reference point)
        ax.text(0.5, 0.5, "no run has a point beyond the reference point", ha="center", transform=ax.transAxes)
    ax.set_title(f"{problem}: final fronts" + (" (first two objectives)" if len(names) > 2 else ""))
    fronts.tight_layout()
    paths.append(folder / f"{problem}-fronts.png")
    _save(fronts, paths[1])
    if len(names) == 2 and any("evaluation" in r for r in records):
        paths.append(_returns_figure(problem, names, records, colors, folder))
    return paths


def _returns_figure(problem: str, names: tuple[str, ...], records: list[dict[str, Any]], colors: dict[str, Any],
                    folder: Path) -> Path:  # fmt: skip
    """Each objective's return against ω_1, one line per run (markers only for a population,
    whose members sit at their own preferences)."""
    figure = Figure(figsize=(11, 4))
    FigureCanvasAgg(figure)
    axes = [figure.add_subplot(1, 2, j + 1) for j in range(2)]
    labelled: set[str] = set()
    for record in records:
        evaluation = record.get("evaluation")
        if not evaluation:
            continue
        prefs = np.asarray(evaluation["preferences"], dtype=np.float64).reshape(-1, 2)
        returns = np.asarray(evaluation["returns"], dtype=np.float64).reshape(-1, 2)
        order = np.argsort(prefs[:, 0], kind="stable")
        grid = len(np.unique(prefs[:, 0])) >= 10
        label = None if record["agent"] in labelled else record["agent"]
        labelled.add(record["agent"])
        for j, ax in enumerate(axes):
            ax.plot(prefs[order, 0], returns[order, j], "-" if grid else "o", ms=3, lw=0.8, alpha=0.7,
                    color=colors[record["agent"]], label=label if j == 0 else None)  # fmt: skip
    for j, ax in enumerate(axes):
        ax.set_xlabel(f"preference weight of {names[0]} (ω_1)")
        ax.set_ylabel(f"return: {names[j]}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle(f"{problem}: return of each objective against the preference (one line per seed)")
    figure.tight_layout()
    path = folder / f"{problem}-returns.png"
    _save(figure, path)
    return path


def profile_figure(profiles: dict[str, np.ndarray], taus: np.ndarray, out: str | os.PathLike[str]) -> Path:
    """``aggregate-profiles.png``: each agent's performance profile (fraction of runs with a
    normalised hypervolume above τ)."""
    figure = Figure(figsize=(6, 4))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    for agent, profile in sorted(profiles.items()):
        ax.step(taus, profile, where="post", label=agent)
    ax.set_xlabel("τ (hypervolume / best run of its problem)")
    ax.set_ylabel("fraction of runs with score > τ")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("performance profiles, all problems")
    figure.tight_layout()
    path = Path(out) / "aggregate-profiles.png"
    _save(figure, path)
    return path
