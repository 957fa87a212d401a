"""``morl explore``: pick a trade-off by looking. A page with the front, a preference control and
the robot's motion for the chosen preference, as one offline HTML file or served locally with any
preference computed on demand."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from morl.explore.page import SIZE_BUDGET, default_grid, load_source, page_data, render_page
from morl.explore.recording import Episode, PolicySource, kinematics, record_episode

__all__ = ["Episode", "PolicySource", "kinematics", "load_source", "page_data", "record_episode", "render_page",
           "serve", "write_explorer"]  # fmt: skip


def _writable_file(path: Path) -> None:
    """Refuse a target that cannot be written before a minute of recording is spent."""
    if path.is_dir():
        raise IsADirectoryError(f"--out {str(path)!r} is a directory; expected an .html file to write")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"--out {str(path)!r}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(f"--out {str(path)!r} is not writable")


def write_explorer(source: str | PolicySource, out: str | os.PathLike[str], *, grid: int | None = None,
                   seed: int = 0, preference: Sequence[float] | None = None,
                   label: str | None = None) -> Path:  # fmt: skip
    """Record the episodes of ``source`` (a SOURCE string as the CLI takes it, or a trained agent
    or pretrained set itself, then named ``label``) over the preference grid and write the page to
    ``out`` (atomically: an existing file is replaced whole or left as it was). A two-objective
    page over :data:`~morl.explore.page.SIZE_BUDGET` warns (a long-episode robot on a dense grid)."""
    from morl.run_files import atomic_write_text

    path = Path(out)
    _writable_file(path)
    if isinstance(source, str):
        model, named = load_source(source)
    else:
        model, named = source, label or f"a {type(source).__name__} set"
    data = page_data(model, named, grid=grid or default_grid(model.m), seed=seed, preference=preference)
    html = render_page(data)
    if model.m == 2 and len(html.encode("utf-8")) > SIZE_BUDGET:
        warnings.warn(f"{str(path)!r}: {len(html) / 2**20:.1f} MB, over the {SIZE_BUDGET / 2**20:.0f} MB a "
                      "two-objective page should take; a smaller --grid records fewer episodes", UserWarning,
                      stacklevel=2)  # fmt: skip
    atomic_write_text(path, html)
    return path


def serve(source: str, *, port: int = 8000, grid: int | None = None, seed: int = 0,
          preference: Sequence[float] | None = None, ready: Callable[[str], object] = print) -> None:  # fmt: skip
    """Serve ``source``'s page on 127.0.0.1:``port`` until interrupted (Ctrl-C returns normally);
    ``ready`` gets the URL. The port is taken before the grid is recorded, so a port in use is
    reported at once, not after the recording."""
    from morl.explore.server import ExplorerServer

    model, label = load_source(source)
    server = ExplorerServer(model, seed, port)
    try:
        data = page_data(model, label, grid=grid or default_grid(model.m), seed=seed, preference=preference,
                         serve=True)  # fmt: skip
        server.page = render_page(data).encode("utf-8")
        ready(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # the way to stop a server
    finally:
        server.server_close()
