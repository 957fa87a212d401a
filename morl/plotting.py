"""Plots of a front: objective space, and preference → objective curves (PNG via matplotlib).

Figures are built on matplotlib's object API with the Agg canvas, so plotting never touches the
global backend state or needs a display.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from morl.run_files import atomic_write_bytes

if TYPE_CHECKING:
    from morl.evaluation import FrontResult


def _objective_names(result: FrontResult) -> list[str]:
    m = result.returns.shape[1]
    try:
        from morl.envs.catalog import get_problem

        return list(get_problem(result.protocol.problem_id).objective_names)
    except ValueError:
        return [f"objective {j}" for j in range(m)]


def _colors(preferences: np.ndarray) -> np.ndarray:
    """One colour per preference: a colormap of ω_0 for m=2, the preference as RGB for m=3."""
    if preferences.shape[1] == 3:
        return np.clip(preferences, 0.0, 1.0)
    from matplotlib import colormaps

    return np.asarray(colormaps["viridis"](preferences[:, 0]))


def front_figure(result: FrontResult, title: str | None = None) -> Figure:
    """The returns in objective space, coloured by preference; dominated points faded."""
    m = result.returns.shape[1]
    if m not in (2, 3):
        raise ValueError(f"front plots support 2 or 3 objectives; this result has {m}")
    names = _objective_names(result)
    figure = Figure(figsize=(6, 5))
    FigureCanvasAgg(figure)
    on_front = np.zeros(len(result.returns), dtype=bool)
    on_front[list(result.front_indices)] = True
    colors = _colors(result.preferences)
    dominated, front = result.returns[~on_front], result.returns[on_front]
    if m == 2:
        ax = figure.add_subplot()
        ax.scatter(dominated[:, 0], dominated[:, 1], c=colors[~on_front], alpha=0.2, s=12, label="dominated")
        ax.scatter(
            front[:, 0], front[:, 1], c=colors[on_front], s=22, edgecolors="k", linewidths=0.3, label="non-dominated"
        )
        from matplotlib import colormaps
        from matplotlib.cm import ScalarMappable

        figure.colorbar(ScalarMappable(cmap=colormaps["viridis"]), ax=ax, label=f"preference weight of {names[0]}")
    else:
        ax = figure.add_subplot(projection="3d")
        ax.scatter(dominated[:, 0], dominated[:, 1], dominated[:, 2], c=colors[~on_front], alpha=0.15, s=8)
        ax.scatter(front[:, 0], front[:, 1], front[:, 2], c=colors[on_front], s=16, edgecolors="k", linewidths=0.2)
        ax.set_zlabel(names[2])
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    metrics = result.metrics
    ax.set_title(
        title
        or f"{result.protocol.problem_id}  HV={metrics.hypervolume:.4g}  "
        f"SP={metrics.sparsity:.4g}  n={metrics.num_non_dominated}",
        fontsize=9,
    )
    if m == 2 and len(result.returns):
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def preference_curves_figure(result: FrontResult) -> Figure:
    """For m=2: each objective's return against the preference weight ω_0."""
    m = result.returns.shape[1]
    if m != 2:
        raise ValueError(f"preference curves need 2 objectives; this result has {m}")
    names = _objective_names(result)
    figure = Figure(figsize=(7, 3.2))
    FigureCanvasAgg(figure)
    order = np.argsort(result.preferences[:, 0])
    for j in range(2):
        ax = figure.add_subplot(1, 2, j + 1)
        ax.plot(result.preferences[order, 0], result.returns[order, j], marker=".", markersize=3, linewidth=0.8)
        ax.set_xlabel(f"preference weight of {names[0]}")
        ax.set_ylabel(names[j])
    figure.tight_layout()
    return figure


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> None:
    """Render to PNG and write atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    atomic_write_bytes(path, buffer.getvalue())


def plot_front(result: FrontResult, path: str | os.PathLike[str], title: str | None = None) -> None:
    save_figure(front_figure(result, title), path)


def plot_preference_curves(result: FrontResult, path: str | os.PathLike[str]) -> None:
    save_figure(preference_curves_figure(result), path)
