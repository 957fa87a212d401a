"""One checkpoint format for every agent: a header, the versions, atomic writes, safe loads.

A checkpoint is ``DIR/checkpoint.pt``, a ``torch.save`` of a dict holding only tensors, plain
containers, numbers and strings (configs and states as JSON text), so that
``torch.load(weights_only=True)`` reads it: loading never executes code from the file. Its header
says which agent wrote it (``morl.load`` dispatches on it), for which problem, with which config,
and the versions of everything that changes results (mujoco above all) plus the git commit when
run from a checkout.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from morl.envs.fingerprint import definition_mismatch as _mismatch
from morl.envs.fingerprint import fingerprint
from morl.run_files import atomic_write_bytes
from morl.versions import versions

FORMAT = "morl.agent"
FORMAT_VERSION = 2
CHECKPOINT = "checkpoint.pt"
HEADER_KEYS = ("format", "format_version", "agent", "problem_id", "config", "versions")


def checkpoint_path(directory: str | os.PathLike[str]) -> Path:
    """``directory/checkpoint.pt``; a path to a file is taken as the checkpoint itself."""
    path = Path(directory)
    return path / CHECKPOINT if path.is_dir() or not path.suffix else path


def has_checkpoint(directory: str | os.PathLike[str]) -> bool:
    return checkpoint_path(directory).is_file()


def save_checkpoint(directory: str | os.PathLike[str], header: dict[str, Any], state: dict[str, Any]) -> Path:
    """Write header + state to ``directory/checkpoint.pt`` atomically (a crash leaves the old
    checkpoint or the new one, never a mix)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "versions": versions(),
               "fingerprint": fingerprint(header["problem_id"]), **header, "state": state}  # fmt: skip
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path = directory / CHECKPOINT
    atomic_write_bytes(path, buffer.getvalue())
    return path


def read_checkpoint(directory: str | os.PathLike[str], agent: str | None = None) -> dict[str, Any]:
    """The payload of a checkpoint, its header checked; with ``agent``, one of that agent only.

    Raises FileNotFoundError (no checkpoint) or ValueError (unreadable, foreign, another format
    version, another agent, header incomplete), each naming the file and what was expected.
    """
    path = checkpoint_path(directory)
    if not path.is_file():
        raise FileNotFoundError(f"no morl checkpoint at {str(path)!r}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged or foreign file
        raise ValueError(f"{str(path)!r} is not a readable morl checkpoint ({type(error).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a morl checkpoint (expected format {FORMAT!r})")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} has format_version {payload.get('format_version')!r}; this morl reads {FORMAT_VERSION}"
        )
    missing = [key for key in (*HEADER_KEYS, "state") if key not in payload]
    if missing:
        raise ValueError(f"{str(path)!r} is a damaged morl checkpoint (missing {missing})")
    if agent is not None and payload["agent"] != agent:
        raise ValueError(f"{str(path)!r} is a checkpoint of agent {payload['agent']!r}, not {agent!r}")
    return payload


def definition_mismatch(payload: dict[str, Any], where: str) -> str | None:
    """None when the checkpoint was trained on this morl's definition of its problem, else a
    sentence naming both definitions (see :func:`morl.envs.fingerprint.definition_mismatch`)."""
    return _mismatch(payload.get("fingerprint"), payload["problem_id"], repr(where))


def to_tensors(value: Any) -> Any:
    """Nested dicts/lists of numpy arrays → the same with tensors (what weights_only loads)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, dict):
        return {k: to_tensors(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_tensors(v) for v in value]
    return value


def to_arrays(value: Any) -> Any:
    """The inverse of :func:`to_tensors`."""
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: to_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_arrays(v) for v in value]
    return value
