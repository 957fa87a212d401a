"""The explorer page: one self-contained HTML file (style, script and data inline, nothing
fetched), made from a trained set's source: a run directory, an agent's checkpoint file, or
``pretrained:PROBLEM``.

Why one file: it opens from disk anywhere (a laptop without morl, an e-mail attachment), and a
strict Content-Security-Policy in it (``default-src 'none'``) makes the browser refuse any request
the page might make, so "offline" is enforced, not hoped for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from morl.envs.fingerprint import fingerprint
from morl.explore.recording import PolicySource, record
from morl.preferences import validate_preference
from morl.versions import MORL_VERSION
from morl.zoo import PRETRAINED

SIZE_BUDGET = 5 * 2**20  # a two-objective page's size limit (21 episodes of 1000 steps fit in ~1.5 MB)
DEFAULT_GRID = 21  # preferences per objective: 0.05 steps for two objectives, 0.1-step simplex for three


def default_grid(m: int) -> int:
    """21 points for two objectives (steps of 0.05); the 0.1-step simplex (66 points) for three."""
    return DEFAULT_GRID if m == 2 else 11


def load_source(text: str) -> tuple[PolicySource, str]:
    """The trained set ``text`` names and how to call it on the page. FileNotFoundError for a
    path that does not exist, ValueError for a file that is no morl checkpoint or an unknown
    pretrained problem (each naming it)."""
    from morl.agents import load
    from morl.zoo import pretrained

    if text.startswith(PRETRAINED):
        problem = text[len(PRETRAINED) :]
        return pretrained(problem), f"the pretrained set of {problem}"
    path = Path(text)
    if not path.exists():
        raise FileNotFoundError(f"SOURCE {text!r}: no such run directory or checkpoint (or use pretrained:PROBLEM)")
    agent = load(path)
    return agent, f"{agent.name} run {path.name or text}"


def _asset(name: str) -> str:
    """A file of the page's template (package data: the installed wheel has it too)."""
    return resources.files("morl.explore").joinpath("static", name).read_text(encoding="utf-8")


def page_data(source: PolicySource, label: str, *, grid: int, seed: int, preference: Sequence[float] | None = None,
              serve: bool = False) -> dict[str, Any]:  # fmt: skip
    """What the page shows, recorded now: :func:`morl.explore.recording.record` plus where it came
    from, and which episode to show first (``preference``'s, else the equal preference's)."""
    extra = None if preference is None else np.asarray(preference, dtype=np.float64)
    data = record(source, grid=grid, seed=seed, extra=extra)
    initial = None
    if extra is not None:
        chosen = validate_preference(extra, source.m, name="--preference")  # normalised (record checked it)
        distances = [float(np.abs(np.asarray(e["preference"]) - chosen).sum()) for e in data["episodes"]]
        initial = int(np.argmin(distances))
    return {**data, "source": label, "fingerprint": fingerprint(source.problem_id), "morl_version": MORL_VERSION,
            "grid": grid, "serve": serve, "initial": initial}  # fmt: skip


def render_page(data: dict[str, Any]) -> str:
    """The HTML of a page showing ``data`` (:func:`page_data`). The data's JSON is embedded in a
    ``<script type="application/json">`` element with every ``<`` written ``\\u003c`` (JSON reads it
    back; no ``</script>`` or ``<!--`` can end or bend the element). The Content-Security-Policy
    lets a served page ask its own server and a file page nothing at all."""
    parts = {
        "__TITLE__": f"{data['problem']}: {data['source']}".replace("&", "&amp;").replace("<", "&lt;"),
        "__CONNECT__": "'self'" if data.get("serve") else "'none'",
        "__CSS__": _asset("explorer.css"),
        "__JS__": _asset("explorer.js"),
        "__DATA__": json.dumps(data, separators=(",", ":")).replace("<", "\\u003c"),
    }
    return re.sub("|".join(parts), lambda match: parts[match.group(0)], _asset("explorer.html"))
