"""PD-MORL's replay buffer: preallocated numpy arrays, FIFO, one buffer per group, and hindsight
preferences.

Persistence without pickle: the buffer is saved beside the checkpoint as chunk files of plain
arrays (``np.savez``, read with ``allow_pickle=False``). Only the chunks written since the last
save are rewritten, each under a new name, and the checkpoint records the names it belongs
with; files no checkpoint names are removed after the checkpoint is written. So a kill at any
moment leaves the previous checkpoint and every file it names intact, and a resumed run samples
from exactly the buffer it had.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from morl.agents.pdmorl.td3 import Batch
from morl.run_files import atomic_write_bytes

FIELDS = ("obs", "action", "reward", "next_obs", "terminated", "pref")
CHUNK_ROWS = 65_536


def her_preferences(rng: np.random.Generator, count: int, m: int) -> np.ndarray:
    """``count`` relabelling preferences ω' = |z| / ‖z‖₁, z ~ N(0, I_m), rounded to 3 decimals
    (the authors': not uniform on the simplex, about 1.8× denser at the centre than at the
    corners for m = 2)."""
    z = np.abs(rng.standard_normal((count, m)))
    z = np.maximum(z, 1e-12)  # a draw of exactly 0 in every entry has probability 0; guard anyway
    return np.round(z / z.sum(axis=1, keepdims=True), 3)


class ReplayBuffer:
    """``groups`` FIFO buffers of ``capacity`` transitions each, filled in lockstep."""

    def __init__(self, groups: int, capacity: int, obs_dim: int, action_dim: int, m: int, name: str) -> None:
        self.groups, self.capacity, self.name = groups, capacity, name
        widths = {"obs": obs_dim, "action": action_dim, "reward": m, "next_obs": obs_dim, "terminated": 0, "pref": m}
        self.arrays = {
            k: np.zeros((groups, capacity, w) if w else (groups, capacity), dtype=np.float32) for k, w in widths.items()
        }
        self.position = 0  # next row to write
        self.size = 0  # rows holding data
        self._dirty: set[int] = set()  # chunks written since the last save to ``_saved_dir``
        self._saved_dir: Path | None = None
        self._files: dict[int, str] = {}  # chunk -> file name, as of the last save
        self._serial = 0

    def add(self, **rows: np.ndarray) -> None:
        """Append n transitions to every group: each field (G, n, ...) (or (n, ...) when G = 1)."""
        n = None
        for key in FIELDS:
            value = np.asarray(rows[key], dtype=np.float32)
            if self.groups == 1 and value.ndim == self.arrays[key].ndim - 1:
                value = value[None]
            n = value.shape[1]
            if n > self.capacity:
                raise ValueError(f"{n} rows do not fit a buffer of {self.capacity}")
            index = (self.position + np.arange(n)) % self.capacity
            self.arrays[key][:, index] = value
        assert n is not None
        first, last = self.position // CHUNK_ROWS, (self.position + n - 1) % self.capacity // CHUNK_ROWS
        wrapped = self.position + n > self.capacity
        self._dirty.update([*range(first, self._chunks()), *range(last + 1)] if wrapped else range(first, last + 1))
        self.position = (self.position + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """``batch_size`` transitions per group, uniform with replacement."""
        index = rng.integers(0, self.size, size=(self.groups, batch_size))
        group = np.arange(self.groups)[:, None]
        t = {k: torch.from_numpy(v[group, index]) for k, v in self.arrays.items()}
        return Batch(t["obs"], t["action"], t["reward"], t["next_obs"], t["terminated"], t["pref"])

    def _chunks(self) -> int:
        return -(-self.capacity // CHUNK_ROWS)

    # ---------------------------------------------------------------------- persistence
    def save_files(self, directory: Path) -> str:
        """Write the chunks changed since the last save into ``directory/replay`` (all of them
        when saving to another directory) under fresh names; returns the manifest (JSON) the
        checkpoint keeps."""
        folder = directory / "replay"
        folder.mkdir(parents=True, exist_ok=True)
        filled = -(-self.size // CHUNK_ROWS)  # chunks holding data
        if self._saved_dir != directory.resolve():
            self._files, self._dirty = {}, set(range(filled))
        self._serial += 1
        for chunk in sorted(c for c in self._dirty if c < filled):
            rows = slice(chunk * CHUNK_ROWS, min((chunk + 1) * CHUNK_ROWS, self.size))
            buffer = io.BytesIO()
            np.savez(buffer, **{k: v[:, rows] for k, v in self.arrays.items()})  # type: ignore[arg-type]
            name = f"{self.name}-{chunk:05d}-{self._serial:08d}.npz"
            atomic_write_bytes(folder / name, buffer.getvalue())
            self._files[chunk] = name
        self._dirty.clear()
        self._saved_dir = directory.resolve()
        return json.dumps({"name": self.name, "groups": self.groups, "capacity": self.capacity,
                           "position": self.position, "size": self.size, "serial": self._serial,
                           "files": {str(k): v for k, v in sorted(self._files.items())}})  # fmt: skip

    def load_files(self, directory: Path, manifest: str) -> None:
        """Fill this (empty, same-shaped) buffer from the chunk files a manifest names."""
        meta: dict[str, Any] = json.loads(manifest)
        if (meta["groups"], meta["capacity"], meta["name"]) != (self.groups, self.capacity, self.name):
            raise ValueError(f"replay manifest is for {meta['groups']} x {meta['capacity']} {meta['name']!r}; "
                             f"expected {self.groups} x {self.capacity} {self.name!r}")  # fmt: skip
        self.position, self.size, self._serial = int(meta["position"]), int(meta["size"]), int(meta["serial"])
        self._files = {int(k): str(v) for k, v in meta["files"].items()}
        for chunk, name in self._files.items():
            path = directory / "replay" / name
            if not path.is_file():
                raise FileNotFoundError(f"replay chunk {str(path)!r} named by the checkpoint is missing")
            start = chunk * CHUNK_ROWS
            try:
                with np.load(path, allow_pickle=False) as data:
                    for key in FIELDS:
                        value = data[key]
                        stop = start + value.shape[1]
                        if value.shape[0] != self.groups or value.shape[2:] != self.arrays[key].shape[2:] or \
                                stop > self.capacity:  # fmt: skip
                            raise ValueError(f"{key} has shape {value.shape}")
                        self.arrays[key][:, start:stop] = value
            except Exception as error:  # a damaged zip archive raises its own types
                raise ValueError(f"replay chunk {str(path)!r} is damaged ({error})") from None
        self._dirty.clear()
        self._saved_dir = directory.resolve()

    @staticmethod
    def prune(directory: Path, manifests: list[str]) -> None:
        """Remove the chunk files in ``directory/replay`` that none of ``manifests`` names (those
        of older checkpoints, of a stage that ended, or of a save a kill interrupted)."""
        folder = directory / "replay"
        if not folder.is_dir():
            return
        keep = {name for manifest in manifests for name in json.loads(manifest)["files"].values()}
        for path in folder.iterdir():
            if path.name not in keep:
                path.unlink(missing_ok=True)
