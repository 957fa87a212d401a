"""What produced a result: versions of morl and of the packages that change results, and the
git commit when morl runs from a checkout. Torch-free: versions come from package metadata."""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
from pathlib import Path


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@functools.cache
def git_commit() -> str | None:
    """The commit of the checkout morl runs from (``+dirty`` with local changes), else None."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def versions() -> dict[str, str]:
    """Versions of morl and of the packages that change results; the git commit when known.

    Read from package metadata, so reporting torch's version does not import torch.
    """
    import morl

    found = {"morl": morl.__version__}
    found.update({name: _version(name) for name in ("mujoco", "torch", "gymnasium", "numpy")})
    commit = git_commit()
    if commit is not None:
        found["git_commit"] = commit
    return found
