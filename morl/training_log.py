"""Metrics writers: TensorBoard event files and JSON lines.

TensorBoard events are written with ``torch.utils.tensorboard`` (imported only when a writer is
made, so ``import morl`` stays torch-free). JSON lines (``metrics.jsonl``, one object per
``write`` with ``step`` and the values) are for scripts and tables.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from morl.evaluation import FrontResult
from morl.plotting import front_figure
from morl.run_files import atomic_write_text


class MetricsWriter:
    """Writes scalars (and front figures) to ``logdir``: TensorBoard events and ``metrics.jsonl``."""

    def __init__(self, logdir: str | os.PathLike[str], *, tensorboard: bool = True, jsonl: bool = True,
                 resume_step: int | None = None) -> None:  # fmt: skip
        """With ``resume_step`` (a run resumed from its checkpoint at that step), what was logged
        after it (by iterations a kill lost) is dropped: ``metrics.jsonl`` rows with a larger
        step, and TensorBoard events from ``resume_step + 1`` on (its ``purge_step``)."""
        self.logdir = Path(logdir)
        try:
            self.logdir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PermissionError(f"cannot create log directory {str(self.logdir)!r}: {error.strerror}") from None
        self._tb: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge = None if resume_step is None else resume_step + 1
            self._tb = SummaryWriter(log_dir=str(self.logdir), purge_step=purge)
        path = self.logdir / "metrics.jsonl"
        if jsonl and resume_step is not None and path.exists():
            _truncate_jsonl(path, resume_step)
        self._jsonl = open(path, "a", encoding="utf-8") if jsonl else None

    def write(self, step: int, values: Mapping[str, float | int | None]) -> None:
        """Scalars at ``step`` (None values are skipped in TensorBoard, kept as null in JSON)."""
        if self._tb is not None:
            for name, value in values.items():
                if value is not None and math.isfinite(float(value)):
                    self._tb.add_scalar(name, float(value), global_step=step)
        if self._jsonl is not None:
            self._jsonl.write(json.dumps({"step": step, **values}) + "\n")
            self._jsonl.flush()

    def write_front(self, step: int, result: FrontResult, prefix: str = "eval/") -> None:
        """The front's metrics as scalars, and its figure in TensorBoard."""
        metrics = result.metrics.as_dict()
        self.write(step, {f"{prefix}{k}": v for k, v in metrics.items()})
        if self._tb is not None and result.returns.shape[1] in (2, 3):
            self._tb.add_figure(f"{prefix}front", front_figure(result), global_step=step, close=False)

    def flush(self) -> None:
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None

    def __enter__(self) -> MetricsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _truncate_jsonl(path: Path, last_step: int) -> None:
    """Keep the rows of ``path`` up to ``last_step`` (and any line that is not a row, untouched
    but for a torn last line, which a kill during a write leaves)."""
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(row, dict) or not isinstance(row.get("step"), int) or row["step"] <= last_step:
            kept.append(line)
    atomic_write_text(path, "".join(f"{line}\n" for line in kept))


class Progress:
    """A one-line progress display on stderr: env steps, steps/s, the latest hypervolume."""

    def __init__(self, total: int, start_steps: int = 0, *, enabled: bool = True) -> None:
        self.total, self.enabled = total, enabled
        self._start_steps, self._start_time = start_steps, time.perf_counter()
        self._hv: float | None = None

    def update(self, steps: int, label: str, hypervolume: float | None = None) -> None:
        if hypervolume is not None:
            self._hv = hypervolume
        if not self.enabled:
            return
        rate = (steps - self._start_steps) / max(time.perf_counter() - self._start_time, 1e-9)
        hv = f"  HV {self._hv:.4g}" if self._hv is not None else ""
        width = 24
        filled = int(width * min(1.0, steps / max(1, self.total)))
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {steps:,}/{self.total:,} env steps  {rate:,.0f} steps/s  {label}{hv}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
