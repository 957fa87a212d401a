"""The explorer pages of a bench: for each problem and agent, the page of its best seed's trained
set (``morl explore``), written to ``DIR/explorers/`` and linked from the report.

Why the best seed only: a page records a grid of episodes (seconds per set); a bench of five
agents, seven problems and three seeds would spend minutes on pages nobody compares seed by seed.
A run whose directory is not on this machine (a Ray cluster's other node) or whose agent cannot
be loaded is named in the report with the reason, not skipped silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

FOLDER = "explorers"


def explorer_links(problem: str, records: list[dict[str, Any]], out: str | os.PathLike[str]) -> list[str]:
    """Markdown lines linking the page of each agent's best finished seed on ``problem``
    (written now), or saying why there is none."""
    from morl.explore import write_explorer

    best: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["problem"] != problem or record["status"] != "finished":
            continue
        current = best.get(record["agent"])
        if current is None or record["metrics"]["hypervolume"] > current["metrics"]["hypervolume"]:
            best[record["agent"]] = record
    links, missing = [], []
    for agent, record in sorted(best.items()):
        run = Path(out) / "runs" / f"{agent}__{problem}__seed{record['seed']}"
        page = Path(out) / FOLDER / f"{problem}-{agent}-seed{record['seed']}.html"  # another best seed: another page
        checkpoint = run / "checkpoint.pt"
        try:
            page.parent.mkdir(exist_ok=True)
            # a page newer than its run's checkpoint is that run's: a report run again keeps it
            if not (page.is_file() and checkpoint.is_file() and page.stat().st_mtime > checkpoint.stat().st_mtime):
                write_explorer(str(run), page)
        except Exception as error:  # one agent's page failing (its library, its files) leaves the report whole
            missing.append(f"{agent} ({type(error).__name__}: {error})")
            continue
        links.append(f"[{agent}, seed {record['seed']}]({FOLDER}/{page.name})")
    lines = []
    if links:
        lines.append("Explore each agent's best seed (the front, a preference control and the robot's motion): "
                     + " · ".join(links))  # fmt: skip
    if missing:
        lines.append("No explorer page for: " + "; ".join(missing))
    return [*lines, ""] if lines else []
