"""``morl explore``: pick a trade-off by looking. A page with the front, a preference control and
the robot's motion for the chosen preference, as one offline HTML file or served locally with any
preference computed on demand."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from morl.explore.page import default_grid, load_source, page_data, render_page
from morl.explore.recording import Episode, kinematics, record_episode

__all__ = ["Episode", "kinematics", "load_source", "page_data", "record_episode", "render_page", "serve",
           "write_explorer"]  # fmt: skip


def _writable_file(path: Path) -> None:
    """Refuse a target that cannot be written before a minute of recording is spent."""
    if path.is_dir():
        raise IsADirectoryError(f"--out {str(path)!r} is a directory; expected an .html file to write")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"--out {str(path)!r}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(f"--out {str(path)!r} is not writable")


def write_explorer(source: str, out: str | os.PathLike[str], *, grid: int | None = None, seed: int = 0,
                   preference: Any = None) -> Path:  # fmt: skip
    """Record ``source``'s episodes over the preference grid and write the page to ``out``
    (atomically: an existing file is replaced whole or left as it was)."""
    from morl.run_files import atomic_write_text

    path = Path(out)
    _writable_file(path)
    model, label = load_source(source)
    data = page_data(model, label, grid=grid or default_grid(model.m), seed=seed, preference=preference)
    atomic_write_text(path, render_page(data))
    return path


def serve(source: str, *, port: int = 8000, grid: int | None = None, seed: int = 0, preference: Any = None,
          ready: Any = print) -> None:  # fmt: skip
    """Serve ``source``'s page on 127.0.0.1:``port`` until interrupted; ``ready`` gets the URL."""
    from morl.explore.server import ExplorerServer

    model, label = load_source(source)
    data = page_data(model, label, grid=grid or default_grid(model.m), seed=seed, preference=preference, serve=True)
    server = ExplorerServer(model, render_page(data), seed, port)
    try:
        ready(server.url)
        server.serve_forever()
    finally:
        server.server_close()
